"""What a theme builder publish costs every process: reading the registry again after the themes counter moved.

Publishing bumps the `themes` change counter; each process's next registry read then collects every plugin's
theme documents again. The registry remembers which documents it already checked (by content hash) and the
file loader which theme files it already read (by modification time and size), so only the published theme is
checked again. This script publishes one builder theme at a time into a fresh SQLite database and prints the
time of the first read after each publish against a cold read (nothing remembered) in the same run.

    python -m benchmarks.theme_publish [--publishes 5]

A tool, not a figure of `python -m benchmarks`: both times are ours (a cold read against a read after a
publish), the effect of the registry's memory rather than a comparison with a hand-written equivalent; there is
no simpler way to do the same work that a baseline could be (the documents must be collected and checked).
"""
from __future__ import annotations

import argparse
import importlib
import statistics
import tempfile
import time
from pathlib import Path

from minqing.core.actors import system_actor
from minqing.core.models import Department
from minqing.core.platform import Platform
from minqing.themes import authoring, file_plugin
from minqing.themes.registry import registry

registry_module = importlib.import_module("minqing.themes.registry")  # the package exports a function of that name


def cold_read(platform) -> float:
    registry_module._checked.clear()
    file_plugin._load_checked.cache_clear()
    with platform.db.session() as session:
        started = time.perf_counter()
        registry(platform, session, fresh=True)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publishes", type=int, default=5)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        platform = Platform(f"sqlite:///{Path(directory) / 'minqing.db'}")
        platform.db.upgrade()
        actor = system_actor("benchmark")
        with platform.db.session() as session:
            session.add(Department(key="gas", name="兰州市燃气管理处", short_name="燃气"))
        cold = cold_read(platform)
        after = []
        for number in range(arguments.publishes):
            with platform.db.session() as session:
                authoring.start_draft(platform, session, actor, department="gas", slug=f"bench_{number}",
                                      title=f"燃气巡查{number}", template="patrol")
                authoring.publish_draft(platform, session, actor, f"gas.bench_{number}")
            with platform.db.session() as session:
                started = time.perf_counter()
                found = registry(platform, session)
                after.append(time.perf_counter() - started)
                assert f"gas.bench_{number}" in found.themes
        platform.close()
    warm = statistics.median(after)
    print(f"themes in the registry:        {len(found.themes)}")
    print(f"cold read (everything checked): {cold * 1000:8.1f} ms")
    print(f"read after a publish (median):  {warm * 1000:8.1f} ms")
    print(f"ratio cold / after publish:     {cold / warm:8.1f}x")


if __name__ == "__main__":
    main()
