"""Rendering: mobile-first HTML that works without JavaScript and needs no inline script."""
from __future__ import annotations

import json
import re

import flask
import jinja2
from markupsafe import Markup

from minqing import forms


def render(schema, ui=None, form=None, **kwargs) -> str:
    form = form or forms.build_form(schema, ui)()
    html = forms.render(form, **kwargs)
    assert isinstance(html, Markup)
    return str(html)


def wrapper(page, field_id: str) -> dict:
    found = page.by_id(f"{field_id}-field")
    assert found is not None, field_id
    return found[1]


def test_no_inline_script_style_or_event_handlers(house, house_ui, kit):
    page = kit.Page(render(house, house_ui, csrf_token="tok"))
    tags = [tag for tag, _ in page.elements]
    assert "script" not in tags and "style" not in tags
    for _, attrs in page.elements:
        assert not [a for a in attrs if a.startswith("on")], attrs
        assert "style" not in attrs
        assert not any(str(v).strip().lower().startswith("javascript:") for v in attrs.values())


def test_every_control_has_a_label(house, house_ui, kit):
    html = render(house, house_ui)
    page = kit.Page(html)
    label_targets = {a["for"] for t, a in page.elements if t == "label" and "for" in a}
    for control in page.controls:
        if control["tag"] == "button" or control["type"] in ("radio", "checkbox"):
            continue  # buttons have text; choices sit inside their <label>
        if control["type"] == "number" and control["name"].startswith("location-"):
            continue  # the two geo inputs sit inside <label>经度/纬度
        assert control["id"] in label_targets, control["name"]
    assert re.search(r'<label class="mq-choice"><input type="radio" name="has_cracks"', html)


def test_mobile_input_types_and_page_constraints(house, house_ui, kit):
    page = kit.Page(render(house, house_ui))
    attrs = {c["name"]: c["attrs"] for c in page.controls if c["name"]}
    assert attrs["owner-mobile"]["type"] == "tel" and attrs["owner-mobile"]["pattern"] == "1[3-9][0-9]{9}"
    assert attrs["owner-id_number"]["maxlength"] == "18"
    assert attrs["floors"]["type"] == "number" and attrs["floors"]["inputmode"] == "numeric"
    assert (attrs["floors"]["min"], attrs["floors"]["max"], attrs["floors"]["step"]) == ("1", "30", "1")
    assert attrs["inspection_date"]["type"] == "date" and "required" in attrs["inspection_date"]
    assert attrs["address"]["minlength"] == "4" and attrs["address"]["maxlength"] == "120"
    assert attrs["photos"]["type"] == "file" and attrs["photos"]["accept"] == "image/jpeg,image/png"
    assert attrs["photos"]["capture"] == "environment" and "multiple" in attrs["photos"]
    assert attrs["photos"]["data-mq-max-bytes"] == "5242880"
    assert attrs["crack_description"]["rows"] == "3"
    # a conditionally required field is not `required` in HTML: the server decides
    assert "required" not in attrs["crack_description"] and "required" not in attrs["structure_other"]
    structure = page.named("structure")[0]
    assert [o["label"] for o in structure["options"]][:2] == ["请选择", "砖混结构"]


def test_help_text_is_linked_to_its_control(house, house_ui, kit):
    page = kit.Page(render(house, house_ui))
    control = page.named("crack_description")[0]["attrs"]
    assert control["aria-describedby"] == "crack_description-help"
    tag, attrs = page.by_id("crack_description-help")
    assert tag == "p"
    assert "位置、长度、宽度，是否贯穿" in render(house, house_ui)


def test_conditional_fields_degrade_to_visible_and_carry_their_rule(house, house_ui, kit):
    page = kit.Page(render(house, house_ui))
    crack = wrapper(page, "crack_description")
    assert "hidden" not in crack
    assert json.loads(crack["data-mq-when"]) == [
        {"if": {"properties": {"has_cracks": {"const": True}}, "required": ["has_cracks"]}, "is": True}]
    assert not page.named("crack_description")[0]["disabled"]
    assert "data-mq-when" not in wrapper(page, "address")
    # without JavaScript the rule is also said in words (forms.js hides these notes)
    html = render(house, house_ui)
    assert '<p class="mq-when-note">当“墙体是否有裂缝”为“是”时填写</p>' in html
    assert '<p class="mq-when-note">当“结构类型”为“其他”时填写</p>' in html


