"""Typed, strict hook calls generated from the specs in `core/hooks.py`.

``platform.hooks.route_case(case=case, session=session)``: one attribute per hook, taking exactly the spec's
arguments, by keyword. A misspelled or forgotten argument is a TypeError naming the hook and the argument, raised
before any plugin runs: pluggy-style calling would hand the plugins None instead and the mistake would show up,
if ever, as a plugin answering nothing. The spec's ``firstresult`` decides the answer, not the caller:

- a ``firstresult`` hook answers the first answer that is not None, or None (``.with_plugin(...)`` also says
  which plugin gave it);
- any other hook answers the list of ``(plugin name, answer)`` of every plugin that answered something.

The calls go through the plugin host, which keeps each plugin's faults and time bounds to itself. ``session``
may be passed to every hook, also one whose spec does not take it (``register_departments``, ``warning_rules``):
it is then the caller's session, which the host uses only to record a plugin's failure inside the caller's
transaction (on SQLite a second connection would wait for the caller's own write lock); plugins do not get it.
"""
from __future__ import annotations

import dataclasses
import difflib
import functools
import inspect
from typing import Any

from minqing.core import hooks

HOST_ARGUMENTS = ("session",)   # accepted by every hook call: see the module's docstring


@dataclasses.dataclass(frozen=True)
class HookSpec:
    name: str
    argnames: tuple[str, ...]
    firstresult: bool
    doc: str

    def signature(self) -> str:
        return f"{self.name}({', '.join(self.argnames)})"


@functools.cache
def specs() -> dict[str, HookSpec]:
    """Every hook of `core/hooks.py`, by name, in the order the module declares them."""
    found = {}
    for name, function in vars(hooks).items():
        opts = getattr(function, f"{hooks.PROJECT}_spec", None)
        if opts is None:
            continue
        argnames = tuple(inspect.signature(function).parameters)
        found[name] = HookSpec(name, argnames, bool(opts.get("firstresult")), inspect.getdoc(function) or "")
    return found


def close_match(word: str, candidates) -> str:
    """", did you mean 'x'?" when one candidate is close to `word`, else ""."""
    matches = difflib.get_close_matches(word, list(candidates), n=1)
    return f", did you mean {matches[0]!r}?" if matches else ""


def spec_of(hook_name: str) -> HookSpec:
    spec = specs().get(hook_name)
    if spec is None:
        raise TypeError(f"there is no hook named {hook_name!r} in minqing.core.hooks{close_match(hook_name, specs())}")
    return spec


def check_arguments(spec: HookSpec, kwargs: dict[str, Any]) -> None:
    """Refuse an argument the spec does not name, and a spec argument left out (pass None when there is none)."""
    for name in kwargs:
        if name not in spec.argnames and name not in HOST_ARGUMENTS:
            raise TypeError(f"hook {spec.signature()} got an unexpected keyword argument {name!r}"
                            f"{close_match(name, spec.argnames)}")
    missing = [name for name in spec.argnames if name not in kwargs]
    if missing:
        raise TypeError(f"hook {spec.signature()} is missing the keyword argument {missing[0]!r} "
                        "(pass None when there is nothing to pass)")


class TypedHook:
    """One hook, called with its spec's arguments; see the module's docstring for what it answers."""

    def __init__(self, host, spec: HookSpec):
        self._host, self.spec = host, spec
        self.__name__, self.__doc__ = spec.name, spec.doc
        host_only = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None)
                     for name in HOST_ARGUMENTS if name not in spec.argnames]
        self.__signature__ = inspect.Signature(
            [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY) for name in spec.argnames] + host_only)

    def __call__(self, **kwargs) -> Any:
        if self.spec.firstresult:
            found = self._host.call_first(self.spec.name, **kwargs)
            return None if found is None else found[1]
        return self._host.call(self.spec.name, **kwargs)

    def with_plugin(self, **kwargs) -> tuple[str, Any] | None:
        """A firstresult hook's first answer with the name of the plugin that gave it, or None."""
        return self._host.call_first(self.spec.name, **kwargs)

    def __repr__(self) -> str:
        return f"<hook {self.spec.signature()}{' firstresult' if self.spec.firstresult else ''}>"


class Hooks:
    """The hooks of one plugin host, as attributes named after the specs."""

    def __init__(self, host):
        for spec in specs().values():
            setattr(self, spec.name, TypedHook(host, spec))

    def __getattr__(self, name: str):   # only reached for names that are not hooks
        raise AttributeError(f"there is no hook named {name!r} in minqing.core.hooks{close_match(name, specs())}")
