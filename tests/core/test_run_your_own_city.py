"""README's "Run your own city", step by step, without the demo builder: from an empty database (no schema at all)
`minqing init`, the three imports of the example files (docs/examples/city/), the first administrator's password
from the command line, a one-time code given out on the admin page, the imported grid worker's first sign-in with it
and their password, and a first report located inside their imported grid. Runs on SQLite, and on PostgreSQL when
MINQING_DATABASE_URL says so (in a database of its own next to the configured one)."""
from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image
from sqlalchemy import func, select

from minqing.core.models import Account, AuditRecord, Case, Grid, Region
from minqing.core.platform import Platform
from minqing.web import create_app

from tests.fixtures.own_city import (ADMIN, ADMIN_PASSWORD, EXAMPLES, empty_database, example_grids,
                                     example_regions, example_worker, point_inside, set_up_example_city)

WORKER_PASSWORD = "Liufang#Grid2026"
THEME = "urban_management.street_vending"


@pytest.fixture
def database(tmp_path_factory):
    with empty_database(tmp_path_factory) as url:
        yield url


def photo() -> tuple[io.BytesIO, str]:
    output = io.BytesIO()
    Image.new("RGB", (32, 24), (30, 140, 90)).save(output, format="JPEG")
    output.seek(0)
    return output, "现场.jpg"


def test_the_examples_hold_a_grid_worker_whose_grid_and_regions_are_there_too():
    regions = example_regions()
    _, grid_code = example_worker()
    region = example_grids()[grid_code]["properties"]["region_code"]
    chain = []
    while region:
        chain.append(regions[region]["level"])
        region = regions[region]["parent_code"]
    assert chain == ["group", "village", "township", "county", "city"]
    with open(EXAMPLES / "county-outlines.geojson", encoding="utf-8") as handle:
        outlined = {feature["properties"]["code"] for feature in json.load(handle)["features"]}
    assert grid_code[1:7] + "000000" in outlined   # the worker's grid is checked against a real county outline


def test_from_an_empty_database_to_a_grid_workers_first_report(database):
    worker, grid_code = example_worker()
    said = set_up_example_city(database)
    assert list(said) == ["init", "regions.csv", "county-outlines.geojson", "grids.geojson", "accounts.csv",
                          "accounts"]
    assert "城市设置已初始化：兰州市（620100000000），时区 Asia/Shanghai" in said["init"]
    assert "新增 30" in said["regions.csv"] and "更新边界 2" in said["county-outlines.geojson"]
    assert "新增 28" in said["grids.geojson"] and "新增 9" in said["accounts.csv"]
    assert f"已为 {ADMIN} 设置新密码" in said["accounts"]

    platform = Platform(database)
    try:
        app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, platform=platform)
        admin = app.test_client()
        assert admin.post("/login", data={"username": ADMIN, "password": ADMIN_PASSWORD}).status_code == 302
        with platform.db.session() as session:
            worker_id = session.scalar(select(Account.id).where(Account.username == worker))
        assert worker in admin.get(f"/admin/users?q={worker}").get_data(as_text=True)
        issued = admin.post(f"/admin/users/{worker_id}/code").get_data(as_text=True)
        code = re.search(r'id="issued-code">(\d{8})<', issued).group(1)

        phone = app.test_client()
        assert phone.post("/login", data={"username": worker, "password": WORKER_PASSWORD}).status_code == 400
        signed_in = phone.post("/login/code", data={"username": worker, "code": code})
        assert signed_in.status_code == 302 and signed_in.location.endswith("/account/password")
        assert phone.get("/work/report").location.endswith("/account/password")   # the password comes first
        assert phone.post("/account/password", data={"new": WORKER_PASSWORD, "confirm": WORKER_PASSWORD}) \
            .status_code == 302
        assert app.test_client().post("/login", data={"username": worker, "password": WORKER_PASSWORD}) \
            .status_code == 302

        lon, lat = point_inside(grid_code)
        assert 'value="1001"' in phone.get(f"/work/report/{THEME}").get_data(as_text=True)   # 占道经营
        reported = phone.post(f"/work/report/{THEME}", content_type="multipart/form-data", data={
            "title": "金塔巷流动摊贩占道", "category": "1001", "urgency": "normal",
            "details-address": "金塔巷12号门前", "details-location-lon": str(lon), "details-location-lat": str(lat),
            "details-vending_type": "流动摊贩", "details-blocks_passage": "false", "details-persuaded": "false",
            "details-description": "早市摊贩占用人行道", "details-photos": photo()})
        assert reported.status_code == 302 and "/work/cases/" in reported.location
        assert "金塔巷流动摊贩占道" in phone.get(reported.location).get_data(as_text=True)

        with platform.db.session() as session:
            case = session.scalar(select(Case))
            assert session.scalar(select(func.count(Case.id))) == 1
            assert (session.get(Grid, case.grid_id).code, case.region_code, case.status) == (
                grid_code, example_grids()[grid_code]["properties"]["region_code"], "reported")
            assert session.scalar(select(Region.name).where(Region.code == case.region_code)) \
                == example_regions()[case.region_code]["name"]
            assert case.reporter_account_id == worker_id and (case.lon, case.lat) == (lon, lat)
            admin_id = session.scalar(select(Account.id).where(Account.username == ADMIN))
            steps = [(record.action, record.object_id, record.actor_name)
                     for record in session.scalars(select(AuditRecord).order_by(AuditRecord.seq))]
    finally:
        platform.close()

    expected = [("city.init", "620100000000"), ("import", "regions.csv"), ("import", "county-outlines.geojson"),
                ("import", "grids.geojson"), ("import", "accounts.csv"), ("account.password_set", str(admin_id)),
                ("auth.login", str(admin_id)), ("account.code_issued", str(worker_id)),
                ("auth.login", str(worker_id)), ("account.password_change", str(worker_id)),
                ("auth.login", str(worker_id)), ("case.report", str(case.id))]
    assert in_order([(action, object_id) for action, object_id, _ in steps], expected), steps
    assert [actor for action, _, actor in steps if action == "case.report"] == ["刘芳"]   # the worker's name


def in_order(seen: list, wanted: list) -> bool:
    """Whether `wanted` appears in `seen` in this order (other records may come between)."""
    remaining = iter(seen)
    return all(any(item == step for item in remaining) for step in wanted)
