"""The plugins' dashboard panels (`dashboard_panels` hook), shaped for the template.

A panel of the wrong shape is left out (and logged) rather than breaking the page; each block is kept only when it
is one of the kinds the hook documents. Everything stays text: the template escapes it.
"""
from __future__ import annotations

import logging

log = logging.getLogger(__name__)
TEXT_BLOCKS = ("text", "note", "label")
DEFAULT_ORDER = 100


def _column(column) -> dict | None:
    if isinstance(column, dict) and isinstance(column.get("title"), str):
        return {"title": column["title"], "wrap": bool(column.get("wrap"))}
    return {"title": column, "wrap": False} if isinstance(column, str) else None


def _table(table) -> dict | None:
    if not isinstance(table, dict) or not isinstance(table.get("columns"), (list, tuple)):
        return None
    columns = [_column(column) for column in table["columns"]]
    rows = table.get("rows", [])
    if None in columns or not isinstance(rows, (list, tuple)) or any(
            not isinstance(row, (list, tuple)) or len(row) != len(columns) for row in rows):
        return None
    return {"id": str(table.get("id") or ""), "columns": columns, "rows": [list(row) for row in rows]}


def _block(block) -> dict | None:
    if not isinstance(block, dict) or len(block) != 1:
        return None
    (kind, value), = block.items()
    if kind in TEXT_BLOCKS and isinstance(value, str):
        return {"kind": kind, "value": value}
    if kind == "items" and isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return {"kind": kind, "value": list(value)}
    if kind == "table":
        table = _table(value)
        return None if table is None else {"kind": kind, "value": table}
    return None


def _panel(plugin: str, panel) -> dict | None:
    if not (isinstance(panel, dict) and isinstance(panel.get("key"), str) and isinstance(panel.get("title"), str)
            and isinstance(panel.get("blocks", []), (list, tuple))):
        return None
    blocks = [_block(block) for block in panel.get("blocks", [])]
    if None in blocks:
        return None
    order = panel.get("order", DEFAULT_ORDER)
    return {"plugin": plugin, "key": panel["key"], "title": panel["title"], "count": panel.get("count"),
            "section": panel.get("section") or "", "blocks": blocks,
            "order": order if isinstance(order, (int, float)) else DEFAULT_ORDER}


def collect(platform, viewer, session, now) -> list[dict]:
    """Every enabled plugin's panels, in their order (then by plugin and key, so the page is stable)."""
    shown = []
    for plugin, panel in platform.plugins.collect("dashboard_panels", platform=platform, viewer=viewer,
                                                  session=session, now=now):
        shaped = _panel(plugin, panel)
        if shaped is None:
            log.error("plugin %s answered dashboard_panels with a panel of the wrong shape; ignored: %.200r",
                      plugin, panel)
            continue
        shown.append(shaped)
    return sorted(shown, key=lambda panel: (panel["order"], panel["plugin"], panel["key"]))
