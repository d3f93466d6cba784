"""Submissions through the generated WTForms form: types, validation, rows, attachments, conditions."""
from __future__ import annotations

import copy

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form

from minqing import forms
from minqing.forms import fields


def submit(schema, data, ui=None, **kwargs):
    return forms.build_form(schema, ui)(data, **kwargs)


# -- the generated form -----------------------------------------------------------------------

def test_build_form_makes_a_wtforms_form_with_a_field_per_property(house, house_ui):
    form_class = forms.build_form(house, house_ui)
    assert issubclass(form_class, Form)
    form = form_class()
    kinds = {name: type(form[name]).__name__ for name in house["properties"]}
    assert kinds == {
        "address": "TextField", "owner": "GroupField", "floors": "TextField", "structure": "ChoiceField",
        "structure_other": "TextField", "built_year": "TextField", "usage": "ChoicesField",
        "has_cracks": "ChoiceField", "crack_description": "TextAreaField", "photos": "AttachmentField",
        "inspection_date": "TextField", "location": "GeoField", "risk_level": "ChoiceField",
        "residents": "RepeatField", "note": "TextAreaField"}
    assert form.owner.id_number.label.text == "身份证号"
    assert form.crack_description.description == "位置、长度、宽度，是否贯穿"
    assert [e.name for e in form.residents.entries] == ["residents-0"]  # one row to fill, minItems 0


def test_a_valid_submission_becomes_a_typed_document(house, house_ui, valid_house, kit):
    form = submit(house, kit.house_formdata(), house_ui, previous=valid_house)
    assert form.validate(), form.schema_errors
    assert forms.to_document(house, form) == valid_house


def test_to_document_accepts_formdata_directly(house, house_ui, valid_house, kit):
    document = forms.to_document(house, kit.house_formdata(), ui=house_ui, previous=valid_house)
    assert document == valid_house
    assert type(document["floors"]) is int and type(document["location"]["lon"]) is float
    assert document["has_cracks"] is True and document["risk_level"] == 2


def test_an_invalid_submission_shows_chinese_errors_at_the_fields(house, house_ui, valid_house, kit):
    data = kit.house_formdata(floors="三", owner__id_number=kit.ID_BAD_CHECKSUM,
                              residents__1__mobile="1234", address="")
    form = submit(house, data, house_ui, previous=valid_house)
    assert not form.validate()
    assert [(e.path, e.code) for e in form.schema_errors] == [
        ("address", "required"), ("owner.id_number", "cn-id"), ("floors", "type"), ("residents[1].mobile", "cn-mobile")]
    assert form.address.errors == ["房屋地址：此项为必填项"]
    assert form.floors.errors == ["层数：应为整数"]
    assert form.floors.data == "三"  # what was typed is shown again
    assert form.owner.id_number.errors == ["身份证号：校验位不正确"]
    assert form.residents.entries[1].form.mobile.errors == ["手机号码：手机号码应为1开头的11位数字，第二位为3至9"]
    assert form.errors["residents"] == [{}, {"mobile": ["手机号码：手机号码应为1开头的11位数字，第二位为3至9"]}]
    assert form.errors["owner"] == {"id_number": ["身份证号：校验位不正确"]}


def test_validating_again_replaces_old_errors(house, house_ui, valid_house, kit):
    form = submit(house, kit.house_formdata(floors="99"), house_ui, previous=valid_house)
    assert not form.validate()
    form.floors.data = "3"
    assert form.validate()
    assert form.floors.errors == [] and form.floors.mq_errors == [] and form.schema_errors == []


@pytest.mark.parametrize("typed, stored", [
    (" 5 ", 5), ("5.0", 5), ("1e1", 10), ("-0", 0), ("3.5", 3.5), ("abc", "abc"), ("0x1F", "0x1F"),
    ("1_000", "1_000"), ("NaN", "NaN"), ("", None),
])
def test_numbers_are_parsed_strictly(typed, stored):
    schema = {"type": "object", "properties": {"n": {"type": "number"}}}
    document = forms.to_document(schema, MultiDict({"n": typed}))
    assert document.get("n") == stored and type(document.get("n")) is type(stored)


