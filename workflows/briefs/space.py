"""Coordinates in metres for clustering and linking cases: a transverse Mercator projection centred on the cases'
own mean longitude, so distances within a city (tens of kilometres) are true to well under 0.1 %.

The centre is rounded to 0.1° so the same cases (or two periods of one city) give the same projection; both
directions go through pyproj, the library the grid import already measures areas with.
"""
from __future__ import annotations

import dataclasses
import functools

import numpy as np


@dataclasses.dataclass(frozen=True)
class Projection:
    centre_lon: float

    def _transformer(self, inverse: bool = False):
        return _transformer(self.centre_lon, inverse)

    def forward(self, lons, lats) -> np.ndarray:
        """An (n, 2) array of x, y in metres."""
        if len(lons) == 0:
            return np.empty((0, 2))
        x, y = self._transformer().transform(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
        return np.column_stack([x, y])

    def inverse(self, points) -> list[tuple[float, float]]:
        """(lon, lat) of x, y points in metres."""
        points = np.asarray(points, dtype=float).reshape(-1, 2)
        lons, lats = self._transformer(inverse=True).transform(points[:, 0], points[:, 1])
        return [(round(float(lon), 6), round(float(lat), 6)) for lon, lat in zip(lons, lats)]


@functools.lru_cache(maxsize=16)
def _transformer(centre_lon: float, inverse: bool):
    """One pyproj transformer per centre and direction in a process: making one costs tens of milliseconds, and
    pyproj's transformers are thread-safe since 3.1 (the web server's threads share them)."""
    from pyproj import Transformer

    local = f"+proj=tmerc +lat_0=0 +lon_0={centre_lon} +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
    source, target = ("EPSG:4326", local) if not inverse else (local, "EPSG:4326")
    return Transformer.from_crs(source, target, always_xy=True)


def projection_for(lons) -> Projection:
    return Projection(round(float(np.mean(lons)), 1) if len(lons) else 0.0)


__all__ = ["Projection", "projection_for"]
