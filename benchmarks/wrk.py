"""Serving an app with gunicorn (2 sync workers) and loading it with wrk (16 connections), as the HTTP figures
are measured. wrk is a Debian package (`apt install wrk`), not a Python one: `missing()` says what is absent."""
from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKERS, CONNECTIONS, THREADS = 2, 16, 2


def missing() -> str | None:
    """Why the HTTP figures cannot be measured here, or None."""
    if shutil.which("wrk") is None:
        return "wrk is not installed (Debian: apt install wrk)"
    return gunicorn_missing()


def gunicorn_missing() -> str | None:
    """Why no app can be served here, or None. Looked for as a module of this interpreter (`python -m
    gunicorn`): a venv that sees the system's packages has no `gunicorn` script of its own."""
    if importlib.util.find_spec("gunicorn") is None:
        return "gunicorn is not installed in this environment (pip install gunicorn)"
    return None


@dataclasses.dataclass
class Load:
    requests_per_second: float
    p99_ms: float
    requests: int
    failed: int      # non-2xx answers and socket errors


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def served(app: str, environment: dict[str, str]):
    """`app` ('module:factory()') under gunicorn on a free port; yields its base URL; stopped afterwards."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--worker-class", "sync",
         "--bind", f"127.0.0.1:{port}", "--timeout", "120", "--log-level", "warning", app],
        cwd=ROOT, env={**os.environ, **environment}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):   # a cold worker may take seconds (the grid index, the themes)
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn {app} stopped: {process.stdout.read().decode(errors='replace')}")
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def check(url: str, body: bytes, headers: dict[str, str]) -> int:
    """One request before the load: the status it answers (a figure of refused requests would be meaningless)."""
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def warm(url: str, body: bytes, headers: dict[str, str], connections: int = 2 * WORKERS) -> None:
    """Requests at once until each has an answer, so every worker has served one: a worker's first request
    (its grid index, its themes) is a cost of its start, measured apart, not of the steady state."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(lambda _: check(url, body, headers), range(connections)))


def load(url: str, body: bytes, headers: dict[str, str], seconds: int, method: str = "POST") -> Load:
    """wrk against `url` for `seconds`; rate, 99th percentile and failures."""
    lines = [f'wrk.method = "{method}"', 'wrk.headers["Content-Type"] = "application/json"']
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in headers.items()]
    if body:
        lines.append(f"wrk.body = [==[{body.decode()}]==]")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    try:
        done = subprocess.run(["wrk", "-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{seconds}s",
                               "--timeout", "30s", "--latency", "-s", script.name, url],
                              capture_output=True, text=True, timeout=seconds + 120, check=True)
    finally:
        os.unlink(script.name)
    return parse(done.stdout)


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse(output: str) -> Load:
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s|m)\b", output)
    total = int(re.search(r"(\d+) requests in", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    failed = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, errors.groups())) if errors else 0)
    return Load(rate, float(p99.group(1)) * UNITS[p99.group(2)], total, failed)
