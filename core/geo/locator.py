"""Point → the smallest grid that contains it, for one point or millions, on shapely's STRtree.

A point outside every grid gets None (or -1 in bulk): never a neighbouring grid. A point exactly on the border
of two grids goes to the one with the lower id, so the answer never depends on the order of a query.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import shapely
from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core.models import Grid

LEVELS_SMALLEST_FIRST = ("small", "medium", "large")


class GridLocator:
    def __init__(self, grids: Iterable[tuple[int, str, dict]]):
        """`grids`: (grid id, level, GeoJSON geometry) for every grid."""
        by_level: dict[str, tuple[list[int], list]] = {level: ([], []) for level in LEVELS_SMALLEST_FIRST}
        for grid_id, level, geometry in grids:
            ids, shapes = by_level[level]
            ids.append(grid_id)
            shapes.append(shape(geometry))
        self._levels = []
        for level in LEVELS_SMALLEST_FIRST:
            ids, shapes = by_level[level]
            if not ids:
                continue
            order = np.argsort(ids, kind="stable")  # index order = id order, for the lower-id tie-break
            geometries = np.array(shapes, dtype=object)[order]
            shapely.prepare(geometries)
            self._levels.append((np.asarray(ids, dtype=np.int64)[order], shapely.STRtree(geometries)))
        self.size = sum(len(ids) for ids, _ in self._levels)
        self.region_codes: dict[int, str] = {}

    @classmethod
    def from_session(cls, session: Session) -> GridLocator:
        rows = session.execute(select(Grid.id, Grid.level, Grid.geometry, Grid.region_code)).all()
        located = cls((row.id, row.level, row.geometry) for row in rows)
        located.region_codes = {row.id: row.region_code or "" for row in rows}
        return located

    def region_of(self, grid_id: int) -> str:
        """The region code of a grid this locator was built from ('' for another): a report needs both."""
        return self.region_codes.get(grid_id, "")

    def locate(self, lon: float, lat: float) -> int | None:
        """One point (a report): the trees queried directly, without the arrays `locate_many` builds."""
        point = shapely.Point(lon, lat)
        for ids, tree in self._levels:
            hits = tree.query(point, predicate="intersects")
            if len(hits):
                return int(ids[hits.min()])  # tree index order is id order: the lower id wins a border
        return None

    def locate_many(self, lons: Sequence[float], lats: Sequence[float]) -> np.ndarray:
        """Grid ids for many points at once; -1 where a point lies in no grid."""
        points = shapely.points(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
        result = np.full(len(points), -1, dtype=np.int64)
        pending = np.arange(len(points))
        for ids, tree in self._levels:
            if not len(pending):
                break
            point_index, grid_index = tree.query(points[pending], predicate="intersects")
            if len(point_index):
                # sort by point, then by tree index (= grid id order), and keep each point's first hit
                order = np.lexsort((grid_index, point_index))
                point_index, grid_index = point_index[order], grid_index[order]
                first = np.unique(point_index, return_index=True)[1]
                hit_points = pending[point_index[first]]
                result[hit_points] = ids[grid_index[first]]
            pending = pending[result[pending] < 0]
        return result
