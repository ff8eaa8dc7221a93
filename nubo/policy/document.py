"""Policy documents compiled for evaluation: statements with their patterns matched quickly.

The grammar is AWS's (IAM JSON policy reference): Version, Id, Statement (one or a list) with Sid,
Effect, Action/NotAction, Resource/NotResource, Principal/NotPrincipal, Condition. Compiling is
tolerant: documents are validated where they are stored (IAM's MalformedPolicyDocument messages
live with the IAM service); here a value of the wrong type simply matches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson

from nubo.policy.conditions import Condition, compile_conditions
from nubo.policy.variables import Wildcard, has_variables, template_regex

__all__ = ["Policy", "Statement", "Principals", "parse_policy", "glob_regex"]


def glob_regex(pattern: str, *, ignore_case: bool = False) -> Wildcard:
    """``*`` matches any run of characters, ``?`` any one character; all else is literal."""
    return template_regex(pattern, {}, ignore_case=ignore_case)


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


class _Patterns:
    """A list of wildcard patterns (actions or resources); ``*`` alone matches everything."""

    __slots__ = ("anything", "fixed", "templates", "ignore_case")

    def __init__(self, patterns: tuple[str, ...], *, ignore_case: bool) -> None:
        self.ignore_case = ignore_case
        self.anything = "*" in patterns
        self.fixed = tuple(glob_regex(p, ignore_case=ignore_case) for p in patterns
                           if not has_variables(p))
        self.templates = tuple(p for p in patterns if has_variables(p))

    def match(self, value: str, variables: dict | None = None) -> bool:
        if self.anything or any(p.fullmatch(value) for p in self.fixed):
            return True
        for template in self.templates:
            pattern = template_regex(template, variables or {}, ignore_case=self.ignore_case)
            if pattern is not None and pattern.fullmatch(value):
                return True
        return False


@dataclass(frozen=True)
class Principals:
    """A Principal or NotPrincipal element: ``anyone`` for "*" / {"AWS": "*"}, else values by
    kind (AWS, Service, Federated, CanonicalUser)."""

    anyone: bool
    aws: frozenset[str] = frozenset()
    service: frozenset[str] = frozenset()
    federated: frozenset[str] = frozenset()
    canonical: frozenset[str] = frozenset()

    @classmethod
    def compile(cls, value: Any) -> "Principals":
        if value == "*":
            return cls(anyone=True)
        if not isinstance(value, dict):
            return cls(anyone=False)
        aws = frozenset(_strings(value.get("AWS")))
        return cls(anyone="*" in aws, aws=aws,
                   service=frozenset(_strings(value.get("Service"))),
                   federated=frozenset(_strings(value.get("Federated"))),
                   canonical=frozenset(_strings(value.get("CanonicalUser"))))


@dataclass(frozen=True)
class Statement:
    sid: str
    allow: bool
    actions: _Patterns | None
    not_actions: _Patterns | None
    resources: _Patterns | None
    not_resources: _Patterns | None
    principal: Principals | None
    not_principal: Principals | None
    conditions: tuple[Condition, ...]
    source: dict = field(default_factory=dict, compare=False)  # as written, for reports

    def covers_action(self, action: str) -> bool:
        if self.actions is not None:
            return self.actions.match(action)
        if self.not_actions is not None:
            return not self.not_actions.match(action)
        return False

    def covers_resource(self, resource: str, variables: dict) -> bool:
        # Statements without a Resource element (trust policies, resource policies whose
        # resource is implied) apply to the resource they are attached to.
        if self.resources is not None:
            return self.resources.match(resource, variables)
        if self.not_resources is not None:
            return not self.not_resources.match(resource, variables)
        return True


@dataclass(frozen=True)
class Policy:
    """A compiled policy document (immutable, shared through the parse cache)."""

    statements: tuple[Statement, ...]
    text: str

    @property
    def context_free(self) -> bool:
        """True if no statement reads the request context (conditions, policy variables), so
        that the policy decides the same for the same principal, action and resource."""
        return all(not s.conditions and not _uses_variables(s) for s in self.statements)


def _uses_variables(statement: "Statement") -> bool:
    return any(p is not None and p.templates for p in (statement.resources,
                                                        statement.not_resources))


def _compile_statement(raw: Any, index: int) -> Statement | None:
    if not isinstance(raw, dict):
        return None

    def patterns(key: str, ignore_case: bool) -> _Patterns | None:
        return _Patterns(_strings(raw[key]), ignore_case=ignore_case) if key in raw else None

    principal = raw.get("Principal")
    not_principal = raw.get("NotPrincipal")
    return Statement(
        sid=raw.get("Sid") if isinstance(raw.get("Sid"), str) else f"#{index}",
        allow=raw.get("Effect") == "Allow",
        actions=patterns("Action", True), not_actions=patterns("NotAction", True),
        resources=patterns("Resource", False), not_resources=patterns("NotResource", False),
        principal=None if principal is None else Principals.compile(principal),
        not_principal=None if not_principal is None else Principals.compile(not_principal),
        conditions=compile_conditions(raw.get("Condition")),
        source=raw,
    )


@lru_cache(maxsize=4096)
def _parse_text(text: str) -> Policy:
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        document = {}
    raw = document.get("Statement") if isinstance(document, dict) else None
    raw_statements = raw if isinstance(raw, list) else [raw] if raw is not None else []
    statements = tuple(s for i, r in enumerate(raw_statements)
                       if (s := _compile_statement(r, i)) is not None)
    return Policy(statements=statements, text=text)


def parse_policy(document: str | dict) -> Policy:
    """The compiled form of a policy document (JSON text or parsed), cached by its text."""
    text = document if isinstance(document, str) else orjson.dumps(document).decode()
    return _parse_text(text)
