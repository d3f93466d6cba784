"""重点网格: small red or yellow grids held by party secretaries (党组织书记包抓重点网格).

One service per action — `assign` and `remove` — each checking role, scope and the rules, and recording the change
in the caller's transaction; `key_grids_for` lists the live key grids a viewer may see, with their holder, the open
cases in the grid and the colour trend since assignment.

Rules:
- only a small grid that is red or yellow may be assigned (a blue one is refused), to an active account holding
  the role `cadre` with the post 党组织书记 whose post region contains the grid;
- administrators and operators assign and remove, operators within their region;
- the assignment stays until removed: a grid that turns blue stays a key grid, shown as improved. No colour
  history is stored for grids, so the grid's colour at assignment is kept on the assignment and the trend is that
  colour → the grid's colour now.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import scope
from ..actors import Actor
from ..changes import record_change
from ..geo.regions import SIGNIFICANT
from ..models import (Account, CadrePost, Case, Grid, GridColour, GridLevel, KeyGrid, Post, Region, Role, RoleGrant,
                     utcnow)

ASSIGNERS = (Role.ADMIN, Role.OPERATOR)
RISK = {GridColour.RED: 2, GridColour.YELLOW: 1, GridColour.BLUE: 0}
COLOUR_TITLES = {GridColour.RED: "红", GridColour.YELLOW: "黄", GridColour.BLUE: "蓝"}
TREND_TITLES = {"improved": "好转", "same": "持平", "worse": "恶化"}
FINAL_CASE_STATUSES = ("closed", "voided")
MIN_REASON = 2


class KeyGridRefused(ValueError):
    """A refused assignment or removal; the message is Chinese and names the field."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message, self.field = message, field


@dataclasses.dataclass(frozen=True)
class KeyGridRow:
    id: int
    grid_id: int
    grid_code: str
    grid_name: str
    region_code: str
    holder_account_id: int
    holder_name: str
    colour_at_assignment: str
    colour_now: str
    trend: str               # improved | same | worse
    assigned_at: dt.datetime
    open_cases: int

    @property
    def trend_title(self) -> str:
        return TREND_TITLES[self.trend]

    @property
    def colour_change(self) -> str:
        return f"{COLOUR_TITLES.get(self.colour_at_assignment, '')} → {COLOUR_TITLES.get(self.colour_now, '')}"


def trend(colour_at_assignment: str, colour_now: str) -> str:
    """improved (less risk than at assignment), same, or worse."""
    before, after = RISK.get(colour_at_assignment, 0), RISK.get(colour_now, 0)
    return "improved" if after < before else "worse" if after > before else "same"


def _require_assigner(actor: Actor) -> None:
    if not actor.has_role(*ASSIGNERS):
        raise KeyGridRefused("只有系统管理员和指挥中心人员可以设定或解除重点网格")


def _grid_in_scope(session: Session, actor: Actor, grid_id: int | None) -> Grid:
    grid = grid_id and session.scalar(scope.restrict(select(Grid).where(Grid.id == grid_id), Grid, actor))
    if not grid:
        raise KeyGridRefused("网格：不存在或不在您的管辖范围内", "grid_id")
    return grid


def is_party_secretary(session: Session, account_id: int) -> bool:
    """An active account with the role cadre and the post 党组织书记."""
    return session.scalar(
        select(func.count()).select_from(Account).join(CadrePost, CadrePost.account_id == Account.id)
        .where(Account.id == account_id, Account.is_active.is_(True), CadrePost.post == Post.PARTY_SECRETARY,
               Account.id.in_(select(RoleGrant.account_id).where(RoleGrant.role == Role.CADRE)))) > 0


def _ancestor_codes(code: str) -> list[str]:
    """The codes of the regions at or above the region `code` (city, county, township, village, itself)."""
    codes = {code[:digits].ljust(12, "0") for level, digits in SIGNIFICANT.items() if digits <= len(code)}
    return sorted(codes | {code})


