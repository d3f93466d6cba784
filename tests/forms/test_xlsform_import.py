"""XLSForm import: spreadsheets written here with openpyxl, converted, rendered and validated by the engine."""
from __future__ import annotations


import pytest
from werkzeug.datastructures import MultiDict

from minqing import forms
from minqing.forms.xlsform import XLSFormError, normalise, read_xlsform, write_xlsform

from tests.fixtures.xlsform import workbook

SURVEY = [
    ["type", "name", "label", "label::中文", "hint::中文", "required", "constraint", "constraint_message::中文",
     "relevant", "default", "appearance", "calculation"],
    ["text", "owner", "Owner", "户主姓名", "身份证上的姓名", "yes", "string-length(.) <= 20", "姓名不超过20个字",
     None, None, None],
    ["integer", "floors", "Floors", "层数", None, "TRUE", ". >= 1 and . <= 30", "层数应在1到30之间", None, "2", None],
    ["select_one structure", "structure", "Structure", "结构", None, None, None, None, None, None, "minimal"],
    ["text", "structure_other", "Other", "其他结构", None, "yes", None, None, "${structure} = 'other'", None, None],
    ["select_multiple hazards", "hazards", "Hazards", "隐患", None, None, None, None, None, None, None],
    ["text", "crack_note", "Cracks", "裂缝说明", None, None, None, None,
     "selected(${hazards}, 'cracks') and ${floors} >= 3", None, "multiline"],
    ["text", "postcode", "Postcode", "邮编", None, None, "regex(., '^[0-9]{6}$')", "请输入6位邮政编码",
     None, None, None],
    ["decimal", "area", "Area", "面积", None, None, ". > 0", None, None, None, None],
    ["date", "inspected", "Date", "巡查日期", None, None, None, None, None, None, None],
    ["geopoint", "location", "Location", "位置", None, "yes", None, None, None, None, None],
    ["image", "photo", "Photo", "现场照片", None, None, None, None, None, None, "new"],
    ["text", "risk_note", "Risk", "风险说明", None, None, None, None,
     "${structure} = 'brick' or ${structure} = 'frame' or ${floors} > 10", None, None],
    ["begin_group", "contact", "Contact", "联系方式", None, None, None, None, None, None, None],
    ["text", "phone", "Phone", "电话", "手机号", None, None, None, None, None, None],
    ["integer", "age", "Age", "年龄", None, None, ". < 18 or . > 60", "年龄不对", None, None, None],
    ["end_group", None, None, None, None, None, None, None, None, None, None],
    ["begin_repeat", "residents", "Residents", "居住人员", None, None, None, None, None, None, None],
    ["text", "name", "Name", "姓名", None, "yes", None, None, None, None, None],
    ["select_one yn", "is_owner", "Owner?", "是否户主", None, None, None, None, None, None, None],
    ["text", "relation", "Relation", "与户主关系", None, "yes", None, None, "${is_owner} != 'yes'", None, None],
    ["end_repeat", None, None, None, None, None, None, None, None, None, None],
    ["calculate", "total", None, None, None, None, None, None, None, None, None, "${floors} * 2"],
    ["note", "intro", "Note", "说明", None, None, None, None, None, None, None],
    ["text", "tag-no", "Tag", "门牌编号", None, None, None, None, None, None, None],
    ["audio", "voice", "Voice", "录音", None, None, None, None, None, None, None],
]
CHOICES = [
    ["list_name", "name", "label", "label::中文"],
    ["structure", "brick", "Brick", "砖混"], ["structure", "frame", "Frame", "框架"],
    ["structure", "other", "Other", "其他"],
    ["hazards", "cracks", "Cracks", "墙体裂缝"], ["hazards", "tilt", "Tilt", "倾斜"],
    ["yn", "yes", "Yes", "是"], ["yn", "no", "No", "否"],
]


@pytest.fixture(scope="module")
def house():
    settings = [["form_title", "form_id", "version"], ["自建房巡查", "house_patrol", "3"]]
    return read_xlsform(workbook(SURVEY, CHOICES, settings))


