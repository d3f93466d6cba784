"""Suggestions only towards departments that can act (issue #22): a department with an active staff account, or
the fallback (兜底) of the case's region; otherwise the nearest parent that can act, or no suggestion at all. The
reasons are Chinese without internal keys, and the department picker groups sub-departments under their parent."""
from __future__ import annotations

import re

import pytest

from minqing.core.actors import system_actor
from minqing.core.departments import by_key, sync_departments
from minqing.core.models import Account, Case, Department
from minqing.workflows import FormInvalid, dispatch, fallback
from minqing.workflows.dispatch import catalogue, reach

from tests.fixtures.workflow import add_actor, report, step

VENDING = "urban_management.street_vending"
TEAM = "urban_management_chengguan"     # 城关区's street-vending team, declared by the urban management plugin
INTERNAL_KEY = re.compile(r"[a-z]+_[a-z_]+|（[a-z_]+）")


@pytest.fixture(autouse=True)
def folders(tmp_path, monkeypatch):
    monkeypatch.setenv("MINQING_MODEL_DIR", str(tmp_path / "models"))


@pytest.fixture
def departments(platform, city):
    with platform.db.session() as session:
        sync_departments(session, platform.plugins, system_actor("test"))
        return {department.key: department.id for department in session.query(Department)}


def _suggest(platform, case_id, k=3):
    with platform.db.session() as session:
        return dispatch.suggest(platform, session, session.get(Case, case_id), k=k, viewer=system_actor("test"))


def _vending(platform, city):
    return report(platform, city.worker, theme_key=VENDING, title="占道经营", subcategory="1001",
                  description="有人在人行道上摆摊卖水果，占道经营")


def test_only_departments_with_an_active_staff_account_or_the_regions_fallback_can_act(platform, city, departments):
    case_id = _vending(platform, city)
    with platform.db.session() as session:
        case = session.get(Case, case_id)
        assert reach.staffed(session) == {departments["water_affairs"], departments["urban_management"]}
        session.query(Account).filter_by(username="water").one().is_active = False
        assert reach.able(session, case) == {departments["urban_management"]}
        fallback.set_fallback(session, system_actor("test"), "620102000000", "justice")   # 城关区's 兜底
        assert reach.able(session, case) == {departments["urban_management"], departments["justice"]}
        elsewhere = Case(region_code="620103000000")                                     # 七里河区: not its 兜底
        assert departments["justice"] not in reach.able(session, elsewhere)


def test_a_suggestion_towards_a_department_without_staff_goes_to_its_parent_with_the_reason(platform, city,
                                                                                            departments):
    with platform.db.session() as session:
        session.get(Department, departments[TEAM]).parent_id = departments["urban_management"]
    case_id = _vending(platform, city)
    top = _suggest(platform, case_id)[0]
    assert top.code == "1001" and top.department_key == "urban_management"
    assert "城关区城市管理综合执法局" in top.responsibility
    assert top.responsibility.endswith("该部门暂无处置人员，由上级部门兰州市城市管理局办理")
    assert not INTERNAL_KEY.search(top.reason)
    step(platform, case_id, "accept", city.station)
    with platform.db.session() as session:                  # adopting it sends the case where 城管 can act
        dispatch.confirm(platform, session, session.get(Case, case_id), city.station, "1001")
    with platform.db.session() as session:
        assert session.get(Case, case_id).department_id == departments["urban_management"]


def test_a_suggestion_nobody_up_the_chain_can_act_on_is_dropped_and_the_next_one_shown(platform, city,
                                                                                        departments):
    with platform.db.session() as session:                  # the plugin declares 城管 its parent: cut the chain
        session.get(Department, departments[TEAM]).parent_id = None
    case_id = _vending(platform, city)
    suggestions = _suggest(platform, case_id, k=3)
    assert suggestions and [s.rank for s in suggestions] == list(range(1, len(suggestions) + 1))
    assert {s.department_key for s in suggestions} <= {"urban_management", "water_affairs"}
    assert "1001" not in {s.code for s in suggestions}     # its team has no account and no parent
    step(platform, case_id, "accept", city.station)
    with platform.db.session() as session, pytest.raises(FormInvalid) as refused:
        dispatch.confirm(platform, session, session.get(Case, case_id), city.station, "1001")
    assert "暂无处置人员" in str(refused.value) and not INTERNAL_KEY.search(str(refused.value))
    with platform.db.session() as session:                  # once someone there can act, it comes back
        add_actor(session, "team", "department_staff", department_id=departments[TEAM])
    top = _suggest(platform, case_id)[0]
    assert (top.code, top.department_key) == ("1001", TEAM)


def test_the_regions_fallback_counts_as_able_to_act(platform, city, departments):
    case_id = _vending(platform, city)
    with platform.db.session() as session:
        fallback.set_fallback(session, system_actor("test"), "620102000000", TEAM)
    top = _suggest(platform, case_id)[0]
    assert (top.code, top.department_key) == ("1001", TEAM)


def test_the_reason_never_names_an_internal_key(platform, city, departments):
    case_id = _vending(platform, city)
    with platform.db.session() as session:
        case = session.get(Case, case_id)
        category = catalogue.categories(platform, session)["1001"]
        session.delete(by_key(session, TEAM))             # a department the routing names but nobody registered
        session.flush()
        duty = catalogue.responsible(platform, session, category, case)
    assert duty.department_key == TEAM and "未登记的部门" in duty.reason and TEAM not in duty.reason


def test_the_picker_groups_sub_departments_under_their_parent(platform, city, departments):
    with platform.db.session() as session:
        session.get(Department, departments[TEAM]).parent_id = departments["urban_management"]
        session.get(Department, departments["gas"]).active = False
        session.flush()
        groups = reach.picker(session, exclude={departments["water_affairs"]})
    assert groups[0].label == reach.CITY_LEVEL
    city_level = {choice.key: choice for choice in groups[0].choices}
    assert "justice" in city_level and "urban_management" not in city_level
    assert "gas" not in city_level and "water_affairs" not in city_level          # inactive, excluded
    [urban] = [group for group in groups if group.label == "城管"]
    assert [choice.key for choice in urban.choices] == ["urban_management", TEAM]
    assert urban.choices[0].can_act and not urban.choices[1].can_act
    assert urban.choices[1].label == "兰州市城关区城市管理综合执法局（城关城管） · 暂无处置人员"
    assert "城关城管" in urban.choices[1].search and "城关区城市管理综合执法局" in urban.choices[1].search
    keys = [choice.key for group in groups for choice in group.choices]
    assert len(keys) == len(set(keys))