def party_secretaries(session: Session, *, grid: Grid | None = None, viewer: Actor | None = None,
                      limit: int | None = None) -> list[tuple[int, str, str]]:
    """(account id, name, post region name) of the party secretaries who may hold a key grid — active accounts
    with the role cadre and the post 党组织书记 —: of `grid`, those whose post region contains the grid's region;
    for `viewer`, those whose post region is within the viewer's scope. One query."""
    statement = (select(Account.id, Account.display_name, Region.name)
                 .join(CadrePost, CadrePost.account_id == Account.id).join(Region, Region.id == CadrePost.region_id)
                 .where(Account.is_active.is_(True), CadrePost.post == Post.PARTY_SECRETARY,
                        Account.id.in_(select(RoleGrant.account_id).where(RoleGrant.role == Role.CADRE))))
    if grid is not None:
        statement = statement.where(Region.code.in_(_ancestor_codes(grid.region_code)))
    if viewer is not None:
        statement = statement.where(CadrePost.region_id.in_(scope.restrict(select(Region.id), Region, viewer)))
    statement = statement.order_by(Region.code, Account.display_name)
    return [tuple(row) for row in session.execute(statement.limit(limit) if limit else statement)]


def _check_holder(session: Session, grid: Grid, holder_account_id: int | None) -> Account:
    holder = holder_account_id and session.get(Account, holder_account_id)
    if holder and holder.id in {account_id for account_id, _, _ in party_secretaries(session, grid=grid)}:
        return holder
    if not holder or not is_party_secretary(session, holder.id):
        raise KeyGridRefused("包抓人：必须是在职的党组织书记（干部岗位为党组织书记）", "holder_account_id")
    raise KeyGridRefused("包抓人：不是该网格所在村（社区）或乡镇（街道）的党组织书记", "holder_account_id")


def live_key_grid(session: Session, grid_id: int) -> KeyGrid | None:
    return session.scalar(select(KeyGrid).where(KeyGrid.grid_id == grid_id, KeyGrid.active.is_(True)))


def assign(session: Session, actor: Actor, *, grid_id: int | None, holder_account_id: int | None, note: str = "",
           now: dt.datetime | None = None) -> KeyGrid:
    """Make a small red or yellow grid a key grid held by a party secretary (包抓)."""
    _require_assigner(actor)
    grid = _grid_in_scope(session, actor, grid_id)
    if grid.level != GridLevel.SMALL:
        raise KeyGridRefused("网格：只有小网格可以设为重点网格", "grid_id")
    if grid.colour == GridColour.BLUE:
        raise KeyGridRefused("网格：蓝色网格不能设为重点网格，只有红色或黄色网格可由党组织书记包抓", "grid_id")
    if live := live_key_grid(session, grid.id):
        holder = session.get(Account, live.holder_account_id)
        raise KeyGridRefused(f"网格：已是重点网格，由{holder.display_name if holder else '他人'}包抓；如需更换请先解除",
                             "grid_id")
    holder = _check_holder(session, grid, holder_account_id)
    key_grid = KeyGrid(grid_id=grid.id, region_code=grid.region_code, holder_account_id=holder.id,
                       colour_at_assignment=grid.colour, assigned_at=now or utcnow(),
                       assigned_by_account_id=actor.account_id, note=(note or "").strip()[:2000])
    session.add(key_grid)
    session.flush()
    record_change(session, actor, "key_grid.assign", object_type="grid", object_id=grid.id,
                  summary=f"{grid.name}设为重点网格，由{holder.display_name}包抓（当前{COLOUR_TITLES[grid.colour]}色）",
                  details={"key_grid_id": key_grid.id, "holder_account_id": holder.id, "colour": grid.colour},
                  at=key_grid.assigned_at)
    return key_grid


