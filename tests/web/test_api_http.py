"""HTTP to the letter under /api/v1 (RFC 9110, RFC 9457), driven with a plain HTTP client: problem details for
every error (werkzeug's own included), `Allow` on every 405, truthful OPTIONS, conditional GET (ETag,
If-None-Match → 304), stale If-Match → 412 wherever If-Match is accepted, 400 naming the parameter for an unknown
filter value, and one time format (RFC 3339, the city's offset, whole seconds) in every answer with times."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from minqing.core.models import CaseEvent, Visit

from tests.fixtures.api import hotline, report
from tests.fixtures.web import INSIDE

CHINESE = re.compile(r"[\u4e00-\u9fff]")
CITY_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$")


def problem_of(response, status: int) -> dict:
    """The RFC 9457 document of an error answer, checked for its members."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == status and problem["type"] and problem["code"]
    assert CHINESE.search(problem["title"]) and CHINESE.search(problem["detail"])
    return problem


def allow(response) -> set[str]:
    return {method.strip() for method in response.headers["Allow"].split(",")}


def events(platform, case_id: int, action: str) -> int:
    with platform.db.session() as session:
        return session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.case_id == case_id,
                                                                     CaseEvent.action == action))


# -- 404, 405 and OPTIONS ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("method, path, allowed", [
    ("DELETE", "/api/v1/cases", {"GET", "HEAD", "OPTIONS", "POST"}),
    ("PUT", "/api/v1/cases/1", {"GET", "HEAD", "OPTIONS"}),
    ("PATCH", "/api/v1/themes", {"GET", "HEAD", "OPTIONS"}),
    ("GET", "/api/v1/cases/1/urge", {"OPTIONS", "POST"}),
    ("TRACE", "/api/v1/cases", {"GET", "HEAD", "OPTIONS", "POST"}),
    ("PROPFIND", "/api/v1/themes", {"GET", "HEAD", "OPTIONS"}),
])
def test_a_method_the_address_does_not_have_is_405_with_a_true_allow(api, method, path, allowed):
    for headers in ({}, api("admin").headers()):  # werkzeug refuses it before any key is looked at
        response = api("admin").http.open(path, method=method, headers=headers)
        problem = problem_of(response, 405)
        assert problem["code"] == "method_not_allowed" and allow(response) == allowed
        assert method in problem["detail"]


def test_options_tells_the_methods_the_address_really_has_without_a_body(client):
    for path, allowed in (("/api/v1/cases", {"GET", "HEAD", "OPTIONS", "POST"}),
                          ("/api/v1/cases/7", {"GET", "HEAD", "OPTIONS"}),
                          ("/api/v1/cases/7/transitions/accept", {"OPTIONS", "POST"}),
                          ("/api/v1/openapi.json", {"GET", "HEAD", "OPTIONS"})):
        response = client.options(path)
        assert response.status_code == 204 and response.data == b"", path
        assert allow(response) == allowed, path
        assert response.mimetype != "text/html"
    problem_of(client.options("/api/v1/no/such/address"), 404)


