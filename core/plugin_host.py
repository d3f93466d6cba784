"""The plugin host: finds plugins, knows which are enabled, and calls each one on its own.

pluggy aborts a whole hook call at the first exception, so the host walks the implementations itself: a
plugin that raises is logged and its error recorded on its status, while the others' answers still count.
Whether a plugin is enabled is a row in the database (``plugin_states``), read through a change counter so
a switch made in any process takes effect in all of them at once.
"""
from __future__ import annotations

import dataclasses
import logging
import traceback
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

import pluggy
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import counters, hooks
from .models import PluginState, utcnow

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "minqing.plugins"
PLUGINS_COUNTER = "plugins"


class UnknownPlugin(LookupError):
    def __init__(self, name: str):
        super().__init__(f"没有名为“{name}”的插件")
        self.name = name


class RequiredPlugin(ValueError):
    def __init__(self, name: str):
        super().__init__(f"插件“{name}”是平台必需的组成部分，不能停用")


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

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class HookFailure:
    plugin: str
    hook: str
    error: BaseException


class PluginHost:
    """Holds the plugin manager of one platform. `database` may be None (no switches, no error records)."""

    def __init__(self, database=None, *, load_entry_points: bool = True):
        self.database = database
        self.manager = pluggy.PluginManager(hooks.PROJECT)
        self.manager.add_hookspecs(hooks)
        self.versions: dict[str, str] = {}
        self.failures: list[HookFailure] = []   # this process's recent failures, newest last (bounded)
        self._enabled_cache: tuple[int, dict[str, bool]] | None = None
        if load_entry_points:
            self.load_entry_points()

    # -- discovery ---------------------------------------------------------------------------------------
    def load_entry_points(self) -> None:
        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            if self.manager.has_plugin(entry_point.name):
                continue
            try:
                plugin = entry_point.load()
            except Exception as error:  # a plugin that cannot even be imported must not stop the platform
                log.exception("plugin %s could not be loaded", entry_point.name)
                self._record_failure(entry_point.name, "load", error)
                continue
            self.register(plugin, entry_point.name)
            if entry_point.dist is not None:
                self.versions[entry_point.name] = entry_point.dist.version

    def register(self, plugin, name: str) -> None:
        self.manager.register(plugin, name=name)

    def unregister(self, name: str) -> None:
        self.manager.unregister(name=name)

    def names(self) -> list[str]:
        return sorted(name for name, _ in self.manager.list_name_plugin())

    def is_required(self, name: str) -> bool:
        plugin = self.manager.get_plugin(name)
        return bool(getattr(plugin, "MINQING_REQUIRED", False))

    # -- switches ----------------------------------------------------------------------------------------
    def _switches(self, session: Session | None = None) -> dict[str, bool]:
        """Enabled switches, re-read only when the plugins counter moved. With the caller's session no second
        connection is taken (a request holding one connection must never wait for another)."""
        if self.database is None:
            return {}
        if session is None:
            with self.database.session() as own:
                return self._switches(own)
        generation = counters.value(session, PLUGINS_COUNTER)
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
        from .changes import record_change

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
        """Call every enabled plugin; return (plugin name, answer) for each that answered something not None."""
        answers = []
        session = _session_of(kwargs)
        for name, function in self.implementations(hook_name, session):
            try:
                answer = function(**kwargs)
            except Exception as error:
                self._record_failure(name, hook_name, error, session)
                continue
            if answer is not None:
                answers.append((name, answer))
        return answers

    def call_first(self, hook_name: str, **kwargs) -> tuple[str, Any] | None:
        """The first (plugin name, answer) that is not None; plugins that raise are skipped and recorded."""
        session = _session_of(kwargs)
        for name, function in self.implementations(hook_name, session):
            try:
                answer = function(**kwargs)
            except Exception as error:
                self._record_failure(name, hook_name, error, session)
                continue
            if answer is not None:
                return name, answer
        return None

    def collect(self, hook_name: str, **kwargs) -> list[tuple[str, Any]]:
        """Flatten hooks that answer lists: (plugin name, item) for every item of every plugin's list."""
        return [(name, item) for name, answer in self.call(hook_name, **kwargs) for item in answer]

    def _record_failure(self, name: str, hook_name: str, error: BaseException,
                        session: Session | None = None) -> None:
        log.error("plugin %s failed in hook %s: %s", name, hook_name, error,
                  exc_info=(type(error), error, error.__traceback__))
        self.failures = [*self.failures[-99:], HookFailure(name, hook_name, error)]
        if self.database is None:
            return
        message = "".join(traceback.format_exception_only(type(error), error)).strip()
        # Within the caller's transaction when there is one (a second connection would wait for the caller's
        # write lock on SQLite), in a savepoint so the caller goes on with the other plugins; else on its own.
        if session is not None:
            try:
                with session.begin_nested():
                    _note_failure(session, name, hook_name, message)
                return
            except Exception:
                log.warning("could not record the failure of plugin %s in the caller's transaction", name)
        try:
            with self.database.session() as own:
                _note_failure(own, name, hook_name, message)
        except Exception:
            log.exception("could not record the failure of plugin %s", name)

    # -- reporting ---------------------------------------------------------------------------------------
    def info(self) -> list[PluginInfo]:
        states = {}
        if self.database is not None:
            with self.database.session() as session:
                states = {state.name: state for state in session.scalars(select(PluginState))}
        result = []
        for name in self.names():
            plugin = self.manager.get_plugin(name)
            state = states.get(name)
            hook_names = tuple(sorted(caller.name for caller in self.manager.get_hookcallers(plugin) or ()))
            result.append(PluginInfo(
                name=name, module=getattr(plugin, "__name__", type(plugin).__name__),
                version=self.versions.get(name, ""), hooks=hook_names, required=self.is_required(name),
                enabled=self.is_required(name) or (state.enabled if state else True),
                last_error=state.last_error if state else "", last_error_hook=state.last_error_hook if state else "",
                last_error_at=state.last_error_at.isoformat() if state and state.last_error_at else None,
                error_count=state.error_count if state else 0,
            ))
        return result


def _session_of(kwargs: dict) -> Session | None:
    session = kwargs.get("session")
    return session if isinstance(session, Session) else None


def _note_failure(session: Session, name: str, hook_name: str, message: str) -> None:
    state = session.get(PluginState, name) or PluginState(name=name, error_count=0)
    state.last_error, state.last_error_hook = message[:2000], hook_name
    state.last_error_at, state.error_count = utcnow(), (state.error_count or 0) + 1
    session.add(state)


def _bind(function: Callable, argnames: tuple[str, ...]) -> Callable:
    """Pass a hook implementation only the arguments it names, as pluggy does."""
    def call(**kwargs):
        return function(**{name: kwargs[name] for name in argnames})
    return call
