"""The plugin host: finds plugins, knows which are enabled, and calls each one on its own.

pluggy aborts a whole hook call at the first exception, so the host walks the implementations itself: a
plugin that raises is logged and its error recorded on its status, while the others' answers still count.
Whether a plugin is enabled is a row in the database (``plugin_states``), read through a change counter so
a switch made in any process takes effect in all of them at once.

Every call of an implementation is time-bounded (`plugin_calls`: a call that hangs is abandoned and counted as
a failure; on PostgreSQL its statement is cancelled, `statements`) and its answer's shape checked (`plugin_answers`: garbage is recorded and ignored). A plugin that
fails `FAILURE_THRESHOLD` times within `FAILURE_WINDOW` in one process is disabled automatically, through the
same switch an administrator uses, with the reason in the audit log and on the plugins page; a required plugin
is never disabled, its repeated failures are reported instead. Failures are counted from the last time the
plugin was switched, so a plugin an administrator enables again starts with a clean slate.

The specs are the contract (`typed_hooks`): a call must pass exactly a hook's arguments, and a ``firstresult`` hook
stops at the first answer whichever way it is called. A plugin is checked when it is loaded: an implementation of
a hook that does not exist (a misspelling pluggy would register and never call) or naming an argument the hook
does not have refuses the whole plugin, with the reason on its status. Only the platform's own plugins (entry
points of the ``minqing`` distribution, in the ``minqing.`` namespace) may declare themselves required.
"""
from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import difflib
import logging
import os
import threading
import traceback
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

import pluggy
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from minqing.core import counters, hooks
from minqing.core.pluginhost import answers as plugin_answers, statements, typed as typed_hooks
from minqing.core.models import AuditRecord, PluginState, utcnow
from minqing.core.pluginhost.calls import (DEFAULT_SECONDS, BoundedRunner, bound_own_plugins,
                                            timeouts_from_environment)

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "minqing.plugins"
PLUGINS_COUNTER = "plugins"
FAILURE_THRESHOLD = int(os.environ.get("MINQING_PLUGIN_FAILURE_THRESHOLD", "5"))
FAILURE_WINDOW = dt.timedelta(seconds=float(os.environ.get("MINQING_PLUGIN_FAILURE_WINDOW_SECONDS", "600")))
AUTO_DISABLED_BY = "系统（自动停用）"
AUTO_DISABLE_ACTION = "plugin.auto_disable"
PENDING_FAILURES = "minqing_plugin_failures"
PLATFORM_DISTRIBUTION = "minqing"   # only its entry points into the minqing.* namespace may be required
PLATFORM_NAMESPACE = "minqing."
THIRD_PARTY_REQUIRED = ("插件声明了 MINQING_REQUIRED，但只有平台自带的插件可以是必需的：已忽略该声明，"
                        "管理员可以停用它")


class UnknownPlugin(LookupError):
    def __init__(self, name: str):
        super().__init__(f"没有名为“{name}”的插件")
        self.name = name


class RequiredPlugin(ValueError):
    def __init__(self, name: str):
        super().__init__(f"插件“{name}”是平台必需的组成部分，不能停用")


class RefusedPlugin(ValueError):
    """A plugin whose hook implementations do not match the specs; it was not registered."""

    def __init__(self, name: str, why: str):
        super().__init__(f"插件“{name}”未加载：{why}")
        self.name, self.why = name, why


@dataclasses.dataclass(frozen=True)
class PluginInfo:
    name: str
    module: str
    version: str
    hooks: tuple[str, ...]
    required: bool
    enabled: bool
    last_error: str
    last_error_hook: str
    last_error_at: str | None
    error_count: int
    auto_disabled: bool = False
    disabled_reason: str = ""      # why it was disabled automatically (from the audit log), or ""
    disabled_at: str | None = None
    refused: bool = False          # not loaded: its hooks do not match the specs (the reason is `last_error`)
    warnings: tuple[str, ...] = ()
    title: str = ""                # MINQING_TITLE: what a person reads (in Chinese); the name is the plugin's id
    description: str = ""          # MINQING_DESCRIPTION

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class HookFailure:
    plugin: str
    hook: str
    error: BaseException


