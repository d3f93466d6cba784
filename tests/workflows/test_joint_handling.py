"""主办/协办, 转办 and 兜底 through the real engine: the lead waits for every co-handler (or the dispatcher's
overruling with a reason), co-handlers answer only their own task, transfers keep their history and move who
sees the case, a region's fallback department takes what no rule routes, and overdue co-handlers are urged once."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from minqing.core import scope
from minqing.core.actors import system_actor
from minqing.core.models import Attachment, AuditRecord, Case, CaseEvent, Department, Notification, SweepMark
from minqing.core.models.cohandling import CoHandlingTask
from minqing.workflows import FormInvalid, InvalidTransition, NotRoutable, PermissionDenied, joint
from minqing.workflows import fallback as fallbacks
from minqing.workflows.sla import sweep

from tests.fixtures.workflow import MONDAY_10AM, add_actor, report, step

HOUR = dt.timedelta(hours=1)
FEEDBACK = {"result": "已补装井盖", "photos": ["att-1"]}


@pytest.fixture
def housing(platform, city):
    """A third department with its own staff, to co-handle beside 城管."""
    with platform.db.session() as session:
        department = Department(key="housing_construction", name="兰州市住房和城乡建设局", short_name="住建")
        session.add(department)
        session.flush()
        return add_actor(session, "housing", "department_staff", department_id=department.id)


def handling(platform, city, **overrides) -> int:
    case_id = report(platform, city.worker, **overrides)
    step(platform, case_id, "accept", city.station)
    step(platform, case_id, "dispatch", city.station, {"department": "water_affairs"})
    step(platform, case_id, "take", city.water)
    return case_id


def act(platform, case_id, function, *args, **kwargs):
    with platform.db.session() as session:
        case = session.get(Case, case_id)
        return function(platform, session, case, *args, **kwargs)


def tasks(platform, case_id):
    with platform.db.session() as session:
        return {session.get(Department, task.department_id).key: task for task in session.scalars(
            select(CoHandlingTask).where(CoHandlingTask.case_id == case_id))}


def sees(platform, actor, case_id) -> bool:
    with platform.db.session() as session:
        return scope.can_see(session, Case, case_id, actor)


def uploaded(platform, actor, attachment_id: str) -> None:
    """A photo the actor uploaded (not yet part of a case), as the pages and the API store one."""
    with platform.db.session() as session:
        session.add(Attachment(id=attachment_id, owner_account_id=actor.account_id, filename="现场.jpg",
                               content_type="image/jpeg", size=1, sha256="0" * 64, storage_key=attachment_id))


def test_the_lead_closes_only_after_every_co_handler_answered(platform, city, housing):
    case_id = handling(platform, city)
    assert not sees(platform, city.urban, case_id)
    act(platform, case_id, joint.assign, city.station, ["urban_management", "housing_construction"],
        instructions="请配合清理占道物品", now=MONDAY_10AM + HOUR)
    assert sees(platform, city.urban, case_id) and sees(platform, housing, case_id)
    with pytest.raises(InvalidTransition, match="协办部门“城管、住建”尚未反馈"):
        step(platform, case_id, "feedback", city.water, FEEDBACK)
    uploaded(platform, city.urban, "att-2")
    act(platform, case_id, joint.answer, city.urban, result="已清理占道物品", photos=["att-2"])
    with pytest.raises(InvalidTransition, match="协办部门“住建”尚未反馈，须全部反馈或由指挥中心说明理由后撤销，方可办结"):
        step(platform, case_id, "feedback", city.water, FEEDBACK)
    act(platform, case_id, joint.answer, housing, result="已核查井盖权属")
    assert step(platform, case_id, "feedback", city.water, FEEDBACK).status == "awaiting_follow_up"
    found = tasks(platform, case_id)
    assert found["urban_management"].status == "answered" and found["urban_management"].photos == ["att-2"]
    with platform.db.session() as session:
        assert session.get(Attachment, "att-2").case_id == case_id       # the answer links its photo to the case
    assert found["urban_management"].answered_by_name == "urban"
    # working hours: the lead's handling limit (40 h) from Monday 11:00 → the next Monday 11:00
    assert found["housing_construction"].deadline_at == dt.datetime(2026, 3, 9, 3, 0, tzinfo=dt.UTC)
    with platform.db.session() as session:
        actions = session.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case_id)).all()
        recipients = set(session.scalars(select(Notification.recipient).where(Notification.kind == "co_handle")))
    assert actions.count("co_handler_feedback") == 2 and "assign_co_handlers" in actions
    assert {"department:urban_management", "department:housing_construction",
            "department:water_affairs"} <= recipients


def test_an_overruled_co_handler_with_a_reason_lets_the_lead_close(platform, city, housing):
    case_id = handling(platform, city)
    act(platform, case_id, joint.assign, city.station, ["urban_management", "housing_construction"], hours=8)
    act(platform, case_id, joint.answer, city.urban, result="已清理")
    with pytest.raises(FormInvalid) as refused:
        act(platform, case_id, joint.overrule, city.station, "housing_construction", " ")
    assert "reason" in refused.value.errors
    assert tasks(platform, case_id)["housing_construction"].status == "open"
    with pytest.raises(PermissionDenied):  # the lead cannot overrule its co-handlers
        act(platform, case_id, joint.overrule, city.water, "housing_construction", "不需要住建")
    act(platform, case_id, joint.overrule, city.station, "housing_construction", "经核实不涉及住建职责")
    task = tasks(platform, case_id)["housing_construction"]
    assert (task.status, task.decision_reason, task.decided_by_name) == ("overruled", "经核实不涉及住建职责",
                                                                          "station")
    assert not sees(platform, housing, case_id)   # overruled: no longer part of the case
    step(platform, case_id, "feedback", city.water, FEEDBACK)
    step(platform, case_id, "confirm", city.station, {"rating": 5})
    with platform.db.session() as session:
        [event] = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                          CaseEvent.action == "overrule_co_handler")).all()
    assert (event.actor_name, event.comment, event.data["department"]) == ("station", "经核实不涉及住建职责",
                                                                           "housing_construction")


def test_only_the_co_handler_answers_its_task_and_only_the_lead_takes_the_lead_steps(platform, city, housing):
    case_id = handling(platform, city)
    act(platform, case_id, joint.assign, city.station, ["urban_management"])
    with pytest.raises(PermissionDenied, match="管辖范围"):
        act(platform, case_id, joint.answer, housing, result="我们也来反馈")     # sees nothing: out of scope
    with pytest.raises(PermissionDenied, match="不是本事件的协办部门"):
        act(platform, case_id, joint.answer, city.water, result="主办代为反馈")   # the lead is not the co-handler
    with pytest.raises(PermissionDenied, match="只有主办部门"):
        step(platform, case_id, "feedback", city.urban, FEEDBACK)                 # co-handler sees, cannot close
    with pytest.raises(PermissionDenied, match="只有主办部门"):
        step(platform, case_id, "return", city.urban, {"reason": "不归我们"})
    with pytest.raises(FormInvalid) as short:
        act(platform, case_id, joint.answer, city.urban, result="好")
    assert "result" in short.value.errors
    act(platform, case_id, joint.answer, city.urban, result="已配合处置")
    with pytest.raises(InvalidTransition, match="已反馈"):
        act(platform, case_id, joint.answer, city.urban, result="再反馈一次")


def test_naming_co_handlers_is_checked(platform, city, housing):
    case_id = report(platform, city.worker)
    step(platform, case_id, "accept", city.station)
    with pytest.raises(InvalidTransition, match="尚未交办主办部门"):
        act(platform, case_id, joint.assign, city.station, ["urban_management"])
    step(platform, case_id, "dispatch", city.station, {"department": "water_affairs"})
    for departments, problem in ((["water_affairs"], "主办部门"), (["no_such"], "没有标识"), ([], "至少")):
        with pytest.raises(FormInvalid) as refused:
            act(platform, case_id, joint.assign, city.station, departments)
        assert problem in refused.value.errors["departments"][0]
    with pytest.raises(FormInvalid) as hours:
        act(platform, case_id, joint.assign, city.station, ["urban_management"], hours=0)
    assert "hours" in hours.value.errors
    with pytest.raises(PermissionDenied):
        act(platform, case_id, joint.assign, city.elsewhere, ["urban_management"])  # another county's operator
    with pytest.raises(PermissionDenied):
        act(platform, case_id, joint.assign, city.water, ["urban_management"])      # departments do not name them
    act(platform, case_id, joint.assign, city.station, ["urban_management"])
    with pytest.raises(FormInvalid, match="已是本事件的协办部门"):
        act(platform, case_id, joint.assign, city.station, ["urban_management"])
    assert list(tasks(platform, case_id)) == ["urban_management"]


def test_withdrawing_a_co_handler_needs_a_reason_too(platform, city, housing):
    case_id = handling(platform, city)
    act(platform, case_id, joint.assign, city.station, ["housing_construction"])
    with pytest.raises(FormInvalid):
        act(platform, case_id, joint.withdraw, city.station, "housing_construction", "")
    act(platform, case_id, joint.withdraw, city.station, "housing_construction", "误选部门")
    assert tasks(platform, case_id)["housing_construction"].status == "withdrawn"
    with pytest.raises(InvalidTransition):
        act(platform, case_id, joint.overrule, city.station, "housing_construction", "再撤销一次")
    assert step(platform, case_id, "feedback", city.water, FEEDBACK).status == "awaiting_follow_up"
    with pytest.raises(InvalidTransition, match="处置反馈前"):   # the lead has fed back: too late to add one
        act(platform, case_id, joint.assign, city.station, ["urban_management"])


def test_a_transfer_keeps_the_history_and_the_reason_and_moves_who_sees_it(platform, city):
    case_id = handling(platform, city)
    with pytest.raises(FormInvalid) as no_reason:
        step(platform, case_id, "transfer", city.station, {"department": "urban_management"})
    assert "reason" in no_reason.value.errors
    with pytest.raises(FormInvalid, match="另一个部门"):
        step(platform, case_id, "transfer", city.station, {"department": "water_affairs", "reason": "重新交办"})
    with pytest.raises(PermissionDenied):
        step(platform, case_id, "transfer", city.water, {"department": "urban_management", "reason": "不归水务"})
    case = step(platform, case_id, "transfer", city.station,
                {"department": "urban_management", "reason": "经核实属占道问题，归城管"})
    assert case.status == "dispatched"
    assert sees(platform, city.urban, case_id) and not sees(platform, city.water, case_id)
    with platform.db.session() as session:
        [event] = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                          CaseEvent.action == "transfer")).all()
        told = set(session.scalars(select(Notification.recipient).where(Notification.kind == "transfer")))
    assert (event.data["transferred_from"], event.data["department"], event.comment, event.actor_name) == (
        "water_affairs", "urban_management", "经核实属占道问题，归城管", "station")
    assert [row["to"] for row in _transfers(platform, case_id)] == ["urban_management"]
    assert told == {"department:urban_management", "department:water_affairs"}
    step(platform, case_id, "take", city.urban)
    assert step(platform, case_id, "feedback", city.urban, FEEDBACK).status == "awaiting_follow_up"


def _transfers(platform, case_id):
    from minqing.workflows import transfer

    with platform.db.session() as session:
        return transfer.history(session, case_id)


def test_a_transfer_to_an_open_co_handler_is_refused(platform, city):
    case_id = handling(platform, city)
    act(platform, case_id, joint.assign, city.station, ["urban_management"])
    with pytest.raises(FormInvalid, match="协办部门"):
        step(platform, case_id, "transfer", city.station, {"department": "urban_management", "reason": "改由城管主办"})


def test_the_fallback_takes_an_unroutable_case(platform, city):
    case_id = report(platform, city.worker)
    step(platform, case_id, "accept", city.station)
    with pytest.raises(NotRoutable):                       # no rule and no fallback
        step(platform, case_id, "dispatch", city.station)
    with platform.db.session() as session:
        fallbacks.set_fallback(session, system_actor("test"), "620102000000", "urban_management")  # the county's
    case = step(platform, case_id, "dispatch", city.station)
    with platform.db.session() as session:
        assert session.get(Department, case.department_id).key == "urban_management"
        event = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                        CaseEvent.action == "dispatch")).one()
    assert event.data["fallback"]["region_code"] == "620102000000"
    assert "兜底部门承接" in event.data["fallback"]["reason"]
    with pytest.raises(FormInvalid):
        with platform.db.session() as session:
            fallbacks.set_fallback(session, system_actor("test"), "620102000000", "no_such")


def test_a_case_returned_twice_goes_to_the_fallback(platform, city):
    @__import__("minqing.core.hooks", fromlist=["hookimpl"]).hookimpl
    def route_case(case, session):
        return "water_affairs"

    class Router:
        pass

    Router.route_case = staticmethod(route_case)
    platform.plugins.register(Router(), "test_router")
    with platform.db.session() as session:
        fallbacks.set_fallback(session, system_actor("test"), "620100000000", "urban_management")  # the city's
    case_id = report(platform, city.worker)
    step(platform, case_id, "accept", city.station)
    for _ in range(2):
        step(platform, case_id, "dispatch", city.station)  # routed to 水务
        step(platform, case_id, "return", city.water, {"reason": "不属于水务职责"})
    case = step(platform, case_id, "dispatch", city.station)
    with platform.db.session() as session:
        assert session.get(Department, case.department_id).key == "urban_management"
        last = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.action == "dispatch")
                               .order_by(CaseEvent.id.desc())).first()
    assert last.data["fallback"]["returns"] == 2 and "退回 2 次" in last.data["fallback"]["reason"]


def test_the_nearest_fallback_up_the_tree_counts(platform, city):
    with platform.db.session() as session:
        fallbacks.set_fallback(session, system_actor("test"), "620100000000", "urban_management")
        fallbacks.set_fallback(session, system_actor("test"), "620102001000", "water_affairs")
    with platform.db.session() as session:
        assert fallbacks.fallback_for(session, "620102001001")[1].key == "water_affairs"
        assert fallbacks.fallback_for(session, "620103001001")[1].key == "urban_management"
        fallbacks.set_fallback(session, system_actor("test"), "620102001000", None)
    with platform.db.session() as session:
        assert fallbacks.fallback_for(session, "620102001001") == ("620100000000",
                                                                   session.scalar(select(Department).where(
                                                                       Department.key == "urban_management")))


def test_an_overdue_co_handler_is_urged_once(platform, city):
    case_id = handling(platform, city)
    act(platform, case_id, joint.assign, city.station, ["urban_management"], hours=4, now=MONDAY_10AM)
    assert sweep(platform, now=MONDAY_10AM + 3 * HOUR).co_handlers == 0     # 13:00: deadline 15:30
    first = sweep(platform, now=MONDAY_10AM + 6 * HOUR)
    again = sweep(platform, now=MONDAY_10AM + 7 * HOUR)
    assert (first.co_handlers, again.co_handlers) == (1, 0)
    with platform.db.session() as session:
        urged = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.action == "urge")
                                .where(CaseEvent.data["title"].as_string() == "协办超时催办")).all()
        notes = session.scalars(select(Notification.recipient).where(Notification.kind == "urge")).all()
        marks = session.scalars(select(SweepMark).where(SweepMark.kind == "co_handling")).all()
    assert len(urged) == 1 and urged[0].actor_name == "系统"
    assert "department:urban_management" in notes and len(marks) == 1
    act(platform, case_id, joint.answer, city.urban, result="已配合处置")
    assert sweep(platform, now=MONDAY_10AM + 30 * HOUR).co_handlers == 0    # answered: nothing to urge


def test_overdue_co_handlers_of_many_cases_are_urged_in_one_batch_with_one_audit_record(platform, city, housing):
    """Set-based (as the state deadlines' sweep): every overdue task gets its line on its case's timeline and its
    notice to its department, as a task urged alone would; the batch is one audit record naming the cases."""
    first, second = handling(platform, city), handling(platform, city)
    act(platform, first, joint.assign, city.station, ["urban_management", "housing_construction"], hours=4,
        now=MONDAY_10AM)
    act(platform, second, joint.assign, city.station, ["urban_management"], hours=4, now=MONDAY_10AM)
    act(platform, second, joint.answer, city.urban, result="已配合处置")   # answered: not urged
    third = handling(platform, city)
    act(platform, third, joint.assign, city.station, ["housing_construction"], hours=4, now=MONDAY_10AM)
    assert sweep(platform, now=MONDAY_10AM + 6 * HOUR).co_handlers == 3
    assert sweep(platform, now=MONDAY_10AM + 7 * HOUR).co_handlers == 0
    with platform.db.session() as session:
        lines = session.scalars(select(CaseEvent).where(CaseEvent.action == "urge").order_by(CaseEvent.id)).all()
        notes = session.scalars(select(Notification).where(Notification.kind == "urge")
                                .order_by(Notification.id)).all()
        records = session.scalars(select(AuditRecord).where(AuditRecord.action.in_(("sla.sweep", "case.urge")))).all()
        cases = {case_id: session.get(Case, case_id) for case_id in (first, third)}
        task_ids = {(task.case_id, session.get(Department, task.department_id).key): task.id
                    for task in session.scalars(select(CoHandlingTask))}
    expected = [(first, "urban_management", "城管"), (first, "housing_construction", "住建"),
                (third, "housing_construction", "住建")]
    expected.sort(key=lambda item: (item[0], task_ids[item[:2]]))
    assert [(line.case_id, line.data["department"]) for line in lines] == [item[:2] for item in expected]
    for line, (case_id, key, short) in zip(lines, expected, strict=True):
        assert line.from_status == line.to_status == "handling" and line.actor_name == "系统"
        assert line.comment == f"协办部门{short}已超过协办时限，系统自动催办"
        assert line.data == {"title": "协办超时催办", "automatic": True, "department": key,
                             "task": task_ids[(case_id, key)]}
    assert [(note.case_id, note.recipient) for note in notes] == [
        (case_id, f"department:{key}") for case_id, key, _short in expected]
    for note, (case_id, key, _short) in zip(notes, expected, strict=True):
        assert note.subject == f"协办催办 {cases[case_id].number}：{cases[case_id].title}"
        assert note.body == "已超过协办时限，请尽快反馈"
        assert note.data == {"status": "handling", "by": "系统", "task": task_ids[(case_id, key)]}
    [record] = records
    assert record.action == "sla.sweep" and record.details["cases"] == {"urge": [first, first, third]}


def test_a_co_handler_answers_only_with_its_own_uploads(platform, city, housing):
    case_id = handling(platform, city)
    act(platform, case_id, joint.assign, city.station, ["urban_management"], now=MONDAY_10AM + HOUR)
    uploaded(platform, housing, "att-housing")
    for photos, field in ((["att-housing"], "photos[0]"), (["nowhere"], "photos[0]"), ("att-1", "photos")):
        with pytest.raises(FormInvalid) as refused:
            act(platform, case_id, joint.answer, city.urban, result="已清理占道物品", photos=photos)
        assert list(refused.value.errors) == [field]
    assert tasks(platform, case_id)["urban_management"].status == "open"
    with platform.db.session() as session:
        assert session.get(Attachment, "att-housing").case_id is None