def test_werkzeugs_own_errors_are_problem_details_too(api, app, keys):
    admin = api("admin")
    case = report(api, "worker", hotline())
    problem = problem_of(admin.get("/nothing/here"), 404)
    assert problem["code"] == "not_found" and "/api/v1/nothing/here" in problem["detail"]
    problem_of(admin.get("/cases/not-a-number"), 404)
    problem_of(api(None).get("/nothing/here"), 404)  # no such address, with or without a key
    # 415: a body that is not JSON
    response = admin.http.post(f"/api/v1/cases/{case['id']}/urge", data="催办", content_type="text/plain",
                               headers=admin.headers())
    assert problem_of(response, 415)["code"] == "unsupported_media_type"
    # 413: a body over MAX_CONTENT_LENGTH
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = admin.http.post(f"/api/v1/cases/{case['id']}/urge", json={"comment": "催" * 2000},
                               headers=admin.headers())
    assert problem_of(response, 413)["code"] == "too_large"
    # 429: the rate limit of reports (a limit read from the config on every request)
    app.config["RATELIMIT_API_REPORT"] = "1 per minute"
    admin.post("/cases", {})
    response = admin.post("/cases", {})
    assert problem_of(response, 429)["code"] == "too_many_requests" and int(response.headers["Retry-After"]) >= 1
    # Pages outside /api/v1 keep their own error pages.
    page = app.test_client().get("/no/such/page")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_a_bug_outside_any_view_of_the_blueprint_is_a_500_problem(app, client):
    def broken():
        raise RuntimeError("a bug")
    app.add_url_rule("/api/v1-broken", "broken_outside", broken)        # not under /api/v1/: an HTML page
    app.add_url_rule("/api/v1/_broken", "broken_inside", broken)         # under /api/v1 but no view of the API
    app.config["PROPAGATE_EXCEPTIONS"] = False
    problem = problem_of(client.get("/api/v1/_broken"), 500)
    assert problem["code"] == "internal_error" and "a bug" not in str(problem)
    assert client.get("/api/v1-broken").mimetype == "text/html"


def test_field_errors_are_an_extension_member_of_the_problem(api):
    problem = problem_of(api("worker").post("/visits", {"kind": "moon", "summary": ""}), 422)
    assert problem["type"] == "urn:minqing:problem:form_invalid"
    assert {"kind", "summary", "target_id"} <= set(problem["errors"])
    assert all(CHINESE.search(message) for messages in problem["errors"].values() for message in messages)


# -- conditional requests ----------------------------------------------------------------------------------------

def test_a_get_with_the_current_etag_is_304_without_a_body(api, base_data):
    case = report(api, "worker", hotline())
    operator = api("station")
    for path in (f"/cases/{case['id']}", f"/themes/{case['theme']}", f"/households/{base_data['inside']['household']}",
                 f"/key-persons/{base_data['inside']['key_person']}", f"/grids/{case['grid_id']}", "/cases"):
        first = operator.get(path)
        etag = first.headers["ETag"]
        assert first.status_code == 200 and etag.startswith('"'), path
        again = operator.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag, path
        weak = operator.get(path, headers={"If-None-Match": f'"other", W/{etag}'})  # weak comparison for GET
        assert weak.status_code == 304, path
        assert operator.get(path, headers={"If-None-Match": '"other"'}).status_code == 200, path


def test_a_change_gives_a_new_etag_so_the_old_one_is_no_longer_304(api):
    case = report(api, "worker", hotline())
    path = f"/cases/{case['id']}"
    station = api("station")
    etag = station.get(path).headers["ETag"]
    urged = station.post(f"{path}/urge", {"comment": "请尽快处理"})
    assert urged.status_code == 200
    assert station.get(path, headers={"If-None-Match": etag}).status_code == 200  # the timeline has grown
    assert urged.headers["ETag"] == station.get(path).headers["ETag"]


def test_a_stale_if_match_is_412_and_changes_nothing(api, platform):
    case = report(api, "worker", hotline())
    path = f"/cases/{case['id']}"
    station = api("station")
    stale = station.get(path).headers["ETag"]
    assert station.post(f"{path}/urge", {"comment": "第一次催办"}).status_code == 200  # someone else acts
    for step, body in (("transitions/accept", {"comment": "受理"}), ("urge", {"comment": "再催"})):
        problem = problem_of(station.post(f"{path}/{step}", body, headers={"If-Match": stale}), 412)
        assert problem["code"] == "version_conflict" and "If-Match" in problem["errors"]
    assert events(platform, case["id"], "urge") == 1 and events(platform, case["id"], "accept") == 0
    current = station.get(path).headers["ETag"]
    assert station.post(f"{path}/urge", {"comment": "再催"}, headers={"If-Match": current}).status_code == 200
    current = station.get(path).headers["ETag"]
    accepted = station.post(f"{path}/transitions/accept", {"comment": "受理"}, headers={"If-Match": current})
    assert accepted.status_code == 200 and accepted.get_json()["status"] != case["status"]
    assert station.post(f"{path}/urge", {}, headers={"If-Match": "*"}).status_code == 200


