"""Translate ECMA-262 `pattern` values (what JSON Schema means) into Python regular expressions.

Python's re differs in ways that matter for validation: `$` also matches before a trailing newline,
and `\\d` / `\\w` match any Unicode digit / word character. Both validation engines get the
translated pattern, so "123456\\n" or Arabic-Indic digits never pass a `^\\d{6}$` field.
"""
from __future__ import annotations

import functools
import re

_OUTSIDE = {"d": "[0-9]", "D": "[^0-9]", "w": "[A-Za-z0-9_]", "W": "[^A-Za-z0-9_]"}
_INSIDE = {"d": "0-9", "w": "A-Za-z0-9_"}


def to_python(pattern: str) -> str:
    out, in_class, i = [], False, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            table = _INSIDE if in_class else _OUTSIDE
            out.append(table.get(nxt, "\\" + nxt))
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        elif char == "$" and not in_class:
            char = r"\Z"
        out.append(char)
        i += 1
    return "".join(out)


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """The compiled Python equivalent of an ECMA-262 pattern; raises re.error when invalid."""
    return re.compile(to_python(pattern))


def html_pattern(pattern: str) -> str | None:
    """The value for an HTML `pattern` attribute, or None when it cannot be expressed.

    Browsers anchor `pattern` implicitly, so only patterns anchored with ^...$ translate exactly.
    """
    anchored = pattern.startswith("^") and pattern.endswith("$") and not pattern.endswith("\\$")
    if anchored and "|" not in pattern:  # "^a|b$" means (^a)|(b$), unlike the browser's ^(?:a|b)$
        return pattern[1:-1]
    return None
