"""The REST API at /api/v1 with real keys on the `world` of the page tests: every endpoint with valid and invalid
input, every role, scope (out of scope is 404, never listed), masking, idempotent creates and JSON errors."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from shapely.geometry import box, mapping
from sqlalchemy import func, select

from minqing.core.models import (Account, Attachment, Case, CaseEvent, IdempotencyKey, KeyPerson, Region,
                                 ThemeRecord, Visit)

from tests.fixtures.api import (HOTLINE, ID_NUMBER, INSIDE_REGION, OTHER_REGION, PHONE, THEME, error_of,
                                hotline, report, street_vending)
from tests.fixtures.web import INSIDE, OTHER


def case_count(platform) -> int:
    with platform.db.session() as session:
        return session.scalar(select(func.count(Case.id)))


@pytest.fixture
def two_cases(api):
    """One case in the station's township (reported by the grid worker), one in the Jiuquan road township."""
    inside = report(api, "worker", hotline(INSIDE, title="永昌路楼道灯不亮"))
    other = report(api, "other_worker", hotline(OTHER, title="酒泉路井盖缺失"))
    return inside, other


# -- authentication ----------------------------------------------------------------------------------------------

PROTECTED = [("get", "/themes"), ("get", f"/themes/{THEME}"), ("get", "/cases"), ("post", "/cases"),
             ("get", "/cases/1"), ("post", "/cases/1/transitions/accept"), ("post", "/cases/1/urge"),
             ("get", "/grids"), ("get", "/grids/1"), ("get", "/regions"), ("get", "/regions/1"),
             ("get", "/layers"), ("get", f"/layers/{THEME}/features"), ("get", "/visits"), ("post", "/visits"),
             ("get", "/visits/1"), ("get", "/households"), ("get", "/households/1"), ("get", "/residents"),
             ("get", "/residents/1"), ("get", "/key-persons"), ("get", "/key-persons/1"), ("get", "/key-places"),
             ("get", "/key-places/1"), ("get", "/units"), ("get", "/units/1"), ("post", "/attachments")]


@pytest.mark.parametrize("key", [None, "", "mq_not-a-real-key", "not-even-the-prefix", "revoked", "gone"])
def test_no_key_a_bad_key_a_revoked_key_or_an_inactive_account_is_401_everywhere(api, platform, key):
    client = api(key)
    for method, path in PROTECTED:
        response = client.post(path, {}) if method == "post" else client.get(path)
        error = error_of(response, 401)
        assert error["code"] in ("missing_api_key", "invalid_api_key"), (path, error)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert case_count(platform) == 0


def test_the_key_may_come_as_bearer_or_x_api_key_and_its_use_is_recorded(api, platform, keys):
    for header in ("bearer", "x-api-key"):
        response = api("worker", header).get("/themes")
        assert response.status_code == 200, response.get_json()
    lower = api(None).get("/themes", headers={"Authorization": f"bearer {keys['worker']}"})
    assert lower.status_code == 200
    with platform.db.session() as session:
        from minqing.core.models import ApiKey
        used = session.scalars(select(ApiKey.last_used_at).join(Account).where(Account.username == "worker"))
        assert all(value is not None for value in used)


def test_an_api_request_s_viewer_is_the_key_s_account(app, keys):
    from minqing.web.api.auth import authenticate_request, request_actor
    from minqing.web.context import viewer

    with app.test_request_context("/api/v1/cases", headers={"X-API-Key": keys["station"]}):
        actor = authenticate_request()
        assert viewer() is actor and actor.name == "station" and actor.has_role("operator")
    with app.test_request_context("/api/v1/cases", headers={"Authorization": "Bearer mq_wrong"}):
        assert request_actor() is None


def test_the_auditor_may_use_none_of_the_business_endpoints(api, two_cases, base_data):
    auditor = api("auditor")
    for path in ("/themes", "/cases", f"/cases/{two_cases[0]['id']}", "/grids", "/regions", "/layers", "/visits",
                 "/households", "/residents", "/key-persons", "/key-places", "/units"):
        error_of(auditor.get(path), 403, "forbidden")
    error_of(auditor.post("/cases", hotline()), 403, "forbidden")


def test_unknown_addresses_and_methods_answer_json(api):
    error_of(api("admin").get("/nothing/here"), 404, "not_found")
    error_of(api("admin").get("/cases/not-a-number"), 404, "not_found")
    error_of(api("admin").http.delete("/api/v1/cases", headers=api("admin").headers()), 405, "method_not_allowed")
    error_of(api("admin").http.put("/api/v1/themes", headers=api("admin").headers()), 405)


# -- themes ------------------------------------------------------------------------------------------------------

