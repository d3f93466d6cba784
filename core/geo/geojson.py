"""GeoJSON as RFC 7946 says, written through one function for every map and API answer.

- Rings: exterior rings counterclockwise, holes clockwise (§3.1.6 "MUST"); the outlines we store come from many
  sources (the county outlines, generated grids, a city's own files) and wind either way.
- Precision: 7 decimals, about a centimetre (§11.2: more only inflates the document; 15 decimals made the city's
  small grids 5.4 MB).
- Lists are never cut silently: a collection says how many features matched and how many it holds
  (`numberMatched`, `numberReturned`, as OGC API – Features does), and the caller links the next page.
"""
from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterable

import orjson

DECIMALS = 7
MAX_LIMIT = 10_000       # features in one page; ask again with the next offset for more
DEFAULT_LIMIT = 10_000


class BadPage(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class Page:
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    @classmethod
    def parse(cls, limit: str | None, offset: str | None) -> Page:
        """`limit` (1–10,000) and `offset` (≥ 0) from query text; a clear Chinese error for anything else."""
        def number(text, name, low, high):
            if text in (None, ""):
                return None
            if not str(text).isdigit() or not low <= int(text) <= high:
                raise BadPage(f"{name} 应为 {low} 到 {high} 之间的整数")
            return int(text)
        found_limit = number(limit, "limit", 1, MAX_LIMIT)
        found_offset = number(offset, "offset", 0, 10**9)
        return cls(found_limit or DEFAULT_LIMIT, found_offset or 0)


def geometry(value: dict | None) -> dict | None:
    """A GeoJSON geometry with RFC 7946 winding and 7 decimals (None stays None)."""
    import shapely   # shapely loads when a map is drawn, not with every `minqing` command
    from shapely.geometry import mapping, shape

    if not value:
        return value
    if value.get("type") == "Point":   # most layers' features: nothing to wind, so no shapely object to build
        return {"type": "Point", "coordinates": [round(float(number), DECIMALS) for number in value["coordinates"]]}
    return _rounded(mapping(shapely.orient_polygons(shape(value), exterior_cw=False)))


def _rounded(value):
    if isinstance(value, dict):
        return {key: (_rounded(item) if key == "coordinates" or isinstance(item, (dict, list, tuple)) else item)
                for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        if value and isinstance(value[0], (int, float)):
            return [round(float(number), DECIMALS) for number in value]
        return [_rounded(item) for item in value]
    return value


def bbox_of(features: Iterable[dict]) -> list[float] | None:
    """[min_lon, min_lat, max_lon, max_lat] over the features' geometries (§5), None when there is none."""
    boxes = [_bounds(item["geometry"]) for item in features if item.get("geometry")]
    if not boxes:
        return None
    return [round(min(b[0] for b in boxes), DECIMALS), round(min(b[1] for b in boxes), DECIMALS),
            round(max(b[2] for b in boxes), DECIMALS), round(max(b[3] for b in boxes), DECIMALS)]


def _bounds(value: dict) -> tuple[float, float, float, float]:
    if value.get("type") == "Point":
        lon, lat = value["coordinates"][:2]
        return lon, lat, lon, lat
    from shapely.geometry import shape

    return shape(value).bounds


def encode(body) -> bytes:
    """A document's JSON as UTF-8 bytes: orjson (a page of 10,000 features several times faster than `json`);
    `json` with ASCII escapes for what orjson refuses (a lone surrogate cannot be UTF-8, keys that are not text).
    A value JSON has no type for (a plugin's Decimal) is written as its text, as the map's answers always were."""
    try:
        return orjson.dumps(body, default=str)
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(body, ensure_ascii=True, default=str).encode()


def feature(feature_id, geometry_value: dict | None, properties: dict, *, with_bbox: bool = False) -> dict:
    body = {"type": "Feature", "id": feature_id, "geometry": geometry(geometry_value), "properties": properties}
    if with_bbox and body["geometry"]:
        body["bbox"] = bbox_of([body])
    return body


def collection(features: Iterable[dict], *, matched: int | None = None) -> dict:
    """A FeatureCollection with its bbox and, when `matched` is given, `numberMatched`/`numberReturned`."""
    features = list(features)
    body: dict = {"type": "FeatureCollection", "features": features}
    box = bbox_of(features)
    if box:
        body["bbox"] = box
    if matched is not None:
        body["numberMatched"], body["numberReturned"] = matched, len(features)
    return body


class GeometryCache:
    """Normalised (and, for a zoom, simplified) outlines by key, dropped when a counter moves: outlines change only
    when grids or regions are imported, so a map's requests do not redo the work."""

    def __init__(self):
        self._lock = threading.Lock()
        self._generation: object = None
        self._found: dict[tuple, dict] = {}

    def get(self, generation, key: tuple, value: dict, tolerance: float | None = None) -> dict:
        with self._lock:
            if generation != self._generation:
                self._found, self._generation = {}, generation
            found = self._found.get(key)
        if found is None:
            import shapely
            from shapely.geometry import mapping, shape

            geom = shape(value)
            if tolerance:
                geom = shapely.simplify(geom, tolerance, preserve_topology=True)
            found = _rounded(mapping(shapely.orient_polygons(geom, exterior_cw=False)))
            with self._lock:
                self._found[key] = found
        return found
