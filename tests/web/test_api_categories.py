"""`category` means one thing in the REST API: the category code, in the request and in every answer (the group's
title is `category_group`); and a theme's request schema gives no default for a field it requires."""
from __future__ import annotations

from tests.fixtures.api import THEME, report, street_vending


def test_category_is_the_code_in_the_request_and_the_answer(api):
    created = report(api, "worker", street_vending(**{"details.photos": [api("worker").upload()]}))
    assert created["category"] == "1001" and created["category_group"] == "市容环境"
    read = api("worker").get(f"/cases/{created['id']}").get_json()
    assert read["category"] == "1001" and read["subcategory"] == "1001"
    listed = api("worker").get("/cases").get_json()["items"]
    assert [item["category"] for item in listed if item["id"] == created["id"]] == ["1001"]


def test_a_required_field_has_no_default_in_the_request_schema(api):
    schema = api("worker").get(f"/themes/{THEME}").get_json()["case_request_schema"]
    assert "category" in schema["required"]
    for name in schema["required"]:
        assert "default" not in schema["properties"][name], name
    missing = api("worker").post("/cases", street_vending(category=None))
    assert missing.status_code == 422 and "category" in missing.get_data(as_text=True)
