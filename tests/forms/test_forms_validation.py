"""forms.validate(): JSON Schema semantics, field paths, machine codes and Chinese messages."""
from __future__ import annotations

import copy

import pytest
from jsonschema import Draft202012Validator

from minqing import forms
from minqing.forms.compiled import compiled
from minqing.forms.formats import FORMAT_CHECKER


def errors(schema, document) -> list[tuple[str, str, str]]:
    return [(e.path, e.code, e.message) for e in forms.validate(schema, document)]


def one(schema, document) -> tuple[str, str, str]:
    found = errors(schema, document)
    assert len(found) == 1, found
    return found[0]


def field_schema(**field) -> dict:
    return {"type": "object", "properties": {"f": {"title": "字段", **field}}}


def test_valid_document_has_no_errors(house, valid_house):
    assert forms.validate(house, valid_house) == []


# -- types and keywords ----------------------------------------------------------------------

@pytest.mark.parametrize("field, value, code, message", [
    ({"type": "string", "minLength": 2}, "张", "minLength", "字段：至少需要2个字"),
    ({"type": "string", "maxLength": 3}, "一二三四", "maxLength", "字段：不能超过3个字"),
    ({"type": "string", "pattern": "^[0-9]{6}$"}, "73000", "pattern", "字段：格式不正确"),
    ({"type": "string"}, 12, "type", "字段：应为文本"),
    ({"type": "integer"}, 3.5, "type", "字段：应为整数"),
    ({"type": "integer"}, "3", "type", "字段：应为整数"),
    ({"type": "integer"}, True, "type", "字段：应为整数"),
    ({"type": "number"}, "1.5", "type", "字段：应为数字"),
    ({"type": "boolean"}, "是", "type", "字段：应选择“是”或“否”"),
    ({"type": "integer", "minimum": 1}, 0, "minimum", "字段：不能小于1"),
    ({"type": "integer", "maximum": 30}, 31, "maximum", "字段：不能大于30"),
    ({"type": "number", "exclusiveMinimum": 0}, 0, "exclusiveMinimum", "字段：应大于0"),
    ({"type": "number", "exclusiveMaximum": 1.5}, 1.5, "exclusiveMaximum", "字段：应小于1.5"),
    ({"type": "number", "multipleOf": 0.5}, 1.25, "multipleOf", "字段：应为0.5的整数倍"),
    ({"type": "string", "enum": ["甲", "乙"]}, "丙", "enum", "字段：请从给定的选项中选择"),
    ({"type": "integer", "oneOf": [{"const": 1, "title": "一"}, {"const": 2, "title": "二"}]}, 3,
     "enum", "字段：请从给定的选项中选择"),
    ({"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "minItems": 1}, [],
     "minItems", "字段：至少需要1项"),
    ({"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "maxItems": 1}, ["a", "b"],
     "maxItems", "字段：最多只能有1项"),
    ({"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "uniqueItems": True}, ["a", "a"],
     "uniqueItems", "字段：不能有重复项"),
])
def test_each_keyword_reports_its_code_and_message(field, value, code, message):
    assert one(field_schema(**field), {"f": value}) == ("f", code, message)


@pytest.mark.parametrize("field, value", [
    ({"type": "string", "minLength": 2, "maxLength": 3}, "兰州"),
    ({"type": "integer", "minimum": 1, "maximum": 30}, 30),
    ({"type": "integer"}, 3.0),  # JSON Schema: 3.0 is an integer
    ({"type": "number", "exclusiveMinimum": 0}, 0.001),
    ({"type": "number", "multipleOf": 0.1}, 0.3),  # decimal arithmetic, not float: 0.3 / 0.1 != 3
    ({"type": "number", "multipleOf": 0.01}, 19.99),
    ({"type": "boolean"}, False),
    ({"type": "integer", "oneOf": [{"const": 1, "title": "一"}]}, 1),
    ({"type": "array", "items": {"type": "integer", "enum": [1, 2]}, "uniqueItems": True}, [1, 2]),
])
def test_values_within_the_constraints_pass(field, value):
    assert forms.validate(field_schema(**field), {"f": value}) == []


def test_patterns_follow_ecma_262_not_python_re():
    schema = field_schema(type="string", pattern="^\\d{6}$")
    assert forms.validate(schema, {"f": "730000"}) == []
    assert one(schema, {"f": "730000\n"})[1] == "pattern"   # Python's $ would accept this
    assert one(schema, {"f": "٧٣٠٠٠٠"})[1] == "pattern"      # Python's \d would accept Arabic-Indic digits
    unanchored = field_schema(type="string", pattern="兰州")
    assert forms.validate(unanchored, {"f": "甘肃省兰州市"}) == []  # pattern is a search, as in the spec


def test_custom_messages_from_x_messages():
    schema = field_schema(type="string", pattern="^[0-9]{6}$", **{"x-messages": {"pattern": "请输入6位邮政编码"}})
    assert one(schema, {"f": "abc"}) == ("f", "pattern", "字段：请输入6位邮政编码")


def test_x_messages_format_covers_every_format():
    schema = field_schema(type="string", format="cn-mobile", **{"x-messages": {"format": "请填写本人手机号"}})
    assert one(schema, {"f": "110"}) == ("f", "cn-mobile", "字段：请填写本人手机号")


def test_additional_properties_false_names_the_stray_key():
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False}
    assert one(schema, {"a": "x", "b": 1}) == ("b", "additionalProperties", "b：表单中没有此项")


# -- formats -----------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt, good, bad, message", [
    ("date", "2024-02-29", "2023-02-29", "字段：应为有效日期，格式如 2024-05-01"),
    ("date", "2024-05-01", "2024/05/01", "字段：应为有效日期，格式如 2024-05-01"),
    ("date-time", "2024-05-01T09:30:00+08:00", "2024-05-01T09:30", "字段：应为有效的日期时间，格式如 2024-05-01T09:30:00+08:00"),
    ("date-time", "2024-05-01T01:30:00Z", "2024-05-01T25:30:00Z", "字段：应为有效的日期时间，格式如 2024-05-01T09:30:00+08:00"),
    ("email", "wangge@lanzhou.gov.cn", "wangge@lanzhou", "字段：邮箱地址格式不正确"),
    ("cn-mobile", "19912345678", "12912345678", "字段：手机号码应为1开头的11位数字，第二位为3至9"),
    ("cn-mobile", "13800138000", "1380013800", "字段：手机号码应为1开头的11位数字，第二位为3至9"),
    ("attachment", "01HZX3K7R8-photo_1", "../../etc/passwd", "字段：附件编号无效"),
])
def test_string_formats(fmt, good, bad, message):
    schema = field_schema(type="string", format=fmt)
    assert forms.validate(schema, {"f": good}) == []
    assert one(schema, {"f": bad}) == ("f", fmt, message)


