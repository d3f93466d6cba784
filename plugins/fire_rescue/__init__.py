"""消防救援 (fire and rescue): the 消防通道占用 theme, and a grid colour rule for fire lanes blocked again and
again.

One blocked lane is an incident; several in a month in the same grid mean the estate's management has failed,
and a fire engine would not get through when it matters. Such small grids turn yellow (red from five), so the
village committee head who answers for yellow and red grids takes it up with the property company. A medium or
large grid is judged by the shares of its small grids, as every colour rule is (`grid_tree.colours_by_share`):
blocked lanes in one estate do not colour the whole district.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from minqing.core.geo.grid_tree import colours_by_share
from minqing.core.hooks import hookimpl
from minqing.core.models import Case, utcnow

from .. import theme_files

MINQING_TITLE = "消防救援 · 消防通道占用"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "消防通道占用主题和网格着色规则。"

FIRE_LANE_THEME = "fire_rescue.fire_lane"
WINDOW = dt.timedelta(days=30)
YELLOW_FROM, RED_FROM = 2, 5


@hookimpl
def register_themes():
    return theme_files.load(__name__)  # fresh documents: the caller may annotate what it is given


@hookimpl
def grid_colours(parents, session):
    per_grid = dict(session.execute(
        select(Case.grid_id, func.count()).where(Case.theme_key == FIRE_LANE_THEME,
                                                 Case.created_at >= utcnow() - WINDOW, Case.status != "voided",
                                                 Case.grid_id.is_not(None))
        .group_by(Case.grid_id)).all())
    small = {}
    for grid_id, count in per_grid.items():
        if count >= RED_FROM:
            small[grid_id] = ("red", f"近30日消防通道占用 {count} 起")
        elif count >= YELLOW_FROM:
            small[grid_id] = ("yellow", f"近30日消防通道占用 {count} 起")
    return colours_by_share(small, parents, what="消防通道反复占用")
