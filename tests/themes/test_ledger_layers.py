"""Ledger records on their layer: each record's answers by Chinese title, masked for the viewer's role; a filter by
a field's value; the patrol state from the theme's period and the record's last patrol; retired records left out."""
import datetime as dt
import json

import pytest
from sqlalchemy import select

from minqing import themes
from minqing.core.actors import Actor, Grant
from minqing.core.models import Department, ThemeRecord, utcnow

RECORD = {"type": "object", "title": "消火栓档案", "required": ["name", "status"], "properties": {
    "name": {"type": "string", "title": "消火栓编号"},
    "status": {"type": "string", "title": "状态", "enum": ["完好", "损坏", "无水"]},
    "buried": {"type": "boolean", "title": "是否被埋压"},
    "keeper_phone": {"type": "string", "title": "管理人电话", "format": "cn-mobile"},
    "keeper_id": {"type": "string", "title": "管理人身份证号", "format": "cn-id"},
    "address": {"type": "string", "title": "详细地址"},
    "kinds": {"type": "array", "title": "配套设施", "items": {"type": "string", "enum": ["水带", "扳手"]},
              "uniqueItems": True},
    "actual_address": {"type": "string", "title": "实际地址"},
    "note": {"type": "string", "title": "备注"},
    "contacts": {"type": "array", "title": "联系人", "items": {"type": "object", "properties": {
        "name": {"type": "string", "title": "姓名"}, "phone": {"type": "string", "format": "cn-mobile"},
        "address": {"type": "string", "title": "住址"}}}},
}}
PHONE, ID_NUMBER = "13912345678", "620102199001011233"
ADMIN = Actor(1, "管理员", (Grant("admin"),))
WORKER = Actor(3, "网格员", (Grant("grid_worker", grid_code="G620102001"),))
LEADER = Actor(4, "领导", (Grant("leader", region_code="620102000000"),))
OPERATOR = Actor(5, "坐席", (Grant("operator", region_code="620102000000"),))


@pytest.fixture
def hydrants(platform, system, city, theme, theme_plugin):
    document = theme("water_affairs.zz_hydrants", title="消火栓", layer={"geometry": "point"},
                     patrol_every_days=10, forms={"record": RECORD, "report": {"type": "object", "properties": {}}})
    platform.plugins.register(theme_plugin(document), "hydrant_plugin")
    now = utcnow().replace(microsecond=0)
    with platform.db.session() as session:
        session.add(Department(key="water_affairs", name="兰州市水务局", short_name="水务"))
        themes.sync_themes(platform, session, system)
        made = {}
        # name, status, buried, days since the last patrol (None: never patrolled, created 3 days ago)
        for name, status, buried, days in (("XHS-1", "完好", False, 1), ("XHS-2", "损坏", True, 9),
                                           ("XHS-3", "无水", False, 15), ("XHS-4", "完好", True, None)):
            record = themes.add_record(platform, session, system, "water_affairs.zz_hydrants",
                                       {"name": name, "status": status, "buried": buried, "keeper_phone": PHONE,
                                        "keeper_id": ID_NUMBER, "address": "张掖路12号楼3单元", "kinds": ["水带", "扳手"]},
                                       lon=103.01, lat=36.01)
            if days is None:
                record.created_at = now - dt.timedelta(days=3)
            else:
                record.last_patrolled_at = now - dt.timedelta(days=days)
            made[name] = record.id
    return {"ids": made, "now": now}


def page(platform, session, viewer, **options):
    return themes.layer_page(platform, session, "water_affairs.zz_hydrants", viewer, **options)["features"]


def by_name(features):
    return {feature["properties"]["label"]: feature["properties"] for feature in features}


