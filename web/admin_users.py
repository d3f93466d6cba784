"""用户与角色 (administrators only): create, edit, deactivate and reactivate staff accounts; grant and revoke roles
with their scope, one by one or by a post's template; reset a password or the second factor, or give out a
one-time code. The rules are core.accounts'; this module parses forms and shows pages. Routes join the admin
blueprint (imported by web/admin.py)."""
from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for

from minqing.core.accounts import manage as accounts, codes as accounts_codes, totp
from minqing.core.accounts import scopes
from minqing.core.grassroots import cadres

from .admin import ActionForm, blueprint
from .admin_cadres import cadre_view, save_post
from .context import db, viewer
from .permissions import roles_required

PER_PAGE = 100


def _account(account_id: int):
    account = accounts.find(db(), account_id)
    if account is None:
        abort(404)
    return account


def _refused(error, account=None, status: int = 400, **form_values):
    """Bad input changes nothing: roll back, then show the page again with what is wrong per field."""
    db().rollback()
    if account is None:
        return _users_page(errors=error.errors, values=form_values, status=status)
    return _user_page(account, errors=error.errors, values=form_values, status=status)


def _users_page(errors=None, values=None, status: int = 200):
    page = max(1, request.args.get("page", 1, type=int))
    query = request.args.get("q", "").strip()[:50]
    rows = accounts.listing(db(), query=query, page=page, per_page=PER_PAGE)
    labels = scopes.scope_labels(db(), [grant for account in rows for grant in account.grants])
    return render_template("admin/users.html", accounts=rows, labels=labels, page=page, q=query,
                           per_page=PER_PAGE, form=ActionForm(), errors=errors or {}, values=values or {}), status


def _user_page(account, errors=None, values=None, code: str | None = None, status: int = 200):
    return render_template("admin/user.html", account=account, labels=scopes.scope_labels(db(), account.grants),
                           roles=scopes.ROLE_TITLES, scope_kinds=scopes.SCOPE_KIND, kind_titles=scopes.KIND_TITLES,
                           staff_roles=scopes.STAFF_ROLES, templates=scopes.TEMPLATES.values(),
                           totp_enabled=totp.is_enabled(account), form=ActionForm(), errors=errors or {},
                           values=values or {}, code=code, code_days=accounts_codes.LIFETIME["admin"].days,
                           cadre=cadre_view(account)), status


def _checked_form() -> bool:
    if ActionForm().validate_on_submit():
        return True
    flash("请求无效，请刷新页面后重试", "error")
    return False


@blueprint.get("/users")
@roles_required("admin")
def users():
    return _users_page()


@blueprint.post("/users")
@roles_required("admin")
def create_user():
    if not _checked_form():
        return redirect(url_for("admin.users"))
    values = {name: request.form.get(name, "") for name in ("username", "display_name", "phone")}
    try:
        account = accounts.create(db(), viewer(), **values)
        db().commit()
    except accounts.AccountInvalid as error:
        return _refused(error, **values)
    flash(f"已新建账号 {account.username}；请授予角色，并告知本人用验证码首次登录设置密码", "info")
    return redirect(url_for("admin.user_page", account_id=account.id))


@blueprint.get("/users/<int:account_id>")
@roles_required("admin")
def user_page(account_id: int):
    return _user_page(_account(account_id))


@blueprint.post("/users/<int:account_id>/edit")
@roles_required("admin")
def edit_user(account_id: int):
    account = _account(account_id)
    if not _checked_form():
        return redirect(url_for("admin.user_page", account_id=account_id))
    values = {name: request.form.get(name, "") for name in ("display_name", "phone")}
    try:
        accounts.update(db(), viewer(), account, **values)
        db().commit()
    except accounts.AccountInvalid as error:
        return _refused(error, account, **values)
    flash("已保存", "info")
    return redirect(url_for("admin.user_page", account_id=account_id))


@blueprint.post("/users/<int:account_id>/active")
@roles_required("admin")
def set_user_active(account_id: int):
    account = _account(account_id)
    if not _checked_form():
        return redirect(url_for("admin.user_page", account_id=account_id))
    active = request.form.get("active") == "1"
    try:
        accounts.set_active(db(), viewer(), account, active)
        db().commit()
    except accounts.AccountInvalid as error:
        return _refused(error, account)
    flash(f"账号已{'启用' if active else '停用'}", "info")
    return redirect(url_for("admin.user_page", account_id=account_id))


