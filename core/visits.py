"""走访/巡查: a grid worker's visit to a key person, key place or household, recorded once per client id."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import scope
from .actors import Actor
from .changes import record_change
from .models import Household, KeyPerson, KeyPlace, Visit, utcnow

TARGETS = {"key_person": KeyPerson, "key_place": KeyPlace, "household": Household}


class VisitRefused(ValueError):
    pass


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
        raise VisitRefused(f"未知的走访对象类型“{kind}”")
    target = session.scalar(scope.restrict(select(model).where(model.id == target_id), model, actor))
    if target is None:
        raise VisitRefused("走访对象不存在或不在您的网格范围内")
    if not summary or len(summary.strip()) < 2:
        raise VisitRefused("走访情况：请至少填写2个字")
    now = now or utcnow()
    visit = Visit(target_kind=kind, target_id=target_id, visitor_account_id=actor.account_id,
                  visitor_person_id=visitor_person_id, grid_id=target.grid_id, region_code=target.region_code,
                  visited_at=now, lon=lon, lat=lat, summary=summary.strip()[:2000], theme_key=theme_key,
                  form_data=form_data or {}, schema_version=schema_version, client_id=client_id)
    try:
        with session.begin_nested():
            session.add(visit)
    except IntegrityError:  # the same client id arrived twice at once
        return session.scalar(select(Visit).where(Visit.client_id == client_id))
    target.last_visit_at = now
    if isinstance(target, (KeyPerson, KeyPlace)):
        target.next_visit_due = (now + dt.timedelta(days=target.visit_every_days)).date()
    record_change(session, actor, "visit.record", object_type=kind, object_id=target_id,
                  summary=f"走访记录：{kind} #{target_id}")
    return visit
