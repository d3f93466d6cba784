"""户户见干部 on the dashboard (小兰民情): the `dashboard_panels` answer of the cadres' household-visit coverage
(`minqing.core.grassroots.household_visits`), an internal plugin like the data freshness, so disabling it removes the panel."""
from __future__ import annotations

from sqlalchemy import select

from ..hooks import hookimpl
from ..models import POST_TITLES, Region
from . import household_visits

MINQING_TITLE = "户户见干部"
MINQING_DESCRIPTION = "本期有干部走访过的户占全部户的比例：按县区、乡镇（街道）、村（社区）和每名干部。"
ROWS = 100


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def panel_blocks(session, viewer, now) -> tuple[int, list[dict]]:
    """(households seen by a cadre this period, the panel's blocks) as `viewer` sees it."""
    current = household_visits.period(session, now)
    villages = household_visits.coverage(session, by="village", viewer=viewer, current=current)
    townships = household_visits.roll_up(villages, "township")   # added up, not queried again
    counties = household_visits.roll_up(villages, "county")
    cadres = household_visits.cadre_coverage(session, viewer=viewer, current=current, lowest=ROWS)   # the worst
    # the worst of each level, the only rows shown: their names only are looked up
    worst = {level: sorted(rows, key=lambda row: (row.rate if row.rate is not None else 2, row.key))[:ROWS]
             for level, rows in (("counties", counties), ("townships", townships), ("villages", villages))}
    names = dict(session.execute(select(Region.code, Region.name).where(
        Region.code.in_([row.key for rows in worst.values() for row in rows]))).all())
    region_names = dict(session.execute(select(Region.id, Region.name).where(
        Region.id.in_({row.region_id for row in cadres}))).all())
    households = sum(row.households for row in counties)
    seen = sum(row.seen for row in counties)
    blocks = [{"text": f"{current.title}：共 {households} 户，干部走访 {seen} 户，"
                       f"户户见干部覆盖率 {percent(seen / households if households else None)}。"},
              {"note": "覆盖率 = 本期有干部（村两委、包村干部、党组织书记、村民小组长）走访过的户 ÷ 户数；"
                       "网格员的走访不计入。"}]

    def table(key, title, rows):
        return {"table": {"id": key, "columns": [title, "户数", "干部走访", "覆盖率"],
                          "rows": [[names.get(row.key, row.key), row.households, row.seen, percent(row.rate)]
                                   for row in rows]}}

    blocks += [table("coverage-counties", "县（区）", worst["counties"]),
               table("coverage-townships", "乡镇（街道）", worst["townships"]),
               table("coverage-villages", "村（社区）", worst["villages"])]
    if cadres:
        blocks.append({"table": {"id": "coverage-cadres", "columns": ["干部", "职务", "所在", "负责户数", "本人走访",
                                                                      "覆盖率"],
                                 "rows": [[row.name, POST_TITLES.get(row.post, row.post),
                                           region_names.get(row.region_id, ""), row.households, row.seen,
                                           percent(row.rate)]
                                          for row in cadres]}})
    return seen, blocks


@hookimpl
def dashboard_panels(viewer, session, now):
    seen, blocks = panel_blocks(session, viewer, now)
    return [{"key": "cadre_coverage", "title": "户户见干部", "count": seen, "order": 55, "blocks": blocks}]


@hookimpl
def register_commands(cli):
    from .cli import visits

    cli.add_command(visits)
