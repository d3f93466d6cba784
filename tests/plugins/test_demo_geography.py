"""The demo city's geography: counts, codes, topology and determinism (pure: no database)."""
from __future__ import annotations

import re
import time
from collections import Counter, defaultdict

import numpy as np
import pytest
import shapely

from minqing.plugins.demo_city import geography as geo
from minqing.plugins.demo_city.geography import TOTAL_STEPS, build_geography, city_outline, county_outlines

SEED = 2260
REGION_COUNTS = {"city": 1, "county": 9, "township": 114, "village": 1180, "group": 7507}
GRID_COUNTS = {"large": 110, "medium": 1086, "small": 7507}


@pytest.fixture(scope="module")
def built():
    steps: list[int] = []
    started = time.perf_counter()
    result = build_geography(SEED, progress=steps.append)
    return result, time.perf_counter() - started, steps


@pytest.fixture(scope="module")
def g(built):
    return built[0]


@pytest.fixture(scope="module")
def regions(g):
    by_level = defaultdict(list)
    for area in g.regions:
        by_level[area.level].append(area)
    return by_level


@pytest.fixture(scope="module")
def grids(g):
    by_level = defaultdict(list)
    for cell in g.grids:
        by_level[cell.level].append(cell)
    return by_level


def _array(items) -> np.ndarray:
    return np.array([item.geometry for item in items], dtype=object)


# ------------------------------------------------------------------------------------------------ counts


def test_counts_per_level(g, regions, grids):
    assert {level: len(items) for level, items in regions.items()} == REGION_COUNTS
    assert {level: len(items) for level, items in grids.items()} == GRID_COUNTS
    assert len(g.grids) == 8703
    assert g.seed == SEED


def test_lists_are_ordered_parents_first(g):
    seen: set[str] = set()
    for area in g.regions:
        assert area.parent_code is None or area.parent_code in seen, area.code
        seen.add(area.code)
    assert [cell.level for cell in g.grids] == ["large"] * 110 + ["medium"] * 1086 + ["small"] * 7507
    seen = set()
    for cell in g.grids:
        assert cell.parent_code is None or cell.parent_code in seen, cell.code
        seen.add(cell.code)


def test_build_reports_progress(built):
    # How fast the build is belongs to benchmarks/ (no timed assertions in tests); here only that every step reports.
    _, _, steps = built
    assert all(step > 0 for step in steps)
    assert sum(steps) == TOTAL_STEPS == build_geography.TOTAL_STEPS == 9 + 114 + 1180 + 7507


# ------------------------------------------------------------------------------------------------- codes


def test_region_codes_are_well_formed_and_nested(g, regions):
    codes = [area.code for area in g.regions]
    assert len(set(codes)) == len(codes)
    (city,) = regions["city"]
    assert (city.code, city.name, city.parent_code) == ("620100000000", "兰州市", None)
    prefix = {"county": 4, "township": 6, "village": 9, "group": 12}
    pattern = {"county": r"6201\d\d000000", "township": r"6201\d{5}000", "village": r"6201\d{8}",
               "group": r"6201\d{11}"}
    parents = {area.code: area for area in g.regions}
    for level in ("county", "township", "village", "group"):
        for area in regions[level]:
            assert re.fullmatch(pattern[level], area.code), area.code
            parent = parents[area.parent_code]
            assert parent.level == geo.LEVELS[geo.LEVELS.index(level) - 1]
            assert area.code.startswith(parent.code[:prefix[level]]), (area.code, parent.code)
            assert area.code[prefix[level]:prefix[level] + 3] != "000"  # a real sequence number
    assert sorted(area.code[:6] for area in regions["county"]) == [
        "620102", "620103", "620104", "620105", "620111", "620121", "620122", "620123", "620171"]


def test_township_and_village_codes_follow_the_statistical_series(regions):
    for township in regions["township"]:
        sequence = int(township.code[6:9])
        if township.name.endswith("街道"):
            assert 1 <= sequence < 100 and township.urban
        elif township.name.endswith("镇"):
            assert 100 <= sequence < 200 and not township.urban
        else:
            assert township.name.endswith("乡") and 200 <= sequence < 400 and not township.urban
    for village in regions["village"]:
        sequence = int(village.code[9:12])
        if village.urban:
            assert village.name.endswith("社区") and 1 <= sequence < 200
        else:
            assert village.name.endswith("村") and 200 < sequence < 400