def test_a_record_shows_its_answers_by_title_masked_for_the_role(platform, session, hydrants):
    leader = by_name(page(platform, session, LEADER))["XHS-1"]
    fields = {field["title"]: field["value"] for field in leader["fields"]}
    assert [field["title"] for field in leader["fields"]][:3] == ["消火栓编号", "状态", "是否被埋压"]
    assert fields["状态"] == "完好" and fields["是否被埋压"] == "否" and fields["配套设施"] == "水带；扳手"
    assert fields["管理人电话"] == "139****5678"                   # a leader's role does not need phones
    assert fields["管理人身份证号"] == "620102********1233"        # nobody's role shows ID numbers whole
    assert fields["详细地址"] == "张掖路*号楼*单元"                 # nor exact addresses
    worker = {field["title"]: field["value"] for field in by_name(page(platform, session, WORKER))["XHS-1"]["fields"]}
    assert worker["管理人电话"] == PHONE and worker["详细地址"] == "张掖路12号楼3单元"
    assert worker["管理人身份证号"] == "620102********1233"
    assert leader["kind"] == "record" and PHONE not in str(leader) and ID_NUMBER not in str(leader)


def test_patrol_status_from_the_period_and_the_last_patrol(platform, session, hydrants):
    states = {name: properties["patrol"]["status"]
              for name, properties in by_name(page(platform, session, ADMIN, now=hydrants["now"])).items()}
    # period 10 days, due soon in its last fifth (2 days); never patrolled counts from creation
    assert states == {"XHS-1": "on_time", "XHS-2": "due_soon", "XHS-3": "overdue", "XHS-4": "on_time"}
    overdue = by_name(page(platform, session, ADMIN, now=hydrants["now"]))["XHS-3"]["patrol"]
    assert overdue["label"] == "巡查超期"
    # due 10 days after the last patrol 15 days ago, as an instant (the answer is in the city's time, with offset)
    assert dt.datetime.fromisoformat(overdue["due"]) == hydrants["now"] - dt.timedelta(days=5)
    for status, names in (("overdue", ["XHS-3"]), ("due_soon", ["XHS-2"]), ("on_time", ["XHS-1", "XHS-4"])):
        found = page(platform, session, ADMIN, patrol=status, now=hydrants["now"])
        assert sorted(feature["properties"]["label"] for feature in found) == names, status


def test_the_layer_filters_by_a_field_value(platform, session, hydrants):
    def labels(**filters):
        return sorted(f["properties"]["label"] for f in page(platform, session, ADMIN, filters=filters))

    assert labels(status="完好") == ["XHS-1", "XHS-4"]
    assert labels(status="无水") == ["XHS-3"]
    assert labels(buried="true") == ["XHS-2", "XHS-4"] and labels(buried="false") == ["XHS-1", "XHS-3"]
    assert labels(status="完好", buried="true") == ["XHS-4"]
    with pytest.raises(themes.BadFilter, match="keeper_phone"):
        labels(keeper_phone=PHONE)                     # only fields with a fixed set of values filter
    with pytest.raises(themes.BadFilter, match="漏水"):
        labels(status="漏水")


def test_the_layer_offers_its_filters(platform, session, hydrants):
    layers = {layer["key"]: layer for group in themes.visible_layers(platform, session, ADMIN)
              for layer in group["layers"]}
    layer = layers["water_affairs.zz_hydrants"]
    assert layer["records"] is True and layer["patrol_every_days"] == 10
    filters = {item["key"]: item for item in layer["filters"]}
    assert set(filters) == {"status", "buried"}
    assert [value["value"] for value in filters["status"]["values"]] == ["完好", "损坏", "无水"]
    assert filters["buried"]["title"] == "是否被埋压"
    assert [value["label"] for value in filters["buried"]["values"]] == ["是", "否"]


def test_retired_records_are_not_on_the_map(platform, session, hydrants):
    record = session.get(ThemeRecord, hydrants["ids"]["XHS-2"])
    record.retired_at = utcnow()
    session.flush()
    assert "XHS-2" not in by_name(page(platform, session, ADMIN))
    assert session.scalar(select(ThemeRecord.id).where(ThemeRecord.id == record.id)) == record.id


def test_the_geojson_export_writes_points_as_the_map_does(platform, session, system, hydrants):
    """A point given as lon/lat is stored with all of a float's digits; the export wrote them all (RFC 7946 §11.2)."""
    import io

    from minqing.themes import ledger_files

    record = themes.add_record(platform, session, system, "water_affairs.zz_hydrants",
                               {"name": "XHS-8", "status": "完好"}, lon=103.012345678912345, lat=36.012345678912345)
    session.flush()
    stream = io.BytesIO()
    ledger_files.export_ledger(session, ADMIN, stream, "water_affairs.zz_hydrants", fmt="geojson")
    (feature,) = [item for item in json.loads(stream.getvalue())["features"] if item["id"] == record.id]
    assert feature["geometry"] == {"type": "Point", "coordinates": [103.0123457, 36.0123457]}


