"""A merged duplicate follows its master: every step of the master shows on the duplicate's timeline and its
reporter hears of it; at follow-up (回访) each reporter answers on their own case.

Called by the engine around each transition (`workflows/engine.py`):
- `check_step` before anything changes: on a merged duplicate only its own follow-up steps may be taken, and a
  master with duplicates cannot be voided (undo the merges first);
- `after_step` once the step is done: a master's new status is mirrored onto its duplicates; a "not solved"
  (a step counting a rework) on a duplicate sends the master back to handling while the master still awaits
  its follow-up, or — when the master is already closed — detaches the duplicate, which is handled again on
  its own.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from minqing.core.actors import Actor, system_actor
from minqing.core.changes import record_case_event
from minqing.core.models import Case

from .. import definition, notices
from ..engine import announce, transition
from ..errors import InvalidTransition
from .merge import close_row, enter_status, status_following, duplicates_of, follow_up_states, live_merge

# Steps whose comment the duplicate's reporter may read on their own case (the handling result).
PUBLIC_RESULTS = {"feedback", "close"}


def check_step(session: Session, case: Case, step, workflow) -> None:
    if case.merged_into_id is not None:
        if "record_rating" in step.effects and case.status in follow_up_states(workflow):
            return
        master = session.get(Case, case.merged_into_id)
        raise InvalidTransition(f"该事件已合并到 {master.number}，请在主件上办理")
    if "void" in step.effects:
        count = session.scalar(select(func.count()).select_from(Case).where(Case.merged_into_id == case.id))
        if count:
            raise InvalidTransition(f"该事件有 {count} 件重复件并入，请先撤销合并再作废")


def after_step(platform, session: Session, case: Case, step, data: dict, actor: Actor, now: dt.datetime) -> None:
    if case.merged_into_id is not None:
        _after_duplicate_step(platform, session, case, step, data, now)
        return
    duplicates = duplicates_of(session, case.id)
    if duplicates:
        mirror(platform, session, case, duplicates, step, data, actor, now)


def mirror(platform, session: Session, master: Case, duplicates: list[Case], step, data: dict, actor: Actor,
           now: dt.datetime) -> None:
    """Put each open duplicate where its master now is (or at its own follow-up once the master is closed)."""
    workflow = definition.get(platform, master.workflow_key, session)
    target = status_following(workflow, master)
    title = workflow.states[target].title if target in workflow.states else target
    public = bool(PUBLIC_RESULTS.intersection(step.effects))
    result = str(data.get("result") or "") if public else ""
    for duplicate in duplicates:
        state = workflow.states.get(duplicate.status)
        if target is None or duplicate.status == target or state is None or state.final:
            continue
        from_status = duplicate.status
        enter_status(duplicate, target, now)
        if workflow.states[target].final:   # a workflow without follow-up: the duplicate closes with the master
            duplicate.closed_at = now
        record_case_event(session, actor, duplicate, "follow_master", from_status=from_status, to_status=target,
                          comment=result or f"随主件 {master.number} {step.title}", at=now,
                          data={"title": f"随主件{step.title}", "master_id": master.id,
                                "master_number": master.number, "master_step": step.name})
        body = "请您对办理结果进行评价" if target in follow_up_states(workflow) else f"随主件 {master.number} {step.title}"
        notices.to_reporter(platform, session, duplicate, "follow_master", f"您反映的问题办理进度：{title}", body,
                            {"master_id": master.id})
        announce(platform, session, duplicate, "follow_master", actor)


def _after_duplicate_step(platform, session: Session, duplicate: Case, step, data: dict, now: dt.datetime) -> None:
    """The duplicate's own follow-up was answered: a confirmation ends it; "not solved" reopens the master."""
    if "count_rework" not in step.effects:
        return
    master = session.get(Case, duplicate.merged_into_id)
    workflow = definition.get(platform, master.workflow_key, session)
    reason = str(data.get("reason") or "")
    if master.status in follow_up_states(workflow):
        transition(platform, session, master, step.name, system_actor("duplicates"),
                   {"reason": f"重复件 {duplicate.number} 回访：问题未解决。{reason}"[:500]}, now=now)
    elif master.closed_at is not None:
        _detach(platform, session, duplicate, master, now)
        return
    if duplicate.merged_into_id is not None:
        duplicate.state_deadline_at = None   # the master's clock runs, not the duplicate's


def _detach(platform, session: Session, duplicate: Case, master: Case, now: dt.datetime) -> None:
    """The master is closed but this reporter says the problem is not solved: the duplicate leaves the merge
    and is handled again by the master's department, on its own clock (set by the rework step)."""
    actor = system_actor("duplicates")
    reason = f"主件 {master.number} 已办结，重复件回访未解决，转为独立事件重新处置"
    row = live_merge(session, duplicate.id)
    if row is not None:
        close_row(row, actor, reason, now)
    duplicate.merged_into_id = None
    duplicate.department_id = master.department_id
    record_case_event(session, actor, duplicate, "unmerge", from_status=duplicate.status, to_status=duplicate.status,
                      comment=reason, at=now, data={"title": "转为独立事件", "master_id": master.id,
                                                    "master_number": master.number, "automatic": True})
    record_case_event(session, actor, master, "unmerge_out", from_status=master.status, to_status=master.status,
                      comment=reason, at=now, data={"title": "重复件转为独立事件", "duplicate_id": duplicate.id,
                                                    "duplicate_number": duplicate.number, "automatic": True})
    announce(platform, session, duplicate, "unmerge", actor)
