"""Roster import speed: the demo city's staff roster with Lanzhou's whole cadre roster (8,465 cadres with their
posts and grids) into a database holding the demo's regions and grids.

Builds the demo geography, loads its regions and grids through the importers (as `minqing demo` does), then
imports the roster twice with `minqing.core.importing.import_city_file` and prints wall and CPU seconds for the
first import (every account new) and the second (nothing changes).

    python -m benchmarks.roster_import [--seed 2260] [--db URL]

A tool, not a figure of `python -m benchmarks`: it times our import alone (wall and CPU per row, first import
and re-import) to follow it from one change to the next. A hand-written equivalent would have to rebuild the
roster's whole meaning (accounts with hashed passwords, posts, grid memberships, departments, the all-or-nothing
check of the file), which is the importer itself rather than a fair simpler baseline; the resident import
(`benchmarks/import_rows.py`) is the import figure of the harness.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from minqing.core import city, importing
from minqing.core.actors import system_actor
from minqing.core.departments import sync_departments
from minqing.core.platform import Platform
from minqing.plugins.demo_city import build, cadre_roster, city_files, spec
from minqing.plugins.demo_city.geography import build_geography


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=spec.DEFAULT_SEED)
    parser.add_argument("--db", default=None, help="Database URL of an EMPTY database (default: a temporary SQLite).")
    args = parser.parse_args()
    actor = system_actor("benchmark")
    with tempfile.TemporaryDirectory(prefix="minqing-roster-") as folder:
        folder = Path(folder)
        platform = Platform(args.db or f"sqlite:///{folder / 'bench.db'}")
        platform.db.upgrade()
        geography = build_geography(args.seed)
        with platform.db.session() as session:
            top = geography.regions[0]
            city.initialise(session, actor, code=top.code, name=top.name, centre=build.MAP_CENTRE,
                            zoom=build.MAP_ZOOM)
        _load(platform, "regions", city_files.write_regions(geography, folder), actor)
        with platform.db.session() as session:
            sync_departments(session, platform.plugins, actor)
        _load(platform, "grids", city_files.write_grids(geography, folder), actor)
        staff = build.roster(geography) + cadre_roster.cadre_rows(geography, args.seed)
        path = city_files.write_roster([row for row, _purpose in staff], folder)
        for label in ("first import", "re-import"):
            wall, cpu = time.perf_counter(), time.process_time()
            summary = importing.import_city_file(platform, "accounts", path, actor=actor)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(f"{label}: {summary.checked:,} rows, {summary.counts.get('added', 0):,} accounts added, "
                  f"{summary.counts.get('posts', 0):,} posts set: {wall:.2f} s wall, {cpu:.2f} s CPU "
                  f"({cpu / summary.checked * 1000:.2f} ms CPU per row)")
        platform.close()


def _load(platform, kind: str, path: Path, actor) -> None:
    summary = importing.import_city_file(platform, kind, path, actor=actor)
    if summary.problems:
        raise SystemExit(f"the demo's {kind} file was refused: {summary.problems[:3]}")


if __name__ == "__main__":
    main()
