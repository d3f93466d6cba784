"""Translate ECMA-262 `pattern` values (what JSON Schema means) into Python regular expressions.

Python's re differs in ways that matter for validation: `$` also matches before a trailing newline,
and `\\d` / `\\w` match any Unicode digit / word character. Both validation engines get the
translated pattern, so "123456\\n" or Arabic-Indic digits never pass a `^\\d{6}$` field.
"""
from __future__ import annotations

import functools
import re
import sys
from re import _constants as _c, _parser

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


@functools.lru_cache(maxsize=512)
def compile_python(python_pattern: str) -> re.Pattern[str]:
    """A pattern already translated by to_python, compiled (what the validators are handed)."""
    return re.compile(python_pattern)


def html_pattern(pattern: str) -> str | None:
    """The value for an HTML `pattern` attribute, or None when it cannot be expressed.

    Browsers anchor `pattern` implicitly, so only patterns anchored with ^...$ translate exactly.
    """
    anchored = pattern.startswith("^") and pattern.endswith("$") and not pattern.endswith("\\$")
    if anchored and "|" not in pattern:  # "^a|b$" means (^a)|(b$), unlike the browser's ^(?:a|b)$
        return pattern[1:-1]
    return None


# -- patterns that backtrack for ever -------------------------------------------------------------
#
# A backtracking engine (Python's re, which jsonschema and fastjsonschema use, and the phone's JavaScript) takes
# exponential time when a repeated part can match the same text in more than one way: "^(a+)+$" on
# "aaaaaaaaaaaaaaaaaaaaaaaaaa!" ran 14 s. Such patterns are refused when a form is checked, so they never reach
# the validators. The check is structural (over Python's parse tree of the translated pattern) because the same
# pattern also runs in JavaScript: timing it on one engine would prove nothing about the other. It is
# conservative: it may refuse a pattern that is in fact fast rather than let a shape it does not know through.
# Polynomial cases that it lets through (two overlapping quantifiers side by side, "\d+\d+") stay cheap because
# no string longer than PATTERN_INPUT_LIMIT is ever matched.

PATTERN_INPUT_LIMIT = 2000   # characters; a longer value of a field with a pattern is refused unmatched
_EVERY = ((0, sys.maxunicode),)
_REPEATS = (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT)
# The non-ASCII spaces of Python's \s (and U+FEFF, a space to JavaScript): exact, so that \w and \s, which share no
# character in either engine, are known to be apart ("\w+\s\w+\s\w+" splits its text one way only).
_SPACES_NON_ASCII = ((0x85, 0x85), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A), (0x2028, 0x2029),
                     (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000), (0xFEFF, 0xFEFF))
# Unicode digits and letters: every other non-ASCII character (over-approximated).
_NON_ASCII = tuple((low, high) for low, high in zip(
    [0x80] + [high + 1 for _, high in _SPACES_NON_ASCII],
    [low - 1 for low, _ in _SPACES_NON_ASCII] + [sys.maxunicode], strict=True) if low <= high)
_CATEGORIES = {
    _c.CATEGORY_DIGIT: ((0x30, 0x39),) + _NON_ASCII,
    _c.CATEGORY_WORD: ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)) + _NON_ASCII,
    _c.CATEGORY_SPACE: ((0x09, 0x0D), (0x1C, 0x20)) + _SPACES_NON_ASCII,
}


def slow_pattern_reason(pattern: str) -> str | None:
    """Why `pattern` could take exponential (or high-polynomial) time, in Chinese; None when it is safe.

    Assumes the pattern compiles (check that first with compile_pattern)."""
    try:
        tree = _parser.parse(to_python(pattern))
    except (re.error, RecursionError, OverflowError):
        return None   # compile_pattern reports it
    return _Shapes().sequence(list(tree), repeated=False)


class _Shapes:
    """Walks a parse tree; `repeated` says whether the items sit inside a part that repeats more than once."""

    def sequence(self, items: list, repeated: bool) -> str | None:
        for op, value in items:
            reason = self.item(op, value, repeated)
            if reason:
                return reason
        return _side_by_side(items)

    def item(self, op, value, repeated: bool) -> str | None:
        if op in _REPEATS:
            low, high, body = value
            if repeated and low != high:
                return "重复的分组中又含有数量不定的重复（如 (a+)+ 或 (a*)*）"
            # A repeat whose rounds can each match their text one way only ("(\.[a-z]+)+", see _pinned) cannot
            # multiply the ways: its body is checked as if not repeated.
            return self.sequence(list(body), repeated or (high > 1 and not _pinned(list(body))))
        if op is _c.BRANCH:
            branches = [list(b) for b in value[1]]
            if repeated and _overlapping(branches):
                return "重复的分组中有开头可能相同的选项（如 (a|ab)* 或 (a|a)*）"
            return next((r for b in branches if (r := self.sequence(b, repeated))), None)
        for body in _bodies(op, value):
            reason = self.sequence(body, repeated)
            if reason:
                return reason
        return None


def _bodies(op, value) -> list[list]:
    """The sub-sequences of a group, an assertion or a conditional."""
    if op is _c.SUBPATTERN:
        return [list(value[3])]
    if op in (_c.ASSERT, _c.ASSERT_NOT):
        return [list(value[1])]
    if op is _c.ATOMIC_GROUP:
        return [list(value)]
    if op is _c.GROUPREF_EXISTS:
        return [list(part) for part in value[1:] if part is not None]
    return []


