"""The 12345 hotline channel (plugins/hotline_12345, docs/channels.md): its sample feed (tests/data) imported as the
hotline exports it, CSV and JSON, makes one case per work order however often it comes; bad rows are refused with
Chinese messages naming the row and the column and store nothing; every status change of its cases is kept for the
hotline to fetch (status back); its time standards are readable data."""
from __future__ import annotations

import csv
import json
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from minqing.core.actors import system_actor
from minqing.core.cli import build_cli
from minqing.core.models import AuditRecord, Case, CaseEvent, ChannelUpdate
from minqing.plugins.hotline_12345 import import_orders
from minqing.workflows import channels, transition

from tests.fixtures.hotline import CSV_FEED, JSON_FEED, ORDERS, add_booked_address

HEADER = "工单编号,来电时间,诉求人,电话,诉求内容,地址,经度,纬度,诉求类别,诉求类型,办理时限\n"


@pytest.fixture
def hotline_city(platform, world):
    add_booked_address(platform, world)
    return world


def run(platform, *arguments):
    return CliRunner().invoke(build_cli(), ["--db", platform.db.url, *arguments], catch_exceptions=False)


def cases_by_order(platform) -> dict[str, Case]:
    with platform.db.session() as session:
        return {case.external_id: case for case in session.scalars(select(Case).where(Case.channel == "12345"))}


def test_the_sample_feed_twice_makes_one_case_per_order(platform, hotline_city, tmp_path):
    first = run(platform, "channels", "import", "12345", str(CSV_FEED), "--no-progress")
    assert first.exit_code == 0, first.output
    assert "新建事件 4 件" in first.output
    made = cases_by_order(platform)
    assert sorted(made) == list(ORDERS)
    vending, heating, question, gas = (made[number] for number in ORDERS)
    assert (vending.theme_key, vending.subcategory, vending.source) == ("urban_management.street_vending", "1001",
                                                                       "hotline")
    assert heating.theme_key == "heating.heating_quality"           # the category's last part, 室温不达标
    assert (question.theme_key, question.subcategory) == ("hotline.general_appeals", "4001")   # the fallback
    assert (question.lon, question.lat) == (103.82, 36.04)         # from the standard address book
    assert question.form_data["appeal_type"] == "咨询"
    assert gas.urgency == "critical" and vending.urgency == "urgent"   # 2 hours; 3 working days (24 working hours)
    assert vending.reporter_name == "张先生" and vending.reporter_phone == "13912340001"
    assert vending.description == "永昌路口有流动摊贩长期占道经营，晚上影响通行"
    with platform.db.session() as session:   # what else the order said is on the report's timeline line
        received = session.scalar(select(CaseEvent.data).where(CaseEvent.case_id == vending.id,
                                                              CaseEvent.action == "report"))["received"]
    assert received == {"called_at": "2026-12-01T08:15", "category": "城市管理/市容环境/占道经营",
                        "time_limit": "3个工作日", "limit_hours": 24.0}

    again = run(platform, "channels", "import", "12345", str(CSV_FEED), "--no-progress")
    assert again.exit_code == 0, again.output
    assert "新建事件 0 件，已受理过（跳过）4 件" in again.output
    # the JSON export of the same orders (its own key names) finds the same cases
    as_json = run(platform, "channels", "import", "12345", str(JSON_FEED), "--no-progress", "--json")
    assert json.loads(as_json.output)["skipped"] == 4
    after = cases_by_order(platform)
    assert {number: (case.id, case.version, case.status) for number, case in after.items()} == {
        number: (case.id, case.version, case.status) for number, case in made.items()}
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 4


def test_the_json_feed_alone(platform, hotline_city):
    with platform.db.session():
        summary = import_orders(platform, JSON_FEED, actor=system_actor("test"))
    assert (summary.imported, summary.rejected) == (4, 0), summary.errors
    assert sorted(cases_by_order(platform)) == list(ORDERS)


