"""The citizen's report form of a theme (`citizen_fields`): by default the description, the place and optional
photos; a theme may name its own fields; the worker's internal fields never reach a resident, and every
citizen form of the shipped themes builds with its UI."""
from __future__ import annotations

import pytest

from minqing import forms, themes, workflows

from tests.fixtures.themes import make_theme

REPORT = {
    "type": "object",
    "properties": {
        "address": {"type": "string", "title": "详细地址"},
        "location": {"type": "object", "format": "geo-point", "title": "位置"},
        "vending_type": {"type": "string", "title": "经营类型", "enum": ["流动摊贩", "其他"]},
        "persuaded": {"type": "boolean", "title": "是否已现场劝导"},
        "persuasion_result": {"type": "string", "title": "劝导结果", "enum": ["已整改", "拒不整改"]},
        "description": {"type": "string", "title": "情况描述", "maxLength": 1000},
        "photos": {"type": "array", "title": "现场照片", "minItems": 1, "maxItems": 9,
                   "items": {"type": "string", "format": "attachment"}},
    },
    "required": ["address", "location", "vending_type", "persuaded", "photos"],
    "allOf": [{"if": {"properties": {"persuaded": {"const": True}}, "required": ["persuaded"]},
               "then": {"required": ["persuasion_result"]}}],
    "dependentRequired": {"vending_type": ["persuaded"], "address": ["description", "vending_type"]},
}
UI = {"persuaded": {"ui:widget": "radio"}, "description": {"ui:widget": "textarea"},
      "ui:order": ["location", "address", "vending_type", "persuaded", "persuasion_result", "description", "photos"]}


def _theme(**changes) -> dict:
    return make_theme(forms={"report": REPORT}, ui={"report": UI}, **changes)


def test_the_default_asks_the_description_the_place_and_optional_photos():
    document = _theme()
    assert themes.citizen_fields(document) == ["address", "location", "description", "photos"]
    form = themes.citizen_report_form(document)
    assert list(form["properties"]) == ["address", "location", "description", "photos"]
    assert form["required"] == ["address", "location"]          # photos kept, never required of a citizen
    assert "minItems" not in form["properties"]["photos"]
    assert "allOf" not in form                                  # the block names the worker's fields
    assert form["dependentRequired"] == {"address": ["description"]}
    place = {"address": "张掖路1号", "location": {"lon": 103.83, "lat": 36.05}}
    assert [error.path for error in forms.validate(form, place)] == ["description"]   # its dependency stays
    assert forms.validate(form, {**place, "description": "流动摊贩占道"}) == []
    assert REPORT["required"][-1] == "photos" and "minItems" in REPORT["properties"]["photos"]   # not changed


def test_a_theme_names_its_own_citizen_fields_and_their_requirements_stay():
    document = _theme(citizen_fields=["description", "vending_type"])
    form = themes.citizen_report_form(document)
    assert list(form["properties"]) == ["location", "vending_type", "description"]   # the point always
    assert form["required"] == ["location", "vending_type"]
    assert themes.citizen_report_ui(document) == {"description": {"ui:widget": "textarea"},
                                                  "ui:order": ["location", "vending_type", "description"]}
    assert themes.validate_theme(document) == []


def test_citizen_fields_must_name_fields_of_the_report_form():
    problems = themes.validate_theme(_theme(citizen_fields=["description", "no_such_field"]))
    assert [(problem.path, problem.message) for problem in problems] == [
        ("/citizen_fields/1", "上报表单中没有字段“no_such_field”")]
    assert [problem.path for problem in themes.validate_theme(_theme(citizen_fields="description"))] == [
        "/citizen_fields"]


def test_every_shipped_theme_has_a_citizen_form_without_internal_fields(platform, session):
    registry = themes.registry(platform, session)
    assert len(registry.themes) > 50
    for theme in registry.themes.values():
        schema = workflows.intake.citizen_schema(theme)
        details = schema["properties"].get("details", {"properties": {}})
        ui = themes.citizen_report_ui(theme.document)
        forms.build_form(schema, {"details": ui} if ui else None)   # the form and its UI agree
        assert set(details["properties"]) <= set(themes.citizen_fields(theme.document)), theme.key
        photos = [name for name, field in details["properties"].items() if field.get("type") == "array"
                  and field.get("items", {}).get("format") == "attachment"]
        assert not set(photos) & set(details.get("required", ())), theme.key
    vending = workflows.intake.citizen_schema(registry.get("urban_management.street_vending"))
    titles = {field["title"] for field in vending["properties"]["details"]["properties"].values()}
    assert "是否已现场劝导" not in titles and "经营类型" not in titles and "情况描述" in titles


@pytest.mark.parametrize("fields", [[], ["location"]])
def test_only_the_place_is_a_form_too(fields):
    form = themes.citizen_report_form(_theme(citizen_fields=fields))
    assert list(form["properties"]) == ["location"] and form["required"] == ["location"]
