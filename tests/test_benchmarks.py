"""`python -m benchmarks` runs every benchmark at a tiny size and answers one JSON object per figure. The shape is
checked, never a speed (no timed assertions: the machine is shared)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"name", "ours", "baseline", "ratio", "goal", "met", "unit", "note"}


def test_every_figure_has_ours_baseline_ratio_goal_and_verdict():
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--scale", "tiny", "--json"], capture_output=True,
                          text=True, timeout=480, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    figures = [json.loads(line) for line in done.stdout.splitlines()]
    names = [figure["name"] for figure in figures]
    assert len(names) == len(set(names)) >= 13
    for figure in figures:
        assert KEYS <= figure.keys(), figure
        assert figure["goal"].split()[0] in (">=", "<=") and float(figure["goal"].split()[1]) > 0
        if figure["note"].startswith("skipped"):
            assert figure["ours"] is figure["baseline"] is figure["ratio"] is figure["met"] is None
            continue
        assert figure["baseline"] > 0, figure
        if figure["ours"] is None:   # measured, but nothing to show (no request answered within a short run)
            assert figure["ratio"] is figure["met"] is None
            continue
        assert figure["ours"] >= 0
        assert abs(figure["ratio"] - figure["ours"] / figure["baseline"]) <= 0.01 * figure["ratio"]
        bound = float(figure["goal"].split()[1])
        assert figure["met"] == (figure["ratio"] >= bound if figure["goal"].startswith(">=")
                                 else figure["ratio"] <= bound)
    for expected in ("forms.validate, valid documents", "point → grid on the report path", "point → grid in bulk",
                     "evaluation by grid", "SLA sweep", "repeat-report warning", "event intake over HTTP",
                     "theme layer as GeoJSON over HTTP", "grid recolouring, every grid changed",
                     "grid recolouring, nothing changed", "resident import"):
        assert any(name.startswith(expected) for name in names), expected
    sweep = next(figure for figure in figures if figure["name"].startswith("SLA sweep"))
    assert sweep["acted"] > 0 and sweep["second_sweep_actions"] == 0 and sweep["outbox_rows"] > 0
    layer = next(figure for figure in figures if figure["name"].startswith("theme layer as GeoJSON"))
    if not layer["note"].startswith("skipped"):   # every record fetched, over more than one page
        assert layer["features"] == 300 and layer["pages"] > 1
    recolouring = next(figure for figure in figures if figure["name"].startswith("grid recolouring, every"))
    assert recolouring["changed"] == recolouring["red"] + recolouring["yellow"] + recolouring["blue"] > 0
    assert recolouring["red"] > 0 and recolouring["yellow"] > 0   # both sides' colours checked equal, not all blue
    residents = next(figure for figure in figures if figure["name"].startswith("resident import"))
    assert residents["imported"] > 0 and residents["rejected"] > 0   # the same rows stored and refused by both
    assert not any(figure["note"].startswith("skipped: no harness") for figure in figures)
