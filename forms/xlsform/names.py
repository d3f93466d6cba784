"""XLSForm names -> property names our engine accepts (`^[A-Za-z][A-Za-z0-9_]{0,63}$`, not reserved)."""
from __future__ import annotations

import functools
import re

from ..schema_check import check_schema


@functools.cache
def acceptable(name: str) -> bool:
    """Whether the forms engine takes `name` as a property name (asks check_schema itself)."""
    return not check_schema({"type": "object", "properties": {name: {"type": "string"}}})


def valid_name(name: str) -> str:
    candidate = re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")
    if not candidate or not candidate[0].isalpha():
        candidate = "f_" + candidate
    candidate = candidate[:64]
    if not acceptable(candidate):
        candidate = candidate[:58] + "_field"
    return candidate


class Namer:
    """Hands out property names per object and remembers every rename, listing it for the user."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.renamed: dict[str, str] = {}

    def scope(self) -> _Scope:
        return _Scope(self)


class _Scope:
    def __init__(self, namer: Namer):
        self.namer, self.taken = namer, set()

    def name(self, xls_name: str, row) -> str:
        name = xls_name if acceptable(xls_name) else valid_name(xls_name)
        base, n = name, 2
        while name in self.taken:
            name = f"{base[:60]}_{n}"
            n += 1
        self.taken.add(name)
        if name != xls_name:
            self.namer.renamed[xls_name] = name
            self.namer.ctx.skip(row, xls_name, f"名称不能用作字段名（只能用英文字母开头，含字母、数字和下划线，"
                                f"且不能是保留名称），已改为“{name}”", "name")
        return name
