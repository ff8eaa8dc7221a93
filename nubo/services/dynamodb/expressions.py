"""DynamoDB's expression language: one tokenizer and recursive-descent parser for condition,
filter, key-condition, projection and update expressions, and the placeholder resolution
(ExpressionAttributeNames / ExpressionAttributeValues) with AWS's error messages.

Parsing yields a small tree of tuples (see ``Node`` kinds below); ``Expressions`` resolves the
placeholders of every expression of one request, records which were used and raises AWS's errors
for undefined, unused, reserved or misused names. Evaluation lives in evaluation.py.

Node kinds (first element of each tuple):
  ("path", elements)            elements: str (map key) and int (list index)
  ("value", attribute_value)
  ("size", path_node)
  ("compare", op, left, right)  op in = <> < <= > >=
  ("between", operand, low, high)
  ("in", operand, [operands])
  ("and", a, b) ("or", a, b) ("not", a)
  ("function", name, [args])    attribute_exists, attribute_not_exists, attribute_type,
                                begins_with, contains
  ("plus"|"minus", a, b) ("if_not_exists", path, value) ("list_append", a, b)   updates only
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from nubo.core.errors import ServiceError
from nubo.services.dynamodb.reserved import RESERVED_WORDS
from nubo.services.dynamodb.values import check_value, validation

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<name>[A-Za-z][A-Za-z0-9_]*)
  | (?P<alias>\#[A-Za-z0-9_]+)
  | (?P<placeholder>:[A-Za-z0-9_]+)
  | (?P<number>[0-9]+)
  | (?P<op><>|<=|>=|[=<>(),.\[\]+\-])
""", re.VERBOSE)

COMPARATORS = ("=", "<>", "<", "<=", ">", ">=")
CONDITION_FUNCTIONS = {"attribute_exists": 1, "attribute_not_exists": 1, "attribute_type": 2,
                       "begins_with": 2, "contains": 2, "size": 1}
UPDATE_FUNCTIONS = {"if_not_exists": 2, "list_append": 2}
PATH_FUNCTIONS = ("attribute_exists", "attribute_not_exists", "attribute_type", "if_not_exists")
ATTRIBUTE_TYPES = ("S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M")
MAX_IN_OPERANDS = 100
MAX_EXPRESSION_SIZE = 4096  # bytes


@dataclass(slots=True)
class Token:
    kind: str  # name, alias, placeholder, number, op, eof
    text: str
    start: int
    end: int


class ExpressionError(Exception):
    """An error inside one expression; the caller prefixes "Invalid <Kind>: "."""


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None:
            char = source[position]
            near = source[tokens[-1].start:position + 1] if tokens else char
            raise ExpressionError(f'Syntax error; token: "{char}", near: "{near}"')
        if match.lastgroup != "space":
            tokens.append(Token(match.lastgroup, match.group(), match.start(), match.end()))
        position = match.end()
    tokens.append(Token("eof", "<EOF>", len(source), len(source)))
    return tokens


