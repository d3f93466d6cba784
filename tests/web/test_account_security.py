"""Accounts and sessions through the pages: lockout that does not tell whether an account exists, sessions that
expire when idle and cannot be replayed after logout or a password change, the password policy where a password
is changed, an expired password changed before anything else, the TOTP second factor, and the rate limits on
sign-in, text-message codes and report creation (pages, REST API and Open311)."""
from __future__ import annotations

import datetime as dt
import re
import time
import uuid

import pyotp
import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from minqing.core.accounts import apikeys
from minqing.core.actors import system_actor
from minqing.core.cli import build_cli
from minqing.core.models import Account, AccountSession, AuditRecord, RoleGrant, SigninThrottle, utcnow
from minqing.core.accounts.passwords import verify_password
from minqing.web import create_app

from tests.fixtures.web import INSIDE, PASSWORD, PHONE, Gateway, login

NEW_PASSWORD = "Baita#Shan2026"
SIGNED_IN = "/account/"  # a page for every signed-in account that needs no grid or theme


@pytest.fixture
def people(platform, password_hash):
    """Accounts of some roles and nothing else: enough for signing in (`world` is for the report limits)."""
    with platform.db.session() as session:
        for username, role in (("admin", "admin"), ("auditor", "auditor"), ("worker", "grid_worker"),
                               ("other_worker", "grid_worker"), ("citizen", "citizen")):
            account = Account(username=username, display_name=username, password_hash=password_hash)
            account.grants.append(RoleGrant(role=role))
            session.add(account)


def make_app(platform, **config):
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, **config}, platform=platform)


def signed_in(app, username: str, password: str = PASSWORD):
    client = app.test_client()
    response = login(client, username, password)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def actions(platform) -> list[str]:
    with platform.db.session() as session:
        return session.scalars(select(AuditRecord.action).order_by(AuditRecord.id)).all()


def account_of(platform, username: str) -> Account:
    with platform.db.session() as session:
        return session.scalar(select(Account).where(Account.username == username))


def source_lock_of(platform, username: str, source: str = "127.0.0.1"):
    """Until when `source` (the test client's address) is locked out of the account (core.signin)."""
    with platform.db.session() as session:
        return session.scalar(select(SigninThrottle.locked_until).join(Account).where(
            Account.username == username, SigninThrottle.source == source))


# -- lockout --------------------------------------------------------------------------------------------------------

def test_a_locked_account_and_an_unknown_one_get_the_same_answer(platform, people):
    app = make_app(platform, LOGIN_LOCK_MINUTES=45)
    client = app.test_client()
    for _ in range(5):
        assert login(client, "worker", "wrong").status_code == 400
    locked = login(client, "worker", PASSWORD)      # the right password, but locked
    unknown = login(client, "nobody", PASSWORD)
    assert locked.status_code == unknown.status_code == 400
    def strip(response):  # the same page, but for the user name typed in (echoed back in the form)
        return re.sub(r'value="(worker|nobody)"', "", response.get_data(as_text=True))
    assert strip(locked) == strip(unknown) and "用户名或密码错误，或账号暂时被锁定" in strip(locked)
    until = source_lock_of(platform, "worker")  # this source is locked out of the account, not the account
    assert dt.timedelta(minutes=44) < until - utcnow() <= dt.timedelta(minutes=45)
    assert account_of(platform, "worker").locked_until is None
    assert "auth.locked" in actions(platform) and "auth.login_refused" in actions(platform)
    with platform.db.session() as session:  # the period is over
        session.execute(update(SigninThrottle).values(locked_until=utcnow() - dt.timedelta(seconds=1)))
    assert login(client, "worker", PASSWORD).status_code == 302


# -- sessions ------------------------------------------------------------------------------------------------------

def test_a_copied_session_cookie_does_not_work_after_logout(app, people):
    worker = signed_in(app, "worker")
    copied = worker.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get(SIGNED_IN).status_code == 200  # the copy works while the session is open
    assert worker.post("/logout").status_code == 302
    assert worker.get(SIGNED_IN).status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", copied)
    refused = replay.get(SIGNED_IN)
    assert refused.status_code == 302 and "/login" in refused.location


def test_a_session_expires_after_the_idle_limit_and_slides_while_used(platform, people):
    app = make_app(platform, PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=20))
    worker = signed_in(app, "worker")

    def idle_for(minutes: int) -> None:
        with platform.db.session() as session:
            session.execute(update(AccountSession).values(last_seen_at=utcnow() - dt.timedelta(minutes=minutes)))

    idle_for(15)
    assert worker.get(SIGNED_IN).status_code == 200  # used after 15 minutes: the clock starts again
    with platform.db.session() as session:
        seen = session.scalar(select(AccountSession.last_seen_at))
    assert utcnow() - seen < dt.timedelta(minutes=1)
    idle_for(21)
    assert worker.get(SIGNED_IN).status_code == 302
    with platform.db.session() as session:
        assert session.scalar(select(AccountSession.end_reason)) == "idle"
    assert worker.get(SIGNED_IN).status_code == 302  # and it stays ended


