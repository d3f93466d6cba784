"""A theme layer as GeoJSON over HTTP: every record of one layer (100,000 at city scale) fetched page by page
from `GET /api/v1/layers/{key}/features` under gunicorn (2 sync workers), following `Link: rel="next"` until
there is none, as the map does; against the baseline (benchmarks/http_apps.py `geojson_layer`): a minimal Flask
endpoint that reads the same rows with SQLAlchemy Core, builds the same features (masked by the same rule, the same
rounding) and encodes them with orjson, paged the same way. The viewer is the city's leader (every record in
scope, phones and house numbers masked). Figure: the time to fetch all features, ours / baseline.

    python -m benchmarks.geojson_http [--scale small] [--db URL]      # --db: EMPTIED
"""
from __future__ import annotations

import datetime as dt
import random
import re
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import insert, select

from . import small_city, wrk
from .harness import Figure, run_alone, skipped

NAME = "theme layer as GeoJSON over HTTP (all pages)"
THEME = "emergency.shelters"   # a point layer whose form has a phone, an address and free text
LIMIT = 10_000                 # the largest page the contract allows
ROUNDS = 3
BATCH = 5_000
NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


def seed(url: str, count: int) -> None:
    """`count` records of THEME in the small grid, inserted in bulk (as an import would leave them)."""
    from minqing.core.db import Database
    from minqing.core.models import Grid, ThemeRecord, ThemeVersion, utcnow

    database = Database(url)
    randomly = random.Random(20)
    now = utcnow()
    with database.engine.begin() as connection:
        grid_id, region_code = connection.execute(select(Grid.id, Grid.region_code)
                                                  .where(Grid.code == "G620102001001001")).one()
        version = connection.scalar(select(ThemeVersion.version).where(ThemeVersion.theme_key == THEME)
                                    .order_by(ThemeVersion.version.desc()).limit(1))
        for start in range(0, count, BATCH):
            rows = []
            for number in range(start, min(start + BATCH, count)):
                lon, lat = 103.80 + randomly.random() * 0.05, 36.00 + randomly.random() * 0.10
                # half a day off whole days: no record's patrol state changes while the sides are compared
                created = now - dt.timedelta(days=randomly.randint(1, 90), hours=12)
                patrolled = created + dt.timedelta(days=randomly.randint(0, 20)) if number % 3 else None
                rows.append({
                    "theme_key": THEME, "theme_version": version, "department_key": "emergency",
                    "schema_version": f"{THEME}@{version}", "lon": lon, "lat": lat, "geometry": None,
                    "min_lon": lon, "max_lon": lon, "min_lat": lat, "max_lat": lat, "grid_id": grid_id,
                    "region_code": region_code, "created_by": "benchmark", "created_at": created, "updated_at": created,
                    "last_patrolled_at": patrolled, "retired_by": "", "version": 1,
                    "form_data": {"name": f"永昌路第{number}号避难点", "level": "Ⅲ类（紧急）",
                                  "venue_type": randomly.choice(["公园", "广场", "学校操场"]),
                                  "address": f"城关区永昌路{number % 500}号{number % 7 + 1}单元",
                                  "area_m2": round(randomly.uniform(200, 5000), 1),
                                  "capacity": randomly.randint(50, 3000),
                                  "facilities": randomly.sample(["应急供水", "应急供电", "应急厕所", "医疗救护"], 2),
                                  "manager": "张建国", "manager_phone": f"139{randomly.randint(0, 99_999_999):08d}"}})
            connection.execute(insert(ThemeRecord), rows)
    database.dispose()


def fetch_all(first_url: str, headers: dict[str, str]) -> list[bytes]:
    """Every page's body, from `first_url` on through the `Link: rel="next"` headers (the bodies are read, not
    parsed: a client's decoding is the same work whichever server answered)."""
    bodies, url = [], first_url
    while url:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=300) as answer:
            bodies.append(answer.read())
            found = NEXT.search(answer.headers.get("Link") or "")
        url = found.group(1) if found else None
    return bodies


def _features(bodies: list[bytes]) -> list[dict]:
    import orjson

    return [item for body in bodies for item in orjson.loads(body)["features"]]


def figures(url: str, scale) -> list[Figure]:
    why = wrk.gunicorn_missing()   # wrk itself is not needed: one client follows the links
    if why:
        return [skipped(NAME, "s", 1.5, False, why)]
    key = small_city.build(url, small_city.LEADER)
    seed(url, scale.layer_records)
    environment = {"MINQING_DATABASE_URL": url}
    limit = min(LIMIT, max(scale.layer_records // 3, 1))   # the tiny scale still follows links
    sides = {"ours": ("minqing.web:create_app()", f"/api/v1/layers/{THEME}/features?limit={limit}",
                      {"Authorization": f"Bearer {key}"}),
             "baseline": ("benchmarks.http_apps:geojson_layer()", f"/layers/{THEME}/features?limit={limit}", {})}
    best = dict.fromkeys(sides, float("inf"))
    pages = {}
    with wrk.served(sides["ours"][0], environment) as ours, wrk.served(sides["baseline"][0], environment) as base:
        bases = {"ours": ours, "baseline": base}
        for name, (_app, path, headers) in sides.items():   # every worker's first request: its start, not the figure
            with ThreadPoolExecutor(2 * wrk.WORKERS) as pool:
                list(pool.map(lambda _: _first_page(bases[name] + path, headers), range(2 * wrk.WORKERS)))
        for _ in range(ROUNDS):
            for name, (_app, path, headers) in sides.items():
                started = time.perf_counter()
                pages[name] = fetch_all(bases[name] + path, headers)
                best[name] = min(best[name], time.perf_counter() - started)
    _same(_features(pages["ours"]), _features(pages["baseline"]), scale.layer_records)
    note = (f"{scale.layer_records:,} records of {THEME}, pages of {limit:,} following Link rel=next, "
            f"{len(pages['ours'])} pages; gunicorn {wrk.WORKERS} sync workers; viewer: the city's leader (masked); "
            "baseline: Core SELECT of the columns + dicts + orjson, same properties")
    return [Figure(NAME, best["ours"], best["baseline"], "s", 1.5, False, note=note,
                   extra={"features": scale.layer_records, "pages": len(pages["ours"])})]


def _first_page(url: str, headers: dict[str, str]) -> None:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=300) as answer:
        if answer.status != 200:
            raise RuntimeError(f"GET {url} answered {answer.status}")
        answer.read()


def _same(ours: list[dict], baseline: list[dict], count: int) -> None:
    """Both sides gave every record, with the same features: otherwise the figure compares different work."""
    if len(ours) != count or len(baseline) != count:
        raise RuntimeError(f"features fetched: ours {len(ours)}, baseline {len(baseline)}, records {count}")
    for mine, theirs in zip(ours, baseline):
        if mine != theirs:
            raise RuntimeError(f"feature {mine.get('id')} differs from the baseline's: {mine} != {theirs}")


if __name__ == "__main__":
    run_alone(figures, __doc__)
