"""The early-warning rule on overdue patrols of department records (plugin `warning_record_patrols`): one warning
per department and grid, within the viewer's scope; the department's figures and the dashboard panel count them;
disabling the plugin takes them away."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from minqing import themes
from minqing.core import warning_rules
from minqing.core.actors import Actor, Grant, system_actor
from minqing.core.models import ThemeRecord, utcnow
from minqing.plugins.record_patrols import plugin

from tests.fixtures.themes import ThemePlugin, make_theme

STALLS = "urban_management.zz_stalls"
STATION = Actor(None, "张掖路街道指挥所", (Grant("operator", region_code="620102001000"),))
WEST = Actor(None, "西园街道指挥所", (Grant("operator", region_code="620103001000"),))
CITY = Actor(None, "市中心", (Grant("operator", region_code="620100000000"),))


def _records(platform, city, ages):
    """Records of the weekly-patrolled stalls theme, (lon, lat, days since last seen) each."""
    platform.plugins.register(ThemePlugin(make_theme(STALLS, patrol_every_days=7)), "stalls")
    system = system_actor("test")
    with platform.db.session() as session:
        themes.sync_themes(platform, session, system)
        for lon, lat, days in ages:
            record = themes.add_record(platform, session, system, STALLS, {"name": "摊点"}, lon=lon, lat=lat)
            session.execute(update(ThemeRecord).where(ThemeRecord.id == record.id).values(
                created_at=utcnow() - dt.timedelta(days=days)))


def test_overdue_patrols_warn_per_department_and_grid(platform, session, city):
    _records(platform, city, [(103.81, 36.06, 10), (103.81, 36.06, 12), (103.81, 36.06, 3),   # 2 overdue, small grid
                              (103.72, 36.06, 30)])                                           # 1 overdue, 西园
    rule = warning_rules.rules(platform, session)["overdue_patrols"]
    assert rule["plugin"] == "warning_record_patrols"
    found = warning_rules.evaluate(session, CITY, rule)
    assert sorted((w.key, w.grid_id, w.severity) for w in found) == sorted([
        (f"urban_management:{city.grids['G620102001001']}", city.grids["G620102001001"], "yellow"),
        (f"urban_management:{city.grids['G620103001']}", city.grids["G620103001"], "yellow")])
    [mine] = warning_rules.evaluate(session, STATION, rule)
    assert mine.title == "城管业务记录巡查逾期：南关社区1号网格" and "2 条" in mine.reason
    warning_rules.save_settings(session, system_actor("test"), rule, {"min_records": 2, "red_from": 2})
    assert [(w.grid_id, w.severity) for w in warning_rules.evaluate(session, CITY, rule)] == [
        (city.grids["G620102001001"], "red")]
    warning_rules.acknowledge(platform, session, STATION, "overdue_patrols", mine.key)
    assert warning_rules.evaluate(session, STATION, rule) == []


def test_figures_and_panel_count_the_departments_overdue_patrols(platform, session, city):
    _records(platform, city, [(103.81, 36.06, 10), (103.72, 36.06, 30)])
    figures = plugin.dashboard_figures(viewer=STATION, session=session)
    assert [(f["key"], f["value"], f.get("department")) for f in figures] == [
        ("overdue_patrols", 1, None), ("overdue_patrols.urban_management", 1, "urban_management")]
    assert plugin.dashboard_figures(viewer=CITY, session=session)[0]["value"] == 2
    [panel] = plugin.dashboard_panels(viewer=WEST, session=session, now=utcnow())
    assert panel["count"] == 1 and panel["blocks"][1]["table"]["rows"] == [["城管", "西园大网格", 1]]


def test_disabling_the_plugin_takes_the_rule_away(platform, session, city):
    assert "overdue_patrols" in warning_rules.rules(platform, session)
    platform.plugins.set_enabled("warning_record_patrols", False, session=session, actor=system_actor("test"))
    assert "overdue_patrols" not in warning_rules.rules(platform, session)


def test_the_dashboard_counts_once_per_viewer(platform, session, city, monkeypatch):
    """The rule, the panel and the figures of one dashboard share one count; a change of the records counts
    again."""
    _records(platform, city, [(103.81, 36.06, 10)])
    calls = []
    periods = themes.patrols.published_periods
    monkeypatch.setattr(themes.patrols, "published_periods", lambda s: calls.append(1) or periods(s))
    now = utcnow()
    rule = warning_rules.rules(platform, session)["overdue_patrols"]
    assert len(warning_rules.evaluate(session, CITY, rule, now)) == 1
    assert plugin.dashboard_panels(viewer=CITY, session=session, now=now)[0]["count"] == 1
    assert plugin.dashboard_figures(viewer=CITY, session=session)[0]["value"] == 1
    assert len(calls) == 1
    assert plugin.dashboard_figures(viewer=STATION, session=session)[0]["value"] == 1   # another viewer: counted
    assert len(calls) == 2
    themes.add_record(platform, session, system_actor("test"), STALLS, {"name": "摊点"}, lon=103.81, lat=36.06)
    session.execute(update(ThemeRecord).values(created_at=utcnow() - dt.timedelta(days=10)))
    session.flush()
    assert plugin.dashboard_figures(viewer=CITY, session=session)[0]["value"] == 2


def test_a_disabled_themes_records_are_not_counted(platform, session, city):
    """The records of a theme whose plugin is disabled have no tasks and take no patrols: no warning for them."""
    _records(platform, city, [(103.81, 36.06, 10), (103.72, 36.06, 30)])
    rule = warning_rules.rules(platform, session)["overdue_patrols"]
    assert len(warning_rules.evaluate(session, CITY, rule)) == 2
    platform.plugins.set_enabled("stalls", False, session=session, actor=system_actor("test"))
    session.flush()
    assert themes.overdue_counts(session, CITY) == []
    assert warning_rules.evaluate(session, CITY, rule) == []
    assert plugin.dashboard_figures(viewer=CITY, session=session)[0]["value"] == 0
    assert plugin.dashboard_panels(viewer=CITY, session=session, now=utcnow())[0]["count"] == 0
