"""Exports of cases and theme records: scoped by role, masked by role, audited, readable back as CSV and XLSX."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from minqing.core.ops import exporting
from minqing.core.privacy import idcard
from minqing.core.actors import actor_for, system_actor
from minqing.core.cli import cli
from minqing.core.models import Account, AuditRecord, Case, ThemeRecord, ThemeVersion

from tests.fixtures.city import add_accounts, add_departments, build_places

ZHANGYE, JIUQUAN = "620102001000", "620102002000"


def id_ending_1234() -> str:
    """A valid ID number of 城关区 whose last four characters are 1234 (so it masks as 620102********1234)."""
    day = dt.date(1990, 1, 1)
    while not idcard.make("620102", day, 123).endswith("1234"):
        day += dt.timedelta(days=1)
    return idcard.make("620102", day, 123)


ID_NUMBER = id_ending_1234()
MASKED_ID = "620102********1234"


REGIONS = [(code, f"区划{code}", level, parent) for code, level, parent in (
    ("620100000000", "city", None), ("620102000000", "county", "620100000000"),
    (ZHANGYE, "township", "620102000000"), (JIUQUAN, "township", "620102000000"))]
GRIDS = [("GA", "GA", "small", None, ZHANGYE, (103.80, 36.05, 103.81, 36.06)),
         ("GB", "GB", "small", None, JIUQUAN, (103.81, 36.05, 103.82, 36.06))]
DEPARTMENTS = {"water_affairs": ("兰州市水务局", "水务"), "police": ("兰州市公安局", "公安")}
ACCOUNTS = {username: (role, scope, f"{username}账号") for username, role, scope in (
    ("township", "operator", ZHANGYE), ("jiuquan", "operator", JIUQUAN), ("leader", "leader", "620100000000"),
    ("water", "department_staff", "water_affairs"), ("gridworker", "grid_worker", "GA"), ("citizen", "citizen", None))}


@pytest.fixture
def city(platform):
    with platform.db.session() as session:
        places = build_places(session, REGIONS, GRIDS)
        departments = add_departments(session, DEPARTMENTS)
        accounts = add_accounts(session, ACCOUNTS, places, departments)
        grids, water, police = places.grids, departments["water_affairs"], departments["police"]
        session.add_all([
            Case(theme_key="water_affairs.waterlogging", title="张掖路积水", category="市政设施",
                 description=f"居民反映积水，联系人身份证{ID_NUMBER}，电话13912345678",
                 address="张掖路街道12号楼3单元", lon=103.805123, lat=36.055678, region_code=ZHANGYE,
                 grid_id=grids["GA"], department_id=water, source="citizen", status="handling",
                 reporter_name="李四", reporter_phone="13912345678", reporter_account_id=accounts["citizen"].id,
                 form_data={"witness_id": ID_NUMBER}),
            Case(theme_key="police.noise", title="=HYPERLINK(\"http://x\")", description="酒泉路夜间噪音",
                 address="酒泉路8号", region_code=JIUQUAN, grid_id=grids["GB"], department_id=police,
                 source="hotline", status="reported", reporter_phone="13700001111"),
        ])
        document = {"layer": {"geometry": "point"}, "forms": {"record": {"type": "object", "properties": {
            "owner_id": {"type": "string", "title": "责任人身份证号", "format": "cn-id"},
            "owner_phone": {"type": "string", "title": "责任人电话", "format": "cn-mobile"},
            "note": {"type": "string", "title": "备注"},
            "depth": {"type": "number", "title": "深度（米）"}}}}}
        secret = {"layer": {"geometry": "point", "visible_to": ["admin"]}, "forms": {}}
        session.add_all([
            ThemeVersion(theme_key="water_affairs.manholes", version=1, document=document, content_hash="a",
                         department_key="water_affairs", plugin_name="test"),
            ThemeVersion(theme_key="police.secret", version=1, document=secret, content_hash="b",
                         department_key="police", plugin_name="test"),
        ])
        for region_code, grid, note in ((ZHANGYE, "GA", "张掖路井盖"), (JIUQUAN, "GB", "酒泉路井盖")):
            session.add(ThemeRecord(theme_key="water_affairs.manholes", theme_version=1, department_key="water_affairs",
                                    form_data={"owner_id": ID_NUMBER, "owner_phone": "13912345678", "note": note,
                                               "depth": 1.5, "extra": f"身份证{ID_NUMBER}"},
                                    region_code=region_code, grid_id=grids[grid], lon=103.805123, lat=36.055678))
        session.add(ThemeRecord(theme_key="police.secret", theme_version=1, department_key="police", form_data={},
                                region_code=ZHANGYE, grid_id=grids["GA"]))
    return platform


def viewer(platform, username):
    with platform.db.session() as session:
        return actor_for(session, session.scalar(select(Account).where(Account.username == username)), "test")


def export_csv(platform, function, actor, **options):
    stream = io.BytesIO()
    with platform.db.session() as session:
        count = function(session, actor, stream, fmt="csv", **options)
    text = stream.getvalue().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == count
    return rows


def test_township_operator_sees_only_its_cases_with_ids_masked(city):
    rows = export_csv(city, exporting.export_cases, viewer(city, "township"))
    assert [row["标题"] for row in rows] == ["张掖路积水"]
    row = rows[0]
    assert row["描述"] == f"居民反映积水，联系人身份证{MASKED_ID}，电话13912345678"  # operators need phones
    assert ID_NUMBER not in str(rows)
    assert row["表单数据"] == '{"witness_id": "620102********1234"}'
    assert row["上报人电话"] == "13912345678" and row["地址"] == "张掖路街道12号楼3单元"
    assert (row["经度"], row["纬度"]) == ("103.805123", "36.055678")
    assert (row["区划代码"], row["网格编码"], row["承办部门"], row["状态"], row["来源"]) == (
        ZHANGYE, "GA", "兰州市水务局", "处置中", "群众上报")
    assert row["事件编号"].startswith("MQ") and row["上报时间"]


def test_leader_sees_all_with_phones_addresses_masked(city):
    rows = export_csv(city, exporting.export_cases, viewer(city, "leader"))
    assert [row["标题"] for row in rows] == ["张掖路积水", "'=HYPERLINK(\"http://x\")"]   # no formula runs
    first = rows[0]
    assert first["描述"] == f"居民反映积水，联系人身份证{MASKED_ID}，电话139****5678"
    assert first["上报人电话"] == "139****5678"
    assert first["地址"] == "张掖路街道*号楼*单元"
    assert (first["经度"], first["纬度"]) == ("103.805", "36.056")   # coarse: no exact location
    assert rows[1]["上报人电话"] == "137****1111"


def test_scope_by_department_grid_and_citizen(city):
    assert [r["标题"] for r in export_csv(city, exporting.export_cases, viewer(city, "water"))] == ["张掖路积水"]
    assert [r["标题"] for r in export_csv(city, exporting.export_cases, viewer(city, "gridworker"))] == ["张掖路积水"]
    assert [r["标题"] for r in export_csv(city, exporting.export_cases, viewer(city, "citizen"))] == ["张掖路积水"]
    assert [r["标题"] for r in export_csv(city, exporting.export_cases, viewer(city, "jiuquan"))] == [
        "'=HYPERLINK(\"http://x\")"]
    everything = export_csv(city, exporting.export_cases, system_actor("test"))
    assert len(everything) == 2 and MASKED_ID in everything[0]["描述"]   # ID numbers masked even for the system
    only = export_csv(city, exporting.export_cases, system_actor("test"), theme_key="police.noise")
    assert len(only) == 1


def test_export_is_audited(city):
    actor = viewer(city, "township")
    export_csv(city, exporting.export_cases, actor, file_name="cases.csv")
    with city.db.session() as session:
        record = session.scalars(select(AuditRecord).where(AuditRecord.action == "export")).one()
    assert (record.actor_account_id, record.actor_name, record.object_type, record.object_id) == (
        actor.account_id, "township账号", "case", "cases.csv")
    assert record.details == {"what": "cases", "format": "csv", "count": 1, "file": "cases.csv"}


def test_cases_xlsx_reads_back(city):
    stream = io.BytesIO()
    with city.db.session() as session:
        assert exporting.export_cases(session, viewer(city, "leader"), stream, fmt="xlsx") == 2
    stream.seek(0)
    sheet = load_workbook(stream, read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:5] == ("事件编号", "业务主题", "类别", "子类", "标题")
    first = dict(zip(header, rows[1]))
    assert first["描述"] == f"居民反映积水，联系人身份证{MASKED_ID}，电话139****5678"
    assert first["经度"] == 103.805 and first["返工次数"] == 0
    assert dict(zip(header, rows[2]))["标题"].startswith("'=")
    # one time format everywhere (REST, Open311, exports): RFC 3339 in the city's offset, whole seconds
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", first["上报时间"]), first["上报时间"]


def test_records_by_theme_with_form_columns(city):
    rows = export_csv(city, exporting.export_records, viewer(city, "water"), theme_key="water_affairs.manholes")
    assert [row["备注"] for row in rows] == ["张掖路井盖", "酒泉路井盖"]    # the department's records everywhere
    row = rows[0]
    assert row["责任人身份证号"] == MASKED_ID
    assert row["责任人电话"] == "139****5678"      # department staff need no phone numbers
    assert row["深度（米）"] == "1.5"
    assert row["其他字段"] == '{"extra": "身份证620102********1234"}'
    assert (row["业务主题"], row["区划代码"], row["网格编码"]) == ("water_affairs.manholes", ZHANGYE, "GA")
    operator = export_csv(city, exporting.export_records, viewer(city, "jiuquan"), theme_key="water_affairs.manholes")
    assert [row["备注"] for row in operator] == ["酒泉路井盖"] and operator[0]["责任人电话"] == "13912345678"
    assert export_csv(city, exporting.export_records, viewer(city, "citizen")) == []


def test_records_respect_layer_visibility(city):
    township = export_csv(city, exporting.export_records, viewer(city, "township"))
    assert [row["业务主题"] for row in township] == ["water_affairs.manholes"]   # police.secret: admins only
    assert MASKED_ID in township[0]["表单数据"] and ID_NUMBER not in township[0]["表单数据"]
    everything = export_csv(city, exporting.export_records, system_actor("test"))
    assert sorted(row["业务主题"] for row in everything) == ["police.secret", "water_affairs.manholes",
                                                           "water_affairs.manholes"]


def test_cli_export_as_account(city, database_url, tmp_path):
    runner = CliRunner()
    output = tmp_path / "cases.xlsx"
    result = runner.invoke(cli, ["--db", database_url, "export", "cases", "--as", "township", "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert "已导出 1 条事件" in result.output
    rows = list(load_workbook(output, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][4] == "张掖路积水"
    assert not (tmp_path / "cases.xlsx.part").exists()
    output = tmp_path / "records.csv"
    result = runner.invoke(cli, ["--db", database_url, "export", "records", "--theme", "water_affairs.manholes",
                                 "-o", str(output)])
    assert result.exit_code == 0 and "已导出 2 条业务主题记录" in result.output
    assert output.read_text(encoding="utf-8-sig").count(MASKED_ID) == 4
    result = runner.invoke(cli, ["--db", database_url, "export", "cases", "--as", "nobody", "-o", str(output)])
    assert result.exit_code == 1 and "账号“nobody”不存在" in result.output
    with city.db.session() as session:
        audits = session.scalars(select(AuditRecord.summary).where(AuditRecord.action == "export")
                                 .order_by(AuditRecord.id)).all()
    assert audits == ["导出事件 1 条（XLSX）", "导出业务主题记录 2 条（CSV）"]