def test_themes_list_and_read_with_their_forms(api):
    listed = api("worker").get("/themes").get_json()["items"]
    keys = [item["key"] for item in listed]
    assert THEME in keys and HOTLINE in keys and keys == sorted(keys)
    vending = next(item for item in listed if item["key"] == THEME)
    assert vending["title"] == "占道经营" and vending["department"] == "urban_management"
    assert "report" in vending["forms"] and any(item["code"] == "1001" for item in vending["categories"])
    detail = api("worker").get(f"/themes/{THEME}").get_json()
    assert detail["schemas"]["report"]["properties"]["vending_type"]["enum"][0] == "店外经营"
    request_schema = detail["case_request_schema"]
    assert {"title", "category", "urgency", "details"} <= set(request_schema["properties"])
    assert "photos" in request_schema["properties"]["details"]["required"]
    # A citizen's request has no urgency (the centre decides) and asks the kind of appeal.
    citizen = api("citizen").get(f"/themes/{THEME}").get_json()["case_request_schema"]
    assert "urgency" not in citizen["properties"] and "kind" in citizen["properties"]
    for username in ("admin", "station", "chengguan", "leader", "citizen"):
        assert api(username).get("/themes").status_code == 200
    error_of(api("worker").get("/themes/no.such_theme"), 404, "unknown_theme")


# -- reporting ---------------------------------------------------------------------------------------------------

def test_a_grid_worker_reports_with_a_photo_and_a_retry_returns_the_first_case(api, platform):
    worker = api("worker")
    photo = worker.upload()
    body = street_vending(**{"details.photos": [photo]})
    first = worker.post("/cases", body, headers={"Idempotency-Key": "report-0001"})
    assert first.status_code == 201, first.get_json()
    case = first.get_json()
    assert case["status"] == "reported" and case["theme"] == THEME and case["source"] == "grid_worker"
    assert case["region_code"] == INSIDE_REGION and case["grid_id"] is not None
    assert first.headers["Location"].endswith(f"/api/v1/cases/{case['id']}")
    assert case["attachments"][0]["id"] == photo and case["timeline"][0]["action"] == "report"
    retry = worker.post("/cases", body, headers={"Idempotency-Key": "report-0001"})
    assert retry.status_code == 201 and retry.get_json() == case
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert case_count(platform) == 1
    # The same key with another body is not a retry.
    changed = worker.post("/cases", {**body, "title": "另一件事"}, headers={"Idempotency-Key": "report-0001"})
    error = error_of(changed, 422, "idempotency_key_reused")
    assert "Idempotency-Key" in error["fields"]
    assert case_count(platform) == 1
    with platform.db.session() as session:
        assert session.scalar(select(Attachment.case_id).where(Attachment.id == photo)) == case["id"]
        assert session.scalar(select(func.count(IdempotencyKey.id))) == 1


def test_client_id_in_the_body_works_like_the_header_and_keys_are_per_account(api, platform):
    body = hotline(client_id="app-7f3e")
    first = report(api, "worker", body)
    again = api("worker").post("/cases", body)
    assert again.status_code == 201 and again.get_json()["id"] == first["id"]
    # Another account using the same client id gets a case of its own, never the first one.
    mine = report(api, "station", body)
    assert mine["id"] != first["id"]
    assert case_count(platform) == 2
    error_of(api("worker").post("/cases", hotline(client_id="app-7f3e", title="别的事情")), 422,
             "idempotency_key_reused")
    error_of(api("worker").post("/cases", hotline(client_id=42)), 422)
    error_of(api("worker").post("/cases", hotline(), headers={"Idempotency-Key": "x" * 201}), 400,
             "invalid_idempotency_key")


def test_a_failed_create_stores_nothing_so_the_fixed_request_may_reuse_its_key(api, platform):
    worker = api("worker")
    bad = worker.post("/cases", hotline(title="x"), headers={"Idempotency-Key": "k-1"})
    assert error_of(bad, 422, "form_invalid")["fields"]["title"]
    good = worker.post("/cases", hotline(), headers={"Idempotency-Key": "k-1"})
    assert good.status_code == 201
    assert case_count(platform) == 1


