"""小兰民情 (the management dashboard): who may open it, the numbers each viewer sees within their scope, the
period selector's errors, warnings, plugin figures, and charts that escape what they draw."""
import datetime as dt
import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from minqing.core import city
from minqing.core.models import Case, Grid, Household, KeyPerson, KeyPlace, Region, Resident, utcnow
from minqing.core.warning_rules import city_today
from minqing.web import charts

from tests.fixtures.web import section

THEME = "urban_management.street_vending"
ZHANGYE_GRID, JIUQUAN_GRID = "G620102001001001", "G620102002"
YONGCHANG, JIUQUAN = "620102001001", "620102002000"


def add_case(platform, world, title, *, grid=ZHANGYE_GRID, region=YONGCHANG, hours_ago=1.0, status="reported",
             closed=False, overdue=False, department="urban_management", category="1001", theme=THEME):
    now = utcnow()
    with platform.db.session() as session:
        case = Case(theme_key=theme, category="市容环境", subcategory=category, title=title, source="grid_worker",
                    status=status,
                    grid_id=world.grids[grid], region_code=region,
                    department_id=world.departments[department] if department else None,
                    created_at=now - dt.timedelta(hours=hours_ago),
                    state_deadline_at=now - dt.timedelta(hours=3) if overdue else now + dt.timedelta(days=2),
                    due_at=now + dt.timedelta(days=5))
        if closed:
            case.status, case.closed_at = "closed", now - dt.timedelta(minutes=10)
        session.add(case)
        session.flush()
        return case.id


@pytest.fixture
def cases(platform, world):
    """Three cases in 张掖路 (one closed, one overdue) and two in 酒泉路 (one overdue); one older case."""
    ids = {
        "zy_open": add_case(platform, world, "张掖路占道一"),
        "zy_closed": add_case(platform, world, "张掖路占道二", closed=True),
        "zy_overdue": add_case(platform, world, "张掖路超期事件", overdue=True, department="water_affairs"),
        "jq_open": add_case(platform, world, "酒泉路占道", grid=JIUQUAN_GRID, region=JIUQUAN),
        "jq_overdue": add_case(platform, world, "酒泉路超期事件", grid=JIUQUAN_GRID, region=JIUQUAN, overdue=True),
        "old": add_case(platform, world, "四十天前的事件", hours_ago=40 * 24),
    }
    return ids


def figure(page: str, key: str) -> int:
    return int(re.search(rf'id="fig-{key}">(\d+)<', page).group(1))


def dashboard(client, **query):
    response = client.get("/manage/", query_string=query)
    return response, response.get_data(as_text=True)


# -- who may open it -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("username", ["worker", "citizen", "chengguan", "water", "auditor"])
def test_the_dashboard_is_closed_to_other_roles(as_user, username):
    assert as_user(username).get("/manage/").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    response = client.get("/manage/")
    assert response.status_code == 302 and "/login" in response.location


def test_the_menu_shows_the_dashboard_to_leaders_only(as_user):
    assert 'href="/manage/"' in as_user("leader").get("/map/").get_data(as_text=True)
    assert 'href="/manage/"' in as_user("station").get("/map/").get_data(as_text=True)
    assert 'href="/manage/"' not in as_user("worker").get("/map/").get_data(as_text=True)


# -- numbers within scope ---------------------------------------------------------------------------------------

def test_the_leader_sees_the_whole_city(as_user, cases):
    response, page = dashboard(as_user("leader"), period="last_30_days")
    assert response.status_code == 200
    assert "统计范围：兰州市" in page
    assert (figure(page, "reported"), figure(page, "closed")) == (5, 1)
    assert (figure(page, "open"), figure(page, "overdue")) == (5, 2)    # the 40-day-old case is still open
    # the overdue list links to each case page, the longest overdue first
    assert f'/work/cases/{cases["zy_overdue"]}' in page and f'/work/cases/{cases["jq_overdue"]}' in page
    assert f'/work/cases/{cases["zy_open"]}"' not in page
    # region bars one level below the city: the county holds all five
    regions = section(page, "by-region")
    assert "按县(区)" in regions and "城关区" in regions and "5件" in regions
    # departments: 城管 four, 水务 one; and the theme bar links to the inbox filtered by theme
    departments = section(page, "by-department")
    assert "城管" in departments and "4件" in departments and "水务" in departments and "1件" in departments
    assert f"theme={THEME}" in section(page, "by-theme") and "5件" in section(page, "by-theme")
    # the trend's point for today counts today's reports (all five were reported within the last hours, or
    # the day before when the test runs just after midnight)
    trend = section(page, "trend")
    today, yesterday = city_today(), city_today() - dt.timedelta(days=1)
    today_reports = int(re.search(rf"{today:%m-%d} 上报：(\d+)件", trend).group(1))
    yesterday_reports = int(re.search(rf"{yesterday:%m-%d} 上报：(\d+)件", trend).group(1))
    assert today_reports + yesterday_reports == 5
    assert "<polyline" in trend and "<script" not in page


