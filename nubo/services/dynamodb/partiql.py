"""PartiQL for DynamoDB: SELECT, INSERT, UPDATE and DELETE statements parsed into the same
condition and update trees as the expression language (expressions.py), run by the same item
code (ExecuteStatement, BatchExecuteStatement, ExecuteTransaction).

A SELECT whose WHERE fixes the partition key with `=` reads that partition (a Query);
any other SELECT reads the whole table (a Scan), as DynamoDB does.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from nubo.core.errors import ServiceError
from nubo.services.dynamodb.values import check_value, validation

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)
  | (?P<string>'(?:[^']|'')*')
  | (?P<quoted>"(?:[^"]|"")*")
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<op><<|>>|<>|!=|<=|>=|[=<>(),.\[\]{}:*?+\-])
""", re.VERBOSE)
_COMPARATORS = {"=": "=", "<>": "<>", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_FUNCTIONS = {"begins_with": 2, "contains": 2, "attribute_type": 2, "size": 1}


def malformed(detail: str) -> ServiceError:
    return validation(f"Statement wasn't well formed, can't be processed: {detail}")


@dataclass
class Statement:
    kind: str  # select | insert | update | delete | exists
    table: str
    index: str | None = None
    projection: list[tuple] | None = None  # None: *
    where: tuple | None = None
    item: dict | None = None
    clauses: dict[str, list] = field(default_factory=dict)
    returning: str | None = None


@functools.lru_cache(maxsize=512)
def _tokens(source: str) -> tuple[tuple[str, str], ...]:
    """The statement's tokens; a batch usually repeats one statement with other parameters,
    so they are kept for the next time."""
    tokens = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            raise malformed(f"Unexpected character: {source[position]}")
        if match.lastgroup != "space":
            tokens.append((match.lastgroup, match.group()))
        position = match.end()
    tokens.append(("eof", ""))
    return tuple(tokens)


class Parser:
    def __init__(self, source: str, parameters: list[dict] | None) -> None:
        self.tokens = _tokens(source)
        self.index = 0
        self.parameters = [check_value(p) for p in parameters or ()]
        self.used = 0

    # -- tokens -------------------------------------------------------------------------

    def peek(self, offset: int = 0) -> tuple[str, str]:
        try:
            return self.tokens[self.index + offset]
        except IndexError:  # past the end: the last token is ("eof", "")
            return self.tokens[-1]

    def word(self, *words: str) -> bool:
        kind, text = self.peek()
        return kind == "word" and text.upper() in words

    def op(self, text: str) -> bool:
        return self.peek() == ("op", text)

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.index += 1
        return token

    def expect_word(self, word: str) -> None:
        if not self.word(word):
            raise malformed(f"Expected {word}")
        self.take()

    def expect_op(self, text: str) -> None:
        if not self.op(text):
            raise malformed(f"Expected {text}")
        self.take()

    # -- statements ---------------------------------------------------------------------

    def statement(self) -> Statement:
        if self.word("SELECT"):
            statement = self.select()
        elif self.word("INSERT"):
            statement = self.insert()
        elif self.word("UPDATE"):
            statement = self.update()
        elif self.word("DELETE"):
            statement = self.delete()
        elif self.word("EXISTS"):
            self.take()
            self.expect_op("(")
            statement = self.select()
            self.expect_op(")")
            statement.kind = "exists"
        else:
            raise malformed("Unsupported statement type")
        if self.peek()[0] != "eof":
            raise malformed(f"Unexpected token: {self.peek()[1]}")
        self.check_parameters_used()
        return statement

    def check_parameters_used(self) -> None:
        if self.used != len(self.parameters):
            raise validation("Number of parameters in request and statement don't match.")

    def select(self) -> Statement:
        self.expect_word("SELECT")
        projection: list[tuple] | None = None
        if self.op("*"):
            self.take()
        else:
            projection = [self.path()[1]]
            while self.op(","):
                self.take()
                projection.append(self.path()[1])
        self.expect_word("FROM")
        table, index = self.table_name(allow_index=True)
        statement = Statement("select", table, index, projection)
        if self.word("WHERE"):
            self.take()
            statement.where = self.condition()
        return statement

    def insert(self) -> Statement:
        self.expect_word("INSERT")
        self.expect_word("INTO")
        table, _ = self.table_name()
        self.expect_word("VALUE")
        value = self.value()
        if "M" not in value:
            raise malformed("Expected a tuple for INSERT VALUE")
        return Statement("insert", table, item=value["M"])

    def update(self) -> Statement:
        self.expect_word("UPDATE")
        table, _ = self.table_name()
        statement = Statement("update", table)
        while self.word("SET", "REMOVE"):
            clause = self.take()[1].upper()
            while True:
                target = self.path()
                if clause == "SET":
                    self.expect_op("=")
                    value = self.operand()
                    if self.op("+") or self.op("-"):
                        kind = "plus" if self.take()[1] == "+" else "minus"
                        value = (kind, value, self.operand())
                    statement.clauses.setdefault("SET", []).append((target, value))
                else:
                    statement.clauses.setdefault("REMOVE", []).append((target,))
                if not self.op(","):
                    break
                self.take()
        if not statement.clauses:
            raise malformed("Expected SET or REMOVE")
        self.expect_word("WHERE")
        statement.where = self.condition()
        statement.returning = self.returning()
        return statement

    def delete(self) -> Statement:
        self.expect_word("DELETE")
        self.expect_word("FROM")
        table, _ = self.table_name()
        self.expect_word("WHERE")
        statement = Statement("delete", table, where=self.condition())
        statement.returning = self.returning()
        return statement

    def returning(self) -> str | None:
        if not self.word("RETURNING"):
            return None
        self.take()
        scope = self.take()[1].upper()
        age = self.take()[1].upper()
        self.expect_op("*")
        if scope not in ("ALL", "MODIFIED") or age not in ("OLD", "NEW"):
            raise malformed("Expected RETURNING ALL|MODIFIED OLD|NEW *")
        return f"{'ALL' if scope == 'ALL' else 'UPDATED'}_{age}"

    def table_name(self, allow_index: bool = False) -> tuple[str, str | None]:
        name = self.identifier()
        index = None
        if allow_index and self.op("."):
            self.take()
            index = self.identifier()
        return name, index

    def identifier(self) -> str:
        kind, text = self.take()
        if kind == "quoted":
            return text[1:-1].replace('""', '"')
        if kind == "word":
            return text
        raise malformed("Expected identifier for simple path")

    # -- conditions and values ----------------------------------------------------------

    def condition(self) -> tuple:
        node = self.conjunction()
        while self.word("OR"):
            self.take()
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self) -> tuple:
        node = self.negation()
        while self.word("AND"):
            self.take()
            node = ("and", node, self.negation())
        return node

    def negation(self) -> tuple:
        if self.word("NOT"):
            self.take()
            return ("not", self.negation())
        return self.predicate()

    def predicate(self) -> tuple:
        if self.op("("):
            self.take()
            node = self.condition()
            self.expect_op(")")
            return node
        kind, text = self.peek()
        if kind == "word" and text.lower() in _FUNCTIONS and self.peek(1) == ("op", "("):
            name = text.lower()
            self.take()
            self.take()
            args = [self.operand()]
            while self.op(","):
                self.take()
                args.append(self.operand())
            self.expect_op(")")
            if len(args) != _FUNCTIONS[name]:
                raise malformed(f"Wrong number of arguments for function {name}")
            if name == "size":
                return self.comparison(("size", args[0]))
            return ("function", name, args)
        return self.comparison(self.operand())

    def comparison(self, left: tuple) -> tuple:
        kind, text = self.peek()
        if kind == "op" and text in _COMPARATORS:
            self.take()
            return ("compare", _COMPARATORS[text], left, self.operand())
        if self.word("BETWEEN"):
            self.take()
            low = self.operand()
            self.expect_word("AND")
            return ("between", left, low, self.operand())
        if self.word("IN"):
            self.take()
            closing = "]" if self.op("[") else ")"
            self.take()
            options = [self.operand()]
            while self.op(","):
                self.take()
                options.append(self.operand())
            self.expect_op(closing)
            return ("in", left, options)
        if self.word("IS"):
            self.take()
            negated = self.word("NOT")
            if negated:
                self.take()
            if self.word("MISSING"):
                self.take()
                node = ("function", "attribute_not_exists", [left])
            elif self.word("NULL"):
                self.take()
                node = ("function", "attribute_type", [left, ("value", {"S": "NULL"})])
            else:
                raise malformed("Expected MISSING or NULL")
            return ("not", node) if negated else node
        raise malformed(f"Unexpected token: {text or 'end of statement'}")

    def operand(self) -> tuple:
        kind, _ = self.peek()
        if kind in ("word", "quoted") and not self.word("TRUE", "FALSE", "NULL", "MISSING"):
            return self.path()
        return ("value", self.value())

    def path(self) -> tuple:
        elements: list[Any] = [self.identifier()]
        while True:
            if self.op("."):
                self.take()
                elements.append(self.identifier())
            elif self.op("["):
                self.take()
                kind, text = self.take()
                if kind == "number" and text.isdigit():
                    elements.append(int(text))
                elif kind == "string":
                    elements.append(text[1:-1].replace("''", "'"))
                else:
                    raise malformed("Expected a list index or a map key")
                self.expect_op("]")
            else:
                return ("path", tuple(elements))

    def value(self) -> dict:
        kind, text = self.take()
        if kind == "op" and text == "?":
            if self.used >= len(self.parameters):
                raise validation("Number of parameters in request and statement don't match.")
            self.used += 1
            return self.parameters[self.used - 1]
        if kind == "string":
            return {"S": text[1:-1].replace("''", "'")}
        if kind == "number":
            return check_value({"N": text})
        if kind == "word" and text.upper() in ("TRUE", "FALSE"):
            return {"BOOL": text.upper() == "TRUE"}
        if kind == "word" and text.upper() == "NULL":
            return {"NULL": True}
        if (kind, text) == ("op", "["):
            elements = self.sequence("]")
            return {"L": elements}
        if (kind, text) == ("op", "<<"):
            return _set(self.sequence(">>"))
        if (kind, text) == ("op", "{"):
            members: dict[str, dict] = {}
            while not self.op("}"):
                key_kind, key = self.take()
                if key_kind != "string":
                    raise malformed("Expected a string key in a tuple")
                self.expect_op(":")
                members[key[1:-1].replace("''", "'")] = self.value()
                if not self.op(","):
                    break
                self.take()
            self.expect_op("}")
            return {"M": members}
        raise malformed(f"Unexpected token: {text or 'end of statement'}")

    def sequence(self, closing: str) -> list[dict]:
        elements: list[dict] = []
        while not self.op(closing):
            elements.append(self.value())
            if not self.op(","):
                break
            self.take()
        self.expect_op(closing)
        return elements


