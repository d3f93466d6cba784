"""write_xlsform -> read_xlsform gives the schema back: for every built-in theme form, and the XPath subset."""
from __future__ import annotations

import io
import json
from importlib import resources

import openpyxl
import pytest
from pyxform.builder import create_survey_element_from_dict
from pyxform.xls2json import workbook_to_json
from pyxform.xls2json_backends import get_xlsform

from minqing.forms.xlsform import export_xlsform, normalise, read_xlsform
from minqing.forms.xlsform.relevance import Sibling, relevant_gates
from minqing.forms.xlsform.xpath import Bin, Call, Dot, Num, Ref, Str, XPathError, parse

BUILTIN = resources.files("minqing.themes") / "builtin"


def _theme_forms():
    for path in sorted(BUILTIN.iterdir(), key=lambda p: p.name):
        if path.name.endswith(".json"):
            theme = json.loads(path.read_text("utf-8"))
            for form, schema in theme["forms"].items():
                yield pytest.param(schema, theme.get("ui", {}).get(form, {}), id=f"{theme['key']}.{form}")


def _differing(a: dict, b: dict, prefix="") -> set[str]:
    """Property paths (and object-level keywords) where two normalised schemas differ."""
    out = set()
    for key in set(a) | set(b):
        if key == "properties":
            for name in set(a.get(key, {})) | set(b.get(key, {})):
                if a.get(key, {}).get(name) != b.get(key, {}).get(name):
                    out.add(prefix + name)
        elif a.get(key) != b.get(key):
            out.add(prefix + key)
    return out


@pytest.mark.parametrize(("schema", "ui"), list(_theme_forms()))
def test_builtin_theme_forms_round_trip(schema, ui):
    exported = export_xlsform(schema, ui, title=schema.get("title", ""), form_id="form")
    result = read_xlsform(exported.data)
    before, after = normalise(schema, ui), normalise(result.schema, result.ui)
    listed = {u.name for u in exported.unconverted}
    assert _differing(before[0], after[0]) <= listed
    if not exported.unconverted:
        assert after == before
    assert result.unconverted == []
    xform = create_survey_element_from_dict(workbook_to_json(get_xlsform(exported.data))).to_xml(validate=False)
    assert "<h:html" in xform  # a plain XLSForm: pyxform (and so ODK / Kobo) turns it into an XForm


def test_the_workbook_is_a_plain_xlsform():
    schema = {"type": "object", "title": "测试", "properties": {
        "kind": {"type": "string", "title": "类型", "enum": ["甲", "乙"]},
        "note": {"type": "string", "title": "说明", "maxLength": 50, "x-messages": {"maxLength": "太长了"}}},
        "if": {"properties": {"kind": {"const": "乙"}}, "required": ["kind"]}, "then": {"required": ["note"]}}
    book = openpyxl.load_workbook(io.BytesIO(export_xlsform(schema, title="测试", form_id="t").data))
    survey = [[c.value for c in row] for row in book["survey"].iter_rows()]
    header = survey[0]
    note = dict(zip(header, survey[2], strict=True))
    assert note["relevant"] == "${kind} = '乙'" and note["required"] == "yes"
    assert note["constraint"] == "string-length(.) <= 50" and note["constraint_message::中文"] == "太长了"
    assert [c.value for c in book["choices"][2]] == ["kind", "甲", "甲"]
    assert [c.value for c in book["settings"][2]] == ["测试", "t", "中文"]


def test_what_xlsform_cannot_say_is_listed():
    schema = {"type": "object", "description": "表单说明", "properties": {
        "phone": {"type": "string", "title": "电话", "format": "cn-mobile", "x-messages": {"format": "手机号不对"}},
        "size": {"type": "integer", "title": "规模", "oneOf": [{"const": 1, "title": "小"}, {"const": 2, "title": "大"}]},
        "files": {"type": "array", "title": "附件", "items": {"type": "string", "format": "attachment"}}}}
    exported = export_xlsform(schema, title="t", form_id="t")
    listed = {(u.name, u.column) for u in exported.unconverted}
    assert {(None, "description"), ("phone", "x-messages"), ("size", "type")} <= listed
    result = read_xlsform(exported.data)
    assert result.schema["properties"]["phone"]["format"] == "cn-mobile"
    assert [(u.name, u.column) for u in result.unconverted] == [("file", "type")]  # a file question with no type


def test_parser_precedence_and_references():
    assert parse("${a} = 'x' or ${b} >= 2 and selected(../c, 'y')") == Bin(
        "or", Bin("=", Ref("a"), Str("x")),
        Bin("and", Bin(">=", Ref("b"), Num(2)), Call("selected", (Ref("c"), Str("y")))))
    assert parse("-1.5 < . and . mod 2 = 0") == Bin(
        "and", Bin("<", Num(-1.5), Dot()), Bin("=", Bin("mod", Dot(), Num(2)), Num(0)))
    for bad in ("/data/a = 1", "${a} =", "(${a} = 1", "${a} = 1 )"):
        with pytest.raises(XPathError):
            parse(bad)


def test_relevance_gates():
    scope = {"a": Sibling("a", {"type": "string", "enum": ["x", "y", "z"]}),
             "n": Sibling("n", {"type": "integer"}), "t": Sibling("t", {"type": "string"})}
    gates = relevant_gates("${a} != 'x' and ${n} < 5", scope)
    assert [g.if_schema() for g in gates] == [
        {"properties": {"a": {"enum": ["y", "z"]}, "n": {"exclusiveMaximum": 5}}, "required": ["n"]}]
    gate, = relevant_gates("${t} != 'v'", scope)
    assert (gate.if_schema(), gate.holds) == ({"properties": {"t": {"const": "v"}}, "required": ["t"]}, False)
    gate, = relevant_gates("not(${n} >= 1 and ${n} <= 3)", scope)
    assert gate.tests == {"n": {"minimum": 1, "maximum": 3}} and not gate.holds
    with pytest.raises(XPathError, match="不是同一分组"):
        relevant_gates("${elsewhere} = 1", scope)
    with pytest.raises(XPathError):
        relevant_gates("${t} != 'v' and ${n} = 1", scope)
