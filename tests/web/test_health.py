"""/healthz answers the proxy: 200 when the database and the broker answer, 503 naming the part that does not."""
from __future__ import annotations

import pytest

from tests.fixtures.processes import free_port


def test_healthy_without_a_broker(client, monkeypatch):
    monkeypatch.delenv("MINQING_BROKER_URL", raising=False)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "broker": "not configured"}
    assert "no-store" in response.headers["Cache-Control"] and "Set-Cookie" not in response.headers


def test_a_broker_that_does_not_answer_makes_the_node_unavailable(client, monkeypatch):
    monkeypatch.setenv("MINQING_BROKER_URL", f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable" and body["database"] == "ok" and body["broker"].startswith("unreachable")


@pytest.mark.redis
def test_a_live_broker_is_ok(client, monkeypatch):
    monkeypatch.setenv("MINQING_BROKER_URL", "redis://127.0.0.1:6379/15")
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["broker"] == "ok"


def test_a_database_that_does_not_answer_is_named(client, app, monkeypatch):
    engine = app.extensions["minqing"].db.engine
    monkeypatch.setattr(engine.dialect, "do_ping", lambda *_: False, raising=False)
    engine.dispose()
    monkeypatch.setattr(engine, "connect", _refuse)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.get_json()["database"].startswith("unreachable")


def _refuse(*_args, **_kwargs):
    raise ConnectionRefusedError("database down")


def test_the_database_is_asked_through_its_own_ping(client, app, monkeypatch):
    """Only core/db.py opens connections: /healthz asks `Database.ping`, whose failure it names."""
    database = app.extensions["minqing"].db
    asked = []
    monkeypatch.setattr(type(database), "ping", lambda self: asked.append(self) or _refuse())
    response = client.get("/healthz")
    assert asked == [database]
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable (ConnectionRefusedError)"


def test_ping_answers_and_raises_when_the_database_does_not(app, monkeypatch):
    database = app.extensions["minqing"].db
    database.ping()
    monkeypatch.setattr(database.engine, "connect", _refuse)
    with pytest.raises(ConnectionRefusedError):
        database.ping()
