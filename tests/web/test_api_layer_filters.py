"""The REST layer route takes the web map's record filters: `field`/`value` pairs and `patrol`, with the same
Chinese 400 naming the parameter on a bad one, and says so in the OpenAPI document."""
from __future__ import annotations

from urllib.parse import quote

import pytest

from minqing.core.accounts import apikeys
from minqing.core.actors import system_actor

from tests.fixtures.ledgers import MANAGER_PHONE, add_shelters

LAYER = "/api/v1/layers/emergency.shelters/features"
MAP = "/map/layers/emergency.shelters.geojson"


@pytest.fixture
def api(app, platform, world):
    add_shelters(platform)
    with platform.db.session() as session:
        _row, key = apikeys.create(session, system_actor("test"), "station", "layer filters")
        session.commit()
    client = app.test_client()

    def get(path: str):
        return client.get(path, headers={"Authorization": f"Bearer {key}"})
    return get


def _labels(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return sorted(feature["properties"]["label"] for feature in response.get_json()["features"])


def test_the_api_filters_a_layer_as_the_map_does(api, as_user):
    web = as_user("station")
    for query in (f"field=level&value={quote('Ⅲ类（紧急）')}", "patrol=on_time", "patrol=overdue",
                  f"field=level&value={quote('Ⅰ类（长期）')}&patrol=on_time"):
        assert _labels(api(f"{LAYER}?{query}")) == _labels(web.get(f"{MAP}?{query}")), query
    assert _labels(api(f"{LAYER}?field=level&value={quote('Ⅲ类（紧急）')}")) == ["永昌路小学操场避难点"]
    assert _labels(api(f"{LAYER}?patrol=overdue")) == []
    assert len(_labels(api(LAYER))) == 2


@pytest.mark.parametrize(("query", "parameter", "words"), [
    (f"field=manager_phone&value={MANAGER_PHONE}", "field", "manager_phone"),
    ("field=level", "field", "成对"),
    ("field=level&value=%E4%B8%8D%E5%AD%98%E5%9C%A8", "field", "没有取值"),
    ("patrol=late", "patrol", "on_time"),
    ("field=&value=x", "field", "不能为空"),            # an empty field: refused by the map as by the API
])
def test_a_bad_filter_is_a_chinese_400_naming_the_parameter(api, as_user, query, parameter, words):
    answer = api(f"{LAYER}?{query}")
    problem = answer.get_json()
    assert answer.status_code == 400 and answer.mimetype == "application/problem+json"
    assert list(problem["errors"]) == [parameter] and words in problem["errors"][parameter][0]
    on_the_map = as_user("station").get(f"{MAP}?{query}")
    assert on_the_map.status_code == 400
    if parameter == "patrol" or "成对" not in words:
        assert on_the_map.get_json()["message"] == problem["errors"][parameter][0]   # the same words


def test_the_layer_list_and_openapi_document_the_filters(api):
    layers = api("/api/v1/layers").get_json()["items"]
    shelters = next(layer for layer in layers if layer["key"] == "emergency.shelters")
    assert shelters["records"] is True and shelters["patrol_every_days"] == 30
    assert "level" in [item["key"] for item in shelters["filters"]]
    document = api("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/layers/{key}/features"]["get"]
    names = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert {"field", "value", "patrol"} <= set(names)
    assert names["patrol"]["schema"]["enum"] == ["on_time", "due_soon", "overdue"]
    assert names["field"]["schema"]["type"] == "array" and "400" in operation["responses"]
    layer = document["components"]["schemas"]["Layer"]["properties"]
    assert {"records", "patrol_every_days", "filters"} <= set(layer)