def remove(session: Session, actor: Actor, *, key_grid_id: int | None, reason: str,
           now: dt.datetime | None = None) -> KeyGrid:
    """End an assignment: the grid is no longer a key grid (its history stays)."""
    _require_assigner(actor)
    key_grid = key_grid_id and session.get(KeyGrid, key_grid_id)
    if not key_grid or not key_grid.active:
        raise KeyGridRefused("重点网格：不存在或已解除", "key_grid_id")
    grid = _grid_in_scope(session, actor, key_grid.grid_id)
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise KeyGridRefused(f"解除原因：请至少填写{MIN_REASON}个字", "reason")
    key_grid.active, key_grid.removed_at = None, now or utcnow()
    key_grid.removed_by_account_id, key_grid.removal_reason = actor.account_id, reason[:2000]
    record_change(session, actor, "key_grid.remove", object_type="grid", object_id=grid.id,
                  summary=f"{grid.name}解除重点网格：{reason[:200]}", details={"key_grid_id": key_grid.id},
                  at=key_grid.removed_at)
    return key_grid


def key_grids_for(session: Session, viewer: Actor, *, holder_account_id: int | None = None,
                  limit: int | None = None) -> list[KeyGridRow]:
    """The live key grids within the viewer's scope (or held by `holder_account_id`), most at risk first."""
    live = select(KeyGrid.grid_id).where(KeyGrid.active.is_(True))
    open_cases = (select(Case.grid_id, func.count().label("open"))
                  .where(Case.status.not_in(FINAL_CASE_STATUSES), Case.grid_id.in_(live))
                  .group_by(Case.grid_id).subquery())
    # columns, not KeyGrid entities: a city's thousand key grids loaded as ORM objects cost more than the query
    statement = (select(KeyGrid.id, KeyGrid.grid_id, KeyGrid.region_code, KeyGrid.holder_account_id,
                        KeyGrid.colour_at_assignment, KeyGrid.assigned_at, Grid.code, Grid.name, Grid.colour,
                        Account.display_name, func.coalesce(open_cases.c.open, 0).label("open"))
                 .join(Grid, Grid.id == KeyGrid.grid_id).join(Account, Account.id == KeyGrid.holder_account_id)
                 .outerjoin(open_cases, open_cases.c.grid_id == KeyGrid.grid_id)
                 .where(KeyGrid.active.is_(True)))
    if holder_account_id is not None:
        statement = statement.where(KeyGrid.holder_account_id == holder_account_id)
    else:
        statement = scope.restrict(statement, Grid, viewer)
    statement = statement.order_by(Grid.code)
    rows = [KeyGridRow(id=key_id, grid_id=grid_id, grid_code=code, grid_name=name, region_code=region_code,
                       holder_account_id=holder_id, holder_name=holder, colour_at_assignment=before,
                       colour_now=colour, trend=trend(before, colour), assigned_at=assigned_at, open_cases=count)
            for key_id, grid_id, region_code, holder_id, before, assigned_at, code, name, colour, holder, count
            in session.execute(statement)]
    rows.sort(key=lambda row: (-RISK.get(row.colour_now, 0), -row.open_cases, row.grid_code))
    return rows[:limit] if limit else rows


def candidates(session: Session, viewer: Actor, *, limit: int = 200) -> list[Grid]:
    """Small red or yellow grids in the viewer's scope that are not key grids yet (for the assignment form)."""
    live = select(KeyGrid.grid_id).where(KeyGrid.active.is_(True))
    return list(session.scalars(scope.restrict(
        select(Grid).where(Grid.level == GridLevel.SMALL, Grid.colour.in_((GridColour.RED, GridColour.YELLOW)),
                           Grid.id.not_in(live)).order_by(Grid.code).limit(limit), Grid, viewer)))


__all__ = ["KeyGridRefused", "KeyGridRow", "assign", "candidates", "is_party_secretary",
           "key_grids_for", "live_key_grid", "party_secretaries", "remove", "trend"]
