"""The scheduler's lease (`workflows/beat_lease.py`) in-process: taken by one, refused to a second, given back
even when a renewal was committed that the holder had not yet noted."""
from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import update

from minqing.core.models import Setting
from minqing.workflows.beat_lease import LEASE_NAME, BeatLease, BeatLocked


def row_value(platform) -> str | None:
    with platform.db.session() as session:
        row = session.get(Setting, LEASE_NAME)
        return row.value if row else None


def test_one_holder_at_a_time_and_the_lease_is_given_back(platform):
    first, second = BeatLease(platform.db, seconds=30), BeatLease(platform.db, seconds=30)
    first.acquire()
    with pytest.raises(BeatLocked, match="另一个定时调度"):
        second.acquire()
    first.release()
    assert row_value(platform) is None
    second.acquire()
    assert json.loads(row_value(platform))["holder"] == second.holder
    second.release()


def test_a_renewal_the_holder_has_not_noted_yet_is_given_back_too(platform):
    lease = BeatLease(platform.db, seconds=30)
    lease.acquire()
    # what the renewer thread commits an instant before the holder records the new value
    renewed = json.dumps({"holder": lease.holder, "until": time.time() + 30})
    with platform.db.session() as session:
        session.execute(update(Setting).where(Setting.name == LEASE_NAME).values(value=renewed))
    lease.release()
    assert row_value(platform) is None


def test_a_lease_taken_over_by_another_is_left_to_it(platform):
    lease = BeatLease(platform.db, seconds=30)
    lease.acquire()
    other = json.dumps({"holder": "elsewhere:1:abc", "until": time.time() + 30})
    with platform.db.session() as session:
        session.execute(update(Setting).where(Setting.name == LEASE_NAME).values(value=other))
    lease.release()
    assert row_value(platform) == other