@blueprint.post("/users/<int:account_id>/grants")
@roles_required("admin")
def add_grant(account_id: int):
    """A role with its scope, or a post's template (岗位模板) that sets the grants it needs."""
    account = _account(account_id)
    if not _checked_form():
        return redirect(url_for("admin.user_page", account_id=account_id))
    template, role = request.form.get("template", "").strip(), request.form.get("role", "").strip()
    scope = request.form.get("scope", "")[:200]
    try:
        if template:
            accounts.apply_template(db(), viewer(), account, template, scope)
        else:
            accounts.grant(db(), viewer(), account, role, scope)
        db().commit()
    except accounts.AccountInvalid as error:
        return _refused(error, account, template=template, role=role, scope=scope)
    flash("已授权", "info")
    return redirect(url_for("admin.user_page", account_id=account_id))


@blueprint.post("/users/<int:account_id>/grants/<int:grant_id>/revoke")
@roles_required("admin")
def revoke_grant(account_id: int, grant_id: int):
    account = _account(account_id)
    if not _checked_form():
        return redirect(url_for("admin.user_page", account_id=account_id))
    try:
        accounts.revoke(db(), viewer(), account, grant_id)
        db().commit()
    except accounts.AccountInvalid as error:
        return _refused(error, account)
    flash("已收回授权", "info")
    return redirect(url_for("admin.user_page", account_id=account_id))


@blueprint.post("/users/<int:account_id>/password-reset")
@roles_required("admin")
def reset_user_password(account_id: int):
    account = _account(account_id)
    if _checked_form():
        accounts.reset_password(db(), viewer(), account)
        db().commit()
        flash("密码已重置：该账号下次登录须用验证码（短信或下方生成的验证码）登录并设置新密码", "info")
    return redirect(url_for("admin.user_page", account_id=account_id))


@blueprint.post("/users/<int:account_id>/code")
@roles_required("admin")
def issue_user_code(account_id: int):
    """A one-time code to hand over in person or by phone: shown on this answer only, never stored in clear."""
    account = _account(account_id)
    if not _checked_form():
        return redirect(url_for("admin.user_page", account_id=account_id))
    try:
        code = accounts_codes.give_out(db(), viewer(), account)
    except accounts_codes.CodeRefused as error:
        db().rollback()
        flash(error.message, "error")
        return redirect(url_for("admin.user_page", account_id=account_id))
    db().commit()
    return _user_page(account, code=code)


@blueprint.post("/users/<int:account_id>/totp-reset")
@roles_required("admin")
def reset_user_totp(account_id: int):
    account = _account(account_id)
    if _checked_form():
        had = accounts.reset_totp(db(), viewer(), account)
        db().commit()
        flash("已重置动态口令，该账号下次登录时需重新绑定" if had else "该账号未绑定动态口令", "info")
    return redirect(url_for("admin.user_page", account_id=account_id))


@blueprint.post("/users/<int:account_id>/cadre-post")
@roles_required("admin")
def set_cadre_post(account_id: int):
    account = _account(account_id)
    if not _checked_form():
        return redirect(url_for("admin.user_page", account_id=account_id))
    post, grids_text = request.form.get("post", "").strip(), request.form.get("grids", "")[:2000]
    try:
        save_post(account, post, grids_text)
        db().commit()
    except cadres.CadreInvalid as error:
        if cadre_view(account) is None:   # the page has no post field to show it by: say it at the top
            flash(f"干部职务：{error.message}", "error")
        return _refused(error, account, post=post, grids=grids_text)
    flash("干部职务已保存" if post else "已免去干部职务", "info")
    return redirect(url_for("admin.user_page", account_id=account_id))


@blueprint.get("/scopes")
@roles_required("admin")
def scope_options():
    """The scope pickers' suggestions: {"options": ["永昌路第1网格（G620102001001001）", ...]}."""
    kind = request.args.get("kind", "")
    if kind not in scopes.KIND_TITLES:
        return jsonify({"options": []})
    return jsonify({"options": scopes.options(db(), kind, request.args.get("q", ""))})
