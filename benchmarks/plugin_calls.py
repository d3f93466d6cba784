"""Benchmark: what the time bound on plugin calls costs on the hot path.

    python -m benchmarks.plugin_calls                  # 20,000 calls of each kind
    python -m benchmarks.plugin_calls --calls 100000

Each implementation of a bounded hook runs on a pooled worker thread (`core/pluginhost/calls.py`); unbounded, it runs
inline on the caller's thread. Prints, for a hook with one and with five trivial implementations and for the
built-in plugins' `register_departments`, the time per hook call with and without the bound and their ratio,
and the hand-over cost per implementation in microseconds. No database: the switches are not read.

A tool, not a figure of `python -m benchmarks`: it prices one feature (the bound) against the same call without
it, in microseconds per call, where the whole of a request or task is what the harness compares; a plugin call
is a part of the intake, sweep and recolouring figures, which are there.
"""
from __future__ import annotations

import argparse
import time

from minqing.core.hooks import hookimpl
from minqing.core.pluginhost.host import PluginHost


ARGUMENTS = {"dashboard_figures": {"viewer": None, "session": None}, "register_departments": {}}


class Figure:
    def __init__(self, key):
        self.key = key

    @hookimpl
    def dashboard_figures(self, viewer, session):
        return [{"key": self.key, "title": self.key, "value": 1}]


def per_call(host: PluginHost, hook_name: str, calls: int) -> float:
    host.call(hook_name, **ARGUMENTS[hook_name])   # warm the pool
    started = time.perf_counter()
    for _ in range(calls):
        host.call(hook_name, **ARGUMENTS[hook_name])
    return (time.perf_counter() - started) / calls


def measure(host: PluginHost, hook_name: str, calls: int, implementations: int) -> None:
    host.timeouts[hook_name] = None
    inline = per_call(host, hook_name, calls)
    host.timeouts[hook_name] = 5.0
    bounded = per_call(host, hook_name, calls)
    print(f"{hook_name:22} {implementations:>3} impl.  inline {inline * 1e6:8.1f} µs  bounded {bounded * 1e6:8.1f} µs"
          f"  ratio {bounded / inline:5.2f}  (+{(bounded - inline) / implementations * 1e6:5.1f} µs per impl.)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    arguments = parser.parse_args()
    for count in (1, 5):
        host = PluginHost(None, load_entry_points=False)
        for index in range(count):
            host.register(Figure(f"f{index}"), f"figure{index}")
        measure(host, "dashboard_figures", arguments.calls, count)
    builtin = PluginHost(None)
    implementations = len(builtin.manager.hook.register_departments.get_hookimpls())
    measure(builtin, "register_departments", max(1, arguments.calls // 10), implementations)
    print(f"worker threads started: {builtin.runner.workers}")


if __name__ == "__main__":
    main()