def test_condition_notes_describe_every_kind_of_gate():
    schema = {"type": "object", "properties": {
        "registered": {"type": "string", "title": "是否登记", "enum": ["是", "否"]},
        "reg": {"type": "string"}, "reason": {"type": "string"}, "n": {"type": "integer", "title": "人数"},
        "x": {"type": "string"}, "y": {"type": "string"},
        "tags": {"type": "array", "title": "类型",
                 "items": {"type": "string", "oneOf": [{"const": "a", "title": "甲"}, {"const": "b", "title": "乙"}]}}},
        "if": {"properties": {"registered": {"const": "是"}}, "required": ["registered"]},
        "then": {"required": ["reg"]}, "else": {"required": ["reason"]},
        "allOf": [{"if": {"properties": {"n": {"minimum": 3, "exclusiveMaximum": 10}}, "required": ["n"]},
                   "then": {"required": ["x"]}},
                  {"if": {"properties": {"tags": {"contains": {"const": "b"}}}, "required": ["tags"]},
                   "then": {"required": ["y"]}}],
        "dependentRequired": {"n": ["y"]}}
    notes = re.findall(r'id="(\w+)-field"[^>]*>\s*(?:<label[^>]*>.*?</label>\s*)?<p class="mq-when-note">([^<]+)</p>',
                       render(schema))
    assert dict(notes) == {
        "reg": "当“是否登记”为“是”时填写", "reason": "除非“是否登记”为“是”，否则填写",
        "x": "当“人数”不小于3且“人数”小于10时填写", "y": "当“类型”包含“乙”时；或当已填写“人数”时填写"}


def test_errors_are_shown_next_to_their_fields_with_a_summary(house, house_ui, valid_house, kit):
    form = forms.build_form(house, house_ui)(kit.house_formdata(floors="40"), previous=valid_house)
    assert not form.validate()
    html = render(house, form=form)
    page = kit.Page(html)
    control = page.named("floors")[0]["attrs"]
    assert control["aria-invalid"] == "true" and "floors-error" in control["aria-describedby"]
    assert re.search(r'id="floors-error">\s*<p class="mq-error">层数：不能大于30</p>', html)
    assert 'href="#floors-field"' in html and page.by_id("floors-field") is not None
    assert 'value="40"' in html


def test_row_errors_link_to_the_row_field(house, house_ui, valid_house, kit):
    form = forms.build_form(house, house_ui)(kit.house_formdata(residents__1__id_number=kit.ID_BAD_CHECKSUM),
                                             previous=valid_house)
    assert not form.validate()
    page = kit.Page(render(house, form=form))
    assert 'href="#residents-1-id_number-field"' in render(house, form=form)
    assert page.by_id("residents-1-id_number-error") is not None


def test_values_are_escaped(kit):
    schema = {"type": "object", "properties": {"name": {"type": "string", "title": "<b>姓名</b>"}}}
    form = forms.build_form(schema)(kit.house_formdata(name='"><script>alert(1)</script>'))
    html = render(schema, form=form)
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;姓名" in html


def test_read_only_fields(kit):
    schema = {"type": "object", "properties": {
        "grid": {"type": "string", "readOnly": True, "default": "城关-01"},
        "kind": {"type": "string", "enum": ["a", "b"], "readOnly": True}}}
    page = kit.Page(render(schema))
    assert "readonly" in page.named("grid")[0]["attrs"] and page.named("grid")[0]["value"] == "城关-01"
    assert page.named("kind")[0]["disabled"]


def test_geo_point_renders_two_inputs_and_a_hook(house, house_ui, kit):
    page = kit.Page(render(house, house_ui, tile_url="/tiles/{z}/{x}/{y}.png"))
    assert "data-mq-geo" in wrapper(page, "location")
    lon, lat = page.named("location-lon")[0]["attrs"], page.named("location-lat")[0]["attrs"]
    assert (lon["type"], lon["min"], lon["max"], "data-mq-geo-lon" in lon) == ("number", "-180", "180", True)
    assert (lat["min"], lat["max"], "data-mq-geo-lat" in lat) == ("-90", "90", True)
    form_tag = next(a for t, a in page.elements if t == "form")
    assert form_tag["data-mq-tile-url"] == "/tiles/{z}/{x}/{y}.png"
    assert form_tag["enctype"] == "multipart/form-data"


def test_repeat_group_markup(house, house_ui, kit):
    html = render(house, house_ui)
    page = kit.Page(html)
    repeat = wrapper(page, "residents")
    assert (repeat["data-mq-repeat"], repeat["data-mq-min"], repeat["data-mq-max"]) == ("residents", "0", "20")
    add = page.named("__add__residents")[0]
    assert add["tag"] == "button" and "formnovalidate" in add["attrs"] and add["attrs"]["data-mq-action"] == "add"
    assert add["attrs"]["type"] == "submit"
    # the row template is inert: its controls are not part of the page's submission
    assert "residents-__INDEX__-name" in html
    assert not [c for c in page.controls if "__INDEX__" in (c["name"] or "")]
    # the spare row's required fields must not block submitting an empty row
    name = page.named("residents-0-name")[0]["attrs"]
    assert "required" not in name and "data-mq-required" in name
    # Enter in a text field must submit, not add a row: the first submit button has no name
    first_button = next(c for c in page.controls if c["tag"] == "button")
    assert first_button["name"] is None