def test_a_township_operator_sees_only_their_township(as_user, cases):
    _, station = dashboard(as_user("station"), period="last_30_days")
    assert "统计范围：张掖路街道" in station
    assert (figure(station, "reported"), figure(station, "closed"), figure(station, "overdue")) == (3, 1, 1)
    assert "张掖路超期事件" in station and "酒泉路" not in section(station, "overdue")
    assert "酒泉路占道" not in station
    assert "按村(社区)" in station and "永昌路社区" in section(station, "by-region")

    _, jiuquan = dashboard(as_user("jiuquan"), period="last_30_days")
    assert "统计范围：酒泉路街道" in jiuquan
    assert (figure(jiuquan, "reported"), figure(jiuquan, "closed"), figure(jiuquan, "overdue")) == (2, 0, 1)
    assert "酒泉路超期事件" in jiuquan and "张掖路" not in section(jiuquan, "overdue")
    assert "水务" not in section(jiuquan, "by-department")


def test_the_period_selects_the_cases_counted(as_user, cases):
    leader = as_user("leader")
    today = city_today()
    _, page = dashboard(leader, period="custom", start=(today - dt.timedelta(days=60)).isoformat(),
                        end=today.isoformat())
    assert figure(page, "reported") == 6
    _, page = dashboard(leader, period="custom", start=(today - dt.timedelta(days=50)).isoformat(),
                        end=(today - dt.timedelta(days=35)).isoformat())
    assert figure(page, "reported") == 1
    _, page = dashboard(leader, period="last_month")
    first_of_month = today.replace(day=1)
    assert f"{(first_of_month - dt.timedelta(days=1)).replace(day=1):%Y-%m-%d} 至" in page


def test_indicators_come_from_the_loop_through_the_pages(platform, as_user, world):
    """A case reported and accepted through the pages counts as reported and accepted on time."""
    worker = as_user("worker")
    response = worker.post(f"/work/report/{THEME}", data=report_form(), content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    with platform.db.session() as session:
        case_id = session.scalar(select(Case.id))
    station = as_user("station")
    station.post(f"/work/cases/{case_id}/steps/accept", data={"comment": "属实"})
    _, page = dashboard(station, period="last_30_days")
    assert figure(page, "reported") == 1
    assert re.search(r"及时受理率</small><span class=\"value\">100\.0%", page)
    assert re.search(r"满意率</small><span class=\"value\">—", page)      # nobody rated yet: no rate, not 0 %
    rankings = section(page, "rankings")
    assert "城管" in rankings or "未分拨" in rankings


def test_the_last_30_days_show_the_same_cadre_coverage_read_from_the_last_visits(platform, as_user, world,
                                                                                password_hash, cases, monkeypatch):
    """户户见干部 over the last 30 days and over ten chosen days up to today is read from the households' last
    cadre visits (migration 0043): the rankings show the same column as read from the window's visits."""
    from minqing.core import visits
    from minqing.core.grassroots import household_visits
    from minqing.web.manage import periods
    from tests.fixtures import households as hh

    village, now, today = hh.build(platform, world, password_hash), utcnow(), city_today()
    with platform.db.session() as session:
        cun = hh.actor(session, "cun")
        for number, days in (("YC-1", 0), ("YC-2", 20), ("YC-3", 40)):   # 永昌路社区's three households
            visits.record_household_visit(session, cun, household_id=village.ids[number], met="户主",
                                          now=now - dt.timedelta(days=days, minutes=1))
        session.commit()
        chosen = periods.Period("custom", today - dt.timedelta(days=9), today)
        for period in (periods.preset("last_30_days", today), chosen):
            window = household_visits.Period("dashboard", period.start, period.end, "")
            assert household_visits.kept_counts(session, window) == household_visits.Kept(
                since=city.number_of_day(period.first_day))
    station = as_user("station")
    for query, shown in (({"period": "last_30_days"}, "66.7%"),
                         ({"period": "custom", "start": chosen.first_day.isoformat(), "end": today.isoformat()},
                          "33.3%")):
        _, page = dashboard(station, **query)
        rankings = section(page, "rankings")
        assert re.search(rf"<td>永昌路社区</td>(<td>[^<]*</td>)*<td>{re.escape(shown)}</td></tr>", rankings)
        with monkeypatch.context() as patch:   # as before 0043: from the window's visits
            patch.setattr(household_visits, "kept_counts", lambda *_: None)
            _, before = dashboard(station, **query)
        assert section(before, "rankings") == rankings


# -- period validation --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("query, message", [
    ({"period": "custom"}, "请选择开始日期"),
    ({"period": "custom", "start": "2026-01-01"}, "请选择结束日期"),
    ({"period": "custom", "start": "2026-13-01", "end": "2026-01-02"}, "开始日期“2026-13-01”格式不正确"),
    ({"period": "custom", "start": "2026-03-02", "end": "2026-03-01"}, "开始日期不能晚于结束日期"),
    ({"period": "custom", "start": "2024-01-01", "end": "2025-06-01"}, "统计周期最长为366天"),
    ({"period": "forever"}, "未知的统计周期"),
])
def test_a_bad_period_is_refused_in_chinese(as_user, query, message):
    response, page = dashboard(as_user("leader"), **query)
    assert response.status_code == 400
    assert message in page and "已改为显示本月数据" in page
    assert "统计周期：本月" in page


