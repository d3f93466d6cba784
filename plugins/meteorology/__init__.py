"""气象 (meteorology): the 气象灾害预警信息员 theme, and a page that lists the warnings in force with how far
each has been relayed.

The page answers the question the township's disaster-prevention officer asks when a warning comes out: which
villages have passed it on, and to how many households. Each viewer counts only the relays they may see (a
township its own villages), and only aggregates are shown (no names or phone numbers), so nothing needs masking.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import Select, select

from minqing.core.hooks import hookimpl
from minqing.core.models import Case, utcnow

from .. import theme_files

MINQING_TITLE = "气象 · 气象灾害预警"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "气象灾害预警信息员主题和预警信息页面。"

RELAY_THEME = "meteorology.warning_relay"
LEVELS = ("红色", "橙色", "黄色", "蓝色")  # most severe first
WINDOW = dt.timedelta(days=7)


@hookimpl
def register_themes():
    return theme_files.load(__name__)  # fresh documents: the caller may annotate what it is given


@hookimpl
def web_blueprints():
    from .pages import make_blueprint  # Flask is imported only when the web application asks for pages

    return [make_blueprint()]


def recent_warnings(session, now: dt.datetime | None = None,
                    restrict: Callable[[Select], Select] = lambda statement: statement) -> list[dict]:
    """Warnings relayed in the last week, one row per (signal, level, issue time), most severe and newest first.
    `restrict` limits the relays counted (a page passes the viewer's scope)."""
    since = (now or utcnow()) - WINDOW
    rows: dict[tuple, dict] = {}
    statement = select(Case.region_code, Case.form_data).where(Case.theme_key == RELAY_THEME, Case.created_at >= since)
    for region_code, data in session.execute(restrict(statement)):
        data = data or {}
        if not data.get("warning_type") or data.get("warning_level") not in LEVELS:
            continue
        key = (data["warning_type"], data["warning_level"], data.get("issued_at", ""))
        row = rows.setdefault(key, {"warning_type": key[0], "warning_level": key[1], "issued_at": key[2],
                                    "regions": set(), "households": 0, "evacuated": 0, "disasters": 0})
        row["regions"].add(region_code)
        row["households"] += int(data.get("households_notified") or 0)
        row["evacuated"] += int(data.get("evacuated") or 0)
        row["disasters"] += 1 if data.get("disaster_observed") else 0
    result = [{**row, "regions": len(row["regions"])} for row in rows.values()]
    result.sort(key=lambda row: row["issued_at"], reverse=True)
    result.sort(key=lambda row: LEVELS.index(row["warning_level"]))
    return result
