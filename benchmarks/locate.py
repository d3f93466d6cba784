"""Grid locator speed on the demo city's 8,703 grids, two figures:

- on the path a report takes: `platform.locator(session).locate(lon, lat)` one point at a time, in one session
  (a request), against the raw `STRtree.query` of one point on the same trees (smallest level first);
- in bulk: `GridLocator.locate_many` against one raw `STRtree.query(points, predicate="within")` over all grids.

Both sides get the same points, and the answers are compared.

    python -m benchmarks.locate [--db URL] [--points 200000]      # --db: an EMPTY database (default: SQLite)
"""
from __future__ import annotations


import numpy as np
import shapely
from shapely.geometry import mapping
from sqlalchemy import insert

from minqing.core.models import Grid, Region
from minqing.core.platform import Platform
from minqing.plugins.demo_city.geography import build_geography

from .harness import Figure, best_rates, run_alone

SEED = 2260


def store_grids(url: str, geography) -> None:
    """The demo's grids in an empty database (one city region holds them all: the locator reads only grids)."""
    platform = Platform(url, load_plugins=False)
    with platform.db.engine.begin() as connection:
        city = connection.execute(insert(Region).values(code="620100000000", name="兰州市", level="city")
                                  .returning(Region.id)).scalar_one()
        rows = []
        for cell in geography.grids:
            min_lon, min_lat, max_lon, max_lat = cell.geometry.bounds
            rows.append({"code": cell.code, "name": cell.name, "level": cell.level, "region_id": city,
                         "region_code": cell.region_code, "geometry": mapping(cell.geometry), "min_lon": min_lon,
                         "min_lat": min_lat, "max_lon": max_lon, "max_lat": max_lat})
        connection.execute(insert(Grid), rows)
    platform.close()


def points(geography, count: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SEED)
    min_lon, min_lat, max_lon, max_lat = shapely.union_all(
        [cell.geometry for cell in geography.grids if cell.level == "large"]).bounds
    return rng.uniform(min_lon, max_lon, count), rng.uniform(min_lat, max_lat, count)


def figures(url: str, scale) -> list[Figure]:
    geography = build_geography(SEED)
    store_grids(url, geography)
    lons, lats = points(geography, scale.points)
    platform = Platform(url, load_plugins=False)
    with platform.db.session() as session:
        locator = platform.locator(session)
        levels = locator._levels   # the same trees: the baseline queries them raw
        single = _single_figure(platform, session, levels, lons, lats, scale)
    platform.close()
    return [single, _bulk_figure(locator, geography, lons, lats, scale)]


def _raw_single(levels, lon: float, lat: float) -> int:
    point = shapely.Point(lon, lat)
    for ids, tree in levels:
        hits = tree.query(point, predicate="intersects")
        if len(hits):
            return int(ids[hits.min()])
    return -1


def _single_figure(platform, session, levels, lons, lats, scale) -> Figure:
    sample = list(zip(lons[:2000].tolist(), lats[:2000].tolist()))
    ours = [platform.locator(session).locate(lon, lat) for lon, lat in sample]
    assert [-1 if found is None else found for found in ours] == [_raw_single(levels, *p) for p in sample]

    def with_ours():
        for lon, lat in sample:
            platform.locator(session).locate(lon, lat)
        return len(sample)

    def raw():
        for lon, lat in sample:
            _raw_single(levels, lon, lat)
        return len(sample)

    rates = best_rates({"ours": with_ours, "baseline": raw}, scale.seconds)
    return Figure("point → grid on the report path", rates["ours"], rates["baseline"], "points/s", 0.5, True,
                  note="ours: platform.locator(session).locate per point (the grids counter read once per "
                       "session); baseline: raw STRtree.query of one point on the same trees, smallest level first")


def _bulk_figure(locator, geography, lons, lats, scale) -> Figure:
    tree = shapely.STRtree(np.array([cell.geometry for cell in geography.grids], dtype=object))
    all_points = shapely.points(lons, lats)

    def ours():
        locator.locate_many(lons, lats)
        return len(lons)

    def raw():
        tree.query(all_points, predicate="within")
        return len(lons)

    rates = best_rates({"ours": ours, "baseline": raw}, max(scale.seconds, 1.0))
    return Figure("point → grid in bulk", rates["ours"], rates["baseline"], "points/s", 1.0, True,
                  note="baseline: one raw STRtree.query(points, predicate='within') over all grids "
                       "(every containing grid, not the smallest)")


if __name__ == "__main__":
    run_alone(figures, __doc__)