def test_text_normalisation_on_phones():
    schema = {"type": "object", "properties": {
        "id": {"type": "string", "format": "cn-id"}, "mobile": {"type": "string", "format": "cn-mobile"},
        "day": {"type": "string", "format": "date"}, "at": {"type": "string", "format": "date-time"},
        "name": {"type": "string"}, "story": {"type": "string"}}}
    ui = {"story": {"ui:widget": "textarea"}}
    document = forms.to_document(schema, MultiDict({
        "id": " 11010519491231002x ", "mobile": "+86 138-0013-8000", "day": "2024/5/1", "at": "2024-05-01T09:30",
        "name": "  王芳 ", "story": "第一行\r\n  第二行  "}), ui=ui)
    assert document == {"id": "11010519491231002X", "mobile": "13800138000", "day": "2024-05-01",
                        "at": "2024-05-01T09:30:00+08:00", "name": "王芳", "story": "第一行\n  第二行  "}
    assert forms.validate(schema, document) == []


def test_empty_optional_fields_are_omitted(house, kit):
    data = kit.house_formdata(note="   ", built_year="", usage=None, owner__mobile="",
                              residents__0__mobile="", photos=["att-0001"])
    document = forms.to_document(house, data, previous={"photos": ["att-0001"]})
    assert "note" not in document and "built_year" not in document
    assert "mobile" not in document["owner"] and "mobile" not in document["residents"][0]
    # an empty array is left out too, unless minItems asks for items: [] lets validation say so
    assert document["usage"] == []
    assert [(e.path, e.code) for e in forms.validate(house, document)] == [("usage", "minItems")]
    assert "residents" not in forms.to_document(house, kit.house_formdata(
        residents__0__name="", residents__0__id_number="", residents__0__relation=None,
        residents__1__name="", residents__1__id_number="", residents__1__mobile="", residents__1__relation=None))


def test_booleans_as_checkbox_and_as_yes_no(house, house_ui, kit):
    schema = {"type": "object", "properties": {"agree": {"type": "boolean"}, "answer": {"type": "boolean"}}}
    ui = {"answer": {"ui:widget": "radio"}}
    assert forms.to_document(schema, MultiDict({"agree": "true", "answer": "false"}), ui=ui) == {
        "agree": True, "answer": False}
    # an unchecked checkbox is "no"; an unanswered yes/no question has no value
    assert forms.to_document(schema, MultiDict({"other": "x"}), ui=ui) == {"agree": False}
    form = submit(house, kit.house_formdata(has_cracks=None, crack_description=""), house_ui,
                  previous={"photos": ["att-0001", "att-0002"]})
    assert not form.validate()
    assert form.has_cracks.errors == ["墙体是否有裂缝：此项为必填项"]


def test_choices_come_back_with_their_json_types():
    schema = {"type": "object", "properties": {
        "level": {"type": "integer", "oneOf": [{"const": 1, "title": "一级"}, {"const": 2, "title": "二级"}]},
        "ratio": {"type": "number", "enum": [0.5, 1.5]},
        "tags": {"type": "array", "items": {"type": "integer", "enum": [10, 20, 30]}, "uniqueItems": True}}}
    data = MultiDict([("level", "2"), ("ratio", "1.5"), ("tags", "30"), ("tags", "10")])
    assert forms.to_document(schema, data) == {"level": 2, "ratio": 1.5, "tags": [30, 10]}
    # a value that is not an option is kept as typed, so validation names it
    tampered = forms.to_document(schema, MultiDict({"level": "9"}))
    assert tampered == {"level": 9}
    assert [(e.path, e.code) for e in forms.validate(schema, tampered)] == [("level", "enum")]


