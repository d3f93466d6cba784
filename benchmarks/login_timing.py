"""Benchmark: does a sign-in's time tell whether the account exists?

    python -m benchmarks.login_timing              # 20 rounds in a temporary SQLite file
    python -m benchmarks.login_timing --rounds 50

Times `core.signin.check_password` for an unknown user name, a wrong password, a locked account and the right
password (alternating, so a busy machine slows all alike) and prints each median as a ratio of the wrong-password
median. Ratios near 1.0 mean the answer's timing does not reveal whether the account exists.

A tool, not a figure of `python -m benchmarks`: it is no speed against a baseline but a check that the sign-in
takes the same time whatever the answer (a security property; tests/core/test_password_policy.py checks without
timing that a dummy hash is verified for an unknown account).
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from minqing.core.accounts import signin
from minqing.core.models import Account, utcnow
from minqing.core.accounts.passwords import hash_password
from minqing.core.platform import Platform

PASSWORD = "Lz#2026-bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        platform = Platform(f"sqlite:///{Path(folder) / 'timing.db'}")
        platform.db.upgrade()
        with platform.db.session() as session:
            session.add(Account(username="worker", display_name="worker", password_hash=hash_password(PASSWORD)))
            session.add(Account(username="locked", display_name="locked", password_hash=hash_password(PASSWORD),
                                locked_until=utcnow().replace(year=2099)))
        cases = {"unknown user": ("nobody", PASSWORD), "wrong password": ("worker", "wrong"),
                 "locked account": ("locked", PASSWORD), "right password": ("worker", PASSWORD)}
        times: dict[str, list[float]] = {name: [] for name in cases}
        lockout = signin.Lockout(max_failures=10 ** 9)  # measure, never lock
        for _ in range(args.rounds):
            for name, (username, password) in cases.items():
                with platform.db.session() as session:
                    started = time.perf_counter()
                    signin.check_password(session, username, password, lockout=lockout)
                    times[name].append(time.perf_counter() - started)
                    session.rollback()
        platform.close()
    base = statistics.median(times["wrong password"])
    print(f"sign-in timing, median of {args.rounds} rounds (ratio to a wrong password):")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:15} {median * 1000:8.1f} ms   {median / base:5.2f}")


if __name__ == "__main__":
    main()
