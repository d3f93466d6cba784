"""重复地点 (the `warning_repeat_places` rule plugin): cases at the same address, or within metres of each other,
over months make a warning; one month's cases, old places and other counties' places do not; settings apply; the
plugin switched off takes the rule away."""
from __future__ import annotations

import datetime as dt

import pytest

from minqing.core import warning_rules
from minqing.core.models import utcnow

from tests.fixtures.briefs import (CHENGGUAN_CENTRE, QILIHE_CENTRE, add_case, build_city, offset)

GATE = (103.83, 36.03)          # the market's gate: cases within metres of it
STREET = "张掖路街道南关什字18号"


def days_ago(days: int) -> dt.datetime:
    return utcnow() - dt.timedelta(days=days)


@pytest.fixture
def town(platform):
    with platform.db.session() as session:
        town = build_city(session)
        session.commit()
    return town


def _warnings(platform, session, viewer=CHENGGUAN_CENTRE):
    rule = warning_rules.rules(platform, session)["repeat_places"]
    return warning_rules.evaluate(session, viewer, rule)


def test_the_same_address_over_months_is_a_repeat_place(platform, session, town):
    first = add_case(session, town, reported=days_ago(100), address=STREET)           # points far apart:
    add_case(session, town, reported=days_ago(60), address="张掖路街道 南关什字18号", category="供水排水")  # linked
    latest = add_case(session, town, reported=days_ago(5), address=STREET)             # by the address
    [warning] = _warnings(platform, session)
    assert warning.key == f"place:{first.id}" and ("case", latest.id) in warning.objects
    assert warning.title == "重复地点：张掖路街道南关什字*号"            # the address masked
    assert "同一地点发生 3 件事件" in warning.reason and "市容环境、供水排水" in warning.reason
    assert warning.severity == "yellow" and warning.region_code.startswith("620102")
    assert _warnings(platform, session, QILIHE_CENTRE) == []                            # not 七里河's


def test_points_within_metres_over_months_link_and_farther_ones_do_not(platform, session, town):
    for days, east_m in ((80, 0), (45, 12), (3, 24)):      # a chain: each within 30 m of the one before
        add_case(session, town, reported=days_ago(days), lon=offset(*GATE, east_m, 0)[0], lat=GATE[1])
    far = offset(*GATE, 500, 0)
    for days in (70, 40):
        add_case(session, town, reported=days_ago(days), lon=far[0], lat=far[1])
    add_case(session, town, reported=days_ago(2), lon=offset(*far, 45, 0)[0], lat=far[1])   # 45 m: not linked
    [warning] = _warnings(platform, session)
    assert len(warning.objects) == 3 and abs(warning.lon - offset(*GATE, 12, 0)[0]) < 0.0001


def test_one_months_cases_and_old_places_make_no_warning(platform, session, town):
    for minutes in (1, 2, 3, 4):                        # four cases within minutes: not over months
        add_case(session, town, reported=days_ago(2) + dt.timedelta(minutes=minutes), lon=GATE[0], lat=GATE[1])
    for days in (150, 120, 90):                          # over months, but nothing in the last 30 days
        add_case(session, town, reported=days_ago(days), address=STREET)
    assert _warnings(platform, session) == []


def test_settings_apply_and_bad_ones_are_refused(platform, session, town, system):
    for days in (100, 60, 5):
        add_case(session, town, reported=days_ago(days), address=STREET)
    rule = warning_rules.rules(platform, session)["repeat_places"]
    with pytest.raises(warning_rules.SettingsInvalid) as refused:
        warning_rules.save_settings(session, system, rule, {"min_cases": 1})
    assert refused.value.errors == {"min_cases": ["最少事件数不能小于 2"]}
    warning_rules.save_settings(session, system, rule, {"min_cases": 4})
    assert _warnings(platform, session) == []
    warning_rules.save_settings(session, system, rule, {"min_cases": 3, "days": 70})   # the first case falls out
    assert _warnings(platform, session) == []


def test_switching_the_plugin_off_takes_the_rule_away(platform, session, town, system):
    assert warning_rules.rules(platform, session)["repeat_places"]["plugin"] == "warning_repeat_places"
    platform.plugins.set_enabled("warning_repeat_places", False, session=session, actor=system)
    session.commit()
    assert "repeat_places" not in warning_rules.rules(platform, session)
    layers = {item["key"] for _, item in platform.plugins.collect("map_layers", viewer=system, session=session)}
    assert "warnings.repeat_places" not in layers


def test_past_the_case_limit_the_newest_cases_are_read(monkeypatch, platform, session, town):
    """A busy city has more cases in half a year than the rule reads: it reads the newest, where a warning about
    the recent month must be found (it read the oldest)."""
    from minqing.workflows.briefs import places

    add_case(session, town, reported=days_ago(170), address="七里河区建兰路街道某小区")   # old, elsewhere
    add_case(session, town, reported=days_ago(150), address="七里河区建兰路街道某小区")
    first = add_case(session, town, reported=days_ago(90), address=STREET)
    add_case(session, town, reported=days_ago(50), address=STREET)
    add_case(session, town, reported=days_ago(5), address=STREET)
    monkeypatch.setattr(places, "MAX_CASES", 3)
    [warning] = _warnings(platform, session)
    assert warning.key == f"place:{first.id}"
