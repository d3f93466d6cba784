"""Who is acting: an account with its role grants resolved to codes, plus where the request came from.

Every change of state and every scoped query takes an Actor, so the same rules apply to pages, the API, the
command line and background tasks.
"""
from __future__ import annotations

import dataclasses
import functools

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Account, Department, Grid, Region, Role


@dataclasses.dataclass(frozen=True)
class Grant:
    role: str
    region_code: str | None = None
    department_id: int | None = None
    department_key: str | None = None
    grid_id: int | None = None
    grid_code: str | None = None


@dataclasses.dataclass(frozen=True)
class Actor:
    account_id: int | None
    name: str
    grants: tuple[Grant, ...] = ()
    origin: str = ""

    @functools.cached_property
    def roles(self) -> frozenset[str]:
        # asked for every masked value (ten per feature on a map page): worked out once per actor
        return frozenset(grant.role for grant in self.grants)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def grants_of(self, role: str) -> list[Grant]:
        return [grant for grant in self.grants if grant.role == role]

    def with_origin(self, origin: str) -> Actor:
        return dataclasses.replace(self, origin=origin)


def system_actor(origin: str = "system") -> Actor:
    """The platform itself (scheduled sweeps, the demo builder): may do anything, and is recorded as 系统."""
    return Actor(account_id=None, name="系统", grants=(Grant(role=Role.ADMIN),), origin=origin)


def actor_for(session: Session, account: Account, origin: str = "") -> Actor:
    """Resolve an account's grants to the codes that scope filters compare against."""
    grants = []
    for grant in account.grants:
        region_code = grant.region_id and session.scalar(select(Region.code).where(Region.id == grant.region_id))
        department_key = grant.department_id and session.scalar(
            select(Department.key).where(Department.id == grant.department_id))
        grid_code = grant.grid_id and session.scalar(select(Grid.code).where(Grid.id == grant.grid_id))
        grants.append(Grant(role=grant.role, region_code=region_code or None, department_id=grant.department_id,
                            department_key=department_key or None, grid_id=grant.grid_id,
                            grid_code=grid_code or None))
    return Actor(account_id=account.id, name=account.display_name, grants=tuple(grants), origin=origin)
