"""Read-only display of a stored document: (label path, human value) rows.

Uses the schema version the document was filled against, so old records keep their labels and
option titles. A value the schema does not know (or an option since removed) is still shown, as
it is, rather than hidden: the record is evidence of what was collected.
"""
from __future__ import annotations

import json

from . import raw
from .compiled import compiled
from .messages import number
from .model import DisplayRow
from .spec import Node
from .validation import format_path

SEPARATOR = " › "


def display(schema: dict, document: dict, ui: dict | None = None) -> list[DisplayRow]:
    rows: list[DisplayRow] = []
    _object(compiled(schema).tree(ui), document if isinstance(document, dict) else {}, (), [], rows)
    return rows


def _object(node: Node, obj: dict, labels: tuple, parts: list, rows: list):
    for child in node.children:
        if child.name not in obj:
            continue
        value, child_labels, child_parts = obj[child.name], labels + (child.title,), parts + [child.name]
        if child.kind == "group" and isinstance(value, dict):
            _object(child, value, child_labels, child_parts, rows)
        elif child.kind == "repeat" and isinstance(value, list):
            row_label = child.ui.get("ui:rowLabel", "第{n}项")
            for i, row in enumerate(value):
                if isinstance(row, dict):
                    _object(child.row, row, child_labels + (row_label.replace("{n}", str(i + 1)),),
                            child_parts + [i], rows)
        else:
            kind = "attachment" if child.kind in ("attachment", "attachments") else "text"
            rows.append(DisplayRow(SEPARATOR.join(child_labels), human(child, value),
                                   format_path(child_parts), kind))
    known = {c.name for c in node.children}
    for key, value in obj.items():
        if key not in known:  # filled under a version that had this field
            rows.append(DisplayRow(SEPARATOR.join(labels + (key,)), _plain(value),
                                   format_path(parts + [key]), "unknown"))


def human(node: Node, value) -> str:
    """How a person reads one value: option titles, 是/否, local time, lon/lat."""
    if node.kind in ("checkbox", "yesno") and isinstance(value, bool):
        return "是" if value else "否"
    if node.kind == "checkboxes" and isinstance(value, list):
        return "、".join(node.choice_label(v) or _plain(v) for v in value)
    if node.choices and not isinstance(value, (list, dict)):
        return node.choice_label(value) or _plain(value)
    if node.kind == "datetime" and isinstance(value, str):
        return raw.scalar(node, value).replace("T", " ")
    if node.kind == "geo" and isinstance(value, dict):
        return f"经度 {_plain(value.get('lon'))}，纬度 {_plain(value.get('lat'))}"
    if node.kind == "attachments" and isinstance(value, list):
        return "、".join(_plain(v) for v in value)
    return _plain(value)


def _plain(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float)):
        return number(value)
    return json.dumps(value, ensure_ascii=False)
