"""The periodic SLA sweep: cases whose state's time limit has passed are urged or escalated, as declared.

Idempotent by construction: before acting on an expired deadline the sweep inserts a mark keyed by (case, kind,
start of the deadline's clock) with ON CONFLICT DO NOTHING, and acts only on the marks it inserted itself. A
second sweep, or a sweep on another worker at the same moment, finds the mark and does nothing.

Set-based: a batch reads its cases as plain rows, and writes its timeline lines, its outbox rows and its marks
with one statement each and ONE audit record naming every case urged or escalated (`record_case_events`): a
city has a million open cases, and an ORM object, a flush and a chain step per case made the sweep 10-30 times
slower than the UPDATE it amounts to.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from minqing.core.actors import Actor, system_actor
from minqing.core.changes import record_case_events
from minqing.core.models import Case, SweepMark, Supervision, utcnow
from minqing.core.geo.regions import LEVELS, SIGNIFICANT, level_of

from . import definition, notices, outbox
from .errors import WorkflowError

BATCH = 1000
IN_LIST = 100


@dataclasses.dataclass
class SweepResult:
    urged: int = 0
    escalated: int = 0
    supervisions: int = 0
    co_handlers: int = 0     # overdue co-handling (协办) tasks urged (workflows.joint)

    @property
    def actions(self) -> int:
        return self.urged + self.escalated + self.supervisions + self.co_handlers


def parent_region(code: str) -> str | None:
    """The region one level up (a 12-digit code), or None at the top or for no region."""
    if not code:
        return None
    level = LEVELS.index(level_of(code))
    if level == 0:
        return None
    return code[:SIGNIFICANT[LEVELS[level - 1]]].ljust(12, "0")


def sweep(platform, *, now: dt.datetime | None = None, batch: int = BATCH, actor: Actor | None = None,
          deliver: bool = True) -> SweepResult:
    """Act on every expired deadline not acted on yet; each batch in a transaction of its own. The
    notifications are queued with the actions and, with `deliver`, their delivery is kicked off at the end."""
    now, actor, result = now or utcnow(), actor or system_actor("sla"), SweepResult()
    states = _States(platform, {workflow.key: workflow.states for workflow in definition.all_workflows(platform)})
    last_id = 0
    while last_id is not None:
        with platform.db.session() as session:
            last_id = _state_batch(session, states, now, batch, last_id, actor, result)
    last_id = 0
    finals = definition.final_states(platform)
    while last_id is not None:
        with platform.db.session() as session:
            last_id = _supervision_batch(session, finals, now, batch, last_id, actor, result)
    from .joint import urge_overdue

    with platform.db.session() as session:
        result.co_handlers = urge_overdue(platform, session, now=now, actor=actor, finals=finals)
    if result.actions and deliver:
        from .tasks import enqueue_delivery

        enqueue_delivery(platform)
    return result


class _States(dict):
    """States by workflow key; a key no template or plugin registers (a theme's inline workflow) is resolved
    on first use, once per sweep."""

    def __init__(self, platform, known: dict):
        super().__init__(known)
        self.platform = platform

    def __missing__(self, key: str) -> dict:
        try:
            found = definition.get(self.platform, key).states
        except WorkflowError:
            found = {}
        self[key] = found
        return found


def _claim(session: Session, rows: list[dict]) -> set[tuple[int, int]]:
    """Insert the marks; return (case id, ref) of those this call inserted (the others were already taken)."""
    if not rows:
        return set()
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(SweepMark).on_conflict_do_nothing().returning(SweepMark.case_id, SweepMark.ref)
    return {(case_id, ref) for case_id, ref in session.execute(statement, rows)}


def _state_batch(session, states, now, batch, last_id, actor, result) -> int | None:
    candidates = session.execute(
        select(Case.id, Case.workflow_key, Case.status, Case.state_entered_at, Case.state_deadline_at,
               Case.region_code)
        .where(Case.id > last_id, Case.state_deadline_at <= now,
               Case.merged_into_id.is_(None))   # a merged duplicate (重复件) runs on its master's clock
        .order_by(Case.id).limit(batch)).all()
    if not candidates:
        return None
    next_id = candidates[-1].id if len(candidates) == batch else None
    # Leave out what an earlier sweep acted on. Looked up by case id rather than as an anti-join: the marks
    # table grows from empty, and a planner working from its stale statistics loops over it for every case.
    done, escalated_to = _marks_of(session, [row.id for row in candidates])
    candidates = [row for row in candidates if (row.id, "state", row.state_entered_at, 0) not in done]
    if not candidates:
        return next_id
    marks, plans = [], {}
    for row in candidates:
        state = states[row.workflow_key].get(row.status)
        actions = tuple(state.on_expiry) if state else ()
        target = parent_region(escalated_to.get(row.id, row.region_code)) if "escalate" in actions else None
        plans[row.id] = (row.state_entered_at, actions, target)
        marks.append({"case_id": row.id, "kind": "state", "started_at": row.state_entered_at, "ref": 0,
                      "status": row.status,
                      "deadline_at": row.state_deadline_at, "actions": ",".join(actions) or "none",
                      "escalated_to": target or "", "created_at": now})
    claimed = {case_id for case_id, _ref in _claim(session, marks)}
    acts = _Acts(session)
    # Read again by the same indexed range as the candidates (an IN list of a thousand ids costs more to
    # render than to run); only the claimed ones are acted on.
    overdue = _CASE_COLUMNS.where(Case.id.between(candidates[0].id, candidates[-1].id), Case.state_deadline_at <= now)
    for case in session.execute(overdue.order_by(Case.id)):
        if case.id not in claimed:
            continue
        entered_at, actions, target = plans[case.id]
        if case.state_entered_at == entered_at:  # still the deadline we saw (not moved on meanwhile)
            if "urge" in actions or ("escalate" in actions and target is None):
                acts.urge(case, "已超过办理时限，系统自动催办", "超时催办", "已超过办理时限，请尽快办理", actor)
            if "escalate" in actions and target is not None:
                acts.escalate(case, target)
    acts.write(actor, now, result)
    return next_id


# What a notice and a timeline line need of a case: read as plain rows, never as ORM objects.
_CASE_COLUMNS = select(Case.id, Case.created_at, Case.title, Case.status, Case.region_code, Case.department_id,
                       Case.state_entered_at)


class _Acts:
    """A batch's urges and escalations, gathered, then written set-based by `write`."""

    def __init__(self, session: Session):
        self.session, self.events, self.messages = session, [], []

    def urge(self, case, comment: str, title: str, notice: str, actor: Actor) -> None:
        self.events.append({"case_id": case.id, "action": "urge", "from_status": case.status,
                            "to_status": case.status, "comment": comment,
                            "data": {"title": title, "automatic": True}})
        self.messages.append(notices.urge_message(self.session, case, notice, actor.name))

    def escalate(self, case, target: str) -> None:
        self.events.append({"case_id": case.id, "action": "escalate", "from_status": case.status,
                            "to_status": case.status, "comment": f"已超过办理时限，升级至上一级（{target}）",
                            "data": {"title": "超时升级", "region_code": target, "automatic": True}})
        self.messages.append(notices.escalate_message(case, target))

    def write(self, actor: Actor, now: dt.datetime, result: SweepResult, supervision: bool = False) -> None:
        urged = sum(event["action"] == "urge" for event in self.events)
        escalated = len(self.events) - urged
        summary = (f"督办超期催办 {urged} 件" if supervision
                   else f"超时自动催办 {urged} 件，升级 {escalated} 件")
        record_case_events(self.session, actor, self.events, action="sla.sweep", summary=summary, at=now)
        outbox.add_many(self.session, self.messages)
        if supervision:
            result.supervisions += urged
        else:
            result.urged += urged
            result.escalated += escalated


claim_marks = _claim  # for the co-handling deadlines (workflows.joint), marked the same way


def _marks_of(session: Session, case_ids: list[int]) -> tuple[set[tuple], dict[int, str]]:
    """The cases' marks, in one query: the deadlines acted on (case id, kind, start, ref), and the region each
    case was last escalated to."""
    done, escalated_to = set(), {}
    # In pieces: SQLAlchemy renders an IN list in time quadratic in its length (0.2 s for a thousand ids).
    for start in range(0, len(case_ids), IN_LIST):
        for case_id, kind, started_at, ref, target in session.execute(
                select(SweepMark.case_id, SweepMark.kind, SweepMark.started_at, SweepMark.ref, SweepMark.escalated_to)
                .where(SweepMark.case_id.in_(case_ids[start:start + IN_LIST])).order_by(SweepMark.id)):
            done.add((case_id, kind, started_at, ref))
            if target:
                escalated_to[case_id] = target
    return done, escalated_to


def _supervision_batch(session, finals, now, batch, last_id, actor, result) -> int | None:
    candidates = session.execute(
        select(Supervision.id, Supervision.case_id, Supervision.created_at, Supervision.deadline_at, Case.status)
        .join(Case, Case.id == Supervision.case_id)
        .where(Supervision.id > last_id, Supervision.deadline_at <= now, Case.status.not_in(finals),
               Case.merged_into_id.is_(None))
        .order_by(Supervision.id).limit(batch)).all()
    if not candidates:
        return None
    next_id = candidates[-1].id if len(candidates) == batch else None
    done, _ = _marks_of(session, sorted({row.case_id for row in candidates}))
    candidates = [row for row in candidates if (row.case_id, "supervision", row.created_at, row.id) not in done]
    if not candidates:
        return next_id
    claimed = _claim(session, [{"case_id": row.case_id, "kind": "supervision", "started_at": row.created_at,
                                "ref": row.id, "status": row.status, "deadline_at": row.deadline_at,
                                "actions": "urge", "escalated_to": "", "created_at": now} for row in candidates])
    cases = {case.id: case for case in session.execute(
        _CASE_COLUMNS.where(Case.id.in_({case_id for case_id, _ref in claimed})))}
    acts = _Acts(session)
    for case_id, _ref in sorted(claimed):
        acts.urge(cases[case_id], "督办期限已到，系统自动催办", "督办超期催办", "督办期限已到，请立即办理", actor)
    acts.write(actor, now, result, supervision=True)
    return next_id
