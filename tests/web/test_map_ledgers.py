"""The map's ledger layers over HTTP: the layer list offers each ledger's filters, a layer's GeoJSON carries each
record's answers masked for the signed-in role, filters by a field's value or patrol status, and says clearly
when a filter is wrong."""
from urllib.parse import quote

from tests.fixtures.ledgers import MANAGER_PHONE, add_shelters

SHELTERS = "/map/layers/emergency.shelters.geojson"


def _fields(feature):
    return {field["title"]: field["value"] for field in feature["properties"]["fields"]}


def test_the_layer_list_offers_the_ledger_filters(as_user):
    answer = as_user("station").get("/map/layers.json").get_json()
    shelters = next(layer for layer in answer["layers"] if layer["key"] == "emergency.shelters")
    assert shelters["records"] is True and shelters["patrol_every_days"] == 30
    level = next(item for item in shelters["filters"] if item["key"] == "level")
    assert level["title"] == "场所类别" and [value["value"] for value in level["values"]][0] == "Ⅰ类（长期）"


def test_a_ledger_layer_shows_records_masked_by_role(platform, as_user):
    add_shelters(platform)
    leader = as_user("leader").get(SHELTERS).get_json()["features"]
    records = [feature for feature in leader if feature["properties"]["kind"] == "record"]
    assert len(records) == 2
    assert _fields(records[0])["管理负责人电话"] == "139****5678" and _fields(records[0])["可容纳人数"] == "3000"
    assert records[0]["properties"]["patrol"]["status"] == "on_time"
    worker = as_user("worker").get(SHELTERS).get_json()["features"]
    assert _fields(worker[0])["管理负责人电话"] == MANAGER_PHONE      # the grid worker's role needs the phone


def test_a_ledger_layer_filters_by_value_and_patrol_status(platform, as_user):
    add_shelters(platform)
    client = as_user("station")
    found = client.get(f"{SHELTERS}?field=level&value={quote('Ⅲ类（紧急）')}").get_json()["features"]
    assert [feature["properties"]["label"] for feature in found] == ["永昌路小学操场避难点"]
    assert client.get(f"{SHELTERS}?patrol=overdue").get_json()["features"] == []
    assert len(client.get(f"{SHELTERS}?patrol=on_time").get_json()["features"]) == 2
    wrong = client.get(f"{SHELTERS}?field=manager_phone&value={MANAGER_PHONE}")
    assert wrong.status_code == 400 and "manager_phone" in wrong.get_json()["message"]
    assert client.get(f"{SHELTERS}?patrol=late").status_code == 400
    assert client.get(f"{SHELTERS}?field=level").status_code == 400