def test_geo_point_inputs():
    schema = {"type": "object", "properties": {"at": {"type": "object", "format": "geo-point", "title": "位置"}}}
    assert forms.to_document(schema, MultiDict({"at-lon": "103.83", "at-lat": "36.06"})) == {
        "at": {"lon": 103.83, "lat": 36.06}}
    assert forms.to_document(schema, MultiDict({"at-lon": "", "at-lat": ""})) == {}
    half = forms.to_document(schema, MultiDict({"at-lon": "103.83", "at-lat": ""}))
    assert half == {"at": {"lon": 103.83}}
    assert [(e.path, e.code, e.message) for e in forms.validate(schema, half)] == [
        ("at", "geo-point", "位置：位置应包含经度和纬度两个数字")]


# -- optional groups --------------------------------------------------------------------------

def test_an_untouched_optional_group_is_omitted_but_a_required_one_reports_its_fields():
    schema = {"type": "object", "properties": {
        "guardian": {"type": "object", "title": "监护人", "properties": {
            "name": {"type": "string", "title": "姓名"}}, "required": ["name"]},
        "home": {"type": "object", "title": "住址", "properties": {
            "street": {"type": "string", "title": "街道"}}, "required": ["street"]}},
        "required": ["home"]}
    document = forms.to_document(schema, MultiDict({"guardian-name": "", "home-street": ""}))
    assert document == {"home": {}}
    assert [(e.path, e.code) for e in forms.validate(schema, document)] == [("home.street", "required")]


# -- conditional fields -----------------------------------------------------------------------

def test_values_of_fields_whose_condition_is_false_are_dropped(house, house_ui, kit):
    data = kit.house_formdata(has_cracks="false", crack_description="旧的描述", structure="frame",
                              structure_other="旧的说明")
    document = forms.to_document(house, data, ui=house_ui, previous={"photos": ["att-0001", "att-0002"]})
    assert "crack_description" not in document and "structure_other" not in document
    data = kit.house_formdata(structure="other", structure_other="钢结构")
    assert forms.to_document(house, data, ui=house_ui)["structure_other"] == "钢结构"


def conditional_schema() -> dict:
    return {
        "type": "object",
        "properties": {
            "registered": {"type": "string", "title": "是否登记", "enum": ["是", "否"]},
            "reg_no": {"type": "string", "title": "登记号"},
            "reason": {"type": "string", "title": "未登记原因"},
            "phone": {"type": "string", "title": "联系电话"},
            "contact": {"type": "string", "title": "联系人"},
            "note": {"type": "string", "title": "备注"},
        },
        "if": {"properties": {"registered": {"const": "是"}}, "required": ["registered"]},
        "then": {"required": ["reg_no"]},
        "else": {"required": ["reason"]},
        "dependentRequired": {"phone": ["contact"]},
    }


@pytest.mark.parametrize("posted, stored", [
    ({"registered": "是", "reg_no": "A1", "reason": "x"}, {"registered": "是", "reg_no": "A1"}),
    ({"registered": "否", "reg_no": "A1", "reason": "外出"}, {"registered": "否", "reason": "外出"}),
    ({"reg_no": "A1", "reason": "外出"}, {"reason": "外出"}),             # no answer: else applies
    ({"contact": "李", "note": "n"}, {"note": "n"}),                     # contact only with a phone
    ({"phone": "1", "contact": "李"}, {"phone": "1", "contact": "李"}),
])
def test_else_branch_and_dependent_required_decide_what_is_kept(posted, stored):
    assert forms.to_document(conditional_schema(), MultiDict(posted)) == stored


def test_dropping_is_repeated_until_stable():
    # c depends on b, which depends on a: without a, both b's and c's stale values go.
    schema = {"type": "object", "properties": {k: {"type": "string"} for k in "abc"},
              "dependentRequired": {"a": ["b"], "b": ["c"]}}
    assert forms.to_document(schema, MultiDict({"b": "2", "c": "3"})) == {}
    assert forms.to_document(schema, MultiDict({"a": "1", "b": "2", "c": "3"})) == {"a": "1", "b": "2", "c": "3"}


