"""Merging a duplicate (重复件) into a master case, and undoing a wrong merge.

A merged duplicate keeps its reporter, its report and its timeline; it follows the master (`follow.py`) until its
own follow-up, and is left out of the work queues, the SLA sweep and the evaluation's other indicators. The
dispatcher who merges must see both cases; the refusals say why in Chinese and change nothing.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core.actors import Actor
from minqing.core.changes import record_case_event
from minqing.core.models import Case, Role, utcnow
from minqing.core.models.merges import CaseMerge

from .. import definition, notices
from ..engine import announce, check_actor, flush_case
from ..errors import FormInvalid, InvalidTransition
from . import candidates
from .settings import for_theme

MERGE_ROLES = (Role.OPERATOR,)      # the command centres; administrators hold every role
REASON_MIN, REASON_MAX = 2, 1000


def _reason(reason, what: str) -> str:
    """The reason of a merge or its undoing: text of REASON_MIN to REASON_MAX characters."""
    if (reason is not None and not isinstance(reason, str)) or len((reason or "").strip()) > REASON_MAX:
        raise FormInvalid({"reason": [f"理由应为文本，最多 {REASON_MAX} 字"]})
    reason = (reason or "").strip()
    if len(reason) < REASON_MIN:
        raise FormInvalid({"reason": [f"请填写{what}（至少2个字）"]})
    return reason


def live_merge(session: Session, duplicate_id: int) -> CaseMerge | None:
    """The merge a duplicate is in now (not undone), if any."""
    return session.scalar(select(CaseMerge).where(CaseMerge.duplicate_id == duplicate_id,
                                                  CaseMerge.undone_at.is_(None))
                          .order_by(CaseMerge.id.desc()))


def duplicates_of(session: Session, master_id: int) -> list[Case]:
    """The cases merged into `master_id` now, oldest merge first."""
    return list(session.scalars(select(Case).where(Case.merged_into_id == master_id).order_by(Case.id)))


def history(session: Session, case_id: int) -> list[CaseMerge]:
    """Every merge the case took part in, as master or as duplicate, undone ones included."""
    return list(session.scalars(select(CaseMerge).where(
        (CaseMerge.master_id == case_id) | (CaseMerge.duplicate_id == case_id)).order_by(CaseMerge.id)))


def follow_up_states(workflow) -> set[str]:
    """The states where a reporter confirms or rates: the sources of the steps that record a rating."""
    return {source for step in workflow.transitions.values() if "record_rating" in step.effects
            for source in step.sources}


def evidence_between(platform, session: Session, duplicate: Case, master: Case) -> dict:
    """The evidence that `duplicate` repeats `master`, scored as the candidates are; kept even beyond the
    theme's distance or score, since the dispatcher decides (`within_settings` says whether it was shown)."""
    settings = for_theme(platform, session, master.theme_key)
    draft = candidates.draft_of(session, duplicate)
    photos = candidates.photo_hashes(session, case_ids=[master.id]).get(master.id, ())
    found = candidates.score_pair(draft, master, settings, photos)
    if found is None:  # a case without a place on the map: only the dispatcher's word
        return {"case_id": master.id}
    return {**found.evidence(), "within_settings": found.distance_m <= settings.distance_m
            and found.score >= settings.min_score}


def merge(platform, session: Session, duplicate: Case, master: Case, actor: Actor, *, reason: str,
          now: dt.datetime | None = None) -> CaseMerge:
    """Merge `duplicate` into `master` as `actor` (a command centre seeing both, or an administrator)."""
    reason = _reason(reason, "合并理由")
    check_actor(session, duplicate, actor, MERGE_ROLES, "合并重复件")
    check_actor(session, master, actor, MERGE_ROLES, "合并重复件")
    workflow = _check_mergeable(platform, session, duplicate, master)
    now = now or utcnow()
    evidence = evidence_between(platform, session, duplicate, master)
    row = CaseMerge(master_id=master.id, duplicate_id=duplicate.id, merged_by_account_id=actor.account_id,
                    merged_by_name=actor.name, merged_at=now, reason=reason, evidence=evidence,
                    duplicate_status=duplicate.status, duplicate_entered_at=duplicate.state_entered_at,
                    duplicate_deadline_at=duplicate.state_deadline_at,
                    duplicate_department_id=duplicate.department_id)
    from_status = duplicate.status
    duplicate.merged_into_id = master.id
    target = status_following(workflow, master)
    if target is not None:
        enter_status(duplicate, target, now)
    flush_case(session)
    session.add(row)
    record_case_event(session, actor, duplicate, "merge", from_status=from_status, to_status=duplicate.status,
                      comment=reason, at=now, data={"title": "合并到主件", "master_id": master.id,
                                                    "master_number": master.number, "evidence": evidence})
    record_case_event(session, actor, master, "merge_in", from_status=master.status, to_status=master.status,
                      comment=reason, at=now, data={"title": "重复件并入", "duplicate_id": duplicate.id,
                                                    "duplicate_number": duplicate.number, "evidence": evidence})
    notices.to_reporter(platform, session, duplicate, "merge", f"您反映的问题已与事件 {master.number} 合并办理",
                        "办理进度将同步告知您，办结后请您评价", {"master_id": master.id})
    announce(platform, session, duplicate, "merge", actor)
    return row