def test_co_handling_compares_if_match_with_the_co_handling_document(api):
    case = report(api, "worker", hotline())
    path = f"/cases/{case['id']}"
    station = api("station")
    station.post(f"{path}/transitions/accept", {})
    assert station.post(f"{path}/transitions/dispatch", {"department": "urban_management"}).status_code == 200
    current = station.get(f"{path}/co-handlers").headers["ETag"]
    stale_case = station.get(path).headers["ETag"]   # the case's tag is not the co-handling document's
    problem_of(station.post(f"{path}/co-handlers", {"departments": ["water_affairs"]},
                            headers={"If-Match": stale_case}), 412)
    assigned = station.post(f"{path}/co-handlers", {"departments": ["water_affairs"]}, headers={"If-Match": current})
    assert assigned.status_code == 201 and assigned.headers["ETag"] == station.get(f"{path}/co-handlers").headers["ETag"]
    withdrawn = station.post(f"{path}/co-handlers/withdraw", {"department": "water_affairs", "reason": "误派"},
                             headers={"If-Match": current})
    assert problem_of(withdrawn, 412)["code"] == "version_conflict"
    assert [task["status"] for task in station.get(f"{path}/co-handlers").get_json()["co_handlers"]] == ["open"]


def test_if_match_on_a_route_without_a_versioned_representation_is_412(api, platform, base_data):
    body = {"kind": "key_person", "target_id": base_data["inside"]["key_person"], "summary": "走访正常"}
    problem = problem_of(api("worker").post("/visits", body, headers={"If-Match": '"1"'}), 412)
    assert problem["code"] == "precondition_failed"
    with platform.db.session() as session:
        assert session.scalar(select(func.count(Visit.id))) == 0


# -- filter values -----------------------------------------------------------------------------------------------

BAD_FILTERS = [
    ("/cases", {"status": "bogus"}, "status", "open"),
    ("/cases", {"status": "open,bogus"}, "status", "closed"),
    ("/cases", {"status": ""}, "status", "不能为空"),
    ("/cases", {"theme": "no.such_theme"}, "theme", "hotline.general_appeals"),
    ("/cases", {"urgency": "whenever"}, "urgency", "urgent"),
    ("/cases", {"urgency": ""}, "urgency", "不能为空"),
    ("/cases", {"overdue": "yes"}, "overdue", "true"),
    ("/cases", {"created_from": "20260301"}, "created_from", "ISO 8601"),
    ("/cases", {"bbox": "1,2,3"}, "bbox", "四个数字"),
    ("/cases", {"page": ""}, "page", "不能为空"),
    ("/grids", {"level": "huge"}, "level", "small"),
    ("/regions", {"level": ""}, "level", "不能为空"),
    ("/visits", {"kind": "moon"}, "kind", "key_person"),
    ("/appeals", {"period": "2026-13"}, "period", "2026-11"),
    ("/appeals", {"period": "2026-1"}, "period", "2026-11"),
    ("/appeals", {"period": "２０２６-11"}, "period", "2026-11"),
    ("/appeals", {"status": "lost"}, "status", "pending"),
    ("/rankings", {"period": "last"}, "period", "2026-11"),
    ("/residents", {"id_number": ""}, "id_number", "不能为空"),
    ("/key-persons", {"id_number": "６２０１０２１９９００１０１１２３４"}, "id_number", "18位"),
]


@pytest.mark.parametrize("path, params, parameter, hint", BAD_FILTERS)
def test_an_unknown_filter_value_is_400_naming_the_parameter_and_what_is_allowed(api, path, params, parameter,
                                                                                hint):
    problem = problem_of(api("admin").get(path, **params), 400)
    assert problem["code"] == "invalid_parameter" and list(problem["errors"]) == [parameter]
    assert hint in problem["detail"] and parameter in problem["detail"]