def test_report_errors_name_each_field_in_chinese_and_change_nothing(api, platform):
    worker = api("worker")
    body = street_vending()
    del body["details"]["vending_type"]
    body["title"] = "x"
    body["surprise"] = 1
    error = error_of(worker.post("/cases", body), 422, "form_invalid")
    fields = error["fields"]
    assert "details.vending_type" in fields and "经营类型" in fields["details.vending_type"][0]
    assert "title" in fields and "surprise" in fields
    assert "details.photos" in fields  # at least one photo
    assert "theme" in error_of(worker.post("/cases", {"title": "没有主题"}), 422)["fields"]
    error_of(worker.post("/cases", hotline(theme="no.such")), 404, "unknown_theme")
    error_of(worker.post("/cases", hotline(urgency="whenever")), 422, "form_invalid")
    outside = error_of(worker.post("/cases", hotline((100.0, 30.0))), 422)
    assert "details.location" in outside["fields"]
    nowhere = hotline()
    del nowhere["details"]["location"]
    assert "details.location" in error_of(worker.post("/cases", nowhere), 422)["fields"]
    foreign = api("station").upload()
    stolen = error_of(worker.post("/cases", street_vending(**{"details.photos": [foreign]})), 422)
    assert "details.photos[0]" in stolen["fields"]
    error_of(worker.post("/cases", data="not json", content_type="application/json"), 400, "malformed_json")
    error_of(worker.post("/cases", [1, 2]), 400, "malformed_json")
    error_of(worker.post("/cases", data="title=x", content_type="application/x-www-form-urlencoded"), 415)
    error_of(worker.post("/cases"), 400, "body_required")
    assert case_count(platform) == 0


@pytest.mark.parametrize("username", ["chengguan", "leader", "auditor"])
def test_roles_that_do_not_report_are_refused(api, platform, username):
    error_of(api(username).post("/cases", hotline()), 403, "forbidden")
    assert case_count(platform) == 0


def test_operators_admins_and_citizens_report(api, platform):
    assert report(api, "station", hotline())["source"] == "api"
    assert report(api, "admin", hotline(urgency="urgent"))["urgency"] == "urgent"
    mine = report(api, "citizen", hotline())  # the theme's own appeal_type is the kind of appeal
    assert mine["source"] == "citizen" and mine["urgency"] == "normal"
    assert mine["description"].startswith("【求助】")
    error = error_of(api("citizen").post("/cases", hotline(urgency="critical")), 422)
    assert "urgency" in error["fields"]  # not a citizen's field
    vending = api("citizen").get(f"/themes/{THEME}").get_json()["case_request_schema"]
    assert "kind" in vending["required"]  # asked when the theme's form does not ask it
    without_kind = error_of(api("citizen").post("/cases", street_vending(urgency=None)), 422)
    assert "kind" in without_kind["fields"]
    assert case_count(platform) == 3


# -- listing and reading cases -----------------------------------------------------------------------------------

def ids(response) -> set[int]:
    assert response.status_code == 200, response.get_json()
    return {item["id"] for item in response.get_json()["items"]}


def test_each_role_lists_only_the_cases_in_its_scope(api, two_cases):
    inside, other = two_cases[0]["id"], two_cases[1]["id"]
    expected = {"admin": {inside, other}, "centre": {inside, other}, "leader": {inside, other},
                "station": {inside}, "jiuquan": {other}, "worker": {inside}, "other_worker": {other},
                "chengguan": set(), "water": set(), "citizen": set()}
    for username, wanted in expected.items():
        assert ids(api(username).get("/cases")) == wanted, username
    # Out of scope is 404 (the same answer as a case that does not exist).
    for username, hidden in (("station", other), ("jiuquan", inside), ("worker", other), ("chengguan", inside),
                             ("citizen", inside)):
        error_of(api(username).get(f"/cases/{hidden}"), 404, "not_found")
    error_of(api("admin").get("/cases/999999"), 404, "not_found")


def test_a_citizen_sees_only_their_own_cases_with_a_public_timeline(api, two_cases):
    mine = report(api, "citizen", hotline())
    assert ids(api("citizen").get("/cases")) == {mine["id"]}
    shown = api("citizen").get(f"/cases/{mine['id']}").get_json()
    assert shown["timeline"][0]["actor"] == "我" and shown["transitions"] == []
    api("station").post(f"/cases/{mine['id']}/transitions/accept", {"comment": "内部意见：转城管"})
    shown = api("citizen").get(f"/cases/{mine['id']}").get_json()
    accept = shown["timeline"][-1]
    assert accept["action"] == "accept" and accept["actor"] == "工作人员" and accept["comment"] == ""
    assert "form" not in accept
    staff = api("station").get(f"/cases/{mine['id']}").get_json()["timeline"][-1]
    assert staff["actor"] == "station" and staff["comment"] == "内部意见：转城管"


def test_personal_data_in_a_case_is_masked_by_role(api):
    case = report(api, "worker", street_vending(**{"details.photos": [api("worker").upload()]}))
    masked_id = "620102********1234"
    for username, phone_visible, address_visible in (("worker", True, True), ("station", True, True),
                                                     ("leader", False, False), ("admin", False, False)):
        shown = api(username).get(f"/cases/{case['id']}").get_json()
        text = str(shown)
        assert ID_NUMBER not in text and masked_id in shown["description"], username
        assert (PHONE in shown["description"]) is phone_visible, username
        assert (PHONE in shown["form_data"]["description"]) is phone_visible
        assert ("139****5678" in shown["description"]) is not phone_visible
        assert (shown["address"] == "张掖路123号门前") is address_visible, (username, shown["address"])
        assert (shown["form_data"]["address"] == "张掖路123号门前") is address_visible
        if not address_visible:
            assert shown["address"] == "张掖路*号门前"
    listed = api("leader").get("/cases").get_json()["items"][0]
    assert listed["address"] == "张掖路*号门前"


