"""The pages a city opens every day, timed on a demo city built at volume (issue #20): the dashboard, the map's
layers, the inbox and the rankings, as the city leader and as the administrator. Run by hand on a database built
with `minqing demo --cases N --residents N --no-serve` (never in CI; it asserts nothing, it prints):

    minqing --db postgresql+psycopg://postgres@127.0.0.1/city demo --scale city --no-serve
    python -m benchmarks.pages_at_volume --db postgresql+psycopg://postgres@127.0.0.1/city [--rounds 3] [--json]
        [--viewer county] [--only inbox]

Each page is requested through the Flask app in this process (no network, no browser: the server's time for the
GET, template rendering included), once to warm the caches and then `--rounds` times; the best and the median
are printed. The database is only read, but for the stored early warnings a page brings up to date when they are
older than their refresh interval allows (core/warning_store.py).
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Iterator

# (label, path) per page; the map's theme layers are added from /map/layers.json as each viewer sees them
PAGES = (
    ("dashboard (this month)", "/manage/"),
    ("dashboard (last 30 days)", "/manage/?period=last_30_days"),
    ("dashboard (last month)", "/manage/?period=last_month"),   # a whole month: "this month" at its end
    ("warnings page", "/manage/warnings"),
    ("rankings by department", "/manage/rankings"),
    ("rankings by county", "/manage/rankings?unit=county"),
    ("rankings by grid", "/manage/rankings?unit=grid"),
    ("inbox", "/work/"),
    ("inbox, overdue only", "/work/?overdue=1"),
    ("inbox, open only", "/work/?status=open"),
    ("inbox, closed only", "/work/?status=closed"),
    ("notifications", "/notifications/"),
    ("map: layers", "/map/layers.json"),
    ("map: cases (city view)", "/map/cases.geojson?bbox={bbox}"),
    # what map.js asks for (issue #20): below zoom 15 the open and recent cases counted per region, then markers
    ("map: case clusters (city view)", "/map/case-clusters.geojson?bbox={bbox}&zoom=9&recent_days=30"),
    ("map: case clusters (townships)", "/map/case-clusters.geojson?bbox={bbox}&zoom=11&recent_days=30"),
    ("map: case clusters (city, 365 days)", "/map/case-clusters.geojson?bbox={bbox}&zoom=9&recent_days=365"),
    ("map: cases (a street, zoom 16)", "/map/cases.geojson?bbox={street}&recent_days=30&limit=5000"),
    ("map: grids (city view)", "/map/grids.geojson?bbox={bbox}&zoom=9"),
    ("map: regions (counties)", "/map/regions.geojson?level=county&bbox={bbox}&zoom=9"),
)
VIEWERS = ("leader", "admin")
DISTRICT = "county"                  # a sub-centre's operator (城关区): what a district's viewer waits for
CITY_BOX = "103.3,35.5,104.5,37.0"   # Lanzhou's city proper and counties, the map's first view
STREET_BOX = "103.82,36.05,103.84,36.06"   # about a 1280×800 screen at zoom 16 in 城关区's centre


def measure(client, path: str, rounds: int) -> dict:
    client.get(path)   # warm: the first request builds caches (themes, workflows, the locator)
    times, status = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - started)
        status = response.status_code
    return {"status": status, "best_s": round(min(times), 4), "median_s": round(statistics.median(times), 4)}


def signed_in(app, username: str, password: str):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": password})
    if response.status_code != 302:
        raise SystemExit(f"cannot sign in as {username}: HTTP {response.status_code}")
    return client


def run(url: str, rounds: int, viewers=VIEWERS, layers: bool = True, only: tuple[str, ...] = ()) -> Iterator[dict]:
    from minqing.core.platform import Platform
    from minqing.plugins.demo_city.build import DEMO_PASSWORD
    from minqing.web import create_app

    platform = Platform(url)
    # TESTING: no CSRF token and no second factor to enrol (the admin's TOTP); the pages themselves are unchanged
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "REQUIRE_TOTP_ROLES": ""}, platform=platform)
    try:   # each page printed as soon as it is timed: at a city's volume a run takes many minutes
        for username in viewers:
            client = signed_in(app, username, DEMO_PASSWORD)
            pages = [(label, path.format(bbox=CITY_BOX, street=STREET_BOX)) for label, path in PAGES]
            if layers:
                keys = [layer["key"] for layer in client.get("/map/layers.json").get_json()["layers"]]
                pages += [(f"map layer {key}", f"/map/layers/{key}.geojson?bbox={CITY_BOX}") for key in keys]
            for label, path in pages:
                if only and not any(part in label for part in only):
                    continue
                yield {"viewer": username, "page": label, "path": path, **measure(client, path, rounds)}
    finally:
        platform.close()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a demo city's database URL (only read)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--viewer", action="append", choices=(*VIEWERS, DISTRICT),
                        help=f"default: {' and '.join(VIEWERS)}; {DISTRICT}: a district's operator")
    parser.add_argument("--no-layers", action="store_true", help="skip the theme layers")
    parser.add_argument("--only", action="append", default=[], metavar="TEXT",
                        help="only the pages whose label holds TEXT (repeatable), e.g. inbox, dashboard, map:")
    parser.add_argument("--json", action="store_true", help="one JSON object per page")
    args = parser.parse_args(argv)
    for row in run(args.db, args.rounds, tuple(args.viewer or VIEWERS), layers=not args.no_layers,
                   only=tuple(args.only)):
        if args.json:
            print(json.dumps(row, ensure_ascii=False), flush=True)
        else:
            print(f"{row['viewer']:7} {row['page']:42} {row['status']}  best {row['best_s'] * 1000:8.1f} ms  "
                  f"median {row['median_s'] * 1000:8.1f} ms", flush=True)


if __name__ == "__main__":
    main()
