"""The standard template drives a case through every path of the loop."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from minqing.core.models import AuditRecord, Case, CaseEvent, CaseMilestone, Department, Notification
from minqing.workflows import (CaseRejected, FormInvalid, InvalidTransition, NotRoutable, PermissionDenied,
                               report_case, transition)

from tests.fixtures.workflow import CST, MONDAY_10AM, report, step

FEEDBACK = {"result": "已补装井盖", "photos": ["att-1"]}


def timeline(platform, case_id):
    with platform.db.session() as session:
        return [(event.action, event.from_status, event.to_status) for event in session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))]


def load(platform, case_id, model=Case):
    with platform.db.session() as session:
        return session.get(model, case_id)


def to_handling(platform, city, case_id):
    step(platform, case_id, "accept", city.station)
    step(platform, case_id, "dispatch", city.station, {"department": "water_affairs"})
    return step(platform, case_id, "take", city.water)


def test_report_locates_the_grid_and_starts_the_clock(platform, city):
    case_id = report(platform, city.worker)
    case = load(platform, case_id)
    assert (case.grid_id, case.region_code, case.status) == (city.grid_id, city.village, "reported")
    # 4 working hours from Monday 10:00 (office hours 08:30–12:00, 13:30–18:00) → 15:30 the same day
    assert case.state_deadline_at == dt.datetime(2026, 3, 2, 15, 30, tzinfo=CST)
    assert case.due_at == dt.datetime(2026, 3, 13, 10, 0, tzinfo=CST)  # 72 working hours = 9 workdays
    assert timeline(platform, case_id) == [("report", None, "reported")]
    assert load(platform, case_id, CaseMilestone).accept_deadline_at == case.state_deadline_at


def test_the_closed_loop_from_report_to_close(platform, city):
    case_id = report(platform, city.citizen, source="citizen")
    to_handling(platform, city, case_id)
    step(platform, case_id, "feedback", city.water, FEEDBACK)
    closed = step(platform, case_id, "confirm", city.station, {"rating": "满意"}, now=MONDAY_10AM + dt.timedelta(hours=5))
    assert closed.status == "closed" and closed.closed_at == MONDAY_10AM + dt.timedelta(hours=5)
    assert closed.state_deadline_at is None
    assert [action for action, *_ in timeline(platform, case_id)] == [
        "report", "accept", "dispatch", "take", "feedback", "confirm"]
    milestone = load(platform, case_id, CaseMilestone)
    assert (milestone.rating, milestone.satisfied) == (5, True)
    assert milestone.accepted_at is not None and milestone.dispatched_at is not None
    with platform.db.session() as session:
        notes = session.scalars(select(Notification).order_by(Notification.id)).all()
        audit = session.scalar(select(AuditRecord).where(AuditRecord.action == "case.confirm"))
    assert [(n.kind, n.recipient) for n in notes] == [
        ("report", "region:620102001001"), ("dispatch", "department:water_affairs"),
        ("confirm", f"account:{city.citizen.account_id}")]
    assert all(n.status == "delivered" and n.delivered_by == "workflows" for n in notes)  # the in-app inbox
    assert audit.summary == "awaiting_follow_up → closed" and audit.at == MONDAY_10AM + dt.timedelta(hours=5)


def test_return_to_the_dispatcher_clears_the_department(platform, city):
    case_id = report(platform, city.worker)
    step(platform, case_id, "accept", city.station)
    step(platform, case_id, "dispatch", city.station, {"department": "urban_management"})
    with pytest.raises(FormInvalid) as refused:
        step(platform, case_id, "return", city.urban, {})
    assert list(refused.value.errors) == ["reason"] and "退回理由" in refused.value.errors["reason"][0]
    returned = step(platform, case_id, "return", city.urban, {"reason": "属供排水管网，非城管职责"})
    assert (returned.status, returned.department_id) == ("registered", None)
    step(platform, case_id, "dispatch", city.station, {"department": "water_affairs"})
    assert load(platform, case_id).status == "dispatched"
    with platform.db.session() as session:
        event = session.scalar(select(CaseEvent).where(CaseEvent.action == "return"))
    assert event.comment == "属供排水管网，非城管职责" and event.actor_name == "urban"


def test_rework_sends_it_back_and_counts(platform, city):
    case_id = report(platform, city.worker)
    to_handling(platform, city, case_id)
    step(platform, case_id, "feedback", city.water, FEEDBACK)
    reworked = step(platform, case_id, "rework", city.worker, {"reason": "井盖仍松动", "rating": 1})
    assert (reworked.status, reworked.rework_count) == ("handling", 1)
    assert load(platform, case_id, CaseMilestone).satisfied is False
    step(platform, case_id, "feedback", city.water, FEEDBACK)
    closed = step(platform, case_id, "confirm", city.worker, {"rating": 4})
    assert (closed.status, closed.rework_count) == ("closed", 1)
    assert load(platform, case_id, CaseMilestone).satisfied is True


def test_extension_request_approved_by_the_dispatcher(platform, city):
    case_id = report(platform, city.worker)
    handling = to_handling(platform, city, case_id)
    deadline, due = handling.state_deadline_at, handling.due_at
    requested = step(platform, case_id, "request_extension", city.water, {"days": 3, "reason": "需采购配件"})
    assert requested.status == "extension_requested"
    with pytest.raises(PermissionDenied):
        step(platform, case_id, "approve_extension", city.water, {})
    approved = step(platform, case_id, "approve_extension", city.station, {})
    assert approved.status == "handling"
    # the clock stood still while waiting; three working days (24 working hours) were added
    assert approved.state_deadline_at == deadline + dt.timedelta(days=3)
    assert approved.due_at == dt.datetime(2026, 3, 18, 10, 0, tzinfo=CST)  # Fri 13th + 3 workdays, over a weekend
    assert due == dt.datetime(2026, 3, 13, 10, 0, tzinfo=CST)


def test_rejected_extension_keeps_the_deadline(platform, city):
    case_id = report(platform, city.worker)
    deadline = to_handling(platform, city, case_id).state_deadline_at
    step(platform, case_id, "request_extension", city.water, {"days": 2, "reason": "需采购配件"})
    rejected = step(platform, case_id, "reject_extension", city.station, {"reason": "小事项，应按期办结"})
    assert (rejected.status, rejected.state_deadline_at) == ("handling", deadline)


def test_suspend_and_resume_keep_the_time_left(platform, city):
    case_id = report(platform, city.worker)
    handling = to_handling(platform, city, case_id)
    suspended = step(platform, case_id, "suspend", city.station, {"reason": "等待法院裁定"})
    assert (suspended.status, suspended.state_deadline_at) == ("suspended", None)
    next_monday = MONDAY_10AM + dt.timedelta(days=7)
    resumed = step(platform, case_id, "resume", city.station, now=next_monday)
    assert resumed.status == "handling"
    assert resumed.state_deadline_at == handling.state_deadline_at + dt.timedelta(days=7)
    with pytest.raises(InvalidTransition):
        step(platform, case_id, "resume", city.station)


def test_void_a_duplicate(platform, city):
    first = report(platform, city.worker)
    case_id = report(platform, city.citizen, source="citizen")
    with pytest.raises(FormInvalid) as refused:
        step(platform, case_id, "void", city.station, {"kind": "spam", "reason": "重复"})
    assert list(refused.value.errors) == ["kind"] and "作废类型" in refused.value.errors["kind"][0]
    voided = step(platform, case_id, "void", city.station, {"kind": "duplicate", "duplicate_of": first,
                                                            "reason": "与前一件重复"})
    assert (voided.status, voided.state_deadline_at, voided.closed_at) == ("voided", None, None)
    assert load(platform, case_id, CaseMilestone).voided is True
    with pytest.raises(InvalidTransition) as refused:
        step(platform, case_id, "accept", city.station)
    assert "已作废" in refused.value.message


def test_on_the_spot_closure_needs_evidence(platform, city):
    case_id = report(platform, city.worker)
    with pytest.raises(FormInvalid) as refused:
        step(platform, case_id, "close_on_the_spot", city.worker, {"result": "已清理"})
    assert list(refused.value.errors) == ["photos"] and "现场照片" in refused.value.errors["photos"][0]
    with pytest.raises(PermissionDenied):
        step(platform, case_id, "close_on_the_spot", city.station, {"result": "已清理", "photos": ["a"]})
    closed = step(platform, case_id, "close_on_the_spot", city.worker, {"result": "已清理", "photos": ["a"]})
    assert closed.status == "closed" and closed.closed_at is not None
    assert timeline(platform, case_id)[-1] == ("close_on_the_spot", "reported", "closed")


def test_refusals_change_nothing(platform, city):
    case_id = report(platform, city.worker)
    before = load(platform, case_id)
    with pytest.raises(PermissionDenied) as wrong_role:
        step(platform, case_id, "accept", city.water)
    assert wrong_role.value.code == "permission_denied" and "角色" in wrong_role.value.message
    with pytest.raises(PermissionDenied) as out_of_scope:
        step(platform, case_id, "accept", city.elsewhere)
    assert "管辖范围" in out_of_scope.value.message
    with pytest.raises(InvalidTransition):
        step(platform, case_id, "feedback", city.water, FEEDBACK)
    with pytest.raises(InvalidTransition):
        step(platform, case_id, "fly_to_the_moon", city.station)
    step(platform, case_id, "accept", city.station)
    with pytest.raises(FormInvalid) as unknown:
        step(platform, case_id, "dispatch", city.station, {"department": "no_such"})
    assert unknown.value.errors == {"department": ["处置部门：没有名为“no_such”的在用部门（可填部门简称、全称或标识）"]}
    with pytest.raises(NotRoutable):
        step(platform, case_id, "dispatch", city.station, {})
    after = load(platform, case_id)
    assert (after.status, after.version) == ("registered", before.version + 1)
    assert len(timeline(platform, case_id)) == 2


def test_department_staff_only_handle_their_own_cases(platform, city):
    case_id = report(platform, city.worker)
    step(platform, case_id, "accept", city.station)
    step(platform, case_id, "dispatch", city.station, {"department": "water_affairs"})
    with pytest.raises(PermissionDenied):
        step(platform, case_id, "take", city.urban)


class RouteAndValidate:
    """A test plugin: routes by category and refuses reports without a description."""

    @staticmethod
    def route_case(case, session):
        return "urban_management" if case.category == "市容环境" else None

    @staticmethod
    def validate_case(case, session):
        return [("description", "请描述事件经过")] if not case.description else []


def test_plugins_route_and_validate(platform, city):
    from minqing.core.hooks import hookimpl

    plugin = RouteAndValidate()
    for name in ("route_case", "validate_case"):
        hookimpl(getattr(RouteAndValidate, name))
    platform.plugins.register(plugin, "test_routing")
    try:
        with pytest.raises(CaseRejected) as refused:
            report(platform, city.worker, description="")
        assert refused.value.errors == {"description": ["请描述事件经过"]}
        with platform.db.session() as session:
            assert session.scalar(select(Case.id)) is None  # nothing stored
        case_id = report(platform, city.worker, category="市容环境")
        step(platform, case_id, "accept", city.station)
        dispatched = step(platform, case_id, "dispatch", city.station)
        with platform.db.session() as session:
            assert session.get(Department, dispatched.department_id).key == "urban_management"
    finally:
        platform.plugins.unregister("test_routing")


def test_a_retried_report_returns_the_first_case(platform, city):
    first = report(platform, city.citizen, source="citizen", client_id="phone-42-0001")
    again = report(platform, city.citizen, source="citizen", client_id="phone-42-0001")
    assert first == again
    with platform.db.session() as session:
        assert len(session.scalars(select(Case)).all()) == 1
        assert len(session.scalars(select(CaseEvent)).all()) == 1


def test_a_case_outside_every_grid_has_no_grid(platform, city):
    case_id = report(platform, city.citizen, source="citizen", lon=90.0, lat=30.0)
    assert (load(platform, case_id).grid_id, load(platform, case_id).region_code) == (None, "")
    with pytest.raises(FormInvalid):
        report(platform, city.citizen, source="citizen", urgency="whenever")


def test_transition_in_the_callers_session(platform, city, session):
    case_id = report(platform, city.worker)
    case = session.get(Case, case_id)
    transition(platform, session, case, "accept", city.station, {"comment": "受理"})
    assert case.status == "registered"
    assert report_case  # the public API is importable from the package


@pytest.mark.parametrize("data, field, says", [
    ({"comment": "受理", "junk": "x"}, "junk", "表单未定义"),                       # a field the form does not declare
    ({"comment": "受理", "note": {"deep": 1}}, "note", "表单未定义"),
    ({"comment": json.loads("[" * 12 + "]" * 12)}, "comment", "嵌套层数过多"),   # nested past the bound
    ({"comment": "长" * 30_000}, "comment", "过大"),                              # 90 KB, past 64 KB
])
def test_a_step_refuses_undeclared_deep_or_huge_form_data_and_stores_nothing(platform, city, data, field, says):
    """Issue 21, finding 9, for the steps: what a step is given is kept on the timeline that every viewer of the
    case reads; an undeclared field of any size or depth was stored as it came."""
    case_id = report(platform, city.worker)
    with pytest.raises(FormInvalid) as refused:
        step(platform, case_id, "accept", city.station, data)
    assert list(refused.value.errors) == [field] and says in refused.value.errors[field][0]
    assert load(platform, case_id).status == "reported" and [e[0] for e in timeline(platform, case_id)] == ["report"]
    step(platform, case_id, "accept", city.station)
    step(platform, case_id, "dispatch", city.station, {"department": "water_affairs"})
    with pytest.raises(FormInvalid) as refused:   # a step without a form (签收) takes no field at all
        step(platform, case_id, "take", city.water, {"comment": "已签收"})
    assert list(refused.value.errors) == ["comment"]
    assert step(platform, case_id, "take", city.water, {}).status == "handling"
