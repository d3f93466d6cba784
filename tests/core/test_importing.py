"""Import of base data from CSV and XLSX: every validation message, duplicates, encodings, batches that are all
or nothing, resuming after a crash, the CLI, and 100,000 residents (their speed is measured by benchmarks/import_rows.py)."""
from __future__ import annotations

import csv
import datetime as dt

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from sqlalchemy import event, func, select

from minqing.core.privacy import idcard, uscc
from minqing.core.cli import cli
from minqing.core.importing import ImportFileError, ImportInterrupted, import_file, importer
from minqing.core.privacy.masking import id_digest, mask_id_number
from minqing.core.models import (Address, AuditRecord, House, Household, KeyPerson, Resident, Unit)
from minqing.core.settings import lookup_key

from tests.fixtures.city import build_places

TODAY = dt.date(2026, 11, 24)
VILLAGE_A, GROUP_A, VILLAGE_B = "620102001001", "620102001001001", "620102002001"
# Grid GA covers village A (lon 103.80-103.81), GB village B (103.81-103.82); lat 36.05-36.06.
IN_A, IN_B, NOWHERE = ("103.805", "36.055"), ("103.815", "36.055"), ("104.5", "36.5")


REGIONS = [(code, f"区划{code}", level, parent) for code, level, parent in (
    ("620100000000", "city", None), ("620102000000", "county", "620100000000"),
    ("620102001000", "township", "620102000000"), ("620102002000", "township", "620102000000"),
    (VILLAGE_A, "village", "620102001000"), (GROUP_A, "group", VILLAGE_A), (VILLAGE_B, "village", "620102002000"))]
GRIDS = [("GA", "GA", "small", None, VILLAGE_A, (103.80, 36.05, 103.81, 36.06)),
         ("GB", "GB", "small", None, VILLAGE_B, (103.81, 36.05, 103.82, 36.06))]


@pytest.fixture
def city(platform):
    """Grid code → id."""
    with platform.db.session() as session:
        return build_places(session, REGIONS, GRIDS).grids