def test_works_without_javascript_end_to_end(house, house_ui, kit):
    """Fill the page like a phone without JS: add a row with the button, then submit."""
    form_class = forms.build_form(house, house_ui)
    page = kit.Page(render(house, house_ui))
    page.fill("address", "兰州市七里河区西津西路2号")
    page.fill("owner-name", "赵六")
    page.fill("owner-id_number", kit.OWNER_ID.lower())
    page.fill("floors", "2")
    page.fill("structure", "brick_wood")
    page.check("usage", "自住")
    page.check("has_cracks", "false")
    page.fill("crack_description", "写了又改主意了")   # visible without JS; dropped because 否
    page.fill("inspection_date", "2024-06-01")
    page.fill("location-lon", "103.75")
    page.fill("location-lat", "36.07")
    page.check("risk_level", "1")
    page.fill("residents-0-name", "赵六")
    page.fill("residents-0-id_number", kit.OWNER_ID)

    posted = page.submit(button="__add__residents", files={"photos": [kit.upload("wall.jpg")]})
    form = form_class(posted)
    assert form.apply_row_action()
    page = kit.Page(render(house, form=form))
    assert page.named("residents-0-name")[0]["value"] == "赵六"        # typed values survive
    assert page.named("address")[0]["value"] == "兰州市七里河区西津西路2号"
    assert page.named("residents-1-name")                              # the new row
    page.fill("residents-1-name", "赵小六")
    page.fill("residents-1-id_number", kit.RESIDENT_ID)
    page.check("residents-1-relation", "家属")

    posted = page.submit(files={"photos": [kit.upload("wall.jpg")]})  # files are chosen again
    form = form_class(posted)
    assert not form.apply_row_action()
    assert form.validate(), form.schema_errors
    document = forms.to_document(house, form, store_upload=lambda path, f: "att-wall")
    assert document == {
        "address": "兰州市七里河区西津西路2号",
        "owner": {"name": "赵六", "id_number": kit.OWNER_ID},
        "floors": 2, "structure": "brick_wood", "usage": ["自住"], "has_cracks": False,
        "photos": ["att-wall"], "inspection_date": "2024-06-01", "location": {"lon": 103.75, "lat": 36.07},
        "risk_level": 1,
        "residents": [{"name": "赵六", "id_number": kit.OWNER_ID},
                      {"name": "赵小六", "id_number": kit.RESIDENT_ID, "relation": "家属"}],
    }


def test_remove_row_without_javascript(house, house_ui, valid_house, kit):
    form_class = forms.build_form(house, house_ui)
    page = kit.Page(render(house, form=forms.from_document(house, valid_house, house_ui)))
    assert [c["name"] for c in page.controls if c["name"] and c["name"].startswith("__remove__")] == [
        "__remove__residents-0", "__remove__residents-1"]
    form = form_class(page.submit(button="__remove__residents-0"), previous=valid_house)
    assert form.apply_row_action()
    page = kit.Page(render(house, form=form))
    assert page.named("residents-1-name")[0]["value"] == "王五" and not page.named("residents-0-name")
    form = form_class(page.submit(), previous=valid_house)
    assert form.validate(), form.schema_errors
    assert [r["name"] for r in forms.to_document(house, form)["residents"]] == ["王五"]


def test_macros_work_in_a_plain_jinja_environment_and_in_flask(house, house_ui):
    form = forms.build_form(house, house_ui)()
    env = jinja2.Environment(loader=forms.template_loader(), autoescape=True)
    html = env.from_string('{% from "forms/macros.html" import render_form %}{{ render_form(form) }}').render(form=form)
    assert 'name="owner-id_number"' in html and "<form" in html

    app = flask.Flask("minqing_forms_test")
    app.jinja_loader = jinja2.ChoiceLoader([forms.template_loader()])
    with app.test_request_context():
        html = flask.render_template_string(
            '{% from "forms/macros.html" import render_form, render_field %}'
            '{{ render_form(form, action="/save", csrf_token="abc") }}{{ render_field(form.floors) }}', form=form)
    assert 'action="/save"' in html and 'name="csrf_token" value="abc"' in html
    assert html.count('name="floors"') == 2


def test_static_assets_implement_the_data_attributes():
    script = (forms.STATIC_DIR / "forms.js").read_text("utf-8")
    for hook in ("data-mq-when", "data-mq-repeat", "data-mq-row-template", "data-mq-geo", "data-mq-required",
                 "data-mq-optional", "data-mq-max-bytes", "navigator.geolocation", "window.L", "__INDEX__"):
        assert hook in script or hook.replace("data-mq-", "mq") in script, hook
    assert "eval(" not in script and "innerHTML" not in script and "new Function" not in script
    assert (forms.STATIC_DIR / "forms.css").read_text("utf-8").count("44px") >= 2