class GarbageAnswer(ValueError):
    """A hook answered something of the wrong shape; the answer was ignored."""

    def __init__(self, hook_name: str, why: str):
        super().__init__(f"挂钩 {hook_name} 的返回值无效（已忽略）：{why}")


class PluginHost:
    """Holds the plugin manager of one platform. `database` may be None (no switches, no error records)."""

    def __init__(self, database=None, *, load_entry_points: bool = True):
        self.database = database
        self.manager = pluggy.PluginManager(hooks.PROJECT)
        self.manager.add_hookspecs(hooks)
        self.versions: dict[str, str] = {}
        self.hooks = typed_hooks.Hooks(self)   # platform.hooks.route_case(case=..., session=...)
        self.platform_own: set[str] = set()    # the platform's own plugins: the only ones that may be required
        self.refused: dict[str, tuple[str, str]] = {}   # name -> (module, why) of plugins refused at load
        self.warnings: dict[str, list[str]] = {}
        self.failures: list[HookFailure] = []   # this process's recent failures, newest last (bounded)
        self._enabled_cache: tuple[int, dict[str, bool]] | None = None
        self.timeouts = timeouts_from_environment(hook_names())  # seconds per hook call; None: unbounded
        self.bound_own = bound_own_plugins()   # the platform's own plugins run inline unless this says otherwise
        self.runner = BoundedRunner()
        self._recent: dict[str, collections.deque[dt.datetime]] = collections.defaultdict(collections.deque)
        self._recent_lock = threading.Lock()
        if load_entry_points:
            self.load_entry_points()

    # -- discovery ---------------------------------------------------------------------------------------
    def load_entry_points(self) -> None:
        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            if self.manager.has_plugin(entry_point.name):
                continue
            if entry_point.dist is not None:
                self.versions[entry_point.name] = entry_point.dist.version
            try:
                plugin = entry_point.load()
            except Exception as error:  # a plugin that cannot even be imported must not stop the platform
                log.exception("plugin %s could not be loaded", entry_point.name)
                self.refused[entry_point.name] = (entry_point.value, f"无法导入：{error}")
                self._record_failure(entry_point.name, "load", error)
                continue
            try:
                self.register(plugin, entry_point.name, platform_own=_is_platform_own(entry_point))
            except RefusedPlugin:
                continue   # logged and kept on its status by `register`

    def register(self, plugin, name: str, *, platform_own: bool = False) -> None:
        """Register `plugin` under `name` after checking its hook implementations against the specs; raise
        `RefusedPlugin` (and remember why, for `info`) when they do not match. `platform_own` is for the
        platform's own plugins, the only ones whose ``MINQING_REQUIRED`` counts."""
        why = _mismatch(self.manager, plugin) or self._register_checked(plugin, name)
        if why is not None:
            log.error("plugin %s refused: %s", name, why)
            self.refused[name] = (_module_of(plugin), why)
            raise RefusedPlugin(name, why)
        self.refused.pop(name, None)
        self.warnings.pop(name, None)
        if platform_own:
            self.platform_own.add(name)
        elif getattr(plugin, "MINQING_REQUIRED", False):
            log.warning("plugin %s declares MINQING_REQUIRED but is not one of the platform's own: ignored", name)
            self.warnings[name] = [THIRD_PARTY_REQUIRED]

    def _register_checked(self, plugin, name: str) -> str | None:
        """Let pluggy check too (arguments at register, unknown hooks in `check_pending`); its reason, or None."""
        try:
            self.manager.register(plugin, name=name)
            self.manager.check_pending()
        except pluggy.PluginValidationError as error:
            if self.manager.is_registered(plugin):
                self.manager.unregister(plugin)
            return f"挂钩实现与挂钩规范不符：{error}"
        return None

    def unregister(self, name: str) -> None:
        self.manager.unregister(name=name)
        self.platform_own.discard(name)
        self.warnings.pop(name, None)

    def names(self) -> list[str]:
        return sorted(name for name, _ in self.manager.list_name_plugin())

    def is_required(self, name: str) -> bool:
        """Required: one of the platform's own plugins that says so. A third-party plugin cannot be (it would
        otherwise be one an administrator could never switch off)."""
        if name not in self.platform_own:
            return False
        return bool(getattr(self.manager.get_plugin(name), "MINQING_REQUIRED", False))

    # -- switches ----------------------------------------------------------------------------------------
    def _switches(self, session: Session | None = None) -> dict[str, bool]:
        """Enabled switches, re-read only when the plugins counter moved. With the caller's session no second
        connection is taken (a request holding one connection must never wait for another)."""
        if self.database is None:
            return {}
        if session is None:
            with self.database.session() as own:
                return self._switches(own)
        # The counter is read once per session (a request, a task, a CLI run): a demo build or a sweep calls hooks
        # tens of thousands of times, and a switch made elsewhere is seen by the next session anyway.
        generation = counters.seen(session, PLUGINS_COUNTER)
        cached = self._enabled_cache
        if cached and cached[0] == generation:
            return cached[1]
        switches = dict(session.execute(select(PluginState.name, PluginState.enabled)).all())
        self._enabled_cache = (generation, switches)
        return switches

    def is_enabled(self, name: str, session: Session | None = None) -> bool:
        return self.is_required(name) or self._switches(session).get(name, True)

    def set_enabled(self, name: str, enabled: bool, *, session, actor) -> None:
        """Switch a plugin on or off for every process; recorded as a change by `actor`."""
        from minqing.core.changes import record_change

        if not self.manager.has_plugin(name):
            raise UnknownPlugin(name)
        if not enabled and self.is_required(name):
            raise RequiredPlugin(name)
        state = session.get(PluginState, name) or PluginState(name=name)
        state.enabled, state.updated_at, state.updated_by = enabled, utcnow(), actor.name
        session.add(state)
        counters.bump(session, PLUGINS_COUNTER)
        record_change(session, actor, "plugin.enable" if enabled else "plugin.disable",
                      object_type="plugin", object_id=name,
                      summary=f"{'启用' if enabled else '停用'}插件 {name}")
        self._enabled_cache = None
        if enabled:
            self._recent.pop(name, None)

    # -- calling -----------------------------------------------------------------------------------------
    def implementations(self, hook_name: str, session: Session | None = None) -> list[tuple[str, Callable]]:
        """(plugin name, function) of every enabled plugin implementing the hook, in pluggy's call order."""
        caller = getattr(self.manager.hook, hook_name)
        switches = self._switches(session)
        found = []
        for impl in reversed(caller.get_hookimpls()):  # pluggy calls the last registered first
            if self.is_required(impl.plugin_name) or switches.get(impl.plugin_name, True):
                found.append((impl.plugin_name, impl.function, impl.argnames))
        return [(name, _bind(function, argnames)) for name, function, argnames in found]

    def call(self, hook_name: str, **kwargs) -> list[tuple[str, Any]]:
        """Call every enabled plugin; return (plugin name, answer) for each that answered something not None.
        The arguments must be exactly the hook's (TypeError otherwise); a firstresult hook stops at its first
        answer, so the list then holds at most one. Prefer ``platform.hooks.<name>(...)``."""
        spec = typed_hooks.spec_of(hook_name)
        typed_hooks.check_arguments(spec, kwargs)
        if spec.firstresult:
            found = self._first(hook_name, kwargs)
            return [] if found is None else [found]
        answers = []
        session = _session_of(kwargs)
        for name, function in self.implementations(hook_name, session):
            answer = self._call_one(name, hook_name, function, kwargs, session)
            if answer is not None:
                answers.append((name, answer))
        return answers

    def call_first(self, hook_name: str, **kwargs) -> tuple[str, Any] | None:
        """The first (plugin name, answer) that is not None, for a firstresult hook (TypeError for another: all
        of its answers count); plugins that fail are skipped and recorded."""
        spec = typed_hooks.spec_of(hook_name)
        typed_hooks.check_arguments(spec, kwargs)
        if not spec.firstresult:
            raise TypeError(f"hook {spec.signature()} is not firstresult: every plugin's answer counts, use call()")
        return self._first(hook_name, kwargs)

    def _first(self, hook_name: str, kwargs: dict) -> tuple[str, Any] | None:
        session = _session_of(kwargs)
        for name, function in self.implementations(hook_name, session):
            answer = self._call_one(name, hook_name, function, kwargs, session)
            if answer is not None:
                return name, answer
        return None

    def _call_one(self, name: str, hook_name: str, function: Callable, kwargs: dict, session) -> Any:
        """One implementation's answer, time-bounded and shape-checked; None after a recorded failure."""
        try:
            seconds = (None if name in self.platform_own and not self.bound_own
                       else self.timeouts.get(hook_name, DEFAULT_SECONDS))
            if seconds is None:
                answer = self.runner.call(hook_name, function, kwargs, None)
            else:
                with statements.Guard(session) as guard:
                    answer = self.runner.call(hook_name, function, kwargs, seconds, on_timeout=guard.cancel)
        except Exception as error:
            self._record_failure(name, hook_name, error, session)
            return None
        if answer is not None:
            why = plugin_answers.problem(hook_name, answer)
            if why is not None:
                self._record_failure(name, hook_name, GarbageAnswer(hook_name, why), session)
                return None
        return answer

    def collect(self, hook_name: str, **kwargs) -> list[tuple[str, Any]]:
        """Flatten hooks that answer lists: (plugin name, item) for every item of every plugin's list."""
        return [(name, item) for name, answer in self.call(hook_name, **kwargs) for item in answer]

    def _record_failure(self, name: str, hook_name: str, error: BaseException,
                        session: Session | None = None) -> None:
        log.error("plugin %s failed in hook %s: %s", name, hook_name, error,
                  exc_info=(type(error), error, error.__traceback__))
        self.failures = [*self.failures[-99:], HookFailure(name, hook_name, error)]
        now = utcnow()
        with self._recent_lock:
            recent = self._recent[name]
            recent.append(now)
            while recent and recent[0] < now - FAILURE_WINDOW:
                recent.popleft()
        if self.database is None:
            return
        message = "".join(traceback.format_exception_only(type(error), error)).strip()
        # Within the caller's transaction when it has written (a second connection would wait for the caller's
        # write lock on SQLite), in a savepoint so the caller goes on with the other plugins; should that
        # transaction not commit, it is written again once it has ended. A caller that has only read (on
        # SQLite: no write transaction open, where a savepoint would commit by itself) leaves it to our own.
        if session is not None and _holds_writes(session):
            try:
                with session.begin_nested():
                    self._note_failure(session, name, hook_name, message, now)
                self._rewrite_unless_committed(session, (name, hook_name, message, now))
                return
            except Exception:
                log.warning("could not record the failure of plugin %s in the caller's transaction", name)
        self._note_failure_alone(name, hook_name, message, now)

    def _note_failure_alone(self, name: str, hook_name: str, message: str, at: dt.datetime) -> None:
        try:
            with self.database.session() as own:
                self._note_failure(own, name, hook_name, message, at)
        except Exception:
            log.exception("could not record the failure of plugin %s", name)

    def _rewrite_unless_committed(self, session: Session, failure: tuple[str, str, str, dt.datetime]) -> None:
        pending = session.info.get(PENDING_FAILURES)
        if pending is None:
            pending = session.info[PENDING_FAILURES] = []
            event.listen(session, "after_commit", _forget_when_committed)
            event.listen(session, "after_transaction_end", self._after_transaction_end)
        pending.append(failure)

    def _after_transaction_end(self, session: Session, transaction) -> None:
        # The outermost transaction ended without committing; its connection is back in the pool by now.
        if transaction.parent is not None or transaction.nested:
            return
        pending = session.info.get(PENDING_FAILURES) or []
        failures, pending[:] = list(pending), []
        for name, hook_name, message, at in failures:
            self._note_failure_alone(name, hook_name, message, at)

    def _note_failure(self, session: Session, name: str, hook_name: str, message: str, at: dt.datetime) -> None:
        state = session.get(PluginState, name) or PluginState(name=name, error_count=0, enabled=True)
        state.last_error, state.last_error_hook = message[:2000], hook_name
        state.last_error_at, state.error_count = at, (state.error_count or 0) + 1
        session.add(state)
        since = state.updated_at if state.updated_by else None   # failures before the last switch do not count
        with self._recent_lock:
            count = sum(1 for at in self._recent.get(name, ()) if since is None or at >= since)
        if count < FAILURE_THRESHOLD:
            return
        if self.is_required(name):
            if count == FAILURE_THRESHOLD:
                self._audit_failing(session, name, hook_name, message, count)
        elif state.enabled is not False:
            self._auto_disable(session, state, hook_name, message, count)

    def _auto_disable(self, session: Session, state: PluginState, hook_name: str, message: str,
                      count: int) -> None:
        from minqing.core.actors import system_actor
        from minqing.core.changes import record_change

        state.enabled, state.updated_at, state.updated_by = False, utcnow(), AUTO_DISABLED_BY
        counters.bump(session, PLUGINS_COUNTER)
        minutes = FAILURE_WINDOW.total_seconds() / 60
        record_change(session, system_actor("plugin-host"), AUTO_DISABLE_ACTION, object_type="plugin",
                      object_id=state.name,
                      summary=f"插件 {state.name} 在 {minutes:g} 分钟内失败 {count} 次，已自动停用；"
                              f"最近一次在挂钩 {hook_name}：{message[:300]}",
                      details={"hook": hook_name, "failures": count, "window_seconds": FAILURE_WINDOW.total_seconds(),
                               "last_error": message[:1000]})
        self._enabled_cache = None
        log.error("plugin %s disabled automatically after %d failures", state.name, count)

    def _audit_failing(self, session: Session, name: str, hook_name: str, message: str, count: int) -> None:
        from minqing.core.actors import system_actor
        from minqing.core.changes import record_change

        minutes = FAILURE_WINDOW.total_seconds() / 60
        record_change(session, system_actor("plugin-host"), "plugin.failing", object_type="plugin", object_id=name,
                      summary=f"必需插件 {name} 在 {minutes:g} 分钟内失败 {count} 次（必需插件不会自动停用）；"
                              f"最近一次在挂钩 {hook_name}：{message[:300]}",
                      details={"hook": hook_name, "failures": count, "last_error": message[:1000]})
        log.critical("required plugin %s failed %d times within %s", name, count, FAILURE_WINDOW)

    # -- reporting ---------------------------------------------------------------------------------------
    def info(self) -> list[PluginInfo]:
        states, reasons = {}, {}
        if self.database is not None:
            with self.database.session() as session:
                states = {state.name: state for state in session.scalars(select(PluginState))}
                reasons = _auto_disable_reasons(session, [name for name, state in states.items()
                                                          if not state.enabled and state.updated_by == AUTO_DISABLED_BY])
        result = []
        for name in self.names():
            plugin = self.manager.get_plugin(name)
            state = states.get(name)
            hook_names = tuple(sorted(caller.name for caller in self.manager.get_hookcallers(plugin) or ()))
            auto = name in reasons and not self.is_required(name)
            result.append(PluginInfo(
                name=name, module=getattr(plugin, "__name__", type(plugin).__name__),
                version=self.versions.get(name, ""), hooks=hook_names, required=self.is_required(name),
                enabled=self.is_required(name) or (state.enabled if state else True),
                last_error=state.last_error if state else "", last_error_hook=state.last_error_hook if state else "",
                last_error_at=state.last_error_at.isoformat() if state and state.last_error_at else None,
                error_count=state.error_count if state else 0,
                auto_disabled=auto, disabled_reason=reasons.get(name, "") if auto else "",
                disabled_at=state.updated_at.isoformat() if auto and state.updated_at else None,
                warnings=tuple(self.warnings.get(name, ())),
                title=str(getattr(plugin, "MINQING_TITLE", "") or ""),
                description=str(getattr(plugin, "MINQING_DESCRIPTION", "") or ""),
            ))
        return sorted([*result, *self._refused_info()], key=lambda info: info.name)

    def _refused_info(self) -> list[PluginInfo]:
        """Plugins that were found but not loaded (not importable, or hooks not matching the specs)."""
        return [PluginInfo(name=name, module=module, version=self.versions.get(name, ""), hooks=(), required=False,
                           enabled=False, last_error=why, last_error_hook="load", last_error_at=None, error_count=0,
                           refused=True)
                for name, (module, why) in self.refused.items() if not self.manager.has_plugin(name)]


