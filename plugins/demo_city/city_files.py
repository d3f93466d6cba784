"""The generated demo city written as the files a real city gives `minqing import`: `regions.geojson` (code, name,
level, parent_code, with each region's outline; groups without one), `grids.geojson` (code, name, level,
region_code, parent_code, dedicated) and `accounts.csv` (username, name, phone, role, scope, grid_code, post, grids) — the
formats of docs/setup.md and docs/examples/city/.

The roster holds the demo's staff accounts, one row per grant. The demo citizen is not in it: citizens are not
staff, a roster cannot name them, and in a real city they register themselves with an SMS code.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import mapping

DECIMALS = 7             # what the importers keep (about 1 cm)
EXACT, GAP = 1e-9, 2e-7  # degrees: a vertex on a neighbour's edge; a hairline gap between real county outlines
SLIVER = 1e-12          # deg², about 0.01 m² at Lanzhou: overlaps left after rounding are cut away (the importer
#                          refuses more than 1 m²)
ROSTER_HEADER = ("username", "name", "phone", "role", "scope", "grid_code", "post", "grids")


def _rounded(geometry):
    return shapely.transform(geometry, lambda xy: np.round(xy, DECIMALS))


def _geometry(geometry) -> dict | None:
    return None if geometry is None else mapping(_rounded(geometry))


def _snapped(shapes: np.ndarray, left: np.ndarray, right: np.ndarray, tolerance: float) -> np.ndarray:
    """Each shape snapped to the vertices of its neighbours (`left[i]` has neighbour `right[i]`)."""
    coordinates = [shapely.get_coordinates(item) for item in shapes]
    order = np.argsort(left, kind="stable")
    left, right = left[order], right[order]
    bounds = np.searchsorted(left, np.arange(len(shapes) + 1))
    references = np.array([shapely.multipoints(np.concatenate([coordinates[j] for j in right[start:end]]))
                           if end > start else shapely.MultiPoint()
                           for start, end in zip(bounds[:-1], bounds[1:])], dtype=object)
    return shapely.snap(shapes, references, tolerance)


def layer(geometries) -> list:
    """Shapes of one grid level that stay free of overlaps once rounded to the importers' 7 decimals.

    The generator cuts shapes with exact arithmetic, so a cut leaves a vertex on a neighbour's edge that the
    neighbour lacks; rounding moves it by up to a centimetre, which over a kilometre-long border is an overlap of
    several m² that the grid import rightly refuses. So each shape first takes in its neighbours' vertices (and
    those of a county across a hairline gap in the real outlines), and any sliver left after rounding is cut
    from the later shape."""
    shapes = np.asarray(geometries, dtype=object)
    tree = shapely.STRtree(shapes)
    left, right = tree.query(shapes, predicate="intersects")
    keep = left != right
    shapes = _snapped(shapes, left[keep], right[keep], EXACT)
    touching = set(zip(left.tolist(), right.tolist()))
    near_left, near_right = tree.query(shapes, predicate="dwithin", distance=GAP)
    keep = np.array([a != b and (a, b) not in touching for a, b in zip(near_left.tolist(), near_right.tolist())],
                    dtype=bool)
    shapes = _snapped(shapes, near_left[keep], near_right[keep], GAP)
    shapes = np.array([_rounded(item) for item in shapes], dtype=object)
    for _ in range(5):
        left, right = shapely.STRtree(shapes).query(shapes, predicate="intersects")
        keep = left < right
        left, right = left[keep], right[keep]
        keep = shapely.relate_pattern(shapes[left], shapes[right], "T********")   # interiors meet: not just a border
        left, right = left[keep], right[keep]
        slivers = shapely.area(shapely.intersection(shapes[left], shapes[right])) > SLIVER
        if not slivers.any():
            break
        for a, b in zip(left[slivers].tolist(), right[slivers].tolist()):
            shapes[b] = _polygonal(shapely.make_valid(_rounded(shapely.difference(shapes[b], shapes[a]))))
    return list(shapes)


def _polygonal(geometry):
    """The polygons of an overlay's result (a cut may leave a stray line or point beside them)."""
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    parts = [part for part in shapely.get_parts(geometry) if part.geom_type in ("Polygon", "MultiPolygon")]
    polygons = [polygon for part in parts for polygon in shapely.get_parts(part)]
    return polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)


def _write_features(path: Path, features: list[dict]) -> Path:
    document = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(document, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return path


def write_regions(geography, folder: Path) -> Path:
    """Every region, parents before children; groups carry no outline (their small grid has it)."""
    features = [{"type": "Feature",
                 "geometry": _geometry(area.geometry) if area.level != "group" else None,
                 "properties": {"code": area.code, "name": area.name, "level": area.level,
                                "parent_code": area.parent_code or ""}}
                for area in geography.regions]
    return _write_features(folder / "regions.geojson", features)


def write_grids(geography, folder: Path) -> Path:
    shapes = {}
    for level in ("large", "medium", "small"):
        cells = [cell for cell in geography.grids if cell.level == level]
        shapes.update(zip((cell.code for cell in cells), layer([cell.geometry for cell in cells])))
    features = [{"type": "Feature", "geometry": mapping(shapes[cell.code]),
                 "properties": {"code": cell.code, "name": cell.name, "level": cell.level,
                                "region_code": cell.region_code, "parent_code": cell.parent_code or "",
                                "dedicated": "是" if cell.dedicated else ""}}
                for cell in geography.grids]
    return _write_features(folder / "grids.geojson", features)


def write_roster(rows: list[tuple[str, ...]], folder: Path) -> Path:
    """Rows of the roster's columns; a row without a cadre's post and grids leaves them empty."""
    path = folder / "accounts.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ROSTER_HEADER)
        writer.writerows(tuple(row) + ("",) * (len(ROSTER_HEADER) - len(row)) for row in rows)
    return path
