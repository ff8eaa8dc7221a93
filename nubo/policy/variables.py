"""Policy variables: ``${aws:username}`` in a Resource or a condition value takes its value from
the request context; ``${key, 'default'}`` gives a default; ``${*}``, ``${?}`` and ``${$}`` are the
literal characters. A variable with no value and no default makes the element match nothing."""

from __future__ import annotations

import re

__all__ = ["has_variables", "substitute", "template_regex"]

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_LITERALS = {"*": "*", "?": "?", "$": "$"}


def has_variables(text: str) -> bool:
    return "${" in text


def _value(expression: str, context: dict) -> str | None:
    name, _, default = expression.partition(",")
    name = name.strip()
    if name in _LITERALS:
        return _LITERALS[name]
    value = context.get(name.lower())
    if isinstance(value, (list, tuple)):  # multi-valued keys cannot be substituted
        value = None
    if value is None and default:
        value = default.strip().strip("'")
    return None if value is None else str(value)


def substitute(text: str, context: dict) -> str | None:
    """``text`` with its variables replaced, or None if one has no value."""
    parts, end = [], 0
    for match in _VARIABLE.finditer(text):
        value = _value(match.group(1), context)
        if value is None:
            return None
        parts += [text[end:match.start()], value]
        end = match.end()
    return "".join(parts) + text[end:]


def template_regex(template: str, context: dict, *, ignore_case: bool) -> re.Pattern | None:
    """A wildcard pattern with variables as a regex: the template's own ``*``/``?`` are
    wildcards, the substituted values (``${*}`` included) are literal."""
    parts, end = [], 0

    def glob(text: str) -> str:
        return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)

    for match in _VARIABLE.finditer(template):
        value = _value(match.group(1), context)
        if value is None:
            return None
        parts += [glob(template[end:match.start()]), re.escape(value)]
        end = match.end()
    parts.append(glob(template[end:]))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))
