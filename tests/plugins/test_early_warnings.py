"""Early warnings as rule plugins: each built-in rule fires and stays quiet, settings are checked against the
rule's schema, a warning can be acknowledged or turned into a case, other regions see none of it, and a
disabled rule plugin takes its rule away."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from minqing import workflows
from minqing.core import warning_rules, warning_rules as warnings
from minqing.core.actors import Actor, Grant
from minqing.core.models import AuditRecord, Case, Household, Setting, WarningAction, utcnow
from minqing.plugins.early_warnings import repeat_reports
from minqing.workflows import warning_cases

STATION = Actor(None, "张掖路街道指挥所", (Grant("operator", region_code="620102001000"),))
WEST = Actor(None, "西园街道指挥所", (Grant("operator", region_code="620103001000"),))
THEME = "urban_management.street_vending"
SMALL = "G620102001001"
SPOT = (103.81, 36.06)
METRE = 1 / 111_320          # degrees of latitude per metre


def add_case(session, city, *, days_ago, status="reported", subcategory="0301", north_m=0.0, closed_days_ago=None):
    case = Case(theme_key=THEME, category="市容环境", subcategory=subcategory, title="占道经营", source="grid_worker",
                status=status, grid_id=city.grids[SMALL], region_code=city.regions["南关社区"], lon=SPOT[0],
                lat=SPOT[1] + north_m * METRE, created_at=utcnow() - dt.timedelta(days=days_ago),
                closed_at=utcnow() - dt.timedelta(days=closed_days_ago) if closed_days_ago is not None else None)
    session.add(case)
    session.flush()
    return case


def active(platform, session, viewer, rule_key):
    rule = warning_rules.rules(platform, session)[rule_key]
    return warning_rules.evaluate(session, viewer, rule)


def test_the_four_rules_come_from_their_plugins(platform, session):
    rules = warning_rules.rules(platform, session)
    assert {key: rule["plugin"] for key, rule in rules.items()} == {
        "surges": "warning_surges", "repeat_reports": "warning_repeat_reports",
        "repeat_places": "warning_repeat_places",
        "overdue_visits": "warning_overdue_visits", "unvisited_households": "warning_unvisited_households",
        "overdue_patrols": "warning_record_patrols"}


def test_a_surge_fires_and_a_few_cases_do_not(platform, session, city):
    for _ in range(4):
        add_case(session, city, days_ago=1)
    assert active(platform, session, STATION, "surges") == []
    add_case(session, city, days_ago=1)
    [warning] = active(platform, session, STATION, "surges")
    assert warning.grid_id == city.grids[SMALL] and "近 7 天上报 5 件" in warning.reason
    assert warning.theme_key == THEME and warning.lon is not None


def test_the_same_place_reported_again_after_closure(platform, session, city):
    closed = add_case(session, city, days_ago=12, status="closed", closed_days_ago=10)
    near = add_case(session, city, days_ago=2, north_m=20)
    add_case(session, city, days_ago=2, north_m=200)                       # too far
    add_case(session, city, days_ago=2, north_m=10, subcategory="0302")    # another category
    [warning] = active(platform, session, STATION, "repeat_reports")
    assert warning.key == f"case:{near.id}" and ("case", closed.id) in warning.objects
    assert "约 20 米" in warning.reason and "办结后 8 天" in warning.reason


def test_a_report_long_after_closure_is_no_repeat(platform, session, city):
    add_case(session, city, days_ago=50, status="closed", closed_days_ago=45)
    add_case(session, city, days_ago=5, north_m=5)
    assert active(platform, session, STATION, "repeat_reports") == []
    assert repeat_reports.repeat_reports(session, STATION, days=60) != []        # a longer window does see it


def test_overdue_visits_fire_and_visits_not_yet_due_do_not(platform, session, city, add_key_place):
    today = warnings.city_today()
    add_key_place("南关加油站", "加油加气站", "emergency", today + dt.timedelta(days=1))
    assert active(platform, session, STATION, "overdue_visits") == []
    late = add_key_place("东岗加油站", "加油加气站", "emergency", today - dt.timedelta(days=3))
    [warning] = active(platform, session, STATION, "overdue_visits")
    assert warning.objects == (("key_place", late),) and "已逾期 3 天" in warning.reason
    assert warning.lon is not None                  # a key place is on the map


def test_households_never_visited_fire_and_visited_ones_do_not(platform, session, city):
    session.add(Household(number="NG1", grid_id=city.grids[SMALL], region_code=city.regions["南关社区"],
                          last_visit_at=utcnow()))
    session.flush()
    assert active(platform, session, STATION, "unvisited_households") == []
    session.add(Household(number="NG2", grid_id=city.grids[SMALL], region_code=city.regions["南关社区"]))
    session.flush()
    [warning] = active(platform, session, STATION, "unvisited_households")
    assert warning.title == "南关社区有从未走访的户" and "共 2 户，从未走访 1 户" in warning.reason


def test_bad_settings_are_refused_naming_the_field_and_good_ones_apply(platform, session, city, system):
    rule = warning_rules.rules(platform, session)["repeat_reports"]
    with pytest.raises(warning_rules.SettingsInvalid) as refused:
        warning_rules.save_settings(session, system, rule, {"radius_m": 0, "days": "三十"})
    assert refused.value.errors == {"radius_m": ["距离（米）不能小于 1"], "days": ["天数应为整数"]}
    assert session.get(Setting, "warning_rule:repeat_reports") is None
    add_case(session, city, days_ago=12, status="closed", closed_days_ago=10)
    add_case(session, city, days_ago=2, north_m=20)
    assert len(warning_rules.evaluate(session, STATION, rule)) == 1
    warning_rules.save_settings(session, system, rule, {"radius_m": 10})
    assert warning_rules.settings_of(session, rule) == {"radius_m": 10, "days": 30, "limit": 50}
    assert warning_rules.evaluate(session, STATION, rule) == []            # 20 m is beyond 10 m now


def test_an_acknowledged_warning_leaves_the_list_and_stays_in_history(platform, session, city):
    add_case(session, city, days_ago=12, status="closed", closed_days_ago=10)
    near = add_case(session, city, days_ago=2, north_m=20)
    with pytest.raises(warning_rules.WarningNotFound):                      # not the other region's to handle
        warning_rules.acknowledge(platform, session, WEST, "repeat_reports", f"case:{near.id}")
    warning_rules.acknowledge(platform, session, STATION, "repeat_reports", f"case:{near.id}", comment="已核实")
    session.commit()
    assert active(platform, session, STATION, "repeat_reports") == []
    [handled] = warning_rules.history(session, STATION)
    assert (handled.action, handled.comment, handled.actor_name) == ("acknowledge", "已核实", "张掖路街道指挥所")
    assert warning_rules.history(session, WEST) == []
    audit = session.scalars(select(AuditRecord).where(AuditRecord.action == "warning.acknowledge")).all()
    assert [record.object_id for record in audit] == [str(handled.id)]
    with pytest.raises(warning_rules.WarningNotFound):                      # only once
        warning_rules.acknowledge(platform, session, STATION, "repeat_reports", f"case:{near.id}")


def test_a_warning_turned_into_a_case_is_reported_and_linked(platform, session, city):
    add_case(session, city, days_ago=12, status="closed", closed_days_ago=10)
    near = add_case(session, city, days_ago=2, north_m=20)
    case = warning_cases.turn_into_case(platform, session, STATION, "repeat_reports", f"case:{near.id}")
    session.commit()
    assert (case.source, case.theme_key, case.subcategory, case.grid_id) == (
        "warning", THEME, "0301", city.grids[SMALL])
    assert "由预警「办结后同一地点再次上报」转为事件" in case.description
    assert session.scalar(select(WarningAction.case_id).where(WarningAction.warning_key == f"case:{near.id}")) \
        == case.id
    assert active(platform, session, STATION, "repeat_reports") == []


def test_a_warning_without_a_theme_needs_one_chosen(platform, session, city):
    session.add(Household(number="NG2", grid_id=city.grids[SMALL], region_code=city.regions["南关社区"]))
    session.flush()
    [warning] = active(platform, session, STATION, "unvisited_households")
    with pytest.raises(workflows.FormInvalid) as refused:
        warning_cases.turn_into_case(platform, session, STATION, "unvisited_households", warning.key)
    assert refused.value.errors == {"theme_key": ["请选择事件所属的业务主题"]}
    case = warning_cases.turn_into_case(platform, session, STATION, "unvisited_households", warning.key,
                                        theme_key=THEME)
    assert case.region_code == city.regions["南关社区"] and case.source == "warning"


def test_another_region_sees_none_of_the_warnings(platform, session, city, add_key_place):
    add_key_place("东岗加油站", "加油加气站", "emergency", warnings.city_today() - dt.timedelta(days=3))
    for _ in range(5):      # a surge, and each of the five a repeat of the closed case at the same spot
        add_case(session, city, days_ago=1)
    add_case(session, city, days_ago=12, status="closed", closed_days_ago=10)
    session.add(Household(number="NG2", grid_id=city.grids[SMALL], region_code=city.regions["南关社区"]))
    session.flush()
    mine = {rule["key"]: len(found) for rule, found in warning_rules.active(platform, session, STATION)}
    theirs = {rule["key"]: len(found) for rule, found in warning_rules.active(platform, session, WEST)}
    # 重复地点 fires here only when 12 days ago fell in another calendar month (tests/plugins/test_repeat_places.py)
    assert mine.pop("repeat_places") in (0, 1) and theirs.pop("repeat_places") == 0
    assert mine == {"surges": 1, "repeat_reports": 5, "overdue_visits": 1, "unvisited_households": 1,
                    "overdue_patrols": 0}
    assert theirs == dict.fromkeys(mine, 0)
    layers = {item["key"]: item for _, item in platform.plugins.collect("map_layers", viewer=WEST, session=session)}
    assert layers["warnings.surges"]["features"](None, session) == []


def test_a_disabled_rule_plugin_takes_its_rule_away(platform, session, system):
    platform.plugins.set_enabled("warning_repeat_reports", False, session=session, actor=system)
    session.commit()
    assert "repeat_reports" not in warning_rules.rules(platform, session)
    layers = {item["key"] for _, item in platform.plugins.collect("map_layers", viewer=system, session=session)}
    assert "warnings.repeat_reports" not in layers and "warnings.surges" in layers
    platform.plugins.set_enabled("warning_repeat_reports", True, session=session, actor=system)
    session.commit()
    assert "repeat_reports" in warning_rules.rules(platform, session)