def _auto_disable_reasons(session: Session, names: list[str]) -> dict[str, str]:
    """The summary of the newest automatic disabling of each of `names`."""
    if not names:
        return {}
    rows = session.execute(select(AuditRecord.object_id, AuditRecord.summary)
                           .where(AuditRecord.action == AUTO_DISABLE_ACTION, AuditRecord.object_type == "plugin",
                                  AuditRecord.object_id.in_(names))
                           .order_by(AuditRecord.id))
    return dict(rows.all())   # the newest per plugin wins


def hook_names() -> list[str]:
    """The names of every hook in `core/hooks.py`."""
    return list(typed_hooks.specs())


def _is_platform_own(entry_point) -> bool:
    """An entry point of the platform's own distribution into its own namespace: a built-in plugin. (A third
    party could put a module under ``minqing.``, but not ship it in the ``minqing`` distribution.)"""
    dist = entry_point.dist
    return (dist is not None and dist.name.lower().replace("_", "-") == PLATFORM_DISTRIBUTION
            and entry_point.value.startswith(PLATFORM_NAMESPACE))


def _module_of(plugin) -> str:
    return getattr(plugin, "__name__", type(plugin).__name__)


def _mismatch(manager: pluggy.PluginManager, plugin) -> str | None:
    """Why `plugin`'s hook implementations do not fit the specs, naming the first that does not, or None.
    pluggy would register an implementation of a hook that does not exist and never call it."""
    specs = typed_hooks.specs()
    for attribute in dir(plugin):
        opts = manager.parse_hookimpl_opts(plugin, attribute)
        if opts is None:
            continue
        hook_name = opts.get("specname") or attribute
        spec = specs.get(hook_name)
        if spec is None:
            if opts.get("optionalhook"):
                continue
            close = difflib.get_close_matches(hook_name, list(specs), n=1)
            hint = f"，是否应为 {close[0]}？" if close else "，请对照 minqing.core.hooks 中的挂钩名称"
            return f"挂钩实现 {hook_name} 不对应任何挂钩（拼写错误{hint}）"
        argnames = pluggy.HookImpl(plugin, "", getattr(plugin, attribute), opts).argnames
        extra = [name for name in argnames if name not in spec.argnames]
        if extra:
            return f"挂钩实现 {hook_name} 的参数 {extra[0]} 不在挂钩规范 {spec.signature()} 中"
    return None


def _forget_when_committed(session: Session) -> None:
    # after_commit fires for released savepoints too; only the whole transaction's commit makes them durable
    if not session.in_nested_transaction():
        session.info.get(PENDING_FAILURES, []).clear()


def _holds_writes(session: Session) -> bool:
    """Whether recording in `session` is needed (and safe): always on PostgreSQL; on SQLite only while the
    connection has a write transaction open."""
    try:
        connection = session.connection()
    except Exception:
        return False
    if connection.dialect.name != "sqlite":
        return True
    return bool(getattr(connection.connection.dbapi_connection, "in_transaction", True))


def _session_of(kwargs: dict) -> Session | None:
    session = kwargs.get("session")
    return session if isinstance(session, Session) else None


def _bind(function: Callable, argnames: tuple[str, ...]) -> Callable:
    """Pass a hook implementation only the arguments it names, as pluggy does (callers pass every argument of
    the spec, checked by `typed_hooks.check_arguments`; an implementation may take any subset)."""
    def call(**kwargs):
        return function(**{name: kwargs[name] for name in argnames})
    return call
