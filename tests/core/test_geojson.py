"""GeoJSON to the letter of RFC 7946 (winding, precision) and lists that are never cut silently (pages that say
how many features matched), for grids, regions, cases and theme layers."""
from __future__ import annotations

import pytest
import shapely
from shapely.geometry import Polygon, shape
from sqlalchemy import select

from minqing.core.geo import features as geofeatures, geojson
from minqing.core import counters
from minqing.core.actors import actor_for
from minqing.core.geo.integrity import GRIDS_COUNTER
from minqing.core.geo.geojson import Page
from minqing.core.models import Account, Grid

CLOCKWISE_WITH_HOLE = {"type": "Polygon", "coordinates": [
    [[103.800000000000011, 36.0], [103.8, 36.100000000000001], [103.900000000000006, 36.1],
     [103.9, 36.0], [103.800000000000011, 36.0]],                                           # clockwise
    [[103.82, 36.02], [103.84, 36.02], [103.84, 36.04], [103.82, 36.04], [103.82, 36.02]]]}  # counterclockwise


def is_ccw(ring) -> bool:
    return shapely.LinearRing(ring).is_ccw


def test_exterior_rings_counterclockwise_holes_clockwise_seven_decimals():
    written = geojson.geometry(CLOCKWISE_WITH_HOLE)
    exterior, hole = written["coordinates"]
    assert is_ccw(exterior) and not is_ccw(hole)
    numbers = [number for ring in written["coordinates"] for point in ring for number in point]
    assert all(round(number, 7) == number for number in numbers)
    assert [103.8, 36.0] in exterior and shape(written).area == pytest.approx(Polygon(
        CLOCKWISE_WITH_HOLE["coordinates"][0], [CLOCKWISE_WITH_HOLE["coordinates"][1]]).area)


def test_multipolygons_and_points_pass_through_the_same_function():
    multi = {"type": "MultiPolygon", "coordinates": [CLOCKWISE_WITH_HOLE["coordinates"]]}
    assert is_ccw(geojson.geometry(multi)["coordinates"][0][0])
    assert geojson.geometry({"type": "Point", "coordinates": [103.123456789, 36.987654321]}) == \
        {"type": "Point", "coordinates": [103.1234568, 36.9876543]}
    assert geojson.geometry(None) is None


def test_early_warnings_on_the_map_are_written_through_the_same_function():
    """/manage/warnings.geojson and the early-warning layer wrote a case's point with all of a float's digits."""
    from minqing.core.warning_rules import EarlyWarning, geojson_features

    warning = EarlyWarning(rule="cluster", key="g1", title="同类事件聚集", reason="3 件", lon=103.831234567891234,
                           lat=36.051234567891234)
    (feature,) = geojson_features([warning, EarlyWarning(rule="cluster", key="g2", title="无位置", reason="")])
    assert feature["geometry"] == {"type": "Point", "coordinates": [103.8312346, 36.0512346]}
    assert feature["id"] == "cluster:g1" and feature["properties"]["title"] == "同类事件聚集"


@pytest.mark.parametrize("limit, offset, says", [("0", None, "limit"), ("10001", None, "limit"),
                                                 ("x", None, "limit"), (None, "-1", "offset")])
def test_bad_pages_are_refused_in_chinese(limit, offset, says):
    with pytest.raises(geojson.BadPage, match=says):
        Page.parse(limit, offset)


def test_grid_pages_are_complete_and_say_how_many_matched(platform, world):
    with platform.db.session() as session:
        session.execute(Grid.__table__.update().where(Grid.code == "G620102002")
                        .values(geometry=CLOCKWISE_WITH_HOLE))      # a grid stored clockwise, as a file may have it
        counters.bump(session, GRIDS_COUNTER)   # a raw UPDATE: say the grids changed, as the grid import does
        admin = actor_for(session, session.scalar(select(Account).where(Account.username == "admin")))
        everything = geofeatures.grid_features(session, admin, levels=["large", "medium", "small"])
        assert everything["numberMatched"] == everything["numberReturned"] == 4
        seen = []
        for offset in range(0, 4):
            page = geofeatures.grid_features(session, admin, levels=["large", "medium", "small"],
                                             page=Page(limit=1, offset=offset))
            assert page["numberMatched"] == 4 and page["numberReturned"] == 1
            seen += [feature["id"] for feature in page["features"]]
        assert sorted(seen) == sorted(feature["id"] for feature in everything["features"])
        for feature in everything["features"]:
            assert is_ccw(feature["geometry"]["coordinates"][0]), feature["properties"]["code"]
        assert everything["bbox"] == [103.8, 36.0, 103.9, 36.1]


def test_the_map_follows_next_links_to_every_grid(platform, world, as_user):
    client = as_user("admin")
    url, seen = "/map/grids.geojson?level=large&limit=1", []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        body = response.get_json()
        seen += [feature["id"] for feature in body["features"]]
        following = [link["href"] for link in body["links"] if link["rel"] == "next"]
        assert (response.headers.get("Link") is not None) == bool(following)
        url = following[0].replace("http://localhost", "") if following else None
    assert len(seen) == len(set(seen)) == body["numberMatched"] == 2
    assert client.get("/map/grids.geojson?limit=0").status_code == 400


def test_documents_are_encoded_as_utf8_json_and_what_orjson_refuses_still_encodes():
    import decimal
    import json

    body = {"type": "FeatureCollection", "features": [{"type": "Feature", "id": 1, "properties": {
        "label": "永昌路避难点", "area": decimal.Decimal("12.5")}, "geometry": {"type": "Point", "coordinates": [1, 2]}}]}
    encoded = geojson.encode(body)
    assert "永昌路避难点".encode() in encoded                       # Chinese as UTF-8, not escapes
    assert json.loads(encoded)["features"][0]["properties"]["area"] == "12.5"
    lone = geojson.encode({"label": "a\ud800b", 1: "integer key"})   # a lone surrogate cannot be UTF-8
    assert lone.isascii() and json.loads(lone) == {"label": "a\ud800b", "1": "integer key"}


def test_points_keep_the_rounding_and_the_box_of_the_one_writer():
    point = geojson.geometry({"type": "Point", "coordinates": (103.123456789, 36.000000049, 1520.5)})
    assert point == {"type": "Point", "coordinates": [103.1234568, 36.0, 1520.5]}
    features = [geojson.feature(index, {"type": "Point", "coordinates": [103.8 + index, 36.1 - index]}, {})
                for index in range(3)]
    assert geojson.collection(features)["bbox"] == [103.8, 34.1, 105.8, 36.1]
