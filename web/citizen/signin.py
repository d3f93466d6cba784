"""Sign in (and register on first sign-in) with a phone number and a code sent by text message."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from minqing.core.accounts import verification
from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.privacy.masking import mask_phone

from ..auth import complete_sign_in
from ..context import db, origin, platform
from ..security import safe_next
from . import blueprint

PENDING = "citizen_phone"   # the phone a code was sent to, kept in the (signed) session between the two steps


class PhoneForm(FlaskForm):
    phone = StringField("手机号码", validators=[DataRequired("请输入手机号码"), Length(max=20)])


class CodeForm(FlaskForm):
    code = StringField("短信验证码", validators=[DataRequired("请输入短信验证码"), Length(max=6)])


def _render(phone_form=None, code_form=None, status: int = 200):
    pending = session.get(PENDING)
    return render_template("citizen/login.html", phone_form=phone_form or PhoneForm(),
                           code_form=code_form or CodeForm(), pending=mask_phone(pending) if pending else "",
                           next=request.args.get("next", "")), status


@blueprint.get("/login")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("citizen.index"))
    return _render()


@blueprint.post("/login/code")
def send_code():
    """Ask for a code: a new phone from the form, or again for the pending phone (重新获取)."""
    form = PhoneForm()
    if request.form.get("resend") and session.get(PENDING):
        phone = session[PENDING]
    elif form.validate_on_submit():
        phone = form.phone.data
    else:
        return _render(phone_form=form, status=400)
    try:
        verification.issue(platform(), db(), phone, origin=origin())
        db().commit()
    except verification.TooSoon as error:  # a code is on its way (or too many today): let them enter it
        db().rollback()
        flash(error.message, "error")
        session[PENDING] = verification.normalise_phone(phone)
        return _render(status=429)
    except verification.VerificationError as error:
        db().rollback()
        flash(error.message, "error")
        return _render(phone_form=form, status=400)
    session[PENDING] = verification.normalise_phone(phone)
    flash(f"验证码已发送至 {mask_phone(session[PENDING])}，5分钟内有效", "info")
    return redirect(url_for("citizen.login", next=request.args.get("next") or None))


@blueprint.post("/login/change")
def change_phone():
    session.pop(PENDING, None)
    return redirect(url_for("citizen.login"))


@blueprint.post("/login")
def verify_code():
    phone = session.get(PENDING)
    form = CodeForm()
    if not phone:
        flash("请先获取验证码", "error")
        return _render(status=400)
    if not form.validate_on_submit():
        return _render(code_form=form, status=400)
    anonymous = Actor(None, mask_phone(phone), (), origin())
    try:
        verification.verify(db(), phone, form.code.data)
        account = verification.citizen_account(db(), phone, origin=origin())
    except verification.VerificationError as error:
        record_change(db(), anonymous, "auth.login_failed", object_type="phone", object_id=mask_phone(phone),
                      summary=f"验证码登录失败：{error.message}")
        db().commit()  # the failed attempt counts
        flash(error.message, "error")
        return _render(code_form=form, status=400)
    complete_sign_in(account, summary="验证码登录成功")  # a server-side session, as for staff
    return redirect(safe_next(request.args.get("next"), url_for("citizen.index")))
