"""The grid tree in memory: counts of small grids added up to the medium and large grids above them.

Colour rules count "a grid with the grids under it". Asking the database once per grid costs thousands of
queries for a city (Lanzhou has 8,703 grids); one GROUP BY by grid and this walk up the tree give the same
numbers at once. `tally_leaves` counts, for every grid above, how many of the grids at the bottom of the tree
under it (its small grids) have each value — the shares an upper grid's colour is judged by.

The share rule is the one every colour rule applies above the small grids, so that a colour informs at every level
(an upper grid taking its worst part made 103 of Lanzhou's 110 large grids red): an upper grid is red when at least
`MINQING_GRID_RED_SHARE` per cent of its small grids are red (default 20), yellow when at least
`MINQING_GRID_YELLOW_SHARE` per cent are red or yellow (default 30). `colours_by_share` applies it to a rule's
answers for the small grids; `upper_grid_colour` judges one grid from its tally.
"""
from __future__ import annotations

import collections
import os

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core.models import Grid, GridColour

RED_SHARE_SETTING, YELLOW_SHARE_SETTING = "MINQING_GRID_RED_SHARE", "MINQING_GRID_YELLOW_SHARE"
DEFAULT_RED_SHARE, DEFAULT_YELLOW_SHARE = 20.0, 30.0   # per cent of an upper grid's small grids


def parents(session: Session) -> dict[int, int | None]:
    """Every grid's id → its parent grid's id (None for a top-level grid)."""
    return dict(session.execute(select(Grid.id, Grid.parent_id)).all())


def roll_up(counts: dict[int, int], parents: dict[int, int | None]) -> dict[int, int]:
    """Add each grid's count to the grid itself and to every grid above it."""
    total: dict[int, int] = collections.Counter()
    for grid_id, count in counts.items():
        seen = set()
        while grid_id is not None and grid_id not in seen:  # `seen` guards against a cycle in bad data
            seen.add(grid_id)
            total[grid_id] += count
            grid_id = parents.get(grid_id)
    return total


def leaves(parents: dict[int, int | None]) -> set[int]:
    """Grids no other grid lies in: the small grids, and an upper grid that has none under it."""
    return set(parents) - {parent for parent in parents.values() if parent is not None}


def tally_leaves(values: dict[int, str], parents: dict[int, int | None]) -> dict[int, collections.Counter]:
    """For every grid with grids under it: how many of the leaves below it (at any depth) have each value.

    `values` gives each leaf's value (a leaf missing from it is not counted). A leaf does not count itself.
    """
    # The leaves counted by their parent and value first, then each count carried up the parent's chain: a city
    # has a few thousand (parent, value) pairs against tens of thousands of leaves.
    below = collections.Counter((parents.get(leaf), values[leaf]) for leaf in leaves(parents) if leaf in values)
    chains: dict[int, list[int]] = {}
    tally: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
    for (parent, value), count in below.items():
        if parent is None:
            continue
        chain = chains.get(parent)
        if chain is None:
            chain, grid_id = [], parent
            while grid_id is not None and grid_id not in chain:  # guards against a cycle in bad data
                chain.append(grid_id)
                grid_id = parents.get(grid_id)
            chains[parent] = chain
        for grid_id in chain:
            tally[grid_id][value] += count
    return dict(tally)


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
    """(red share, yellow share) in per cent, as the city set them: read at every recolouring."""
    return (share_setting(RED_SHARE_SETTING, DEFAULT_RED_SHARE),
            share_setting(YELLOW_SHARE_SETTING, DEFAULT_YELLOW_SHARE))


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def upper_grid_colour(counts: collections.Counter, red_share: float, yellow_share: float) -> tuple[str, str]:
    """(colour, reason) of a medium or large grid from how many of its small grids are red, yellow and blue."""
    total = sum(counts.values())
    red, yellow = counts[GridColour.RED.value], counts[GridColour.YELLOW.value]
    red_pct, either_pct = _percent(red, total), _percent(red + yellow, total)
    said = f"辖内小网格红色 {red_pct}%（{red}/{total}），红黄合计 {either_pct}%（{red + yellow}/{total}）"
    if total and 100 * red >= red_share * total:
        return GridColour.RED.value, f"{said}；红色达到 {red_share:g}%"
    if total and 100 * (red + yellow) >= yellow_share * total:
        return GridColour.YELLOW.value, f"{said}；红黄合计达到 {yellow_share:g}%"
    return GridColour.BLUE.value, f"{said}；低于红色 {red_share:g}%、黄色 {yellow_share:g}% 的标准"


def colours_by_share(small: dict[int, tuple[str, str]], parents: dict[int, int | None], *, what: str = "",
                     blue: bool = False) -> dict[int, tuple[str, str]]:
    """A colour rule's answers at every level: `small` gives (colour, reason) of the small grids the rule has
    something to say about (any other small grid counts as blue); every grid above is judged by the city's shares
    (`shares()`) of its small grids, its reason led by `what` (what the rule looks at). Upper grids judged blue
    are left out unless `blue`: a plugin says nothing about a grid it finds nothing in.

    An answer given for an upper grid in `small` is ignored: what lies on an upper grid outside all of its small
    grids does not count for it (as in the default rule)."""
    red_share, yellow_share = shares()
    bottom = leaves(parents)
    found = {grid_id: answer for grid_id, answer in small.items() if grid_id in bottom}
    values = {leaf: found[leaf][0] if leaf in found else GridColour.BLUE.value for leaf in bottom}
    for grid_id, counts in tally_leaves(values, parents).items():
        colour, reason = upper_grid_colour(counts, red_share, yellow_share)
        if blue or colour != GridColour.BLUE.value:
            found[grid_id] = (colour, f"{what}：{reason}" if what else reason)
    return found