def test_conditions_inside_repeat_rows_use_the_row():
    schema = {"type": "object", "properties": {"people": {"type": "array", "items": {
        "type": "object", "properties": {
            "disabled": {"type": "boolean", "title": "残疾"},
            "grade": {"type": "integer", "title": "残疾等级", "minimum": 1, "maximum": 4}},
        "if": {"properties": {"disabled": {"const": True}}, "required": ["disabled"]},
        "then": {"required": ["grade"]}}}}}
    data = MultiDict({"people-0-disabled": "true", "people-0-grade": "2", "people-1-grade": "3",
                      "people-2-disabled": "true"})
    document = forms.to_document(schema, data)
    assert document == {"people": [{"disabled": True, "grade": 2}, {"disabled": False},
                                   {"disabled": True}]}
    assert [(e.path, e.code) for e in forms.validate(schema, document)] == [("people[2].grade", "required")]


# -- repeat groups without JavaScript -----------------------------------------------------------

def test_add_row_button_adds_a_row(house, house_ui, kit):
    data = kit.house_formdata()
    data["__add__residents"] = "1"
    form = submit(house, data, house_ui)
    assert form.apply_row_action() is True
    assert [e.name for e in form.residents.entries] == ["residents-0", "residents-1", "residents-2"]
    assert form.residents.entries[0].form.name.data == "李四"  # what was typed survives
    assert form.schema_errors == []  # an action is not a submission: no errors shown


def test_remove_row_button_removes_that_row(house, house_ui, kit):
    data = kit.house_formdata()
    data["__remove__residents-0"] = "1"
    form = submit(house, data, house_ui)
    assert forms.apply_row_action(form) is True
    assert [e.form.name.data for e in form.residents.entries] == ["王五"]


def test_row_limits_hold_without_javascript(kit):
    schema = {"type": "object", "properties": {"rows": {"type": "array", "minItems": 2, "maxItems": 3, "items": {
        "type": "object", "properties": {"v": {"type": "string"}}}}}}
    form_class = forms.build_form(schema)
    assert len(form_class().rows.entries) == 2
    full = MultiDict({"rows-0-v": "a", "rows-1-v": "b", "rows-2-v": "c", "__add__rows": "1"})
    form = form_class(full)
    assert form.apply_row_action() and len(form.rows.entries) == 3
    at_min = MultiDict({"rows-0-v": "a", "rows-1-v": "b", "__remove__rows-1": "1"})
    form = form_class(at_min)
    assert form.apply_row_action() and len(form.rows.entries) == 2


def test_plain_submissions_are_not_row_actions(house, kit):
    assert submit(house, kit.house_formdata()).apply_row_action() is False
    assert forms.build_form(house)().apply_row_action() is False


def test_rows_left_as_offered_are_dropped(kit):
    schema = {"type": "object", "properties": {"people": {"type": "array", "items": {"type": "object", "properties": {
        "name": {"type": "string", "title": "姓名"},
        "ethnic": {"type": "string", "title": "民族", "enum": ["汉族", "回族", "东乡族"], "default": "汉族"},
        "resident": {"type": "boolean", "title": "常住"}},
        "required": ["name"]}}}}
    data = MultiDict({"people-0-name": "", "people-0-ethnic": "汉族", "people-1-name": "马明", "people-1-ethnic": "回族",
                      "people-2-name": " ", "people-2-ethnic": "", "people-3-ethnic": "东乡族"})
    form = forms.build_form(schema)(data)
    assert not form.validate()
    # rows 0 and 2 were left as offered; row 3 changed the default, so it is kept and checked
    assert [(e.path, e.code) for e in form.schema_errors] == [("people[1].name", "required")]
    assert form.people.entries[3].form.name.errors == ["姓名：此项为必填项"]
    document = forms.to_document(schema, data)
    assert document == {"people": [{"name": "马明", "ethnic": "回族", "resident": False},
                                   {"ethnic": "东乡族", "resident": False}]}


