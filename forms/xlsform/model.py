"""What an XLSForm import or export gives back."""
from __future__ import annotations

from dataclasses import dataclass, field


class XLSFormError(ValueError):
    """The file is not an XLSForm pyxform can read; the message says why, in Chinese."""


@dataclass(frozen=True)
class Unconverted:
    """One thing in the spreadsheet (or the schema, on export) that could not be carried over."""
    reason: str                    # in Chinese, e.g. "calculate 计算字段无法转换，已跳过"
    row: int | None = None         # survey sheet row (1 is the header row)
    name: str | None = None        # the XLSForm name (import) or our property path (export)
    column: str = "type"           # the column concerned: type, relevant, constraint, default, …

    @property
    def message(self) -> str:
        where = f"第 {self.row} 行" if self.row else ""
        what = f"字段“{self.name}”" if self.name else ""
        prefix = " ".join(p for p in (where, what) if p)
        return f"{prefix}：{self.reason}" if prefix else self.reason

    def __str__(self) -> str:
        return self.message


@dataclass
class XLSFormImport:
    title: str
    form_id: str
    schema: dict                   # passes minqing.forms.check_schema(schema, ui)
    ui: dict
    choices: dict[str, list[dict]]   # list name -> [{"name", "label"}], labels in `language`
    default_language: str | None     # the settings sheet's default_language (None when not set)
    language: str | None             # the label::<language> column used (None: plain `label`)
    unconverted: list[Unconverted] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)   # XLSForm name -> property name
    warnings: list[str] = field(default_factory=list)       # pyxform's own warnings, as it wrote them


@dataclass
class XLSFormExport:
    data: bytes                    # the .xlsx file
    unconverted: list[Unconverted] = field(default_factory=list)
