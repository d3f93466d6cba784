"""`/healthz`: what a reverse proxy or process manager asks before sending a node traffic.

It answers 200 when the database takes a query and the broker (when one is configured) takes a connection, and 503
naming the part that does not; it says nothing else about the city, needs no sign-in and sets no cookie.
"""
from __future__ import annotations

import logging
import os

from flask import Blueprint, jsonify

from .context import platform

blueprint = Blueprint("health", __name__)
log = logging.getLogger(__name__)
BROKER_TIMEOUT_S = 2.0   # a proxy polls every few seconds: a broker that does not answer in this is down for it


@blueprint.get("/healthz")
def healthz():
    checks = {"database": _database(), "broker": _broker(os.environ.get("MINQING_BROKER_URL", ""))}
    healthy = all(state in ("ok", "not configured") for state in checks.values())
    response = jsonify(status="ok" if healthy else "unavailable", **checks)
    response.status_code = 200 if healthy else 503
    response.cache_control.no_store = True
    return response


def _database() -> str:
    try:
        platform().db.ping()
    except Exception as error:   # noqa: BLE001 - any failure means "not reachable"; the kind is logged, not shown
        log.warning("healthz: database unreachable: %s", type(error).__name__)
        return f"unreachable ({type(error).__name__})"
    return "ok"


def _broker(url: str) -> str:
    if not url:
        return "not configured"   # the embedded mode runs tasks in the process
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=BROKER_TIMEOUT_S) as connection:
            connection.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_S)
    except Exception as error:   # noqa: BLE001
        log.warning("healthz: broker unreachable: %s", type(error).__name__)
        return f"unreachable ({type(error).__name__})"
    return "ok"
