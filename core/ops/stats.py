"""Counts of what the platform holds, by level and kind (`minqing stats`)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from minqing.core.models import Account, Address, Case, Department, Grid, GridMember, House, Household, KeyPerson, KeyPlace, Person, Region, Resident, Unit, Visit
from minqing.core.geo.regions import LEVELS

GRID_LEVELS = ("large", "medium", "small")
MEMBER_ROLES = ("leader", "full_time", "part_time", "dedicated")


def _grouped(session: Session, column, keys) -> dict[str, int]:
    counts = dict(session.execute(select(column, func.count()).group_by(column)).all())
    return {key: counts.get(key, 0) for key in keys}


def _count(session: Session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def collect(session: Session) -> dict:
    grids = _grouped(session, Grid.level, GRID_LEVELS)
    grids["total"] = sum(grids.values())
    grids["dedicated"] = session.scalar(select(func.count()).where(Grid.dedicated.is_(True)))
    grids["by_colour"] = _grouped(session, Grid.colour, ("red", "yellow", "blue"))
    return {
        "regions": _grouped(session, Region.level, LEVELS),
        "grids": grids,
        "grid_members": _grouped(session, GridMember.role, MEMBER_ROLES),
        "departments": _count(session, Department),
        "persons": _count(session, Person),
        "accounts": _count(session, Account),
        "base_data": {
            "addresses": _count(session, Address),
            "houses": _count(session, House),
            "households": _count(session, Household),
            "residents": _count(session, Resident),
            "units": _count(session, Unit),
            "key_persons": _count(session, KeyPerson),
            "key_places": _count(session, KeyPlace),
            "visits": _count(session, Visit),
        },
        "cases": _count(session, Case),
    }