def test_known_filter_values_still_filter(api):
    case = report(api, "worker", hotline())
    admin = api("admin")
    for params in ({"status": case["status"]}, {"status": "open"}, {"theme": case["theme"]},
                   {"urgency": "normal"}, {"overdue": "false"}, {"created_from": "2020-01-01"}):
        answer = admin.get("/cases", **params)
        assert answer.status_code == 200 and [item["id"] for item in answer.get_json()["items"]] == [case["id"]]
    assert admin.get("/cases", status="closed").get_json()["items"] == []


# -- one time format ---------------------------------------------------------------------------------------------

def times_in(document, found=None) -> list[tuple[str, str]]:
    """(key, value) of every time in an answer: the members named at, *_at, as_of and deadline that hold a value."""
    found = [] if found is None else found
    if isinstance(document, dict):
        for key, value in document.items():
            if (key.endswith("_at") or key in ("at", "as_of", "deadline")) and value is not None:
                found.append((key, value))
            else:
                times_in(value, found)
    elif isinstance(document, list):
        for item in document:
            times_in(item, found)
    return found


def test_every_time_in_every_answer_is_rfc_3339_in_the_citys_offset_with_whole_seconds(api, client, keys,
                                                                                     base_data):
    case = report(api, "worker", hotline(INSIDE))
    station, worker, admin = api("station"), api("worker"), api("admin")
    path = f"/cases/{case['id']}"
    assert station.post(f"{path}/transitions/accept", {"comment": "受理"}).status_code == 200
    dispatched = station.post(f"{path}/transitions/dispatch", {"department": "urban_management", "comment": "交办"})
    assert dispatched.status_code == 200, dispatched.get_json()
    assigned = station.post(f"{path}/co-handlers", {"departments": ["water_affairs"], "instructions": "配合"})
    assert assigned.status_code == 201, assigned.get_json()
    visit = worker.post("/visits", {"kind": "key_person", "target_id": base_data["inside"]["key_person"],
                                    "summary": "走访正常"})
    assert visit.status_code == 201
    answers = {
        "case": station.get(path), "cases": station.get("/cases"), "co-handlers": station.get(f"{path}/co-handlers"),
        "visit": worker.get(f"/visits/{visit.get_json()['id']}"), "visits": worker.get("/visits"),
        "key-persons": worker.get("/key-persons"), "households": worker.get("/households"),
        "ranking": admin.get("/rankings"), "appeals": admin.get("/appeals"),
        "layer": station.get(f"/layers/{case['theme']}/features"),   # its cases' created_at and deadline
        "open311": client.get(f"/open311/v2/requests/{case['id']}.json", headers={"X-API-Key": keys["admin"]}),
    }
    seen = set()
    for name, response in answers.items():
        assert response.status_code == 200, (name, response.get_data(as_text=True))
        for key, value in times_in(response.get_json()):
            assert CITY_TIME.match(value), (name, key, value)
            seen.add(key)
    for name, response in answers.items():
        if name == "open311":
            stamps = [v for item in response.get_json() for k, v in item.items() if k.endswith("datetime") and v]
            assert stamps and all(CITY_TIME.match(value) for value in stamps), stamps
    assert {"created_at", "updated_at", "at", "visited_at", "requested_at", "deadline_at", "starts_at",
            "as_of"} <= seen, seen


def test_the_maps_geojson_writes_times_as_the_api_does(api, as_user):
    """The map's cases and a theme's layer (web pages' data, and the same features as /api/v1/layers/…/features)
    wrote UTC with microseconds ("2026-12-07T02:04:38.099166+00:00"), as plain application/json."""
    case = report(api, "worker", hotline(INSIDE))
    station = as_user("station")
    for url in ("/map/cases.geojson", f"/map/layers/{case['theme']}.geojson"):
        answer = station.get(url)
        assert answer.mimetype == "application/geo+json"   # RFC 7946 §12, as the REST API answers
        features = answer.get_json()["features"]
        found = times_in([feature["properties"] for feature in features])
        assert {key for key, _ in found} == {"created_at", "deadline"}, (url, found)
        assert all(CITY_TIME.match(value) for _, value in found), (url, found)