def test_citizens_signed_in_by_text_message_get_a_server_side_session_too(app, platform, people):
    gateway = Gateway()
    platform.plugins.register(gateway, "test_sms_gateway_security")
    try:
        client = app.test_client()
        client.post("/citizen/login/code", data={"phone": PHONE})
        assert client.post("/citizen/login", data={"code": gateway.code_for(PHONE)}).status_code == 302
        copied = client.get_cookie("session").value
        assert client.get("/citizen/cases").status_code == 200
        client.post("/logout")
        replay = app.test_client()
        replay.set_cookie("session", copied)
        assert replay.get("/citizen/cases").status_code == 302
        assert client.get("/account/password").status_code == 302  # no password page for them either
    finally:
        platform.plugins.unregister("test_sms_gateway_security")


# -- the password policy where a password is changed ----------------------------------------------------------------

def test_changing_the_password_checks_the_policy_and_ends_the_other_sessions(app, platform, people):
    here, elsewhere = signed_in(app, "worker"), signed_in(app, "worker")
    page = here.get("/account/password").get_data(as_text=True)
    assert "至少8个字符" in page and "每90天需更换一次" in page

    def change(new, current=PASSWORD, confirm=None):
        return here.post("/account/password", data={"current": current, "new": new, "confirm": confirm or new})

    weak = change("woaini1314")
    text = weak.get_data(as_text=True)
    assert weak.status_code == 400 and "常见或已泄露的弱密码" in text and "至少3类" in text
    assert "两次输入的新密码不一致" in change(NEW_PASSWORD, confirm="Other#2026x").get_data(as_text=True)
    assert "当前密码不正确" in change(NEW_PASSWORD, current="not-it").get_data(as_text=True)
    assert "不能与当前密码相同" in change(PASSWORD).get_data(as_text=True)
    assert verify_password(account_of(platform, "worker").password_hash, PASSWORD)  # nothing changed yet
    done = change(NEW_PASSWORD)
    assert done.status_code == 302 and done.location.endswith("/account/")
    assert here.get(SIGNED_IN).status_code == 200          # this browser goes on
    assert elsewhere.get(SIGNED_IN).status_code == 302     # every other session has ended
    assert verify_password(account_of(platform, "worker").password_hash, NEW_PASSWORD)
    assert actions(platform).count("account.password_change") == 1
    assert signed_in(app, "worker", NEW_PASSWORD).get(SIGNED_IN).status_code == 200


def test_an_expired_password_is_changed_before_anything_else(platform, people):
    with platform.db.session() as session:
        session.execute(update(Account).where(Account.username == "worker")
                        .values(password_changed_at=utcnow() - dt.timedelta(days=91)))
    asvs = signed_in(make_app(platform, PASSWORD_PROFILE="asvs"), "worker")
    assert asvs.get(SIGNED_IN).status_code == 200  # ASVS: no forced rotation

    app = make_app(platform)  # 等保 level 3 practice: 90 days
    worker = signed_in(app, "worker")
    for path in ("/work/my-grid", "/map/", "/work/report"):
        held = worker.get(path)
        assert held.status_code == 302 and held.location.endswith("/account/password"), path
    assert "密码已超过有效期" in worker.get("/account/password").get_data(as_text=True)
    short = worker.post("/account/password", data={"current": PASSWORD, "new": "Ab#1", "confirm": "Ab#1"})
    assert short.status_code == 400 and "密码至少需要8个字符（当前4个）" in short.get_data(as_text=True)
    assert worker.post("/account/password", data={"current": PASSWORD, "new": NEW_PASSWORD,
                                                  "confirm": NEW_PASSWORD}).status_code == 302
    assert worker.get(SIGNED_IN).status_code == 200


def test_the_asvs_profile_wants_12_characters_on_the_page(platform, people):
    worker = signed_in(make_app(platform, PASSWORD_PROFILE="asvs", PASSWORD_MIN_LENGTH=14), "worker")
    refused = worker.post("/account/password", data={"current": PASSWORD, "new": "Lz#2026-abcde",
                                                     "confirm": "Lz#2026-abcde"})
    assert refused.status_code == 400 and "密码至少需要14个字符（当前13个）" in refused.get_data(as_text=True)
    assert worker.post("/account/password", data={"current": PASSWORD, "new": "黄河水车博览园的水车转个不停",
                                                  "confirm": "黄河水车博览园的水车转个不停"}).status_code == 302


