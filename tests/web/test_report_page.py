"""The report page's schema and UI come from the theme: no category field when it has none, its widgets kept."""
from minqing import forms
from minqing.themes import Theme
from minqing.web.work.report import report_page_schema, report_page_ui

DOCUMENT = {
    "key": "urban_management.zz_lamps", "department": "urban_management", "title": "路灯",
    "layer": {"geometry": "point"},
    "forms": {"report": {"type": "object", "properties": {
        "note": {"type": "string", "title": "情况说明"},
        "kind": {"type": "string", "title": "问题", "enum": ["不亮", "倒伏"]}}}},
    "ui": {"report": {"note": {"ui:widget": "textarea"}, "kind": {"ui:widget": "radio"},
                      "ui:order": ["kind", "note"]}},
}


def _theme(**changes) -> Theme:
    document = {**DOCUMENT, **changes}
    return Theme(key=document["key"], department=document["department"], plugin="test", document=document,
                 source=None, content_hash="")


def _html(theme: Theme) -> str:
    form = forms.build_form(report_page_schema(theme), report_page_ui(theme))()
    return str(forms.render(form, action="/report", submit_label="上报", csrf_token="token"))


def test_a_theme_without_categories_reports_without_a_category():
    schema = report_page_schema(_theme())
    assert "category" not in schema["properties"] and "category" not in schema["required"]
    document = {"title": "路灯不亮", "urgency": "normal", "location": {"lon": 103.8, "lat": 36.06},
                "details": {"kind": "不亮", "note": "三盏"}}
    assert forms.validate(schema, document) == []


def test_categories_make_a_required_category_field():
    schema = report_page_schema(_theme(categories=[{"code": "0401", "title": "路灯", "parent": "市政设施"}]))
    assert schema["properties"]["category"]["oneOf"] == [{"const": "0401", "title": "市政设施 / 路灯"}]
    assert "category" in schema["required"]


def test_the_themes_report_ui_reaches_the_page():
    html = _html(_theme())
    assert "<textarea" in html and 'type="radio"' in html
    assert html.index("问题") < html.index("情况说明")  # ui:order
    plain = _html(_theme(ui={}))
    assert "<textarea" not in plain and 'type="radio"' not in plain
