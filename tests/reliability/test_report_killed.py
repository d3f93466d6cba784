"""A real server process is SIGKILLed while it stores a report (`POST /api/v1/cases`): every case in the database
afterwards is whole (its timeline line, its deadline milestone and its audit record exist) or absent, and a retry
with the same Idempotency-Key answers with one whole case.

On SQLite this failed before core/db.py took transactions from pysqlite: the case row was inserted in a savepoint,
whose RELEASE committed it on its own. Runs on SQLite and on PostgreSQL (MINQING_DATABASE_URL)."""
from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import func, select

from minqing.core.accounts import apikeys
from minqing.core.actors import system_actor
from minqing.core.models import AuditRecord, Case, CaseEvent, CaseMilestone

from tests.fixtures.processes import free_port
from tests.fixtures.web import INSIDE

ROUNDS = 10
KILL_AFTER_MS = (5, 150)   # the probe found half-stored cases when it killed 12-102 ms into the request


class ServerProcess:
    """`minqing serve` in a process of its own, so that it can be killed without warning."""

    def __init__(self, database_url: str, tmp_path):
        self.database_url, self.tmp_path = database_url, tmp_path
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "MINQING_DATABASE_URL": self.database_url,
               "MINQING_UPLOAD_DIR": str(self.tmp_path / "uploads"), "MINQING_BROKER_URL": ""}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "minqing.core.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "the server stopped at start"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("the server did not start within 120 s")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()


def post_case(port: int, key: str, idempotency_key: str, body: dict, timeout: float = 60):
    """The request's answer (status, json), or None when the connection broke."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("POST", "/api/v1/cases", body=json.dumps(body, ensure_ascii=False).encode(),
                           headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json",
                                    "Idempotency-Key": idempotency_key})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def hotline_body(n: int) -> dict:
    return {"theme": "hotline.general_appeals", "title": f"楼道灯不亮（第{n}次）", "category": "4001",
            "details": {"appeal_type": "求助", "content": "楼道灯坏了，晚上看不见", "urgent": False,
                        "anonymous": True, "address": "永昌路8号3单元",
                        "location": {"lon": INSIDE[0], "lat": INSIDE[1]}}}


def broken_cases(platform) -> list[int]:
    """Cases missing their timeline line, their deadline milestone or their audit record."""
    with platform.db.session() as session:
        ids = session.scalars(select(Case.id)).all()
        with_event = set(session.scalars(select(CaseEvent.case_id).distinct()))
        with_milestone = set(session.scalars(select(CaseMilestone.case_id)))
        audited = {int(value) for value in session.scalars(
            select(AuditRecord.object_id).where(AuditRecord.object_type == "case",
                                                AuditRecord.action == "case.report"))}
    return [case_id for case_id in ids
            if case_id not in with_event or case_id not in with_milestone or case_id not in audited]


@pytest.fixture
def server(platform, world, database_url, tmp_path):
    process = ServerProcess(database_url, tmp_path)
    yield process
    process.stop()


def test_a_report_killed_mid_request_is_whole_or_absent_and_its_retry_answers_one_whole_case(platform, world,
                                                                                            server):
    with platform.db.session() as session:
        _row, key = apikeys.create(session, system_actor("test"), "worker", "kill test")
    chance = random.Random(20261206)
    for n in range(ROUNDS):
        server.start()
        # a first request warms the process (imports, the grid index) so the kill lands inside a report
        warm = post_case(server.port, key, f"warm-{n}", hotline_body(1000 + n))
        assert warm[0] == 201, warm
        sender = threading.Thread(target=post_case, args=(server.port, key, f"kill-{n}", hotline_body(n)))
        sender.start()
        time.sleep(chance.uniform(*KILL_AFTER_MS) / 1000)
        server.kill()
        sender.join(30)
        assert broken_cases(platform) == [], f"round {n}: a killed report left half a case"

    server.start()
    for n in range(ROUNDS):
        answer = post_case(server.port, key, f"kill-{n}", hotline_body(n))
        assert answer is not None and answer[0] in (200, 201), answer
        assert answer[1]["title"] == f"楼道灯不亮（第{n}次）"
    assert broken_cases(platform) == []
    with platform.db.session() as session:
        titles = session.scalars(select(Case.title).where(Case.title.like("楼道灯不亮（第_次）"))).all()
        assert sorted(titles) == sorted(f"楼道灯不亮（第{n}次）" for n in range(ROUNDS))   # one case per key
        assert session.scalar(select(func.count(Case.id))) == 2 * ROUNDS


def test_a_failure_after_the_savepoint_leaves_nothing_of_the_report(platform, world):
    """Without a kill: an error raised after the case row's savepoint was released must undo the row too."""
    from minqing.core.models import utcnow

    with pytest.raises(RuntimeError):
        with platform.db.session() as session:
            now = utcnow()
            case = Case(theme_key="hotline.general_appeals", title="半截事件", description="", lon=INSIDE[0],
                        lat=INSIDE[1], address="", category="4001", subcategory="", urgency="normal", source="api",
                        form_data={}, schema_version="", workflow_key="standard", status="reported",
                        rework_count=0, created_at=now, updated_at=now, region_code="")
            with session.begin_nested():
                session.add(case)
                session.flush()
            raise RuntimeError("the timeline could not be written")
    with platform.db.session() as session:
        assert session.scalar(select(func.count(Case.id)).where(Case.title == "半截事件")) == 0
