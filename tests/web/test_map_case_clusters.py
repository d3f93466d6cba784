"""The map's case layer at a city's volume (issue #20): zoomed out, the server counts the cases per county, township
or village in one GROUP BY within the viewer's scope; the default case request holds the open cases and those of the
last N days (`recent_days`) and says how many it matched; bbox requests keep their contract."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from minqing.core.actors import actor_for
from minqing.core.models import Account, Case, utcnow
from minqing.workflows import report_case

from tests.fixtures.web import INSIDE, OTHER

OLD = utcnow() - dt.timedelta(days=200)


def _report(platform, title: str, point, *, username: str = "worker", when: dt.datetime | None = None,
            status: str | None = None) -> int:
    with platform.db.session() as session:
        actor = actor_for(session, session.scalar(select(Account).where(Account.username == username)))
        case = report_case(platform, session, actor, theme_key="urban_management.street_vending", title=title,
                           description="占道", lon=point[0], lat=point[1], source="grid_worker", now=when)
        case_id = case.id
    if status:   # the history of a closed case is not what these tests look at: its final status is
        with platform.db.session() as session:
            session.execute(update(Case).where(Case.id == case_id).values(status=status, closed_at=utcnow()))
    return case_id


def _city(platform) -> dict[str, int]:
    """张掖路街道 (the village 永昌路社区): two recent open cases, one closed last week, one closed 200 days ago;
    酒泉路街道: one recent open case, one open since 200 days ago, one closed 200 days ago."""
    return {
        "recent": _report(platform, "新近1", INSIDE), "recent2": _report(platform, "新近2", (103.84, 36.06)),
        "closed_lately": _report(platform, "上周办结", INSIDE, when=utcnow() - dt.timedelta(days=6), status="closed"),
        "closed_long_ago": _report(platform, "早已办结", INSIDE, when=OLD, status="closed"),
        "other_recent": _report(platform, "酒泉路新近", OTHER, username="other_worker"),
        "other_open_old": _report(platform, "酒泉路久未办结", OTHER, username="other_worker", when=OLD),
        "other_voided_old": _report(platform, "酒泉路作废", OTHER, username="other_worker", when=OLD, status="voided"),
    }


def _clusters(client, **query) -> dict:
    response = client.get("/map/case-clusters.geojson", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/geo+json"
    return response.get_json()


def _counts(body: dict) -> dict[str, int]:
    return {feature["properties"]["region_code"]: feature["properties"]["count"] for feature in body["features"]}


def _in_scope(client, **query) -> list[dict]:
    """Every case the viewer's case layer holds for the same query, followed page by page."""
    features, url = [], "/map/cases.geojson"
    while url:
        body = client.get(url, query_string=query).get_json()
        query = {}
        features += body["features"]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    return features


def test_cluster_counts_are_the_cases_in_scope_per_region_at_each_level(platform, world, as_user):
    _city(platform)
    leader, station = as_user("leader"), as_user("station")
    every = _clusters(leader, zoom=9)
    assert every["features"][0]["properties"]["level"] == "county"
    assert _counts(every) == {"620102000000": 7} and every["casesMatched"] == 7
    [county] = every["features"]
    assert county["properties"]["name"] == "城关区" and county["properties"]["zoom_in"] == 11
    # open: all but the closed and voided three; overdue: the open case reported 200 days ago, its step long due
    assert county["properties"]["open"] == 4 and county["properties"]["overdue"] == 1

    townships = _clusters(leader, zoom=11)
    assert _counts(townships) == {"620102001000": 4, "620102002000": 3}
    assert {f["properties"]["name"] for f in townships["features"]} == {"张掖路街道", "酒泉路街道"}
    assert townships["numberMatched"] == townships["numberReturned"] == 2
    villages = _clusters(leader, zoom=13)
    assert _counts(villages) == {"620102001001": 4, "620102002000": 3}   # 酒泉路's cases lie in its township grid
    assert villages["features"][0]["properties"]["zoom_in"] == 15

    # the circle of a region sits among its cases: the mean of their positions
    zhangye = next(f for f in townships["features"] if f["id"] == "620102001000")
    lon, lat = zhangye["geometry"]["coordinates"]
    assert abs(lon - (3 * INSIDE[0] + 103.84) / 4) < 1e-6 and abs(lat - (3 * INSIDE[1] + 36.06) / 4) < 1e-6

    # a district viewer counts only its own region, and the sum equals its case layer
    own = _clusters(station, zoom=11)
    assert _counts(own) == {"620102001000": 4}
    assert own["casesMatched"] == len(_in_scope(station)) == 4
    assert _counts(_clusters(as_user("jiuquan"), level="village")) == {"620102002000": 3}
    assert _clusters(as_user("citizen"), zoom=9)["features"] == []


def test_clusters_and_markers_hold_the_open_and_recent_cases_alike(platform, world, as_user):
    ids = _city(platform)
    leader = as_user("leader")
    recent = _clusters(leader, zoom=11, recent_days=30)
    # open whatever their age, or reported in the last 30 days whatever their status
    assert _counts(recent) == {"620102001000": 3, "620102002000": 2}
    body = leader.get("/map/cases.geojson?recent_days=30").get_json()
    assert {f["id"] for f in body["features"]} == {ids["recent"], ids["recent2"], ids["closed_lately"],
                                                   ids["other_recent"], ids["other_open_old"]}
    assert body["numberMatched"] == body["numberReturned"] == 5 == recent["casesMatched"]
    week = leader.get("/map/cases.geojson?recent_days=7&limit=2").get_json()
    assert week["numberMatched"] == 5 and week["numberReturned"] == 2      # paged, and says so
    assert any(link["rel"] == "next" and "recent_days=7" in link["href"] for link in week["links"])
    assert {f["id"] for f in _in_scope(leader, recent_days=3)} == {
        ids["recent"], ids["recent2"], ids["other_recent"], ids["other_open_old"]}
    # without recent_days: every case, as the layer always answered
    assert leader.get("/map/cases.geojson").get_json()["numberMatched"] == 7


def test_a_bbox_limits_clusters_and_markers_and_bad_parameters_are_400(platform, world, as_user):
    ids = _city(platform)
    leader = as_user("leader")
    street = "103.82,36.04,103.835,36.055"   # around INSIDE only
    markers = leader.get(f"/map/cases.geojson?bbox={street}&recent_days=30").get_json()
    assert {f["id"] for f in markers["features"]} == {ids["recent"], ids["closed_lately"]}
    assert _counts(_clusters(leader, bbox=street, zoom=13, recent_days=30)) == {"620102001001": 2}
    assert _clusters(leader, bbox="100,30,100.1,30.1", zoom=9)["features"] == []
    for query in ("recent_days=0", "recent_days=367", "recent_days=x", "bbox=1,2,3", "level=group"):
        response = leader.get(f"/map/case-clusters.geojson?{query}")
        assert response.status_code == 400, query
    assert leader.get("/map/cases.geojson?recent_days=-1").status_code == 400
    assert "recent_days" in leader.get("/map/cases.geojson?recent_days=400").get_json()["message"]


def test_the_map_page_asks_for_clusters_and_offers_the_periods(world, as_user):
    page = as_user("leader").get("/map/").get_data(as_text=True)
    assert 'data-clusters-url="/map/case-clusters.geojson"' in page and 'data-markers-from="15"' in page
    assert '<option value="30" selected>未办结及近 30 天上报</option>' in page
