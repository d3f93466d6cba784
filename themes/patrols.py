"""Patrols of theme records: a theme's ``patrol_every_days`` says how often each of its records must be seen.

A record is due when its last patrol (or, never patrolled, its creation) is older than that; one query for
all themes, limited to what the viewer may see.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import Session

from minqing.core import scope
from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.models import ThemeRecord, utcnow

from .registry import registry


def due_for_patrol(platform, session: Session, viewer: Actor, now: dt.datetime | None = None,
                   limit: int = 1000) -> list[ThemeRecord]:
    """Records of the enabled themes whose patrol is overdue, oldest first."""
    now = now or utcnow()
    last_seen = func.coalesce(ThemeRecord.last_patrolled_at, ThemeRecord.created_at)
    clauses = [and_(ThemeRecord.theme_key == theme.key,
                    last_seen < now - dt.timedelta(days=theme.patrol_every_days))
               for theme in registry(platform, session).themes.values() if theme.patrol_every_days]
    statement = select(ThemeRecord).where(or_(*clauses) if clauses else false())
    statement = scope.restrict(statement, ThemeRecord, viewer).order_by(last_seen, ThemeRecord.id).limit(limit)
    return list(session.scalars(statement))


def mark_patrolled(session: Session, actor: Actor, record: ThemeRecord, at: dt.datetime | None = None) -> None:
    """Note that someone saw the record on patrol (the patrol's own form goes through the theme's visit form)."""
    record.last_patrolled_at = at or utcnow()
    record_change(session, actor, "theme_record.patrol", object_type="theme_record", object_id=record.id,
                  summary=f"巡查业务主题“{record.theme_key}”的记录")
