"""The models' ``pattern`` constraints, Java regular expressions, compiled for Python.

The ``regex`` module reads Java's Unicode property classes (``\\p{L}``, ``\\p{Z}``) and Java's
character-class quirks (``[\\s-_]``); three differences are translated here:

* Java writes a supplementary character as a UTF-16 surrogate pair (``\\uD800\\uDC00``); Python
  as one code point.
* Java's ``\\w``, ``\\d``, ``\\s`` and its POSIX classes (``\\p{Alnum}``, ``\\p{Punct}``, ...)
  are ASCII-only; Python's are Unicode.
* A pattern is matched against the whole value, as Java's ``Matcher.matches`` does.

A pattern the translation cannot express is not checked (AWS's own check is the reference).
"""

from __future__ import annotations

import re
from functools import lru_cache

import regex

_SURROGATE_PAIR = re.compile(r"\\u(D[89AB][0-9A-F]{2})\\u(D[C-F][0-9A-F]{2})", re.IGNORECASE)
_SPACE = " \\t\\n\\x0B\\f\\r"
# Java's ASCII-only classes, as the characters of a Python character class.
_ASCII_CLASSES = {
    "w": "a-zA-Z0-9_", "d": "0-9", "s": _SPACE,
    "p{Lower}": "a-z", "p{Upper}": "A-Z", "p{ASCII}": "\\x00-\\x7F", "p{Alpha}": "a-zA-Z",
    "p{Digit}": "0-9", "p{Alnum}": "a-zA-Z0-9", "p{Punct}": "!-/:-@\\[-`{-~",
    "p{Graph}": "!-~", "p{Print}": " -~", "p{Blank}": " \\t", "p{Cntrl}": "\\x00-\\x1F\\x7F",
    "p{XDigit}": "0-9a-fA-F", "p{Space}": _SPACE,
}
_NEGATED = {"W": "w", "D": "d", "S": "s", "P": "p"}


def _code_point(found: re.Match) -> str:
    high, low = int(found.group(1), 16), int(found.group(2), 16)
    return "\\U%08X" % (0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))


def _escape_end(pattern: str, start: int) -> int:
    """The end of the escape at ``start`` (a backslash): ``\\p{..}`` whole, others two chars."""
    if pattern[start + 1:start + 2] in ("p", "P") and pattern[start + 2:start + 3] == "{":
        close = pattern.find("}", start)
        return len(pattern) if close < 0 else close + 1
    return start + 2


def _ascii_classes(pattern: str) -> str:
    out, position, in_class = [], 0, False
    while position < len(pattern):
        char = pattern[position]
        if char == "\\":
            end = _escape_end(pattern, position)
            escape = pattern[position + 1:end]
            negated = escape[:1] in _NEGATED
            key = (_NEGATED[escape[0]] + escape[1:]) if negated else escape
            chars = _ASCII_CLASSES.get(key)
            if chars is None or (negated and in_class):  # Unicode classes stay as they are
                out.append(pattern[position:end])
            elif in_class:
                out.append(chars)
                if pattern[end:end + 1] == "-":  # after a class, Java's "-" is a literal
                    out.append("\\-")
                    end += 1
            else:
                out.append(f"[^{chars}]" if negated else f"[{chars}]")
            position = end
            continue
        if char == "[" and not in_class:
            in_class = True
            if pattern[position + 1:position + 2] == "^":
                out.append("[^")
                position += 2
                continue
        elif char == "]" and in_class:
            in_class = False
        out.append(char)
        position += 1
    return "".join(out)


@lru_cache(maxsize=None)
def java_pattern(pattern: str) -> regex.Pattern | None:
    """The model's pattern compiled for Python (use ``fullmatch``), or None when it cannot be."""
    try:
        return regex.compile(_ascii_classes(_SURROGATE_PAIR.sub(_code_point, pattern)),
                             regex.V0)
    except (regex.error, ValueError, OverflowError):
        return None