def test_cn_id_uses_the_gb_11643_checksum(kit):
    schema = {"type": "object", "properties": {"id_number": {"type": "string", "title": "身份证号", "format": "cn-id"}}}
    assert forms.validate(schema, {"id_number": kit.OWNER_ID}) == []
    assert one(schema, {"id_number": kit.ID_BAD_CHECKSUM}) == ("id_number", "cn-id", "身份证号：校验位不正确")
    assert one(schema, {"id_number": "62010219801301011X"})[2] == "身份证号：出生日期无效"
    assert one(schema, {"id_number": "6201021980"})[2] == "身份证号：应为18位，前17位为数字，最后一位为数字或X"


def test_cn_id_with_x_check_character():
    schema = field_schema(type="string", format="cn-id")
    assert forms.validate(schema, {"f": "11010519491231002X"}) == []


@pytest.mark.parametrize("point, ok", [
    ({"lon": 103.834, "lat": 36.061}, True),
    ({"lon": -180, "lat": 90}, True),
    ({"lon": 181, "lat": 36}, False),
    ({"lon": 103.8, "lat": -91}, False),
    ({"lon": 103.8}, False),
    ({"lon": 103.8, "lat": 36.0, "alt": 1500}, False),
    ({"lon": "103.8", "lat": 36.0}, False),
    ({"lon": True, "lat": 36.0}, False),
])
def test_geo_point_is_an_object_of_lon_and_lat(point, ok):
    schema = field_schema(type="object", format="geo-point")
    found = forms.validate(schema, {"f": point})
    assert (found == []) is ok
    if not ok:
        assert [(e.path, e.code) for e in found] == [("f", "geo-point")]


