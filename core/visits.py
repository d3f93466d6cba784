"""走访/巡查: a grid worker's or cadre's visit to a key person, key place or household, recorded once per client id.

`record_household_visit` is the one service of a household visit (走村不漏户): the work end's form and
`POST /api/v1/visits` (kind "household") both call it. A cadre's visit keeps their post (`Visit.visitor_post`),
so it counts for them in the 户户见干部 coverage (core.grassroots.household_visits). A visit that promises a 帮办实事 creates
the matter in the same transaction (`core.grassroots.practical_matters.promise`, linked to the visit and the household, owned
by the visitor, due by `promise_deadline` — 30 days by default).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import city, scope
from .grassroots import cadres, practical_matters
from .actors import Actor
from .changes import record_change
from .models import Household, KeyPerson, KeyPlace, Visit, utcnow

TARGETS = {"key_person": KeyPerson, "key_place": KeyPlace, "household": Household}


HOUSEHOLD_FIELDS = ("met", "needs", "promised", "promise_text", "promise_deadline")
PROMISE_DAYS = 30   # a promised matter's deadline when the visitor gives none
_MATTER_FIELDS = {"title": "promise_text", "deadline": "promise_deadline"}   # the matter's fields on the visit form


class VisitRefused(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def record_visit(session: Session, actor: Actor, *, kind: str, target_id: int, summary: str,
                 lon: float | None = None, lat: float | None = None, client_id: str | None = None,
                 form_data: dict | None = None, theme_key: str | None = None, schema_version: str = "",
                 visitor_person_id: int | None = None, now: dt.datetime | None = None) -> Visit:
    """Record the visit and move the target's next due date; a retried call with the same client id returns
    the first visit."""
    if client_id and (existing := session.scalar(select(Visit).where(Visit.client_id == client_id))):
        return existing
    model = TARGETS.get(kind)
    if model is None:
        raise VisitRefused(f"未知的走访对象类型“{kind}”", "kind")
    target = session.scalar(scope.restrict(select(model).where(model.id == target_id), model, actor))
    if target is None:
        raise VisitRefused("走访对象不存在或不在您的网格范围内", "target_id")
    if not summary or len(summary.strip()) < 2:
        raise VisitRefused("走访情况：请至少填写2个字", "summary")
    now = now or utcnow()
    visit = Visit(target_kind=kind, target_id=target_id, visitor_account_id=actor.account_id,
                  visitor_person_id=visitor_person_id, grid_id=target.grid_id, region_code=target.region_code,
                  visited_at=now, lon=lon, lat=lat, summary=summary.strip()[:2000], theme_key=theme_key,
                  form_data=form_data or {}, schema_version=schema_version, client_id=client_id,
                  visitor_post=cadres.visitor_post(session, actor),
                  # the household's place now, as the database's triggers keep it (migration 0038)
                  household_grid_id=target.grid_id if kind == "household" else None,
                  household_region_code=target.region_code if kind == "household" else None)
    try:
        with session.begin_nested():
            session.add(visit)
    except IntegrityError:  # the same client id arrived twice at once
        return session.scalar(select(Visit).where(Visit.client_id == client_id))
    if target.last_visit_at is None or target.last_visit_at < now:   # a backdated visit moves nothing back
        target.last_visit_at = now
        if isinstance(target, (KeyPerson, KeyPlace)):
            target.next_visit_due = (now + dt.timedelta(days=target.visit_every_days)).date()
    record_change(session, actor, "visit.record", object_type=kind, object_id=target_id,
                  summary=f"走访记录：{kind} #{target_id}")
    return visit


def household_details(*, met: str = "", needs: str = "", promised=False, promise_text: str = "") -> dict:
    """The household visit's form data, checked: VisitRefused naming the field otherwise."""
    met, needs, promise_text = (met or "").strip(), (needs or "").strip(), (promise_text or "").strip()
    if len(met) < 1:
        raise VisitRefused("见到的人：请填写走访时见到了谁（如户主本人、配偶）", "met")
    if len(met) > 100:
        raise VisitRefused("见到的人：最多 100 字", "met")
    if len(needs) > 1000:
        raise VisitRefused("诉求：最多 1000 字", "needs")
    if not isinstance(promised, bool):
        raise VisitRefused("帮办实事：请选择是或否", "promised")
    if promised and len(promise_text) < 2:
        raise VisitRefused("帮办实事：承诺帮办时请写明办什么（至少2个字）", "promise_text")
    if len(promise_text) > practical_matters.MAX_TITLE:   # it becomes the matter's title
        raise VisitRefused(f"帮办实事：最多 {practical_matters.MAX_TITLE} 字", "promise_text")
    return {"met": met, "needs": needs, "promised": promised, "promise_text": promise_text if promised else ""}


def record_household_visit(session: Session, actor: Actor, *, household_id: int, met: str, needs: str = "",
                           promised: bool = False, promise_text: str = "", summary: str = "",
                           lon: float | None = None, lat: float | None = None, client_id: str | None = None,
                           promise_deadline=None, now: dt.datetime | None = None) -> Visit:
    """走村不漏户: a visit to a household within the actor's scope, with whom they met, the household's needs and
    whether a 帮办实事 (a practical matter) was promised — then the matter is created with the visit, in the
    caller's transaction (on VisitRefused the caller rolls back: neither is kept). Without a summary, one is made
    from the details."""
    details = household_details(met=met, needs=needs, promised=promised, promise_text=promise_text)
    if not (summary or "").strip():
        summary = f"见到{details['met']}" + (f"；诉求：{details['needs']}" if details["needs"] else "；无诉求")
    if details["promised"]:
        summary = f"{summary.strip()}；承诺帮办：{details['promise_text']}"
    now = now or utcnow()
    visit = record_visit(session, actor, kind="household", target_id=household_id, summary=summary, lon=lon,
                         lat=lat, client_id=client_id, form_data=details, now=now)
    if details["promised"]:
        today = city.today(session, now)
        try:
            practical_matters.promise(session, actor, household_id=household_id, title=details["promise_text"],
                                      deadline=_promise_deadline(promise_deadline, today), detail=details["needs"],
                                      visit_id=visit.id, now=now, today=today,
                                      client_id=f"visit-{client_id}"[:64] if client_id else None)
        except practical_matters.MatterRefused as error:
            raise VisitRefused(error.message, _MATTER_FIELDS.get(error.field, "promised")) from error
    return visit


def _promise_deadline(value, today: dt.date):
    """The promised matter's deadline: the one given (practical_matters.promise checks it; its refusals name
    `promise_deadline`), or PROMISE_DAYS from today when none is given."""
    return today + dt.timedelta(days=PROMISE_DAYS) if value in (None, "") else value