def test_an_address_field_on_the_map_keeps_none_of_its_numbers(platform, session, system, hydrants):
    """An address written with dashes (庆阳路12-3-502) has no 号/单元 for the free-text rule to find: the field's
    name says it is an address, and the map masks it as one for a role that does not need addresses."""
    data = {"name": "XHS-8", "status": "完好", "actual_address": "庆阳路12-3-502"}
    themes.add_record(platform, session, system, "water_affairs.zz_hydrants", data, lon=103.01, lat=36.01)
    session.flush()

    def shown(viewer):
        fields = by_name(page(platform, session, viewer))["XHS-8"]["fields"]
        return {field["key"]: field["value"] for field in fields}["actual_address"]

    assert shown(LEADER) == "庆阳路*-*-*"
    assert shown(WORKER) == "庆阳路12-3-502"          # a grid worker's role needs the address


@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_the_ledger_export_masks_as_the_map_does(platform, session, system, hydrants, fmt):
    """A leader's export hides house numbers wherever the map hides them (an `actual_address`, free text, a
    nested address) and phones; a role that needs addresses and phones gets them whole; ID numbers never."""
    import csv
    import io

    from minqing.themes import ledger_files

    data = {"name": "XHS-9", "status": "完好", "keeper_id": ID_NUMBER, "actual_address": "张掖路88号",
            "note": f"管理人住酒泉路7号楼，电话{PHONE}，身份证{ID_NUMBER}",
            "contacts": [{"name": "李四", "phone": PHONE, "address": "庆阳路12-3-502"}]}
    record = themes.add_record(platform, session, system, "water_affairs.zz_hydrants", data, lon=103.01, lat=36.01)
    session.flush()

    def exported(viewer) -> dict:
        stream = io.BytesIO()
        ledger_files.export_ledger(session, viewer, stream, "water_affairs.zz_hydrants", fmt=fmt)
        if fmt == "geojson":
            rows = [feature["properties"] for feature in json.loads(stream.getvalue())["features"]]
        else:
            rows = list(csv.DictReader(io.StringIO(stream.getvalue().decode("utf-8-sig"))))
            for row in rows:
                row["contacts"] = json.loads(row["contacts"]) if row["contacts"] else None
        return next(row for row in rows if str(row["id"]) == str(record.id))

    def on_map(viewer) -> dict:
        fields = by_name(page(platform, session, viewer))["XHS-9"]["fields"]
        return {field["key"]: field["value"] for field in fields}

    leader, shown = exported(LEADER), on_map(LEADER)
    assert leader["actual_address"] == "张掖路*号" == shown["actual_address"]
    assert leader["note"] == "管理人住酒泉路*号楼，电话139****5678，身份证620102********1233" == shown["note"]
    assert leader["contacts"] == [{"name": "李四", "phone": "139****5678", "address": "庆阳路*-*-*"}]
    assert "88号" not in str(leader) and "7号楼" not in str(leader) and PHONE not in str(leader)
    assert ID_NUMBER not in str(leader)
    for viewer in (OPERATOR, WORKER):     # roles whose work needs addresses and phones
        whole = exported(viewer)
        assert whole["actual_address"] == "张掖路88号" == on_map(viewer)["actual_address"]
        assert whole["note"] == f"管理人住酒泉路7号楼，电话{PHONE}，身份证620102********1233"
        assert whole["contacts"] == [{"name": "李四", "phone": PHONE, "address": "庆阳路12-3-502"}]
        assert whole["keeper_id"] == "620102********1233"


def test_a_layer_page_is_built_from_columns_not_record_objects(platform, session, hydrants):
    session.expunge_all()
    features = page(platform, session, LEADER)
    assert len(features) == 4 and {item["id"] for item in features} == set(hydrants["ids"].values())
    # 10,000 ORM objects a page were most of its time: none is loaded now
    assert not [item for item in session.identity_map.values() if isinstance(item, ThemeRecord)]
