"""First sign-in and forgotten passwords for staff: a one-time code by SMS (through the `deliver_notification` hook,
caught by a test gateway) signs the account in, a password that the policy accepts is set before anything else,
and from then on the account signs in with it. The answer never tells whether an account exists; code requests
and attempts are rate-limited; `minqing accounts password` still sets a password from the command line."""
from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from minqing.core.accounts import manage as accounts, codes as accounts_codes
from minqing.core.actors import system_actor
from minqing.core.cli import build_cli
from minqing.core.models import Account, AuditRecord, PasswordCode, utcnow
from minqing.web import create_app

from tests.fixtures.web import PASSWORD, login

NEW_PASSWORD = "Baita#Shan2026"
STAFF_PHONE = "13900001111"
SENT = "如该账号存在且登记了手机号，验证码已发送至该手机"


@pytest.fixture
def roster_account(platform, world):
    """An account as the roster import or the admin page makes it: a grid worker without a password."""
    with platform.db.session() as session:
        account = accounts.create(session, system_actor("test"), username="wang.fang", display_name="王芳",
                                  phone=STAFF_PHONE)
        accounts.grant(session, system_actor("test"), account, "grid_worker", "G620102001001001")
    return "wang.fang"


def account_of(platform, username: str) -> Account:
    with platform.db.session() as session:
        account = session.scalar(select(Account).where(Account.username == username))
        session.expunge_all()
        return account


def request_code(client, username: str):
    return client.post("/login/code/send", data={"username": username})


def test_first_sign_in_by_sms_code_then_a_password_before_anything_else(platform, app, gateway, roster_account):
    client = app.test_client()
    assert login(client, roster_account, "anything").status_code == 400     # no password yet
    asked = request_code(client, roster_account)
    assert asked.status_code == 302 and asked.location.endswith("/login/code")
    assert SENT in client.get("/login/code").get_data(as_text=True)
    message = gateway.sent[-1]
    assert message["channel"] == "sms" and message["recipient"] == STAFF_PHONE
    assert message["data"]["code"] in message["body"] and "wang.fang" in message["body"]
    signed_in = client.post("/login/code", data={"username": roster_account, "code": message["data"]["code"]})
    assert signed_in.status_code == 302 and signed_in.location.endswith("/account/password")
    for path in ("/work/my-grid", "/map/", "/account/"):
        assert client.get(path).location.endswith("/account/password"), path
    page = client.get("/account/password").get_data(as_text=True)
    assert "设置密码" in page and "当前密码" not in page
    weak = client.post("/account/password", data={"new": "12345678", "confirm": "12345678"})
    assert weak.status_code == 400 and "密码需包含大写字母、小写字母、数字、符号中的至少3类" in weak.get_data(as_text=True)
    assert account_of(platform, roster_account).password_hash is None
    mismatch = client.post("/account/password", data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert mismatch.status_code == 400 and "两次输入的新密码不一致" in mismatch.get_data(as_text=True)
    done = client.post("/account/password", data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    assert client.get("/work/my-grid").status_code == 200
    account = account_of(platform, roster_account)
    assert account.password_hash and not account.password_must_change
    fresh = app.test_client()
    assert login(fresh, roster_account, NEW_PASSWORD).status_code == 302
    assert fresh.get("/work/my-grid").status_code == 200
    with platform.db.session() as session:
        actions = session.scalars(select(AuditRecord.action).where(AuditRecord.object_id == str(account.id))
                                  .order_by(AuditRecord.id)).all()
    assert actions.index("account.code_sent") < actions.index("auth.login") \
        < actions.index("account.password_change")


def test_a_forgotten_password_is_reset_by_sms_code(platform, app, gateway, world):
    with platform.db.session() as session:
        session.execute(update(Account).where(Account.username == "worker").values(phone=STAFF_PHONE))
    client = app.test_client()
    request_code(client, "worker")
    code = gateway.code_for(STAFF_PHONE)
    assert client.post("/login/code", data={"username": "worker", "code": code}).status_code == 302
    same = client.post("/account/password", data={"new": PASSWORD, "confirm": PASSWORD})
    assert same.status_code == 400 and "新密码不能与当前密码相同" in same.get_data(as_text=True)
    assert client.post("/account/password", data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert login(app.test_client(), "worker", PASSWORD).status_code == 400
    assert login(app.test_client(), "worker", NEW_PASSWORD).status_code == 302
    assert client.post("/login/code", data={"username": "worker", "code": code}).status_code == 400  # used once


def test_the_answer_never_says_whether_an_account_exists(platform, app, gateway, world, roster_account):
    client = app.test_client()
    for username in ("nobody", "citizen", "leader", roster_account):   # unknown, a citizen, no phone, real
        response = request_code(client, username)
        assert response.status_code == 302
        assert SENT in client.get("/login/code").get_data(as_text=True)
    assert [sent["recipient"] for sent in gateway.sent] == [STAFF_PHONE]
    for username in ("nobody", "leader"):
        refused = client.post("/login/code", data={"username": username, "code": "123456"})
        assert refused.status_code == 400 and accounts_codes.REFUSED in refused.get_data(as_text=True)


def test_wrong_expired_and_repeated_codes_are_refused(platform, app, gateway, roster_account):
    client = app.test_client()
    request_code(client, roster_account)
    code = gateway.code_for(STAFF_PHONE)
    wrong = str((int(code) + 1) % 1_000_000).zfill(6)
    assert client.post("/login/code", data={"username": roster_account, "code": wrong}).status_code == 400
    with platform.db.session() as session:
        assert session.scalar(select(PasswordCode.attempts)) == 1
    request_code(client, roster_account)          # within a minute: no second message
    assert len(gateway.sent) == 1
    with platform.db.session() as session:
        session.execute(update(PasswordCode).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    expired = client.post("/login/code", data={"username": roster_account, "code": code})
    assert expired.status_code == 400 and account_of(platform, roster_account).last_login_at is None


def test_code_requests_and_attempts_are_rate_limited(platform, gateway, world):
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_SMS_CODE": "2 per minute",
                      "RATELIMIT_SMS_VERIFY": "2 per minute"}, platform=platform)
    client = app.test_client()
    for username in ("a.b.c", "d.e.f"):
        assert request_code(client, username).status_code == 302
    limited = request_code(client, "g.h.i")
    assert limited.status_code == 429 and "操作过于频繁" in limited.get_data(as_text=True)
    for _ in range(2):
        assert client.post("/login/code", data={"username": "worker", "code": "123456"}).status_code == 400
    assert client.post("/login/code", data={"username": "worker", "code": "123456"}).status_code == 429


def test_the_command_line_still_sets_a_password(platform, app, roster_account):
    result = CliRunner().invoke(build_cli(), ["--db", platform.db.url, "accounts", "password", roster_account,
                                              "--password", NEW_PASSWORD])
    assert result.exit_code == 0, result.output
    assert not account_of(platform, roster_account).password_must_change
    client = app.test_client()
    assert login(client, roster_account, NEW_PASSWORD).status_code == 302
    assert client.get("/work/my-grid").status_code == 200   # no password step left
