"""Sign in and out. Failed attempts are counted and lock the account for a while; the message never says
whether the account exists."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.models import Account, utcnow
from minqing.core.passwords import verify_password

from .context import SignedIn, db, origin, viewer

blueprint = Blueprint("auth", __name__)
MAX_FAILURES = 5
LOCK_MINUTES = 15
GENERIC_FAILURE = "用户名或密码错误，或账号暂时被锁定"


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=200)])


def _safe_next(target: str | None) -> str:
    """Only a path on this site, never another host."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("home.index")


def _attempt(form: LoginForm) -> Account | None:
    session = db()
    account = session.scalar(select(Account).where(Account.username == form.username.data.strip()))
    now = utcnow()
    anonymous = Actor(None, form.username.data.strip()[:64], (), origin())
    if account is None or not account.is_active:
        record_change(session, anonymous, "auth.login_failed", object_type="account",
                      summary="登录失败：账号不存在或已停用")
        session.commit()
        return None
    if account.locked_until and account.locked_until > now:
        record_change(session, anonymous, "auth.login_refused", object_type="account", object_id=account.id,
                      summary="登录被拒绝：账号锁定中")
        session.commit()
        return None
    if not verify_password(account.password_hash, form.password.data):
        account.failed_logins += 1
        if account.failed_logins >= MAX_FAILURES:
            account.locked_until, account.failed_logins = now + dt.timedelta(minutes=LOCK_MINUTES), 0
        record_change(session, anonymous, "auth.login_failed", object_type="account", object_id=account.id,
                      summary="登录失败：密码错误")
        session.commit()
        return None
    account.failed_logins, account.locked_until, account.last_login_at = 0, None, now
    record_change(session, Actor(account.id, account.display_name, (), origin()), "auth.login",
                  object_type="account", object_id=account.id, summary="登录成功")
    session.commit()
    return account


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        account = _attempt(form)
        if account is not None:
            session.clear()  # a fresh session on sign-in: nothing carried over from before
            login_user(SignedIn(account))
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
        flash(GENERIC_FAILURE, "error")
    return render_template("auth/login.html", form=form), (200 if request.method == "GET" else 400)


@blueprint.post("/logout")
@login_required
def logout():
    actor = viewer()
    record_change(db(), actor, "auth.logout", object_type="account", object_id=actor.account_id, summary="退出登录")
    db().commit()
    logout_user()
    session.clear()
    flash("已安全退出", "info")
    return redirect(url_for("auth.login"))
