"""Cadres (干部): their post and the grids they answer for, set by the roster import and the admin user page.

    parse_post("党组织书记")                                   # → "party_secretary" (a key or a Chinese title)
    assign(session, actor, account, post="village_committee", region_id=village.id, grid_ids=[...])
    remove(session, actor, account)
    set_posts(session, {account_id: (post, region_id, grid_ids)}, dismiss=[account_id, ...])  # many at once
    post_of(session, account_id)                              # → CadrePost | None
    grid_ids_of(session, cadre_post_id)                       # → [grid id, ...]
    visitor_post(session, actor)                              # the post a visit by `actor` counts for

A cadre's role grant (`cadre`, scoped to a village or township) decides what they see (core.scope); the post says
who they are, and their grids which households they must visit (走村不漏户). Bad input raises CadreInvalid with the
field and a Chinese message, and changes nothing.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from ..accounts.scopes import CADRE_LEVELS
from ..actors import Actor
from ..changes import record_change
from ..geo.regions import prefix, within
from ..importing.kinds import chunks
from ..models import POST_TITLES, Account, CadreGrid, CadrePost, Grid, Post, Region, Role

UNASSIGNED = "cadre"   # visitor_post of a cadre whose post is not recorded yet
_BY_TEXT = {**{post.value: post.value for post in Post}, **{title: post.value for post, title in POST_TITLES.items()},
            "自然村长": Post.GROUP_LEADER.value, "村民小组长": Post.GROUP_LEADER.value, "包村干部": Post.TOWNSHIP_LIAISON.value,
            "村党组织书记": Post.PARTY_SECRETARY.value, "书记": Post.PARTY_SECRETARY.value}
POST_CHOICES = "、".join(POST_TITLES.values())


class CadreInvalid(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message
        self.errors = {field: [message]}


def parse_post(text: str) -> str:
    key = _BY_TEXT.get((text or "").strip()) or _BY_TEXT.get((text or "").strip().lower())
    if key is None:
        raise CadreInvalid("post", f"职务“{text}”无效：应为{POST_CHOICES}")
    return key


def post_of(session: Session, account_id: int | None) -> CadrePost | None:
    if account_id is None:
        return None
    return session.scalar(select(CadrePost).where(CadrePost.account_id == account_id))


def grid_ids_of(session: Session, cadre_post_id: int) -> list[int]:
    return list(session.scalars(select(CadreGrid.grid_id).where(CadreGrid.cadre_post_id == cadre_post_id)
                                .order_by(CadreGrid.grid_id)))


def grids_of(session: Session, account_id: int | None) -> list[Grid]:
    """The grids the cadre answers for, by code."""
    post = post_of(session, account_id)
    if post is None:
        return []
    return list(session.scalars(select(Grid).join(CadreGrid, CadreGrid.grid_id == Grid.id)
                                .where(CadreGrid.cadre_post_id == post.id).order_by(Grid.code)))


def check_grids(session: Session, region: Region, grid_ids: list[int]) -> None:
    """Every grid must lie in the cadre's village or township."""
    if not grid_ids:
        return
    inside = set(session.scalars(select(Grid.id).where(Grid.id.in_(grid_ids), within(Grid.region_code, region.code))))
    outside = [grid_id for grid_id in grid_ids if grid_id not in inside]
    if outside:
        codes = session.scalars(select(Grid.code).where(Grid.id.in_(outside))).all()
        raise CadreInvalid("grids", f"网格 {'、'.join(codes) or outside} 不在{region.name}（{region.code}）内")


def assign(session: Session, actor: Actor, account: Account, *, post: str, region_id: int,
           grid_ids: list[int] = (), audit: bool = True) -> CadrePost:
    """Set the account's post, region and grids (replacing what it had); recorded only when something changed
    (`audit=False`: the caller records one change for many, as the roster import does)."""
    post = parse_post(post)
    region = session.get(Region, region_id)
    if region is None or region.level not in CADRE_LEVELS:
        raise CadreInvalid("region", "干部的职务须在村(社区)或乡镇(街道)")
    grid_ids = sorted(set(grid_ids))
    check_grids(session, region, grid_ids)
    row = post_of(session, account.id)
    before = (row.post, row.region_id, grid_ids_of(session, row.id)) if row else None
    if before == (post, region_id, grid_ids):
        return row
    if row is None:
        row = CadrePost(account_id=account.id, post=post, region_id=region_id)
        session.add(row)
        session.flush()
    else:
        row.post, row.region_id = post, region_id
        session.execute(delete(CadreGrid).where(CadreGrid.cadre_post_id == row.id))
    session.add_all(CadreGrid(cadre_post_id=row.id, grid_id=grid_id) for grid_id in grid_ids)
    session.flush()
    if not audit:
        return row
    record_change(session, actor, "cadre.assign", object_type="account", object_id=account.id,
                  summary=f"干部职务：{account.display_name} 为{region.name}{POST_TITLES[post]}，包 {len(grid_ids)} 个网格",
                  details={"post": post, "region_id": region_id, "grid_ids": grid_ids,
                           "before": list(before) if before else None})
    return row


