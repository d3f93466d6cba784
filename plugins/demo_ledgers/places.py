"""Where demo records lie: points inside the demo city's real small grids, lines (rivers, roads, metro sections)
across medium grids and clipped to them, polygons (plots, estates, forests) inside small grids."""
from __future__ import annotations

import dataclasses
import json
import math

from shapely.geometry import LineString, Point, Polygon, mapping, shape
from sqlalchemy import Text, cast, select

from minqing.core.models import Grid


@dataclasses.dataclass
class Placed:
    grid: object                      # the grid row the record lies in
    point: tuple[float, float]        # the record's point (for a line or polygon: a point on it)
    geometry: dict | None             # GeoJSON of a line or polygon; None for a point
    bounds: tuple[float, float, float, float]


class Sampler:
    def __init__(self, session, rng, locate=None):
        self.rng, self.locate = rng, locate
        # the outlines as their JSON text, parsed only for the grids a record lands in (about a third of them)
        columns = (Grid.id, Grid.region_code, cast(Grid.geometry, Text).label("outline"), Grid.level)
        rows = session.execute(select(*columns).where(Grid.level.in_(("small", "medium"))).order_by(Grid.id)).all()
        rows = [row for row in rows if row.outline not in (None, "", "null")]
        self.small = [row for row in rows if row.level == "small"]
        self.by_id = {row.id: row for row in rows}
        self.medium = [row for row in rows if row.level == "medium"] or self.small
        self.shapes: dict[int, object] = {}
        self.ready = bool(self.small)

    def _shape(self, grid):
        if grid.id not in self.shapes:
            self.shapes[grid.id] = shape(json.loads(grid.outline)).buffer(0)
        return self.shapes[grid.id]

    def inside(self, outline) -> Point:
        """A random point inside `outline` (a shapely polygon), or a point on it when none is found soon."""
        min_x, min_y, max_x, max_y = outline.bounds
        for _ in range(30):
            point = Point(self.rng.uniform(min_x, max_x), self.rng.uniform(min_y, max_y))
            if outline.contains(point):
                return point
        return outline.representative_point()

    def place(self, kind: str) -> Placed:
        if kind == "line":
            return self._line()
        grid = self.rng.choice(self.small)
        outline = self._shape(grid)
        point = self.inside(outline)
        if kind == "polygon":
            return self._polygon(grid, outline, point)
        lon, lat = round(point.x, 6), round(point.y, 6)
        return Placed(grid, (lon, lat), None, (lon, lat, lon, lat))

    def _polygon(self, grid, outline, centre: Point) -> Placed:
        min_x, min_y, max_x, max_y = outline.bounds
        radius = 0.22 * min(max_x - min_x, max_y - min_y)
        corners = [(centre.x + radius * self.rng.uniform(0.6, 1.0) * math.cos(angle),
                    centre.y + radius * self.rng.uniform(0.6, 1.0) * math.sin(angle))
                   for angle in (2 * math.pi * step / 7 for step in range(7))]
        area = _largest(Polygon(corners).intersection(outline), "Polygon") or centre.buffer(radius / 4)
        return self._placed(grid, area)

    def _line(self) -> Placed:
        grid = self.rng.choice(self.medium)
        outline = self._shape(grid)
        min_x, min_y, max_x, max_y = outline.bounds
        points = [self.inside(outline) for _ in range(self.rng.randint(4, 6))]
        wide = (max_x - min_x) >= (max_y - min_y)
        points.sort(key=lambda point: point.x if wide else point.y)
        line = _largest(LineString(points).intersection(outline), "LineString") or LineString(points)
        placed = self._placed(grid, line)
        found = self.locate(*placed.point) if self.locate else None   # the small grid under the line's middle
        return dataclasses.replace(placed, grid=self.by_id.get(found, grid))

    def _placed(self, grid, geometry) -> Placed:
        from shapely import set_precision

        geometry = set_precision(geometry, 1e-6)
        point = geometry.representative_point() if geometry.geom_type == "Polygon" else geometry.interpolate(0.5, normalized=True)
        return Placed(grid, (round(point.x, 6), round(point.y, 6)), mapping(geometry), tuple(geometry.bounds))


def _largest(geometry, kind: str):
    """The biggest part of `kind` of a clipped shape (None when nothing of that kind is left)."""
    parts = [part for part in getattr(geometry, "geoms", [geometry]) if part.geom_type == kind and not part.is_empty]
    return max(parts, key=lambda part: part.area if kind == "Polygon" else part.length) if parts else None
