"""Sign in and out. Failed attempts are counted per account and source address and lock that source out of the
account for a while (the whole account only backs off after failures from many sources, see core.signin); the
message never says whether the account exists. Accounts with a TOTP second factor enter a code after the password.

A completed sign-in opens a server-side session (core.account_sessions) whose token rides in the session cookie;
every request checks it (see `live_account`), so a copied cookie stops working at logout, at a password change
and after `PERMANENT_SESSION_LIFETIME` (30 minutes) without a request.
"""
from __future__ import annotations

import datetime as dt
import time

from flask import (Blueprint, current_app, flash, g, redirect, render_template, request, session,
                   url_for)
from flask_login import login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from minqing.core.accounts import sessions as account_sessions, codes as accounts_codes, signin, totp
from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.models import Account, utcnow
from minqing.core.accounts.password_policy import PasswordPolicy, policy_from

from .context import SignedIn, db, origin, platform, viewer
from .security import safe_next

blueprint = Blueprint("auth", __name__)
GENERIC_FAILURE = "用户名或密码错误，或账号暂时被锁定"
TOKEN = "sid"                 # the server-side session's token in the (signed) cookie
PENDING = "second_factor"     # account id, time and target between the password and the TOTP code
PENDING_FOR = 300             # seconds to enter the code after the password


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=200)])


class CodeForm(FlaskForm):
    code = StringField("动态口令", validators=[DataRequired("请输入身份验证器上的6位动态口令"), Length(max=10)])


class CodeLoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=64)])
    code = StringField("验证码", validators=[DataRequired("请输入短信验证码或管理员给您的验证码"), Length(max=10)])


class SendCodeForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=64)])


# -- settings ---------------------------------------------------------------------------------------------------------

LOCKOUT_SETTINGS = {"max_failures": "LOGIN_MAX_FAILURES", "minutes": "LOGIN_LOCK_MINUTES",
                    "account_failures": "LOGIN_ACCOUNT_FAILURES", "account_sources": "LOGIN_ACCOUNT_SOURCES",
                    "account_minutes": "LOGIN_ACCOUNT_MINUTES", "account_max_minutes": "LOGIN_ACCOUNT_MAX_MINUTES"}


def password_policy() -> PasswordPolicy:
    return policy_from(current_app.config)


def lockout() -> signin.Lockout:
    """Per source: LOGIN_MAX_FAILURES in a row lock it out for LOGIN_LOCK_MINUTES. Per account: every
    LOGIN_ACCOUNT_FAILURES failures from at least LOGIN_ACCOUNT_SOURCES sources lock it for LOGIN_ACCOUNT_MINUTES,
    doubled each time, at most LOGIN_ACCOUNT_MAX_MINUTES (see core.signin)."""
    config, default = current_app.config, signin.Lockout()
    return signin.Lockout(**{field: int(config.get(key, getattr(default, field)))
                             for field, key in LOCKOUT_SETTINGS.items()})


def totp_roles() -> frozenset[str]:
    return totp.required_roles(current_app.config.get("REQUIRE_TOTP_ROLES"))


def idle_limit() -> dt.timedelta:
    return current_app.permanent_session_lifetime


# -- signing in -------------------------------------------------------------------------------------------------------

def _safe_next(target: str | None) -> str:
    """Only a path on this site, never another host (see `security.safe_next`)."""
    return safe_next(target, url_for("home.index"))


def complete_sign_in(account: Account, summary: str = "登录成功") -> None:
    """Every factor is checked: open the server-side session and sign the browser in with a fresh cookie."""
    signin.signed_in(db(), account, origin=origin(), summary=summary)
    token = account_sessions.start(db(), account, origin=origin(),
                                   user_agent=request.headers.get("User-Agent", ""))
    db().commit()
    session.clear()  # a fresh session on sign-in: nothing carried over from before
    login_user(SignedIn(account))
    session[TOKEN] = token
    session.permanent = True


def restart_session(account: Account) -> None:
    """After a password change ended every session: a new one for this browser (the caller commits)."""
    session[TOKEN] = account_sessions.start(db(), account, origin=origin(),
                                            user_agent=request.headers.get("User-Agent", ""))


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        outcome = signin.check_password(db(), form.username.data, form.password.data, origin=origin(),
                                        lockout=lockout())
        account = outcome.account
        if account is not None and totp.is_enabled(account):
            db().commit()
            session.clear()
            session[PENDING] = {"account": account.id, "at": int(time.time()),
                                "next": _safe_next(request.args.get("next"))}
            return redirect(url_for("auth.second_factor"))
        if account is not None:
            complete_sign_in(account)
            return redirect(_safe_next(request.args.get("next")))
        db().commit()
        flash(GENERIC_FAILURE, "error")
    return render_template("auth/login.html", form=form), (200 if request.method == "GET" else 400)


CODE_USER = "code_username"  # the user name a code was asked for, to fill in the form's second step


