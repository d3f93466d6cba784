"""账号安全: change one's password, enrol or remove the TOTP second factor, see one's open sessions.

Two steps come before anything else a signed-in user asks for (see `_required_step`): a password past the
policy's maximum age must be changed, and an account whose role requires a second factor
(`REQUIRE_TOTP_ROLES`) must enrol one. Until then every other page redirects here.
"""
from __future__ import annotations

import segno
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from markupsafe import Markup
from wtforms.validators import DataRequired, EqualTo, Length

from minqing.core.accounts import sessions as account_sessions, signin, totp
from minqing.core.models import Account, utcnow
from minqing.core.accounts.password_policy import WeakPassword
from minqing.core.accounts.passwords import verify_password

from .auth import (GENERIC_FAILURE, TOKEN, idle_limit, lockout, password_policy, restart_session,
                   totp_roles)
from .context import db, origin, viewer

blueprint = Blueprint("account", __name__, url_prefix="/account")
# What a user with a required step still may open.
# The work end's manifest and service worker are public files: a phone that registered the worker before may ask
# for them again while its account has a step to do, and a redirect there is an error in the browser.
OPEN_DURING_STEPS = {"account.password", "account.totp", "account.totp_new", "auth.logout", "static",
                     "work.manifest", "work.service_worker"}


class PasswordForm(FlaskForm):
    current = PasswordField("当前密码", validators=[DataRequired("请输入当前密码"), Length(max=200)])
    new = PasswordField("新密码", validators=[DataRequired("请输入新密码"), Length(max=200)])
    confirm = PasswordField("再次输入新密码", validators=[DataRequired("请再次输入新密码"),
                                                         EqualTo("new", "两次输入的新密码不一致")])


class NewPasswordForm(FlaskForm):
    """A first password (or one after a reset): the one-time code just proved who this is."""
    new = PasswordField("新密码", validators=[DataRequired("请输入新密码"), Length(max=200)])
    confirm = PasswordField("再次输入新密码", validators=[DataRequired("请再次输入新密码"),
                                                         EqualTo("new", "两次输入的新密码不一致")])


def qr_svg(uri: str) -> Markup:
    """The otpauth:// link as a QR code, an <svg> element drawn here: no script, no data: URI, nothing the CSP
    must allow. segno writes only paths and fixed attributes, so no part of the link reaches the markup as text."""
    code = segno.make(uri, error="m", micro=False)
    return Markup(code.svg_inline(scale=5, border=4, dark="#000", light="#fff", omitsize=True, svgclass="totp-qr",
                                  title="动态口令二维码"))


class CodeForm(FlaskForm):
    code = StringField("动态口令", validators=[DataRequired("请输入身份验证器上的6位动态口令"), Length(max=10)])


class ActionForm(FlaskForm):
    """Carries only the CSRF token."""


def _me() -> Account:
    return current_user.account


def password_expired(account: Account) -> bool:
    return bool(account.password_hash) and password_policy().expired(
        account.password_changed_at or account.created_at, utcnow())


def _required_step(account: Account) -> str | None:
    if account.password_must_change or password_expired(account):
        return "account.password"
    if totp.required_for(account, totp_roles()) and not totp.is_enabled(account):
        return "account.totp"
    return None


def step_pending() -> bool:
    """Whether the signed-in account has a required step (password, second factor) to do before anything else."""
    return current_user.is_authenticated and _required_step(_me()) is not None


@blueprint.before_app_request
def _steps_first():
    """A required step is done before anything else (machine interfaces authenticate by key and are left alone)."""
    if not current_user.is_authenticated or request.blueprint in ("api", "open311") \
            or request.endpoint in OPEN_DURING_STEPS or (request.endpoint or "").startswith("vendor."):
        return None
    step = _required_step(_me())
    if step is None:
        return None
    if step == "account.password" and _me().password_must_change:
        flash("请先设置您的登录密码", "warning")
    elif step == "account.password":
        flash("密码已超过有效期，请先修改密码", "warning")
    else:
        flash("您的角色必须使用动态口令（TOTP）登录，请先绑定身份验证器", "warning")
    return redirect(url_for(step))


@blueprint.get("/")
@login_required
def security():
    account = _me()
    policy = password_policy()
    changed = account.password_changed_at or account.created_at
    return render_template("account/security.html", account=account, policy=policy, changed=changed,
                           expires=policy.expires_at(changed) if account.password_hash else None,
                           totp_enabled=totp.is_enabled(account),
                           totp_required=totp.required_for(account, totp_roles()),
                           sessions=account_sessions.open_sessions(db(), account.id, idle=idle_limit()),
                           form=ActionForm(), code_form=CodeForm())


