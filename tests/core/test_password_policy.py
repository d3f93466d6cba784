"""The password policy's two profiles, the shipped common-password list, sign-in with lockout, and the core of
server-side sessions and TOTP (the web tests are in tests/web/test_account_security.py)."""
from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from sqlalchemy import select

from minqing.core.accounts import sessions as account_sessions, signin, totp
from minqing.core.actors import system_actor
from minqing.plugins.demo_city.build import DEMO_PASSWORD
from minqing.core.models import Account, AuditRecord, RoleGrant, SigninThrottle, utcnow
from minqing.core.accounts.password_policy import (ASVS, DENGBAO3, PasswordPolicy, WeakPassword, common_passwords,
                                          policy_from)
from minqing.core.accounts.passwords import hash_password, verify_password

NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


def test_the_dengbao3_profile_wants_8_characters_of_3_kinds_and_expires_after_90_days():
    policy = policy_from({})
    assert (policy.profile, policy.min_length, policy.min_kinds, policy.max_age_days) == (DENGBAO3, 8, 3, 90)
    assert policy.problems("Lz#2026x") == []
    short = policy.problems("Ab1#")
    assert short == ["密码至少需要8个字符（当前4个）"]
    two_kinds = policy.problems("lanzhoucity2026")
    assert len(two_kinds) == 1 and "至少3类" in two_kinds[0] and "缺少大写字母、符号" in two_kinds[0]
    assert not policy.expired(NOW - dt.timedelta(days=89), NOW)
    assert policy.expired(NOW - dt.timedelta(days=90), NOW)
    assert policy_from({"PASSWORD_MAX_AGE_DAYS": "30"}).expired(NOW - dt.timedelta(days=31), NOW)
    assert not policy_from({"PASSWORD_MAX_AGE_DAYS": "0"}).expired(NOW - dt.timedelta(days=999), NOW)


def test_the_asvs_profile_wants_length_and_no_composition_and_never_expires():
    policy = policy_from({"PASSWORD_PROFILE": "asvs"})
    assert (policy.profile, policy.min_length, policy.min_kinds, policy.max_age_days) == (ASVS, 12, 0, None)
    assert policy.problems("黄河铁桥中山桥边的风很大") == []  # any characters, no composition rule
    assert policy.problems("Lz#2026x") == ["密码至少需要12个字符（当前8个）"]
    assert not policy.expired(NOW - dt.timedelta(days=3650), NOW)
    assert policy_from({"PASSWORD_PROFILE": "ASVS", "PASSWORD_MIN_LENGTH": 15}).min_length == 15
    with pytest.raises(ValueError, match="PASSWORD_PROFILE"):
        policy_from({"PASSWORD_PROFILE": "weak"})


def test_common_and_breached_passwords_are_refused_with_chinese_typical_ones():
    words = common_passwords()
    assert len(words) > 19_000
    for typical in ("a123456", "woaini1314", "5201314", "qq123456", "1qaz2wsx", "zhang123456", "lanzhou123"):
        assert typical in words, typical
    asvs = policy_from({"PASSWORD_PROFILE": "asvs", "PASSWORD_MIN_LENGTH": 6})
    assert asvs.problems("woaini1314") == ["该密码属于常见或已泄露的弱密码，请换一个"]
    assert asvs.problems("A123456") == ["该密码属于常见或已泄露的弱密码，请换一个"]  # compared in lower case
    dengbao = policy_from({})
    assert "该密码属于常见或已泄露的弱密码，请换一个" in dengbao.problems("P@ssw0rd")
    assert policy_from({"PASSWORD_PROFILE": "asvs", "PASSWORD_MIN_LENGTH": 6,
                        "PASSWORD_CHECK_COMMON": "false"}).problems("woaini1314") == []


def test_a_password_may_not_contain_the_user_name_and_the_demo_password_passes_both_profiles():
    with pytest.raises(WeakPassword) as refused:
        PasswordPolicy().check("Gridworker#2026", username="gridworker")
    assert refused.value.problems == ["密码不能包含用户名"]
    for profile in (DENGBAO3, ASVS):
        assert policy_from({"PASSWORD_PROFILE": profile}).problems(DEMO_PASSWORD, username="admin") == []


def _account(session, username="worker", password="Lz#2026-grid", roles=("grid_worker",)) -> Account:
    account = Account(username=username, display_name=username, password_hash=hash_password(password))
    for role in roles:
        account.grants.append(RoleGrant(role=role))
    session.add(account)
    session.flush()
    return account


def test_five_wrong_passwords_lock_the_account_for_the_configured_time(session):
    account = _account(session)
    lockout = signin.Lockout(max_failures=5, minutes=30)
    for attempt in range(5):
        outcome = signin.check_password(session, "worker", "wrong", lockout=lockout, now=NOW)
        assert (outcome.account, outcome.reason) == (None, "wrong_password")
    source = session.scalar(select(SigninThrottle))  # no origin given: the empty source
    assert (source.locked_until, account.locked_until) == (NOW + dt.timedelta(minutes=30), None)
    refused = signin.check_password(session, "worker", "Lz#2026-grid", lockout=lockout, now=NOW)
    assert (refused.account, refused.reason) == (None, "locked")
    later = signin.check_password(session, "worker", "Lz#2026-grid", lockout=lockout,
                                  now=NOW + dt.timedelta(minutes=31))
    assert later.account is account
    session.commit()  # audit records are written when the transaction commits
    actions = session.scalars(select(AuditRecord.action).order_by(AuditRecord.id)).all()
    assert actions == ["auth.login_failed"] * 4 + ["auth.locked", "auth.login_failed", "auth.login_refused"]