# -- TOTP second factor ----------------------------------------------------------------------------------------------

def code(secret: str, steps_ahead: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def enrol(client) -> str:
    page = client.get("/account/totp")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    uri = re.search(r'href="(otpauth://totp/[^"]+)"', text).group(1)
    secret = re.search(r"secret=([A-Z2-7]+)", uri).group(1)
    assert " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) in text  # also shown as text
    done = client.post("/account/totp", data={"code": code(secret)})
    assert done.status_code == 302, done.get_data(as_text=True)
    return secret


def test_administrators_must_enrol_a_second_factor_and_then_use_it(platform, people):
    app = make_app(platform, REQUIRE_TOTP_ROLES="admin,auditor")
    admin = signed_in(app, "admin")
    held = admin.get("/admin/plugins")
    assert held.status_code == 302 and held.location.endswith("/account/totp")
    wrong = admin.post("/account/totp", data={"code": "12345x"})
    assert wrong.status_code == 400 and "动态口令不正确" in wrong.get_data(as_text=True)
    secret = enrol(admin)
    assert admin.get("/admin/plugins").status_code == 200
    assert secret not in admin.get("/account/").get_data(as_text=True)   # never shown again
    assert admin.get("/account/totp").status_code == 302
    stored = account_of(platform, "admin").totp_secret
    assert stored and secret not in stored                              # kept encrypted
    admin.post("/logout")

    client = app.test_client()
    first = login(client, "admin", PASSWORD)
    assert first.status_code == 302 and first.location.endswith("/login/totp")
    assert client.get("/admin/plugins").status_code == 302            # not signed in before the code
    assert client.post("/login/totp", data={"code": "000000" if code(secret, 1) != "000000" else "111111"}
                       ).status_code == 400
    next_code = code(secret, 1)  # the enrolment used this step's code: a code works only once
    assert client.post("/login/totp", data={"code": next_code}).status_code == 302
    assert client.get("/admin/plugins").status_code == 200
    again = app.test_client()
    login(again, "admin", PASSWORD)
    reused = again.post("/login/totp", data={"code": next_code})
    assert reused.status_code == 400 and "已使用过" in reused.get_data(as_text=True)
    record = [a for a in actions(platform) if a.startswith("account.totp")]
    assert record == ["account.totp_enable"]
    assert signed_in(app, "worker").get(SIGNED_IN).status_code == 200  # other roles: password alone


def test_wrong_codes_count_towards_the_lockout(platform, people):
    app = make_app(platform, REQUIRE_TOTP_ROLES="admin,auditor")
    secret = enrol(signed_in(app, "auditor"))
    client = app.test_client()
    login(client, "auditor", PASSWORD)
    wrong = "000000" if code(secret, 1) != "000000" else "111111"
    for _ in range(4):
        assert client.post("/login/totp", data={"code": wrong}).status_code == 400
    locked = client.post("/login/totp", data={"code": wrong})
    assert locked.status_code == 302 and locked.location.endswith("/login")
    assert source_lock_of(platform, "auditor") > utcnow()
    assert login(client, "auditor", PASSWORD).status_code == 400


def test_a_user_may_remove_an_optional_second_factor_and_an_operator_resets_a_lost_one(platform, people):
    app = make_app(platform, REQUIRE_TOTP_ROLES="admin")
    worker = signed_in(app, "worker")
    secret = enrol(worker)
    assert worker.post("/account/totp/disable", data={"code": "99999"}).status_code == 302
    assert account_of(platform, "worker").totp_enabled_at is not None  # a wrong code removes nothing
    assert worker.post("/account/totp/disable", data={"code": code(secret, 1)}).status_code == 302
    assert account_of(platform, "worker").totp_enabled_at is None
    assert worker.get(SIGNED_IN).status_code == 200

    admin = signed_in(app, "admin")
    enrol(admin)
    refused = admin.post("/account/totp/disable", data={"code": "123456"}, follow_redirects=True)
    assert "不能解除绑定" in refused.get_data(as_text=True)
    result = CliRunner().invoke(build_cli(), ["--db", platform.db.url, "accounts", "totp-reset", "admin"])
    assert result.exit_code == 0 and "已重置" in result.output, result.output
    assert admin.get("/admin/plugins").status_code == 302  # the reset ended its sessions
    again = signed_in(app, "admin")                         # password only, then enrol again
    assert again.get("/admin/plugins").location.endswith("/account/totp")
    assert [a for a in actions(platform) if a.startswith("account.totp")] == [
        "account.totp_enable", "account.totp_disable", "account.totp_enable", "account.totp_disable"]


# -- rate limits -----------------------------------------------------------------------------------------------------

def assert_limited_page(response):
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert "操作过于频繁，请" in response.get_data(as_text=True)


def test_sign_in_is_rate_limited_per_address(platform, people):
    app = make_app(platform, RATELIMIT_LOGIN="3 per minute")
    client = app.test_client()
    for _ in range(3):
        login(client, "nobody", "x")
    assert_limited_page(login(client, "worker", PASSWORD))  # even the right password waits
    assert account_of(platform, "worker").failed_logins == 0  # refused before it was checked
    other = app.test_client()
    response = other.post("/login", data={"username": "worker", "password": PASSWORD},
                          environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert response.status_code == 302


def test_text_message_codes_are_rate_limited(platform, people):
    gateway = Gateway()
    platform.plugins.register(gateway, "test_sms_gateway_limits")
    try:
        app = make_app(platform, RATELIMIT_SMS_CODE="2 per minute", RATELIMIT_SMS_VERIFY="3 per minute")
        client = app.test_client()
        for phone in ("13900000001", "13900000002"):
            assert client.post("/citizen/login/code", data={"phone": phone}).status_code == 302
        assert_limited_page(client.post("/citizen/login/code", data={"phone": "13900000003"}))
        assert len(gateway.sent) == 2  # no third text message went out
        for _ in range(3):
            assert client.post("/citizen/login", data={"code": "000000"}).status_code == 400
        assert_limited_page(client.post("/citizen/login", data={"code": gateway.code_for("13900000002")}))
    finally:
        platform.plugins.unregister("test_sms_gateway_limits")


def test_reports_from_the_work_end_and_the_citizen_end_are_rate_limited_per_account(platform, world):
    app = make_app(platform, RATELIMIT_REPORT="2 per minute", RATELIMIT_CITIZEN_REPORT="1 per minute")
    worker, other = signed_in(app, "worker"), signed_in(app, "other_worker")
    for _ in range(2):
        assert worker.post("/work/report/urban_management.street_vending", data={}).status_code == 400
    assert_limited_page(worker.post("/work/report/urban_management.street_vending", data={}))
    assert worker.get("/work/report/urban_management.street_vending").status_code == 200  # reading is not limited
    assert other.post("/work/report/urban_management.street_vending", data={}).status_code == 400  # per account
    citizen = signed_in(app, "citizen")
    assert citizen.post("/citizen/report/hotline.general_appeals", data={}).status_code == 400
    assert_limited_page(citizen.post("/citizen/report/hotline.general_appeals", data={}))


def test_the_rest_api_and_open311_answer_429_in_their_own_error_formats(platform, world):
    with platform.db.session() as session:
        keys = {name: apikeys.create(session, system_actor("test"), name, "limits")[1] for name in ("worker", "station")}
    app = make_app(platform, RATELIMIT_API_REPORT="2 per minute")
    client = app.test_client()
    bearer = lambda name: {"Authorization": f"Bearer {keys[name]}"}  # noqa: E731
    for _ in range(2):
        assert client.post("/api/v1/cases", json={}, headers=bearer("worker")).status_code in (400, 422)
    limited = client.post("/api/v1/cases", json={}, headers=bearer("worker"))
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    error = limited.get_json()["error"]
    assert error["code"] == "too_many_requests" and "频繁" in error["message"]
    assert client.post("/api/v1/cases", json={}, headers=bearer("station")).status_code in (400, 422)
    assert client.get("/api/v1/cases", headers=bearer("worker")).status_code == 200  # reading is not limited

    form = {"api_key": keys["station"], "service_code": "5401", "lat": str(INSIDE[1]), "long": str(INSIDE[0])}
    for _ in range(2):  # each endpoint counts on its own
        client.post("/open311/v2/requests.json", data=form)
    refused = client.post("/open311/v2/requests.json", data=form)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    body = refused.get_json()
    assert body[0]["code"] == 429 and "频繁" in body[0]["description"]


def test_the_limits_may_be_switched_off_for_an_installation(platform, people):
    app = make_app(platform, RATELIMIT_ENABLED=False, RATELIMIT_LOGIN="1 per minute")
    client = app.test_client()
    assert [login(client, "nobody", "x").status_code for _ in range(3)] == [400, 400, 400]


@pytest.mark.redis
def test_processes_share_their_counts_through_redis(platform, people):
    """Two apps stand for two web processes of one installation: with Redis storage the limit is theirs together."""
    shared = {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/14", "RATELIMIT_LOGIN": "2 per minute",
              "RATELIMIT_KEY_PREFIX": f"minqing-test-{uuid.uuid4().hex}"}
    first, second = make_app(platform, **shared).test_client(), make_app(platform, **shared).test_client()
    assert login(first, "nobody", "x").status_code == 400
    assert login(second, "nobody", "x").status_code == 400
    assert_limited_page(login(first, "worker", PASSWORD))
    assert_limited_page(login(second, "worker", PASSWORD))