def test_list_filters(api, platform, two_cases):
    inside, other = two_cases[0]["id"], two_cases[1]["id"]
    urgent = report(api, "worker", hotline(title="特急漏水", urgency="critical"))["id"]
    admin = api("admin")
    assert ids(admin.get("/cases", urgency="critical")) == {urgent}
    assert ids(admin.get("/cases", theme=HOTLINE)) == {inside, other, urgent}
    assert ids(admin.get("/cases", theme=THEME)) == set()
    assert ids(admin.get("/cases", status="reported")) == {inside, other, urgent}
    assert ids(admin.get("/cases", status="closed")) == set()
    assert ids(admin.get("/cases", status="open")) == {inside, other, urgent}
    assert ids(admin.get("/cases", bbox="103.80,36.00,103.88,36.10")) == {inside, urgent}
    assert ids(admin.get("/cases", bbox="103.90,36.00,104.00,36.10")) == {other}
    with platform.db.session() as session:  # the inside case is past its deadline
        case = session.get(Case, inside)
        case.state_deadline_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        case.created_at = dt.datetime(2026, 1, 5, 4, 0, tzinfo=dt.UTC)
    assert ids(admin.get("/cases", overdue="true")) == {inside}
    assert inside not in ids(admin.get("/cases", overdue="false"))
    assert api("admin").get(f"/cases/{inside}").get_json()["overdue"] is True
    assert ids(admin.get("/cases", created_from="2026-01-05", created_to="2026-01-05")) == {inside}
    assert ids(admin.get("/cases", created_to="2026-01-04")) == set()
    assert inside not in ids(admin.get("/cases", created_from="2026-01-06T00:00:00+08:00"))
    for params, field in (({"urgency": "soon"}, "urgency"), ({"overdue": "maybe"}, "overdue"),
                          ({"bbox": "1,2,3"}, "bbox"), ({"bbox": "200,0,201,1"}, "bbox"),
                          ({"created_from": "yesterday"}, "created_from"),
                          ({"created_from": "2026-02-01", "created_to": "2026-01-01"}, "created_to"),
                          ({"page": "0"}, "page"), ({"page": "x"}, "page"), ({"per_page": "101"}, "per_page"),
                          ({"per_page": "0"}, "per_page")):
        error = error_of(admin.get("/cases", **params), 400, "invalid_parameter")
        assert field in error["fields"], (params, error)


