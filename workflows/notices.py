"""Who hears about what: the notifications a step of the loop puts in the outbox.

Recipients are addresses a delivery plugin resolves: ``department:<key>`` (the department's staff),
``region:<code>`` (the command body of that region), ``account:<id>`` (one person).
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core.models import Case, Department

from . import outbox


def department_or_region(session: Session, case: Case) -> str:
    """Whoever holds the case now: its department once dispatched, else its region's command body."""
    if case.department_id is not None:
        key = _department_keys(session).get(case.department_id)
        if key is None:  # a department added since the keys were read
            department = session.get(Department, case.department_id)
            key = department.key if department is not None else None
        if key is not None:
            return f"department:{key}"
    return f"region:{case.region_code}"


def _department_keys(session: Session) -> dict[int, str]:
    # Read once per session and without flushing: the sweep calls this for thousands of cases, and a flush
    # per case would stop its inserts from being batched.
    keys = session.info.get("minqing_department_keys")
    if keys is None:
        with session.no_autoflush:
            keys = dict(session.execute(select(Department.id, Department.key)).all())
        session.info["minqing_department_keys"] = keys
    return keys


def _send(platform, session: Session, case: Case, kind: str, recipient: str, subject: str, body: str = "",
          data: dict | None = None) -> None:
    outbox.add(session, **_message(case, kind, recipient, subject, body, data), platform=platform)


def _message(case, kind: str, recipient: str, subject: str, body: str = "", data: dict | None = None) -> dict:
    """The outbox row of a notice about `case` (a Case, or any row with its id, created_at, title and status)."""
    number = Case.number.fget(case)
    return {"kind": kind, "recipient": recipient, "subject": f"{subject} {number}：{case.title}", "body": body,
            "case_id": case.id, "data": {"status": case.status, **(data or {})}}


def reported(platform, session: Session, case: Case) -> None:
    _send(platform, session, case, "report", f"region:{case.region_code}", "新上报事件")


def after_transition(platform, session: Session, case: Case, step, plan) -> None:
    effects = step.effects
    if "assign_department" in effects:
        _send(platform, session, case, step.name, f"department:{plan.department.key}", "新交办事件")
        if plan.note.get("transferred_from"):  # 转办: the department that had it hears where it went
            _send(platform, session, case, step.name, f"department:{plan.note['transferred_from']}", "事件已转办",
                  f"已转办至{plan.department.short_name}")
    if "clear_department" in effects:
        _send(platform, session, case, step.name, f"region:{case.region_code}", "事件被退回，请重新分拨")
    if "count_rework" in effects:
        _send(platform, session, case, step.name, department_or_region(session, case), "事件需重办")
    if "close" in effects and case.reporter_account_id is not None:
        _send(platform, session, case, step.name, f"account:{case.reporter_account_id}", "您反映的事件已办结")


def rehandled(platform, session: Session, case: Case, count: int) -> None:
    """The reporter hears that the case they found not solved is being handled again."""
    if case.reporter_account_id is not None:
        _send(platform, session, case, "rehandling", f"account:{case.reporter_account_id}",
              f"您反映的问题已交部门重办（第{count}次）", data={"rehandling": count})


def to_reporter(platform, session: Session, case: Case, kind: str, subject: str, body: str = "",
                data: dict | None = None) -> None:
    """重复件: the reporter of a merged case hears of the merge, of the master's progress, of an undo."""
    if case.reporter_account_id is not None:
        _send(platform, session, case, kind, f"account:{case.reporter_account_id}", subject, body, data)


def co_handling(platform, session: Session, case: Case, kind: str, department_key: str, subject: str,
                body: str = "", data: dict | None = None) -> None:
    """协办: a message about a co-handling task, to the co-handling department or the lead."""
    _send(platform, session, case, kind, f"department:{department_key}", subject, body, data)


def urged(platform, session: Session, case: Case, comment: str, by: str) -> None:
    outbox.add(session, **urge_message(session, case, comment, by), platform=platform)


def urge_message(session: Session, case, comment: str, by: str) -> dict:
    """The 催办 notice as an outbox row, as `urged` queues it (the sweep writes the same rows in SQL:
    workflows/sweep_rows.py)."""
    return _message(case, "urge", department_or_region(session, case), "催办", comment, {"by": by})


def escalated(platform, session: Session, case: Case, region_code: str) -> None:
    outbox.add(session, **escalate_message(case, region_code), platform=platform)


ESCALATED_NOTICE = "事件超过办理时限，已升级至本级"


def escalate_message(case, region_code: str) -> dict:
    """The 超时升级 notice as an outbox row, as `escalated` queues it (the sweep writes the same rows in SQL:
    workflows/sweep_rows.py)."""
    return _message(case, "escalate", f"region:{region_code}", "超时升级", ESCALATED_NOTICE,
                    {"region_code": region_code})


def supervised(platform, session: Session, case: Case, comment: str, deadline_iso: str) -> None:
    _send(platform, session, case, "supervise", department_or_region(session, case), "督办", comment,
          {"deadline_at": deadline_iso})