def remove(session: Session, actor: Actor, account: Account, audit: bool = True) -> bool:
    row = post_of(session, account.id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    if audit:
        record_change(session, actor, "cadre.remove", object_type="account", object_id=account.id,
                      summary=f"免去干部职务：{account.display_name}（{row.title}）")
    return True


def set_posts(session: Session, posts: dict[int, tuple[str, int, Iterable[int]]], dismiss: Iterable[int] = ()) -> int:
    """Many accounts' posts at once, as the roster import sets them: account id → (post, region id, grid ids)
    replaces what each had, as `assign` does, and the accounts in `dismiss` lose theirs, as `remove` does. The
    input is checked as `assign` checks it (CadreInvalid, nothing written); the recorded posts are read once and
    only those that differ are written, one statement per table. No audit record: the caller records one change
    for the set. Returns how many accounts' posts changed."""
    wanted = {account_id: (parse_post(post), region_id, sorted(set(grid_ids)))
              for account_id, (post, region_id, grid_ids) in posts.items()}
    _check_many(session, wanted)
    removing = [account_id for account_id in dismiss if account_id not in wanted]
    recorded: dict[int, CadrePost] = {}
    for part in chunks(sorted(set(wanted) | set(removing))):
        recorded.update((row.account_id, row) for row in session.scalars(select(CadrePost)
                                                                          .where(CadrePost.account_id.in_(part))))
    grids: dict[int, list[int]] = {}
    for part in chunks(sorted(row.id for row in recorded.values())):
        for post_id, grid_id in session.execute(select(CadreGrid.cadre_post_id, CadreGrid.grid_id)
                                                .where(CadreGrid.cadre_post_id.in_(part))
                                                .order_by(CadreGrid.cadre_post_id, CadreGrid.grid_id)):
            grids.setdefault(post_id, []).append(grid_id)
    new = [account_id for account_id in wanted if account_id not in recorded]
    changed = [recorded[account_id] for account_id, value in wanted.items() if account_id in recorded
               and (recorded[account_id].post, recorded[account_id].region_id,
                    grids.get(recorded[account_id].id, [])) != value]
    gone = [recorded[account_id].id for account_id in removing if account_id in recorded]
    for part in chunks([row.id for row in changed] + gone):   # their grids are written anew or go with them
        session.execute(delete(CadreGrid).where(CadreGrid.cadre_post_id.in_(part)))
    for part in chunks(gone):
        session.execute(delete(CadrePost).where(CadrePost.id.in_(part)))
    for row in changed:
        row.post, row.region_id = wanted[row.account_id][:2]
    post_ids = {row.account_id: row.id for row in changed}
    if new:
        ids = session.scalars(insert(CadrePost).returning(CadrePost.id, sort_by_parameter_order=True),
                              [{"account_id": account_id, "post": wanted[account_id][0],
                                "region_id": wanted[account_id][1]} for account_id in new]).all()
        post_ids.update(zip(new, ids))
    links = [{"cadre_post_id": post_id, "grid_id": grid_id} for account_id, post_id in post_ids.items()
             for grid_id in wanted[account_id][2]]
    if links:
        session.execute(insert(CadreGrid), links)
    return len(post_ids) + len(gone)


def _check_many(session: Session, wanted: dict[int, tuple[str, int, list[int]]]) -> None:
    """`assign`'s checks for many posts, a query per table: each region a village or township, each grid in it."""
    regions: dict[int, tuple[str, str, str]] = {}
    for part in chunks(sorted({region_id for _post, region_id, _grids in wanted.values()})):
        regions.update((region_id, (code, level, name)) for region_id, code, level, name in session.execute(
            select(Region.id, Region.code, Region.level, Region.name).where(Region.id.in_(part))))
    grid_codes: dict[int, tuple[str, str]] = {}
    for part in chunks(sorted({grid_id for _post, _region, grid_ids in wanted.values() for grid_id in grid_ids})):
        grid_codes.update((grid_id, (code, region_code)) for grid_id, code, region_code in session.execute(
            select(Grid.id, Grid.code, Grid.region_code).where(Grid.id.in_(part))))
    for _post, region_id, grid_ids in wanted.values():
        region = regions.get(region_id)
        if region is None or region[1] not in CADRE_LEVELS:
            raise CadreInvalid("region", "干部的职务须在村(社区)或乡镇(街道)")
        outside = [grid_id for grid_id in grid_ids if grid_id not in grid_codes
                   or not prefix(grid_codes[grid_id][1]).startswith(prefix(region[0]))]
        if outside:
            codes = [grid_codes[grid_id][0] for grid_id in outside if grid_id in grid_codes]
            raise CadreInvalid("grids", f"网格 {'、'.join(codes) or outside} 不在{region[2]}（{region[0]}）内")


def visitor_post(session: Session, actor: Actor) -> str | None:
    """The post a visit by `actor` counts for (户户见干部): their post, `cadre` if not recorded; None when the
    actor is not a cadre."""
    if not actor.has_role(Role.CADRE):
        return None
    row = post_of(session, actor.account_id)
    return row.post if row else UNASSIGNED
