"""Phone verification codes: issued through the plugins' SMS delivery, kept only as digests, limited in time,
attempts and resends; and the one citizen account a verified phone signs in to."""
import datetime as dt
import logging
import re

import pytest
from sqlalchemy import func, select

from minqing.core.accounts import verification
from minqing.core.hooks import hookimpl
from minqing.core.models import Account, AuditRecord, RoleGrant, VerificationCode, utcnow

PHONE = "13912345678"


class CapturingGateway:
    """A test SMS gateway: keeps every notification it is handed."""

    def __init__(self, delivers: bool = True):
        self.sent: list[dict] = []
        self.delivers = delivers

    @hookimpl
    def deliver_notification(self, notification):
        self.sent.append(notification)
        return True if self.delivers else None


@pytest.fixture
def gateway(platform):
    capture = CapturingGateway()
    platform.plugins.register(capture, "test_sms_gateway")
    yield capture
    platform.plugins.unregister("test_sms_gateway")


def code_of(gateway) -> str:
    return gateway.sent[-1]["data"]["code"]


def test_a_code_is_delivered_as_sms_and_stored_only_as_a_digest(platform, session, gateway):
    row = verification.issue(platform, session, "+86 139-1234-5678", origin="10.1.2.3")
    session.commit()
    assert len(gateway.sent) == 1
    sent = gateway.sent[0]
    code = sent["data"]["code"]
    assert sent["channel"] == "sms" and sent["recipient"] == PHONE
    assert re.fullmatch(r"\d{6}", code) and code in sent["body"] and "5分钟" in sent["body"]
    stored = session.get(VerificationCode, row.id)
    assert stored.phone == PHONE and code not in stored.code_digest and len(stored.code_digest) == 64
    assert stored.expires_at - stored.created_at == dt.timedelta(minutes=5)
    audit = session.scalar(select(AuditRecord).where(AuditRecord.action == "verification.issue"))
    assert audit is not None and PHONE not in audit.object_id and audit.object_id == "139****5678"


def test_the_right_code_verifies_once(platform, session, gateway):
    verification.issue(platform, session, PHONE)
    verification.verify(session, PHONE, code_of(gateway))
    with pytest.raises(verification.VerificationFailed, match="请先获取验证码"):
        verification.verify(session, PHONE, code_of(gateway))


def test_a_code_expires_after_five_minutes(platform, session, gateway):
    now = utcnow()
    verification.issue(platform, session, PHONE, now=now)
    with pytest.raises(verification.VerificationFailed, match="已过期"):
        verification.verify(session, PHONE, code_of(gateway), now=now + dt.timedelta(minutes=5, seconds=1))
    verification.verify(session, PHONE, code_of(gateway), now=now + dt.timedelta(minutes=4, seconds=59))


def test_five_wrong_attempts_use_the_code_up(platform, session, gateway):
    verification.issue(platform, session, PHONE)
    right = code_of(gateway)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        with pytest.raises(verification.VerificationFailed, match=f"还可尝试{left}次"):
            verification.verify(session, PHONE, wrong)
    with pytest.raises(verification.VerificationFailed, match="错误次数过多"):
        verification.verify(session, PHONE, wrong)
    session.commit()  # attempts are counted in the database, not in memory
    with pytest.raises(verification.VerificationFailed, match="错误次数过多"):
        verification.verify(session, PHONE, right)
    assert session.scalar(select(VerificationCode.attempts)) == 5


def test_a_phone_gets_a_new_code_at_most_once_a_minute_and_it_replaces_the_old(platform, session, gateway):
    now = utcnow()
    first = verification.issue(platform, session, PHONE, now=now)
    with pytest.raises(verification.TooSoon, match="秒后再重新获取") as refused:
        verification.issue(platform, session, PHONE, now=now + dt.timedelta(seconds=30))
    assert 0 < refused.value.wait_seconds <= 31
    assert len(gateway.sent) == 1  # nothing was sent for the refused request
    verification.issue(platform, session, "13800000000", now=now + dt.timedelta(seconds=30))  # another phone
    second = verification.issue(platform, session, PHONE, now=now + dt.timedelta(seconds=61))
    assert first.used_at is not None and second.used_at is None  # the older code can no longer be used
    verification.verify(session, PHONE, code_of(gateway), now=now + dt.timedelta(seconds=63))


def test_a_phone_gets_at_most_ten_codes_a_day(platform, session, gateway):
    start = utcnow()
    for index in range(verification.MAX_PER_DAY):
        verification.issue(platform, session, PHONE, now=start + dt.timedelta(minutes=2 * index))
    with pytest.raises(verification.TooSoon, match="今日"):
        verification.issue(platform, session, PHONE, now=start + dt.timedelta(hours=2))


@pytest.mark.parametrize("phone", ["", "12345", "1391234567", "23912345678", "1391234567a", "139123456789"])
def test_only_mainland_mobile_numbers_are_accepted(platform, session, gateway, phone):
    with pytest.raises(verification.InvalidPhone, match="11位手机号码"):
        verification.issue(platform, session, phone)
    assert gateway.sent == []


def test_nothing_is_stored_when_no_plugin_delivers(platform, session):
    platform.plugins.unregister("sms_log")
    silent = CapturingGateway(delivers=False)
    platform.plugins.register(silent, "silent_gateway")
    try:
        with pytest.raises(verification.NotDelivered, match="发送失败"):
            verification.issue(platform, session, PHONE)
    finally:
        platform.plugins.unregister("silent_gateway")
    assert len(silent.sent) == 1
    assert session.scalar(select(func.count()).select_from(VerificationCode)) == 0


def test_the_demo_gateway_logs_the_code_with_a_masked_phone(platform, session, caplog):
    with caplog.at_level(logging.INFO, logger="minqing.sms"):
        verification.issue(platform, session, PHONE)
    lines = [record.getMessage() for record in caplog.records if record.name == "minqing.sms"]
    assert len(lines) == 1
    assert "139****5678" in lines[0] and PHONE not in lines[0]
    assert re.search(r"验证码是\d{6}", lines[0])


def test_a_verified_phone_has_exactly_one_citizen_account(session):
    first = verification.citizen_account(session, PHONE, origin="10.1.2.3")
    again = verification.citizen_account(session, " 139 1234 5678")
    session.commit()
    assert first.id == again.id
    accounts = session.scalars(select(Account).where(Account.phone == PHONE)).all()
    assert len(accounts) == 1
    account = accounts[0]
    assert [grant.role for grant in account.grants] == ["citizen"]
    assert account.username.startswith("c") and PHONE not in account.username and account.password_hash is None
    assert PHONE not in account.display_name
    assert session.scalar(select(func.count()).select_from(AuditRecord)
                          .where(AuditRecord.action == "account.create")) == 1


def test_a_staff_phone_cannot_sign_in_by_text_message(session):
    staff = Account(username="worker", display_name="网格员", password_hash="x", phone=PHONE)
    staff.grants.append(RoleGrant(role="grid_worker"))
    session.add(staff)
    session.flush()
    with pytest.raises(verification.StaffPhone):
        verification.citizen_account(session, PHONE)
