"""Rate limits (Flask-Limiter) on signing in, citizens' text-message codes and creating reports.

Each limit is a Flask-Limiter string read from the config on every request, so a deployment (or a test that must
hammer an endpoint) changes it without code:

    RATELIMIT_LOGIN           "20 per minute;200 per hour"   POST /login and /login/totp, per client address
    RATELIMIT_SMS_CODE        "5 per minute;30 per hour"     POST /citizen/login/code, per client address
    RATELIMIT_SMS_VERIFY      "10 per minute;60 per hour"    POST /citizen/login (the code), per client address
                                                             (both also for staff: POST /login/code/send, /login/code)
    RATELIMIT_REPORT          "30 per minute;600 per day"    POST /work/report/<key>, per account (and as much
                                                             again for POST /work/sync/report/<key>: the outbox)
    RATELIMIT_CITIZEN_REPORT  "5 per minute;30 per day"      POST /citizen/report/<key>, per account
    RATELIMIT_API_REPORT      "120 per minute"               POST /api/v1/cases and Open311 POST requests, per API key
    RATELIMIT_ID_SEARCH       "10 per minute;100 per day"    GET /api/v1/residents and /key-persons with
                                                             ?id_number=, per account, one budget for both (a search
                                                             by exact number confirms a guess: see core.reveal)
    RATELIMIT_API_UPLOAD      "60 per minute;2000 per day"   POST /api/v1/attachments, per API key (each file is decoded)

Counters live in `RATELIMIT_STORAGE_URI` (`MINQING_RATELIMIT_STORAGE_URI`): `memory://` by default (one process;
`InlineMemoryStorage` below), `redis://host:6379/0` to share them between the processes of an installation. `RATELIMIT_ENABLED = False` turns
every limit off. A refused request gets HTTP 429 with `Retry-After` and a Chinese message: a page for people
("操作过于频繁，请N秒后再试"), the API's JSON error (`too_many_requests`) for /api/v1, the spec's error list for
Open311.
"""
from __future__ import annotations

import hashlib
import math
import threading
import time

from flask import Flask, current_app, g, render_template, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_login import current_user
from limits.storage import MemoryStorage

DEFAULTS = {
    "RATELIMIT_LOGIN": "20 per minute;200 per hour",
    "RATELIMIT_SMS_CODE": "5 per minute;30 per hour",
    "RATELIMIT_SMS_VERIFY": "10 per minute;60 per hour",
    "RATELIMIT_REPORT": "30 per minute;600 per day",
    "RATELIMIT_CITIZEN_REPORT": "5 per minute;30 per day",
    "RATELIMIT_API_REPORT": "120 per minute",
    "RATELIMIT_ID_SEARCH": "10 per minute;100 per day",
    "RATELIMIT_API_UPLOAD": "60 per minute;2000 per day",
}
MESSAGE = "操作过于频繁，请{wait}后再试"
# Searches by exact ID number: only a request that carries one counts, residents and key persons share the budget.
ID_SEARCHES = ("api.list_residents", "api.list_key_persons")


def client_address() -> str:
    return request.remote_addr or "unknown"


def signed_in_account() -> str:
    """The signed-in account of a page request, else the client's address."""
    if current_user.is_authenticated:
        return f"account:{current_user.id}"
    return f"address:{client_address()}"


def machine_client() -> str:
    """The API key's account when it is known already, else a digest of the key given, else the address."""
    actor = g.get("api_actor")
    if actor is not None and actor.account_id:
        return f"account:{actor.account_id}"
    key = request.values.get("api_key") or request.headers.get("X-API-Key") or request.headers.get("Authorization")
    if key:
        return "key:" + hashlib.sha256(key.strip().encode()).hexdigest()[:24]
    return f"address:{client_address()}"


def _setting(name: str):
    return lambda: current_app.config.get(name) or DEFAULTS[name]