def _check_mergeable(platform, session: Session, duplicate: Case, master: Case):
    if duplicate.id == master.id:
        raise InvalidTransition("不能把事件合并到它自己")
    if duplicate.merged_into_id is not None:
        raise InvalidTransition(f"事件 {duplicate.number} 已合并到其他事件，请先撤销原合并")
    if master.merged_into_id is not None:
        above = session.get(Case, master.merged_into_id)
        raise InvalidTransition(f"主件 {master.number} 本身已合并到 {above.number if above else '其他事件'}，"
                                "请选择最终的主件")
    if duplicates_of(session, duplicate.id):
        raise InvalidTransition(f"事件 {duplicate.number} 已有重复件并入，不能再合并到其他事件（不允许合并链）")
    workflow = definition.get(platform, duplicate.workflow_key, session)
    if duplicate.workflow_key != master.workflow_key:
        raise InvalidTransition("两件事件的处置流程不同，不能合并")
    state = workflow.states.get(duplicate.status)
    if state is None or state.final:
        raise InvalidTransition(f"重复件 {duplicate.number} 已{'办结' if duplicate.closed_at else '作废'}，不能合并")
    master_state = workflow.states.get(master.status)
    if master_state is not None and master_state.final and master.closed_at is None:
        raise InvalidTransition(f"主件 {master.number} 已作废，不能作为主件")
    return workflow


def status_following(workflow, master: Case) -> str | None:
    """The state a duplicate takes beside `master`: the master's, or — once the master is closed — the
    follow-up state, where the duplicate's own reporter confirms (None: a workflow without follow-up)."""
    state = workflow.states.get(master.status)
    if state is None or not state.final:
        return master.status
    follow_up = sorted(follow_up_states(workflow))
    return follow_up[0] if follow_up else master.status


def enter_status(case: Case, status: str, now: dt.datetime) -> None:
    """A merged case has no clock of its own: the master's deadlines are the ones that run. The caller tells
    the plugins (`engine.announce`) once the change is recorded."""
    case.status = status
    case.state_entered_at = now
    case.state_deadline_at = None


def undo(platform, session: Session, duplicate: Case, actor: Actor, *, reason: str,
         now: dt.datetime | None = None) -> CaseMerge:
    """Undo the merge of `duplicate`: it gets back the status, clock and department it had when merged."""
    reason = _reason(reason, "撤销合并的理由")
    check_actor(session, duplicate, actor, MERGE_ROLES, "撤销合并")
    row = live_merge(session, duplicate.id) if duplicate.merged_into_id is not None else None
    if row is None:
        raise InvalidTransition(f"事件 {duplicate.number} 未合并到其他事件，无需撤销")
    master = session.get(Case, row.master_id)
    check_actor(session, master, actor, MERGE_ROLES, "撤销合并")
    if duplicate.closed_at is not None:
        raise InvalidTransition(f"重复件 {duplicate.number} 已回访办结，不能撤销合并")
    now = now or utcnow()
    from_status = duplicate.status
    duplicate.merged_into_id = None
    duplicate.status = row.duplicate_status
    duplicate.state_entered_at = row.duplicate_entered_at
    duplicate.state_deadline_at = row.duplicate_deadline_at
    duplicate.department_id = row.duplicate_department_id
    flush_case(session)
    close_row(row, actor, reason, now)
    record_case_event(session, actor, duplicate, "unmerge", from_status=from_status, to_status=duplicate.status,
                      comment=reason, at=now, data={"title": "撤销合并", "master_id": master.id,
                                                    "master_number": master.number, "merge_id": row.id})
    record_case_event(session, actor, master, "unmerge_out", from_status=master.status, to_status=master.status,
                      comment=reason, at=now, data={"title": "撤销重复件合并", "duplicate_id": duplicate.id,
                                                    "duplicate_number": duplicate.number, "merge_id": row.id})
    notices.to_reporter(platform, session, duplicate, "unmerge", f"您反映的问题已与事件 {master.number} 撤销合并",
                        "将单独办理", {"master_id": master.id})
    announce(platform, session, duplicate, "unmerge", actor)
    return row


def close_row(row: CaseMerge, actor: Actor, reason: str, now: dt.datetime) -> None:
    row.undone_by_account_id, row.undone_by_name = actor.account_id, actor.name
    row.undone_at, row.undo_reason = now, reason