def test_grid_codes_are_hierarchical(g, grids, regions):
    codes = [cell.code for cell in g.grids]
    assert len(set(codes)) == len(codes)
    county_codes = {area.code[:6] for area in regions["county"]}
    lengths = {"large": 10, "medium": 13, "small": 16}
    for cell in g.grids:
        assert re.fullmatch(r"G\d+", cell.code) and len(cell.code) == lengths[cell.level], cell.code
        assert cell.code[1:7] in county_codes
        assert cell.code[-3:] != "000"
        if cell.level == "large":
            assert cell.parent_code is None
        else:
            assert cell.code.startswith(cell.parent_code) and len(cell.parent_code) == len(cell.code) - 3
    # large grids are numbered 001… within their county
    by_county = defaultdict(list)
    for cell in grids["large"]:
        by_county[cell.code[1:7]].append(int(cell.code[7:]))
    for numbers in by_county.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))


def test_names_are_unique_among_siblings(g, regions):
    siblings = Counter((area.parent_code, area.name) for area in g.regions)
    assert max(siblings.values()) == 1
    counties = {area.name for area in regions["county"]}
    assert counties == {"城关区", "七里河区", "西固区", "安宁区", "红古区", "永登县", "皋兰县", "榆中县", "兰州新区"}
    chengguan = {area.name for area in regions["township"] if area.code.startswith("620102")}
    assert {"张掖路街道", "酒泉路街道", "雁南街道", "青白石街道", "九州街道"} <= chengguan
    yuzhong = {area.name for area in regions["township"] if area.code.startswith("620123")}
    assert {"城关镇", "夏官营镇", "和平镇", "定远镇", "连搭镇", "金崖镇", "青城镇"} <= yuzhong


def test_distribution_is_realistic(regions, grids):
    per_township = Counter(area.parent_code for area in regions["village"])
    assert set(per_township) == {area.code for area in regions["township"]}
    urban_townships = {area.code for area in regions["township"] if area.urban}
    assert min(per_township.values()) >= 8
    assert all(per_township[code] <= 15 for code in urban_townships)
    assert max(per_township.values()) <= 20
    per_village = Counter(area.parent_code for area in regions["group"])
    assert min(per_village.values()) >= 2
    urban = [area.code for area in regions["village"] if area.urban]
    rural = [area.code for area in regions["village"] if not area.urban]
    urban_mean = sum(per_village[code] for code in urban) / len(urban)
    rural_mean = sum(per_village[code] for code in rural) / len(rural)
    assert 6.5 < urban_mean < 9.5 and 4.5 < rural_mean < 6.5 and urban_mean > rural_mean
    assert sum(not cell.urban for cell in grids["small"]) >= 3823  # spec.RURAL_FULL_TIME: one per rural grid
    # urban districts are made of small townships, counties of large ones
    area = {t.code: t.geometry.area for t in regions["township"]}
    streets = [area[t.code] for t in regions["township"] if t.code.startswith("620102")]
    towns = [area[t.code] for t in regions["township"] if t.code.startswith(("620121", "620123"))]
    assert max(streets) < min(towns)


def test_urban_flags(regions, grids):
    village_urban = {area.code: area.urban for area in regions["village"]}
    for group in regions["group"]:
        assert group.urban == village_urban[group.parent_code]
    for cell in grids["small"]:
        assert cell.urban == village_urban[cell.region_code[:12]]
    assert 400 < sum(village_urban.values()) < 600


def test_dedicated_grids(g, grids):
    dedicated = [cell for cell in g.grids if cell.dedicated]
    assert len(dedicated) == geo.DEDICATED_GRIDS == 60
    for cell in dedicated:
        assert cell.level == "small" and cell.urban
        assert cell.code[1:7] in geo.URBAN_DISTRICTS


# -------------------------------------------------------------------------------------------- geometry


def test_all_geometries_are_valid_polygons_with_positive_area(g):
    items = g.regions + g.grids
    assert all(item.geometry is not None for item in items)
    geometries = _array(items)
    assert shapely.is_valid(geometries).all()
    assert not shapely.is_empty(geometries).any()
    assert (shapely.area(geometries) > 0).all()
    assert {geometry.geom_type for geometry in geometries} <= {"Polygon", "MultiPolygon"}


def test_everything_lies_within_lanzhou(g):
    coordinates = shapely.get_coordinates(_array(g.regions + g.grids))
    assert coordinates[:, 0].min() >= 102.5 and coordinates[:, 0].max() <= 104.7
    assert coordinates[:, 1].min() >= 35.5 and coordinates[:, 1].max() <= 37.1


