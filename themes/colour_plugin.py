"""The default grid-colour rule (红/黄/蓝), as a built-in plugin answering the public `grid_colours` hook.

A small grid (any grid with no grid under it) is judged by what is in it: open cases past a deadline and key
persons by risk level. Three or more overdue cases or any high-risk person make it red; any overdue case or
medium-risk person yellow; otherwise blue.

A medium or large grid is judged by the shares of its small grids, so that the colour informs at every level
(taking the worst small grid made almost every large grid of a city red): red when at least
`MINQING_GRID_RED_SHARE` per cent of its small grids are red (default 20), yellow when at least
`MINQING_GRID_YELLOW_SHARE` per cent are red or yellow (default 30), otherwise blue; the reason gives the shares.
Two GROUP BY queries and one walk up the grid tree in memory, whatever the number of grids.

It also owns the hourly recolouring (`periodic_tasks`), so grid colours do not depend on any other plugin (the
file-theme loader used to schedule it). Registered through the ``minqing.plugins`` entry points like a
third-party plugin: ``minqing plugins disable grid_colour_rule`` leaves only the other plugins' rules.
"""
from __future__ import annotations

import collections
import os

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from minqing.core.geo.grid_tree import leaves, tally_leaves
from minqing.core.hooks import hookimpl
from minqing.core.models import Case, GridColour, KeyPerson, utcnow

MINQING_TITLE = "网格红黄蓝规则"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "默认的网格风险着色规则，并每小时重新着色。"

FINAL_STATUSES = ("closed", "voided")
RED_OVERDUE_CASES = 3      # this many open overdue cases make a small grid red
BLUE_REASON = "无超期未办结事件和中高风险重点人员"
RED_SHARE_SETTING, YELLOW_SHARE_SETTING = "MINQING_GRID_RED_SHARE", "MINQING_GRID_YELLOW_SHARE"
DEFAULT_RED_SHARE, DEFAULT_YELLOW_SHARE = 20.0, 30.0   # per cent of an upper grid's small grids
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


def share_setting(name: str, default: float) -> float:
    """A share in per cent from the environment (per city deployment); a bad value is refused, not guessed."""
    raw = os.environ.get(name, "").strip().rstrip("%")
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} 应为 0 到 100 之间的百分比数字，例如 20，而不是“{raw[:20]}”") from None
    if not 0 <= value <= 100:
        raise ValueError(f"{name} 应在 0 到 100 之间（百分比），而不是 {raw[:20]}")
    return value


def shares() -> tuple[float, float]:
    """(red share, yellow share) in per cent: the upper-grid rule's settings."""
    return (share_setting(RED_SHARE_SETTING, DEFAULT_RED_SHARE),
            share_setting(YELLOW_SHARE_SETTING, DEFAULT_YELLOW_SHARE))


def small_grid_colour(cases: int, high: int, medium: int) -> tuple[str, str]:
    reasons = [text for count, text in ((cases, f"超期未办结事件 {cases} 件"), (high, f"高风险重点人员 {high} 人"),
                                        (medium, f"中风险重点人员 {medium} 人")) if count]
    if high or cases >= RED_OVERDUE_CASES:
        return GridColour.RED.value, "；".join(reasons)
    if cases or medium:
        return GridColour.YELLOW.value, "；".join(reasons)
    return GridColour.BLUE.value, BLUE_REASON


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def upper_grid_colour(counts: collections.Counter, red_share: float, yellow_share: float) -> tuple[str, str]:
    """The colour of a medium or large grid from how many of its small grids are red, yellow and blue."""
    total = sum(counts.values())
    red, yellow = counts[GridColour.RED.value], counts[GridColour.YELLOW.value]
    red_pct, either_pct = _percent(red, total), _percent(red + yellow, total)
    said = f"辖内小网格红色 {red_pct}%（{red}/{total}），红黄合计 {either_pct}%（{red + yellow}/{total}）"
    if total and 100 * red >= red_share * total:
        return GridColour.RED.value, f"{said}；红色达到 {red_share:g}%"
    if total and 100 * (red + yellow) >= yellow_share * total:
        return GridColour.YELLOW.value, f"{said}；红黄合计达到 {yellow_share:g}%"
    return GridColour.BLUE.value, f"{said}；低于红色 {red_share:g}%、黄色 {yellow_share:g}% 的标准"


def default_rule(session: Session, parents: dict[int, int | None]) -> dict[int, tuple[str, str]]:
    """(colour, reason) of every grid by the default rule: small grids by what is in them, upper grids by the
    shares of their small grids."""
    red_share, yellow_share = shares()
    totals = _totals(session)
    colours = {grid_id: small_grid_colour(*(totals[name].get(grid_id, 0) for name in ("overdue", "high", "medium")))
               for grid_id in leaves(parents)}
    tally = tally_leaves({grid_id: colour for grid_id, (colour, _) in colours.items()}, parents)
    for grid_id, counts in tally.items():
        colours[grid_id] = upper_grid_colour(counts, red_share, yellow_share)
    return colours


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
