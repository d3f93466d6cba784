"""Event intake over HTTP: `POST /api/v1/cases` under gunicorn (2 sync workers) and wrk (16 connections), against
(a) the floor and (b) the same work hand-written (benchmarks/http_apps.py), each on the same database, the runs
interleaved, the best run of each kept. Figures: requests per second and the 99th percentile of (b) and ours;
(a) is reported beside them.

    python -m benchmarks.intake_http [--scale small] [--db URL]      # --db: EMPTIED
"""
from __future__ import annotations

import json

from . import small_city, wrk
from .harness import Figure, run_alone, skipped

RATE, LATENCY = "event intake over HTTP (POST /api/v1/cases)", "event intake over HTTP, p99 latency"
ROUNDS = 2


def figures(url: str, scale) -> list[Figure]:
    why = wrk.missing()
    if why:
        return [skipped(RATE, "requests/s", 0.5, True, why), skipped(LATENCY, "ms", 3.0, False, why)]
    key = small_city.build(url)
    body = json.dumps(small_city.report_body(), ensure_ascii=False).encode()
    # the secret key: the one `build` stored in the database. The API's rate limit per key stays on (its cost is
    # part of ours) but high enough that the load measures intake, not refusals (120 a minute by default)
    environment = {"MINQING_DATABASE_URL": url, "MINQING_RATELIMIT_API_REPORT": "1000000 per minute"}
    sides = {"ours": ("minqing.web:create_app()", "/api/v1/cases", {"Authorization": f"Bearer {key}"}),
             "floor": ("benchmarks.http_apps:floor()", "/cases", {}),
             "hand_written": ("benchmarks.http_apps:hand_written()", "/cases", {})}
    best: dict[str, wrk.Load] = {}
    for _ in range(ROUNDS):
        for name, (app, path, headers) in sides.items():
            with wrk.served(app, environment) as base:
                status = wrk.check(base + path, body, headers)
                if status != 201:
                    raise RuntimeError(f"{name}: POST {path} answered {status}, not 201")
                wrk.warm(base + path, body, headers)
                found = wrk.load(base + path, body, headers, scale.http_seconds)
            if found.failed:
                raise RuntimeError(f"{name}: {found.failed} of {found.requests} requests failed under load")
            if name not in best or found.requests_per_second > best[name].requests_per_second:
                best[name] = found
    ours, floor, hand = best["ours"], best["floor"], best["hand_written"]
    beside = {"floor_requests_per_s": round(floor.requests_per_second, 1), "floor_p99_ms": round(floor.p99_ms, 1),
              "ours_vs_floor": round(ours.requests_per_second / floor.requests_per_second, 4)}
    note = (f"gunicorn {wrk.WORKERS} sync workers, wrk {wrk.CONNECTIONS} connections, {scale.http_seconds} s runs; "
            "baseline (b): compiled validator + STRtree + Core inserts of case, event, milestone, audit record")
    # no request answered within a run: no percentile to speak of (never a p99 of 0 that "meets" the goal)
    p99 = ours.p99_ms if ours.requests else None
    return [Figure(RATE, ours.requests_per_second, hand.requests_per_second, "requests/s", 0.5, True, note=note,
                   extra=beside),
            Figure(LATENCY, p99, hand.p99_ms, "ms", 3.0, False, note=note, extra=beside)]


if __name__ == "__main__":
    run_alone(figures, __doc__)
