"""What every benchmark of `python -m benchmarks` shares: the sizes, a fresh database, interleaved timing and the
figure each one reports (ours against the fairest hand-written baseline for the same work on the same data)."""
from __future__ import annotations

import contextlib
import dataclasses
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from minqing.core.db import Database, is_sqlite


@dataclasses.dataclass(frozen=True)
class Scale:
    name: str
    cases: int            # evaluation: a year of cases, with their events
    open_cases: int       # SLA sweep: open cases, 2 % of them overdue
    recent_cases: int     # repeat-report warning: cases of the last 60 days
    import_rows: int      # resident import
    points: int           # grid locator: points located
    seconds: float        # a measurement of a rate runs about this long (split over the rounds)
    http_seconds: int     # each wrk run
    layer_records: int    # GeoJSON over HTTP: records on one theme layer


SCALES = {
    "tiny": Scale("tiny", 2_000, 2_000, 2_000, 200, 2_000, 0.05, 2, 300),  # the harness's own test: shape, not speed
    "small": Scale("small", 50_000, 100_000, 30_000, 20_000, 100_000, 1.0, 5, 20_000),
    "city": Scale("city", 1_000_000, 1_000_000, 200_000, 500_000, 1_000_000, 3.0, 10, 100_000),
}
ROUNDS = 5   # interleaved rounds: a busy moment of the machine slows one round of one side, not a whole side


@dataclasses.dataclass
class Figure:
    """One line of the report. `higher_is_better`: the figures are rates (ratio = ours / baseline must reach
    the goal); otherwise times (ratio = ours / baseline must stay within it)."""
    name: str
    ours: float | None
    baseline: float | None
    unit: str
    goal: float
    higher_is_better: bool
    note: str = ""
    extra: dict = dataclasses.field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.baseline:
            return None
        return self.ours / self.baseline

    @property
    def met(self) -> bool | None:
        if self.ratio is None:
            return None
        return self.ratio >= self.goal if self.higher_is_better else self.ratio <= self.goal

    def as_dict(self) -> dict:
        return {"name": self.name, "ours": _round(self.ours), "baseline": _round(self.baseline),
                "ratio": _round(self.ratio), "goal": f"{'>=' if self.higher_is_better else '<='} {self.goal:g}",
                "met": self.met, "unit": self.unit, "note": self.note, **self.extra}


def skipped(name: str, unit: str, goal: float, higher_is_better: bool, why: str) -> Figure:
    return Figure(name, None, None, unit, goal, higher_is_better, note=f"skipped: {why}")


def _round(value):
    return None if value is None else float(f"{value:.4g}")


@contextlib.contextmanager
def fresh_database(url: str | None) -> Iterator[str]:
    """The URL of a migrated, empty database: a new SQLite file, or the given PostgreSQL database EMPTIED."""
    with tempfile.TemporaryDirectory() as folder:
        url = url or f"sqlite:///{Path(folder) / 'bench.db'}"
        database = Database(url)
        if is_sqlite(url):
            database.upgrade()
        else:
            database.reset()
        database.dispose()
        yield url


def best_rates(sides: dict[str, Callable[[], int]], seconds: float, rounds: int = ROUNDS) -> dict[str, float]:
    """Each side's best rate (units per second) over interleaved rounds; a side returns how many units it did."""
    best = dict.fromkeys(sides, 0.0)
    for _ in range(rounds):
        for name, run in sides.items():
            done, started = 0, time.perf_counter()
            deadline = started + seconds / rounds
            while True:
                done += run()
                now = time.perf_counter()
                if now >= deadline:
                    break
            best[name] = max(best[name], done / (now - started))
    return best


def best_times(sides: dict[str, Callable[[], object]], rounds: int = ROUNDS, *,
               before: Callable[[], object] | None = None,
               after: Callable[[str, object], object] | None = None) -> dict[str, float]:
    """Each side's best time in seconds over interleaved rounds (for work that takes a while once). `before()`
    runs ahead of every run (putting the data back as it was) and `after(side, answer)` after it (reading what
    it stored), neither timed."""
    best = dict.fromkeys(sides, float("inf"))
    for _ in range(rounds):
        for name, run in sides.items():
            if before is not None:
                before()
            started = time.perf_counter()
            answer = run()
            best[name] = min(best[name], time.perf_counter() - started)
            if after is not None:
                after(name, answer)
    return best


def timed(call: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    answer = call()
    return time.perf_counter() - started, answer


def run_alone(figures: Callable, description: str, argv=None) -> None:
    """A benchmark module run on its own (`python -m benchmarks.<name> [--scale] [--db]`): its figures as JSON."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description=description.splitlines()[0])
    parser.add_argument("--scale", default="small", choices=SCALES)
    parser.add_argument("--db", default=None, help="a PostgreSQL URL of a database of its own (EMPTIED)")
    args = parser.parse_args(argv)
    with fresh_database(args.db) as url:
        for figure in figures(url, SCALES[args.scale]):
            print(json.dumps(figure.as_dict(), ensure_ascii=False), flush=True)