class Parser:
    """Recursive descent over one expression's tokens, with AWS's precedence:
    comparisons, IN, BETWEEN, functions, parentheses, NOT, AND, OR (loosest)."""

    def __init__(self, source: str, update: bool = False) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.index = 0
        self.update = update

    # -- token helpers --------------------------------------------------------------------

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def is_word(self, word: str) -> bool:
        return self.token.kind == "name" and self.token.text.upper() == word

    def is_op(self, op: str) -> bool:
        return self.token.kind == "op" and self.token.text == op

    def syntax_error(self) -> ExpressionError:
        token = self.token
        previous = self.tokens[self.index - 1] if self.index else None
        if token.kind == "eof":
            near = previous.text if previous else ""
        else:
            near = self.source[previous.start if previous else token.start:token.end]
        return ExpressionError(f'Syntax error; token: "{token.text}", near: "{near}"')

    def expect_op(self, op: str) -> None:
        if not self.is_op(op):
            raise self.syntax_error()
        self.advance()

    def expect_end(self) -> None:
        if self.token.kind != "eof":
            raise self.syntax_error()

    # -- paths and operands ---------------------------------------------------------------

    def path(self) -> tuple:
        elements: list[Any] = [self.path_element()]
        while True:
            if self.is_op("."):
                self.advance()
                elements.append(self.path_element())
            elif self.is_op("["):
                self.advance()
                if self.token.kind != "number":
                    raise self.syntax_error()
                elements.append(int(self.advance().text))
                self.expect_op("]")
            else:
                return ("path", elements)

    def path_element(self) -> Any:
        token = self.token
        if token.kind == "name":
            self.advance()
            return ("name", token.text)
        if token.kind == "alias":
            self.advance()
            return ("alias", token.text)
        raise self.syntax_error()

    def operand(self) -> tuple:
        token = self.token
        if token.kind == "placeholder":
            self.advance()
            return ("placeholder", token.text)
        if token.kind == "name" and self.tokens[self.index + 1].text == "(":
            return self.function()
        if token.kind in ("name", "alias"):
            return self.path()
        raise self.syntax_error()

    def function(self) -> tuple:
        name = self.advance().text
        known = UPDATE_FUNCTIONS if self.update else CONDITION_FUNCTIONS
        other = CONDITION_FUNCTIONS if self.update else UPDATE_FUNCTIONS
        if name not in known:
            if name in other:
                where = "an update" if self.update else "a condition"
                raise ExpressionError(f"The function is not allowed in {where} expression; "
                                      f"function: {name}")
            raise ExpressionError(f"Invalid function name; function: {name}")
        self.expect_op("(")
        args = [self.operand()]
        while self.is_op(","):
            self.advance()
            args.append(self.operand())
        self.expect_op(")")
        if len(args) != known[name]:
            raise ExpressionError(f"Incorrect number of operands for operator or function; "
                                  f"operator or function: {name}, number of operands: "
                                  f"{len(args)}")
        if name == "size":
            return ("size", args[0])
        return ("function", name, args)

    # -- conditions -----------------------------------------------------------------------

    def condition(self) -> tuple:
        node = self.conjunction()
        while self.is_word("OR"):
            self.advance()
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self) -> tuple:
        node = self.negation()
        while self.is_word("AND"):
            self.advance()
            node = ("and", node, self.negation())
        return node

    def negation(self) -> tuple:
        if self.is_word("NOT"):
            self.advance()
            return ("not", self.negation())
        return self.predicate()

    def predicate(self) -> tuple:
        if self.is_op("("):
            self.advance()
            node = self.condition()
            self.expect_op(")")
            return node
        left = self.operand()
        token = self.token
        if token.kind == "op" and token.text in COMPARATORS:
            self.advance()
            self.check_operand(left, token.text)
            right = self.operand()
            self.check_operand(right, token.text)
            return ("compare", token.text, left, right)
        if self.is_word("BETWEEN"):
            self.advance()
            self.check_operand(left, "BETWEEN")
            low = self.operand()
            if not self.is_word("AND"):
                raise self.syntax_error()
            self.advance()
            high = self.operand()
            for bound in (low, high):
                self.check_operand(bound, "BETWEEN")
            return ("between", left, low, high)
        if self.is_word("IN"):
            self.advance()
            self.check_operand(left, "IN")
            self.expect_op("(")
            options = [self.operand()]
            while self.is_op(","):
                self.advance()
                options.append(self.operand())
            self.expect_op(")")
            for option in options:
                self.check_operand(option, "IN")
            return ("in", left, options)
        if left[0] == "function":
            return left
        if left[0] == "size":
            raise ExpressionError("The function is not allowed to be used this way in an "
                                  "expression; function: size")
        raise self.syntax_error()

    @staticmethod
    def check_operand(node: tuple, operator: str) -> None:
        if node[0] == "function":
            raise ExpressionError(f"The function is not allowed to be used this way in an "
                                  f"expression; function: {node[1]}")

    # -- update expressions ---------------------------------------------------------------

    def update_expression(self) -> dict[str, list]:
        clauses: dict[str, list] = {}
        if self.token.kind == "eof":
            raise self.syntax_error()
        while self.token.kind != "eof":
            word = self.token.text.upper() if self.token.kind == "name" else ""
            if word not in ("SET", "REMOVE", "ADD", "DELETE"):
                raise self.syntax_error()
            if word in clauses:
                raise ExpressionError(f'The "{word}" section can only be used once in an '
                                      "update expression;")
            self.advance()
            actions = clauses[word] = [self.update_action(word)]
            while self.is_op(","):
                self.advance()
                actions.append(self.update_action(word))
        return clauses

    def update_action(self, clause: str) -> tuple:
        target = self.path()
        if clause == "REMOVE":
            return (target,)
        if clause == "SET":
            self.expect_op("=")
            value = self.operand()
            if self.is_op("+") or self.is_op("-"):
                op = "plus" if self.advance().text == "+" else "minus"
                value = (op, value, self.operand())
            return (target, value)
        value = self.operand()  # ADD / DELETE: path value
        return (target, value)

    def projection(self) -> list[tuple]:
        paths = [self.path()]
        while self.is_op(","):
            self.advance()
            paths.append(self.path())
        self.expect_end()
        return paths


