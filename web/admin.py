"""Administration: plugins (enable/disable with status and last error), users and roles, departments and the
regions' fallback departments (兜底)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select

from minqing import workflows
from minqing.core import departments as department_rules
from minqing.core.models import Department, Region
from minqing.workflows import fallback as fallbacks
from minqing.core.hooks import HOOK_TITLES
from minqing.core.pluginhost.host import RequiredPlugin, UnknownPlugin

from .context import db, platform, viewer
from .permissions import roles_required

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


class ActionForm(FlaskForm):
    """Carries only the CSRF token: the action is in the URL."""


@blueprint.get("/plugins")
@roles_required("admin")
def plugins():
    return render_template("admin/plugins.html", plugins=platform().plugins.info(), form=ActionForm(),
                           hook_titles=HOOK_TITLES)


def _themes_of(plugin_name: str) -> list:
    """The business themes a plugin provides (what leaves the map when it is disabled)."""
    from minqing import themes

    return sorted((theme for theme in themes.registry(platform(), db()).themes.values()
                   if theme.plugin == plugin_name), key=lambda theme: theme.key)


@blueprint.post("/plugins/<name>/<action>")
@roles_required("admin")
def switch_plugin(name: str, action: str):
    if action not in ("enable", "disable") or not ActionForm().validate_on_submit():
        flash("请求无效，请刷新页面后重试", "error")
        return redirect(url_for("admin.plugins"))
    if action == "disable" and request.form.get("confirm") != "yes":
        # Disabling takes a department's themes off the map and its hooks out of every process at once: say so
        # and ask again (publishing a theme asks too).
        info = next((item for item in platform().plugins.info() if item.name == name), None)
        if info is None:
            flash(f"没有名为“{name}”的插件", "error")
            return redirect(url_for("admin.plugins"))
        return render_template("admin/plugin_disable.html", plugin=info, form=ActionForm(),
                               themes=_themes_of(name))
    try:
        platform().plugins.set_enabled(name, action == "enable", session=db(), actor=viewer())
        db().commit()
        if action == "enable":  # the plugin's departments reach the table now, not at the next demo build
            added = department_rules.sync_departments(db(), platform().plugins, viewer())
            db().commit()
            if added:
                flash(f"新增职能部门：{'、'.join(added)}", "info")
        flash(f"插件 {name} 已{'启用' if action == 'enable' else '停用'}", "info")
    except (UnknownPlugin, RequiredPlugin) as error:
        db().rollback()
        flash(str(error), "error")
    return redirect(url_for("admin.plugins"))


def _departments_page(errors=None, values=None, status: int = 200):
    rows = db().scalars(select(Department).order_by(Department.id)).all()
    names = {row.id: row.short_name for row in rows}
    regions = dict(db().execute(select(Region.id, Region.name).where(
        Region.id.in_({row.region_id for row in rows if row.region_id}))).all())
    return render_template("admin/departments.html", departments=rows, names=names, regions=regions,
                           kinds=department_rules.KINDS, form=ActionForm(), errors=errors or {},
                           values=values or {}), status


@blueprint.get("/departments")
@roles_required("admin")
def departments():
    return _departments_page()


DEPARTMENT_FIELDS = ("name", "short_name", "parent", "region")


@blueprint.post("/departments")
@roles_required("admin")
def add_department():
    """A city or county department by hand: name, short name, parent department and the region it serves."""
    if not ActionForm().validate_on_submit():
        flash("请求无效，请刷新页面后重试", "error")
        return redirect(url_for("admin.departments"))
    values = {field: request.form.get(field, "")[:200] for field in (*DEPARTMENT_FIELDS, "key", "kind")}
    try:
        department = department_rules.add(db(), viewer(), **values)
        db().commit()
    except department_rules.DepartmentInvalid as error:
        db().rollback()
        return _departments_page(error.errors, values, 400)
    flash(f"已新增职能部门 {department.name}（标识 {department.key}）", "info")
    return redirect(url_for("admin.departments"))


def _department(department_id: int) -> Department:
    department = db().get(Department, department_id)
    if department is None:
        abort(404)
    return department


def _department_form_values(department: Department) -> dict:
    parent = department.parent_id and db().get(Department, department.parent_id)
    region = department.region_id and db().get(Region, department.region_id)
    return {"name": department.name, "short_name": department.short_name,
            "parent": f"{parent.name}（{parent.key}）" if parent else "",
            "region": f"{region.name}（{region.code}）" if region else "", "active": department.active}


@blueprint.route("/departments/<int:department_id>", methods=["GET", "POST"])
@roles_required("admin")
def department_page(department_id: int):
    department = _department(department_id)
    values, errors = _department_form_values(department), {}
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            flash("请求无效，请刷新页面后重试", "error")
            return redirect(url_for("admin.department_page", department_id=department_id))
        values = {field: request.form.get(field, "")[:200] for field in DEPARTMENT_FIELDS}
        values["active"] = request.form.get("active") == "1"
        try:
            department_rules.update(db(), viewer(), department, **values)
            db().commit()
        except department_rules.DepartmentInvalid as error:
            db().rollback()
            errors = error.errors
        else:
            flash("已保存", "info")
            return redirect(url_for("admin.departments"))
    status = 400 if errors else 200
    return render_template("admin/department.html", department=department, values=values, errors=errors,
                           form=ActionForm()), status


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


from . import admin_users  # noqa: E402,F401  (用户与角色: routes join this blueprint)
