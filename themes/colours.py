"""Grid colours 红/黄/蓝 by risk: every rule is a plugin.

Plugins say how risky grids are through the `grid_colours(parents, session)` hook (every grid at once) or the
`grid_colour(grid, session)` hook (one grid per call); the most severe answer wins and the reasons of the answers
of that colour are joined. A grid no plugin says anything about is blue. The default rule (overdue cases and
risky key persons) is the built-in plugin `minqing.themes.colour_plugin`, which answers the same public hook and
schedules the hourly recolouring; the core has no rule of its own.
"""
from __future__ import annotations

import collections
import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.geo.grid_tree import parents as grid_parents
from minqing.core.models import Grid, GridColour, utcnow

log = logging.getLogger(__name__)
SEVERITY = {GridColour.BLUE: 0, GridColour.YELLOW: 1, GridColour.RED: 2}
UNRATED = (GridColour.BLUE.value, "")   # a grid that no plugin said anything about


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
    found = _batch_answers(platform, session, parents)
    if platform.plugins.implementations("grid_colour", session):
        for grid in session.scalars(select(Grid).order_by(Grid.id)):
            found[grid.id].extend(_plugin_answers(platform, session, grid))
    colours = {grid_id: combine(found[grid_id]) if found.get(grid_id) else UNRATED for grid_id in parents}
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
