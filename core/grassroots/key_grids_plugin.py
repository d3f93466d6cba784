"""重点网格 and 帮办实事 on the dashboard (小兰民情): the `dashboard_panels` answers of the key grids held by party
secretaries (`minqing.core.grassroots.key_grids`: holder, open cases, colour trend since assignment) and of the 帮办实事 ledger
(`minqing.core.grassroots.practical_matters`: per village and per owner). An internal plugin, so disabling it removes both
panels; the pages of the work end and of 小兰民情 stay."""
from __future__ import annotations

from .. import city
from . import key_grids, practical_matters
from ..hooks import hookimpl

MINQING_TITLE = "重点网格与帮办实事"
MINQING_DESCRIPTION = "驾驶舱面板：党组织书记包抓的重点网格（包抓人、在办事件、颜色变化），帮办实事按村（社区）和负责人统计。"
ROWS = 100


def key_grid_panel(session, viewer) -> dict:
    rows = key_grids.key_grids_for(session, viewer)
    improved = sum(1 for row in rows if row.trend == "improved")
    blocks = [{"text": f"党组织书记包抓重点网格 {len(rows)} 个，其中自包抓以来颜色好转 {improved} 个。"},
              {"note": "颜色变化：设为重点网格时的颜色 → 现在的颜色；网格转为蓝色后仍是重点网格，显示为好转。"}]
    if rows:
        blocks.append({"table": {"id": "key-grids", "columns": ["网格", "包抓人", "在办事件", "颜色变化", "趋势"],
                                 "rows": [[row.grid_name, row.holder_name, row.open_cases, row.colour_change,
                                           row.trend_title] for row in rows[:ROWS]]}})
    return {"key": "key_grids", "title": "重点网格", "count": len(rows), "order": 56, "blocks": blocks}


def matter_panel(session, viewer, now) -> dict:
    today = city.today(session, now)
    tallies = practical_matters.tallies(session, viewer, today, limit=ROWS)
    counted, villages, owners = tallies.totals, tallies.villages, tallies.owners
    total = counted.total
    blocks = [{"text": f"帮办实事 {total} 件，已办结 {counted.done} 件，逾期未办结 {counted.overdue} 件。"}]

    def table(key, title, tallies, name):
        return {"table": {"id": key, "columns": [title, "承诺", "办理中", "已办结", "无法办理", "逾期"],
                          "rows": [[name(t), t.promised, t.in_progress, t.done, t.cannot, t.overdue]
                                   for t in tallies]}}

    if villages:
        blocks.append(table("matters-villages", "村（社区）", villages, lambda t: t.name))
        blocks.append(table("matters-owners", "负责人", owners, lambda t: t.name))
    return {"key": "practical_matters", "title": "帮办实事", "count": total, "order": 57, "blocks": blocks}


@hookimpl
def dashboard_panels(viewer, session, now):
    return [key_grid_panel(session, viewer), matter_panel(session, viewer, now)]