def test_settings_language_and_the_engine_accepts_it(house):
    assert (house.title, house.form_id, house.language) == ("自建房巡查", "house_patrol", "中文")
    assert house.schema["title"] == "自建房巡查" and house.schema["version"] == "3"
    assert forms.check_schema(house.schema, house.ui) == []
    html = str(forms.render(forms.build_form(house.schema, house.ui)()))
    assert "户主姓名" in html and "墙体裂缝" in html and "data-mq-when" in html
    assert house.choices["structure"][0] == {"name": "brick", "label": "砖混"}


def test_questions_map_to_fields(house):
    props = house.schema["properties"]
    assert props["owner"] == {"type": "string", "title": "户主姓名", "description": "身份证上的姓名",
                              "maxLength": 20, "x-messages": {"maxLength": "姓名不超过20个字"}}
    assert props["floors"] == {"type": "integer", "title": "层数", "minimum": 1, "maximum": 30, "default": 2,
                               "x-messages": {"minimum": "层数应在1到30之间", "maximum": "层数应在1到30之间"}}
    assert props["structure"]["oneOf"] == [{"const": "brick", "title": "砖混"}, {"const": "frame", "title": "框架"},
                                           {"const": "other", "title": "其他"}]
    assert props["hazards"] == {"type": "array", "title": "隐患", "uniqueItems": True, "items": {
        "type": "string", "oneOf": [{"const": "cracks", "title": "墙体裂缝"}, {"const": "tilt", "title": "倾斜"}]}}
    assert props["postcode"]["pattern"] == "^[0-9]{6}$"
    assert props["area"]["exclusiveMinimum"] == 0
    assert props["inspected"]["format"] == "date"
    assert props["location"] == {"type": "object", "title": "位置", "format": "geo-point"}
    assert props["photo"] == {"type": "string", "title": "现场照片", "format": "attachment",
                              "x-attachment": {"accept": ["image/*"]}}
    assert props["contact"]["properties"]["phone"] == {"type": "string", "title": "电话", "description": "手机号"}
    assert "age" in props["contact"]["properties"] and "minimum" not in props["contact"]["properties"]["age"]
    rows = props["residents"]
    assert rows["type"] == "array" and rows["items"]["required"] == ["name"]
    assert "tag_no" in props and house.renamed == {"tag-no": "tag_no"}
    assert not {"total", "intro", "voice"} & set(props)
    assert house.schema["required"] == ["owner", "floors", "location"]
    assert "structure" not in house.ui  # appearance minimal: our default widget, a select
    assert house.ui["crack_note"] == {"ui:widget": "textarea"} and house.ui["photo"] == {"ui:capture": "environment"}
    assert house.ui["residents"]["items"]["is_owner"] == {"ui:widget": "radio"}


def test_relevance_becomes_conditions(house):
    blocks = {str(b["if"]): b for b in house.schema["allOf"]}
    other = blocks[str({"properties": {"structure": {"const": "other"}}, "required": ["structure"]})]
    assert other["then"] == {"required": ["structure_other"]}
    crack = blocks[str({"properties": {"hazards": {"contains": {"const": "cracks"}}, "floors": {"minimum": 3}},
                        "required": ["hazards", "floors"]})]
    assert crack["then"] == {"properties": {"crack_note": {}}}
    either = blocks[str({"properties": {"structure": {"enum": ["brick", "frame"]}}, "required": ["structure"]})]
    assert either["then"] == {"properties": {"risk_note": {}}}
    assert blocks[str({"properties": {"floors": {"exclusiveMinimum": 10}}, "required": ["floors"]})]["then"] == \
        {"properties": {"risk_note": {}}}
    row = house.schema["properties"]["residents"]["items"]
    assert row["if"] == {"properties": {"is_owner": {"enum": ["no"]}}} and row["then"] == {"required": ["relation"]}


