"""Every GeoJSON list of the REST API at the demo city's full size, read as a third-party client would: complete
when the `next` links are followed (no feature missing or repeated), RFC 7946 winding and 7 decimals on every
geometry, `numberMatched`/`numberReturned` that add up, and a bbox that agrees with the features."""
from __future__ import annotations

import pytest
import shapely
from sqlalchemy import func, select

from minqing.core.accounts import apikeys
from minqing.core.actors import system_actor
from minqing.core.models import Grid, Region
from minqing.web import create_app


@pytest.fixture(scope="module")
def client_and_key(demo_platform):
    with demo_platform.db.session() as session:
        _row, key = apikeys.create(session, system_actor("test"), "admin", "geojson test")
    return create_app({"TESTING": True}, platform=demo_platform).test_client(), key


def follow(client, key: str, url: str) -> tuple[list[dict], list[dict]]:
    """All features of a paged list, and each page's body (without its features)."""
    features, pages = [], []
    while url:
        response = client.get(url, headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        assert response.mimetype == "application/geo+json"
        body = response.get_json()
        features += body["features"]
        pages.append({name: value for name, value in body.items() if name != "features"})
        assert body["numberReturned"] == len(body["features"])
        following = [link["href"] for link in body["links"] if link["rel"] == "next"]
        assert ('rel="next"' in response.headers.get("Link", "")) == bool(following)
        url = following[0].split("localhost", 1)[1] if following else None
    return features, pages


def assert_rfc7946(features: list[dict]) -> None:
    for feature in features:
        geometry = feature["geometry"]
        polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        for rings in polygons:
            assert shapely.LinearRing(rings[0]).is_ccw, feature["id"]
            assert all(not shapely.LinearRing(hole).is_ccw for hole in rings[1:]), feature["id"]
            for ring in rings:
                for lon, lat in ring:
                    assert round(lon, 7) == lon and round(lat, 7) == lat


def test_all_small_grids_in_pages_of_two_thousand(demo_platform, client_and_key):
    client, key = client_and_key
    features, pages = follow(client, key, "/api/v1/grids?level=small&limit=2000")
    with demo_platform.db.session() as session:
        small = session.scalar(select(func.count(Grid.id)).where(Grid.level == "small"))
    ids = [feature["id"] for feature in features]
    assert len(ids) == len(set(ids)) == small == pages[0]["numberMatched"] == 7507
    assert len(pages) == 4
    assert_rfc7946(features)


def test_every_grid_of_every_level_in_one_default_page_and_a_bbox_is_a_subset(client_and_key):
    client, key = client_and_key
    everything, pages = follow(client, key, "/api/v1/grids")
    assert len(everything) == pages[0]["numberMatched"] == 110 + 1086 + 7507
    boxed, _ = follow(client, key, "/api/v1/grids?bbox=103.7,36.0,103.9,36.1&limit=500")
    assert {feature["id"] for feature in boxed} <= {feature["id"] for feature in everything}


def test_regions_are_complete_and_wound_right(demo_platform, client_and_key):
    client, key = client_and_key
    features, pages = follow(client, key, "/api/v1/regions?level=county&limit=3")
    with demo_platform.db.session() as session:
        counties = session.scalar(select(func.count(Region.id)).where(Region.level == "county",
                                                                       Region.geometry.is_not(None)))
    assert len({feature["id"] for feature in features}) == counties == pages[0]["numberMatched"]
    assert_rfc7946(features)
    lons = [lon for feature in features for ring in (
        feature["geometry"]["coordinates"] if feature["geometry"]["type"] == "Polygon"
        else [ring for polygon in feature["geometry"]["coordinates"] for ring in polygon]) for lon, _lat in ring]
    # each page's bbox covers its own features: together they cover all
    assert min(page["bbox"][0] for page in pages) == pytest.approx(min(lons))
    assert max(page["bbox"][2] for page in pages) == pytest.approx(max(lons))


def test_a_layer_of_cases_is_complete(client_and_key):
    client, key = client_and_key
    layers = client.get("/api/v1/layers", headers={"Authorization": f"Bearer {key}"}).get_json()["items"]
    counts = {}
    for layer in layers[:5]:
        features, pages = follow(client, key, f"/api/v1/layers/{layer['key']}/features?limit=7")
        assert len({feature["id"] for feature in features}) == len(features) == pages[0]["numberMatched"]
        counts[layer["key"]] = len(features)
    assert any(counts.values())


def test_a_bad_page_is_a_problem_400(client_and_key):
    client, key = client_and_key
    response = client.get("/api/v1/grids?limit=20000", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 400 and "limit" in response.get_data(as_text=True)
