"""干部职务 on the admin user page (administrators only): a cadre's post and the grids they answer for. The rules
are core.grassroots.cadres'; this module parses the form. Routes join the admin blueprint (imported by web/admin.py)."""
from __future__ import annotations

import re

from flask import flash, redirect, request, url_for
from sqlalchemy import select

from minqing.core.grassroots import cadres
from minqing.core.models import POST_TITLES, Grid, Region, Role

from .admin import blueprint
from .context import db, viewer
from .permissions import roles_required

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
            "grids": cadres.grids_of(db(), account.id), "title": cadres.title(post.post) if post else ""}


@blueprint.post("/users/<int:account_id>/cadre-post")
@roles_required("admin")
def set_cadre_post(account_id: int):
    from .admin_users import _account, _checked_form, _refused

    account = _account(account_id)
    if not _checked_form():
        return redirect(url_for("admin.user_page", account_id=account_id))
    shown = cadre_view(account)
    post, grids_text = request.form.get("post", "").strip(), request.form.get("grids", "")[:2000]
    try:
        if shown is None:
            raise cadres.CadreInvalid("post", "先授予“村、乡镇干部”角色，再设置干部职务")
        if not post:
            cadres.remove(db(), viewer(), account)
        else:
            codes = [code for code in _CODES.split(grids_text) if code]
            found = dict(db().execute(select(Grid.code, Grid.id).where(Grid.code.in_(codes))).all())
            missing = [code for code in codes if code not in found]
            if missing:
                raise cadres.CadreInvalid("grids", f"网格 {'、'.join(missing)} 不存在")
            cadres.assign(db(), viewer(), account, post=post, region_id=shown["region"].id,
                          grid_ids=list(found.values()))
        db().commit()
    except cadres.CadreInvalid as error:
        if shown is None:   # the page has no post field to show it by: say it at the top
            flash(f"干部职务：{error.message}", "error")
        return _refused(error, account, post=post, grids=grids_text)
    flash("干部职务已保存" if post else "已免去干部职务", "info")
    return redirect(url_for("admin.user_page", account_id=account_id))
