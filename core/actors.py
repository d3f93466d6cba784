"""Who is acting: an account with its role grants resolved to codes, plus where the request came from.

Every change of state and every scoped query takes an Actor, so the same rules apply to pages, the API, the
command line and background tasks.
"""
from __future__ import annotations

import dataclasses
import functools

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Account, Department, Grid, Region, Role, RoleGrant


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
    """Resolve an account's grants to the codes that scope filters compare against: one query (every request
    that carries an API key or a signed-in session asks this)."""
    rows = session.execute(
        select(RoleGrant.role, RoleGrant.department_id, RoleGrant.grid_id, Region.code.label("region_code"),
               Department.key.label("department_key"), Grid.code.label("grid_code"))
        .outerjoin(Region, Region.id == RoleGrant.region_id)
        .outerjoin(Department, Department.id == RoleGrant.department_id)
        .outerjoin(Grid, Grid.id == RoleGrant.grid_id)
        .where(RoleGrant.account_id == account.id).order_by(RoleGrant.id))
    grants = tuple(Grant(role=row.role, region_code=row.region_code or None, department_id=row.department_id,
                         department_key=row.department_key or None, grid_id=row.grid_id,
                         grid_code=row.grid_code or None) for row in rows)
    return Actor(account_id=account.id, name=account.display_name, grants=grants, origin=origin)
