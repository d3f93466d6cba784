"""The platform object: one database, one plugin host and the caches built from them.

Everything that runs Minqing (the web application, the command line, a Celery worker, a test) makes one
`Platform` and hands it on; nothing lives at module level.
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from minqing.core import city, counters
from minqing.core.audit import chain as audit_chain
from minqing.core.privacy import masking
from .db import Database
from minqing.core.geo.integrity import GRIDS_COUNTER
from minqing.core.pluginhost.host import PluginHost
from minqing.core.pluginhost.typed import Hooks

if TYPE_CHECKING:   # shapely is imported when a grid is first located, not by every `minqing` command
    from sqlalchemy.orm import Session

    from minqing.core.geo.locator import GridLocator

__all__ = ["GRIDS_COUNTER", "Platform"]


class Platform:
    def __init__(self, database_url: str | None = None, *, load_plugins: bool = True):
        masking.install_log_scrubbing()  # no ID or phone number reaches any log unmasked
        audit_chain.stream_names()        # a wrong MINQING_AUDIT_STREAMS stops the start, not a later commit
        self.db = Database(database_url)
        city.forget()  # until this database's city is read, no other database's time zone is shown (core/city.py)
        self.plugins = PluginHost(self.db, load_entry_points=load_plugins)
        self._locator: tuple[int, GridLocator] | None = None
        self._lock = threading.Lock()

    @property
    def hooks(self) -> Hooks:
        """Typed, strict hook calls: ``platform.hooks.route_case(case=case, session=session)`` (`typed_hooks`)."""
        return self.plugins.hooks

    def locator(self, session: Session | None = None) -> GridLocator:
        """The grid locator, rebuilt when any process changed the grids since it was built. With the caller's
        session the grids counter is read once per session (`counters.seen`), not once per call; without one,
        a session of its own reads it."""
        from minqing.core.geo.locator import GridLocator

        if session is None:
            with self.db.session() as own:
                return self.locator(own)
        generation = counters.seen(session, GRIDS_COUNTER)
        with self._lock:
            if self._locator is None or self._locator[0] != generation:
                self._locator = (generation, GridLocator.from_session(session))
            return self._locator[1]

    def close(self) -> None:
        self.db.dispose()
