"""A time bound on each call of a plugin's hook implementation.

Python cannot kill a thread, so a bound is kept by running the implementation on a worker thread and waiting
at most so many seconds for it: a call that overruns is *abandoned* (it keeps running in the background until it
returns by itself) and counted as a failure of its plugin, and the caller goes on with the other plugins. An
abandoned call may still touch what it was given (the caller's session among them) until it returns; the
failure counter disables a plugin that keeps hanging before that matters much (see `PluginHost`).

On PostgreSQL the host also stops the abandoned call's statement on the server (`statements.Guard`: a cancel
request, the call run in a savepoint of the caller's transaction that is rolled back), so a hook that overruns on
every page load does not leave one more query running each time.

Worker threads are daemons kept in a pool and reused, so a bounded call costs one hand-over between threads
(tens of microseconds, `benchmarks/plugin_calls.py`); a worker whose call was abandoned rejoins the pool when
that call returns. Context variables (Flask's request and application context among them) are carried over.

Bounds are configured per hook, in seconds: ``MINQING_PLUGIN_TIMEOUT`` (default 5) for every hook and
``MINQING_PLUGIN_TIMEOUT_<HOOK>`` (e.g. ``MINQING_PLUGIN_TIMEOUT_DELIVER_NOTIFICATION=30``) for one; ``0`` or
``none`` means no bound (the implementation then runs inline, on the caller's thread). ``seed_demo`` (building
the demo city), ``register_commands`` and ``web_blueprints`` (run once at start) have no bound unless one is
configured; the hooks that declare what a plugin brings (themes, workflows, departments) read files and check
documents, which takes seconds on a cold, loaded machine, so they get a minute: a theme file loader that
overran a request's bound would otherwise be counted as failing and disabled, taking every file theme along.

The platform's own plugins (shipped in Minqing's distribution: the default behaviours, the city's departments)
run inline, on the caller's thread: they are part of the platform, reviewed and tested with it, and a report
calls about eight implementations, so the hand-over between threads (a millisecond each on a loaded machine)
was a fifth of its time. Their failures and answers are checked as everyone's. ``MINQING_PLUGIN_BOUND_OWN=1``
bounds them too.
"""
from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any

DEFAULT_SECONDS = 5.0
UNBOUNDED_HOOKS = frozenset({"seed_demo", "register_commands", "web_blueprints"})
DECLARATION_HOOKS = frozenset({"register_themes", "register_workflows", "register_departments"})
DECLARATION_SECONDS = 60.0
CANCEL_GRACE = 5.0   # seconds a call whose statement was cancelled has to return
MAX_WORKERS = 64   # at most this many calls at once; beyond, a call is refused (and counted as a failure)


class HookTimeout(TimeoutError):
    def __init__(self, hook_name: str, seconds: float, cancelled: bool = False):
        after = "其数据库语句已取消" if cancelled else "该调用仍在后台运行"
        super().__init__(f"挂钩 {hook_name} 超过 {seconds:g} 秒未返回，已放弃等待（{after}）")
        self.hook_name, self.seconds, self.cancelled = hook_name, seconds, cancelled


class TooManyCalls(RuntimeError):
    def __init__(self):
        super().__init__(f"同时运行的插件调用已达 {MAX_WORKERS} 个（可能有插件卡住），本次调用未执行")


def parse_seconds(text: str | None, default: float | None) -> float | None:
    if text is None or not text.strip():
        return default
    if text.strip().lower() in ("none", "off", "0"):
        return None
    seconds = float(text)
    return seconds if seconds > 0 else None


def bound_own_plugins(environ=os.environ) -> bool:
    """Whether the platform's own plugins are time-bounded too (`MINQING_PLUGIN_BOUND_OWN`)."""
    return environ.get("MINQING_PLUGIN_BOUND_OWN", "").strip().lower() in ("1", "true", "yes", "on")


def timeouts_from_environment(hook_names, environ=os.environ) -> dict[str, float | None]:
    """The bound of every hook: its own variable, else the common one, else the default."""
    common = parse_seconds(environ.get("MINQING_PLUGIN_TIMEOUT"), DEFAULT_SECONDS)
    bounds = {}
    for hook_name in hook_names:
        fallback = (None if hook_name in UNBOUNDED_HOOKS
                    else max(common, DECLARATION_SECONDS) if common and hook_name in DECLARATION_HOOKS else common)
        bounds[hook_name] = parse_seconds(environ.get(f"MINQING_PLUGIN_TIMEOUT_{hook_name.upper()}"), fallback)
    return bounds


class _Job:
    __slots__ = ("function", "kwargs", "context", "done", "answer", "error")

    def __init__(self, function: Callable, kwargs: dict):
        self.function, self.kwargs, self.context = function, kwargs, contextvars.copy_context()
        self.done = threading.Lock()
        self.done.acquire()
        self.answer = self.error = None

    def run(self) -> None:
        try:
            self.answer = self.context.run(self.function, **self.kwargs)
        except Exception as error:
            self.error = error
        except BaseException as error:  # SystemExit or KeyboardInterrupt raised by a plugin is its failure too
            self.error = RuntimeError(f"插件抛出了 {type(error).__name__}: {error}")
        finally:
            self.done.release()


class BoundedRunner:
    """Runs calls on pooled daemon threads and waits for each at most its bound."""

    def __init__(self):
        self._idle: list[SimpleQueue] = []   # inboxes of idle workers (list append/pop are atomic)
        self._workers = 0
        self._lock = threading.Lock()

    def call(self, hook_name: str, function: Callable, kwargs: dict, seconds: float | None,
             on_timeout: Callable[[], bool] | None = None) -> Any:
        """`on_timeout`, when the bound passes: stop what the call is doing on the database; True if it stopped a
        statement, and the call is then given `CANCEL_GRACE` seconds to return (it is no longer waiting on the
        database), so the caller gets its connection back with nothing running on it."""
        if seconds is None:
            return function(**kwargs)
        job = _Job(function, kwargs)
        self._inbox().put(job)
        if not job.done.acquire(timeout=seconds):
            cancelled = on_timeout is not None and on_timeout()
            if not (cancelled and job.done.acquire(timeout=CANCEL_GRACE)):
                raise HookTimeout(hook_name, seconds)
            raise HookTimeout(hook_name, seconds, cancelled=True)
        if job.error is not None:
            raise job.error
        return job.answer

    @property
    def workers(self) -> int:
        return self._workers

    def _inbox(self) -> SimpleQueue:
        try:
            return self._idle.pop()
        except IndexError:
            pass
        with self._lock:
            if self._workers >= MAX_WORKERS:
                raise TooManyCalls()
            self._workers += 1
        inbox: SimpleQueue = SimpleQueue()
        threading.Thread(target=self._serve, args=(inbox,), name="minqing-plugin-call", daemon=True).start()
        return inbox

    def _serve(self, inbox: SimpleQueue) -> None:
        while True:
            job = inbox.get()
            job.run()
            job = None       # drop the references before idling
            self._idle.append(inbox)
