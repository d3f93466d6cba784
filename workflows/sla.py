"""The periodic SLA sweep: cases whose state's time limit has passed are urged or escalated, as declared.

Idempotent by construction: before acting on an expired deadline the sweep inserts a mark keyed by (case, kind,
start of the deadline's clock) with ON CONFLICT DO NOTHING, and acts only on the marks it inserted itself. A
second sweep, or a sweep on another worker at the same moment, finds the mark and does nothing.

Set-based: the sweep reads the ids of the overdue cases and which (workflow, state) groups they are in, decides
each group's actions from the workflow definitions once, and writes a batch's marks, timeline lines and outbox
rows with one INSERT … SELECT each, plus ONE audit record naming every case urged or escalated
(`record_case_events_from`). No case row travels to Python: a city has a million open cases, and building each
case's rows in Python cost more than writing them (workflows/sweep_rows.py selects the rows).
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import case, exists, func, literal, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from minqing.core.actors import Actor, system_actor
from minqing.core.changes import record_case_events_from
from minqing.core.models import Case, SweepMark, Supervision, UTCDateTime, utcnow
from minqing.core.geo.regions import LEVELS, SIGNIFICANT, level_of

from . import definition, outbox
from .errors import WorkflowError
from .sweep_rows import STATE_URGE, SUPERVISION_URGE, Claimed, among, escalation_target

BATCH = 1000


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
    with platform.db.session() as session:
        overdue, decided = _overdue(session, states, now)
    for start in range(0, len(overdue), batch):
        with platform.db.session() as session:
            _state_batch(session, decided, overdue[start:start + batch], now, actor, result)
    finals = definition.final_states(platform)
    with platform.db.session() as session:
        due = sorted(session.scalars(select(Supervision.id).where(*_due_supervisions(session, finals, now))))
    for start in range(0, len(due), batch):
        with platform.db.session() as session:
            _supervision_batch(session, finals, due[start:start + batch], now, actor, result)
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


_MARK_COLUMNS = ["case_id", "kind", "started_at", "ref", "status", "deadline_at", "actions", "escalated_to",
                 "created_at"]


def _insert_marks(session: Session):
    """INSERT into the marks, skipping a deadline already marked (by this sweep's batch or any other)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(SweepMark).on_conflict_do_nothing()


def _claim_from(session: Session, rows) -> list[int]:
    """Insert the marks `rows` selects (in `_MARK_COLUMNS` order); return the ids of those this call inserted:
    a deadline marked already, by an earlier sweep or one running now, is left to it."""
    statement = _insert_marks(session).from_select(_MARK_COLUMNS, rows).returning(SweepMark.id)
    return list(session.connection().execute(statement).scalars())


claim_marks_from = _claim_from  # for the co-handling deadlines (workflows.joint), marked the same way


def _unmerged(dialect: str):
    """Not a merged duplicate (重复件 run on their master's clock). `+ 0` on SQLite: it keeps no planner statistics
    and would answer `IS NULL` by the column's index, i.e. walk every unmerged case, where the overdue ones are
    found by the deadline's index; PostgreSQL knows from its statistics, and estimates the plain test better."""
    return Case.merged_into_id.is_(None) if dialect == "postgresql" else (Case.merged_into_id + 0).is_(None)


def _overdue(session: Session, states, now: dt.datetime) -> tuple[list[int], dict[str, list[tuple[str, str]]]]:
    """The ids of the cases past their state's time limit, in id order (a sweep's batches are slices of them),
    and what to do, decided once per (workflow, state) from the definitions: {actions: [(workflow, state)]}."""
    overdue = (Case.state_deadline_at <= now, _unmerged(_dialect(session)))
    ids = sorted(session.scalars(select(Case.id).where(*overdue)))   # no ORDER BY: SQLite would scan by id
    decided: dict[str, list[tuple[str, str]]] = {}
    for workflow_key, status in session.execute(select(Case.workflow_key, Case.status).where(*overdue)
                                                .group_by(Case.workflow_key, Case.status)):
        state = states[workflow_key].get(status)
        decided.setdefault(",".join(state.on_expiry) if state and state.on_expiry else "none", []).append(
            (workflow_key, status))
    return ids, decided


def _state_batch(session, decided, ids, now, actor, result) -> None:
    """Mark the batch's overdue cases, each mark holding what its (workflow, state) does on expiry and where an
    escalation goes; then act on the marks this batch inserted. A case that moved meanwhile into a state not
    decided yet is left to the next sweep."""
    dialect, group = _dialect(session), tuple_(Case.workflow_key, Case.status)
    actions = _case_of({names: group.in_(keys) for names, keys in decided.items() if names != "none"}, "none")
    escalating = [key for names, keys in decided.items() if "escalate" in names.split(",") for key in keys]
    cases, target = Case.__table__, literal("")
    if escalating:
        cases, above = escalation_target(dialect, ids)
        target = _case_of({"": ~group.in_(escalating)}, func.coalesce(above, ""))
    claimed = _claim_from(session, select(
        Case.id, literal("state"), Case.state_entered_at, literal(0), Case.status, Case.state_deadline_at, actions,
        target, literal(now, UTCDateTime())).select_from(cases).where(
        _within(dialect, ids), Case.state_deadline_at <= now, _unmerged(dialect),
        group.in_([key for keys in decided.values() for key in keys])))
    # Acted on only while the deadline is still the one claimed (the case has not moved on meanwhile).
    _act(session, Claimed(dialect, claimed, STATE_URGE,
                          (Case.state_entered_at == SweepMark.started_at, Case.state_deadline_at <= now)),
         actor, now, result)


def _within(dialect: str, ids: list[int]):
    """The batch's cases, given the overdue condition: on PostgreSQL as the range of their ids (with the deadline
    condition the range holds just them, and the planner estimates a range well, where a thousand-item ANY made
    it expect one row and loop over the last escalations for each case); on SQLite as the ids themselves (it
    keeps no statistics, and would walk every case of the range by rowid)."""
    return Case.id.between(ids[0], ids[-1]) if dialect == "postgresql" else among(dialect, Case.id, ids)


def _case_of(branches: dict, otherwise):
    """CASE WHEN condition THEN value … ELSE otherwise END, from {value: condition}."""
    if not branches:
        return literal(otherwise) if isinstance(otherwise, str) else otherwise
    return case(*[(condition, literal(value)) for value, condition in branches.items()], else_=otherwise)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _act(session: Session, claimed: Claimed, actor: Actor, now: dt.datetime, result: SweepResult,
         supervision: bool = False) -> None:
    """Write the claimed marks' timeline lines with their one audit record, and their notices."""
    if not claimed.ids:
        return
    cases = record_case_events_from(
        session, actor, claimed.events(), action="sla.sweep", at=now,
        summary=lambda cases: (f"督办超期催办 {len(cases.get('urge', ()))} 件" if supervision else
                               f"超时自动催办 {len(cases.get('urge', ()))} 件，升级 {len(cases.get('escalate', ()))} 件"))
    outbox.add_from(session, claimed.notices(actor.name))
    if supervision:
        result.supervisions += len(cases.get("urge", ()))
    else:
        result.urged += len(cases.get("urge", ()))
        result.escalated += len(cases.get("escalate", ()))


def _due_supervisions(session: Session, finals, now: dt.datetime) -> tuple:
    # The case is looked up by id from each supervision: a join would let SQLite's planner start from the
    # million open cases rather than from the few supervisions.
    return (Supervision.deadline_at <= now,
            exists().where(Case.id == Supervision.case_id, Case.status.not_in(finals), _unmerged(_dialect(session))))


def _supervision_batch(session, finals, ids, now, actor, result) -> None:
    status = select(Case.status).where(Case.id == Supervision.case_id).scalar_subquery()
    claimed = _claim_from(session, select(
        Supervision.case_id, literal("supervision"), Supervision.created_at, Supervision.id, status,
        Supervision.deadline_at, literal("urge"), literal(""), literal(now, UTCDateTime()))
        .where(among(_dialect(session), Supervision.id, ids), *_due_supervisions(session, finals, now)))
    _act(session, Claimed(_dialect(session), claimed, SUPERVISION_URGE), actor, now, result, supervision=True)
