"""考核排名: the departments' ranking of a month, with approved appeals (申诉) applied, and its publication.

Until a month is published its ranking is live (申诉期): computed on request, as of now. Publishing freezes it —
each department's indicators and rank, the same ranking without the approved appeals, and the appeals — as JSON
in `ranking_publications`, so later changes to cases never alter what was published and the page can always say
which appeals moved whom.

The ranking is the city's official one: every department over every case of the month (not a viewer's scope),
best first by the score of the city's assessment scheme (考核方案, workflows/schemes.py; the shipped default weighs
按期办结率 and 及时受理率), ties by 按期办结率, then 及时受理率, then fewer overdue cases. Cases not yet dispatched
are not ranked. A published ranking keeps the scheme version it was scored with.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.models import Case, Department, Role, utcnow
from minqing.core.models.appeals import CaseAppeal, RankingPublication
from minqing.core.geo.regions import level_of

from . import appeals, months, schemes
from .errors import Conflict, InvalidTransition, PermissionDenied
from .evaluation import Indicators

DIMENSION = appeals.DIMENSION
COUNTS = tuple(field.name for field in dataclasses.fields(Indicators) if field.name != "key")


def order(rows: list[Indicators]) -> list[Indicators]:
    """Best first by the tie rule alone (the dashboard's rule for any period and scope): 按期办结率, then
    及时受理率, then fewer overdue cases; rows without a rate go last."""
    return sorted(rows, key=schemes.tie_rule)


@dataclasses.dataclass(frozen=True)
class Standing:
    """One department's place: with the approved appeals applied, and without them (`baseline_*`)."""
    department_id: int
    name: str
    rank: int
    indicators: Indicators
    baseline_rank: int | None
    baseline: Indicators | None
    appeal_ids: tuple[int, ...] = ()
    score: schemes.Score | None = None           # None in rankings published before schemes existed
    baseline_score: schemes.Score | None = None

    @property
    def moved(self) -> int:
        """Places gained through the appeals (negative: lost, as others' appeals lifted them)."""
        return (self.baseline_rank - self.rank) if self.baseline_rank is not None else 0


@dataclasses.dataclass(frozen=True)
class AppealNote:
    """An approved appeal that took a case out of its department's indicators."""
    id: int
    case_id: int
    case_number: str
    department_id: int
    department_name: str
    ground: str
    decision_reason: str
    decided_by: str
    decided_at: dt.datetime | None

    @property
    def ground_title(self) -> str:
        return appeals.GROUNDS.get(self.ground, self.ground)


@dataclasses.dataclass(frozen=True)
class Ranking:
    period_key: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    as_of: dt.datetime
    standings: list[Standing]
    appeals: list[AppealNote]
    published_at: dt.datetime | None = None
    published_by: str = ""
    pending_appeals: int = 0
    scheme: schemes.Scheme | None = None   # the scheme version it was scored with (None: before schemes)

    @property
    def published(self) -> bool:
        return self.published_at is not None

    @property
    def title(self) -> str:
        return months.title(self.period_key)

    def changes(self) -> list[Standing]:
        """The departments the appeals changed: their own indicators, or only their place."""
        return [standing for standing in self.standings if standing.appeal_ids or standing.moved]

    def appeals_of(self, standing: Standing) -> list[AppealNote]:
        return [note for note in self.appeals if note.id in standing.appeal_ids]


# -- computing ----------------------------------------------------------------------------------------------------

def _approved(session: Session, period_key: str) -> list[AppealNote]:
    names = dict(session.execute(select(Department.id, Department.short_name)).all())
    rows = session.execute(
        select(CaseAppeal, Case).join(Case, Case.id == CaseAppeal.case_id)
        .where(CaseAppeal.id.in_(appeals.excluded_from_departments(period_key).with_only_columns(CaseAppeal.id)))
        .order_by(CaseAppeal.decided_at, CaseAppeal.id))
    return [AppealNote(id=appeal.id, case_id=case.id, case_number=case.number, department_id=appeal.department_id,
                       department_name=names.get(appeal.department_id, ""), ground=appeal.ground,
                       decision_reason=appeal.decision_reason, decided_by=appeal.decided_by_name,
                       decided_at=appeal.decided_at) for appeal, case in rows]


def compute(session: Session, period_key: str, *, now: dt.datetime | None = None,
            scheme: schemes.Scheme | None = None) -> Ranking:
    """The month's live ranking as of `now` (default: now), scored with `scheme` (default: the city's)."""
    period_key = months.parse(period_key)
    now = now or utcnow()
    start, end = months.bounds(period_key)
    scheme = scheme or schemes.current(session)
    window = dict(unit="department", start=start, end=end, now=now)
    adjusted = schemes.rank(session, scheme, excluded_case_ids=appeals.excluded_from_departments(period_key),
                            **window)
    baseline = {row.key: row for row in schemes.rank(session, scheme, **window)}
    notes = _approved(session, period_key)
    standings = []
    for row in adjusted:
        before = baseline.get(row.key)
        standings.append(Standing(
            department_id=row.key, name=row.name, rank=row.place, indicators=row.indicators,
            baseline_rank=before.place if before else None, baseline=before.indicators if before else None,
            appeal_ids=tuple(note.id for note in notes if note.department_id == row.key),
            score=row.score, baseline_score=before.score if before else None))
    pending = session.scalar(select(func.count()).select_from(CaseAppeal).where(
        CaseAppeal.period_key == period_key, CaseAppeal.status == "pending")) or 0
    return Ranking(period_key=period_key, starts_at=start, ends_at=end, as_of=now, standings=standings,
                   appeals=notes, pending_appeals=pending, scheme=scheme)


def ranking(session: Session, period_key: str, *, now: dt.datetime | None = None) -> Ranking:
    """The month's published ranking, or its live one while it is open."""
    period_key = months.parse(period_key)
    publication = _publication(session, period_key)
    if publication is None:
        return compute(session, period_key, now=now)
    return from_snapshot(publication)


def _publication(session: Session, period_key: str) -> RankingPublication | None:
    return session.scalar(select(RankingPublication).where(RankingPublication.period_key == period_key,
                                                           RankingPublication.dimension == DIMENSION))


def latest_publication(session: Session) -> RankingPublication | None:
    return session.scalar(select(RankingPublication).where(RankingPublication.dimension == DIMENSION)
                          .order_by(RankingPublication.period_key.desc()).limit(1))


def published_keys(session: Session) -> list[str]:
    return list(session.scalars(select(RankingPublication.period_key).where(
        RankingPublication.dimension == DIMENSION).order_by(RankingPublication.period_key.desc())))


# -- publishing -----------------------------------------------------------------------------------------------------

def may_publish(actor: Actor) -> bool:
    """The city's command centre publishes: administrators and operators of the city (top) region."""
    return actor.has_role(Role.ADMIN) or any(
        grant.region_code and level_of(grant.region_code) == "city" for grant in actor.grants_of(Role.OPERATOR))


def publish(session: Session, actor: Actor, period_key: str, *, now: dt.datetime | None = None) -> RankingPublication:
    """Freeze the month's ranking. Refused before the month is over, while appeals of it wait for a decision,
    and a second time."""
    period_key = months.parse(period_key)
    now = now or utcnow()
    if not may_publish(actor):
        raise PermissionDenied("只有市级指挥中心可以发布考核排名")
    start, end = months.bounds(period_key)
    title = months.title(period_key)
    if end > now:
        raise InvalidTransition(f"{title}尚未结束，不能发布排名")
    if _publication(session, period_key) is not None:
        raise Conflict(f"{title}的排名已发布")
    live = compute(session, period_key, now=now)
    if live.pending_appeals:
        raise InvalidTransition(f"{title}尚有 {live.pending_appeals} 件申诉待审核，请审核后再发布排名")
    publication = RankingPublication(period_key=period_key, dimension=DIMENSION, starts_at=start, ends_at=end,
                                     published_at=now, published_by_account_id=actor.account_id,
                                     published_by_name=actor.name[:64], snapshot=snapshot_of(live))
    try:
        with session.begin_nested():
            session.add(publication)
            session.flush()
    except IntegrityError:
        raise Conflict(f"{title}的排名已发布") from None
    record_change(session, actor, "ranking.publish", object_type="ranking", object_id=period_key,
                  summary=f"发布{title}职能部门考核排名（{len(live.standings)} 个部门，申诉调整 {len(live.appeals)} 件）",
                  details={"departments": len(live.standings), "appeals": [note.id for note in live.appeals],
                           "scheme": {"scope": live.scheme.scope, "version": live.scheme.version},
                           "moved": {str(s.department_id): [s.baseline_rank, s.rank] for s in live.changes()}},
                  at=now)
    return publication


# -- the frozen form ---------------------------------------------------------------------------------------------

def _counts(row: Indicators | None) -> dict | None:
    return None if row is None else {name: getattr(row, name) for name in COUNTS}


def _indicators(key, counts: dict | None) -> Indicators | None:
    if counts is None:
        return None
    return Indicators(key=key, **{name: counts[name] for name in COUNTS if name in counts})


def _time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _score(value: schemes.Score | None) -> dict | None:
    return value.as_dict() if value is not None else None


def _score_of(value: dict | None) -> schemes.Score | None:
    return schemes.Score.from_dict(value) if value else None


def snapshot_of(live: Ranking) -> dict:
    return {
        "as_of": live.as_of.isoformat(),
        "scheme": live.scheme.as_dict() if live.scheme else None,
        "standings": [{"department_id": s.department_id, "name": s.name, "rank": s.rank,
                       "indicators": _counts(s.indicators), "baseline_rank": s.baseline_rank,
                       "baseline": _counts(s.baseline), "appeal_ids": list(s.appeal_ids),
                       "score": _score(s.score), "baseline_score": _score(s.baseline_score)}
                      for s in live.standings],
        "appeals": [{"id": n.id, "case_id": n.case_id, "case_number": n.case_number,
                     "department_id": n.department_id, "department_name": n.department_name, "ground": n.ground,
                     "decision_reason": n.decision_reason, "decided_by": n.decided_by,
                     "decided_at": n.decided_at.isoformat() if n.decided_at else None} for n in live.appeals],
    }


def from_snapshot(publication: RankingPublication) -> Ranking:
    snapshot = publication.snapshot or {}
    standings = [Standing(department_id=s["department_id"], name=s["name"], rank=s["rank"],
                          indicators=_indicators(s["department_id"], s["indicators"]),
                          baseline_rank=s.get("baseline_rank"),
                          baseline=_indicators(s["department_id"], s.get("baseline")),
                          appeal_ids=tuple(s.get("appeal_ids", ())), score=_score_of(s.get("score")),
                          baseline_score=_score_of(s.get("baseline_score")))
                 for s in snapshot.get("standings", [])]
    notes = [AppealNote(id=n["id"], case_id=n["case_id"], case_number=n["case_number"],
                        department_id=n["department_id"], department_name=n.get("department_name", ""),
                        ground=n["ground"], decision_reason=n.get("decision_reason", ""),
                        decided_by=n.get("decided_by", ""), decided_at=_time(n.get("decided_at")))
             for n in snapshot.get("appeals", [])]
    return Ranking(period_key=publication.period_key, starts_at=publication.starts_at, ends_at=publication.ends_at,
                   as_of=_time(snapshot.get("as_of")) or publication.published_at, standings=standings,
                   appeals=notes, published_at=publication.published_at, published_by=publication.published_by_name,
                   scheme=schemes.Scheme.from_dict(snapshot["scheme"]) if snapshot.get("scheme") else None)


def as_dict(ranking_: Ranking) -> dict:
    """The ranking for the API."""
    def row(standing: Standing) -> dict:
        return {"department_id": standing.department_id, "name": standing.name, "rank": standing.rank,
                "baseline_rank": standing.baseline_rank, "appeal_ids": list(standing.appeal_ids),
                "indicators": rates(standing.indicators), "baseline": rates(standing.baseline),
                "score": _score(standing.score), "baseline_score": _score(standing.baseline_score)}
    return {"period": ranking_.period_key, "title": ranking_.title, "dimension": DIMENSION,
            "status": "published" if ranking_.published else "open",
            "starts_at": ranking_.starts_at.isoformat(), "ends_at": ranking_.ends_at.isoformat(),
            "as_of": ranking_.as_of.isoformat(),
            "published_at": ranking_.published_at.isoformat() if ranking_.published_at else None,
            "published_by": ranking_.published_by or None, "pending_appeals": ranking_.pending_appeals,
            "scheme": ({key: value for key, value in ranking_.scheme.as_dict().items() if key != "document"}
                       if ranking_.scheme else None),
            "standings": [row(standing) for standing in ranking_.standings],
            "appeals": [{"id": n.id, "case_id": n.case_id, "case_number": n.case_number,
                         "department_id": n.department_id, "department_name": n.department_name,
                         "ground": n.ground, "ground_title": n.ground_title, "decision_reason": n.decision_reason,
                         "decided_at": n.decided_at.isoformat() if n.decided_at else None}
                        for n in ranking_.appeals]}


def rates(row: Indicators | None) -> dict | None:
    """An Indicators' counts and rates as a plain dict (the API's, the schemes' too)."""
    if row is None:
        return None
    return {**_counts(row), **{name: getattr(row, name) for name in schemes.INDICATORS if name not in COUNTS}}


__all__ = ["AppealNote", "Ranking", "Standing", "as_dict", "compute", "from_snapshot", "latest_publication",
           "may_publish", "order", "publish", "published_keys", "ranking", "rates", "snapshot_of"]
