"""Grid locator speed: bulk point → smallest grid over the demo city's 8,703 grids.

Prints points per second of `GridLocator.locate_many` (STRtree) and of a naive loop that tests every polygon,
measured in the same run on the same points, and their ratio. The naive loop runs on a sample (it is slow);
both answers are compared on that sample.

    python benchmarks/locate.py [--points 200000] [--naive-points 300] [--seed 2260]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import shapely
from shapely.geometry import mapping

from minqing.plugins.demo_city.geography import build_geography
from minqing.core.geo.locator import GridLocator


def naive_locate(polygons: list[tuple[int, int, object]], lon: float, lat: float) -> int:
    """Every polygon in turn, smallest level first, lowest id first: the obvious loop."""
    point = shapely.Point(lon, lat)
    for _, grid_id, polygon in polygons:
        if polygon.intersects(point):
            return grid_id
    return -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--naive-points", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2260)
    args = parser.parse_args()

    geography = build_geography(args.seed)
    grids = [(index, cell.level, mapping(cell.geometry)) for index, cell in enumerate(geography.grids, start=1)]
    started = time.perf_counter()
    locator = GridLocator(grids)
    build_seconds = time.perf_counter() - started

    rng = np.random.default_rng(args.seed)
    min_lon, min_lat, max_lon, max_lat = shapely.union_all([c.geometry for c in geography.grids
                                                            if c.level == "large"]).bounds
    lons = rng.uniform(min_lon, max_lon, args.points)
    lats = rng.uniform(min_lat, max_lat, args.points)

    started = time.perf_counter()
    found = locator.locate_many(lons, lats)
    ours = args.points / (time.perf_counter() - started)

    rank = {"small": 0, "medium": 1, "large": 2}
    polygons = sorted((rank[cell.level], index, cell.geometry)
                      for index, cell in enumerate(geography.grids, start=1))
    sample = args.naive_points
    started = time.perf_counter()
    naive = [naive_locate(polygons, lon, lat) for lon, lat in zip(lons[:sample], lats[:sample])]
    naive_rate = sample / (time.perf_counter() - started)

    assert naive == found[:sample].tolist(), "the naive loop and the locator disagree"
    print(f"grids: {len(grids)}  (locator built in {build_seconds:.2f} s)")
    print(f"points located: {args.points}  in a grid: {(found >= 0).mean():.1%}")
    print(f"STRtree bulk:   {ours:12,.0f} points/s")
    print(f"naive loop:     {naive_rate:12,.0f} points/s  (on {sample} of the same points; same answers)")
    print(f"ratio:          {ours / naive_rate:12,.0f}x")


if __name__ == "__main__":
    main()
