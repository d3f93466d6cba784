"""Grid colours 红/黄/蓝 by risk.

The default rule counts, for every grid with the grids under it, the open cases past a deadline and the key
persons by risk level — two GROUP BY queries and a walk up the grid tree in memory, whatever the number of
grids. Plugins add their own rules through the `grid_colours(parents, session)` hook (every grid at once) or
the `grid_colour(grid, session)` hook (one grid per call); the most severe answer wins and the reasons of the
answers of that colour are joined.
"""
from __future__ import annotations

import collections
import logging

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.grid_tree import parents as grid_parents
from minqing.core.grid_tree import roll_up
from minqing.core.models import Case, Grid, GridColour, KeyPerson, utcnow

log = logging.getLogger(__name__)
SEVERITY = {GridColour.BLUE: 0, GridColour.YELLOW: 1, GridColour.RED: 2}
FINAL_STATUSES = ("closed", "voided")
RED_OVERDUE_CASES = 3      # this many open overdue cases make a grid red
BLUE_REASON = "无超期未办结事件和中高风险重点人员"


def _counts_by_grid(session: Session, statement) -> dict[int, int]:
    return {grid_id: count for grid_id, count in session.execute(statement) if grid_id is not None}


def default_rule(session: Session, parents: dict[int, int | None]) -> dict[int, tuple[str, str]]:
    """(colour, reason) of every grid by the default rule, counting each grid with the grids under it."""
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
    totals = {name: roll_up(counts, parents)
              for name, counts in (("overdue", overdue), ("high", risks["high"]), ("medium", risks["medium"]))}
    colours = {}
    for grid_id in parents:
        cases, high, medium = (totals[name].get(grid_id, 0) for name in ("overdue", "high", "medium"))
        reasons = [text for count, text in ((cases, f"超期未办结事件 {cases} 件"), (high, f"高风险重点人员 {high} 人"),
                                            (medium, f"中风险重点人员 {medium} 人")) if count]
        if high or cases >= RED_OVERDUE_CASES:
            colours[grid_id] = (GridColour.RED, "；".join(reasons))
        elif cases or medium:
            colours[grid_id] = (GridColour.YELLOW, "；".join(reasons))
        else:
            colours[grid_id] = (GridColour.BLUE, BLUE_REASON)
    return colours


def combine(answers: list[tuple[str, str]]) -> tuple[str, str]:
    """The most severe colour of the answers, with the reasons of the answers of that colour."""
    worst = max(SEVERITY[GridColour(colour)] for colour, _ in answers)
    colour = next(colour for colour, level in SEVERITY.items() if level == worst)
    reasons = [reason for answer, reason in answers if SEVERITY[GridColour(answer)] == worst and reason]
    return colour.value, "；".join(dict.fromkeys(reasons))


def _batch_answers(platform, session: Session, parents: dict[int, int | None]) -> dict[int, list[tuple[str, str]]]:
    """Every plugin's `grid_colours` answer, grid by grid; entries that are not (colour, reason) are ignored."""
    found: dict[int, list[tuple[str, str]]] = collections.defaultdict(list)
    for plugin, answer in platform.plugins.call("grid_colours", parents=parents, session=session):
        for grid_id, entry in answer.items():
            try:
                colour, reason = entry
                GridColour(colour)
            except (TypeError, ValueError):
                log.error("plugin %s answered grid_colours for grid %s with %r; ignored", plugin, grid_id, entry)
                continue
            if grid_id in parents:
                found[grid_id].append((colour, str(reason or "")))
    return found


def _plugin_answers(platform, session: Session, grid: Grid) -> list[tuple[str, str]]:
    answers = []
    for plugin, answer in platform.plugins.call("grid_colour", grid=grid, session=session):
        try:
            colour, reason = answer
            GridColour(colour)
        except (TypeError, ValueError):
            log.error("plugin %s answered grid_colour for grid %s with %r; ignored", plugin, grid.code, answer)
            continue
        answers.append((colour, str(reason or "")))
    return answers


def recompute_grid_colours(platform, session: Session, actor: Actor) -> dict[str, int]:
    """Colour every grid, store colour, reason and the time it changed; return the counts by colour."""
    parents = grid_parents(session)
    colours = default_rule(session, parents)
    for grid_id, answers in _batch_answers(platform, session, parents).items():
        colours[grid_id] = combine([colours[grid_id], *answers])
    if platform.plugins.implementations("grid_colour", session):
        for grid in session.scalars(select(Grid).order_by(Grid.id)):
            answers = _plugin_answers(platform, session, grid)
            if answers:
                colours[grid.id] = combine([colours[grid.id], *answers])
    now = utcnow()
    current = {grid_id: (colour, reason) for grid_id, colour, reason
               in session.execute(select(Grid.id, Grid.colour, Grid.colour_reason))}
    changed = [{"id": grid_id, "colour": str(colour), "colour_reason": reason, "colour_set_at": now}
               for grid_id, (colour, reason) in colours.items() if current.get(grid_id) != (colour, reason)]
    if changed:
        session.execute(update(Grid), changed)
        for row in session.identity_map.values():
            if isinstance(row, Grid):
                session.expire(row, ["colour", "colour_reason", "colour_set_at"])
    summary = collections.Counter(str(colour) for colour, _ in colours.values())
    result = {"red": summary["red"], "yellow": summary["yellow"], "blue": summary["blue"], "changed": len(changed)}
    if changed:
        record_change(session, actor, "grid.colour", object_type="grid",
                      summary=f"重新评定网格颜色：红 {result['red']}、黄 {result['yellow']}、蓝 {result['blue']}，"
                              f"变化 {len(changed)} 个", details=result)
    return result
