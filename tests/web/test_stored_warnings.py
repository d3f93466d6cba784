"""Stored early warnings (issue #20): a refresh evaluates each rule once for the whole city and stores its warnings;
the dashboard, the warnings page and the map read the stored rows within the viewer's scope, minus handled ones.
A vanished situation leaves the table, a persisting one keeps its first-seen time, a failing rule keeps its rows,
a rule never evaluated (or too long ago) is evaluated by its reader; the scheduler, `minqing warnings refresh` and
the administrator's button refresh."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest

from click.testing import CliRunner
from sqlalchemy import select, update

from minqing.core import warning_rules, warning_store
from minqing.core.actors import Actor, Grant
from minqing.core.cli import build_cli
from minqing.core.hooks import hookimpl
from minqing.core.models import AuditRecord, Household, StoredWarning, WarningRuleRun, utcnow
from minqing.core.warning_rules import EarlyWarning

from tests.fixtures.web import section

RULE = "test.flags"
STATION_REGION, JIUQUAN_REGION = "620102001001", "620102002000"   # 永昌路社区 (张掖路街道), 酒泉路街道
STATION = Actor(None, "张掖路街道指挥所", (Grant("operator", region_code="620102001000"),))
JIUQUAN = Actor(None, "酒泉路街道指挥所", (Grant("operator", region_code="620102002000"),))
WORKER = Actor(None, "网格员", (Grant("grid_worker", grid_code="G620102001001001"),))


class Flags:
    """A warning rule whose warnings are whatever the test puts in `found` (or that fails when `broken`)."""

    def __init__(self):
        self.found: list[EarlyWarning] = []
        self.broken = False
        self.evaluations = 0

    def evaluate(self, session, viewer, settings, now):
        self.evaluations += 1
        if self.broken:
            raise RuntimeError("规则坏了")
        return list(self.found)

    @hookimpl
    def warning_rules(self):
        return [{"key": RULE, "title": "测试预警", "evaluate": self.evaluate}]


@pytest.fixture
def rule(platform):
    """The test rule, registered for the test only (the platform may outlive the test's tables)."""
    flags = Flags()
    platform.plugins.register(flags, "test_flags")
    yield flags
    platform.plugins.unregister("test_flags")


def flag(key: str, region: str = STATION_REGION, severity: str = "yellow", **fields) -> EarlyWarning:
    return EarlyWarning(rule=RULE, key=key, title=f"预警{key}", reason=f"原因{key}", severity=severity,
                        region_code=region, lon=103.82, lat=36.05, objects=(("case", 1),), **fields)


def stored(platform) -> dict[str, StoredWarning]:
    with platform.db.session() as session:
        return {row.warning_key: row for row in session.scalars(
            select(StoredWarning).where(StoredWarning.rule_key == RULE))}


def refresh_audits(platform) -> list[AuditRecord]:
    with platform.db.session() as session:
        return list(session.scalars(select(AuditRecord).where(AuditRecord.action == "warning.refresh")))


def test_a_refresh_stores_each_rule_once_city_wide_with_one_audit_record(platform, world, rule):
    rule.found = [flag("a", severity="red", grid_id=world.grids["G620102001001001"], theme_key="t", category="c"),
                  flag("b", region=JIUQUAN_REGION)]
    done = warning_rules.refresh(platform)
    assert rule.evaluations == 1 and done[RULE] == {"warnings": 2, "added": 2, "removed": 0,
                                                    "seconds": done[RULE]["seconds"]}
    rows = stored(platform)
    assert set(rows) == {"a", "b"}
    a = rows["a"]
    assert (a.title, a.reason, a.severity, a.region_code, a.grid_id, a.lon, a.lat, a.objects, a.theme_key,
            a.category) == ("预警a", "原因a", "red", STATION_REGION, world.grids["G620102001001001"], 103.82, 36.05,
                            [["case", 1]], "t", "c")
    with platform.db.session() as session:
        run = session.get(WarningRuleRun, RULE)
        assert run.evaluated_at == run.attempted_at and run.warnings == 2 and run.error == ""
    [audit] = refresh_audits(platform)                  # one record for the whole refresh, all rules in it
    assert audit.actor_name == "系统" and RULE in audit.details["rules"] and "现有预警" in audit.summary


def test_a_vanished_warning_leaves_and_a_persisting_one_keeps_its_first_seen_time(platform, world, rule):
    rule.found = [flag("stays"), flag("goes")]
    first = utcnow() - dt.timedelta(hours=1)
    warning_rules.refresh(platform, now=first)
    rule.found = [dataclasses.replace(flag("stays"), reason="更新后的原因"), flag("new")]
    later = utcnow()
    done = warning_rules.refresh(platform, now=later)
    rows = stored(platform)
    assert set(rows) == {"stays", "new"} and (done[RULE]["added"], done[RULE]["removed"]) == (1, 1)
    assert rows["stays"].first_seen_at == first and rows["stays"].evaluated_at == later
    assert rows["stays"].reason == "更新后的原因" and rows["new"].first_seen_at == later


def test_an_acknowledged_warning_leaves_at_once_without_a_refresh(platform, world, rule):
    rule.found = [flag("a"), flag("b")]
    warning_rules.refresh(platform)
    with platform.db.session() as session:
        warning_rules.acknowledge(platform, session, STATION, RULE, "a")
    with platform.db.session() as session:
        [(_, found)] = [(r, f) for r, f in warning_rules.active(platform, session, STATION) if r["key"] == RULE]
        assert [warning.key for warning in found] == ["b"]
    assert rule.evaluations == 1                         # read from the table: no evaluation on the way
    assert "a" in stored(platform)                       # still there while the situation lasts, only handled


def test_a_failing_rule_keeps_its_rows_records_the_error_and_the_dashboard_renders(platform, world, rule,
                                                                                   as_user):
    rule.found = [flag("a")]
    warning_rules.refresh(platform)
    rule.broken = True
    done = warning_rules.refresh(platform)
    assert "RuntimeError: 规则坏了" in done[RULE]["error"]
    assert set(stored(platform)) == {"a"}
    with platform.db.session() as session:
        run = session.get(WarningRuleRun, RULE)
        assert "规则坏了" in run.error and run.evaluated_at < run.attempted_at
    response = as_user("station").get("/manage/")
    assert response.status_code == 200
    warnings = section(response.get_data(as_text=True), "warnings")
    assert "预警a" in warnings and f'id="warnings-{RULE}-failed"' in warnings
    page = as_user("admin").get("/manage/warnings").get_data(as_text=True)
    assert "最近一次评估失败：RuntimeError: 规则坏了" in page


def test_each_viewer_reads_only_the_stored_warnings_of_their_scope(platform, world, rule):
    rule.found = [flag("zhangye", grid_id=world.grids["G620102001001001"]),
                  flag("jiuquan", region=JIUQUAN_REGION, grid_id=world.grids["G620102002"])]
    warning_rules.refresh(platform)

    def keys(viewer):
        with platform.db.session() as session:
            return sorted(w.key for r, found in warning_rules.active(platform, session, viewer) for w in found
                          if r["key"] == RULE)

    assert keys(STATION) == ["zhangye"] and keys(JIUQUAN) == ["jiuquan"] and keys(WORKER) == ["zhangye"]
    assert keys(Actor(None, "市", (Grant("leader", region_code="620100000000"),))) == ["jiuquan", "zhangye"]
    assert keys(Actor(None, "城管", (Grant("department_staff", department_id=1),))) == []
    # a village cadre: the warnings of the households they answer for, by region
    assert keys(Actor(None, "社区书记", (Grant("cadre", region_code=STATION_REGION),))) == ["zhangye"]
    assert keys(Actor(None, "街道干部", (Grant("cadre", region_code=JIUQUAN_REGION),))) == ["jiuquan"]
    with platform.db.session() as session:
        layer = {item["key"]: item for _, item in platform.plugins.collect("map_layers", viewer=JIUQUAN,
                                                                           session=session)}
        assert [f["id"] for f in layer["warnings.surges"]["features"](None, session)] == []
        other = warning_rules.rules(platform, session)[RULE]
        assert [w.key for w in warning_rules.current(session, JIUQUAN, other, located=True)] == ["jiuquan"]
        assert warning_rules.current(session, JIUQUAN, other, bbox=(100, 30, 101, 31)) == []
        assert warning_rules.page(platform, session, JIUQUAN, RULE, 1, 10).total == 1


def test_a_rule_never_evaluated_or_too_old_is_evaluated_by_its_reader_and_a_fresh_one_is_not(platform, world, rule):
    rule.found = [flag("a")]
    with platform.db.session() as session:        # nothing stored yet: the reader evaluates and stores
        assert [w.key for r, f in warning_rules.active(platform, session, STATION) for w in f] == ["a"]
    assert rule.evaluations == 1 and set(stored(platform)) == {"a"}
    rule.found = [flag("a"), flag("b")]
    with platform.db.session() as session:        # fresh: the stored rows answer until the next refresh
        assert [w.key for r, f in warning_rules.active(platform, session, STATION) for w in f] == ["a"]
    assert rule.evaluations == 1
    with platform.db.session() as session:        # older than twice the interval: evaluated again
        session.execute(update(WarningRuleRun).values(
            attempted_at=utcnow() - warning_store.max_age() - dt.timedelta(seconds=1)))
    with platform.db.session() as session:
        assert sorted(w.key for r, f in warning_rules.active(platform, session, STATION) for w in f) == ["a", "b"]
    assert rule.evaluations == 2


def test_saved_settings_make_the_next_reader_evaluate_the_rule_again(platform, world, system):
    with platform.db.session() as session:
        session.add(Household(number="ZY1", grid_id=world.grids["G620102001001001"], region_code=STATION_REGION))
    warning_rules.refresh(platform)
    with platform.db.session() as session:
        rule = warning_rules.rules(platform, session)["repeat_reports"]
        warning_rules.save_settings(session, system, rule, {"radius_m": 10})
    with platform.db.session() as session:
        assert session.get(WarningRuleRun, "repeat_reports") is None
        assert session.get(WarningRuleRun, "unvisited_households") is not None


def test_the_dashboard_shows_a_few_warnings_per_rule_with_the_count_and_a_link_to_all(
        platform, world, rule, as_user):
    rule.found = [flag(f"k{n:02}", severity="red" if n == 30 else "blue") for n in range(35)]
    warning_rules.refresh(platform)
    page = as_user("station").get("/manage/").get_data(as_text=True)
    listed = section(page, "warnings")
    shown = re.findall(r"<strong>预警(k\d\d)</strong>", listed)
    assert len(shown) == warning_rules.DASHBOARD_LIMIT and shown[0] == "k30"      # the most severe first
    assert "测试预警（35）" in listed and "查看全部 35 条" in listed and "预警更新于" in listed
    assert f'href="/manage/warnings?rule={RULE}"' in listed
    full = as_user("station").get(f"/manage/warnings?rule={RULE}").get_data(as_text=True)
    assert len(re.findall(r"<strong>预警(k\d\d)</strong>", full)) == 35 and "预警更新于" in full


def test_the_warnings_page_pages_its_list_and_its_actions_come_back_to_it(platform, world, rule, as_user):
    from minqing.web.manage import warnings as page_module

    rule.found = [flag(f"k{n:03}") for n in range(page_module.PAGE_SIZE + 5)]
    warning_rules.refresh(platform)
    station = as_user("station")
    first = station.get(f"/manage/warnings?rule={RULE}").get_data(as_text=True)
    second = station.get(f"/manage/warnings?rule={RULE}&page=2").get_data(as_text=True)
    on_first = re.findall(r"<strong>预警(k\d+)</strong>", first)
    on_second = re.findall(r"<strong>预警(k\d+)</strong>", second)
    assert len(on_first) == page_module.PAGE_SIZE and len(on_second) == 5
    assert sorted(on_first + on_second) == sorted(w.key for w in rule.found) and "下一页" in first
    back = f"/manage/warnings?rule={RULE}&page=2"
    response = station.post(f"/manage/warnings/{RULE}/acknowledge", data={"key": on_second[0], "back": back})
    assert response.status_code == 302 and response.headers["Location"].endswith(back)
    again = station.get(back).get_data(as_text=True)
    assert f"<strong>预警{on_second[0]}</strong>" not in again and "共 54 条" in again
    elsewhere = station.post(f"/manage/warnings/{RULE}/acknowledge",
                             data={"key": on_second[1], "back": "https://evil.example/manage/warnings"})
    assert elsewhere.headers["Location"].endswith("/manage/#active-warnings")


def test_the_refresh_button_is_the_administrators(platform, world, rule, as_user):
    rule.found = [flag("a")]
    assert as_user("station").post("/manage/warnings/refresh").status_code == 403
    response = as_user("admin").post("/manage/warnings/refresh", follow_redirects=True)
    assert "预警已刷新" in response.get_data(as_text=True) and "立即刷新" in response.get_data(as_text=True)
    assert rule.evaluations == 1 and set(stored(platform)) == {"a"}
    [audit] = refresh_audits(platform)
    assert audit.actor_name != "系统"                   # the administrator who pressed it


def test_the_periodic_task_is_declared_and_refreshes(platform, world, rule):
    rule.found = [flag("a")]
    [task] = [item for _, item in platform.plugins.collect("periodic_tasks") if item["name"] == "warnings.refresh"]
    assert task["every"] == warning_store.REFRESH_SECONDS > 0
    task["run"](platform)
    assert rule.evaluations == 1 and set(stored(platform)) == {"a"}


def test_the_command_line_refreshes(platform, world):
    with platform.db.session() as session:
        session.add(Household(number="ZY1", grid_id=world.grids["G620102001001001"], region_code=STATION_REGION))
    result = CliRunner().invoke(build_cli(), ["--db", platform.db.url, "warnings", "refresh",
                                              "--rule", "unvisited_households"])
    assert result.exit_code == 0, result.output
    assert "unvisited_households: 1 条（新增 1，消失 0" in result.output
    with platform.db.session() as session:
        [row] = session.scalars(select(StoredWarning))
        assert row.rule_key == "unvisited_households" and row.region_code == STATION_REGION
    refused = CliRunner().invoke(build_cli(), ["--db", platform.db.url, "warnings", "refresh", "--rule", "nope"])
    assert refused.exit_code != 0 and "没有预警规则 nope" in refused.output


def test_department_staff_read_the_warnings_about_their_department_or_under_its_themes(platform, world, rule):
    from minqing.core.models import Department, ThemeVersion

    with platform.db.session() as session:
        theme, department = session.execute(select(ThemeVersion.theme_key, ThemeVersion.department_key)
                                            .order_by(ThemeVersion.id).limit(1)).one()
        ids = dict(session.execute(select(Department.key, Department.id)).all())
        other_theme, other = session.execute(select(ThemeVersion.theme_key, ThemeVersion.department_key).where(
            ThemeVersion.department_key != department).limit(1)).one()
    rule.found = [flag("theirs-by-theme", theme_key=theme), flag("theirs-by-department", department=department),
                  flag("others-theme", theme_key=other_theme), flag("others-department", department=other),
                  flag("nobodys")]
    warning_rules.refresh(platform)
    assert stored(platform)["theirs-by-department"].department_key == department

    def keys(viewer):
        with platform.db.session() as session:
            return sorted(w.key for r, found in warning_rules.active(platform, session, viewer) for w in found
                          if r["key"] == RULE)

    # by id alone (as a session's grant may come) and by key: the same warnings
    assert keys(Actor(None, "科员", (Grant("department_staff", department_id=ids[department]),))) == [
        "theirs-by-department", "theirs-by-theme"]
    assert keys(Actor(None, "科员", (Grant("department_staff", department_id=ids[department],
                                             department_key=department),))) == [
        "theirs-by-department", "theirs-by-theme"]
    assert keys(Actor(None, "他部门", (Grant("department_staff", department_id=ids[other]),))) == [
        "others-department", "others-theme"]
    assert keys(STATION) == ["nobodys", "others-department", "others-theme", "theirs-by-department",
                             "theirs-by-theme"]   # the region's operator sees them all, as before