def _set(elements: list[dict]) -> dict:
    kinds = {next(iter(e)) for e in elements}
    if len(kinds) != 1 or not kinds <= {"S", "N", "B"}:
        raise malformed("A set must hold strings, numbers or binaries of one type")
    kind = kinds.pop()
    return check_value({kind + "S": [e[kind] for e in elements]})


class _Placeholder(int):
    """The n-th `?` of a statement parsed once for every set of its parameters."""


class _NotTemplatable(Exception):
    """A `?` the parser looks into (inside a list, set or tuple literal)."""


class _TemplateParser(Parser):
    """Parses a statement with each `?` a _Placeholder, so that the statements of a batch that
    repeat one text with other parameters are parsed once."""

    def __init__(self, source: str) -> None:
        super().__init__(source, None)
        self.nested = 0

    def value(self) -> dict:
        if self.peek() == ("op", "?"):
            if self.nested:
                raise _NotTemplatable
            self.take()
            self.used += 1
            return _Placeholder(self.used - 1)  # type: ignore[return-value]
        self.nested += 1
        try:
            return super().value()
        finally:
            self.nested -= 1

    def check_parameters_used(self) -> None:
        pass  # checked when the parameters are bound


Binder = Callable[[list[dict]], Any]


def _binder(node: Any) -> Binder | None:
    """A function rebuilding ``node`` with parameter values in place of its placeholders (and
    its literal values copied: the trees are each request's to keep); None: ``node`` holds
    neither and is shared as it is."""
    if isinstance(node, tuple) and len(node) == 2 and node[0] == "value":
        value = node[1]
        if isinstance(value, _Placeholder):
            return lambda values: ("value", values[value])
        return lambda values: ("value", copy.deepcopy(value))
    if isinstance(node, (tuple, list)):
        parts = [_binder(part) for part in node]
        if not any(parts):
            return None
        build = tuple if isinstance(node, tuple) else list
        return lambda values: build([part(values) if part else original
                                     for part, original in zip(parts, node)])
    return None


