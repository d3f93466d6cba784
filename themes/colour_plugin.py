"""The default grid-colour rule (红/黄/蓝), as a built-in plugin answering the public `grid_colours` hook.

A small grid (any grid with no grid under it) is judged by what is in it: open cases past a deadline and key
persons by risk level. Three or more overdue cases or any high-risk person make it red; any overdue case or
medium-risk person yellow; otherwise blue.

A medium or large grid is judged by the shares of its small grids, so that the colour informs at every level
(taking the worst small grid made almost every large grid of a city red): red when at least
`MINQING_GRID_RED_SHARE` per cent of its small grids are red (default 20), yellow when at least
`MINQING_GRID_YELLOW_SHARE` per cent are red or yellow (default 30), otherwise blue; the reason gives the shares.
Two GROUP BY queries and one walk up the grid tree in memory, whatever the number of grids. The share rule is
`minqing.core.geo.grid_tree.colours_by_share`, which the department plugins' colour rules apply as well.

It also owns the hourly recolouring (`periodic_tasks`), so grid colours do not depend on any other plugin (the
file-theme loader used to schedule it). Registered through the ``minqing.plugins`` entry points like a
third-party plugin: ``minqing plugins disable grid_colour_rule`` leaves only the other plugins' rules.
"""
from __future__ import annotations

import collections
import os

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from minqing.core.geo.grid_tree import colours_by_share, leaves
# The share rule's settings and judgement, under the names this plugin has always given them
from minqing.core.geo.grid_tree import (DEFAULT_RED_SHARE, DEFAULT_YELLOW_SHARE, RED_SHARE_SETTING,  # noqa: F401
                                        YELLOW_SHARE_SETTING, share_setting, shares, upper_grid_colour)
from minqing.core.hooks import hookimpl
from minqing.core.models import Case, GridColour, KeyPerson, utcnow

MINQING_TITLE = "网格红黄蓝规则"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "默认的网格风险着色规则，并每小时重新着色。"

FINAL_STATUSES = ("closed", "voided")
RED_OVERDUE_CASES = 3      # this many open overdue cases make a small grid red
BLUE_REASON = "无超期未办结事件和中高风险重点人员"
RECOLOUR_EVERY = float(os.environ.get("MINQING_GRID_COLOUR_SECONDS", "3600"))
TASK_NAME = "themes.grid_colours"


def _counts_by_grid(session: Session, statement) -> dict[int, int]:
    return {grid_id: count for grid_id, count in session.execute(statement) if grid_id is not None}


def _totals(session: Session) -> dict[str, dict[int, int]]:
    """Overdue open cases, high- and medium-risk key persons, by the grid they are in."""
    now = utcnow()
    overdue = _counts_by_grid(session, select(Case.grid_id, func.count()).where(
        Case.closed_at.is_(None), Case.status.notin_(FINAL_STATUSES),
        or_(Case.due_at < now, Case.state_deadline_at < now)).group_by(Case.grid_id))
    risks = collections.defaultdict(dict)
    for grid_id, level, count in session.execute(
            select(KeyPerson.grid_id, KeyPerson.risk_level, func.count())
            .where(KeyPerson.risk_level.in_(("high", "medium"))).group_by(KeyPerson.grid_id, KeyPerson.risk_level)):
        if grid_id is not None:
            risks[level][grid_id] = count
    return {"overdue": overdue, "high": risks["high"], "medium": risks["medium"]}


def small_grid_colour(cases: int, high: int, medium: int) -> tuple[str, str]:
    reasons = [text for count, text in ((cases, f"超期未办结事件 {cases} 件"), (high, f"高风险重点人员 {high} 人"),
                                        (medium, f"中风险重点人员 {medium} 人")) if count]
    if high or cases >= RED_OVERDUE_CASES:
        return GridColour.RED.value, "；".join(reasons)
    if cases or medium:
        return GridColour.YELLOW.value, "；".join(reasons)
    return GridColour.BLUE.value, BLUE_REASON


def default_rule(session: Session, parents: dict[int, int | None]) -> dict[int, tuple[str, str]]:
    """(colour, reason) of every grid by the default rule: small grids by what is in them, upper grids by the
    shares of their small grids."""
    totals = _totals(session)
    colours = {grid_id: small_grid_colour(*(totals[name].get(grid_id, 0) for name in ("overdue", "high", "medium")))
               for grid_id in leaves(parents)}
    return colours_by_share(colours, parents, blue=True)


@hookimpl(tryfirst=True)   # its reasons come first, ahead of the other plugins' (as users have always read them)
def grid_colours(parents, session):
    return default_rule(session, parents)


def _recolour(platform) -> None:
    from minqing.core.actors import system_actor

    from .colours import recompute_grid_colours

    with platform.db.session() as session:
        recompute_grid_colours(platform, session, system_actor("beat"))


@hookimpl
def periodic_tasks():
    return [{"name": TASK_NAME, "every": RECOLOUR_EVERY, "run": _recolour}]
