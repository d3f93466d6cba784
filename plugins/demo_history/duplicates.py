"""重复件 in the demo city: a few problems reported twice or three times from the same place, hours apart, in the
demo grid worker's grid (so the grid worker, the command posts above it and the demo citizen all see them) —
two groups merged into their first report, one merge undone, and one pair left for a dispatcher to decide."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from minqing import workflows
from minqing.core.actors import actor_for
from minqing.core.models import Account, Grid
from minqing.workflows import duplicates

HOUR = dt.timedelta(hours=1)
# (title, description) of the first report and of the later ones; offsets (lon, lat degrees) of about 20–60 m
GROUPS = [   # the category code each problem is filed under (one that fits it: a 井盖 is 供水's, a heap 城管's)
    ("5304", "小区门口井盖缺失", "小区东门人行道上的井盖不见了，晚上路过很危险，请尽快处理",
     [("井盖丢了", "东门人行道井盖缺失，已有老人差点踩空"), ("小区门口井盖没有了", "人行道上井盖缺失很危险")],
     30, "merge"),
    ("1004", "路边杂物垃圾乱堆", "菜市场北侧路边堆了三天的废纸箱和烂菜叶没人清，气味很大",
     [("菜市场旁杂物乱堆", "北侧路边纸箱烂菜堆了好几天了，味道很重")], 10, "undo"),
    ("1002", "饭馆桌椅摆上人行道", "巷子口的饭馆晚上把桌椅摆到人行道上，行人只能走机动车道",
     [("饭馆门口占道摆桌", "巷子口饭馆的桌子又摆到人行道上了")], 5, "leave"),
]
OFFSETS = [(0.0003, 0.0001), (-0.0002, 0.0004), (0.0005, -0.0002)]


def seed_duplicates(platform, session, actor, candidates, now: dt.datetime) -> None:
    """`candidates`: the themes with categories; each group goes to the category its code names."""
    worker = session.scalar(select(Account).where(Account.username == "gridworker"))
    citizen = session.scalar(select(Account).where(Account.username == "citizen"))
    grid = session.get(Grid, next((grant.grid_id for grant in worker.grants if grant.grid_id), None)) \
        if worker is not None else None
    if grid is None:
        return
    from shapely.geometry import shape   # only when the demo is built

    point = shape(grid.geometry).representative_point()
    reporters = [actor_for(session, account, origin="demo") for account in (worker, citizen) if account is not None]
    for number, (code, title, text, again, hours_ago, fate) in enumerate(GROUPS):
        found = category_of(candidates, code)
        if found is None:
            continue
        theme, category = found
        lon, lat = point.x + 0.002 * number, point.y
        if platform.locator().locate(lon, lat) is None:
            lon, lat = point.x, point.y
        first_at = now - hours_ago * HOUR
        first = _report(platform, session, reporters[0], theme, category, title, text, lon, lat, "grid_worker",
                        first_at, f"demo-duplicate-{number}-0")
        later = []
        for index, (title_again, text_again) in enumerate(again, start=1):
            reporter = reporters[-1] if index == 1 else actor
            source = "citizen" if reporter is not actor and len(reporters) > 1 else "hotline"
            d_lon, d_lat = OFFSETS[index % len(OFFSETS)]
            later.append(_report(platform, session, reporter, theme, category, title_again, text_again,
                                 lon + d_lon, lat + d_lat, source, first_at + index * 2 * HOUR,
                                 f"demo-duplicate-{number}-{index}"))
        if fate == "leave":
            continue
        for index, case in enumerate(later, start=1):
            duplicates.merge(platform, session, case, first, actor, reason="同一地点同一问题，合并办理",
                             now=first_at + (index * 2 + 1) * HOUR)
        if fate == "undo":
            duplicates.undo(platform, session, later[0], actor, reason="现场核实为相邻两处垃圾点，分别办理",
                            now=first_at + 4 * HOUR)
        elif fate == "merge":   # the master moves on; its duplicates follow
            workflows.transition(platform, session, first, "accept", actor, {"comment": "已受理，重复反映已合并"},
                                 now=first_at + 6 * HOUR)


def _report(platform, session, reporter, theme, category, title, text, lon, lat, source, at, client_id):
    return workflows.report_case(
        platform, session, reporter, theme_key=theme.key, title=title, description=text, lon=round(lon, 6),
        lat=round(lat, 6), category=category.get("parent", ""), subcategory=category["code"], source=source,
        client_id=client_id, now=at)


def category_of(candidates, code: str):
    """(theme, category) of the category `code`; None when no enabled theme has it (its plugin is disabled)."""
    for theme in candidates:
        for category in theme.categories:
            if category["code"] == code:
                return theme, category
    return None