def test_pages_carry_the_total_and_link_headers(api, world):
    made = [report(api, "worker", hotline(title=f"第{number}件事"))["id"] for number in range(5)]
    first = api("worker").get("/cases", per_page=2)
    body = first.get_json()
    assert body["total"] == 5 and body["pages"] == 3 and body["page"] == 1 and len(body["items"]) == 2
    assert [item["id"] for item in body["items"]] == sorted(made, reverse=True)[:2]
    assert first.headers["X-Total-Count"] == "5"
    links = dict((rel, url) for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', first.headers["Link"]))
    assert set(links) == {"first", "last", "next"}
    assert "page=2" in links["next"] and "per_page=2" in links["next"] and "page=3" in links["last"]
    last = api("worker").get("/cases", per_page=2, page=3)
    assert len(last.get_json()["items"]) == 1 and 'rel="prev"' in last.headers["Link"]
    assert 'rel="next"' not in last.headers["Link"]
    seen = set()
    for page in (1, 2, 3):
        seen |= ids(api("worker").get("/cases", per_page=2, page=page))
    assert seen == set(made)
    assert api("worker").get("/cases", per_page=2, page=9).get_json()["items"] == []


# -- the workflow through the API --------------------------------------------------------------------------------

def test_the_whole_loop_through_the_api(api, platform, world):
    case = report(api, "worker", street_vending(**{"details.photos": [api("worker").upload()]}))
    path = f"/cases/{case['id']}"
    station, chengguan, worker = api("station"), api("chengguan"), api("worker")
    assert {step["name"] for step in station.get(path).get_json()["transitions"]} >= {"accept", "void"}
    error_of(worker.post(f"{path}/transitions/accept", {}), 403, "permission_denied")
    error_of(api("jiuquan").post(f"{path}/transitions/accept", {}), 404, "not_found")
    error_of(station.post(f"{path}/transitions/fly", {}), 404, "unknown_transition")
    error_of(station.post(f"{path}/transitions/take", {}), 409, "invalid_transition")
    accepted = station.post(f"{path}/transitions/accept", {"comment": "受理"})
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "registered"
    error_of(station.post(f"{path}/transitions/accept", {}), 409, "invalid_transition")
    dispatched = station.post(f"{path}/transitions/dispatch", {"department": "urban_management"})
    assert dispatched.get_json()["status"] == "dispatched", dispatched.get_json()
    assert dispatched.get_json()["department_id"] == world.departments["urban_management"]
    assert ids(chengguan.get("/cases")) == {case["id"]}  # now the department's case
    assert ids(api("water").get("/cases")) == set()
    assert chengguan.post(f"{path}/transitions/take").get_json()["status"] == "handling"
    missing = error_of(chengguan.post(f"{path}/transitions/feedback", {"result": "x"}), 422, "form_invalid")
    assert "result" in missing["fields"] and "photos" in missing["fields"]
    evidence = chengguan.upload()
    done = chengguan.post(f"{path}/transitions/feedback", {"result": "已劝离摊贩", "photos": [evidence]})
    assert done.get_json()["status"] == "awaiting_follow_up", done.get_json()
    bad_rating = error_of(worker.post(f"{path}/transitions/confirm", {"rating": 9}), 422, "form_invalid")
    assert "rating" in bad_rating["fields"]
    assert done.get_json()["rehandling"] == {"count": 0, "limit": 2, "supervised": False}
    rehandled = worker.post(f"{path}/transitions/rework", {"reason": "摊贩又回来了", "rating": 2})
    assert rehandled.get_json()["status"] == "handling"
    assert rehandled.get_json()["rehandling"] == {"count": 1, "limit": 2, "supervised": False}
    chengguan.post(f"{path}/transitions/feedback", {"result": "已再次劝离并设置隔离桩", "photos": [chengguan.upload()]})
    closed = worker.post(f"{path}/transitions/confirm", {"rating": 5, "comment": "群众满意"})
    assert closed.get_json()["status"] == "closed" and closed.get_json()["final"] is True
    actions = [line["action"] for line in closed.get_json()["timeline"]]
    assert actions == ["report", "accept", "dispatch", "take", "feedback", "rework", "feedback", "confirm"]
    with platform.db.session() as session:
        assert session.scalar(select(Attachment.case_id).where(Attachment.id == evidence)) == case["id"]
    assert ids(api("station").get("/cases", status="closed")) == {case["id"]}


def test_if_match_and_idempotent_steps(api, platform):
    case = report(api, "worker", hotline())
    path = f"/cases/{case['id']}"
    station = api("station")
    read = station.get(path)
    etag = read.headers["ETag"]
    error_of(station.post(f"{path}/transitions/accept", {}, headers={"If-Match": '"999"'}), 412, "version_conflict")
    first = station.post(f"{path}/transitions/accept", {"comment": "受理"},
                         headers={"If-Match": etag, "Idempotency-Key": "accept-1"})
    assert first.status_code == 200 and first.headers["ETag"] != etag
    retry = station.post(f"{path}/transitions/accept", {"comment": "受理"},
                         headers={"If-Match": etag, "Idempotency-Key": "accept-1"})
    assert retry.status_code == 200 and retry.get_json() == first.get_json()
    with platform.db.session() as session:
        assert session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.case_id == case["id"],
                                                                     CaseEvent.action == "accept")) == 1
    error_of(station.post(f"{path}/transitions/accept", {}, headers={"If-Match": etag}), 412, "version_conflict")


def test_urging(api, platform):
    case = report(api, "worker", hotline())
    path = f"/cases/{case['id']}/urge"
    error_of(api("worker").post(path, {"comment": "快点"}), 403, "permission_denied")  # in scope, not the role
    error_of(api("citizen").post(path, {"comment": "快点"}), 403, "forbidden")
    error_of(api("chengguan").post(path, {"comment": "快点"}), 404, "not_found")  # not the department's case
    error_of(api("jiuquan").post(path, {}), 404, "not_found")
    error_of(api("station").post(path, {"comment": 5}), 422, "form_invalid")
    error_of(api("station").post(path, {"hurry": True}), 422, "form_invalid")
    urged = api("station").post(path, {"comment": "请今天办结"}, headers={"Idempotency-Key": "urge-1"})
    assert urged.status_code == 200 and urged.get_json()["timeline"][-1]["action"] == "urge"
    again = api("station").post(path, {"comment": "请今天办结"}, headers={"Idempotency-Key": "urge-1"})
    assert again.get_json() == urged.get_json()
    assert api("leader").post(path).status_code == 200  # a body is optional
    with platform.db.session() as session:
        assert session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.action == "urge")) == 2
    api("station").post(f"/cases/{case['id']}/transitions/void", {"kind": "invalid", "reason": "无效件"})
    error_of(api("station").post(path, {}), 409, "invalid_transition")