@functools.lru_cache(maxsize=256)
def _template(source: str) -> tuple[Statement, int, Binder | None, dict] | None:
    """The statement with placeholders, how many parameters it takes, and the binders of its
    WHERE and update clauses; None for INSERTs and statements with parameters inside
    literals (parsed with their parameters each time)."""
    if _tokens(source)[0][1].upper() == "INSERT":
        return None
    parser = _TemplateParser(source)
    try:
        statement = parser.statement()
    except _NotTemplatable:
        return None
    clauses = {name: _binder(actions) for name, actions in statement.clauses.items()}
    return statement, parser.used, _binder(statement.where), clauses


def _bind(template: tuple[Statement, int, Binder | None, dict], values: list[dict]
          ) -> Statement:
    statement, _, where, clauses = template
    return Statement(statement.kind, statement.table, statement.index, statement.projection,
                     where(values) if where else statement.where, None,
                     {name: binder(values) if binder else statement.clauses[name]
                      for name, binder in clauses.items()}, statement.returning)


def parse(source: str, parameters: list[dict] | None) -> Statement:
    try:
        template = _template(source)
    except ServiceError:  # malformed: the full parse reports it as it always has
        template = None
    if template is None:
        return Parser(source, parameters).statement()
    values = [check_value(p) for p in parameters or ()]
    if len(values) != template[1]:
        raise validation("Number of parameters in request and statement don't match.")
    return _bind(template, values)


