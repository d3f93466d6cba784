"""Administration: plugins (enable/disable with status and last error), users and roles, departments and the
regions' fallback departments (兜底)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select

from minqing import workflows
from minqing.core.models import Account, Department, Region
from minqing.workflows import fallback as fallbacks
from minqing.core.plugin_host import RequiredPlugin, UnknownPlugin

from .context import db, platform, viewer
from .permissions import roles_required

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


class ActionForm(FlaskForm):
    """Carries only the CSRF token: the action is in the URL."""


@blueprint.get("/plugins")
@roles_required("admin")
def plugins():
    return render_template("admin/plugins.html", plugins=platform().plugins.info(), form=ActionForm())


@blueprint.post("/plugins/<name>/<action>")
@roles_required("admin")
def switch_plugin(name: str, action: str):
    if action not in ("enable", "disable") or not ActionForm().validate_on_submit():
        flash("请求无效，请刷新页面后重试", "error")
        return redirect(url_for("admin.plugins"))
    try:
        platform().plugins.set_enabled(name, action == "enable", session=db(), actor=viewer())
        db().commit()
        flash(f"插件 {name} 已{'启用' if action == 'enable' else '停用'}", "info")
    except (UnknownPlugin, RequiredPlugin) as error:
        db().rollback()
        flash(str(error), "error")
    return redirect(url_for("admin.plugins"))


@blueprint.get("/users")
@roles_required("admin")
def users():
    page = max(1, request.args.get("page", 1, type=int))
    accounts = db().scalars(select(Account).order_by(Account.id).limit(100).offset((page - 1) * 100)).all()
    return render_template("admin/users.html", accounts=accounts, page=page)


@blueprint.get("/departments")
@roles_required("admin")
def departments():
    rows = db().scalars(select(Department).order_by(Department.id)).all()
    return render_template("admin/departments.html", departments=rows)


@blueprint.get("/fallbacks")
@roles_required("admin")
def fallbacks_page():
    """兜底部门: the city's and the counties' (and any other region's that has one), each with its department."""
    current = fallbacks.fallbacks(db())
    regions = db().scalars(select(Region).where((Region.level.in_(("city", "county"))) | Region.code.in_(current))
                           .order_by(Region.code)).all()
    departments = db().scalars(select(Department).where(Department.active).order_by(Department.key)).all()
    return render_template("admin/fallbacks.html", regions=regions, current=current, departments=departments,
                           form=ActionForm())


@blueprint.post("/fallbacks")
@roles_required("admin")
def save_fallback():
    if not ActionForm().validate_on_submit():
        flash("请求无效，请刷新页面后重试", "error")
        return redirect(url_for("admin.fallbacks_page"))
    code = request.form.get("region_code", "").strip()
    try:
        fallbacks.set_fallback(db(), viewer(), code, request.form.get("department", "").strip() or None)
        db().commit()
        flash("已保存兜底部门", "info")
    except workflows.FormInvalid as error:
        db().rollback()
        flash("；".join(message for messages in error.errors.values() for message in messages), "error")
    return redirect(url_for("admin.fallbacks_page"))