@blueprint.route("/password", methods=["GET", "POST"])
@login_required
def password():
    account, policy = _me(), password_policy()
    if account.password_must_change:
        return _first_password(account, policy)
    if not account.password_hash:
        flash("您使用短信验证码登录，无需设置密码", "info")
        return redirect(url_for("home.index"))
    form = PasswordForm()
    if form.validate_on_submit():
        if not verify_password(account.password_hash, form.current.data):
            signin.count_failure(db(), account, lockout(), utcnow(), origin=origin())
            db().commit()
            if signin.is_locked(db(), account, origin(), utcnow()):
                return _signed_out(GENERIC_FAILURE)
            form.current.errors = [*form.current.errors, "当前密码不正确"]
        elif _set_password(account, form, policy):
            flash("密码已修改；其他设备上的登录已全部失效", "info")
            return redirect(url_for("account.security"))
    status = 200 if request.method == "GET" else 400
    return render_template("account/password.html", form=form, policy=policy,
                           expired=password_expired(account)), status


def _set_password(account: Account, form, policy) -> bool:
    """Set the form's new password (every other session ends); False with the policy's reasons on the form."""
    try:
        signin.set_password(db(), viewer(), account, form.new.data, policy)
    except (WeakPassword, signin.SamePassword) as error:
        db().rollback()
        form.new.errors = [*form.new.errors, *error.problems]
        return False
    restart_session(account)
    db().commit()
    return True


def _first_password(account: Account, policy):
    """Set a password without the current one: the account signed in with a one-time code to do exactly this."""
    form = NewPasswordForm()
    if form.validate_on_submit() and _set_password(account, form, policy):
        flash("密码已设置；以后请用用户名和这个密码登录", "info")
        return redirect(url_for("home.index"))
    status = 200 if request.method == "GET" else 400
    return render_template("auth/first_password.html", form=form, policy=policy), status


def _signed_out(message: str):
    from flask_login import logout_user

    account_sessions.end(db(), session.get(TOKEN), reason="locked")
    db().commit()
    logout_user()
    session.clear()
    flash(message, "error")
    return redirect(url_for("auth.login"))


@blueprint.route("/totp", methods=["GET", "POST"], endpoint="totp")
@login_required
def totp_page():
    """Enrolment: the secret as a QR code, as text and as an otpauth:// link, then a code from the app to confirm it."""
    account = _me()
    if not account.password_hash:
        flash("您使用短信验证码登录，无需绑定动态口令", "info")
        return redirect(url_for("home.index"))
    if totp.is_enabled(account):
        return redirect(url_for("account.security"))
    form = CodeForm()
    secret = totp.pending_secret(db(), account)
    if secret is None:
        secret = totp.begin_enrolment(db(), account)
        db().commit()
    if form.validate_on_submit():
        try:
            totp.confirm_enrolment(db(), viewer(), account, form.code.data)
        except totp.TotpError as error:
            db().commit()  # a used step stays used
            form.code.errors = [*form.code.errors, str(error)]
        else:
            db().commit()
            flash("动态口令已绑定；以后登录时，输入密码后还需输入身份验证器上的动态口令", "info")
            return redirect(url_for("account.security"))
    status = 200 if request.method == "GET" else 400
    uri = totp.provisioning_uri(secret, account)
    return render_template("account/totp.html", form=form, secret=secret,
                           grouped=" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
                           uri=uri, qr=qr_svg(uri), regenerate=ActionForm()), status


@blueprint.post("/totp/new")
@login_required
def totp_new():
    """A new secret for an enrolment not yet confirmed (the old one was lost before it was confirmed)."""
    account = _me()
    if not totp.is_enabled(account) and ActionForm().validate_on_submit():
        account.totp_secret = None
        totp.begin_enrolment(db(), account)
        db().commit()
    return redirect(url_for("account.totp"))


@blueprint.post("/totp/disable")
@login_required
def totp_disable():
    account = _me()
    form = CodeForm()
    if totp.required_for(account, totp_roles()):
        flash("您的角色必须使用动态口令，不能解除绑定；如手机丢失请联系管理员重置", "error")
        return redirect(url_for("account.security"))
    if not form.validate_on_submit() or not totp.verify(db(), account, form.code.data):
        db().commit()
        flash("动态口令不正确，未解除绑定", "error")
        return redirect(url_for("account.security"))
    totp.disable(db(), viewer(), account)
    restart_session(account)
    db().commit()
    flash("已解除动态口令绑定", "info")
    return redirect(url_for("account.security"))

