"""XLSForm `constraint` cells <-> JSON Schema keywords of the field itself.

    . >= 0 and . <= 120          minimum 0, maximum 120   (> and < give exclusiveMinimum/-Maximum)
    . mod 5 = 0                  multipleOf 5
    string-length(.) <= 20       maxLength 20              (>= minLength)
    regex(., '^[0-9]{6}$')       pattern
    count-selected(.) <= 3       maxItems 3 (select_multiple; >= minItems)

Only `and` of such tests: JSON Schema keywords of one field are a conjunction, so `or` (and any
other function or a reference to another field) cannot be expressed and raises XPathError.
"""
from __future__ import annotations

from .xpath import Bin, Call, Dot, Num, Str, XPathError, literal, parse

NUMERIC = ("integer", "number")
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}
_NUMBER_BOUNDS = {">=": "minimum", ">": "exclusiveMinimum", "<=": "maximum", "<": "exclusiveMaximum"}
_ORDER = ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "multipleOf",
          "minLength", "maxLength", "pattern", "minItems", "maxItems")
KEYWORDS = frozenset(_ORDER)


def constraint_keywords(text: str, kind: str) -> dict:
    """The keywords a constraint cell means for a field of `kind` (string, integer, number, choices)."""
    return _keywords(parse(text), kind)


def _keywords(tree, kind: str) -> dict:
    if isinstance(tree, Bin) and tree.op == "and":
        left, right = _keywords(tree.left, kind), _keywords(tree.right, kind)
        for key in left.keys() & right.keys():
            if left[key] != right[key]:
                raise XPathError(f"同一限制“{key}”出现了两个不同的值")
        return {**left, **right}
    if isinstance(tree, Bin) and tree.op == "or":
        raise XPathError("“or”（或）组合的约束无法表示")
    if isinstance(tree, Call) and tree.name == "regex":
        if kind != "string" or len(tree.args) != 2 or tree.args[0] != Dot() or not isinstance(tree.args[1], Str):
            raise XPathError("regex() 只支持文本题的 regex(., '表达式')")
        return {"pattern": tree.args[1].value}
    if isinstance(tree, Bin) and tree.op in _FLIP:
        return _comparison(tree, kind)
    raise XPathError("只支持与本题取值的比较、string-length()、regex() 和 count-selected()")


def _comparison(tree: Bin, kind: str) -> dict:
    subject, op, bound = tree.left, tree.op, tree.right
    if isinstance(subject, Num):
        subject, op, bound = bound, _FLIP[op], subject
    if not isinstance(bound, Num) or op == "!=":
        raise XPathError("只能与数字比较（不能与其他题目或文本比较）")
    n = bound.value
    if subject == Dot() and kind in NUMERIC and op in _NUMBER_BOUNDS:
        return {_NUMBER_BOUNDS[op]: n}
    if (isinstance(subject, Bin) and subject.op == "mod" and subject.left == Dot() and kind in NUMERIC
            and isinstance(subject.right, Num) and subject.right.value > 0 and op == "=" and n == 0):
        return {"multipleOf": subject.right.value}
    if isinstance(subject, Call) and subject.args == (Dot(),) and isinstance(n, int) and n >= 0:
        low, high = {"string-length": ("minLength", "maxLength"),
                     "count-selected": ("minItems", "maxItems")}.get(subject.name, (None, None))
        if low and (kind == "string") == (subject.name == "string-length") and kind in ("string", "choices"):
            return _count_bounds(op, n, low, high)
    raise XPathError("此比较无法转换为取值限制")


def _count_bounds(op: str, n: int, low: str, high: str) -> dict:
    if op == "=":
        return {low: n, high: n}
    bounds = {">=": {low: n}, ">": {low: n + 1}, "<=": {high: n}, "<": {high: n - 1}}[op]
    if any(v < 0 for v in bounds.values()):
        raise XPathError("长度或个数不能小于0")
    return bounds


def constraint_text(keywords: dict) -> str | None:
    """The constraint cell for the constraint keywords of a field (None when it has none).

    Raises ValueError when a pattern holds both quote characters (no XPath 1.0 literal can).
    """
    parts = []
    for key in _ORDER:
        if key not in keywords:
            continue
        value = keywords[key]
        if key in _NUMBER_BOUNDS.values():
            op = next(o for o, k in _NUMBER_BOUNDS.items() if k == key)
            parts.append(f". {op} {literal(value)}")
        elif key == "multipleOf":
            parts.append(f". mod {literal(value)} = 0")
        elif key in ("minLength", "maxLength"):
            parts.append(f"string-length(.) {'>=' if key == 'minLength' else '<='} {value}")
        elif key in ("minItems", "maxItems"):
            parts.append(f"count-selected(.) {'>=' if key == 'minItems' else '<='} {value}")
        else:
            parts.append(f"regex(., {literal(value)})")
    return " and ".join(parts) or None
