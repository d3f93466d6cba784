"""The ledger API (/api/v1/themes/{key}/records): each verb, If-Match (428, 412), paging with links, scope,
masking by role, idempotent POST and problem details naming the field — on the trust world's two sides."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from minqing.core.models import ThemeRecord
from minqing.core.models.themes import ThemeRecordChange
from minqing.web import create_app

from tests.fixtures import trust_world as tw

BASE = f"/api/v1/themes/{tw.THEME_A}/records"
DATA = {"name": "永昌路便民市场", "point_type": "便民市场", "stalls": 12, "manager_phone": "13912345678"}
POINT = {"lon": 103.82, "lat": 36.05}


@pytest.fixture
def world(platform):
    return tw.build(platform, with_drafts=False)


@pytest.fixture
def call(platform, world):
    client = create_app({"TESTING": True, "RATELIMIT_ENABLED": False}, platform=platform).test_client()

    def request(username: str, method: str, path: str, **options):
        headers = {"Authorization": f"Bearer {world.keys[username]}", **options.pop("headers", {})}
        return getattr(client, method)(path, headers=headers, **options)
    return request


def _created(call, username="staff", **extra):
    response = call(username, "post", BASE, json={"data": DATA, **POINT, **extra})
    assert response.status_code == 201, response.get_json()
    return response


def test_post_creates_once_per_client_id_and_get_answers_its_etag(call, platform):
    first = _created(call, client_id="sync-001")
    body = first.get_json()
    assert first.headers["ETag"] == '"v1"' and first.headers["Location"].endswith(f"/records/{body['id']}")
    assert body["type"] == "Feature" and body["geometry"] == {"type": "Point", "coordinates": [103.82, 36.05]}
    assert body["properties"]["data"]["name"] == "永昌路便民市场" and body["properties"]["version"] == 1
    again = _created(call, client_id="sync-001")
    assert again.get_json()["id"] == body["id"] and again.headers["Idempotent-Replayed"] == "true"
    read = call("staff", "get", f"{BASE}/{body['id']}")
    assert read.status_code == 200 and read.headers["ETag"] == '"v1"'
    assert call("staff", "get", f"{BASE}/{body['id']}", headers={"If-None-Match": '"v1"'}).status_code == 304
    with platform.db.session() as session:
        assert len(session.scalars(select(ThemeRecord).where(ThemeRecord.client_id.is_not(None))).all()) == 1


def test_bad_input_is_refused_naming_the_field_and_changes_nothing(call, platform):
    response = call("staff", "post", BASE, json={"data": {"name": "x", "point_type": "不存在"}, **POINT})
    problem = response.get_json()
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert list(problem["errors"]) == ["data.point_type"]
    missing = call("staff", "post", BASE, json={"data": DATA, "lon": 103.82, "color": "red"})
    assert missing.status_code == 422 and set(missing.get_json()["errors"]) == {"lat", "color"}
    outside = call("worker", "post", BASE, json={"data": DATA, "lon": 103.72, "lat": 36.05})   # side B's grid
    assert outside.status_code == 403
    with platform.db.session() as session:
        assert session.scalar(select(ThemeRecord.id).where(ThemeRecord.form_data["name"].as_string()
                                                           == DATA["name"])) is None


def test_put_needs_if_match_refuses_a_stale_one_and_records_the_old_values(call, platform):
    record_id = _created(call).get_json()["id"]
    path = f"{BASE}/{record_id}"
    changed = {"data": {**DATA, "stalls": 20}}
    assert call("staff", "put", path, json=changed).status_code == 428
    stale = call("staff", "put", path, json=changed, headers={"If-Match": '"v7"'})
    assert stale.status_code == 412 and "If-Match" in stale.get_json()["errors"]
    done = call("staff", "put", path, json=changed, headers={"If-Match": '"v1"'})
    assert done.status_code == 200 and done.headers["ETag"] == '"v2"'
    assert done.get_json()["properties"]["data"]["stalls"] == 20
    assert call("staff", "put", path, json=changed, headers={"If-Match": '"v1"'}).status_code == 412
    history = call("staff", "get", f"{path}/history").get_json()["items"]
    assert [item["action"] for item in history] == ["create", "update"]
    assert history[1]["changes"]["form_data.stalls"] == {"old": 12, "new": 20}
    with platform.db.session() as session:
        assert session.scalar(select(ThemeRecordChange.version).order_by(ThemeRecordChange.id.desc())) == 2


def test_delete_retires_never_erases_and_lists_leave_it_out(call, platform):
    keep = _created(call).get_json()["id"]
    gone = _created(call).get_json()["id"]
    response = call("staff", "delete", f"{BASE}/{gone}", headers={"If-Match": '"v1"'})
    assert response.status_code == 204 and not response.get_data()
    assert call("staff", "delete", f"{BASE}/{gone}").status_code == 204   # again: still retired
    listed = call("staff", "get", BASE).get_json()
    ids = [feature["id"] for feature in listed["features"]]
    assert keep in ids and gone not in ids
    everything = call("staff", "get", BASE, query_string={"include_retired": "true"}).get_json()
    assert gone in [feature["id"] for feature in everything["features"]]
    read = call("staff", "get", f"{BASE}/{gone}").get_json()
    assert read["properties"]["retired_at"] and read["properties"]["retired_by"]
    assert call("staff", "put", f"{BASE}/{gone}", json={"data": DATA},
                headers={"If-Match": '"v2"'}).status_code == 409
    with platform.db.session() as session:
        assert session.get(ThemeRecord, gone) is not None


def test_pages_link_the_next_one(call):
    for _ in range(3):
        _created(call)
    first = call("staff", "get", BASE, query_string={"limit": 2})
    body = first.get_json()
    assert body["numberMatched"] == 4 and body["numberReturned"] == 2   # the world's own record and three
    assert 'rel="next"' in first.headers["Link"] and "offset=2" in first.headers["Link"]
    last = call("staff", "get", BASE, query_string={"limit": 2, "offset": 2}).get_json()
    assert last["numberReturned"] == 2 and not any(link["rel"] == "next" for link in last["links"])
    assert call("staff", "get", BASE, query_string={"limit": 0}).status_code == 400


def test_scope_and_masking_follow_the_viewer(call, world):
    record_id = _created(call).get_json()["id"]
    path = f"{BASE}/{record_id}"
    assert call("worker_b", "get", path).status_code == 404              # another grid
    assert call("staff_b", "get", path).status_code == 404               # another department
    assert call("staff_b", "put", path, json={"data": DATA}, headers={"If-Match": '"v1"'}).status_code == 404
    assert call("staff_b", "delete", path).status_code == 404
    assert record_id not in [item["id"] for item in call("worker_b", "get", BASE).get_json()["features"]]
    assert call("leader", "get", path).status_code == 200
    assert call("leader", "delete", path).status_code == 403             # leaders read, they do not keep ledgers
    assert call("auditor", "get", BASE).status_code == 403
    staff_view = call("staff", "get", path).get_json()["properties"]["data"]
    worker_view = call("worker", "get", path).get_json()["properties"]["data"]
    assert staff_view["manager_phone"] == "139****5678" and worker_view["manager_phone"] == "13912345678"
    canary = call("staff", "get", f"{BASE}/{world.a['record']}").get_data(as_text=True)
    assert tw.CANARY_ID not in canary