def test_unconverted_names_row_field_and_why(house):
    got = {(u.row, u.name, u.column) for u in house.unconverted}
    assert {(16, "age", "constraint"), (23, "total", "type"), (24, "intro", "type"), (25, "tag-no", "name"),
            (26, "voice", "type")} <= got
    messages = [u.message for u in house.unconverted]
    assert "第 23 行 字段“total”：calculate 计算字段无法转换，已跳过" in messages
    assert any(m.startswith("第 16 行 字段“age”：约束“. < 18 or . > 60”无法转换") for m in messages)
    assert [u.row for u in house.unconverted] == sorted(u.row for u in house.unconverted)


VALID = {"owner": "张三", "floors": 4, "structure": "brick", "location": {"lon": 103.8, "lat": 36.0},
         "hazards": ["cracks"], "crack_note": "东墙", "postcode": "730000",
         "residents": [{"name": "李四", "is_owner": "yes"}]}


def test_valid_document_passes_and_broken_ones_are_refused_in_chinese(house):
    schema = house.schema
    assert forms.validate(schema, VALID) == []
    errors = forms.validate(schema, {**VALID, "structure": "other"})
    assert [(e.path, e.message) for e in errors] == [("structure_other", "其他结构：此项为必填项")]
    assert [e.message for e in forms.validate(schema, {**VALID, "floors": 31})] == ["层数：层数应在1到30之间"]
    assert [e.message for e in forms.validate(schema, {**VALID, "postcode": "7300"})] == ["邮编：请输入6位邮政编码"]
    assert [e.message for e in forms.validate(schema, {**VALID, "owner": "张" * 21})] == ["户主姓名：姓名不超过20个字"]
    rows = [{"name": "王五", "is_owner": "no"}]
    assert [e.path for e in forms.validate(schema, {**VALID, "residents": rows})] == ["residents[0].relation"]


def test_a_submission_through_the_form_drops_what_does_not_apply(house):
    form_class = forms.build_form(house.schema, house.ui)
    data = MultiDict({"owner": "张三", "floors": "2", "structure": "brick", "structure_other": "木结构",
                      "location-lon": "103.8", "location-lat": "36.0"})
    form = form_class(data)
    assert form.validate(), form.schema_errors
    document = forms.to_document(house.schema, form)
    assert "structure_other" not in document and document["floors"] == 2
    refused = form_class(MultiDict({**data, "structure": "other", "structure_other": ""}))
    assert not refused.validate()
    assert [e.message for e in refused.schema_errors] == ["其他结构：此项为必填项"]


def test_what_was_imported_round_trips_through_a_spreadsheet(house):
    again = read_xlsform(write_xlsform(house.schema, house.ui, title=house.title, form_id=house.form_id))
    assert normalise(again.schema, again.ui) == normalise(house.schema, house.ui)
    assert (again.title, again.form_id, again.unconverted) == ("自建房巡查", "house_patrol", [])


def test_required_relevant_field_in_a_group_and_dependent_required():
    survey = [["type", "name", "label", "required", "relevant"],
              ["begin_group", "g", "分组", None, "${show} = 'yes'"],
              ["text", "a", "甲", "yes", None],
              ["text", "b", "乙", "yes", "${a} != ''"],
              ["end_group", None, None, None, None],
              ["select_one yn", "show", "显示", None, None]]
    result = read_xlsform(workbook(survey, [["list_name", "name", "label"], ["yn", "yes", "是"], ["yn", "no", "否"]]))
    group = result.schema["properties"]["g"]
    assert group["required"] == ["a"] and group["dependentRequired"] == {"a": ["b"]}
    assert result.schema["if"] == {"properties": {"show": {"const": "yes"}}, "required": ["show"]}
    assert result.schema["then"] == {"required": ["g"]}
    assert forms.validate(result.schema, {"show": "no"}) == []
    assert [e.message for e in forms.validate(result.schema, {"show": "yes", "g": {"a": "x"}})] == ["乙：填写了“甲”时此项为必填项"]
    again = read_xlsform(write_xlsform(result.schema, result.ui, title=result.title, form_id="t"))
    assert normalise(again.schema, again.ui) == normalise(result.schema, result.ui)


