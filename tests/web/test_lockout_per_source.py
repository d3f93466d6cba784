"""Wrong passwords lock the source that typed them out of the account, not the account: a guesser from one address
cannot keep the owner out. The whole account backs off only after failures from several sources, longer each time,
and every failure and lock is in the audit log."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from minqing.core.accounts import signin
from minqing.core.models import Account, AuditRecord, RoleGrant, SigninThrottle, utcnow
from minqing.core.accounts.passwords import hash_password
from minqing.web import create_app

from tests.fixtures.web import PASSWORD

GUESSER, OWNER = "203.0.113.7", "198.51.100.20"
NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def worker(platform, password_hash):
    with platform.db.session() as session:
        account = Account(username="worker", display_name="worker", password_hash=password_hash)
        account.grants.append(RoleGrant(role="grid_worker"))
        session.add(account)


def make_app(platform, **config):
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, **config}, platform=platform)


def login_from(client, address: str, password: str):
    return client.post("/login", data={"username": "worker", "password": password},
                       environ_base={"REMOTE_ADDR": address})


def audit(platform, *actions: str) -> list[AuditRecord]:
    with platform.db.session() as session:
        return session.scalars(select(AuditRecord).where(AuditRecord.action.in_(actions))
                               .order_by(AuditRecord.id)).all()


def test_a_guesser_is_locked_out_and_the_owner_still_signs_in_from_elsewhere(platform, worker):
    app = make_app(platform)
    guesser = app.test_client()
    for _ in range(5):
        assert login_from(guesser, GUESSER, "wrong").status_code == 400
    for _ in range(10):  # locked: refused, and no longer counted against the account
        assert login_from(guesser, GUESSER, PASSWORD).status_code == 400

    owner = app.test_client()
    assert login_from(owner, OWNER, PASSWORD).status_code == 302
    assert owner.get("/account/").status_code == 200
    assert login_from(app.test_client(), GUESSER, PASSWORD).status_code == 400  # the owner unlocked nobody

    with platform.db.session() as session:
        account = session.scalar(select(Account))
        assert account.locked_until is None
        lock = session.scalar(select(SigninThrottle).where(SigninThrottle.source == GUESSER))
        assert dt.timedelta(minutes=29) < lock.locked_until - utcnow() <= dt.timedelta(minutes=30)
    failed = audit(platform, "auth.login_failed")
    assert len(failed) == 5 and {record.origin for record in failed} == {GUESSER}
    locked = audit(platform, "auth.locked")
    assert len(locked) == 1 and locked[0].details == {"source": GUESSER, "minutes": 30}
    assert len(audit(platform, "auth.login_refused")) == 11
    assert not audit(platform, "auth.account_locked")


def test_the_whole_account_backs_off_after_failures_from_many_sources(platform, worker):
    app = make_app(platform, LOGIN_ACCOUNT_FAILURES=8, LOGIN_ACCOUNT_SOURCES=2, LOGIN_ACCOUNT_MINUTES=5)
    client = app.test_client()
    for address in ("192.0.2.1", "192.0.2.2"):
        for _ in range(4):  # each source stays under its own limit
            assert login_from(client, address, "wrong").status_code == 400
    assert login_from(app.test_client(), OWNER, PASSWORD).status_code == 400  # nobody gets in meanwhile
    with platform.db.session() as session:
        until = session.scalar(select(Account.locked_until))
    assert dt.timedelta(minutes=4) < until - utcnow() <= dt.timedelta(minutes=5)
    [record] = audit(platform, "auth.account_locked")
    assert record.details == {"failures": 8, "level": 1, "minutes": 5}


def test_one_source_alone_never_locks_the_account(platform, worker):
    app = make_app(platform, LOGIN_ACCOUNT_FAILURES=8, LOGIN_ACCOUNT_SOURCES=2)
    client = app.test_client()
    for _ in range(3):  # three lock periods of one source, each expired by hand
        for _ in range(5):
            login_from(client, GUESSER, "wrong")
        with platform.db.session() as session:
            session.execute(update(SigninThrottle).values(locked_until=utcnow() - dt.timedelta(seconds=1)))
    with platform.db.session() as session:
        account = session.scalar(select(Account))
        assert (account.failed_logins, account.locked_until) == (15, None)
    assert login_from(app.test_client(), OWNER, PASSWORD).status_code == 302


# -- the rules themselves (core.signin), with a clock ---------------------------------------------------------------

def _account(session) -> Account:
    account = Account(username="worker", display_name="worker", password_hash=hash_password(PASSWORD))
    session.add(account)
    session.flush()
    return account


def test_each_further_back_off_of_the_account_lasts_twice_as_long(session):
    account = _account(session)
    lockout = signin.Lockout(max_failures=5, minutes=30, account_failures=6, account_sources=3,
                             account_minutes=5, account_max_minutes=15)
    now, expected = NOW, [5, 10, 15, 15]
    for minutes in expected:
        for host in range(1, 7):  # one failure from each of six sources: none of them reaches its own limit
            outcome = signin.check_password(session, "worker", "wrong", origin=f"192.0.2.{host}", lockout=lockout,
                                            now=now)
            assert outcome.reason == "wrong_password"
        assert account.locked_until == now + dt.timedelta(minutes=minutes)
        refused = signin.check_password(session, "worker", PASSWORD, origin="192.0.2.99", lockout=lockout, now=now)
        assert refused.reason == "locked"
        now = account.locked_until + dt.timedelta(seconds=1)
    assert signin.check_password(session, "worker", PASSWORD, origin="192.0.2.99", lockout=lockout,
                                 now=now).account is account
    signin.signed_in(session, account, origin="192.0.2.99", now=now)
    assert account.failed_logins == 0  # a sign-in starts the back-off over


def test_an_ipv6_client_is_one_source_for_its_whole_slash_64(session):
    account = _account(session)
    for host in range(1, 6):  # five addresses of one /64, as one client may use
        signin.check_password(session, "worker", "wrong", origin=f"2001:db8:1:2::{host}", now=NOW)
    assert signin.check_password(session, "worker", PASSWORD, origin="2001:db8:1:2::ffff", now=NOW).reason == "locked"
    assert signin.check_password(session, "worker", PASSWORD, origin="2001:db8:1:3::1", now=NOW).account is account
    assert signin.source_of("::ffff:192.0.2.1") == "192.0.2.1"
    assert signin.source_of("2001:db8:1:2::5") == "2001:db8:1:2::/64"


def test_a_new_password_clears_every_lock_of_the_account(session):
    from minqing.core.actors import system_actor
    from minqing.core.accounts.password_policy import PasswordPolicy

    account = _account(session)
    for _ in range(5):
        signin.check_password(session, "worker", "wrong", origin=GUESSER, now=NOW)
    assert signin.is_locked(session, account, GUESSER, NOW)
    signin.set_password(session, system_actor("test"), account, "Baita#Shan2026", PasswordPolicy(), now=NOW)
    assert not signin.is_locked(session, account, GUESSER, NOW)