def person(n: int, area: str = "620102", born: dt.date = dt.date(1980, 1, 1)) -> str:
    """The n-th distinct valid ID number."""
    return idcard.make(area, born + dt.timedelta(days=n // 500), (n % 500) * 2 + 1)


def bad_checksum(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


def write_csv(path, header, rows, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path, header, rows):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def read_report(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["行号", "列", "值", "问题"]
    return [(int(row[0]), row[1], row[2], row[3]) for row in rows[1:]]


def run(platform, kind, path, tmp_path, **options):
    options.setdefault("today", TODAY)
    return import_file(platform, kind, path, report_path=tmp_path / "report.csv", **options)


def count(platform, model) -> int:
    with platform.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def add_resident(platform, number, grid_id=None, region_code=VILLAGE_A, name="老住户"):
    with platform.db.session() as session:
        resident = Resident(name=name, id_number=number, id_digest=id_digest(lookup_key(session), number),
                            gender=idcard.sex(number), birth_date=idcard.birth_date(number), grid_id=grid_id,
                            region_code=region_code)
        session.add(resident)
        session.flush()
        return resident.id


# -- residents: every message --------------------------------------------------------------------------------

RESIDENT_HEADER = ["姓名", "身份证号", "性别", "出生日期", "联系电话", "户号", "人口类型", "区划代码", "网格编码",
                   "经度", "纬度"]


def test_residents_every_validation_message(platform, city, tmp_path):
    existing = person(900)
    add_resident(platform, existing, city["GA"])
    with platform.db.session() as session:
        session.add(Household(number="HH1", region_code=GROUP_A, grid_id=city["GA"]))
    good = person(1)
    rows = [  # row 2 onwards
        ["张三", good, "男", "1980-01-01", "13912345678", "", "户籍", VILLAGE_A, "GA", "", ""],     # 2 good
        ["李四", person(2), "", "", "", "", "流动", "", "", *IN_B],                                 # 3 good, located
        ["王五", person(3), "", "", "", "HH1", "", "", "", "", ""],                                # 4 good, from household
        ["", bad_checksum(person(4)), "", "", "", "", "", VILLAGE_A, "", "", ""],                  # 5 name, checksum
        ["赵六", "62010219800101", "", "", "", "", "", VILLAGE_A, "", "", ""],                     # 6 shape
        ["钱七", "620102198013010051", "", "", "", "", "", VILLAGE_A, "", "", ""],                 # 7 date in ID
        ["孙八", person(8), "女", "1980-01-02", "1391234567", "", "", VILLAGE_A, "", "", ""],      # 8 sex, birth, phone
        ["周九", person(9), "", "1980/13/45", "", "", "外来", VILLAGE_A, "", "", ""],              # 9 date, residency
        ["吴十", person(10), "", "", "", "", "", "620102009009", "", "", ""],                      # 10 unknown region
        ["郑一", person(11), "", "", "", "", "", "620102001000", "", "", ""],                      # 11 township level
        ["冯二", person(12), "", "", "", "", "", "62010200", "", "", ""],                          # 12 malformed
        ["陈三", person(13), "", "", "", "", "", "", "GX", "", ""],                                # 13 unknown grid
        ["褚四", person(14), "", "", "", "", "", VILLAGE_B, "GA", "", ""],                         # 14 grid not in region
        ["卫五", person(15), "", "", "", "", "", "", "", *NOWHERE],                                # 15 no grid there
        ["蒋六", person(16), "", "", "", "", "", "", "", "103.805", ""],                           # 16 lat missing
        ["沈七", person(17), "", "", "", "", "", "", "", "", ""],                                  # 17 no location
        ["韩八", good, "", "", "", "", "", VILLAGE_A, "", "", ""],                                 # 18 dup in file
        ["杨九", existing, "", "", "", "", "", VILLAGE_A, "", "", ""],                             # 19 dup in DB
        ["朱十", person(20), "", "", "", "HH404", "", VILLAGE_A, "", "", ""],                      # 20 no household
        ["秦一", person(21), "", "", "", "", "", VILLAGE_A, "", "east", "36.05"],                  # 21 lon not a number
        ["尤二", person(22), "", "", "", "", "", VILLAGE_A, "GB", *IN_A],                          # 22 grid not in region
    ]
    path = write_csv(tmp_path / "residents.csv", RESIDENT_HEADER, rows)
    summary = run(platform, "residents", path, tmp_path)
    assert (summary.imported, summary.rejected, summary.batches) == (3, 18, 1)
    report = read_report(tmp_path / "report.csv")
    assert summary.errors and len(report) == len(summary.errors)
    messages = {(row, column): message for row, column, _, message in report}
    assert messages[(5, "姓名")] == "姓名不能为空"
    assert messages[(5, "身份证号")] == "身份证号校验位不正确"
    assert messages[(6, "身份证号")] == "身份证号应为18位，前17位为数字，最后一位为数字或X"
    assert messages[(7, "身份证号")] == "身份证号中的出生日期无效"
    assert messages[(8, "性别")] == "性别与身份证号不一致"
    assert messages[(8, "出生日期")] == "出生日期与身份证号不一致"
    assert messages[(8, "联系电话")] == "联系电话格式不正确：应为11位手机号码或带区号的固定电话"
    assert messages[(9, "出生日期")] == "出生日期不是有效的日期"
    assert messages[(9, "人口类型")] == "人口类型应为“户籍”或“流动”"
    assert messages[(10, "区划代码")] == "区划代码 620102009009 不存在"
    assert messages[(11, "区划代码")] == "区划代码 620102001000 不是村(社区)或组一级的代码"
    assert messages[(12, "区划代码")] == "区划代码应为12位（村、社区）或15位（组）数字"
    assert messages[(13, "网格编码")] == "网格编码 GX 不存在"
    assert messages[(14, "网格编码")] == f"网格 GA 不在区划 {VILLAGE_B} 内"
    assert messages[(15, "经度")] == "经纬度（104.5, 36.5）不在任何网格内"
    assert messages[(16, "纬度")] == "经度和纬度应同时填写"
    assert messages[(17, "区划代码")] == "缺少所在位置：请填写区划代码、网格编码或经纬度"
    assert messages[(18, "身份证号")] == "身份证号与第2行重复"
    assert messages[(19, "身份证号")] == "身份证号已存在：实有人口中已有此人"
    assert messages[(20, "户号")] == "户号不存在"
    assert messages[(21, "经度")] == "经度应为数字"
    assert messages[(22, "网格编码")] == f"网格 GB 不在区划 {VILLAGE_A} 内"
    # ID and phone numbers are masked in the report, the rest shown as given
    values = {(row, column): value for row, column, value, _ in report}
    assert values[(18, "身份证号")] == mask_id_number(good) == good[:6] + "********" + good[-4:]
    assert values[(8, "联系电话")] == "139****4567"
    assert values[(10, "区划代码")] == "620102009009"
    assert not any(good in line for line in (tmp_path / "report.csv").read_text(encoding="utf-8-sig").splitlines())

    with platform.db.session() as session:
        rows = {r.name: r for r in session.scalars(select(Resident))}
        key = lookup_key(session)
    assert set(rows) == {"老住户", "张三", "李四", "王五"}
    zhang, li, wang = rows["张三"], rows["李四"], rows["王五"]
    assert (zhang.grid_id, zhang.region_code, zhang.gender, zhang.birth_date, zhang.phone) == (
        city["GA"], VILLAGE_A, "male", dt.date(1980, 1, 1), "13912345678")
    assert zhang.id_digest == id_digest(key, good)
    assert (li.grid_id, li.region_code, li.residency) == (city["GB"], VILLAGE_B, "floating")   # located
    assert (wang.grid_id, wang.region_code, wang.household_id is not None) == (city["GA"], GROUP_A, True)
    with platform.db.session() as session:
        audit = session.scalars(select(AuditRecord).where(AuditRecord.action == "import")).one()
    assert audit.object_type == "residents" and audit.details["imported"] == 3 and audit.details["rejected"] == 18
    assert audit.actor_name == "系统"


def test_missing_required_column_imports_nothing(platform, city, tmp_path):
    path = write_csv(tmp_path / "r.csv", ["姓名", "区划代码"], [["张三", VILLAGE_A]])
    with pytest.raises(ImportFileError, match="缺少必填列：身份证号"):
        run(platform, "residents", path, tmp_path)
    assert count(platform, Resident) == 0
    with pytest.raises(ImportFileError, match="不支持的文件类型"):
        run(platform, "residents", write_csv(tmp_path / "r.json", ["a"], []), tmp_path)


def test_english_headers_gb18030_and_utf8_bom(platform, city, tmp_path):
    header = ["name", "ID_Number", "Phone", "region_code"]
    gb = write_csv(tmp_path / "gb.csv", header, [["欧阳娜", person(1), "0931-8888888", VILLAGE_A],
                                                  ["司马懿", person(2), "", GROUP_A]], encoding="gb18030")
    raw = gb.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    summary = run(platform, "residents", gb, tmp_path)
    assert (summary.imported, summary.rejected) == (2, 0)
    bom = write_csv(tmp_path / "bom.csv", ["*姓名", "公民身份号码（18位）", "区划代码"],
                    [["诸葛亮", person(3), VILLAGE_B]], encoding="utf-8-sig")
    assert run(platform, "residents", bom, tmp_path).imported == 1
    with platform.db.session() as session:
        names = {name: phone for name, phone in session.execute(select(Resident.name, Resident.phone))}
    assert names == {"欧阳娜": "0931-8888888", "司马懿": None, "诸葛亮": None}


# -- the other kinds ------------------------------------------------------------------------------------------

def test_addresses_from_xlsx(platform, city, tmp_path):
    with platform.db.session() as session:
        session.add(Address(code="ADDR-OLD", text="旧地址", region_code=VILLAGE_A))
    rows = [
        ["ADDR-1", "城关区张掖路1号", VILLAGE_A, "", "", ""],
        ["ADDR-2", "城关区酒泉路2号", None, None, 103.815, 36.055],   # numbers as numbers
        ["ADDR-1", "重复", VILLAGE_A, "", "", ""],
        ["ADDR-OLD", "已有", VILLAGE_A, "", "", ""],
        ["", "没有编码", VILLAGE_A, "", "", ""],
        ["ADDR-5", "", VILLAGE_A, "", "", ""],
        ["ADDR-6", "x" * 301, VILLAGE_A, "", "", ""],
        [7, "数字编码", int(VILLAGE_A), "", "", ""],  # numeric cells: code 7, region code as a number
    ]
    path = write_xlsx(tmp_path / "addresses.xlsx", ["地址编码", "标准地址", "区划代码", "网格编码", "经度", "纬度"], rows)
    summary = run(platform, "addresses", path, tmp_path)
    assert (summary.imported, summary.rejected) == (3, 5)
    messages = {(e.row, e.column): e.message for e in summary.errors}
    assert messages == {(4, "地址编码"): "地址编码与第2行重复", (5, "地址编码"): "地址编码已存在于数据库",
                        (6, "地址编码"): "地址编码不能为空", (7, "标准地址"): "标准地址不能为空",
                        (8, "标准地址"): "标准地址超过300个字符"}
    with platform.db.session() as session:
        found = {a.code: (a.grid_id, a.region_code, a.lon) for a in session.scalars(select(Address))}
    assert found["ADDR-2"] == (city["GB"], VILLAGE_B, 103.815)
    assert found["ADDR-1"] == (None, VILLAGE_A, None)
    assert found["7"] == (None, VILLAGE_A, None)


def test_houses_take_their_address_location(platform, city, tmp_path):
    with platform.db.session() as session:
        session.add(Address(code="A1", text="张掖路1号", region_code=GROUP_A, grid_id=city["GA"]))
    rows = [["A1", "住宅", "框架", "6", "88.5", "2001", "张三"],
            ["A404", "住宅", "", "", "", "", ""],
            ["A1", "别墅", "", "2.5", "-3", "1800", ""],
            ["A1", "", "", "", "", "2999", ""]]
    path = write_csv(tmp_path / "houses.csv", ["地址编码", "房屋类型", "结构", "层数", "建筑面积（平方米）", "建成年份", "产权人"],
                     rows)
    summary = run(platform, "houses", path, tmp_path)
    assert (summary.imported, summary.rejected) == (1, 3)
    messages = {(e.row, e.column, e.message) for e in summary.errors}
    assert messages == {
        (3, "地址编码", "地址编码不存在：请先导入标准地址"),
        (4, "房屋类型", "房屋类型应为 住宅、自建房、商业用房 或 公共用房"), (4, "层数", "层数应为整数"),
        (4, "建筑面积（平方米）", "建筑面积应在1～1e+06之间"), (4, "建成年份", "建成年份应在1900～2026之间"),
        (5, "房屋类型", "房屋类型不能为空"), (5, "建成年份", "建成年份应在1900～2026之间"),
    }
    with platform.db.session() as session:
        house = session.scalars(select(House)).one()
    assert (house.kind, house.floors, house.area_m2, house.grid_id, house.region_code) == (
        "residential", 6, 88.5, city["GA"], GROUP_A)


def test_units_credit_codes(platform, city, tmp_path):
    code1, code2, old = (uscc.make("91", "620102", n) for n in (1, 2, 3))
    with platform.db.session() as session:
        session.add(Unit(name="老单位", credit_code=old, kind="零售", region_code=VILLAGE_A))
    rows = [["兰州甲餐饮", code1, "餐饮", "13800001111", "12", VILLAGE_A],
            ["兰州乙零售", "", "零售", "", "", VILLAGE_B],                  # no code: allowed
            ["兰州丙", code1, "餐饮", "", "", VILLAGE_A],                   # dup in file
            ["兰州丁", old, "餐饮", "", "", VILLAGE_A],                     # dup in DB
            ["兰州戊", code2[:17] + ("0" if code2[17] != "0" else "1"), "餐饮", "", "", VILLAGE_A],
            ["兰州己", "91620102ABCDEFGHIO", "餐饮", "12345", "many", VILLAGE_A]]
    path = write_csv(tmp_path / "units.csv", ["单位名称", "统一社会信用代码", "单位类型", "联系电话", "从业人数", "区划代码"],
                     rows)
    summary = run(platform, "units", path, tmp_path)
    assert (summary.imported, summary.rejected) == (2, 4)
    messages = {(e.row, e.column, e.value, e.message) for e in summary.errors}
    assert messages == {
        (4, "统一社会信用代码", code1, "统一社会信用代码与第2行重复"),
        (5, "统一社会信用代码", old, "统一社会信用代码已存在于数据库"),
        (6, "统一社会信用代码", code2[:17] + ("0" if code2[17] != "0" else "1"), "统一社会信用代码校验位不正确"),
        (7, "统一社会信用代码", "91620102ABCDEFGHIO", "统一社会信用代码应为18位数字或大写字母（不含I、O、S、V、Z）"),
        (7, "联系电话", "*****", "联系电话格式不正确：应为11位手机号码或带区号的固定电话"),
        (7, "从业人数", "many", "从业人数应为整数"),
    }
    assert count(platform, Unit) == 3


def test_key_persons_found_by_id_digest(platform, city, tmp_path):
    known, other = person(1), person(2)
    add_resident(platform, known, city["GA"], GROUP_A, name="独居老人甲")
    add_resident(platform, other, city["GB"], VILLAGE_B, name="乙")
    with platform.db.session() as session:
        resident_id = session.scalar(select(Resident.id).where(Resident.name == "乙"))
        session.add(KeyPerson(resident_id=resident_id, category="残疾人", region_code=VILLAGE_B))
    rows = [[known, "独居老人", "高", "7", "2026-11-20", ""],
            [known.lower(), "留守儿童", "", "", "", ""],          # a lower-case x would still match
            [known, "独居老人", "低", "", "", ""],                  # dup in file (same person, same category)
            [other, "残疾人", "", "", "", ""],                       # dup in DB
            [person(3), "独居老人", "", "", "", ""],                 # no such resident
            [other, "吸毒人员", "极高", "0", "2027-01-01", ""],     # risk, period, future date
            [other, "", "", "", "", ""]]
    path = write_xlsx(tmp_path / "kp.xlsx", ["身份证号", "人员类别", "风险等级", "走访周期（天）", "最近走访日期", "备注"], rows)
    summary = run(platform, "key-persons", path, tmp_path)
    assert (summary.imported, summary.rejected) == (2, 5)
    messages = {(e.row, e.column, e.message) for e in summary.errors}
    assert messages == {
        (4, "人员类别", "同一人员的同一类别与第2行重复"),
        (5, "人员类别", "该人员已登记为“残疾人”重点人员"),
        (6, "身份证号", "未找到该身份证号的实有人口：请先导入人口"),
        (7, "风险等级", "风险等级应为 低、中 或 高"), (7, "走访周期（天）", "走访周期应在1～366之间"),
        (7, "最近走访日期", "最近走访日期不能晚于今天"),
        (8, "人员类别", "人员类别不能为空"),
    }
    with platform.db.session() as session:
        rows = {p.category: p for p in session.scalars(select(KeyPerson).where(KeyPerson.region_code == GROUP_A))}
    elder = rows["独居老人"]
    assert (elder.risk_level, elder.visit_every_days, elder.next_visit_due, elder.grid_id) == (
        "high", 7, dt.date(2026, 11, 27), city["GA"])
    assert rows["留守儿童"].next_visit_due == TODAY


# -- batches, crashes and resuming ----------------------------------------------------------------------------

def test_crash_mid_import_keeps_earlier_batches_and_resumes(platform, city, tmp_path, monkeypatch):
    rows = [[f"居民{n}", person(n), VILLAGE_A] for n in range(50)]
    rows[3][1] = bad_checksum(rows[3][1])          # row 5: rejected in batch 1
    rows[25][1] = bad_checksum(rows[25][1])        # row 27: in the batch that crashes
    path = write_csv(tmp_path / "r.csv", ["姓名", "身份证号", "区划代码"], rows)
    calls = []
    real = importer.insert_batch

    def failing(session, model, records):
        calls.append(len(records))
        if len(calls) == 3:
            real(session, model, records)      # the rows reach the database ... and then the batch fails
            raise RuntimeError("磁盘已满")
        real(session, model, records)

    monkeypatch.setattr(importer, "insert_batch", failing)
    with pytest.raises(ImportInterrupted) as caught:
        run(platform, "residents", path, tmp_path, batch_size=10)
    summary = caught.value.summary
    assert (summary.imported, summary.rejected, summary.batches, summary.resume_from) == (19, 1, 2, 22)
    assert "--resume-from 22" in str(caught.value)
    with platform.db.session() as session:
        names = set(session.scalars(select(Resident.name)))
        audits = session.scalar(select(func.count()).where(AuditRecord.action == "import"))
    assert names == {f"居民{n}" for n in range(20) if n != 3}   # batches 1-2 committed, batch 3 absent
    assert audits == 2
    report = read_report(tmp_path / "report.csv")
    assert report[0][:2] == (5, "身份证号")
    assert report[-1][0] == 22 and "--resume-from 22" in report[-1][3] and "磁盘已满" in report[-1][3]

    monkeypatch.setattr(importer, "insert_batch", real)
    resumed = run(platform, "residents", path, tmp_path, batch_size=10, resume_from=22)
    assert (resumed.imported, resumed.rejected, resumed.skipped, resumed.batches) == (29, 1, 20, 3)
    with platform.db.session() as session:
        names = list(session.scalars(select(Resident.name)))
    assert sorted(names) == sorted(f"居民{n}" for n in range(50) if n not in (3, 25))   # no duplicates
    report = read_report(tmp_path / "report.csv")       # appended: the first run's lines stay
    assert [row for row, *_ in report] == [5, 22, 27]

    again = run(platform, "residents", path, tmp_path, batch_size=10)  # importing again adds nothing
    assert (again.imported, again.rejected) == (0, 50)
    assert {e.message for e in again.errors} == {"身份证号已存在：实有人口中已有此人", "身份证号校验位不正确"}


def test_cli_import_and_resume_flag(platform, city, tmp_path, database_url):
    rows = [[f"居民{n}", person(n), "13912345678" if n % 2 else "123", VILLAGE_A] for n in range(6)]
    path = write_csv(tmp_path / "people.csv", ["姓名", "身份证号", "手机号", "区划代码"], rows)
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", database_url, "import", "residents", str(path), "--batch", "2",
                                 "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "成功 3 行，拒绝 3 行，3 个批次" in result.output
    assert f"错误报告：{tmp_path / 'people.errors.csv'}" in result.output
    assert [row for row, *_ in read_report(tmp_path / "people.errors.csv")] == [2, 4, 6]
    result = runner.invoke(cli, ["--db", database_url, "import", "residents", str(path), "--resume-from", "6",
                                 "--no-progress", "--errors", str(tmp_path / "again.csv")])
    assert "成功 0 行，拒绝 2 行" in result.output and "跳过续传起点之前的 4 行" in result.output
    result = runner.invoke(cli, ["--db", database_url, "import", "residents", str(tmp_path / "nope.csv")])
    assert result.exit_code != 0
    missing = write_csv(tmp_path / "bad.csv", ["名字"], [["x"]])
    result = runner.invoke(cli, ["--db", database_url, "import", "residents", str(missing)])
    assert result.exit_code == 1 and "缺少必填列：姓名、身份证号" in result.output


# -- scale ----------------------------------------------------------------------------------------------------

def test_hundred_thousand_residents(platform, city, tmp_path):
    """100,000 rows with planted bad rows of each kind: exact counts and messages, in well under a minute."""
    total = 100_000
    existing = [person(total + n) for n in range(1000)]
    with platform.db.session() as session:
        key = lookup_key(session)
        session.execute(Resident.__table__.insert(), [
            {"name": "已有", "id_number": n, "id_digest": id_digest(key, n), "gender": idcard.sex(n),
             "birth_date": idcard.birth_date(n), "region_code": VILLAGE_A} for n in existing])
    planted = {"checksum": 0, "phone": 0, "region": 0, "dup_file": 0, "dup_db": 0, "located": 0}
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["姓名", "身份证号", "联系电话", "区划代码", "经度", "纬度"])
        for n in range(total):
            number, phone, region, lon, lat = person(n), "13912345678", VILLAGE_A, "", ""
            kind = n % 50
            if kind == 1:
                number, planted["checksum"] = bad_checksum(number), planted["checksum"] + 1
            elif kind == 2:
                phone, planted["phone"] = "0931", planted["phone"] + 1
            elif kind == 3:
                region, planted["region"] = "620102001099", planted["region"] + 1
            elif kind == 4:
                number, planted["dup_file"] = person(n - 4), planted["dup_file"] + 1
            elif kind == 5 and planted["dup_db"] < len(existing):
                number, planted["dup_db"] = existing[planted["dup_db"]], planted["dup_db"] + 1
            elif kind == 6:
                region, lon, lat = "", *IN_B
                planted["located"] += 1
            writer.writerow([f"居民{n}", number, phone, region, lon, lat])
    bad = planted["checksum"] + planted["phone"] + planted["region"] + planted["dup_file"] + planted["dup_db"]
    assert bad == 9000

    summary = run(platform, "residents", path, tmp_path)  # speed: benchmarks/import_rows.py, not a timed assertion
    assert (summary.imported, summary.rejected, summary.batches) == (total - bad, bad, 20)
    report = read_report(tmp_path / "report.csv")
    by_message: dict[str, int] = {}
    for _, _, _, message in report:
        by_message[message] = by_message.get(message, 0) + 1
    assert by_message == {
        "身份证号校验位不正确": 2000,
        "联系电话格式不正确：应为11位手机号码或带区号的固定电话": 2000,
        "区划代码 620102001099 不存在": 2000,
        "身份证号已存在：实有人口中已有此人": 1000,
    } | {message: 1 for message in by_message if message.startswith("身份证号与第")}
    assert sum(count for message, count in by_message.items() if message.startswith("身份证号与第")) == 2000
    assert (6, "身份证号与第2行重复") in {(row, message) for row, _, _, message in report}  # n=4 repeats n=0
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Resident)) == total - bad + len(existing)
        assert session.scalar(select(func.count()).where(Resident.grid_id == city["GB"])) == planted["located"]


def test_gbk_file_with_an_ascii_first_megabyte(platform, city, tmp_path):
    path = tmp_path / "late.csv"
    with open(path, "w", encoding="gb18030", newline="") as handle:
        handle.write("name,id_number,region_code,note\n")
        for n in range(8000):                                            # the first megabyte is ASCII
            handle.write(f"A{n},{person(n)},{VILLAGE_A},{'x' * 120}\n")
        handle.write(f"欧阳娜,{person(9000)},{VILLAGE_A},\n")
    assert path.stat().st_size > 1 << 20
    summary = run(platform, "residents", path, tmp_path)
    assert (summary.imported, summary.rejected, summary.unknown_columns) == (8001, 0, ["note"])
    with platform.db.session() as session:
        assert session.scalar(select(Resident.id_number).where(Resident.name == "欧阳娜")) == person(9000)


def test_a_batch_goes_in_as_one_insert_whatever_cells_are_empty(platform, city, tmp_path):
    """Rows with and without a phone, a grid or coordinates share one executemany per batch: the ORM's bulk insert
    used to leave a None out of a row, so every change of the empty cells began a new statement."""
    rows = [[f"居民{n}", person(n), "13912345678" if n % 3 else "", VILLAGE_A if n % 2 else "",
             "GA" if n % 5 else "", *(IN_A if not n % 2 else ("", ""))] for n in range(60)]
    path = write_csv(tmp_path / "mixed.csv", ["姓名", "身份证号", "联系电话", "区划代码", "网格编码", "经度", "纬度"], rows)
    inserts = []

    def count(_connection, _cursor, statement, _parameters, _context, _executemany):
        if statement.lstrip().upper().startswith("INSERT INTO RESIDENTS"):
            inserts.append(statement)

    event.listen(platform.db.engine, "before_cursor_execute", count)
    try:
        summary = run(platform, "residents", path, tmp_path, batch_size=30)
    finally:
        event.remove(platform.db.engine, "before_cursor_execute", count)
    assert (summary.imported, summary.rejected, summary.batches) == (60, 0, 2)
    assert len(inserts) == 2
    with platform.db.session() as session:
        stored = {number: (phone, grid_id, region) for number, phone, grid_id, region in session.execute(
            select(Resident.id_number, Resident.phone, Resident.grid_id, Resident.region_code))}
    assert stored[person(0)] == (None, city["GA"], VILLAGE_A)          # located by its coordinates
    assert stored[person(1)] == ("13912345678", city["GA"], VILLAGE_A)
    assert stored[person(3)] == (None, city["GA"], VILLAGE_A)
    assert stored[person(5)] == ("13912345678", None, VILLAGE_A)        # a region code, no grid