def test_an_unknown_user_costs_a_password_check_too(session, monkeypatch):
    """Timing must not tell whether an account exists: a dummy hash is verified when there is no account."""
    checked = []
    monkeypatch.setattr(signin, "verify_password", lambda stored, given: checked.append(stored) or False)
    _account(session)
    assert signin.check_password(session, "nobody", "whatever").reason == "unknown"
    assert signin.check_password(session, "worker", "whatever").reason == "wrong_password"
    assert len(checked) == 2 and all(stored.startswith("$argon2") for stored in checked)


def test_setting_a_password_checks_the_policy_and_ends_every_session(session):
    account = _account(session)
    tokens = [account_sessions.start(session, account, now=NOW) for _ in range(2)]
    with pytest.raises(WeakPassword):
        signin.set_password(session, system_actor("test"), account, "abc12345", PasswordPolicy())
    with pytest.raises(signin.SamePassword):
        signin.set_password(session, system_actor("test"), account, "Lz#2026-grid", PasswordPolicy())
    signin.set_password(session, system_actor("test"), account, "Huanghe#Bridge9", PasswordPolicy(), now=NOW)
    assert verify_password(account.password_hash, "Huanghe#Bridge9") and account.password_changed_at == NOW
    idle = dt.timedelta(minutes=30)
    assert [account_sessions.current(session, account.id, token, idle=idle, now=NOW) for token in tokens] == [None] * 2
    session.commit()
    record = session.scalar(select(AuditRecord).where(AuditRecord.action == "account.password_set"))
    assert record.details["sessions_ended"] == 2 and "Huanghe" not in str(record.details) + record.summary


def test_a_session_slides_while_used_and_ends_when_idle_or_logged_out(session):
    account = _account(session)
    idle = dt.timedelta(minutes=30)
    token = account_sessions.start(session, account, origin="10.0.0.1", now=NOW)
    assert account_sessions.current(session, account.id, token, idle=idle, now=NOW + dt.timedelta(minutes=29))
    # used at 29 minutes: alive until 59
    assert account_sessions.current(session, account.id, token, idle=idle, now=NOW + dt.timedelta(minutes=58))
    assert account_sessions.current(session, account.id, token, idle=idle, now=NOW + dt.timedelta(minutes=89)) is None
    assert account_sessions.current(session, account.id, token, idle=idle, now=NOW + dt.timedelta(minutes=90)) is None
    other = account_sessions.start(session, account, now=NOW)
    assert account_sessions.current(session, account.id + 1, other, idle=idle, now=NOW) is None  # not its account
    assert account_sessions.end(session, other, now=NOW)
    assert account_sessions.current(session, account.id, other, idle=idle, now=NOW) is None
    assert account_sessions.current(session, account.id, "forged", idle=idle, now=NOW) is None


def test_totp_enrolment_stores_the_secret_encrypted_and_a_code_works_once(session):
    account = _account(session, "admin", roles=("admin",))
    actor = system_actor("test")
    secret = totp.begin_enrolment(session, account)
    assert secret not in account.totp_secret and not totp.is_enabled(account)
    assert totp.provisioning_uri(secret, account).startswith("otpauth://totp/")
    with pytest.raises(totp.TotpError):
        totp.confirm_enrolment(session, actor, account, "000000" if pyotp.TOTP(secret).at(NOW) != "000000"
                               else "111111", now=NOW)
    totp.confirm_enrolment(session, actor, account, pyotp.TOTP(secret).at(NOW), now=NOW)
    assert totp.is_enabled(account) and totp.pending_secret(session, account) is None
    later = NOW + dt.timedelta(seconds=60)
    code = pyotp.TOTP(secret).at(later)
    assert totp.verify(session, account, code, now=later)
    assert not totp.verify(session, account, code, now=later)  # the same code again: refused
    drift = NOW + dt.timedelta(seconds=120)
    assert totp.verify(session, account, pyotp.TOTP(secret).at(drift - dt.timedelta(seconds=30)), now=drift)
    assert not totp.verify(session, account, pyotp.TOTP(secret).at(NOW + dt.timedelta(seconds=600)), now=drift)
    assert totp.required_for(account, totp.required_roles("admin,auditor"))
    assert not totp.required_for(account, totp.required_roles(""))
    totp.disable(session, actor, account)
    session.commit()
    actions = session.scalars(select(AuditRecord.action).where(AuditRecord.object_id == str(account.id))).all()
    assert actions == ["account.totp_enable", "account.totp_disable"]
    assert account.totp_secret is None and not totp.is_enabled(account)


def test_the_command_line_sets_a_password_only_within_the_policy(platform, monkeypatch):
    from click.testing import CliRunner

    from minqing.core.cli import build_cli

    with platform.db.session() as session:
        _account(session)
    runner = CliRunner()
    url = platform.db.url
    weak = runner.invoke(build_cli(), ["--db", url, "accounts", "password", "worker"], input="abc\nabc\n")
    assert weak.exit_code != 0 and "密码至少需要8个字符" in weak.output
    monkeypatch.setenv("MINQING_PASSWORD_PROFILE", "asvs")
    short = runner.invoke(build_cli(), ["--db", url, "accounts", "password", "worker"],
                          input="Lz#2026x\nLz#2026x\n")
    assert short.exit_code != 0 and "至少需要12个字符" in short.output
    ok = runner.invoke(build_cli(), ["--db", url, "accounts", "password", "worker"],
                       input="黄河母亲雕像就在滨河路旁边\n黄河母亲雕像就在滨河路旁边\n")
    assert ok.exit_code == 0, ok.output
    with platform.db.session() as session:
        account = session.scalar(select(Account).where(Account.username == "worker"))
        assert verify_password(account.password_hash, "黄河母亲雕像就在滨河路旁边")
        assert account.password_changed_at > utcnow() - dt.timedelta(minutes=1)
