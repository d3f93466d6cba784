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

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.models import Grid, GridColour, utcnow

log = logging.getLogger(__name__)
SEVERITY = {GridColour.BLUE: 0, GridColour.YELLOW: 1, GridColour.RED: 2}
_BY_SEVERITY = {level: colour.value for colour, level in SEVERITY.items()}
UNRATED = (GridColour.BLUE.value, "")   # a grid that no plugin said anything about


def combine(answers: list[tuple[str, str]]) -> tuple[str, str]:
    """The most severe colour of the answers, with the reasons of the answers of that colour.

    Looked up by the plain value (a StrEnum member hashes as its value): building a GridColour for every answer of
    every grid was a third of a city's recolouring."""
    if len(answers) == 1:
        colour, reason = answers[0]
        return str(colour), reason
    worst = max(SEVERITY[colour] for colour, _ in answers)
    reasons = [reason for answer, reason in answers if SEVERITY[answer] == worst and reason]
    return _BY_SEVERITY[worst], "；".join(dict.fromkeys(reasons))


def _batch_answers(platform, session: Session, parents: dict[int, int | None]) -> dict[int, list[tuple[str, str]]]:
    """Every plugin's `grid_colours` answer, grid by grid; entries that are not (colour, reason) are ignored."""
    found: dict[int, list[tuple[str, str]]] = collections.defaultdict(list)
    for plugin, answer in platform.plugins.call("grid_colours", parents=parents, session=session):
        for grid_id, entry in answer.items():
            try:
                colour, reason = entry
                if colour not in SEVERITY:
                    raise ValueError(colour)
            except (TypeError, ValueError):
                log.error("plugin %s answered grid_colours for grid %s with %r; ignored", plugin, grid_id, entry)
                continue
            if grid_id in parents:
                found[grid_id].append((str(colour), str(reason or "")))
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


_GRIDS = Grid.__table__
_SET_COLOUR = update(_GRIDS).where(_GRIDS.c.id == bindparam("grid")).values(colour=bindparam("colour"),
                                                                           colour_reason=bindparam("reason"))


def recompute_grid_colours(platform, session: Session, actor: Actor) -> dict[str, int]:
    """Colour every grid, store colour, reason and the time it changed; return the counts by colour."""
    grids = session.execute(select(Grid.id, Grid.parent_id, Grid.colour, Grid.colour_reason)).all()
    parents = {grid_id: parent_id for grid_id, parent_id, _, _ in grids}   # `grid_tree.parents`, read once
    found = _batch_answers(platform, session, parents)
    if platform.plugins.implementations("grid_colour", session):
        for grid in session.scalars(select(Grid).order_by(Grid.id)):
            found[grid.id].extend(_plugin_answers(platform, session, grid))
    colours = {grid_id: combine(found[grid_id]) if found.get(grid_id) else UNRATED for grid_id in parents}
    now = utcnow()
    current = {grid_id: (colour, reason) for grid_id, _, colour, reason in grids}
    changed = [{"grid": grid_id, "colour": str(colour), "reason": reason}
               for grid_id, (colour, reason) in colours.items() if current.get(grid_id) != (colour, reason)]
    if changed:
        # one Core executemany: the ORM's bulk UPDATE by primary key took twice as long for a city's grids
        session.connection().execute(_SET_COLOUR.values(colour_set_at=now), changed)
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