def test_geo_point_of_the_wrong_type_is_a_type_error():
    assert one(field_schema(type="object", format="geo-point"), {"f": "103.8,36.0"})[1] == "type"


def test_attachment_ids_in_arrays_are_checked_one_by_one(house, valid_house):
    valid_house["photos"] = ["att-1", "a/b", "att-3"]
    assert errors(house, valid_house) == [("photos[1]", "attachment", "现场照片：附件编号无效")]


# -- paths, nesting, repeat groups -------------------------------------------------------------------

def test_paths_name_nested_objects_and_rows(house, valid_house, kit):
    valid_house["owner"]["id_number"] = kit.ID_BAD_CHECKSUM
    valid_house["residents"][1]["id_number"] = kit.ID_BAD_CHECKSUM
    del valid_house["residents"][0]["name"]
    assert errors(house, valid_house) == [
        ("owner.id_number", "cn-id", "身份证号：校验位不正确"),
        ("residents[0].name", "required", "姓名：此项为必填项"),
        ("residents[1].id_number", "cn-id", "身份证号：校验位不正确"),
    ]


def test_missing_required_fields_are_listed_in_form_order(house):
    found = errors(house, {"floors": 3})
    assert [path for path, _, _ in found] == [
        "address", "owner", "structure", "has_cracks", "photos", "inspection_date", "location", "risk_level"]
    assert found[0] == ("address", "required", "房屋地址：此项为必填项")


def test_deeply_nested_paths():
    schema = {"type": "object", "properties": {"household": {"type": "object", "title": "住户", "properties": {
        "members": {"type": "array", "title": "成员", "items": {"type": "object", "properties": {
            "id_number": {"type": "string", "title": "身份证号", "format": "cn-id"}}}}}}}}
    document = {"household": {"members": [{}, {}, {"id_number": "110105194912310021"}]}}
    assert errors(schema, document) == [("household.members[2].id_number", "cn-id", "身份证号：校验位不正确")]


def test_repeat_group_size_limits(house, valid_house):
    valid_house["residents"] = [copy.deepcopy(valid_house["residents"][0]) for _ in range(21)]
    assert errors(house, valid_house) == [("residents", "maxItems", "居住人员：最多只能有20项")]


# -- conditionals ------------------------------------------------------------------------------

def test_if_then_makes_a_field_required_only_when_the_condition_holds(house, valid_house):
    del valid_house["crack_description"]
    assert errors(house, valid_house) == [("crack_description", "required", "裂缝情况：此项为必填项")]
    valid_house["has_cracks"] = False
    assert forms.validate(house, valid_house) == []


def test_conditions_in_all_of_apply_independently(house, valid_house):
    valid_house["structure"] = "other"
    assert errors(house, valid_house) == [("structure_other", "required", "其他结构说明：此项为必填项")]
    valid_house["structure_other"] = "钢结构"
    assert forms.validate(house, valid_house) == []


def conditional_schema() -> dict:
    return {
        "type": "object",
        "properties": {
            "registered": {"type": "string", "title": "是否登记", "enum": ["是", "否"]},
            "reg_no": {"type": "string", "title": "登记号"},
            "reason": {"type": "string", "title": "未登记原因"},
            "count": {"type": "integer", "title": "人数"},
            "phone": {"type": "string", "title": "联系电话", "format": "cn-mobile"},
            "contact": {"type": "string", "title": "联系人"},
        },
        "if": {"properties": {"registered": {"const": "是"}}, "required": ["registered"]},
        "then": {"required": ["reg_no"], "properties": {"count": {"minimum": 1}}},
        "else": {"required": ["reason"]},
        "dependentRequired": {"phone": ["contact"]},
    }


def test_then_can_add_property_constraints_and_else_applies_otherwise():
    schema = conditional_schema()
    assert errors(schema, {"registered": "是", "reg_no": "A1", "count": 0}) == [("count", "minimum", "人数：不能小于1")]
    assert forms.validate(schema, {"registered": "否", "reason": "外出", "count": 0}) == []
    assert errors(schema, {"registered": "否"}) == [("reason", "required", "未登记原因：此项为必填项")]
    # no answer: the `if` fails (registered is required in it), so `else` applies
    assert errors(schema, {}) == [("reason", "required", "未登记原因：此项为必填项")]