def test_a_period_ending_in_the_future_is_refused(as_user):
    tomorrow = city_today() + dt.timedelta(days=1)
    response, page = dashboard(as_user("leader"), period="custom", start="2026-01-01", end=tomorrow.isoformat())
    assert response.status_code == 400 and "结束日期不能晚于今天" in page


# -- grid colours, warnings and plugin figures ---------------------------------------------------------------------

def test_grid_colours_are_summarised_with_their_reasons_within_scope(platform, as_user, world):
    with platform.db.session() as session:
        for code, colour, reason in ((ZHANGYE_GRID, "red", "超期未办结事件 3 件；高风险重点人员 1 人"),
                                     ("G620102001001", "red", "超期未办结事件 4 件"),
                                     (JIUQUAN_GRID, "yellow", "中风险重点人员 2 人")):
            grid = session.get(Grid, world.grids[code])
            grid.colour, grid.colour_reason = colour, reason
    _, page = dashboard(as_user("leader"))
    colours = section(page, "grid-colours")
    assert "红色网格 2" in colours and "黄色网格 1" in colours and "蓝色网格 1" in colours
    assert "超期未办结事件（2 个网格）" in colours and "中风险重点人员（1 个网格）" in colours
    assert 'href="/map/"' in colours
    _, station = dashboard(as_user("station"))
    assert "红色网格 2" in section(station, "grid-colours") and "黄色网格 0" in section(station, "grid-colours")


