"""An exported XLSForm is always a valid XLSForm: pyxform (so ODK and Kobo) converts every export, for every
XLSForm in the repository after import, every built-in theme form (tests/forms/test_xlsform_round_trip.py), and one
minimal form per defect an integrator found: labels quoting a question the import dropped, forms in English
exported as 中文, the original form_id replaced, an ODK time default with seconds dropped."""
from __future__ import annotations

import io
import json
from importlib import resources
from pathlib import Path

import openpyxl
import pytest
from pyxform.builder import create_survey_element_from_dict
from pyxform.xls2json import workbook_to_json
from pyxform.xls2json_backends import get_xlsform

from minqing import forms
from minqing.forms.xlsform import export_xlsform, normalise, read_xlsform

from tests.fixtures.xlsform import workbook

DATA = Path(__file__).resolve().parent.parent / "data" / "xlsforms"
REPOSITORY_FORMS = sorted(path for path in DATA.iterdir() if path.suffix in (".xlsx", ".xls"))


def pyxform_converts(data: bytes) -> dict:
    """What pyxform reads from the workbook; raises (as ODK's tools would refuse it) when it is not an XLSForm."""
    survey = workbook_to_json(get_xlsform(data))
    assert "<h:html" in create_survey_element_from_dict(survey).to_xml(validate=False)
    return survey


def settings_of(data: bytes) -> dict:
    book = openpyxl.load_workbook(io.BytesIO(data))
    rows = [[cell.value for cell in row] for row in book["settings"].iter_rows()]
    return dict(zip(rows[0], rows[1], strict=False))


def survey_header(data: bytes) -> list[str]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [cell.value for cell in next(book["survey"].iter_rows())]


def test_the_repository_has_its_xlsforms():
    assert len(REPOSITORY_FORMS) >= 6


@pytest.mark.parametrize("path", REPOSITORY_FORMS, ids=lambda path: path.name)
def test_every_xlsform_in_the_repository_exports_to_a_valid_xlsform_that_imports_again(path):
    imported = read_xlsform(path)
    exported = export_xlsform(imported.schema, imported.ui, title=imported.title)
    pyxform_converts(exported.data)
    again = read_xlsform(exported.data)
    assert again.form_id == imported.form_id
    assert normalise(again.schema, again.ui)[0]["properties"].keys() == \
        normalise(imported.schema, imported.ui)[0]["properties"].keys()


def _shipped_forms():
    """The forms the bundled plugins publish (a list of themes in each plugin's *themes.json) and the forms
    engine's example; the built-in themes' forms are in tests/forms/test_xlsform_round_trip.py."""
    plugins = resources.files("minqing.plugins")
    for plugin in sorted(plugins.iterdir(), key=lambda p: p.name):
        for path in sorted(plugin.iterdir(), key=lambda p: p.name) if plugin.is_dir() else ():
            if path.name.endswith("themes.json"):
                for theme in json.loads(path.read_text("utf-8")):
                    for form, schema in theme["forms"].items():
                        yield pytest.param(schema, theme.get("ui", {}).get(form, {}), id=f"{theme['key']}.{form}")
    examples = resources.files("minqing.forms") / "examples"
    yield pytest.param(json.loads((examples / "self_built_house.json").read_text("utf-8")),
                       json.loads((examples / "self_built_house.ui.json").read_text("utf-8")), id="self_built_house")


@pytest.mark.parametrize(("schema", "ui"), list(_shipped_forms()))
def test_every_form_the_plugins_ship_exports_to_a_valid_xlsform_that_imports_again(schema, ui):
    exported = export_xlsform(schema, ui, title=schema.get("title", ""), form_id="form")
    pyxform_converts(exported.data)
    again = read_xlsform(exported.data)
    assert again.unconverted == []
    assert normalise(again.schema, again.ui)[0]["properties"].keys() == normalise(schema, ui)[0]["properties"].keys()


