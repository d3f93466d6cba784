"""The benchmark script keeps running (no timing is asserted)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "forms.py"


def test_benchmark_runs_and_reports_every_engine():
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True, text=True, timeout=120,
                          cwd=SCRIPT.parent.parent)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for engine in ("jsonschema.validate() per call (uncompiled)", "jsonschema Draft202012Validator, compiled",
                   "fastjsonschema, compiled", "forms.validate() (ours)"):
        row = next(line for line in lines if line.startswith(engine))
        valid_rate, invalid_rate, valid_ratio, invalid_ratio = row[48:].split()
        assert float(valid_rate.replace(",", "")) > 0 and float(invalid_ratio) > 0
    baseline = next(line for line in lines if line.startswith("jsonschema.validate()"))
    assert baseline.split()[-2:] == ["1.0", "1.0"]
    assert "身份证号" in done.stdout or "房屋地址：此项为必填项" in done.stdout