def test_min_items_counts_only_filled_rows():
    schema = {"type": "object", "properties": {"people": {"type": "array", "title": "成员", "minItems": 1,
                                                          "items": {"type": "object", "properties": {
                                                              "name": {"type": "string"}}}}}}
    form = forms.build_form(schema)(MultiDict({"people-0-name": ""}))
    assert not form.validate()
    assert [(e.path, e.code, e.message) for e in form.schema_errors] == [("people", "minItems", "成员：至少需要1项")]
    assert form.people.mq_errors == ["成员：至少需要1项"]


# -- readOnly and defaults --------------------------------------------------------------------

def test_read_only_fields_keep_the_stored_value():
    schema = {"type": "object", "properties": {
        "grid": {"type": "string", "title": "网格", "readOnly": True, "default": "城关区-01"},
        "name": {"type": "string"}}}
    assert forms.to_document(schema, MultiDict({"grid": "偷改", "name": "a"})) == {"grid": "城关区-01", "name": "a"}
    edited = forms.to_document(schema, MultiDict({"grid": "偷改", "name": "b"}), previous={"grid": "七里河-03"})
    assert edited == {"grid": "七里河-03", "name": "b"}


def test_defaults_prefill_new_forms_but_not_edited_records():
    schema = {"type": "object", "properties": {
        "ethnic": {"type": "string", "enum": ["汉族", "回族"], "default": "汉族"},
        "count": {"type": "integer", "default": 1}, "ok": {"type": "boolean", "default": True}}}
    new = forms.build_form(schema)()
    assert (new.ethnic.data, new.count.data, new.ok.data) == ("汉族", "1", True)
    edit = forms.from_document(schema, {"count": 4})
    assert (edit.ethnic.data, edit.count.data, edit.ok.data) == ("", "4", False)


# -- from_document / to_document round trip ------------------------------------------------------

def test_from_document_round_trips(house, house_ui, valid_house):
    form = forms.from_document(house, valid_house, house_ui)
    assert form.owner.id_number.data == valid_house["owner"]["id_number"]
    assert form.floors.data == "3" and form.risk_level.data == "2" and form.has_cracks.data == "true"
    assert form.location.lon.data == "103.834"
    assert [row.form.name.data for row in form.residents.entries] == ["李四", "王五"]
    assert form.photos.data == {"keep": ["att-0001", "att-0002"], "new": []}
    assert forms.to_document(house, form) == valid_house


def test_date_times_are_shown_in_china_time_and_stored_with_offset():
    schema = {"type": "object", "properties": {"at": {"type": "string", "format": "date-time"}}}
    form = forms.from_document(schema, {"at": "2024-05-01T01:30:00Z"})
    assert form.at.data == "2024-05-01T09:30"
    assert forms.to_document(schema, form) == {"at": "2024-05-01T09:30:00+08:00"}


# -- attachments --------------------------------------------------------------------------------

def test_uploads_are_stored_by_the_caller_and_referenced_by_id(house, house_ui, kit):
    stored = []

    def store(path, file):
        stored.append((path, file.filename, file.read()))
        return f"att-{len(stored):04d}"

    data = kit.house_formdata(photos=[kit.upload("a.jpg"), kit.upload("b.png", b"\x89PNG", "image/png")])
    form = submit(house, data, house_ui)
    assert form.validate(), form.schema_errors
    document = forms.to_document(house, form, store_upload=store)
    assert document["photos"] == ["att-0001", "att-0002"]
    assert stored == [("photos[0]", "a.jpg", b"\xff\xd8\xff jpeg"), ("photos[1]", "b.png", b"\x89PNG")]


def test_upload_constraints_are_checked_on_validate(house, house_ui, kit):
    too_big = kit.upload("big.jpg", b"x" * (5 * 1024 * 1024 + 1))
    wrong_type = kit.upload("doc.pdf", b"%PDF", "application/pdf")
    form = submit(house, kit.house_formdata(photos=[too_big, wrong_type]), house_ui)
    assert not form.validate()
    messages = [(e.path, e.code, e.message) for e in form.schema_errors]
    assert ("photos[0]", "attachment-size", "现场照片：文件不能超过5 MB") in messages
    assert ("photos[1]", "attachment-type", "现场照片：不支持此文件类型，请上传image/jpeg、image/png") in messages
    assert form.photos.errors[0] == "现场照片：文件不能超过5 MB"


