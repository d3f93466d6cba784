"""Schema versions: stable ids, no stale compiled forms, old records still validate and display."""
from __future__ import annotations

import copy
import json

from minqing import forms
from minqing.forms.compiled import compiled


def test_version_is_the_declared_version_plus_a_content_hash(house):
    version = forms.schema_version(house)
    label, digest = version.split("@")
    assert label == "1" and len(digest) == 12
    reordered = json.loads(json.dumps(house, sort_keys=True))
    assert forms.schema_version(reordered) == version
    edited = copy.deepcopy(house)
    edited["properties"]["floors"]["maximum"] = 40
    assert forms.schema_version(edited) not in (version, "")
    assert forms.schema_version(edited).startswith("1@")


def test_version_falls_back_to_id_then_to_the_hash_alone(house):
    del house["version"]
    assert forms.schema_version(house).startswith(house["$id"] + "@")
    del house["$id"]
    assert len(forms.schema_version(house)) == 12


def test_compiled_once_per_version(house):
    first = compiled(house)
    assert compiled(copy.deepcopy(house)) is first
    assert compiled(json.loads(json.dumps(house, sort_keys=True))) is first  # other key order, same version
    assert forms.build_form(house) is forms.build_form(copy.deepcopy(house))


def test_an_edited_schema_never_gets_a_stale_form_or_validator(house, valid_house):
    before = forms.build_form(house)
    assert forms.validate(house, valid_house) == []
    house["properties"]["floors"]["maximum"] = 2          # edited in place, version not bumped
    house["properties"]["extra"] = {"type": "string", "title": "新增字段"}
    after = forms.build_form(house)
    assert after is not before and hasattr(after, "extra") and not hasattr(before, "extra")
    assert [(e.path, e.code) for e in forms.validate(house, valid_house)] == [("floors", "maximum")]


def test_true_and_one_are_different_schemas():
    a = {"type": "object", "properties": {"x": {"type": "integer", "enum": [1]}}}
    b = {"type": "object", "properties": {"x": {"type": "boolean", "default": True}}}
    a2 = copy.deepcopy(a)
    a2["properties"]["x"]["enum"] = [1.0]
    assert compiled(a) is not compiled(b)
    assert forms.schema_version(a) != forms.schema_version(a2)


def test_the_compiled_version_is_a_snapshot(house):
    version = compiled(house)
    house["properties"]["address"]["title"] = "改过的标题"
    assert version.schema["properties"]["address"]["title"] == "房屋地址"


def test_records_of_an_older_version_validate_and_display_with_it(house, valid_house):
    v1 = copy.deepcopy(house)
    v2 = copy.deepcopy(house)
    v2["version"] = "2"
    v2["properties"]["usage"]["items"]["enum"] = ["自住", "出租", "经营"]   # 其他 removed
    v2["properties"]["heating"] = {"type": "string", "title": "取暖方式", "enum": ["集中供暖", "燃煤", "电"]}
    v2["required"].append("heating")
    del v2["properties"]["note"]
    old_record = dict(valid_house, usage=["其他"], note="院内有旱厕")

    assert forms.schema_version(v1) != forms.schema_version(v2)
    assert forms.validate(v1, old_record) == []
    # v2 does not forbid unknown keys, so the dropped "note" is no error
    assert {(e.path, e.code) for e in forms.validate(v2, old_record)} == {("usage[0]", "enum"), ("heating", "required")}

    shown = {row.label: row.value for row in forms.display(v1, old_record)}
    assert shown["房屋用途"] == "其他" and shown["备注"] == "院内有旱厕"
    # shown with the newer schema, a value it no longer knows is still visible, under its key
    shown_v2 = {row.label: row.value for row in forms.display(v2, old_record)}
    assert shown_v2["note"] == "院内有旱厕"


def test_form_instances_know_their_version(house):
    form = forms.build_form(house)()
    assert form.schema_version == forms.schema_version(house)