def _overlapping(branches: list[list]) -> bool:
    """Two alternatives can start with the same character, or one can match nothing."""
    firsts = []
    for branch in branches:
        chars, nullable = _first(branch)
        if nullable:
            return True
        if any(_intersect(chars, other) for other in firsts):
            return True
        firsts.append(chars)
    return False


def _side_by_side(items: list) -> str | None:
    """Three or more unbounded quantifiers that can all match one same character, with nothing between them that
    fixes where one ends and the next begins: only optional parts ("\\d+\\d+\\d+", "a*b?a*a*"), or required ones
    the quantifier before them can match too (".*a.*a.*b", "^.+@.+\\..+$", "[a-z]+a[a-z]+a[a-z]+", each of which
    took seconds to minutes on 400–2,000 characters): the time grows with the cube (or more) of the length. A
    required part the quantifier before it cannot match ("\\d+-\\d+-\\d+", "\\w+\\s\\w+\\s\\w+") fixes the
    boundary and ends the run."""
    run: list[tuple] = []
    for op, value in _flat(items):
        if op in _REPEATS and value[1] > 64:
            run.append(_first(list(value[2]))[0])
        else:
            chars, optional = _first([(op, value)])
            if not optional and not (run and _intersect(chars, run[-1])):
                run = []
                continue
        if len(run) >= 3 and _most_sharing(run) >= 3:
            return "有三个以上可匹配同一字符的数量不定的重复紧挨在一起（如 \\d+\\d+\\d+）"
    return None


def _pinned(body: list) -> bool:
    """Every round of the repeat matches its text one way only: the body is a row of single-character items
    (each maybe repeated), of character sets no two of which share a character, that starts or ends with a
    required one, as in "\\.[a-z]+" or "[a-z]+-". The separator fixes where each round begins (or ends), and the
    disjoint sets fix which item takes each character."""
    flat = _flat(body)
    sets = []
    for op, value in flat:
        if op in _REPEATS and len(_flat(list(value[2]))) == 1:
            op, value = _flat(list(value[2]))[0]
        if op not in (_c.LITERAL, _c.IN):
            return False
        sets.append(_first_of(op, value)[0])
    if any(_intersect(a, b) for i, a in enumerate(sets) for b in sets[i + 1:]):
        return False
    return bool(flat) and any(edge[0] in (_c.LITERAL, _c.IN) for edge in (flat[0], flat[-1]))


def _flat(items: list) -> list:
    """Plain groups opened up, so "(\\d+)(\\d+)(\\d+)" reads as the run it is."""
    out = []
    for op, value in items:
        if op is _c.SUBPATTERN:
            out += _flat(list(value[3]))
        else:
            out.append((op, value))
    return out


def _most_sharing(sets: list[tuple]) -> int:
    """How many of the character sets contain one same character (at most)."""
    starts = [low for chars in sets for low, _ in chars]
    return max((sum(any(low <= c <= high for low, high in chars) for chars in sets) for c in starts), default=0)


def _first(items: list) -> tuple[tuple, bool]:
    """(characters a match of `items` can start with, as ranges; whether it can match the empty string)."""
    chars: list = []
    for op, value in items:
        here, nullable = _first_of(op, value)
        chars += here
        if not nullable:
            return tuple(chars), False
    return tuple(chars), True


def _first_of(op, value) -> tuple[list, bool]:
    if op is _c.LITERAL:
        return [(value, value)], False
    if op is _c.IN:
        return list(_class_ranges(value)), False
    if op is _c.NOT_LITERAL:
        return list(_complement([(value, value)])), False
    if op is _c.ANY:
        return list(_EVERY), False
    if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
        return [], True
    if op in _REPEATS:
        chars, nullable = _first(list(value[2]))
        return list(chars), nullable or value[0] == 0
    if op is _c.SUBPATTERN:
        chars, nullable = _first(list(value[3]))
        return list(chars), nullable
    if op is _c.BRANCH:
        found = [_first(list(branch)) for branch in value[1]]
        return [r for chars, _ in found for r in chars], any(nullable for _, nullable in found)
    return list(_EVERY), True   # back-references, conditionals, anything new: assume the worst


def _class_ranges(members) -> tuple:
    ranges, negate = [], False
    for op, value in members:
        if op is _c.NEGATE:
            negate = True
        elif op is _c.LITERAL:
            ranges.append((value, value))
        elif op is _c.RANGE:
            ranges.append(value)
        elif op is _c.CATEGORY and value in _CATEGORIES:
            ranges += _CATEGORIES[value]
        else:
            return _EVERY   # a negated category or anything unusual: any character
    return _complement(ranges) if negate else tuple(ranges)


def _complement(ranges: list) -> tuple:
    """The characters a negated class of literals and ranges ("[^@]", "[^0-9,]") matches: all the others."""
    out, start = [], 0
    for low, high in sorted(ranges):
        if low > start:
            out.append((start, low - 1))
        start = max(start, high + 1)
    if start <= sys.maxunicode:
        out.append((start, sys.maxunicode))
    return tuple(out)


def _intersect(a: tuple, b: tuple) -> bool:
    return any(low_a <= high_b and low_b <= high_a for low_a, high_a in a for low_b, high_b in b)