def test_counties_are_the_real_outlines_and_partition_the_city(regions):
    outlines = county_outlines()
    for county in regions["county"]:
        assert shapely.equals_exact(county.geometry, outlines[county.code[:6]], 0)
    city = city_outline()
    (city_area,) = regions["city"]
    assert city_area.geometry.area == pytest.approx(city.area, rel=1e-12)
    total = sum(county.geometry.area for county in regions["county"])
    assert total == pytest.approx(city.area, rel=1e-9)
    new_area = outlines["620171"]
    minx, miny, maxx, maxy = new_area.bounds
    assert 103.45 < minx < maxx < 103.95 and 36.35 < miny < maxy < 36.75
    km2 = new_area.area * 111.32 ** 2 * np.cos(np.radians(36.5))
    assert 400 < km2 < 1800
    # carved out of 永登 and 皋兰, which keep the rest
    for code in ("620121", "620122"):
        assert outlines[code].intersection(new_area).area < 1e-12
    chengguan = outlines["620102"]
    assert chengguan.bounds == pytest.approx((103.765, 35.962, 103.983, 36.224), abs=1e-3)


def _overlaps(items) -> float:
    """The largest overlap between two items of a list, relative to the smaller one's area."""
    geometries = _array(items)
    tree = shapely.STRtree(geometries)
    left, right = tree.query(geometries, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    assert len(left) > 0  # neighbours do touch
    shared = shapely.area(shapely.intersection(geometries[left], geometries[right]))
    smaller = np.minimum(shapely.area(geometries[left]), shapely.area(geometries[right]))
    return float((shared / smaller).max())


@pytest.mark.parametrize("level", ["county", "township", "village"])
def test_regions_of_one_level_do_not_overlap(regions, level):
    assert _overlaps(regions[level]) < 1e-9


@pytest.mark.parametrize("level", ["large", "medium", "small"])
def test_grids_of_one_level_do_not_overlap(grids, level):
    assert _overlaps(grids[level]) < 1e-9


def _outside(children: np.ndarray, parents: np.ndarray) -> float:
    """The largest share of a child's area that lies outside its parent."""
    return float((shapely.area(shapely.difference(children, parents)) / shapely.area(children)).max())


def test_grids_nest(g, grids):
    by_code = {cell.code: cell for cell in g.grids}
    for level in ("medium", "small"):
        children = grids[level]
        parents = np.array([by_code[cell.parent_code].geometry for cell in children], dtype=object)
        assert _outside(_array(children), parents) < 1e-9
    # and each parent is exactly covered by its children
    for level in ("large", "medium"):
        kids = defaultdict(list)
        for cell in grids["medium" if level == "large" else "small"]:
            kids[cell.parent_code].append(cell.geometry.area)
        for cell in grids[level]:
            assert sum(kids[cell.code]) == pytest.approx(cell.geometry.area, rel=1e-9)


def test_regions_nest(g, regions):
    by_code = {area.code: area for area in g.regions}
    for level in ("county", "township", "village", "group"):
        children = regions[level]
        parents = np.array([by_code[area.parent_code].geometry for area in children], dtype=object)
        assert _outside(_array(children), parents) < 1e-9


def test_small_grids_cover_the_city(grids):
    city = city_outline()
    small = _array(grids["small"])
    union = shapely.union_all(small)
    assert union.area == pytest.approx(city.area, rel=1e-6)
    assert shapely.area(small).sum() == pytest.approx(city.area, rel=1e-6)
    assert shapely.symmetric_difference(union, city).area < 1e-6 * city.area


def test_grids_serve_their_regions(g, regions, grids):
    by_code = {area.code: area for area in g.regions}
    # each group is served by exactly one small grid, which has the group's geometry
    served = Counter(cell.region_code for cell in grids["small"])
    assert set(served) == {area.code for area in regions["group"]} and max(served.values()) == 1
    for cell in grids["small"]:
        group = by_code[cell.region_code]
        assert group.level == "group" and group.geometry.equals(cell.geometry)
    # every village lies in exactly one medium grid
    village_medium = defaultdict(set)
    for cell in grids["small"]:
        village_medium[cell.region_code[:12]].add(cell.parent_code)
    assert len(village_medium) == 1180 and all(len(parents) == 1 for parents in village_medium.values())
    single = {"large": "township", "medium": "village"}
    for cell in grids["large"] + grids["medium"]:
        region = by_code[cell.region_code]
        assert region.level in {"large": ("township", "county"), "medium": ("village", "township")}[cell.level]
        if region.level == single[cell.level]:
            assert cell.urban == region.urban


def _adjacent(a, b) -> bool:
    return shapely.intersection(a.boundary, b.boundary).length > 0 and a.intersection(b).area < 1e-12


def test_four_large_grids_cover_two_adjacent_townships(g, regions, grids):
    by_code = {area.code: area for area in g.regions}
    townships_of_large: dict[str, set[str]] = defaultdict(set)
    medium_large = {cell.code: cell.parent_code for cell in grids["medium"]}
    for cell in grids["small"]:
        townships_of_large[medium_large[cell.parent_code]].add(cell.region_code[:9] + "000")
    doubles = [cell for cell in grids["large"] if by_code[cell.region_code].level == "county"]
    assert len(doubles) == 4
    for cell in grids["large"]:
        covered = sorted(townships_of_large[cell.code])
        if cell in doubles:
            assert len(covered) == 2
            first, second = (by_code[code] for code in covered)
            assert first.parent_code == second.parent_code == cell.region_code
            assert _adjacent(first.geometry, second.geometry)
            union = shapely.union(first.geometry, second.geometry)
            assert shapely.symmetric_difference(union, cell.geometry).area < 1e-9 * union.area
        else:
            assert covered == [cell.region_code]
            assert by_code[cell.region_code].geometry.equals(cell.geometry)
    assert sum(len(v) for v in townships_of_large.values()) == 114


def test_ninety_four_medium_grids_cover_two_adjacent_villages(g, grids):
    by_code = {area.code: area for area in g.regions}
    villages_of_medium: dict[str, set[str]] = defaultdict(set)
    for cell in grids["small"]:
        villages_of_medium[cell.parent_code].add(cell.region_code[:12])
    doubles = [cell for cell in grids["medium"] if by_code[cell.region_code].level == "township"]
    assert len(doubles) == 94
    for cell in grids["medium"]:
        covered = sorted(villages_of_medium[cell.code])
        if by_code[cell.region_code].level == "township":
            assert len(covered) == 2
            first, second = (by_code[code] for code in covered)
            assert first.parent_code == second.parent_code == cell.region_code
            assert _adjacent(first.geometry, second.geometry)
            union = shapely.union(first.geometry, second.geometry)
            assert shapely.symmetric_difference(union, cell.geometry).area < 1e-9 * union.area
        else:
            assert covered == [cell.region_code]
            assert by_code[cell.region_code].geometry.equals(cell.geometry)


def test_small_grids_subdivide_one_village(grids, regions):
    by_code = {area.code: area for area in regions["village"]}
    areas = defaultdict(float)
    for cell in grids["small"]:
        areas[cell.region_code[:12]] += cell.geometry.area
    for code, village in by_code.items():
        assert areas[code] == pytest.approx(village.geometry.area, rel=1e-9)


def test_geojson(g, regions, grids):
    shape = grids["small"][0].geojson()
    assert shape["type"] in ("Polygon", "MultiPolygon") and shape["coordinates"]
    assert regions["city"][0].geojson()["type"] in ("Polygon", "MultiPolygon")


# ----------------------------------------------------------------------------------------- determinism


def _fingerprint(result) -> list[tuple]:
    return ([(a.code, a.name, a.level, a.parent_code, a.urban, shapely.to_wkb(a.geometry)) for a in result.regions]
            + [(c.code, c.name, c.level, c.parent_code, c.region_code, c.urban, c.dedicated,
                shapely.to_wkb(c.geometry)) for c in result.grids])


def test_same_seed_same_city_other_seed_other_city(g):
    again = build_geography(SEED)
    assert _fingerprint(again) == _fingerprint(g)
    other = build_geography(SEED + 1)
    assert [a.name for a in other.regions] != [a.name for a in g.regions]
    small = [c.geometry for c in g.grids if c.level == "small"]
    other_small = [c.geometry for c in other.grids if c.level == "small"]
    assert sum(not a.equals_exact(b, 0) for a, b in zip(small, other_small)) > 7000
    # the real outlines do not depend on the seed
    assert [a.geometry.wkb for a in other.regions[:10]] == [a.geometry.wkb for a in g.regions[:10]]