# -- grids, regions and layers -----------------------------------------------------------------------------------

def features(response) -> dict:
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/geo+json"
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    for feature in body["features"]:
        assert feature["type"] == "Feature" and "properties" in feature
    return body


def test_grids_as_geojson_in_scope(api, world):
    every = features(api("admin").get("/grids"))
    assert {item["properties"]["code"] for item in every["features"]} == set(world.grids)
    assert every["bbox"] == [103.8, 36.0, 104.0, 36.1]
    ring = every["features"][0]["geometry"]["coordinates"][0]
    assert all(103 < lon < 105 and 35 < lat < 37 for lon, lat in ring)  # lon/lat order (RFC 7946)
    codes = lambda response: {item["properties"]["code"] for item in features(response)["features"]}  # noqa: E731
    assert codes(api("worker").get("/grids")) == {"G620102001001001"}
    assert codes(api("other_worker").get("/grids")) == {"G620102002"}
    assert codes(api("station").get("/grids")) == {"G620102001", "G620102001001", "G620102001001001"}
    assert codes(api("admin").get("/grids", level="large")) == {"G620102001", "G620102002"}
    assert codes(api("admin").get("/grids", bbox="103.95,36.0,103.99,36.05")) == {"G620102002"}
    assert features(api("chengguan").get("/grids"))["features"] == []
    error_of(api("admin").get("/grids", bbox="a,b,c,d"), 400, "invalid_parameter")
    error_of(api("admin").get("/grids", level="huge"), 400, "invalid_parameter")
    one = api("worker").get(f"/grids/{world.grids['G620102001001001']}")
    assert one.status_code == 200 and one.get_json()["bbox"] == [103.8, 36.0, 103.85, 36.1]
    error_of(api("worker").get(f"/grids/{world.grids['G620102002']}"), 404, "not_found")
    error_of(api("citizen").get("/grids"), 403)


def test_regions_as_geojson(api, platform, world):
    with platform.db.session() as session:
        region = session.get(Region, world.ids["620102002000"])
        shape = box(103.9, 36.0, 104.0, 36.1)
        region.geometry = mapping(shape)
        region.min_lon, region.min_lat, region.max_lon, region.max_lat = shape.bounds
    listed = features(api("station").get("/regions"))
    assert [item["properties"]["code"] for item in listed["features"]] == ["620102002000"]
    assert listed["bbox"] == [103.9, 36.0, 104.0, 36.1]
    assert features(api("station").get("/regions", level="county"))["features"] == []
    assert features(api("station").get("/regions", bbox="103.0,35.0,103.5,35.5"))["features"] == []
    one = api("worker").get(f"/regions/{world.ids['620102002000']}")
    assert one.status_code == 200 and one.get_json()["properties"]["name"] == "酒泉路街道"
    no_outline = api("worker").get(f"/regions/{world.ids['620100000000']}").get_json()
    assert no_outline["geometry"] is None and "bbox" not in no_outline
    error_of(api("worker").get("/regions/999999"), 404)
    error_of(api("worker").get("/regions", level="planet"), 400)
    error_of(api("citizen").get("/regions"), 403)


def test_layers_and_their_features_in_scope(api, platform, world):
    with platform.db.session() as session:
        for grid, region, point in (("G620102001001001", INSIDE_REGION, INSIDE),
                                    ("G620102002", OTHER_REGION, OTHER)):
            session.add(ThemeRecord(
                theme_key=THEME, theme_version=1, department_key="urban_management", lon=point[0], lat=point[1],
                form_data={"name": f"摊点 联系{PHONE}"}, grid_id=world.grids[grid], region_code=region,
                min_lon=point[0], max_lon=point[0], min_lat=point[1], max_lat=point[1]))
    layers = api("worker").get("/layers").get_json()["items"]
    assert THEME in {layer["key"] for layer in layers}
    assert all({"key", "title", "department", "kind"} <= set(layer) for layer in layers)
    mine = features(api("worker").get(f"/layers/{THEME}/features"))
    assert len(mine["features"]) == 1 and mine["features"][0]["geometry"]["coordinates"] == list(INSIDE)
    assert mine["bbox"] == [INSIDE[0], INSIDE[1], INSIDE[0], INSIDE[1]]
    assert PHONE in mine["features"][0]["properties"]["label"]  # grid workers see phones
    every = features(api("leader").get(f"/layers/{THEME}/features"))
    assert len(every["features"]) == 2 and PHONE not in str(every)
    assert len(features(api("admin").get(f"/layers/{THEME}/features", bbox="103.9,36.0,104.0,36.1"))[
        "features"]) == 1
    assert features(api("water").get(f"/layers/{THEME}/features"))["features"] == []
    error_of(api("worker").get(f"/layers/{THEME}/features", bbox="x"), 400)
    error_of(api("worker").get("/layers/no.such/features"), 404)
    assert THEME not in {layer["key"] for layer in api("citizen").get("/layers").get_json()["items"]}
    error_of(api("citizen").get(f"/layers/{THEME}/features"), 403, "layer_hidden")