# endpoint, config key, key function, methods
LIMITS = [
    ("auth.login", "RATELIMIT_LOGIN", client_address, ["POST"]),
    ("auth.second_factor", "RATELIMIT_LOGIN", client_address, ["POST"]),
    ("citizen.send_code", "RATELIMIT_SMS_CODE", client_address, ["POST"]),
    ("citizen.verify_code", "RATELIMIT_SMS_VERIFY", client_address, ["POST"]),
    ("auth.send_password_code", "RATELIMIT_SMS_CODE", client_address, ["POST"]),
    ("auth.code_login", "RATELIMIT_SMS_VERIFY", client_address, ["POST"]),
    ("work.report_theme", "RATELIMIT_REPORT", signed_in_account, ["POST"]),
    ("work.sync_report", "RATELIMIT_REPORT", signed_in_account, ["POST"]),   # the offline outbox's reports
    ("citizen.report_theme", "RATELIMIT_CITIZEN_REPORT", signed_in_account, ["POST"]),
    ("api.create_case", "RATELIMIT_API_REPORT", machine_client, ["POST"]),
    ("open311.post_request", "RATELIMIT_API_REPORT", machine_client, ["POST"]),
    ("api.upload_attachment", "RATELIMIT_API_UPLOAD", machine_client, ["POST"]),
]


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds}秒"
    return f"{math.ceil(seconds / 60)}分钟"


def _retry_after(limiter: Limiter) -> int:
    limit = limiter.current_limit
    if limit is None:
        return 60
    return max(1, int(limit.reset_at - time.time()))


def _refused(limiter: Limiter, _error: RateLimitExceeded):
    """The page for people. /api/v1 and /open311/v2 answer 429 with their own error handlers (their format wins
    over an application handler for the status); `_retry_after_header` adds Retry-After to those too."""
    wait = _retry_after(limiter)
    message = MESSAGE.format(wait=_wait_text(wait))
    return render_template("errors/error.html", status=429, message=message), 429, {"Retry-After": str(wait)}


def _not_an_id_search() -> bool:
    return not request.args.get("id_number", "").strip()


def _limit_id_searches(app: Flask, limiter: Limiter) -> None:
    """The API's before_request has authenticated the key when the limit is checked (in the view's wrapper), so
    `machine_client` counts per account, whichever of the account's keys is used."""
    shared = limiter.shared_limit(_setting("RATELIMIT_ID_SEARCH"), scope="id_number_search", key_func=machine_client,
                                  exempt_when=_not_an_id_search)
    for endpoint in ID_SEARCHES:
        view = app.view_functions.get(endpoint)
        if view is not None:
            app.view_functions[endpoint] = shared(view)


# The base class's private hooks the storage below replaces: a release of limits without them keeps its own
# `memory://` (correct, only slower) rather than a storage whose sweep would never run, or fail.
INLINE_SWEEP_POSSIBLE = all(hasattr(MemoryStorage, name) for name in
                            ("_MemoryStorage__schedule_expiry", "_MemoryStorage__expire_events"))


class InlineMemoryStorage(MemoryStorage):
    """`memory://` without a thread per request. limits' MemoryStorage drops expired counters on a 10-ms Timer
    thread that it starts again whenever the previous one has finished, so a busy worker started a thread on
    nearly every limited request (about 2 ms each on a loaded 2-core machine, and the sweep then competes for the
    GIL). Every read checks a counter's expiry itself (`get`, the windows' bisections), so the sweep only frees
    memory: here it runs inline, at most once every `SWEEP_SECONDS`."""

    STORAGE_SCHEME = ["minqing-memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._swept = time.monotonic()
        self._sweeping = threading.Lock()

    def _MemoryStorage__schedule_expiry(self) -> None:   # the base class's private hook, called before each count
        now = time.monotonic()
        if now - self._swept >= self.SWEEP_SECONDS and self._sweeping.acquire(blocking=False):
            try:
                self._swept = now
                self._MemoryStorage__expire_events()
            finally:
                self._sweeping.release()


def init_app(app: Flask) -> Limiter:
    """Call after every blueprint is registered: the limits wrap the registered views of this app."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    if app.config["RATELIMIT_STORAGE_URI"] == "memory://" and INLINE_SWEEP_POSSIBLE:
        app.config["RATELIMIT_STORAGE_URI"] = "minqing-memory://"
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "minqing")
    limiter = Limiter(key_func=client_address)
    limiter.init_app(app)
    for endpoint, setting, key, methods in LIMITS:
        view = app.view_functions.get(endpoint)
        if view is not None:
            app.view_functions[endpoint] = limiter.limit(_setting(setting), key_func=key, methods=methods)(view)
    _limit_id_searches(app, limiter)
    app.register_error_handler(RateLimitExceeded, lambda error: _refused(limiter, error))

    @app.after_request
    def _retry_after_header(response):
        """Whoever rendered the 429 (a blueprint's own handler may win over ours), it says when to retry."""
        limit = limiter.current_limit
        if response.status_code == 429 and "Retry-After" not in response.headers and limit and limit.breached:
            response.headers["Retry-After"] = str(_retry_after(limiter))
        return response
    app.extensions["minqing_limiter"] = limiter
    return limiter
