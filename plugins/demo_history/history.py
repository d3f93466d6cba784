"""The demo city's past year: a few thousand closed cases with their timeline (上报, 受理, 分拨, 签收, 反馈, 回访
办结), older than the live demo cases, so the dispatch suggestions have a history to learn from as a real city's
would (`minqing dispatch evaluate` on the demo: the suggestion ahead of the keyword rule).

No public service files a closed case of the past in bulk, so the rows are written here in a few statements (a
case through the engine costs ~50 ms: thousands would take minutes), in the shape the engine gives them, and the
whole import is one audit record.
"""
from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import insert, select

from minqing.core.changes import record_change
from minqing.core.models import Case, CaseEvent, Department, Grid

from .texts import report_text

CASES = 3000
OLDEST, NEWEST = 425, 61          # days before now: the year before the live demo cases
HOUR = dt.timedelta(hours=1)
RESULTS = ("已现场处置完毕", "已联系责任单位整改到位", "已清理恢复原状", "已调解，双方达成一致", "已核实并答复反映人")
STEPS = (("accept", "reported", "registered", "受理立案", (0.3, 4)),
         ("dispatch", "registered", "dispatched", "分拨交办", (0.2, 6)),
         ("take", "dispatched", "handling", "签收", (0.5, 10)),
         ("feedback", "handling", "awaiting_follow_up", "处置反馈", (3, 96)),
         ("confirm", "awaiting_follow_up", "closed", "回访确认", (1, 24)))

# The intake channel of each source (docs/channels.md): the history is written in bulk, not through intake.
CHANNELS = {"grid_worker": "work", "citizen": "citizen", "hotline": "12345"}


def seed_history(platform, session, actor, themes, seed: int, now: dt.datetime, count: int | None = None) -> int:
    """`count` (default CASES) closed cases over `themes` (registry themes with categories and the standard
    workflow)."""
    count = CASES if count is None else count
    rng = random.Random(seed * 13 + 5)
    departments = dict(session.execute(select(Department.key, Department.id)).all())
    categories = [(theme, category) for theme in themes for category in theme.categories
                  if (category.get("department") or theme.department) in departments]
    grids = session.execute(select(Grid.id, Grid.min_lon, Grid.min_lat, Grid.max_lon, Grid.max_lat)
                            .where(Grid.level == "small").order_by(Grid.id)).all()
    if not categories or not grids:
        return 0
    regions = dict(session.execute(select(Grid.id, Grid.region_code)).all())
    chosen = [rng.choice(grids) for _ in range(count)]
    lons = [rng.uniform(grid.min_lon, grid.max_lon) for grid in chosen]
    lats = [rng.uniform(grid.min_lat, grid.max_lat) for grid in chosen]
    located = platform.locator().locate_many(lons, lats)
    cases, timelines = [], []
    for index in range(count):
        grid_id = int(located[index]) if located[index] >= 0 else chosen[index].id
        lon, lat = (lons[index], lats[index]) if located[index] >= 0 else \
            ((chosen[index].min_lon + chosen[index].max_lon) / 2, (chosen[index].min_lat + chosen[index].max_lat) / 2)
        theme, category = rng.choice(categories)
        department = category.get("department") or theme.department
        title, description = report_text(rng, theme.title, category["title"])
        at = reported_at = now - dt.timedelta(days=rng.uniform(NEWEST, OLDEST))
        source = rng.choice(("grid_worker", "grid_worker", "citizen", "hotline"))
        events = [_event(at, actor, "report", None, "reported", "上报", description, {"source": source})]
        for name, before, after, step_title, (low, high) in STEPS:
            at += dt.timedelta(hours=rng.uniform(low, high))
            data, comment = {}, ""
            if name == "dispatch":
                data = {"form": {"department": department}, "department": department}
            elif name == "feedback":
                comment = rng.choice(RESULTS)
                data = {"form": {"result": comment}}
            elif name == "confirm":
                rating = rng.choices((5, 4, 3, 2, 1), (60, 20, 10, 6, 4))[0]
                data = {"form": {"rating": rating}, "rating": rating}
            events.append(_event(at, actor, name, before, after, step_title, comment, data))
        timelines.append(events)
        cases.append({"theme_key": theme.key, "theme_version": 1,
                      "category": category.get("parent", ""), "subcategory": category["code"], "title": title,
                      "description": description, "lon": round(lon, 6), "lat": round(lat, 6), "grid_id": grid_id,
                      "region_code": regions.get(grid_id, ""), "source": source, "channel": CHANNELS[source],
                      "urgency": "normal",
                      "workflow_key": "standard", "status": "closed", "department_id": departments[department],
                      "state_entered_at": at, "created_at": reported_at, "updated_at": at, "closed_at": at,
                      "form_data": {}, "client_id": f"demo-history-{seed}-{index}", "version": 1})
    ids = list(session.scalars(insert(Case).returning(Case.id, sort_by_parameter_order=True), cases))
    rows = [{"case_id": case_id, **event} for case_id, events in zip(ids, timelines, strict=True) for event in events]
    for start in range(0, len(rows), 5000):
        session.execute(insert(CaseEvent), rows[start:start + 5000])
    record_change(session, actor, "demo.history", object_type="case",
                  summary=f"生成演示历史事件 {count} 件（近一年已办结，含分拨记录）",
                  details={"cases": count, "first_id": ids[0], "last_id": ids[-1]})
    return count


def _event(at, actor, action, before, after, title, comment, data) -> dict:
    return {"at": at, "actor_account_id": actor.account_id, "actor_name": actor.name,
            "action": action, "from_status": before, "to_status": after, "comment": comment,
            "data": {"title": title, **data}, "origin": actor.origin or ""}
