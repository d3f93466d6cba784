"""The city's clock: times are stored in UTC and shown in the city's time zone.

One place knows the zone — the city's setting (`core.city`, as this process read it: before every request and
task) — so every machine answer (REST, Open311) writes times the same way: RFC 3339 with the city's offset and
whole seconds, e.g. `2026-03-01T08:00:00+08:00` in a city at UTC+8.

    local_time(moment)        the aware datetime in the city's zone (None stays None)
    isoformat_local(moment)   its RFC 3339 text (None stays None)
"""
from __future__ import annotations

import datetime as dt

from . import city


def local_time(moment: dt.datetime | None) -> dt.datetime | None:
    """`moment` in the city's zone; a naive value is taken as UTC, which is how the database keeps times."""
    return city.local(moment)


def isoformat_local(moment: dt.datetime | str | None) -> str | None:
    """RFC 3339 in the city's zone, whole seconds. An ISO 8601 text (as some documents store times) is read
    first; a text that is not a time is returned unchanged."""
    if isinstance(moment, dt.datetime) and moment.tzinfo is not None:
        # the common case first, without detours: a page of 10,000 map features writes 20,000 times
        return moment.astimezone(city.zone()).isoformat(timespec="seconds")
    if isinstance(moment, str):
        try:
            moment = dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            return moment
    local = local_time(moment)
    return local.isoformat(timespec="seconds") if local else None