def test_a_dry_run_checks_and_stores_nothing(platform, hotline_city):
    result = run(platform, "channels", "import", "12345", str(CSV_FEED), "--no-progress", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "试运行" in result.output and "新建事件 4 件" in result.output
    assert cases_by_order(platform) == {}
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ChannelUpdate)) == 0


def test_bad_rows_are_refused_naming_row_and_column(platform, hotline_city, tmp_path):
    feed = tmp_path / "bad.csv"
    feed.write_text(HEADER + "\n".join([
        "GD202612020001,2026-12-02 08:00,甲,13912340005,路灯不亮,永昌路,103.83,36.05,占道经营,投诉,3个工作日",
        "GD202612020002,2026-12-02 08:00,乙,12345,电话不对,永昌路,103.83,36.05,占道经营,投诉,3个工作日",
        "GD202612020003,2026-12-02 08:00,丙,13912340006,在网格外,永昌路,100.0,30.0,占道经营,投诉,3个工作日",
        "GD202612020004,昨天,丁,13912340007,时间不对,永昌路,103.83,36.05,占道经营,吐槽,三天",
        ",2026-12-02 08:00,戊,13912340008,没有编号,永昌路,103.83,36.05,占道经营,投诉,",
        "GD202612020006,2026-12-02 08:00,己,13912340009,无坐标也无标准地址,不存在的地址,,,占道经营,投诉,",
    ]) + "\n", encoding="utf-8")
    report = tmp_path / "bad.errors.csv"
    result = run(platform, "channels", "import", "12345", str(feed), "--no-progress", "--errors", str(report))
    assert result.exit_code == 1
    assert "新建事件 1 件" in result.output and "拒绝 5 行" in result.output
    with open(report, encoding="utf-8-sig", newline="") as handle:
        rows = [tuple(row) for row in csv.reader(handle)][1:]
    by_row = {}
    for number, column, value, message in rows:
        by_row.setdefault(int(number), []).append((column, value, message))
    assert set(by_row) == {3, 4, 5, 6, 7}
    assert by_row[3] == [("电话", "12345", "联系电话格式不正确：应为11位手机号码或带区号的固定电话")]
    assert by_row[4][0][0] == "经度/纬度" and "不在本平台任何网格内" in by_row[4][0][2]
    assert {column for column, _value, _message in by_row[5]} == {"来电时间", "诉求类型", "办理时限"}
    assert ("工单编号", "", "工单编号不能为空") in by_row[6]
    assert by_row[7][0][0] == "经度/纬度" and "标准地址库中也没有地址“不存在的地址”" in by_row[7][0][2]
    assert "第3行 电话：联系电话格式不正确" in result.output
    # a phone in an error line is masked, as everywhere
    assert "13912340005" not in report.read_text(encoding="utf-8-sig")
    assert sorted(cases_by_order(platform)) == ["GD202612020001"]


def test_a_file_without_the_order_number_column_is_refused(platform, hotline_city, tmp_path):
    feed = tmp_path / "no_number.csv"
    feed.write_text("来电时间,诉求内容\n2026-12-02 08:00,路灯不亮\n", encoding="utf-8")
    result = run(platform, "channels", "import", "12345", str(feed), "--no-progress")
    assert result.exit_code == 1 and "缺少必填列：工单编号" in result.output


