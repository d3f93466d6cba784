"""热点 in the demo city: three places near the demo grid worker's grid where one kind of problem crowds together,
so the map's hotspot layer and the 研判 brief have something to show (docs/briefs.md): one that grew over the last
30 days against the 30 before, one that is new, one that is gone. About 40 cases, reported and handled through the
real workflow like the others."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from minqing import workflows
from minqing.core.models import Account, Grid

from .duplicates import category_of
from .texts import report_text

DAY = dt.timedelta(days=1)
SPREAD = 0.0008          # degrees (about 70 m) around a place's centre
# (category code, offset of the centre from the grid's point in degrees, cases in the last 30 days, the 30 before)
PLACES = [("1004", (0.004, 0.0), 9, 5),       # 杂物乱堆: grown
          ("1002", (-0.004, 0.003), 6, 0),    # 占道经营: new
          ("5304", (0.0, -0.004), 0, 7)]      # 井盖: gone


def seed_hotspots(platform, session, actor, candidates, rng, now: dt.datetime, advance) -> int:
    """Report the places' cases; `advance(case, reported_at, department)` moves each on as the demo's other cases
    are. Returns how many were reported."""
    worker = session.scalar(select(Account).where(Account.username == "gridworker"))
    grid_id = next((grant.grid_id for grant in worker.grants if grant.grid_id), None) if worker else None
    grid = session.get(Grid, grid_id) if grid_id else None
    if grid is None:
        return 0
    from shapely.geometry import shape   # only when the demo is built

    point = shape(grid.geometry).representative_point()
    locator = platform.locator()
    made = 0
    for number, (code, (d_lon, d_lat), recent, before) in enumerate(PLACES):
        found = category_of(candidates, code)
        if found is None:
            continue
        theme, category = found
        for index in range(recent + before):
            lon = point.x + d_lon + rng.uniform(-SPREAD, SPREAD)
            lat = point.y + d_lat + rng.uniform(-SPREAD, SPREAD)
            if locator.locate(lon, lat) is None:
                continue
            days = rng.uniform(0.5, 29) if index < recent else rng.uniform(31, 59)
            reported_at = now - days * DAY
            title, description = report_text(rng, theme.title, category["title"])
            case = workflows.report_case(
                platform, session, actor, theme_key=theme.key, title=title, description=description,
                lon=round(lon, 6), lat=round(lat, 6), category=category.get("parent", ""),
                subcategory=category["code"], source=rng.choice(("grid_worker", "citizen", "hotline")),
                client_id=f"demo-hotspot-{number}-{index}", now=reported_at)
            advance(case, reported_at, category.get("department") or theme.department)
            made += 1
    return made
