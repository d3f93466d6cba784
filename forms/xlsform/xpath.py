"""A small XPath 1.0 subset as XLSForm writes it: a tokenizer and a recursive-descent parser.

Enough for `relevant` and `constraint` cells: `${name}` and `../name` references, `.`, string and
number literals, function calls, `or`, `and`, `=`, `!=`, `<`, `<=`, `>`, `>=`, `+`, `-`, `*`, `div`,
`mod` and unary minus, with XPath's precedence. Anything else (absolute paths, predicates, `|`) is a
`XPathError` with a Chinese reason, so the caller can list the cell as not converted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


class XPathError(ValueError):
    """An expression outside the subset; the message says why, in Chinese."""


@dataclass(frozen=True)
class Num:
    value: int | float


@dataclass(frozen=True)
class Str:
    value: str


@dataclass(frozen=True)
class Ref:
    name: str            # ${name} or ../name: a field of the same object


@dataclass(frozen=True)
class Dot:
    pass                 # `.`: the field the constraint belongs to


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple


@dataclass(frozen=True)
class Bin:
    op: str              # or, and, =, !=, <, <=, >, >=, +, -, *, div, mod
    left: object
    right: object


@dataclass(frozen=True)
class Minus:
    operand: object


_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<ref>\$\{(?P<refname>[^}\s]+)\})
  | (?P<parent>\.\./(?P<parentname>[A-Za-z_][\w.-]*))
  | (?P<number>\d+(?:\.\d*)?|\.\d+)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<op>!=|<=|>=|=|<|>|\+|-|\*|\(|\)|,)
  | (?P<dot>\.(?![.\w]))
  | (?P<name>[A-Za-z_][\w.:-]*)
""", re.VERBOSE)

_WORD_OPS = {"or", "and", "div", "mod"}


@dataclass(frozen=True)
class Token:
    kind: str            # ref, number, string, op, dot, name, end
    text: str
    value: object = None


def tokenize(text: str) -> list[Token]:
    tokens, at = [], 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if not match:
            raise XPathError(f"无法识别“{text[at:at + 12]}”")
        at = match.end()
        kind = next(k for k in ("space", "ref", "parent", "number", "string", "op", "dot", "name")
                    if match.group(k) is not None)
        raw = match.group(kind)
        if kind == "space":
            continue
        if kind == "ref":
            tokens.append(Token("ref", raw, match.group("refname")))
        elif kind == "parent":
            tokens.append(Token("ref", raw, match.group("parentname")))
        elif kind == "number":
            tokens.append(Token("number", raw, float(raw) if "." in raw else int(raw)))
        elif kind == "string":
            tokens.append(Token("string", raw, raw[1:-1]))
        elif kind == "name" and raw in _WORD_OPS:
            tokens.append(Token("op", raw))
        else:
            tokens.append(Token(kind, raw))
    tokens.append(Token("end", ""))
    return tokens


_LEVELS = [("or",), ("and",), ("=", "!="), ("<", "<=", ">", ">="), ("+", "-"), ("*", "div", "mod")]


class _Parser:
    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.at = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.at]

    def take(self) -> Token:
        token = self.token
        self.at += 1
        return token

    def expect(self, text: str):
        if self.token.kind != "op" or self.token.text != text:
            raise XPathError(f"此处应为“{text}”" + (f"，而不是“{self.token.text}”" if self.token.text else ""))
        self.take()

    def binary(self, level: int = 0):
        if level == len(_LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.token.kind == "op" and self.token.text in _LEVELS[level]:
            op = self.take().text
            left = Bin(op, left, self.binary(level + 1))
        return left

    def unary(self):
        if self.token.kind == "op" and self.token.text == "-":
            self.take()
            operand = self.unary()
            return Num(-operand.value) if isinstance(operand, Num) else Minus(operand)
        return self.primary()

    def primary(self):
        token = self.take()
        if token.kind == "number":
            return Num(token.value)
        if token.kind == "string":
            return Str(token.value)
        if token.kind == "ref":
            return Ref(token.value)
        if token.kind == "dot":
            return Dot()
        if token.kind == "op" and token.text == "(":
            inner = self.binary()
            self.expect(")")
            return inner
        if token.kind == "name" and self.token.text == "(":
            return self.call(token.text)
        if token.kind == "end":
            raise XPathError("表达式不完整")
        raise XPathError(f"不支持“{token.text}”")

    def call(self, name: str) -> Call:
        self.expect("(")
        args = []
        if not (self.token.kind == "op" and self.token.text == ")"):
            args.append(self.binary())
            while self.token.kind == "op" and self.token.text == ",":
                self.take()
                args.append(self.binary())
        self.expect(")")
        return Call(name, tuple(args))


MAX_LENGTH = 2000


def parse(text: str):
    """The expression tree of `text`; XPathError when it is outside the subset."""
    if len(text) > MAX_LENGTH:
        raise XPathError(f"表达式超过{MAX_LENGTH}个字符")
    parser = _Parser(text)
    try:
        tree = parser.binary()
    except RecursionError:
        raise XPathError("括号嵌套过深") from None
    if parser.token.kind != "end":
        raise XPathError(f"多余的“{parser.token.text}”")
    return tree


def literal(value) -> str:
    """An XPath literal for a string or number (strings quoted with ' unless they contain it)."""
    if isinstance(value, bool):
        raise TypeError("booleans have no XPath literal here")
    if isinstance(value, (int, float)):
        return repr(value)
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    raise ValueError("an XPath 1.0 string cannot contain both quote characters")
