"""Input no view can store or page through is a clear 400 in Chinese, in the format of where it was sent, and
changes nothing: a huge page number, a JSON body nested 100,000 deep, a lone surrogate, a NUL character.

Run on PostgreSQL too (MINQING_DATABASE_URL): there a NUL in a case title used to end in a 500 from the driver."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from minqing.core.models import Case

from tests.fixtures.api import INSIDE, THEME, street_vending

HUGE = str(10 ** 30)
DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture(autouse=True)
def upload_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MINQING_UPLOAD_DIR", str(tmp_path / "uploads"))


def valid_report(api, **changes) -> dict:
    """A report the API would store (its theme wants a photo), but for `changes`."""
    return street_vending(**{"details.photos": [api("worker").upload()], **changes})


def cases(platform) -> int:
    with platform.db.session() as session:
        return session.scalar(select(func.count(Case.id)))


def problem(response, field: str | None = None) -> dict:
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    if field is not None:
        assert field in body["errors"], body
    return body


@pytest.mark.parametrize("user, path", [("worker", "/work/"), ("admin", "/admin/users")])
def test_a_huge_page_number_is_a_clear_400_page(as_user, user, path):
    response = as_user(user).get(path, query_string={"page": HUGE})
    assert response.status_code == 400 and response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert "页码" in text and "过大" in text
    assert as_user(user).get(path, query_string={"page": "2"}).status_code == 200


def test_a_deeply_nested_json_body_is_refused_by_the_api_and_open311(api, client, platform):
    before = cases(platform)
    response = api("worker").post("/cases", data=DEEP, content_type="application/json")
    body = problem(response)
    assert body["code"] == "malformed_json" and "嵌套过深" in body["detail"]
    nested = street_vending()
    nested["details"]["description"] = json.loads("[" * 80 + "]" * 80)
    assert "嵌套过深" in problem(api("worker").post("/cases", nested))["detail"]
    answer = client.post("/open311/v2/requests.json", data=DEEP, content_type="application/json")
    assert answer.status_code == 400 and "嵌套过深" in answer.get_json()[0]["description"]
    assert cases(platform) == before


def test_a_lone_surrogate_in_a_json_body_is_refused_naming_the_field(api, platform):
    text = json.dumps(valid_report(api, title="占道\ud800经营"))   # json.dumps escapes it as \ud800: valid JSON
    assert "\\ud800" in text
    body = problem(api("worker").post("/cases", data=text, content_type="application/json"), "title")
    assert body["code"] == "invalid_character" and "代理项" in body["detail"]
    assert cases(platform) == 0


def test_a_lone_surrogate_or_deep_nesting_in_json_carried_by_a_form_field_is_refused(as_user, platform):
    """Raw form bytes cannot carry a surrogate (werkzeug decodes them leniently), but JSON inside a form field
    can: the theme builder posts its document that way."""
    worker = as_user("worker")
    for document, expected in (('{"title": "占道\\ud800"}', "代理项"), ("[" * 5_000 + "]" * 5_000, "嵌套过深")):
        response = worker.post(f"/work/report/{THEME}", data={"title": "占道经营", "note": document})
        assert response.status_code == 400, response.status_code
        text = response.get_data(as_text=True)
        assert "note" in text and expected in text
    assert cases(platform) == 0


def test_a_nul_character_in_a_case_title_is_refused_and_nothing_is_stored(api, as_user, platform):
    body = problem(api("worker").post("/cases", valid_report(api, title="占道\x00经营")), "title")
    assert body["code"] == "invalid_character" and "空字符" in body["detail"]
    problem(api("worker").post("/cases", valid_report(api, **{"details.address": "张掖路\x00123号"})),
            "details.address")
    response = as_user("worker").post(f"/work/report/{THEME}", data={
        "title": "占道\x00经营", "category": "1001", "urgency": "normal",
        "location-lon": str(INSIDE[0]), "location-lat": str(INSIDE[1])})
    assert response.status_code == 400 and "空字符" in response.get_data(as_text=True)
    assert cases(platform) == 0
