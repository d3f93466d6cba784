"""The periods rankings are published for: calendar months in the city's time, keyed "YYYY-MM".

A case belongs to the month it was reported in; a month covers [its first day 00:00, the next month's first day
00:00) in the city's time zone (`core.city`, as this process read it), as UTC datetimes for queries.
"""
from __future__ import annotations

import datetime as dt
import re

from minqing.core.models import utcnow
from minqing.core import city

from .errors import FormInvalid

KEY = re.compile(r"^(\d{4})-(\d{2})$")


def key_of(moment: dt.datetime) -> str:
    return city.local(moment).strftime("%Y-%m")


def current(now: dt.datetime | None = None) -> str:
    return key_of(now or utcnow())


def previous(key: str) -> str:
    year, month = _parts(key)
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


def _parts(key: str, field: str = "period") -> tuple[int, int]:
    match = KEY.match(key or "")
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise FormInvalid({field: [f"统计周期“{key}”格式不正确，应为“年-月”，例如 2026-11"]})
    return int(match.group(1)), int(match.group(2))


def parse(key: str, field: str = "period") -> str:
    """The key, checked: FormInvalid naming `field` when it is not a month."""
    year, month = _parts(key, field)
    return f"{year}-{month:02d}"


def bounds(key: str) -> tuple[dt.datetime, dt.datetime]:
    year, month = _parts(key)
    return city.midnight(dt.date(year, month, 1)), city.midnight(dt.date(year + (month == 12), month % 12 + 1, 1))


def title(key: str) -> str:
    year, month = _parts(key)
    return f"{year}年{month}月"


__all__ = ["bounds", "current", "key_of", "parse", "previous", "title"]
