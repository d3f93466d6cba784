"""100 people take the same step on one case at the same moment: exactly one is applied, the other 99 get a
clear conflict (in Chinese), and the case's timeline shows the step once."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from minqing.core.db import make_engine
from minqing.core.models import Case, CaseEvent
from minqing.workflows import Conflict, transition

from tests.fixtures.workflow import MONDAY_10AM, report

PEOPLE = 100
AT_ONCE = 10        # writing at the same moment, as a web server with ten threads would let them
POOL = 3 * AT_ONCE  # a step opens short sessions of its own besides the caller's (PostgreSQL allows 100 in all)


@pytest.fixture
def platform(platform):
    platform.db.engine.dispose()
    # the project's own engine (on SQLite: WAL, busy timeout, BEGIN IMMEDIATE before the first write), bigger pool
    engine = make_engine(platform.db.url, pool_size=POOL, max_overflow=0, pool_timeout=300)
    platform.db.engine, platform.db.sessionmaker = engine, sessionmaker(engine, expire_on_commit=False)
    return platform


def test_a_hundred_conflicting_transitions_apply_once(platform, city):
    case_id = report(platform, city.worker)
    loaded, server_threads = threading.Barrier(PEOPLE), threading.Semaphore(AT_ONCE)
    outcomes, lock = [], threading.Lock()

    def accept() -> None:
        session = platform.db.sessionmaker()
        try:
            case = session.get(Case, case_id)       # everyone has the case at version 1 ...
            session.commit()                        # ... and gives the connection back while waiting
            loaded.wait(120)
            with server_threads:
                transition(platform, session, case, "accept", city.station, {"comment": "受理"}, now=MONDAY_10AM)
                session.commit()
            outcome = ("applied", None)
        except Conflict as error:
            outcome = ("conflict", error)
        except Exception as error:  # noqa: BLE001 - anything else is examined by the test
            outcome = ("error", error)
        finally:
            session.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=accept) for _ in range(PEOPLE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    kinds = [kind for kind, _ in outcomes]
    assert [error for kind, error in outcomes if kind == "error"] == []
    assert (kinds.count("applied"), kinds.count("conflict")) == (1, PEOPLE - 1)
    messages = {error.message for kind, error in outcomes if kind == "conflict"}
    assert all(error.code == "conflict" for kind, error in outcomes if kind == "conflict")
    assert all("刷新" in message or "稍后重试" in message for message in messages), messages
    with platform.db.session() as session:
        case = session.get(Case, case_id)
        accepts = session.scalar(select(func.count()).where(CaseEvent.case_id == case_id,
                                                            CaseEvent.action == "accept"))
    assert (case.status, case.version, accepts) == ("registered", 2, 1)
