"""`${name}` references inside labels and hints.

XLSForm lets a label quote another answer ("合计：${total}"). A reference to a question that is not in the form —
one the import could not convert (a `calculate`, say), or one removed in the builder — would make pyxform (and so
ODK and Kobo) refuse the exported spreadsheet. Such references are replaced by the bare name in brackets
(`〔total〕`) and listed, on import and on export alike; references to renamed questions follow the new name.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator

REFERENCE = re.compile(r"\$\{([^{}\s]{1,200})\}")
TEXT_KEYS = ("title", "description")


def field_names(schema: dict) -> set[str]:
    """Every property name of the form, groups and repeats included."""
    names: set[str] = set()
    for _path, field in _fields(schema, ""):
        names.add(_path.rsplit(".", 1)[-1])
    return names


def _fields(obj: dict, prefix: str) -> Iterator[tuple[str, dict]]:
    for name, field in (obj.get("properties") or {}).items():
        if not isinstance(field, dict):
            continue
        path = f"{prefix}{name}"
        yield path, field
        if field.get("type") == "object":
            yield from _fields(field, path + ".")
        items = field.get("items")
        if field.get("type") == "array" and isinstance(items, dict) and items.get("type") == "object":
            yield from _fields(items, path + ".")


def resolve(schema: dict, *, known: set[str], renamed: dict[str, str] | None = None,
            lost: Callable[[str, str, str], None]) -> None:
    """Rewrite, in place, every reference in the titles and descriptions of `schema` (the form's own and each
    field's): to its new name when `renamed` has it, unchanged when `known` has it, else to `〔name〕`, calling
    `lost(path, reason, column)` for each."""
    renamed = renamed or {}

    def rewrite(text: str, path: str, key: str) -> str:
        def one(match: re.Match) -> str:
            name = match.group(1)
            target = renamed.get(name, name)
            if target in known:
                return "${" + target + "}"
            lost(path, f"{'标签' if key == 'title' else '提示'}中引用的字段“{name}”不在表单中，已改为“〔{name}〕”",
                 "label" if key == "title" else "hint")
            return f"〔{name}〕"
        return REFERENCE.sub(one, text)

    targets = [("", schema), *_fields(schema, "")]
    for path, field in targets:
        for key in TEXT_KEYS:
            if isinstance(field.get(key), str) and "${" in field[key]:
                field[key] = rewrite(field[key], path, key)