def test_status_goes_back_after_a_transition(platform, hotline_city, tmp_path):
    run(platform, "channels", "import", "12345", str(CSV_FEED), "--no-progress")
    vending = cases_by_order(platform)["GD202612010001"]
    centre = system_actor("centre")
    with platform.db.session() as session:
        case = session.get(Case, vending.id)
        transition(platform, session, case, "accept", centre, {"comment": "已受理，联系人电话13912340001"})
        session.commit()
    output = tmp_path / "back.json"
    result = run(platform, "channels", "status-back", "12345", "-o", str(output))
    assert result.exit_code == 0, result.output
    updates = json.loads(output.read_text(encoding="utf-8"))["updates"]
    mine = [update for update in updates if update["external_id"] == "GD202612010001"]
    assert [(update["transition"], update["status"], update["status_title"]) for update in mine] == [
        ("report", "reported", "待受理"), ("accept", "registered", "待分拨")]
    assert mine[1]["case_number"] == vending.number
    assert "13912340001" not in mine[1]["note"] and mine[1]["note"].startswith("已受理")
    # fetched after the last row it got, the hotline sees only what is new
    last = updates[-1]["id"]
    with platform.db.session() as session:
        transition(platform, session, session.get(Case, vending.id), "dispatch", centre, {})
        session.commit()
    newer = tmp_path / "newer.csv"
    run(platform, "channels", "status-back", "12345", "--after-id", str(last), "-o", str(newer))
    with open(newer, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["工单编号"], row["环节"], row["状态"]) for row in rows] == [("GD202612010001", "dispatch", "dispatched")]
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(AuditRecord)
                              .where(AuditRecord.object_type == "channel_updates")) == 2


def test_the_time_standards_are_data(platform):
    standards = channels.time_standards(platform, "12345")
    assert standards["response_hours"] == 2
    assert standards["handling_days"]["咨询"] == 1 and standards["category_days"]["燃气泄漏"] == 1
    standards["response_hours"] = 99    # a copy: the channel's own data stays
    assert channels.time_standards(platform, "12345")["response_hours"] == 2
    assert channels.time_standards(platform, "no-such-channel") == {}


def test_bad_json_orders_are_refused_by_their_position(platform, hotline_city, tmp_path):
    feed = tmp_path / "orders.json"
    good = {"order_no": "GD202612030001", "content": "路口摊贩占道", "address": "永昌路", "lon": 103.83, "lat": 36.05,
            "category": "占道经营"}
    feed.write_text(json.dumps({"rows": [good, "不是工单", {**good, "order_no": "GD202612030003", "lon": "东经"},
                                         {**good}]}, ensure_ascii=False), encoding="utf-8")
    dry = run(platform, "channels", "import", "12345", str(feed), "--no-progress", "--dry-run", "--json")
    answer = json.loads(dry.output)
    # the same order twice in one file: one new case, the repeat counted as already received, as the import will
    assert (answer["imported"], answer["skipped"], answer["rejected"]) == (1, 1, 2), answer["errors"]
    assert [(error["row"], error["column"], error["message"]) for error in answer["errors"]] == [
        (2, "", "应为一个工单（JSON 对象）"), (3, "lon", "经度应为数字")]
    assert cases_by_order(platform) == {}
    # the theme's citizen form asks for the address: an order without one is refused, naming its column
    feed.write_text(json.dumps([{k: v for k, v in good.items() if k != "address"}], ensure_ascii=False), "utf-8")
    answer = json.loads(run(platform, "channels", "import", "12345", str(feed), "--no-progress", "--json").output)
    assert [(error["row"], error["column"]) for error in answer["errors"]] == [(1, "地址")]
    assert cases_by_order(platform) == {}


def test_an_xlsx_export_reads_like_the_csv(platform, hotline_city, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    with open(CSV_FEED, encoding="utf-8", newline="") as handle:
        for index, cells in enumerate(csv.reader(handle)):
            sheet.append([float(cell) if index and position in (6, 7) and cell else cell
                          for position, cell in enumerate(cells)])
    feed = tmp_path / "orders.xlsx"
    workbook.save(feed)
    result = run(platform, "channels", "import", "12345", str(feed), "--no-progress")
    assert result.exit_code == 0 and "新建事件 4 件" in result.output, result.output
    assert run(platform, "channels", "import", "12345", str(CSV_FEED), "--no-progress").output.count("跳过）4 件") == 1
