"""Who published which version of a theme, and when, with what changed against the version before."""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core.models import ThemeVersion

from .diff import diff_versions


@dataclasses.dataclass(frozen=True)
class VersionInfo:
    version: int
    published_at: dt.datetime
    published_by: str
    plugin: str
    content_hash: str
    title: str
    changes: tuple[str, ...]          # Chinese summary lines against the version before (first: 首次发布)


def version_history(session: Session, key: str) -> list[VersionInfo]:
    """Every published version of theme `key`, newest first ([] when none was published)."""
    rows = list(session.scalars(select(ThemeVersion).where(ThemeVersion.theme_key == key)
                                .order_by(ThemeVersion.version)))
    history, previous = [], None
    for row in rows:
        changes = ("首次发布",) if previous is None else tuple(diff_versions(previous, row.document).summary)
        history.append(VersionInfo(row.version, row.published_at, row.published_by, row.plugin_name,
                                   row.content_hash, row.document.get("title", key), changes or ("无内容变化",)))
        previous = row.document
    return list(reversed(history))
