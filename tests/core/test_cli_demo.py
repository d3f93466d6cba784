"""The user's path: `minqing demo --no-serve` builds a database, `minqing serve` serves it on 127.0.0.1."""
import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest
from click.testing import CliRunner

from minqing.core.cli import build_cli

from tests.fixtures.processes import free_port


@pytest.mark.slow   # builds the whole Lanzhou geography (8,703 grids) on its own
def test_demo_builds_then_serve_answers(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    runner = CliRunner()
    result = runner.invoke(build_cli(), ["--db", url, "demo", "--no-serve", "--residents", "2000"])
    assert result.exit_code == 0, result.output
    assert "admin" in result.output and "Minqing#2026" in result.output
    again = runner.invoke(build_cli(), ["--db", url, "demo", "--no-serve"])
    assert again.exit_code == 0 and "演示城市已存在" in again.output
    figures = json.loads(runner.invoke(build_cli(), ["--db", url, "stats", "--json"]).output)
    assert figures["grids"]["total"] == 8703 and figures["base_data"]["residents"] == 2000

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "minqing.core.cli", "--db", url, "serve", "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ))
    try:
        body, deadline = "", time.monotonic() + 120   # a loaded machine takes a while to import the app
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    body = response.read().decode()
                break
            except OSError:
                time.sleep(0.2)
        said = server.stdout.read().decode(errors="replace")[-2000:] if server.poll() is not None else ""
        assert "大网格 110" in body, said
    finally:
        server.terminate()
        server.wait(timeout=10)
