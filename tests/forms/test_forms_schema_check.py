"""check_schema(): unsupported keywords and unusable schemas are rejected with keyword + location."""
from __future__ import annotations

import json
from importlib import resources

import pytest
from jsonschema import Draft202012Validator

from minqing import forms


def base(**properties) -> dict:
    return {"type": "object", "properties": properties or {"name": {"type": "string", "title": "姓名"}}}


def problems_of(schema, ui=None) -> set[tuple[str, str, str]]:
    return {(p.pointer, p.keyword, p.code) for p in forms.check_schema(schema, ui)}


def test_example_schema_and_ui_are_accepted(house, house_ui):
    assert forms.check_schema(house, house_ui) == []


def test_published_meta_schema_is_valid_2020_12_and_is_the_one_used():
    text = (resources.files("minqing.forms") / "form.schema.json").read_text("utf-8")
    meta = json.loads(text)
    Draft202012Validator.check_schema(meta)
    assert forms.meta_schema() == meta
    assert meta["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("keyword, value", [
    ("allOf", [{"minLength": 1}]), ("anyOf", [{"type": "string"}]), ("not", {"const": "x"}),
    ("$ref", "#/$defs/x"), ("contentEncoding", "base64"), ("x-unknown", True), ("minimum", 3),
])
def test_unsupported_keyword_on_a_field_is_named_with_its_pointer(keyword, value):
    schema = base(name={"type": "string", "title": "姓名", keyword: value})
    found = forms.check_schema(schema)
    assert (f"/properties/name/{keyword}", keyword, "unsupported-keyword") in {
        (p.pointer, p.keyword, p.code) for p in found}
    problem = next(p for p in found if p.keyword == keyword)
    assert problem.message == f"不支持的关键字“{keyword}”"


def test_unsupported_keywords_deep_inside_groups_rows_and_conditions():
    schema = base(
        household={"type": "object", "properties": {
            "members": {"type": "array", "items": {"type": "object", "properties": {
                "id_number": {"type": "string", "format": "cn-id", "contentMediaType": "text/plain"}}}}}},
        flag={"type": "boolean"}, other={"type": "string"})
    schema["if"] = {"properties": {"flag": {"const": True, "pattern": "x"}}}
    schema["then"] = {"required": ["other"], "anyOf": []}
    schema["patternProperties"] = {}
    found = problems_of(schema)
    assert ("/properties/household/properties/members/items/properties/id_number/contentMediaType",
            "contentMediaType", "unsupported-keyword") in found
    assert ("/if/properties/flag/pattern", "pattern", "unsupported-keyword") in found
    assert ("/then/anyOf", "anyOf", "unsupported-keyword") in found
    assert ("/patternProperties", "patternProperties", "unsupported-keyword") in found


def test_keyword_of_another_type_is_unsupported_there():
    found = problems_of(base(floors={"type": "integer", "minLength": 1}, name={"type": "string", "maximum": 3}))
    assert ("/properties/floors/minLength", "minLength", "unsupported-keyword") in found
    assert ("/properties/name/maximum", "maximum", "unsupported-keyword") in found


def test_unknown_format_type_and_schema_dialect_are_rejected():
    schema = base(a={"type": "string", "format": "ipv4"}, b={"type": "null"})
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    found = forms.check_schema(schema)
    by_pointer = {p.pointer: p for p in found}
    assert by_pointer["/properties/a/format"].message == "不支持的格式“ipv4”"
    assert by_pointer["/properties/b/type"].message == "不支持的类型“null”"
    assert "2020-12" in by_pointer["/$schema"].message


def test_missing_type_and_bad_values_are_reported():
    found = problems_of(base(a={"title": "无类型"}, b={"type": "string", "minLength": -1},
                             c={"type": "array"}))
    assert ("/properties/a/type", "type", "missing-keyword") in found
    assert ("/properties/b/minLength", "minLength", "invalid-value") in found
    assert ("/properties/c/items", "items", "missing-keyword") in found


def test_property_names_must_be_identifiers_and_not_reserved():
    found = problems_of(base(**{"first-name": {"type": "string"}, "名字": {"type": "string"}}))
    assert ("/properties/first-name", "first-name", "invalid-name") in found
    assert ("/properties/名字", "名字", "invalid-name") in found
    # names WTForms needs for itself (and ours) cannot be field names either
    found = problems_of(base(data={"type": "string"}, validate={"type": "string"}, ok={"type": "string"}))
    assert ("/properties/data", "data", "invalid-name") in found
    assert ("/properties/validate", "validate", "invalid-name") in found


def test_names_used_by_required_conditions_and_dependencies_must_exist():
    schema = base(flag={"type": "boolean"}, note={"type": "string"})
    schema["required"] = ["flag", "ghost"]
    schema["dependentRequired"] = {"note": ["phantom"], "nobody": ["flag"]}
    schema["allOf"] = [{"if": {"properties": {"missing": {"const": 1}}, "required": ["flag"]},
                        "then": {"required": ["absent"], "properties": {"void": {"minLength": 1}}}}]
    found = problems_of(schema)
    assert ("/required/1", "ghost", "unknown-property") in found
    assert ("/dependentRequired/note/0", "phantom", "unknown-property") in found
    assert ("/dependentRequired/nobody", "nobody", "unknown-property") in found
    assert ("/allOf/0/if/properties/missing", "missing", "unknown-property") in found
    assert ("/allOf/0/then/required/0", "absent", "unknown-property") in found
    assert ("/allOf/0/then/properties/void", "void", "unknown-property") in found


