"""Outlines as the city files give them and as the database keeps them: RFC 7946 polygons (exterior rings
counterclockwise, 7 decimals, about 1 cm), checked for validity with the place of the fault, and measured in
metres in a local equal-area projection (areas of overlaps and gaps, the 5 m nesting tolerance)."""
from __future__ import annotations

import re

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

DECIMALS = 7
CHINA_LON, CHINA_LAT = (73.0, 136.0), (3.0, 54.0)
_SEGMENT_DEGREES = 0.001
_FAULTS = {
    "Self-intersection": "边界自相交",
    "Ring Self-intersection": "环自相交",
    "Too few points": "边界点数不足",
    "Hole lies outside shell": "内环（洞）在外环之外",
    "Nested shells": "外环相互嵌套",
    "Interior is disconnected": "内部不连通",
    "Duplicate Rings": "存在重复的环",
    "Nested holes": "内环相互嵌套",
    "Invalid Coordinate": "坐标无效",
    "Ring is not closed": "环未闭合",
}
_PLACE = re.compile(r"^(.*?)\[\s*([-\d.eE+]+)\s+([-\d.eE+]+)\s*\]$")


def normalise(geometry: BaseGeometry) -> BaseGeometry:
    """Exterior rings counterclockwise and holes clockwise (RFC 7946), coordinates rounded to 7 decimals."""
    rounded = shapely.transform(geometry, lambda xy: np.round(xy, DECIMALS))
    return shapely.orient_polygons(rounded, exterior_cw=False)


def to_geojson(geometry: BaseGeometry) -> dict:
    """A GeoJSON geometry dict with lists (not tuples), as JSON columns and files hold it."""
    if geometry.geom_type in ("Polygon", "MultiPolygon") and not geometry.has_z:   # the fast path: numpy's lists
        polygons = geometry.geoms if geometry.geom_type == "MultiPolygon" else (geometry,)
        rings = [[shapely.get_coordinates(ring).tolist() for ring in (polygon.exterior, *polygon.interiors)]
                 for polygon in polygons]
        return {"type": geometry.geom_type, "coordinates": rings if geometry.geom_type == "MultiPolygon" else rings[0]}
    data = mapping(geometry)
    return {"type": data["type"], "coordinates": _lists(data["coordinates"])}


def _lists(value):
    if isinstance(value, (tuple, list)):
        return [_lists(item) for item in value]
    return value


def parse_outline(geometry) -> tuple[dict | None, str | None]:
    """(normalised GeoJSON, None) for a valid Polygon or MultiPolygon in China, else (None, why in Chinese)."""
    polygon, problem = parse_polygon(geometry)
    return (None, problem) if problem else (to_geojson(polygon), None)


def parse_polygon(geometry) -> tuple[BaseGeometry | None, str | None]:
    if not isinstance(geometry, dict) or not geometry:
        return None, "缺少边界（geometry）"
    kind = geometry.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        return None, f"边界应为 Polygon 或 MultiPolygon，而不是 {kind or '空'}"
    try:
        polygon = shape(geometry)
    except (ValueError, TypeError, IndexError, AttributeError, shapely.errors.GEOSException) as error:
        return None, f"边界坐标格式有误：{error}"
    if polygon.is_empty:
        return None, "边界为空"
    min_lon, min_lat, max_lon, max_lat = polygon.bounds
    if not (CHINA_LON[0] <= min_lon and max_lon <= CHINA_LON[1] and CHINA_LAT[0] <= min_lat
            and max_lat <= CHINA_LAT[1]):
        return None, "边界坐标不在中国范围内：应为 WGS84 经纬度（经度在前）"
    polygon = normalise(polygon)
    problem = validity_problem(polygon)
    return (None, problem) if problem else (polygon, None)


def validity_problem(geometry: BaseGeometry) -> str | None:
    """Why a polygon is invalid and where, in Chinese: "边界自相交，位置约 (103.812345, 36.054321)"."""
    if geometry.is_valid:
        return None
    reason = explain_validity(geometry)
    found = _PLACE.match(reason)
    fault, place = (found.group(1).strip(), (float(found.group(2)), float(found.group(3)))) if found else (reason, None)
    text = _FAULTS.get(fault, f"多边形无效（{fault}）")
    if place:
        text += f"，位置约 ({place[0]:.6f}, {place[1]:.6f})"
    return text


def bbox(geometry: dict) -> tuple[float, float, float, float]:
    return shape(geometry).bounds


class Metric:
    """A Lambert azimuthal equal-area projection centred on the data: true areas, and distances within a few
    parts per thousand across a city, which is ample for a 5 m tolerance and a 1 m² threshold."""

    def __init__(self, lon: float, lat: float):
        self._forward = Transformer.from_crs(
            "EPSG:4326", f"+proj=laea +lat_0={lat:.6f} +lon_0={lon:.6f} +datum=WGS84 +units=m +no_defs",
            always_xy=True)

    def area(self, geometries) -> np.ndarray:
        """Areas in m² of geometries given in degrees (computed there, so shared borders stay shared)."""
        return shapely.area(self.project(geometries))

    @classmethod
    def around(cls, geometries) -> Metric:
        bounds = shapely.total_bounds(np.asarray(geometries, dtype=object)) if len(geometries) else [0, 0, 0, 0]
        if np.isnan(bounds).any():
            return cls(103.8, 36.06)
        return cls((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2)

    def project(self, geometries) -> np.ndarray:
        """The geometries in metres (an object array, `None` kept as `None`).

        Long edges are cut into pieces of ~100 m first: a straight edge in degrees is a curve in metres, and two
        grids that share half of a long border would otherwise seem to overlap by a sliver of many m²."""
        array = shapely.segmentize(np.asarray(geometries, dtype=object), _SEGMENT_DEGREES)

        def forward(xy):
            x, y = self._forward.transform(xy[:, 0], xy[:, 1])
            return np.column_stack((x, y))

        return shapely.transform(array, forward)
