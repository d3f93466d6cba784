"""Early warnings (预警) from the rule plugins: the list of a rule's active warnings, page by page; acknowledge one,
turn one into a case, the GeoJSON of the current located warnings; and, for administrators, refreshing the stored
warnings now and each rule's settings."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from minqing import workflows
from minqing.core.geo import features as geofeatures
from minqing.core import warning_rules
from minqing.workflows import warning_cases

from ..context import db, platform, viewer
from ..geo_paging import geojson_response
from ..permissions import roles_required
from ..work.common import theme_titles
from . import blueprint

HANDLERS = ("admin", "operator")
READERS = ("admin", "operator", "leader")
PAGE_SIZE = 50


class ActionForm(FlaskForm):
    """Carries only the CSRF token: the rule is in the URL, the warning's key in the form."""


def _back():
    """Back to the warnings page the form was on (its own path and query), else to the dashboard."""
    back = request.form.get("back", "")
    if back.startswith(url_for("manage.warnings_page")) and "//" not in back:
        return redirect(back)
    return redirect(url_for("manage.dashboard") + "#active-warnings")


@blueprint.get("/warnings")
@roles_required(*READERS)
def warnings_page():
    """Every rule's count of active warnings, and one rule's warnings a page at a time (`?rule=`, `?page=`)."""
    session, who = db(), viewer()
    shown = warning_rules.overview(platform(), session, who, limit=0)
    chosen = request.args.get("rule") or next((item.rule["key"] for item in shown if item.total), "")
    number = max(1, min(request.args.get("page", 1, type=int), 100_000))
    listed = warning_rules.page(platform(), session, who, chosen, number, PAGE_SIZE) if chosen else None
    session.commit()   # an on-demand evaluation (a rule never evaluated, or too long ago) is stored
    return render_template("manage/warnings.html", rules=shown, listed=listed, page=number, page_size=PAGE_SIZE,
                           evaluated_at=warning_rules.last_evaluated(shown), warning_form=ActionForm(),
                           severity_titles=warning_rules.SEVERITY_TITLES, theme_titles=theme_titles())


@blueprint.post("/warnings/refresh")
@roles_required("admin")
def refresh_warnings():
    """立即刷新: evaluate every rule now instead of at the scheduler's next round."""
    if not ActionForm().validate_on_submit():
        flash("请求无效，请刷新页面后重试", "error")
        return redirect(url_for("manage.warnings_page"))
    done = warning_rules.refresh(platform(), viewer())
    failed = [key for key, item in done.items() if "error" in item]
    total = sum(item.get("warnings", 0) for item in done.values())
    flash(f"预警已刷新：{len(done)} 条规则，共 {total} 条预警" + (f"；{len(failed)} 条规则评估失败"
                                                            if failed else ""), "error" if failed else "info")
    return redirect(url_for("manage.warnings_page"))


@blueprint.post("/warnings/<name>/acknowledge")
@roles_required(*HANDLERS)
def acknowledge_warning(name: str):
    if not ActionForm().validate_on_submit():
        flash("请求无效，请刷新页面后重试", "error")
        return _back()
    try:
        warning_rules.acknowledge(platform(), db(), viewer(), name, request.form.get("key", ""),
                                  comment=request.form.get("comment", "")[:500])
        db().commit()
        flash("预警已确认", "info")
    except warning_rules.WarningNotFound:
        db().rollback()
        flash("没有这条预警：它可能已处理，或不在您的管辖范围内", "error")
    return _back()


@blueprint.post("/warnings/<name>/case")
@roles_required(*HANDLERS)
def warning_to_case(name: str):
    if not ActionForm().validate_on_submit():
        flash("请求无效，请刷新页面后重试", "error")
        return _back()
    try:
        case = warning_cases.turn_into_case(platform(), db(), viewer(), name, request.form.get("key", ""),
                                            theme_key=request.form.get("theme_key", ""))
        db().commit()
    except warning_rules.WarningNotFound:
        db().rollback()
        flash("没有这条预警：它可能已处理，或不在您的管辖范围内", "error")
        return _back()
    except workflows.FormInvalid as error:
        db().rollback()
        flash(error.message + "：" + "；".join(m for messages in error.errors.values() for m in messages), "error")
        return _back()
    except workflows.WorkflowError as error:
        db().rollback()
        flash(error.message, "error")
        return _back()
    flash(f"预警已转为事件 #{case.id}", "info")
    return redirect(url_for("work.case_page", case_id=case.id))


@blueprint.get("/warnings.geojson")
@roles_required(*READERS)
def warnings_geojson():
    session = db()
    found = [warning for rule in warning_rules.rules(platform(), session).values()
             for warning in warning_rules.current(session, viewer(), rule, located=True)]
    session.commit()   # an on-demand evaluation is stored
    return geojson_response(geofeatures.feature_collection(warning_rules.geojson_features(found)))


@blueprint.get("/warning-rules")
@roles_required("admin")
def warning_rule_settings():
    return _settings_page({}, 200)


def _settings_page(errors: dict, status: int, submitted: dict | None = None):
    session = db()
    shown = [(rule, {**warning_rules.settings_of(session, rule), **(submitted or {}).get(rule["key"], {})})
             for rule in warning_rule_list()]
    return render_template("manage/warning_rules.html", rules=shown, errors=errors, form=ActionForm(),
                           history=warning_rules.history(session, viewer())), status


def warning_rule_list() -> list[dict]:
    return list(warning_rules.rules(platform(), db()).values())


def _typed(schema: dict, raw: str):
    """A form value as its schema's type; left as text when it does not parse (the schema then says why)."""
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
    except ValueError:
        return raw
    return raw


@blueprint.post("/warning-rules/<name>")
@roles_required("admin")
def save_warning_rule(name: str):
    rule = warning_rules.rules(platform(), db()).get(name)
    if rule is None:
        flash(f"没有预警规则 {name}（其插件可能已停用）", "error")
        return redirect(url_for("manage.warning_rule_settings"))
    if not ActionForm().validate_on_submit():
        flash("请求无效，请刷新页面后重试", "error")
        return redirect(url_for("manage.warning_rule_settings"))
    properties = rule["schema"].get("properties", {})
    values = {name: _typed(schema, request.form[name].strip()) for name, schema in properties.items()
              if name in request.form}
    try:
        warning_rules.save_settings(db(), viewer(), rule, values)
        db().commit()
    except warning_rules.SettingsInvalid as error:
        db().rollback()
        flash("设置有误：" + "；".join(m for messages in error.errors.values() for m in messages), "error")
        return _settings_page({name: error.errors}, 400, {name: values})
    flash(f"预警规则「{rule['title']}」的设置已保存", "info")
    return redirect(url_for("manage.warning_rule_settings"))