def test_booleans_times_and_bad_defaults():
    survey = [["type", "name", "label", "default"],
              ["acknowledge", "agree", "同意", None],
              ["select_one tf", "urgent", "紧急", "true"],
              ["time", "at", "时间", None],
              ["integer", "n", "数量", "abc"],
              ["date", "d", "日期", "today()"]]
    result = read_xlsform(workbook(survey, [["list_name", "name", "label"], ["tf", "true", "是"], ["tf", "false", "否"]]))
    props = result.schema["properties"]
    assert props["agree"] == {"type": "boolean", "title": "同意"} and "agree" not in result.ui
    assert props["urgent"] == {"type": "boolean", "title": "紧急", "default": True}
    assert result.ui["urgent"] == {"ui:widget": "radio"}
    assert forms.validate(result.schema, {"at": "25:00"})[0].message == "时间：请按“时:分”或“时:分:秒”填写，如 09:30"
    assert forms.validate(result.schema, {"at": "09:30"}) == [] and forms.validate(result.schema, {"at": "09:30:00"}) == []
    assert {(u.name, u.column) for u in result.unconverted} == {("n", "default"), ("d", "default")}


def test_not_an_xlsform_is_a_clear_error():
    with pytest.raises(XLSFormError, match="无法读取 XLSForm"):
        read_xlsform(workbook([["name", "label"], ["a", "甲"]]))


def test_hostile_files_and_expressions_are_refused_or_listed():
    for data in (b"\x00\xff garbage", b"PK\x03\x04 not a zip"):
        with pytest.raises(XLSFormError, match="无法读取 XLSForm"):
            read_xlsform(data)
    deep = "(" * 400 + "1" + ")" * 400
    survey = [["type", "name", "label", "constraint", "relevant"],
              ["text", "a", "甲", "regex(., '[')", None],
              ["integer", "b", "乙", None, f"{deep} = ${{a}}"]]
    result = read_xlsform(workbook(survey))
    assert forms.check_schema(result.schema) == []
    assert {(u.name, u.column) for u in result.unconverted} == {("a", "constraint"), ("b", "relevant")}


def test_csv_and_file_objects_are_read_too(tmp_path):
    path = tmp_path / "巡查.csv"
    path.write_text("survey,type,name,label\n,text,a,甲\nsettings,form_title\n,CSV表\n", encoding="utf-8")
    result = read_xlsform(path)
    assert (result.title, result.form_id) == ("CSV表", "巡查")
    with path.open("rb") as handle:
        assert read_xlsform(handle).schema == result.schema


def test_whatever_the_engine_still_refuses_is_dropped_and_listed():
    from minqing.forms.xlsform.context import Context
    from minqing.forms.xlsform.reader import _make_acceptable
    schema = {"type": "object", "properties": {
        "a": {"type": "string", "pattern": "("}, "b": {"type": "string"}},
        "required": ["a", "b"], "if": {"properties": {"a": {"const": "x"}}, "required": ["a"]},
        "then": {"required": ["b"]}}
    ctx = Context(None, None)
    _make_acceptable(schema, {"a": {"ui:widget": "textarea"}, "b": {"ui:rows": 99}}, ctx)
    assert schema == {"type": "object", "properties": {"b": {"type": "string"}}, "required": ["b"]}
    assert [(u.name, u.column) for u in ctx.unconverted] == [("a", "type"), ("b.ui:rows", "ui")]


def test_a_loop_becomes_one_group_per_choice_and_lists_its_problems_once():
    survey = [["type", "name", "label::中文", "calculation"],
              ["begin_loop over kinds", "counts", "数量", None],
              ["integer", "n", "%(label)s的数量", None],
              ["calculate", "twice", None, "${n} * 2"],
              ["end_loop", None, None, None]]
    choices = [["list_name", "name", "label::中文"], ["kinds", "dog", "狗"], ["kinds", "cat", "猫"]]
    result = read_xlsform(workbook(survey, choices))
    counts = result.schema["properties"]["counts"]["properties"]
    assert list(counts) == ["dog", "cat"]
    assert counts["cat"] == {"type": "object", "title": "猫",
                             "properties": {"n": {"type": "integer", "title": "猫的数量"}}}
    assert [(u.row, u.name) for u in result.unconverted] == [(4, "twice")]