def _enter_second_factor_or_sign_in(account: Account, summary: str, target: str):
    """After a first factor: the TOTP step when the account has one, else the signed-in session."""
    if totp.is_enabled(account):
        db().commit()
        session.clear()
        session[PENDING] = {"account": account.id, "at": int(time.time()), "next": target}
        return redirect(url_for("auth.second_factor"))
    complete_sign_in(account, summary=summary)
    return redirect(target)


@blueprint.route("/login/code", methods=["GET", "POST"])
def code_login():
    """首次登录 / 忘记密码: user name and a one-time code (SMS, or from an administrator), then a new password
    before anything else (web/account.py's required step)."""
    form = CodeLoginForm(username=session.get(CODE_USER, ""))
    if form.validate_on_submit():
        try:
            account = accounts_codes.sign_in(db(), form.username.data, form.code.data, origin=origin(),
                                             lockout=lockout())
        except accounts_codes.CodeRefused as error:
            db().commit()  # the failed attempt counts
            form.code.errors = [*form.code.errors, error.message]
        else:
            return _enter_second_factor_or_sign_in(account, "验证码登录成功（须设置密码）",
                                                   url_for("account.password"))
    status = 200 if request.method == "GET" else 400
    return render_template("auth/code_login.html", form=form, send_form=SendCodeForm(
        username=session.get(CODE_USER, ""))), status


@blueprint.post("/login/code/send")
def send_password_code():
    """Send a code to the account's phone. The answer is the same whether or not the account exists."""
    form = SendCodeForm()
    if not form.validate_on_submit():
        return render_template("auth/code_login.html", form=CodeLoginForm(), send_form=form), 400
    accounts_codes.send_by_sms(platform(), db(), form.username.data, origin=origin())
    db().commit()
    session[CODE_USER] = form.username.data.strip()[:64]
    flash("如该账号存在且登记了手机号，验证码已发送至该手机，10分钟内有效；没有登记手机号的，请向管理员索取验证码",
          "info")
    return redirect(url_for("auth.code_login"))


def _pending_account() -> Account | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_FOR:
        return None
    account = db().get(Account, pending.get("account"))
    return account if account is not None and account.is_active and totp.is_enabled(account) else None


@blueprint.route("/login/totp", methods=["GET", "POST"])
def second_factor():
    account = _pending_account()
    if account is None:
        session.pop(PENDING, None)
        flash("请重新输入用户名和密码", "warning")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        now = utcnow()
        locked = signin.is_locked(db(), account, origin(), now)
        if not locked and totp.verify(db(), account, form.code.data, now=now):
            target = session[PENDING]["next"]
            complete_sign_in(account, summary="登录成功（密码 + 动态口令）")
            return redirect(target)
        if not locked:
            signin.count_failure(db(), account, lockout(), now, origin=origin())
        record_change(db(), Actor(None, account.username, (), origin()), "auth.login_failed",
                      object_type="account", object_id=account.id, summary="登录失败：动态口令错误")
        db().commit()
        if signin.is_locked(db(), account, origin(), now):
            session.pop(PENDING, None)
            flash(GENERIC_FAILURE, "error")
            return redirect(url_for("auth.login"))
        form.code.errors = [*form.code.errors, "动态口令不正确或已使用过，请输入身份验证器上当前显示的6位数字"]
    status = 200 if request.method == "GET" else 400
    return render_template("auth/totp.html", form=form), status


@blueprint.post("/logout")
@login_required
def logout():
    actor = viewer()
    account_sessions.end(db(), session.get(TOKEN), reason="logout")
    record_change(db(), actor, "auth.logout", object_type="account", object_id=actor.account_id, summary="退出登录")
    db().commit()
    logout_user()
    session.clear()
    flash("已安全退出", "info")
    return redirect(url_for("auth.login"))


# -- every request ----------------------------------------------------------------------------------------------------

def live_account(account: Account) -> bool:
    """Whether this request's cookie belongs to an open, recently used session of the account.

    Called by the Flask-Login user loader. A touch of the session (sliding expiry) or its end for idleness is
    left in the request's database session; `init_app`'s hook commits it before any view runs.
    """
    row = account_sessions.current(db(), account.id, session.get(TOKEN), idle=idle_limit())
    if row is None:
        g.session_ended = True
    return row is not None


def init_app(app) -> None:
    # Administrators and auditors must use a second factor, except in TESTING mode where the test suite's
    # accounts sign in with a password alone (the tests of the second factor set it explicitly).
    app.config.setdefault("REQUIRE_TOTP_ROLES", "" if app.testing else "admin,auditor")

    @app.before_request
    def _load_signed_in():
        from flask_login import current_user

        if request.endpoint == "static" or (request.endpoint or "").startswith("vendor."):
            return  # files, not activity: no database look-up
        current_user._get_current_object()  # runs the loader now, before any view writes
        if db().dirty:
            db().commit()  # only the session's touch (or its end) is pending at this point
        if g.pop("session_ended", False):
            session.pop(TOKEN, None)
            session.pop("_user_id", None)