def test_warnings_on_the_page_count_only_the_viewers_area(platform, as_user, world):
    today = city_today()
    with platform.db.session() as session:
        for n in range(6):   # a surge of one category in the small grid of 张掖路
            session.add(Case(theme_key=THEME, category="市容环境", subcategory="1001", title=f"占道{n}",
                             source="grid_worker",
                             status="reported", grid_id=world.grids[ZHANGYE_GRID], region_code=YONGCHANG,
                             created_at=utcnow() - dt.timedelta(days=1, hours=n)))
        resident = Resident(name="独居老人甲", id_number="620102194501011234", id_digest="d1", gender="female",
                            birth_date=dt.date(1945, 1, 1), grid_id=world.grids[ZHANGYE_GRID],
                            region_code=YONGCHANG)
        session.add(resident)
        session.flush()
        session.add(KeyPerson(resident_id=resident.id, category="独居老人", grid_id=world.grids[ZHANGYE_GRID],
                              region_code=YONGCHANG, next_visit_due=today - dt.timedelta(days=4)))
        session.add(KeyPlace(name="酒泉路加油站", category="加油站", grid_id=world.grids[JIUQUAN_GRID],
                             region_code=JIUQUAN, next_visit_due=today - dt.timedelta(days=2)))
        for n in range(3):
            session.add(Household(number=f"ZY{n}", grid_id=world.grids[ZHANGYE_GRID], region_code=YONGCHANG,
                                  last_visit_at=None if n else utcnow()))
        session.add(Household(number="JQ0", grid_id=world.grids[JIUQUAN_GRID], region_code=JIUQUAN))
    _, station = dashboard(as_user("station"))
    warnings = section(station, "warnings")
    assert re.search(r'id="surge-count">1<', warnings) and "永昌路第1网格" in warnings and "6" in warnings
    assert "占道经营" in warnings          # the category's title from the theme, not its code
    assert re.search(r'id="visit-count">1<', warnings) and "已逾期 4 天" in warnings
    assert "独居老人甲" not in station          # the dashboard names categories, never the person
    assert re.search(r'id="household-count">2<', warnings) and "永昌路社区" in warnings
    assert "酒泉路加油站" not in station
    _, jiuquan = dashboard(as_user("jiuquan"))
    warnings = section(jiuquan, "warnings")
    assert re.search(r'id="surge-count">0<', warnings) and re.search(r'id="visit-count">1<', warnings)
    assert "酒泉路加油站" in warnings and re.search(r'id="household-count">1<', warnings)
    # the civil affairs plugin's figure counts the overdue elderly person for 张掖路 only
    assert "独居老人走访逾期" in section(station, "plugin-figures")
    assert re.search(r"独居老人走访逾期</h2><p><span class=\"warning-count\">1<", station)
    assert re.search(r"独居老人走访逾期</h2><p><span class=\"warning-count\">0<", jiuquan)


# -- escaping --------------------------------------------------------------------------------------------------------

def test_a_region_name_with_markup_is_escaped_in_the_charts(platform, as_user, world):
    evil = "<script>alert(1)</script>社区"
    with platform.db.session() as session:
        session.get(Region, world.ids[YONGCHANG]).name = evil
    add_case(platform, world, "一件事")
    _, page = dashboard(as_user("station"))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section(page, "by-region")


def test_the_chart_helpers_escape_every_label():
    evil = '<script>alert("x")</script>'
    bars = charts.bar_chart([(evil, 3), ("城管", 1)], title=evil, unit="件", href=lambda i: f"/x?t={evil}")
    line = charts.line_chart([evil, "05-02"], [(evil, [1, 2])], title=evil)
    table = charts.ranking_table([("name", evil)], [{"name": evil}], caption=evil)
    for markup in (bars, line, table):
        assert "<script" not in str(markup) and "&lt;script&gt;" in str(markup)
    assert str(bars).startswith("<svg") and 'viewBox="0 0 360' in str(bars)
    assert "<polyline" in str(line) and "<td>1</td>" in str(table)
    assert "暂无数据" in str(charts.bar_chart([], title="空")) and "暂无数据" in str(charts.line_chart([], [], title="空"))
    assert charts.percent(None) == "—" and charts.percent(0.5) == "50.0%" and charts.nice_ceiling(37) == 50


def test_the_page_needs_no_inline_script_or_style(as_user, cases):
    """The security policy allows no inline script or style: the charts are plain SVG with attributes."""
    client = as_user("leader")
    response, page = dashboard(client)
    assert "style-src 'self'" in response.headers["Content-Security-Policy"]
    assert "<script" not in page and "<style" not in page and " style=" not in page
    assert "<svg" in page and 'name="viewport"' in page
    assert client.get("/static/manage.css").status_code == 200


# -- helpers -----------------------------------------------------------------------------------------------------------

def report_form() -> dict:
    output = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 120, 200)).save(output, format="JPEG")
    output.seek(0)
    return {"title": "张掖路夜市占道", "category": "1001", "urgency": "normal",
            "details-address": "张掖路123号门前", "details-location-lon": "103.83",
            "details-location-lat": "36.05", "details-vending_type": "流动摊贩",
            "details-blocks_passage": "true", "details-blocked_passage": "盲道", "details-persuaded": "false",
            "details-description": "流动摊贩占用盲道", "details-photos": (output, "现场.jpg")}
