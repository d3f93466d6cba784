"""干部职务 on the admin user page (administrators only): a cadre's post and the grids they answer for. The rules
are core.grassroots.cadres'; this module shapes them for the page and reads the form's grid codes. The route is the
user page's (web/admin_users.py)."""
from __future__ import annotations

import re

from sqlalchemy import select

from minqing.core.grassroots import cadres
from minqing.core.models import POST_TITLES, Grid, Region, Role

from .context import db, viewer

_CODES = re.compile(r"[;；,，、\s]+")


def cadre_view(account) -> dict | None:
    """What the user page shows of a cadre: None for an account without the cadre role."""
    regions = [grant.region_id for grant in account.grants if grant.role == Role.CADRE and grant.region_id]
    if not regions:
        return None
    post = cadres.post_of(db(), account.id)
    region_id = post.region_id if post else regions[0]
    region = db().get(Region, region_id)
    return {"post": post, "titles": POST_TITLES, "region": region,
            "grids": cadres.grids_of(db(), account.id), "title": post.title if post else ""}


def save_post(account, post: str, grids_text: str) -> None:
    """Set (or, with no post, remove) the cadre's post and the grids given by their codes; CadreInvalid names the
    field that is wrong. The caller commits, or rolls back on CadreInvalid."""
    shown = cadre_view(account)
    if shown is None:
        raise cadres.CadreInvalid("post", "先授予“村、乡镇干部”角色，再设置干部职务")
    if not post:
        cadres.remove(db(), viewer(), account)
        return
    codes = [code for code in _CODES.split(grids_text) if code]
    found = dict(db().execute(select(Grid.code, Grid.id).where(Grid.code.in_(codes))).all())
    missing = [code for code in codes if code not in found]
    if missing:
        raise cadres.CadreInvalid("grids", f"网格 {'、'.join(missing)} 不存在")
    cadres.assign(db(), viewer(), account, post=post, region_id=shown["region"].id, grid_ids=list(found.values()))