def test_attachment_specs_expose_the_constraints(house):
    assert forms.attachment_specs(house) == [forms.AttachmentSpec(
        path="photos", title="现场照片", accept=("image/jpeg", "image/png"), max_bytes=5242880,
        multiple=True, max_items=6)]
    schema = {"type": "object", "properties": {"rows": {"type": "array", "items": {"type": "object", "properties": {
        "scan": {"type": "string", "format": "attachment", "title": "扫描件"}}}}}}
    assert forms.attachment_specs(schema) == [forms.AttachmentSpec(path="rows[].scan", title="扫描件",
                                                                   max_items=1)]


def test_kept_ids_must_be_vouched_for(house, house_ui, kit):
    data = kit.house_formdata(photos=["att-0001", "att-stolen"])
    # editing: only ids of the stored record survive
    document = forms.to_document(house, data, ui=house_ui, previous={"photos": ["att-0001", "att-0002"]})
    assert document["photos"] == ["att-0001"]
    # a new record: nothing was stored for it, so posted ids are ignored...
    assert forms.to_document(house, data, ui=house_ui)["photos"] == []
    # ...unless the caller stored them earlier for this person
    assert forms.to_document(house, data, ui=house_ui, known_attachments={"att-stolen"})["photos"] == ["att-stolen"]


def test_unchecking_a_kept_file_removes_it_and_a_new_file_replaces_a_single_one(kit):
    schema = {"type": "object", "properties": {"scan": {"type": "string", "format": "attachment"}}}
    previous = {"scan": "att-old"}
    assert forms.to_document(schema, MultiDict({"other": "1"}), previous=previous) == {}
    replaced = forms.to_document(schema, MultiDict([("scan", "att-old"), ("scan", kit.upload())]),
                                 previous=previous, store_upload=lambda path, f: "att-new")
    assert replaced == {"scan": "att-new"}


def test_validate_can_store_uploads_so_a_failed_page_keeps_them(house, house_ui, kit):
    data = kit.house_formdata(photos=[kit.upload()], floors="0")
    form = submit(house, data, house_ui)
    assert not form.validate(store_upload=lambda path, f: "att-early")
    assert form.photos.data == {"keep": ["att-early"], "new": []}
    assert "att-early" in form.known_attachments
    html = str(forms.render(form))
    assert 'value="att-early" checked' in html
    # the next submission posts the kept id; the caller vouches for it
    again = submit(house, kit.house_formdata(photos=["att-early"]), house_ui, known_attachments={"att-early"})
    assert again.validate()
    assert forms.to_document(house, again)["photos"] == ["att-early"]


def test_to_document_needs_store_upload_for_new_files(house, house_ui, kit):
    with pytest.raises(ValueError, match="store_upload"):
        forms.to_document(house, kit.house_formdata(photos=[kit.upload()]), ui=house_ui)


def test_the_schema_is_not_needed_twice(house, house_ui, valid_house, kit):
    """to_document(schema, form) uses the form's own version even if given an edited schema dict."""
    form = submit(house, kit.house_formdata(), house_ui, previous=valid_house)
    edited = copy.deepcopy(house)
    edited["properties"]["floors"]["title"] = "楼层数"
    assert forms.to_document(edited, form) == valid_house
    assert isinstance(form.residents, fields.RepeatField)


def test_rows_beyond_max_items_are_reported_not_silently_dropped():
    schema = {"type": "object", "properties": {"rows": {"type": "array", "title": "明细", "maxItems": 2, "items": {
        "type": "object", "properties": {"v": {"type": "string"}}}}}}
    form = forms.build_form(schema)(MultiDict({f"rows-{i}-v": str(i) for i in range(3)}))
    assert not form.validate()
    assert [(e.path, e.message) for e in form.schema_errors] == [("rows", "明细：最多只能有2项")]