def test_dependent_required_names_the_trigger():
    schema = conditional_schema()
    found = errors(schema, {"registered": "否", "reason": "外出", "phone": "13800138000"})
    assert found == [("contact", "required", "联系人：填写了“联系电话”时此项为必填项")]
    assert forms.validate(schema, {"registered": "否", "reason": "外出", "phone": "13800138000", "contact": "李"}) == []


# -- the schema is the truth: agreement with plain jsonschema ------------------------------------

def corpus(valid: dict, kit) -> list[dict]:
    """Valid and invalid variants of a document: every field removed, mistyped, emptied, stretched."""
    docs = [valid]
    wrong = {str: 12, int: "3", float: "x", bool: "true", list: "a", dict: ["a"]}
    for key, value in valid.items():
        for variant in (None, wrong[type(value)], "" if isinstance(value, str) else value):
            doc = copy.deepcopy(valid)
            if variant is None:
                del doc[key]
            else:
                doc[key] = variant
            docs.append(doc)
    tweaks = [
        ("floors", 0), ("floors", 31), ("floors", 30), ("built_year", 1949.5), ("structure", "other"),
        ("has_cracks", False), ("usage", ["自住", "自住"]), ("usage", []), ("photos", ["a"] * 7),
        ("location", {"lon": 200, "lat": 0}), ("location", {"lon": 1, "lat": 2, "z": 3}), ("risk_level", 5),
        ("risk_level", True), ("inspection_date", "2024-13-01"), ("extra", 1),
    ]
    for key, value in tweaks:
        doc = copy.deepcopy(valid)
        doc[key] = value
        docs.append(doc)
    for bad in ("62010219800101011", kit.ID_BAD_CHECKSUM, 620102):
        doc = copy.deepcopy(valid)
        doc["residents"][1]["id_number"] = bad
        docs.append(doc)
    return docs


def test_verdicts_agree_with_plain_jsonschema(house, valid_house, kit):
    plain = Draft202012Validator(house, format_checker=FORMAT_CHECKER)
    docs = corpus(valid_house, kit)
    verdicts = [(forms.validate(house, d) == [], plain.is_valid(d)) for d in docs]
    assert all(ours == theirs for ours, theirs in verdicts)
    assert {ours for ours, _ in verdicts} == {True, False}  # the corpus has both kinds


def test_fast_path_never_accepts_what_jsonschema_rejects(house, valid_house, kit):
    validator = compiled(house).validator
    assert validator._fast is not None
    for doc in corpus(valid_house, kit):
        full = validator._full.is_valid(doc)
        try:
            validator._fast(doc)
            fast = True
        except Exception:
            fast = False
        assert fast == full or not fast, doc


def test_fast_path_on_edge_values():
    schema = {"type": "object", "properties": {
        "code": {"type": "string", "pattern": "^\\d{6}$"}, "ratio": {"type": "number", "multipleOf": 0.1},
        "place": {"type": "object", "format": "geo-point"}, "n": {"type": "integer", "enum": [1, 2]},
        "when": {"type": "string", "format": "date-time"}},
        "dependentRequired": {"code": ["n"]}}
    validator = compiled(schema).validator
    cases = [{"code": "730000\n", "n": 1}, {"code": "٧٣٠٠٠٠", "n": 1}, {"ratio": 0.3}, {"ratio": 0.35},
             {"place": {"lon": 1}}, {"place": {"lon": True, "lat": 1}}, {"n": True}, {"n": 1.0}, {"code": "730000"},
             {"when": "2024-05-01T10:00"}, {"when": "2024-05-01T10:00:00+08:00"}]
    expected = [False, False, True, False, False, False, False, True, False, False, True]
    assert [validator.is_valid(c) for c in cases] == expected
    assert [forms.validate(schema, c) == [] for c in cases] == expected


def test_validate_does_not_modify_the_document(house, valid_house):
    house["properties"]["note"]["default"] = "无"
    before = copy.deepcopy(valid_house)
    forms.validate(house, valid_house)
    assert valid_house == before  # fastjsonschema would fill in defaults unless told not to
