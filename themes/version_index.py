"""What the hot paths ask of the published versions — which version a report was filled in under, and a
version's document — answered from memory, read again only when the themes counter moved.

A report asks both on every submission (its form's version, the auto-dispatch setting); the rows only change
when a theme is published, which moves the themes counter (`themes.versions.publish`, the builder's
publishing), and a published version's document never changes.
"""
from __future__ import annotations

import threading
import weakref

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core import counters
from minqing.core.models import ThemeVersion

from .registry import THEMES_COUNTER

_by_engine: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # engine -> _Index
_lock = threading.Lock()


class _Index:
    def __init__(self, generation: int, rows) -> None:
        self.generation = generation
        self.hashes: dict[str, dict[int, str]] = {}          # theme key -> {version: content hash}
        for key, version, digest in rows:
            self.hashes.setdefault(key, {})[version] = digest
        self.documents: dict[tuple[str, int], dict] = {}    # filled as asked


def _index(session: Session) -> _Index:
    generation = counters.seen(session, THEMES_COUNTER)
    engine = session.get_bind()
    with _lock:
        found = _by_engine.get(engine)
    if found is None or found.generation != generation:
        found = _Index(generation, session.execute(
            select(ThemeVersion.theme_key, ThemeVersion.version, ThemeVersion.content_hash)).all())
        with _lock:
            _by_engine[engine] = found
    return found


def filled_under(session: Session, theme) -> int | None:
    """The published version whose document is the theme's current one (an older one for a report a phone kept
    offline), else the newest; None when the theme was never published."""
    versions = _index(session).hashes.get(theme.key)
    if not versions:
        return None
    same = [version for version, digest in versions.items() if digest == theme.content_hash]
    return max(same) if same else max(versions)


def document(session: Session, key: str, version: int | None = None) -> dict | None:
    """The document of a published version of a theme (the newest when `version` is None); None when there is
    no such version. Shared, not copied: callers read it, never change it."""
    index = _index(session)
    versions = index.hashes.get(key) or {}
    number = version if version is not None else max(versions, default=None)
    if number is None or number not in versions:
        return None
    cached = index.documents.get((key, number))
    if cached is None:
        cached = session.scalar(select(ThemeVersion.document).where(ThemeVersion.theme_key == key,
                                                                    ThemeVersion.version == number))
        index.documents[(key, number)] = cached
    return cached
