"""The grid tree in memory: counts of small grids added up to the medium and large grids above them.

Colour rules count "a grid with the grids under it". Asking the database once per grid costs thousands of
queries for a city (Lanzhou has 8,703 grids); one GROUP BY by grid and this walk up the tree give the same
numbers at once. `tally_leaves` counts, for every grid above, how many of the grids at the bottom of the tree
under it (its small grids) have each value — the shares an upper grid's colour is judged by.
"""
from __future__ import annotations

import collections

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core.models import Grid


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
    tally: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
    for leaf in leaves(parents):
        if leaf not in values:
            continue
        seen, grid_id = {leaf}, parents.get(leaf)
        while grid_id is not None and grid_id not in seen:  # `seen` guards against a cycle in bad data
            seen.add(grid_id)
            tally[grid_id][values[leaf]] += 1
            grid_id = parents.get(grid_id)
    return dict(tally)
