"""Every benchmark, each on a fresh database, one JSON object per figure (name, ours, baseline, ratio, goal, met).

    python -m benchmarks [--db URL] [--scale tiny|small|city] [--json] [--only NAME ...]

Without --db each benchmark gets a new SQLite file in a temporary folder; with a PostgreSQL URL that database is
EMPTIED before each benchmark (use a database of its own, never one that holds data). `--scale small` runs in a
few minutes on two cores; `--scale city` (a million cases) is run by hand, never in CI; `tiny` is the harness's
own test (the shape of the answer, not a speed). Without --json a table is printed.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
import time

from .harness import SCALES, Figure, fresh_database, skipped

BENCHMARKS = ("forms", "locate", "evaluation", "sweep", "warning_rules", "grid_colours", "import_rows", "intake_http",
              "geojson_http")
# Figures of issue #20 without a harness yet, as (name, unit, goal, higher is better): reported as skipped, never
# silently left out. None at the moment; the scripts of benchmarks/ not in BENCHMARKS are tools, not figures
# (each one's docstring says why).
NOT_YET: tuple[tuple[str, str, float, bool], ...] = ()


def run(names, url: str | None, scale) -> list[Figure]:
    figures = []
    for name in names:
        module = importlib.import_module(f"{__package__}.{name}")
        with fresh_database(url) as fresh:
            figures.extend(module.figures(fresh, scale))
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=None, help="a PostgreSQL URL of a database of its own (EMPTIED)")
    parser.add_argument("--scale", default="small", choices=SCALES)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run only these benchmarks")
    args = parser.parse_args(argv)
    scale = SCALES[args.scale]
    began = time.perf_counter()
    for name in args.only or BENCHMARKS:
        for figure in run([name], args.db, scale):
            _print(figure, args.json)
    if not args.only:
        for name, unit, goal, higher in NOT_YET:
            _print(skipped(name, unit, goal, higher, "no harness for this figure yet (issue #20)"), args.json)
    print(f"# {args.scale} scale, {time.perf_counter() - began:.0f} s", file=sys.stderr)
    return 0


def _print(figure: Figure, as_json: bool) -> None:
    if as_json:
        print(json.dumps(figure.as_dict(), ensure_ascii=False), flush=True)
        return
    row = figure.as_dict()
    ours = "—" if row["ours"] is None else f"{row['ours']:,.4g}"
    baseline = "—" if row["baseline"] is None else f"{row['baseline']:,.4g}"
    ratio = "—" if row["ratio"] is None else f"{row['ratio']:.3g}"
    verdict = {True: "met", False: "NOT met", None: "skipped"}[row["met"]]
    print(f"{row['name']:55} ours {ours:>10} baseline {baseline:>10} {row['unit']:14} ratio {ratio:>7} "
          f"goal {row['goal']:7} {verdict}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
