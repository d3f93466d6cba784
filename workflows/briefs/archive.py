"""Publishing a brief: generated for the publisher's scope and region, its file kept in the `briefs` store
(`core.storage`), its row and figures in `briefs`, the act recorded (`record_change`) in the same transaction.
The archive lists what a viewer's scope covers (`core.scope`: a county sees its own and its townships' briefs).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core import scope, storage
from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.models import Brief, Role, utcnow

from ..errors import FormInvalid, PermissionDenied
from . import content, outline, render
from .periods import Period

PUBLISHERS = (Role.ADMIN, Role.OPERATOR)
READERS = (Role.ADMIN, Role.OPERATOR, Role.LEADER)
PAGE = 100


def may_publish(actor: Actor) -> bool:
    return actor.has_role(*PUBLISHERS)


def generate(platform, session: Session, viewer: Actor, period: Period, format_: str, *, region_code: str = "",
             now: dt.datetime | None = None, hotspot_settings: dict | None = None) -> tuple[dict, bytes]:
    """(the figures, the document) of a brief; nothing is stored."""
    if format_ not in render.FORMATS:
        raise FormInvalid({"format": [f"不支持的格式“{format_[:10]}”，请选择 docx、pdf 或 html"]})
    figures = content.build(platform, session, viewer, period, region_code=region_code, now=now,
                            hotspot_settings=hotspot_settings)
    return figures, render.render(figures, format_)


def publish(platform, session: Session, actor: Actor, period: Period, format_: str, *, region_code: str,
            now: dt.datetime | None = None) -> Brief:
    """Generate, store and record a brief of `period` for `region_code` as `actor` sees it."""
    if not may_publish(actor):
        raise PermissionDenied("只有指挥中心（管理员、调度员）可以发布研判简报")
    now = now or utcnow()
    if period.start >= now:
        raise FormInvalid({"period": [f"{period.title}尚未开始，不能生成简报"]})
    figures, document = generate(platform, session, actor, period, format_, region_code=region_code, now=now)
    key = f"brief-{secrets.token_hex(12)}.{format_}"
    storage.briefs().put(key, document)
    brief = Brief(period_key=period.key, region_code=region_code, title=outline.title(figures)[:200], format=format_,
                  storage_key=key, size=len(document), sha256=hashlib.sha256(document).hexdigest(), figures=figures,
                  published_at=now, published_by_account_id=actor.account_id, published_by_name=actor.name[:64])
    session.add(brief)
    session.flush()
    record_change(session, actor, "brief.publish", object_type="brief", object_id=brief.id,
                  summary=f"发布研判简报：{brief.title}（{format_}）",
                  details={"period": period.key, "region_code": region_code, "format": format_,
                           "sha256": brief.sha256, "reported": figures["totals"]["current"]["reported"]}, at=now)
    return brief


def published(session: Session, viewer: Actor, limit: int = PAGE) -> list[Brief]:
    """The briefs within the viewer's scope, the newest first."""
    statement = select(Brief).order_by(Brief.published_at.desc(), Brief.id.desc()).limit(limit)
    return list(session.scalars(scope.restrict(statement, Brief, viewer)))


def find(session: Session, viewer: Actor, brief_id: int) -> Brief | None:
    """The brief when the viewer's scope covers it, else None (outside it, it does not exist for them)."""
    return session.scalar(scope.restrict(select(Brief).where(Brief.id == brief_id), Brief, viewer))


def document(brief: Brief) -> bytes:
    return storage.briefs().get(brief.storage_key)


def file_name(brief: Brief) -> str:
    """An ASCII download name (the title goes in the archive's list): brief-620102-2026-11.docx."""
    return f"brief-{brief.region_code[:6] or 'all'}-{brief.period_key}.{brief.format}"


__all__ = ["PUBLISHERS", "READERS", "document", "file_name", "find", "generate", "may_publish", "publish",
           "published"]