# -- from the WHERE clause to keys --------------------------------------------------------------

def conjuncts(tree: tuple | None) -> list[tuple]:
    if tree is None:
        return []
    if tree[0] == "and":
        return conjuncts(tree[1]) + conjuncts(tree[2])
    return [tree]


def equalities(tree: tuple | None) -> dict[str, dict]:
    """Attributes the WHERE clause fixes with a top-level `name = value`."""
    fixed: dict[str, dict] = {}
    for condition in conjuncts(tree):
        name, value = _equality(condition)
        if name is not None:
            fixed.setdefault(name, value)
    return fixed


def residual(tree: tuple | None, used: dict[str, dict]) -> tuple | None:
    """The WHERE clause without the `name = value` conjuncts whose values (``used``, the very
    objects equalities() found) made the key of the lookup or range read: every item read
    satisfies them, so only the rest is evaluated (None: nothing is)."""
    rest = []
    dropped = set()
    for condition in conjuncts(tree):
        name, value = _equality(condition)
        if name in used and name not in dropped and value is used[name]:
            dropped.add(name)
        else:
            rest.append(condition)
    if not rest:
        return None
    combined = rest[0]
    for condition in rest[1:]:
        combined = ("and", combined, condition)
    return combined


def _equality(condition: tuple) -> tuple[str | None, dict | None]:
    """(name, value) of a top-level `name = value` (either way round), else (None, None)."""
    if condition[0] == "compare" and condition[1] == "=":
        left, right = condition[2], condition[3]
        if left[0] == "value":
            left, right = right, left
        if left[0] == "path" and len(left[1]) == 1 and right[0] == "value":
            return left[1][0], right[1]
    return None, None


def key_of(tree: tuple | None, names: tuple[str, ...]) -> dict[str, dict]:
    fixed = equalities(tree)
    if any(name not in fixed for name in names):
        raise validation("Where clause does not contain a mandatory equality on all key "
                         "attributes")
    return {name: fixed[name] for name in names}


def encode_token(key: dict) -> str:
    return base64.b64encode(json.dumps(key, default=lambda b: {
        "__b": base64.b64encode(b).decode()}).encode()).decode()


def decode_token(token: str) -> dict:
    try:
        return json.loads(base64.b64decode(token), object_hook=lambda d: base64.b64decode(
            d["__b"]) if set(d) == {"__b"} else d)
    except ValueError:
        raise validation("Invalid NextToken") from None
