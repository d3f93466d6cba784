"""1,000 case reports through a connection that drops — before the request reaches the server, or after the
server committed but before the client read the answer — each retried until answered: every case exists
exactly once. Half go through the REST API with an Idempotency-Key, half through the work end's report form with
its client id."""
from __future__ import annotations

import json
import os
import re
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from minqing.core.accounts import apikeys
from minqing.core.actors import system_actor
from minqing.core.models import Case
from minqing.web import create_app

from tests.fixtures.web import INSIDE, PASSWORD
from .faults import FaultyProxy, Server, send_until_answered

SUBMISSIONS = int(os.environ.get("MINQING_FAULT_SUBMISSIONS", "1000"))
DROP_BEFORE, DROP_AFTER = 0.10, 0.30
THEME = "hotline.general_appeals"
CLIENTS = int(os.environ.get("MINQING_FAULT_CLIENTS", "4"))


def api_body(n: int) -> bytes:
    return json.dumps({"theme": THEME, "title": f"断线重试 A{n:04d}", "category": "4001",
                       "details": {"appeal_type": "求助", "content": "楼道灯坏了", "urgent": False, "anonymous": True,
                                   "address": "永昌路8号3单元", "location": {"lon": INSIDE[0], "lat": INSIDE[1]}}},
                      ensure_ascii=False).encode()


def form_body(n: int, csrf: str) -> bytes:
    return urllib.parse.urlencode({
        "csrf_token": csrf, "title": f"断线重试 F{n:04d}", "category": "4001", "details-appeal_type": "求助",
        "details-content": "楼道灯坏了", "details-address": "永昌路8号3单元", "details-urgent": "false",
        "details-anonymous": "true", "details-location-lon": str(INSIDE[0]), "details-location-lat": str(INSIDE[1]),
    }).encode()


@pytest.fixture
def served(platform, world):
    app = create_app({"RATELIMIT_ENABLED": False}, platform=platform)   # rate limits would refuse a test's 1,000
    with platform.db.session() as session:
        _row, key = apikeys.create(session, system_actor("test"), "worker", "fault injection")
    with Server(app) as server:
        yield server, key


def signed_in(port: int) -> tuple[str, str]:
    """(Cookie header, CSRF token) of the grid worker signed in through the real login page."""
    browser = requests.Session()
    page = browser.get(f"http://127.0.0.1:{port}/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answer = browser.post(f"http://127.0.0.1:{port}/login", allow_redirects=False,
                          data={"csrf_token": token, "username": "worker", "password": PASSWORD})
    assert answer.status_code == 302, answer.text[:500]
    form = browser.get(f"http://127.0.0.1:{port}/work/report/{THEME}").text
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    return "; ".join(f"{name}={value}" for name, value in browser.cookies.items()), csrf


@pytest.mark.timeout(900)   # about a minute on an idle two-core machine; MINQING_FAULT_SUBMISSIONS=200 for less
def test_retried_submissions_through_dropped_connections_make_each_case_once(platform, served):
    server, key = served
    cookie, csrf = signed_in(server.port)
    answers, attempts, unexpected = {}, [], []

    def submit(n: int, port: int) -> None:
        if n % 2 == 0:
            title = f"断线重试 A{n:04d}"
            result = send_until_answered(port, "POST", "/api/v1/cases", api_body(n), {
                "Authorization": f"Bearer {key}", "Content-Type": "application/json",
                "Idempotency-Key": f"fault-{n:04d}"})
            ok = result is not None and result[0].status == 201
            case_id = json.loads(result[1])["id"] if ok else None
        else:
            title = f"断线重试 F{n:04d}"
            result = send_until_answered(port, "POST", f"/work/report/{THEME}?client_id=fault-form-{n:04d}",
                                         form_body(n, csrf), {"Cookie": cookie,
                                                              "Content-Type": "application/x-www-form-urlencoded"})
            ok = result is not None and result[0].status == 302
            case_id = int(result[0].getheader("Location").rstrip("/").rsplit("/", 1)[1]) if ok else None
        if result is None:
            return                                   # lost: no answer at all
        attempts.append(result[2])
        if ok:
            answers[title] = case_id
        else:
            unexpected.append((title, result[0].status, result[1][:300]))

    with FaultyProxy(server.port, drop_before=DROP_BEFORE, drop_after=DROP_AFTER, seed=20261201) as proxy:
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(lambda n: submit(n, proxy.port), range(SUBMISSIONS)))
    counts = proxy.counts

    with platform.db.session() as session:
        stored = dict(session.execute(select(Case.title, func.count()).where(Case.title.like("断线重试 %"))
                                      .group_by(Case.title)).all())
        ids = dict(session.execute(select(Case.title, Case.id).where(Case.title.like("断线重试 %"))).all())
    duplicated = sum(count - 1 for count in stored.values() if count > 1)
    lost = SUBMISSIONS - len(stored)
    print(f"\nfault injection: {SUBMISSIONS} submissions, {counts.requests} requests, "
          f"{counts.dropped_before} dropped before the server, {counts.dropped_after} dropped after it committed, "
          f"{counts.relayed} answered; most attempts for one submission {max(attempts)}; "
          f"lost {lost}, duplicated {duplicated}")
    assert unexpected == []
    assert len(answers) == SUBMISSIONS                        # every client got its answer in the end
    assert counts.dropped_before > 0 and counts.dropped_after > 0
    assert (lost, duplicated) == (0, 0)
    assert all(count == 1 for count in stored.values())
    assert answers == ids                                     # and the answer named the one stored case