# -- visits ------------------------------------------------------------------------------------------------------

def test_a_grid_worker_records_visits_once_per_key(api, platform, base_data):
    worker = api("worker")
    body = {"kind": "key_person", "target_id": base_data["inside"]["key_person"], "summary": "上门走访，情况稳定",
            "lon": INSIDE[0], "lat": INSIDE[1]}
    first = worker.post("/visits", body, headers={"Idempotency-Key": "visit-1"})
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["kind"] == "key_person" and first.headers["Location"].endswith(
        f"/visits/{first.get_json()['id']}")
    retry = worker.post("/visits", body, headers={"Idempotency-Key": "visit-1"})
    assert retry.status_code == 201 and retry.get_json() == first.get_json()
    again = worker.post("/visits", {**body, "client_id": "offline-42"})
    assert again.status_code == 201 and worker.post("/visits", {**body, "client_id": "offline-42"}).get_json() == \
        again.get_json()
    with platform.db.session() as session:
        assert session.scalar(select(func.count(Visit.id))) == 2
        assert session.get(KeyPerson, base_data["inside"]["key_person"]).next_visit_due is not None
    error_of(worker.post("/visits", {**body, "summary": "改了"}, headers={"Idempotency-Key": "visit-1"}), 422,
             "idempotency_key_reused")
    outside = error_of(worker.post("/visits", {**body, "target_id": base_data["other"]["key_person"]}), 422)
    assert "target_id" in outside["fields"]
    wrong = error_of(worker.post("/visits", {"kind": "cat", "target_id": "x", "summary": "", "lon": 500,
                                             "extra": 1}), 422, "form_invalid")
    assert {"kind", "target_id", "summary", "lon", "extra"} <= set(wrong["fields"])
    error_of(worker.post("/visits", {**body, "lat": None}), 422)
    for username in ("station", "leader", "chengguan", "citizen"):
        error_of(api(username).post("/visits", body), 403, "forbidden")
    household = worker.post("/visits", {"kind": "household", "target_id": base_data["inside"]["household"],
                                        "summary": "入户核查"})
    assert household.status_code == 201
    with platform.db.session() as session:
        assert session.scalar(select(func.count(Visit.id))) == 3


def test_visits_are_listed_in_scope(api, base_data):
    made = api("worker").post("/visits", {"kind": "key_place", "target_id": base_data["inside"]["key_place"],
                                          "summary": f"检查消防通道，联系人{PHONE}"}).get_json()
    other = api("other_worker").post("/visits", {"kind": "key_place", "target_id": base_data["other"]["key_place"],
                                                 "summary": "检查完毕"}).get_json()
    assert ids(api("worker").get("/visits")) == {made["id"]}
    assert ids(api("jiuquan").get("/visits")) == {other["id"]}
    assert ids(api("leader").get("/visits")) == {made["id"], other["id"]}
    assert ids(api("leader").get("/visits", kind="key_place", target_id=base_data["other"]["key_place"])) == \
        {other["id"]}
    assert ids(api("chengguan").get("/visits")) == set()
    assert PHONE in api("worker").get(f"/visits/{made['id']}").get_json()["summary"]
    assert PHONE not in api("leader").get(f"/visits/{made['id']}").get_json()["summary"]
    error_of(api("worker").get(f"/visits/{other['id']}"), 404)
    error_of(api("leader").get("/visits", kind="dog"), 400)
    error_of(api("citizen").get("/visits"), 403)


# -- base data ---------------------------------------------------------------------------------------------------

BASE_PATHS = {"households": "household", "residents": "resident", "key-persons": "key_person",
              "key-places": "key_place", "units": "unit"}


