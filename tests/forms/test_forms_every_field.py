"""Every field kind through the generated WTForms form, with werkzeug MultiDict formdata."""
from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from minqing import forms

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "version": "kitchen-sink",
    "type": "object",
    "properties": {
        "name": {"type": "string", "title": "姓名", "minLength": 2, "maxLength": 10},
        "postcode": {"type": "string", "title": "邮编", "pattern": "^[0-9]{6}$"},
        "story": {"type": "string", "title": "情况说明", "maxLength": 20},
        "born": {"type": "string", "title": "出生日期", "format": "date"},
        "visited_at": {"type": "string", "title": "走访时间", "format": "date-time"},
        "email": {"type": "string", "title": "邮箱", "format": "email"},
        "mobile": {"type": "string", "title": "手机", "format": "cn-mobile"},
        "id_number": {"type": "string", "title": "身份证号", "format": "cn-id"},
        "age": {"type": "integer", "title": "年龄", "minimum": 0, "maximum": 150},
        "area": {"type": "number", "title": "面积", "exclusiveMinimum": 0, "multipleOf": 0.01},
        "ethnic": {"type": "string", "title": "民族", "enum": ["汉族", "回族", "东乡族"]},
        "level": {"type": "integer", "title": "困难等级",
                  "oneOf": [{"const": 1, "title": "一般"}, {"const": 2, "title": "较重"}, {"const": 3, "title": "严重"}]},
        "verified": {"type": "boolean", "title": "已核实"},
        "insured": {"type": "boolean", "title": "参加医保"},
        "needs": {"type": "array", "title": "需求", "items": {"type": "string", "oneOf": [
            {"const": "medical", "title": "就医"}, {"const": "job", "title": "就业"}, {"const": "school", "title": "就学"}]},
            "uniqueItems": True, "maxItems": 2},
        "home": {"type": "object", "title": "住所位置", "format": "geo-point"},
        "scan": {"type": "string", "title": "证件照片", "format": "attachment",
                 "x-attachment": {"accept": ["image/*"], "maxBytes": 1000}},
        "guardian": {"type": "object", "title": "监护人", "properties": {
            "name": {"type": "string", "title": "监护人姓名"},
            "mobile": {"type": "string", "title": "监护人手机", "format": "cn-mobile"}}, "required": ["name"]},
        "children": {"type": "array", "title": "子女", "minItems": 1, "maxItems": 3, "items": {
            "type": "object", "properties": {
                "name": {"type": "string", "title": "子女姓名"},
                "school": {"type": "string", "title": "学校"}}, "required": ["name"]}},
    },
    "required": ["name", "age", "insured", "children"],
}
UI = {"story": {"ui:widget": "textarea"}, "level": {"ui:widget": "radio"}, "insured": {"ui:widget": "radio"}}

GOOD = [
    ("name", "马小花"), ("postcode", "730030"), ("story", "独居老人"), ("born", "1950-03-08"),
    ("visited_at", "2024-05-01T10:15"), ("email", "gridder@lz.gov.cn"), ("mobile", "13919000000"),
    ("id_number", "11010519491231002X"), ("age", "74"), ("area", "56.78"), ("ethnic", "回族"), ("level", "3"),
    ("verified", "true"), ("insured", "false"), ("needs", "medical"), ("needs", "job"),
    ("home-lon", "103.7"), ("home-lat", "36.1"), ("guardian-name", "马大"), ("guardian-mobile", "13900000001"),
    ("children-0-name", "马一"), ("children-0-school", "兰州一中"),
]
GOOD_DOCUMENT = {
    "name": "马小花", "postcode": "730030", "story": "独居老人", "born": "1950-03-08",
    "visited_at": "2024-05-01T10:15:00+08:00", "email": "gridder@lz.gov.cn", "mobile": "13919000000",
    "id_number": "11010519491231002X", "age": 74, "area": 56.78, "ethnic": "回族", "level": 3,
    "verified": True, "insured": False, "needs": ["medical", "job"], "home": {"lon": 103.7, "lat": 36.1},
    "guardian": {"name": "马大", "mobile": "13900000001"}, "children": [{"name": "马一", "school": "兰州一中"}],
}


def form_for(pairs, **changes):
    data = MultiDict(pairs)
    for key, value in changes.items():
        data.setlist(key, value if isinstance(value, list) else [value])
    return forms.build_form(SCHEMA, UI)(data)


def test_a_complete_valid_submission(kit):
    form = form_for(GOOD, scan=kit.upload("id.png", b"\x89PNG", "image/png"))
    assert form.validate(), form.schema_errors
    document = forms.to_document(SCHEMA, form, store_upload=lambda path, f: "att-id")
    assert document == dict(GOOD_DOCUMENT, scan="att-id")
    assert forms.validate(SCHEMA, document) == []


