"""城管 (urban management): the 占道经营 theme, and routing of street-vending cases to district teams.

In 城关区 the district's own enforcement bureau (城关区城市管理综合执法局) handles street vending directly: it
patrols the night markets and main streets every day, so sending those cases through the city bureau only adds a
hop. Cases of other categories, and street vending elsewhere, follow the theme's category routing table.
"""
from __future__ import annotations

from sqlalchemy import select

from minqing.core.hooks import hookimpl
from minqing.core.models import Grid

from .. import theme_files

MINQING_TITLE = "城管 · 占道经营"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "占道经营主题，并把流动摊贩事件分拨到区县执法队。"

THEMES = theme_files.load(__name__)
DISTRICT_THEMES = theme_files.load(__name__, "district_themes.json")
# Categories a district team takes over: street vending in all its forms.
STREET_VENDING_TITLES = {"占道经营", "店外经营", "流动摊贩", "夜市摊位越线经营"}
STREET_VENDING = theme_files.category_codes(THEMES + DISTRICT_THEMES, STREET_VENDING_TITLES)
# County-level division code → the district team (a department of its own, declared below).
DISTRICT_TEAMS = {
    "620102": {"key": "urban_management_chengguan", "name": "兰州市城关区城市管理综合执法局",
               "short_name": "城关城管", "kind": "government", "parent": "urban_management",
               "description": "城关区占道经营、夜市摊位由区执法局直接处置"},
}


@hookimpl
def register_departments():
    return [dict(team) for team in DISTRICT_TEAMS.values()]


@hookimpl
def register_themes():
    # fresh documents: the caller may annotate what it is given
    return theme_files.load(__name__) + theme_files.load(__name__, "district_themes.json")


@hookimpl
def route_case(case, session):
    # The reporting pages put the category's code in `subcategory` (and its major class in `category`);
    # other channels may put the code in `category`: either is accepted.
    if not {case.category, case.subcategory} & STREET_VENDING:
        return None
    region_code = case.region_code or _grid_region(session, case.grid_id)
    team = DISTRICT_TEAMS.get((region_code or "")[:6])
    return team["key"] if team else None


def _grid_region(session, grid_id) -> str:
    """A case located by its grid only: the grid tells the region."""
    if grid_id is None:
        return ""
    return session.scalar(select(Grid.region_code).where(Grid.id == grid_id)) or ""