def test_base_data_lists_and_reads_in_scope(api, base_data):
    for path, kind in BASE_PATHS.items():
        inside, other = base_data["inside"][kind], base_data["other"][kind]
        assert ids(api("admin").get(f"/{path}")) == {inside, other}, path
        assert ids(api("leader").get(f"/{path}")) == {inside, other}, path
        assert ids(api("station").get(f"/{path}")) == {inside}, path
        assert ids(api("worker").get(f"/{path}")) == {inside}, path
        assert ids(api("jiuquan").get(f"/{path}")) == {other}, path
        assert ids(api("chengguan").get(f"/{path}")) == set(), path
        assert api("worker").get(f"/{path}/{inside}").status_code == 200
        error_of(api("worker").get(f"/{path}/{other}"), 404, "not_found")
        error_of(api("chengguan").get(f"/{path}/{inside}"), 404, "not_found")
        error_of(api("citizen").get(f"/{path}"), 403)
        error_of(api("admin").get(f"/{path}", per_page=500), 400)
    grid = api("admin").get("/residents", grid_id=api("admin").get(f"/residents/{base_data['other']['resident']}")
                            .get_json()["grid_id"])
    assert ids(grid) == {base_data["other"]["resident"]}


def test_base_data_personal_data_is_masked(api, base_data):
    resident_id = base_data["inside"]["resident"]
    for username, phones in (("worker", True), ("station", True), ("leader", False), ("admin", False)):
        shown = api(username).get(f"/residents/{resident_id}").get_json()
        assert shown["id_number"] == "620102********1234", username  # always, for every role
        assert "1990" not in str(shown)  # no birth date beside the masked number; an age only for whom may reveal it
        assert (shown["age"] >= 30) if username in ("worker", "station") else shown["age"] is None, username
        assert shown["phone"] == ("13912341234" if phones else "139****1234"), username
        person = api(username).get(f"/key-persons/{base_data['inside']['key_person']}").get_json()
        assert person["resident"]["id_number"] == "620102********1234"
        assert ("13912341234" in person["note"]) is phones
        unit = api(username).get(f"/units/{base_data['inside']['unit']}").get_json()
        assert unit["contact_phone"] == ("13812341234" if phones else "138****1234")
        household = api(username).get(f"/households/{base_data['inside']['household']}").get_json()
        place = api(username).get(f"/key-places/{base_data['inside']['key_place']}").get_json()
        if phones:
            assert household["address"] == "inside路12号3单元501室" and place["address"] == "inside路88号"
        else:
            assert household["address"] == "inside路*号*单元*室" and place["address"] == "inside路*号"
    listed = api("leader").get("/residents").get_json()["items"]
    assert {item["id_number"] for item in listed} == {"620102********1234", "620102********5678"}
    assert "62010219900101" not in str(listed)


# -- idempotency under a race --------------------------------------------------------------------------------------

def test_a_key_stored_meanwhile_by_a_racing_copy_wins(app, platform, world):
    """Two copies of one request pass the look-up together; the one that stores second answers with the first's
    result and its own work is undone."""
    from minqing.web.api import idempotency
    from minqing.core.actors import actor_for

    with platform.db.session() as session:
        account = session.scalar(select(Account).where(Account.username == "worker"))
        actor = actor_for(session, account)
    with app.test_request_context("/api/v1/cases", method="POST"):
        session = platform.db.sessionmaker()
        try:
            def work():
                session.add(CaseEvent(case_id=None, actor_name="should vanish", action="x"))  # this copy's work
                with platform.db.session() as other:  # the racing copy commits first
                    other.add(IdempotencyKey(account_id=actor.account_id, key="race", method="POST",
                                             path="/api/v1/cases", request_hash=idempotency.request_hash(
                                                 "POST", "/api/v1/cases", {"a": 1}),
                                             response_status=201, response_body={"id": 1, "first": True}))
                return 201, {"id": 2}

            status, body, replayed = idempotency.run_once(session, actor, "race", "POST", "/api/v1/cases", {"a": 1},
                                                          work)
            session.commit()
        finally:
            session.close()
    assert (status, body, replayed) == (201, {"id": 1, "first": True}, True)
    with platform.db.session() as check:
        assert check.scalar(select(func.count(CaseEvent.id))) == 0
        assert check.scalar(select(func.count(IdempotencyKey.id))) == 1


def test_uploads_are_checked_and_idempotent(api, platform):
    worker = api("worker")
    first = worker.upload(headers={"Idempotency-Key": "photo-1"})
    assert worker.upload(headers={"Idempotency-Key": "photo-1"}) == first
    assert worker.upload() != first  # without a key, a second file
    with platform.db.session() as session:
        assert session.scalar(select(func.count(Attachment.id))) == 2
        assert session.get(Attachment, first).owner_account_id is not None
    rejected = worker.http.post("/api/v1/attachments", headers=worker.headers(),
                                data={"file": (io.BytesIO(b"MZ\x90\x00 not an image"), "x.exe")},
                                content_type="multipart/form-data")
    assert "file" in error_of(rejected, 422, "upload_rejected")["fields"]
    error_of(worker.post("/attachments", {"file": "base64?"}), 400, "file_required")
    error_of(api("auditor").http.post("/api/v1/attachments", headers=api("auditor").headers()), 403)
