"""Counts of what the platform holds, by level and kind (`minqing stats`)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from minqing.core.models import Account, Address, Case, Department, Grid, GridMember, House, Household, KeyPerson, KeyPlace, Person, Region, Resident, Unit, Visit
from minqing.core.geo.regions import LEVELS
from minqing.core.models import CadrePost, KeyGrid, MatterStatus, Post, PracticalMatter, RoleGrant

GRID_LEVELS = ("large", "medium", "small")
MEMBER_ROLES = ("leader", "full_time", "part_time", "dedicated")
POSTS = tuple(post.value for post in Post)
MATTER_STATUSES = tuple(status.value for status in MatterStatus)


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
        "cadres": _cadres(session),
        "key_grids": _key_grids(session),
        "practical_matters": _practical_matters(session),
    }


def _cadres(session: Session) -> dict:
    """Accounts holding the role cadre, and their posts (干部)."""
    cadres = {"total": session.scalar(select(func.count(func.distinct(RoleGrant.account_id)))
                                      .where(RoleGrant.role == "cadre"))}
    cadres["by_post"] = _grouped(session, CadrePost.post, POSTS)
    return cadres


def _key_grids(session: Session) -> dict:
    """Live key grids held by party secretaries (重点网格), by the colour they had when assigned and have now."""
    live = KeyGrid.active.is_(True)
    now = dict(session.execute(select(Grid.colour, func.count()).join(KeyGrid, KeyGrid.grid_id == Grid.id)
                               .where(live).group_by(Grid.colour)).all())
    at = dict(session.execute(select(KeyGrid.colour_at_assignment, func.count()).where(live)
                              .group_by(KeyGrid.colour_at_assignment)).all())
    return {"total": sum(now.values()), "removed": session.scalar(select(func.count()).where(KeyGrid.active.is_(None))),
            "by_colour_now": {colour: now.get(colour, 0) for colour in ("red", "yellow", "blue")},
            "by_colour_at_assignment": {colour: at.get(colour, 0) for colour in ("red", "yellow", "blue")}}


def _practical_matters(session: Session) -> dict:
    """帮办实事 items by status."""
    matters = _grouped(session, PracticalMatter.status, MATTER_STATUSES)
    matters["total"] = sum(matters.values())
    return matters
