"""Two people acting on one case at once: exactly one wins; a retried report never makes a second case."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.orm import sessionmaker

from minqing.core.db import SQLITE_BUSY_TIMEOUT_MS, _tune_sqlite, is_sqlite

from minqing.core.models import Case, CaseEvent
from minqing.workflows import Conflict, report_case, transition

from tests.fixtures.workflow import INSIDE, MONDAY_10AM, report, step

THREADS = 20


@pytest.fixture
def platform(platform):
    """The test platform with a pool big enough for THREADS sessions at once: each step also opens short
    sessions of its own (the plugin host reads its switches), so 20 threads need more than the default 15."""
    platform.db.engine.dispose()
    if is_sqlite(platform.db.url):
        engine = create_engine(platform.db.url, pool_size=3 * THREADS, max_overflow=0,
                               connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
        event.listen(engine, "connect", _tune_sqlite)
    else:
        engine = create_engine(platform.db.url, pool_size=3 * THREADS, max_overflow=0)
    platform.db.engine = engine
    platform.db.sessionmaker = sessionmaker(engine, expire_on_commit=False)
    return platform


def race(platform, target) -> tuple[list, list]:
    """Run `target(session)` in THREADS threads, each with its own session, released together."""
    barrier = threading.Barrier(THREADS)
    outcomes, lock = [], threading.Lock()

    def run():
        try:
            with platform.db.session() as session:
                answer = target(session, barrier)
            result = ("ok", answer)
        except Exception as error:  # noqa: BLE001 - every outcome is examined by the test
            result = ("error", error)
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return ([answer for kind, answer in outcomes if kind == "ok"],
            [error for kind, error in outcomes if kind == "error"])


def test_racing_the_same_transition(platform, city):
    case_id = report(platform, city.worker)

    def accept(session, barrier):
        case = session.get(Case, case_id)          # everyone has read version 1 before anyone writes
        barrier.wait()
        transition(platform, session, case, "accept", city.station, {"comment": "受理"}, now=MONDAY_10AM)
        return case.id

    applied, refused = race(platform, accept)
    assert len(applied) == 1
    assert len(refused) == THREADS - 1 and all(isinstance(error, Conflict) for error in refused)
    assert refused[0].code == "conflict" and "刷新" in refused[0].message
    with platform.db.session() as session:
        case = session.get(Case, case_id)
        accepts = session.scalar(select(func.count()).where(CaseEvent.case_id == case_id,
                                                            CaseEvent.action == "accept"))
    assert (case.status, case.version, accepts) == ("registered", 2, 1)


def test_a_conflict_leaves_the_session_usable(platform, city):
    case_id = report(platform, city.worker)
    with platform.db.session() as mine, platform.db.session() as theirs:
        my_case, their_case = mine.get(Case, case_id), theirs.get(Case, case_id)
        transition(platform, theirs, their_case, "accept", city.station, now=MONDAY_10AM)
        theirs.commit()
        try:
            transition(platform, mine, my_case, "void", city.station, {"kind": "invalid", "reason": "无效信息"})
        except Conflict:
            pass
        else:
            raise AssertionError("expected a conflict")
        assert mine.get(Case, case_id).status == "registered"  # reloaded after the rollback
    assert step(platform, case_id, "dispatch", city.station, {"department": "water_affairs"}).status == "dispatched"


def test_concurrent_retries_of_one_report_make_one_case(platform, city):
    def submit(session, barrier):
        barrier.wait()
        case = report_case(platform, session, city.citizen, theme_key="water", title="停水", description="整栋楼停水",
                           lon=INSIDE[0], lat=INSIDE[1], source="citizen", client_id="app-7f3a-0001",
                           now=MONDAY_10AM)
        return case.id

    created, errors = race(platform, submit)
    assert errors == []
    assert len(set(created)) == 1 and len(created) == THREADS
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
        assert session.scalar(select(func.count()).select_from(CaseEvent)) == 1