@pytest.mark.parametrize("key, value, field, message", [
    ("name", "马", "name", "姓名：至少需要2个字"),
    ("name", "", "name", "姓名：此项为必填项"),
    ("postcode", "7300", "postcode", "邮编：格式不正确"),
    ("story", "很" * 21, "story", "情况说明：不能超过20个字"),
    ("born", "1950-02-30", "born", "出生日期：应为有效日期，格式如 2024-05-01"),
    ("visited_at", "昨天下午", "visited_at", "走访时间：应为有效的日期时间，格式如 2024-05-01T09:30:00+08:00"),
    ("email", "gridder", "email", "邮箱：邮箱地址格式不正确"),
    ("mobile", "23919000000", "mobile", "手机：手机号码应为1开头的11位数字，第二位为3至9"),
    ("id_number", "110105194912310021", "id_number", "身份证号：校验位不正确"),
    ("age", "七十", "age", "年龄：应为整数"),
    ("age", "74.5", "age", "年龄：应为整数"),
    ("age", "151", "age", "年龄：不能大于150"),
    ("area", "0", "area", "面积：应大于0"),
    ("area", "1.005", "area", "面积：应为0.01的整数倍"),
    ("ethnic", "满族", "ethnic", "民族：请从给定的选项中选择"),
    ("level", "4", "level", "困难等级：请从给定的选项中选择"),
    ("insured", "", "insured", "参加医保：此项为必填项"),
    ("needs", ["medical", "job", "school"], "needs", "需求：最多只能有2项"),
    ("needs", ["medical", "medical"], "needs", "需求：不能有重复项"),
    ("home-lat", "96", "home", "住所位置：经度应在-180至180之间，纬度应在-90至90之间"),
    ("home-lat", "", "home", "住所位置：位置应包含经度和纬度两个数字"),
    ("guardian-name", "", "guardian.name", "监护人姓名：此项为必填项"),
    ("guardian-mobile", "123", "guardian.mobile", "监护人手机：手机号码应为1开头的11位数字，第二位为3至9"),
    ({"children-0-name": "", "children-0-school": ""}, None, "children", "子女：至少需要1项"),
    ("children-0-name", "", "children[0].name", "子女姓名：此项为必填项"),
    ("children-1-school", "二中", "children[1].name", "子女姓名：此项为必填项"),
])
def test_each_invalid_input_is_reported_at_its_field(key, value, field, message):
    form = form_for(GOOD, **(key if isinstance(key, dict) else {key: value}))
    assert not form.validate()
    assert [(e.path, e.message) for e in form.schema_errors] == [(field, message)]
    assert field_at(form, field).mq_errors == [message]


def field_at(form, path: str):
    """The WTForms field a document path names: "children[1].name" -> form.children.entries[1].form.name."""
    container, field = form, None
    for part in path.replace("[", ".").replace("]", "").split("."):
        field = field.entries[int(part)] if part.isdigit() else container[part]
        container = getattr(field, "form", None)
    return field


def test_unchecked_checkbox_is_false_and_unanswered_radio_is_absent():
    form = form_for([(k, v) for k, v in GOOD if k not in ("verified", "insured")])
    assert not form.validate()
    assert [(e.path, e.code) for e in form.schema_errors] == [("insured", "required")]
    document = forms.to_document(SCHEMA, form)
    assert document["verified"] is False and "insured" not in document


def test_uploads_are_checked_against_x_attachment(kit):
    form = form_for(GOOD, scan=kit.upload("a.pdf", b"%PDF-1.4", "application/pdf"))
    assert not form.validate()
    assert [e.message for e in form.schema_errors] == ["证件照片：不支持此文件类型，请上传image/*"]
    form = form_for(GOOD, scan=kit.upload("big.jpg", b"x" * 1001))
    assert not form.validate()
    assert [e.message for e in form.schema_errors] == ["证件照片：文件不能超过1000 字节"]


def test_the_rendered_form_has_a_control_for_every_field(kit):
    page = kit.Page(str(forms.render(forms.build_form(SCHEMA, UI)())))
    names = {c["name"] for c in page.controls if c["name"]}
    expected = {k for k, _ in GOOD} | {"scan", "__add__children", "__remove__children-0"}
    assert expected <= names
    assert [c["type"] for c in page.named("level")] == ["radio"] * 3
    assert [c["type"] for c in page.named("needs")] == ["checkbox"] * 3
    assert page.named("story")[0]["tag"] == "textarea"
    assert page.named("visited_at")[0]["attrs"]["type"] == "datetime-local"
    assert page.named("email")[0]["attrs"]["type"] == "email"
    assert page.named("area")[0]["attrs"]["step"] == "0.01"
    # the first child row is needed (minItems 1), so its required field is required in HTML too
    assert "required" in page.named("children-0-name")[0]["attrs"]


def test_fields_of_an_optional_group_are_required_only_once_it_is_used(kit):
    schema = {"type": "object", "properties": {"guardian": {"type": "object", "properties": {
        "name": {"type": "string"}}, "required": ["name"]}}}
    page = kit.Page(str(forms.render(forms.build_form(schema)())))
    attrs = page.named("guardian-name")[0]["attrs"]
    assert "required" not in attrs and "data-mq-required" in attrs
    group = page.by_id("guardian-field")[1]
    assert "data-mq-optional" in group
