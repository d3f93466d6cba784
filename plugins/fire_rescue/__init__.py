"""消防救援 (fire and rescue): the 消防通道占用 theme, and a grid colour rule for fire lanes blocked again and
again.

One blocked lane is an incident; several in a month in the same grid mean the estate's management has failed,
and a fire engine would not get through when it matters. Such grids turn yellow (red from five), so the
village committee head who answers for yellow and red grids takes it up with the property company.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from minqing.core.hooks import hookimpl
from minqing.core.models import Case, Grid, utcnow
from minqing.core.regions import within

from .. import theme_files

FIRE_LANE_THEME = "fire_rescue.fire_lane"
WINDOW = dt.timedelta(days=30)
YELLOW_FROM, RED_FROM = 2, 5


@hookimpl
def register_themes():
    return theme_files.load(__name__)  # fresh documents: the caller may annotate what it is given


@hookimpl
def grid_colour(grid, session):
    count = session.scalar(
        select(func.count()).select_from(Case)
        .where(Case.theme_key == FIRE_LANE_THEME, Case.created_at >= utcnow() - WINDOW, Case.status != "voided",
               Case.grid_id.in_(select(Grid.id).where(within(Grid.code, grid.code))))) or 0
    if count >= RED_FROM:
        return "red", f"近30日消防通道占用 {count} 起"
    if count >= YELLOW_FROM:
        return "yellow", f"近30日消防通道占用 {count} 起"
    return None
