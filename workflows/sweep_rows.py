"""The SLA sweep's writes as SQL: the timeline lines and notices of the deadlines a batch claimed are selected
from its marks joined with their cases, and inserted with one INSERT … SELECT each, so no case row travels to
Python (a city has a million open cases, and building each case's rows in Python cost more than writing them).

Each expression here mirrors a Python function the rest of the platform uses for one case (`sla.parent_region`,
`Case.number`, `notices.department_or_region`); tests/workflows/test_sweep_rows.py holds each pair to the same
answers on the database.
"""
from __future__ import annotations

import dataclasses
import itertools

from sqlalchemy import Integer, String, Text, and_, any_, bindparam, case, cast, func, literal, or_, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY

from minqing.core.models import Case, Department, SweepMark

from .notices import ESCALATED_NOTICE


@dataclasses.dataclass(frozen=True)
class Urge:
    """The words of an automatic 催办: the timeline line's comment and title, and the notice's body."""
    comment: str
    title: str
    notice: str


STATE_URGE = Urge("已超过办理时限，系统自动催办", "超时催办", "已超过办理时限，请尽快办理")
SUPERVISION_URGE = Urge("督办期限已到，系统自动催办", "督办超期催办", "督办期限已到，请立即办理")


def among(dialect: str, column, ids: list[int]):
    """`column` is one of `ids`. On PostgreSQL one array parameter: a thousand-item IN list costs more to send
    and plan there than the statement it filters."""
    if dialect == "postgresql":
        return column == any_(bindparam(None, ids, type_=ARRAY(Integer)))
    return column.in_(ids)


def parent_region(code):
    """SQL of `sla.parent_region`: the 12-digit code one level up, NULL at the city or for no region."""
    def padded(prefix):   # str.ljust(12, "0") of a prefix of at most 12 characters
        return func.substr(prefix + literal("0" * 12), 1, 12)

    return case((code == "", None),
                (func.length(code) == 15, func.substr(code, 1, 12)),
                (func.substr(code, 10, 3) != "000", padded(func.substr(code, 1, 9))),
                (func.substr(code, 7, 3) != "000", padded(func.substr(code, 1, 6))),
                (func.substr(code, 5, 2) != "00", padded(func.substr(code, 1, 4))),
                else_=None)


def escalation_target(dialect: str, case_ids: list[int]):
    """The cases joined with where each was last escalated to, and the region an escalation now sends a case to:
    one level above that, or above the case's own region.

    Each escalation goes one level above the one before it, so the last is the highest: the code with the most
    trailing zeros, the least of a case's targets as text. A join rather than a correlated lookup of the latest
    mark: the target's CASE names its code five times, and both backends would run a lookup for each."""
    last = (select(SweepMark.case_id, func.min(SweepMark.escalated_to).label("region_code"))
            .where(among(dialect, SweepMark.case_id, case_ids), SweepMark.escalated_to != "")
            .group_by(SweepMark.case_id).subquery("last_escalation"))
    return (Case.__table__.outerjoin(last, last.c.case_id == Case.id),
            parent_region(func.coalesce(last.c.region_code, Case.region_code)))


def case_number(dialect: str, source=Case):
    """SQL of `Case.number` ("MQ" + the UTC day of creation + the id, at least seven digits)."""
    if dialect == "postgresql":
        digits = cast(source.id, Text)
        return (literal("MQ") + func.to_char(source.created_at, "YYYYMMDD", type_=String)
                + func.lpad(digits, func.greatest(7, func.length(digits)), "0", type_=String))
    return (literal("MQ") + func.strftime("%Y%m%d", source.created_at, type_=String)
            + func.printf("%07d", source.id, type_=String))


def json_object(dialect: str, **pairs):
    """A JSON object built by the database from SQL values (True stays a JSON true on both backends)."""
    if dialect == "postgresql":
        return func.jsonb_build_object(*itertools.chain.from_iterable(
            (literal(key), literal(value) if isinstance(value, bool | str) else value)
            for key, value in pairs.items()))
    return func.json_object(*itertools.chain.from_iterable(
        (literal(key), func.json("true" if value else "false") if isinstance(value, bool)
         else literal(value) if isinstance(value, str) else value)
        for key, value in pairs.items()))


@dataclasses.dataclass(frozen=True)
class Claimed:
    """The marks a batch inserted itself (`ids`), what they urge with, and the conditions a case must still meet
    for its mark to be acted on (the deadline is still the one claimed: the case has not moved on meanwhile)."""
    dialect: str
    ids: list[int]
    urge: Urge
    current: tuple = ()

    def _rows(self, *columns):
        return (select(*columns).select_from(SweepMark).join(Case, Case.id == SweepMark.case_id)
                .where(among(self.dialect, SweepMark.id, self.ids), *self.current))

    @property
    def _urging(self):
        # "urge", or "escalate" with nowhere to go (the city is the top): the mark holds the decision
        return or_(SweepMark.actions.contains("urge"),
                   and_(SweepMark.actions.contains("escalate"), SweepMark.escalated_to == ""))

    def events(self):
        """The timeline lines, for `core.changes.record_case_events_from`: a case's 催办 before its 升级."""
        common = (Case.id.label("case_id"), Case.status.label("from_status"), Case.status.label("to_status"))
        urges = self._rows(*common, literal("urge").label("action"), literal(self.urge.comment).label("comment"),
                           json_object(self.dialect, title=self.urge.title, automatic=True).label("data"),
                           literal(0).label("rank")).where(self._urging)
        escalations = self._rows(
            *common, literal("escalate").label("action"),
            (literal("已超过办理时限，升级至上一级（") + SweepMark.escalated_to + literal("）")).label("comment"),
            json_object(self.dialect, title="超时升级", region_code=SweepMark.escalated_to, automatic=True).label("data"),
            literal(1).label("rank")).where(SweepMark.escalated_to != "")
        return union_all(urges, escalations).order_by("case_id", "rank")

    def notices(self, by: str):
        """The outbox rows, for `outbox.add_from`: the 催办 to whoever holds the case (`notices.urge_message`), the
        升级 to the region above (`notices.escalate_message`)."""
        number = case_number(self.dialect)
        holder = case((Department.key.is_not(None), literal("department:") + Department.key),
                      else_=literal("region:") + Case.region_code)
        urges = (self._rows(literal("urge").label("kind"), holder.label("recipient"),
                            (literal("催办 ") + number + literal("：") + Case.title).label("subject"),
                            literal(self.urge.notice).label("body"), Case.id.label("case_id"),
                            json_object(self.dialect, status=Case.status, by=by).label("data"),
                            literal(0).label("rank"))
                 .outerjoin(Department, Department.id == Case.department_id).where(self._urging))
        escalations = self._rows(
            literal("escalate").label("kind"), (literal("region:") + SweepMark.escalated_to).label("recipient"),
            (literal("超时升级 ") + number + literal("：") + Case.title).label("subject"),
            literal(ESCALATED_NOTICE).label("body"), Case.id.label("case_id"),
            json_object(self.dialect, status=Case.status, region_code=SweepMark.escalated_to).label("data"),
            literal(1).label("rank")).where(SweepMark.escalated_to != "")
        return union_all(urges, escalations).order_by("case_id", "rank")