def test_a_label_quoting_a_dropped_question_is_rewritten_and_listed():
    data = workbook([["type", "name", "label", "calculation"],
                     ["integer", "trees", "树木数量", None],
                     ["calculate", "total", None, "${trees} * 2"],
                     ["note", "summary_note", "合计：${total}，树木 ${trees} 棵", None],
                     ["text", "remark", "备注（参考 ${total}）", None]],
                    settings=[["form_title", "form_id"], ["林地调查", "forest_survey"]])
    imported = read_xlsform(data)
    remark = imported.schema["properties"]["remark"]["title"]
    assert "${total}" not in remark and "〔total〕" in remark
    assert any("total" in item.message and item.column == "label" for item in imported.unconverted)
    exported = export_xlsform(imported.schema, imported.ui, title=imported.title)
    pyxform_converts(exported.data)


def test_a_label_quoting_a_question_removed_later_is_rewritten_on_export():
    schema = {"type": "object", "properties": {
        "count": {"type": "integer", "title": "数量"},
        "note": {"type": "string", "title": "共 ${count} 个，来源 ${gone}"}}}
    exported = export_xlsform(schema, title="计数", form_id="count")
    survey = pyxform_converts(exported.data)
    labels = [child.get("label") for child in survey["children"] if child.get("name") == "note"]
    assert labels and "${count}" in str(labels[0]) and "${gone}" not in str(labels[0]) and "〔gone〕" in str(labels[0])
    assert any("gone" in item.message for item in exported.unconverted)
    assert "${gone}" in schema["properties"]["note"]["title"]     # the caller's schema is not changed


def test_a_form_in_english_is_exported_in_english_with_its_form_id():
    data = workbook([["type", "name", "label::English", "hint::English"],
                     ["text", "street", "Street name", "As on the sign"],
                     ["integer", "lamps", "Broken lamps", None]],
                    settings=[["form_title", "form_id", "default_language"], ["Street lights", "street_lights_v2",
                                                                               "English"]])
    imported = read_xlsform(data)
    exported = export_xlsform(imported.schema, imported.ui, title=imported.title)
    pyxform_converts(exported.data)
    assert settings_of(exported.data)["form_id"] == "street_lights_v2"
    assert settings_of(exported.data)["default_language"] == "English"
    assert "label::English" in survey_header(exported.data) and "label::中文" not in survey_header(exported.data)
    again = read_xlsform(exported.data)
    assert again.form_id == "street_lights_v2" and again.language == "English"


def test_a_form_with_plain_labels_keeps_plain_labels():
    data = workbook([["type", "name", "label"], ["text", "what", "What happened"]],
                    settings=[["form_title", "form_id"], ["Report", "plain_report"]])
    exported = export_xlsform(*(lambda r: (r.schema, r.ui))(read_xlsform(data)), title="Report")
    assert "label" in survey_header(exported.data) and not any("::" in (name or "")
                                                               for name in survey_header(exported.data))
    assert "default_language" not in settings_of(exported.data)
    pyxform_converts(exported.data)


def test_a_form_made_here_is_exported_in_chinese_under_the_given_id():
    schema = {"type": "object", "properties": {"what": {"type": "string", "title": "发生了什么"}}}
    exported = export_xlsform(schema, title="上报", form_id="urban_report")
    assert settings_of(exported.data)["form_id"] == "urban_report"
    assert settings_of(exported.data)["default_language"] == "中文"
    assert "label::中文" in survey_header(exported.data)


def test_an_odk_time_default_with_seconds_is_kept_and_valid():
    data = workbook([["type", "name", "label", "default"], ["time", "opens", "开门时间", "09:30:00"]])
    imported = read_xlsform(data)
    field = imported.schema["properties"]["opens"]
    assert field["default"] == "09:30:00" and not [item for item in imported.unconverted if item.name == "opens"]
    assert forms.validate(imported.schema, {"opens": "09:30:00"}) == []
    assert forms.validate(imported.schema, {"opens": "9:30"})       # still a time
    exported = export_xlsform(imported.schema, imported.ui, title="营业")
    survey = pyxform_converts(exported.data)
    assert [child["type"] for child in survey["children"] if child.get("name") == "opens"] == ["time"]
