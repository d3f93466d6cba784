"""The answer of the map's hotspot layer (事件热点（近30天）, plugin.py): the hotspots of the last days as the viewer
may see them, each with what changed against as many days before (hotspots.py), computed once per viewer's scope
and settings and kept in this process for at most `MAX_AGE`.

Why kept: at a city's volume (a year of a million cases) reading and clustering both windows took 1.1–2.4 s
(0.3–0.8 s with the indexes of migration 0041), and the map asked for it on every pan of every viewer (issue #20).
What is kept stays correct:

- **scope**: the key is the viewer's grants (`scope.shared_key`), and the answer is computed through
  `scope.restrict` for those grants alone, so viewers with the same grants share it and no other viewer ever
  reads it. A viewer who reported a case outside their jurisdiction within the windows (`scope.reported_beyond`),
  which `restrict` lets them read, gets an answer of their own, computed as them.
- **settings**: part of the key, read from the database on every request, so a change of `eps_m` or `min_cases`
  takes effect at once in every process.
- **cases**: an answer is at most `MAX_AGE` old (the stored early warnings' refresh interval,
  `MINQING_WARNINGS_REFRESH_SECONDS`, default 300 s); each hotspot's popup says when it was computed.
- **uncommitted writes**: a session whose transaction has written (`memos.wrote`) sees changes no other session
  does and that may yet be rolled back; it neither reads a kept answer nor keeps its own.
- **memory**: at most `MAX_KEPT` answers per database, the least recently used dropped first, the expired ones
  whenever an answer is added.
"""
from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import threading
import weakref

from sqlalchemy.orm import Session

from minqing.core import memos, scope, warning_store
from minqing.core.actors import Actor

from . import hotspots

MAX_AGE = dt.timedelta(seconds=warning_store.REFRESH_SECONDS)
MAX_KEPT = 64

_kept: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # engine -> OrderedDict(key -> Answer)
_lock = threading.Lock()


@dataclasses.dataclass(frozen=True)
class Answer:
    computed_at: dt.datetime                 # the end of the current window
    changes: tuple[hotspots.Change, ...]

    def fresh(self, now: dt.datetime) -> bool:
        return self.computed_at <= now < self.computed_at + MAX_AGE


def changes(session: Session, viewer: Actor, now: dt.datetime, *, days: int) -> Answer:
    """The hotspots of the `days` days before `now` (or before a moment at most `MAX_AGE` earlier, when an answer
    for the same scope and settings was computed then) and what changed against the `days` days before those."""
    settings = hotspots.settings_of(session)
    window = dt.timedelta(days=days)
    if scope.reported_beyond(session, viewer, now - 2 * window - MAX_AGE, now):
        owner, computed_as = viewer.account_id, viewer
    else:
        owner, computed_as = None, dataclasses.replace(viewer, account_id=None)   # the grants alone
    if memos.wrote(session):
        return _compute(session, computed_as, now, window, settings)
    key = (scope.shared_key(viewer), owner, days, tuple(sorted(settings.items())))
    engine = session.get_bind()
    with _lock:
        kept = _kept.setdefault(engine, collections.OrderedDict())
        answer = kept.get(key)
        if answer is not None and answer.fresh(now):
            kept.move_to_end(key)
            return answer
    answer = _compute(session, computed_as, now, window, settings)
    with _lock:
        for stale in [other for other, kept_answer in kept.items() if not kept_answer.fresh(now)]:
            del kept[stale]
        kept[key] = answer
        while len(kept) > MAX_KEPT:
            kept.popitem(last=False)
    return answer


def _compute(session: Session, viewer: Actor, now: dt.datetime, window: dt.timedelta, settings: dict) -> Answer:
    current = hotspots.hotspots(session, viewer, now - window, now, **settings)
    previous = hotspots.hotspots(session, viewer, now - 2 * window, now - window, **settings)
    return Answer(now, tuple(hotspots.changes(current, previous, eps_m=settings["eps_m"])))