# -- resolution of placeholders -----------------------------------------------------------

_NAME_KEY = re.compile(r"^#[A-Za-z0-9_]+$")
_VALUE_KEY = re.compile(r"^:[A-Za-z0-9_]+$")


@dataclass
class Expressions:
    """The placeholders of one request, shared by its expressions."""

    names: dict[str, str] | None = None
    values: dict[str, dict] | None = None
    used_names: set[str] = field(default_factory=set)
    used_values: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.names is not None:
            if not self.names:
                raise validation("ExpressionAttributeNames must not be empty")
            for key in self.names:
                if not _NAME_KEY.match(key):
                    raise validation(f'ExpressionAttributeNames contains invalid key: Syntax '
                                     f'error; key: "{key}"')
        if self.values is not None:
            if not self.values:
                raise validation("ExpressionAttributeValues must not be empty")
            checked = {}
            for key, value in self.values.items():
                if not _VALUE_KEY.match(key):
                    raise validation(f'ExpressionAttributeValues contains invalid key: Syntax '
                                     f'error; key: "{key}"')
                try:
                    checked[key] = check_value(value)
                except ServiceError as error:
                    raise validation(f"ExpressionAttributeValues contains invalid value: "
                                     f"{error.message} for key {key}") from None
            self.values = checked

    # -- entry points: one per expression kind ------------------------------------------

    def condition(self, source: str, label: str = "ConditionExpression") -> tuple:
        return self._parse(source, label, lambda parser: parser.condition())

    def projection(self, source: str) -> list[tuple]:
        paths = self._parse(source, "ProjectionExpression", lambda parser: parser.projection())
        check_overlaps([path[1] for path in paths], "ProjectionExpression")
        return paths

    def update(self, source: str) -> dict[str, list]:
        return self._parse(source, "UpdateExpression",
                           lambda parser: parser.update_expression(), update=True)

    def _parse(self, source: str, label: str, rule, update: bool = False) -> Any:
        try:
            if not source.strip():
                raise ExpressionError("The expression can not be empty;")
            size = len(source.encode())
            if size > MAX_EXPRESSION_SIZE:
                raise ExpressionError("Expression size has exceeded the maximum allowed size; "
                                      f"expression size: {size}")
            parser = Parser(source, update=update)
            tree = rule(parser)
            parser.expect_end()
            return self._resolve(tree, label)
        except ExpressionError as error:
            raise validation(f"Invalid {label}: {error}") from None

    def check_unused(self) -> None:
        """After every expression of the request was parsed: AWS rejects unused placeholders."""
        if self.names:
            unused = [k for k in self.names if k not in self.used_names]
            if unused:
                raise validation("Value provided in ExpressionAttributeNames unused in "
                                 f"expressions: keys: {{{', '.join(unused)}}}")
        if self.values:
            unused = [k for k in self.values if k not in self.used_values]
            if unused:
                raise validation("Value provided in ExpressionAttributeValues unused in "
                                 f"expressions: keys: {{{', '.join(unused)}}}")

    # -- the walk ---------------------------------------------------------------------------

    def _resolve(self, node: Any, label: str) -> Any:
        if isinstance(node, dict):  # update clauses
            return {clause: [tuple(self._resolve(part, label) for part in action)
                             for action in actions] for clause, actions in node.items()}
        if isinstance(node, list):
            return [self._resolve(part, label) for part in node]
        kind = node[0]
        if kind == "path":
            return ("path", tuple(self._element(e, label) for e in node[1]))
        if kind == "placeholder":
            key = node[1]
            if self.values is None or key not in self.values:
                raise ExpressionError("An expression attribute value used in expression is not "
                                      f"defined; attribute value: {key}")
            self.used_values.add(key)
            return ("value", self.values[key])
        resolved = (kind,) + tuple(self._resolve(part, label) if isinstance(part, (tuple, list))
                                   else part for part in node[1:])
        self._check(resolved)
        return resolved

    def _element(self, element: Any, label: str) -> Any:
        if isinstance(element, int):
            return element
        kind, text = element
        if kind == "alias":
            if self.names is None or text not in self.names:
                raise ExpressionError("An expression attribute name used in the document path "
                                      f"is not defined; attribute name: {text}")
            self.used_names.add(text)
            return self.names[text]
        if text.upper() in RESERVED_WORDS:
            raise ExpressionError(f"Attribute name is a reserved keyword; reserved keyword: "
                                  f"{text}")
        return text

    @staticmethod
    def _check(node: tuple) -> None:
        """Operand rules AWS checks before evaluating anything."""
        kind = node[0]
        if kind == "size" and node[1][0] != "path":
            raise ExpressionError("Operator or function requires a document path; operator or "
                                  "function: size")
        if kind == "function":
            name, args = node[1], node[2]
            if name in PATH_FUNCTIONS and args[0][0] != "path":
                raise ExpressionError("Operator or function requires a document path; operator "
                                      f"or function: {name}")
            if name == "attribute_type":
                kind_arg = args[1]
                if kind_arg[0] != "value" or "S" not in kind_arg[1]:
                    shown = next(iter(kind_arg[1])) if kind_arg[0] == "value" else "PATH"
                    raise ExpressionError("Incorrect operand type for operator or function; "
                                          f"operator or function: attribute_type, operand "
                                          f"type: {shown}")
                if kind_arg[1]["S"] not in ATTRIBUTE_TYPES:
                    raise ExpressionError(f"Invalid attribute type name found; type: "
                                          f"{kind_arg[1]['S']}, valid types: "
                                          "{B,NULL,SS,BOOL,L,BS,N,NS,S,M}")
        if kind == "in" and len(node[2]) > MAX_IN_OPERANDS:
            raise ExpressionError("Too many operands for the IN operator; the maximum is 100")


def check_overlaps(paths: list[tuple], label: str) -> None:
    """AWS refuses two paths of one expression where one is (or starts) the other."""
    for i, first in enumerate(paths):
        for second in paths[i + 1:]:
            shorter = min(len(first), len(second))
            if first[:shorter] == second[:shorter]:
                raise validation(f"Invalid {label}: Two document paths overlap with each other; "
                                 f"must remove or rewrite one of these paths; path one: "
                                 f"{path_text(first)}, path two: {path_text(second)}")


def path_text(path: tuple) -> str:
    """A path as AWS prints it in messages: [a, b, [0]]."""
    return "[" + ", ".join(f"[{e}]" if isinstance(e, int) else e for e in path) + "]"