def test_conditions_cannot_test_groups_or_repeat_groups():
    schema = base(owner={"type": "object", "properties": {"name": {"type": "string"}}},
                  rows={"type": "array", "items": {"type": "object", "properties": {"v": {"type": "string"}}}},
                  note={"type": "string"})
    schema["if"] = {"required": ["owner"]}
    schema["then"] = {"required": ["note"]}
    schema["dependentRequired"] = {"rows": ["note"]}
    found = problems_of(schema)
    assert found == {("/if/required/0", "owner", "inapplicable-keyword"),
                     ("/dependentRequired/rows", "rows", "inapplicable-keyword")}


def test_condition_and_constraint_keywords_must_suit_the_field():
    schema = base(flag={"type": "boolean"}, count={"type": "integer"}, note={"type": "string"})
    schema["if"] = {"properties": {"flag": {"minimum": 1}, "count": {"const": "three"}}}
    schema["then"] = {"properties": {"count": {"minLength": 2}, "note": {"pattern": "(unclosed"}}}
    found = problems_of(schema)
    assert ("/if/properties/flag/minimum", "minimum", "inapplicable-keyword") in found
    assert ("/if/properties/count/const", "const", "invalid-value") in found
    assert ("/then/properties/count/minLength", "minLength", "inapplicable-keyword") in found
    assert ("/then/properties/note/pattern", "pattern", "invalid-pattern") in found


def test_semantic_checks_on_fields():
    found = problems_of(base(
        code={"type": "string", "pattern": "[a-"},
        level={"type": "integer", "enum": [1, 2.5]},
        kind={"type": "string", "oneOf": [{"const": "a", "title": "甲"}, {"const": "a", "title": "乙"}]},
        size={"type": "integer", "minimum": 10, "maximum": 1},
        day={"type": "string", "format": "date", "default": "2024-02-30"},
        file={"type": "string", "x-attachment": {"maxBytes": 10}},
        tags={"type": "array", "items": {"type": "string"}},
        grid={"type": "array", "items": {"type": "array", "items": {"type": "string", "enum": ["a"]}}},
    ))
    assert found == {
        ("/properties/code/pattern", "pattern", "invalid-pattern"),
        ("/properties/level/enum/1", "enum", "invalid-value"),
        ("/properties/kind/oneOf/1/const", "oneOf", "invalid-value"),
        ("/properties/size/minimum", "minimum", "invalid-value"),
        ("/properties/day/default", "default", "invalid-default"),
        ("/properties/file/x-attachment", "x-attachment", "inapplicable-keyword"),
        ("/properties/tags/items", "items", "unsupported-items"),
        ("/properties/grid/items", "items", "unsupported-items"),
    }


def test_repeat_groups_take_no_default_or_read_only():
    rows = {"type": "array", "items": {"type": "object", "properties": {"v": {"type": "string"}}}}
    found = problems_of(base(a=dict(rows, default=[{"v": "x"}]), b=dict(rows, readOnly=True)))
    assert found == {("/properties/a/default", "default", "inapplicable-keyword"),
                     ("/properties/b/readOnly", "readOnly", "inapplicable-keyword")}


def test_values_of_the_wrong_json_type_are_caught_by_the_meta_schema():
    found = problems_of(base(level={"type": "integer", "enum": [1, "二"]}, year={"type": "integer", "default": "1990"}))
    assert found == {("/properties/level/enum/1", "enum", "invalid-value"),
                     ("/properties/year/default", "default", "invalid-value")}


def test_ui_schema_problems_point_into_the_ui(house):
    ui = {"ui:order": ["address", "nope"], "address": {"ui:widget": "radio"},
          "floors": {"ui:colour": "red"}, "residents": {"items": {"name": {"ui:rows": 0}}},
          "ghost": {}}
    found = forms.check_schema(house, ui)
    assert {p.source for p in found} == {"ui"}
    pointers = {(p.pointer, p.keyword) for p in found}
    assert ("/ui:order/1", "ui:order") in pointers
    assert ("/address/ui:widget", "ui:widget") in pointers
    assert ("/floors/ui:colour", "ui:colour") in pointers
    assert ("/residents/items/name/ui:rows", "ui:rows") in pointers
    assert ("/ghost", "ghost") in pointers


def test_an_unusable_schema_cannot_be_built_or_used(house):
    house["properties"]["address"]["anyOf"] = []
    with pytest.raises(forms.SchemaError) as caught:
        forms.build_form(house)
    assert caught.value.problems[0].pointer == "/properties/address/anyOf"
    assert "anyOf" in str(caught.value)
    with pytest.raises(forms.SchemaError):
        forms.validate(house, {})


def test_a_bad_ui_schema_cannot_be_built(house):
    with pytest.raises(forms.SchemaError):
        forms.build_form(house, {"address": {"ui:widget": "slider"}})
