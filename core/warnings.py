"""What early warnings (预警) share: the city's calendar day and the source of the cases made from a warning.

The rules themselves — their queries included — are plugins (`plugins/early_warnings/`, or any plugin answering
the `warning_rules` hook); `core/warning_rules.py` keeps their settings, their active warnings and what operators
did with them.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from . import city
from .models import utcnow

WARNING_SOURCE = "warning"    # Case.source of the cases made from a warning


def city_today(now: dt.datetime | None = None, session: Session | None = None) -> dt.date:
    """Today's calendar date in the city (due dates are local dates), in its time zone setting (`core.city`)."""
    return city.today(session, now or utcnow())


__all__ = ["WARNING_SOURCE", "city_today"]
