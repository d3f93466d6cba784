"""冬季除雪保畅: an example of a complete third-party Minqing plugin.

It brings a department of its own, a business theme (from the JSON file next to it), a routing rule that sends
icy roads on bridges to the bridge maintenance team, a dashboard figure and a page of open icy roads (pages.py).
See docs/plugins.md.
"""
import json
from importlib.resources import files

from sqlalchemy import func, select

from minqing.core import scope
from minqing.core.hooks import hookimpl
from minqing.core.models import Case

THEME_KEY = "winter_service.icy_roads"


@hookimpl
def register_departments():
    return [
        {"key": "winter_service", "name": "兰州市冬季除雪保畅指挥部", "short_name": "除雪保畅"},
        {"key": "winter_bridges", "name": "兰州市桥梁除冰养护队", "short_name": "桥梁除冰"},
    ]


@hookimpl
def register_themes():
    return [json.loads(files(__package__).joinpath("icy_roads.json").read_text(encoding="utf-8"))]


@hookimpl
def route_case(case, session):
    """Icy bridges go to the bridge team; everything else of this theme follows the theme's table."""
    if case.theme_key == THEME_KEY and (case.form_data or {}).get("road_kind") == "桥梁":
        return "winter_bridges"
    return None


@hookimpl
def dashboard_figures(viewer, session):
    statement = scope.restrict(select(func.count()).select_from(Case).where(Case.theme_key == THEME_KEY,
                                                                        Case.closed_at.is_(None)), Case, viewer)
    return [{"key": "snow.open", "title": "未办结的道路结冰事件", "value": session.scalar(statement), "unit": "件",
             "department": "winter_service"}]


@hookimpl
def web_blueprints():
    from .pages import pages  # Flask is imported only when the web application asks for pages

    return [pages]
