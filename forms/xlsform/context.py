"""What the conversion of one XLSForm shares: the label language, the list of what was not converted."""
from __future__ import annotations

from dataclasses import dataclass, field

from .model import Unconverted

_YES = {"yes", "true", "true()", "1"}
_NO = {"no", "false", "false()", "0"}


@dataclass
class Question:
    """A converted question: its schema in our subset, plus what the object level still needs."""
    xls_name: str
    schema: dict
    row: int | None
    ui: dict = field(default_factory=dict)
    required: bool = False
    relevant: str | None = None
    checkbox: bool = False        # boolean shown as a checkbox (from `acknowledge`)
    name: str = ""                # the property name (set by the object it belongs to)


class Context:
    """What the whole import shares: the label language and the list of what was not converted."""

    def __init__(self, language: str | None, default_language: str | None):
        self.language = language
        self.default_language = default_language
        self.unconverted = []

    def text(self, value) -> str | None:
        if value is None or isinstance(value, str):
            return value
        for key in (self.language, self.default_language, "default"):
            if key in value:
                return value[key]
        return next(iter(value.values()), None)

    def skip(self, row, name, reason, column="type"):
        self.unconverted.append(Unconverted(reason=reason, row=row, name=name, column=column))


def yes_no(value, ctx: Context, row, name, column: str) -> bool:
    word = str(value or "").strip().lower()
    if word in _YES:
        return True
    if word and word not in _NO:
        ctx.skip(row, name, f"{column} 表达式“{value}”无法转换，按“否”处理", column)
    return False
