"""The rate limits' in-process counters (web/ratelimits.py `InlineMemoryStorage`): the same limits as limits'
own memory storage, without starting a thread on each counted request."""
from __future__ import annotations

import threading
import time

from minqing.web.ratelimits import InlineMemoryStorage


def test_the_default_storage_is_the_inline_one(app):
    limiter = app.extensions["minqing_limiter"]
    assert isinstance(limiter.storage, InlineMemoryStorage)


def test_a_limits_release_without_the_private_hooks_keeps_its_own_memory_storage(platform, monkeypatch):
    """The storage replaces two private methods of limits' MemoryStorage: should a release rename them, the
    platform keeps limits' own storage (slower, still correct) instead of one that fails on every request."""
    from limits.storage import MemoryStorage

    from minqing.web import create_app, ratelimits

    assert ratelimits.INLINE_SWEEP_POSSIBLE   # the installed release has them: the test below would be moot
    monkeypatch.setattr(ratelimits, "INLINE_SWEEP_POSSIBLE", False)
    app = create_app({"TESTING": True}, platform=platform)
    storage = app.extensions["minqing_limiter"].storage
    assert type(storage) is MemoryStorage


def test_counting_starts_no_thread(monkeypatch):
    storage = InlineMemoryStorage()
    started = []
    original = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda thread: (started.append(thread), original(thread))[1])
    storage.SWEEP_SECONDS = 0   # a sweep on every count, inline
    for number in range(50):   # spread over ~0.1 s: limits' own storage starts a 10-ms timer thread again and again
        storage.incr(f"key:{number % 5}", expiry=60)
        storage.acquire_entry("window", limit=100, expiry=60)
        time.sleep(0.002)
    assert started == []
    assert storage.get("key:0") == 10
    assert storage.get_moving_window("window", limit=100, expiry=60)[1] == 50


def test_expired_counters_are_dropped_by_a_later_count():
    storage = InlineMemoryStorage()
    storage.incr("soon", expiry=0.01)
    storage.acquire_entry("soon-window", limit=5, expiry=0.01)
    time.sleep(0.05)
    storage.SWEEP_SECONDS = 0
    storage.incr("later", expiry=60)
    assert "soon" not in storage.storage and "soon" not in storage.expirations
    assert storage.events.get("soon-window") in (None, [])
    assert storage.get("later") == 1


def test_a_limit_still_refuses_past_its_count():
    from limits import parse
    from limits.strategies import FixedWindowRateLimiter

    limiter = FixedWindowRateLimiter(InlineMemoryStorage())
    limit = parse("3 per minute")
    assert [limiter.hit(limit, "account:1") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit(limit, "account:2")
