"""Field patterns that backtrack for ever are refused when a form is checked; long values are never matched."""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from minqing import forms
from minqing.forms import regex
from minqing.forms.xlsform import read_xlsform

from tests.fixtures.xlsform import workbook

SLOW = ["^(a+)+$", "(a|a)*", "(a|ab)*", "^(ab|a)*c$", "^(\\w+\\s?)+$", "^(a?){25}a{25}$", "(.*a){12}",
        "^[0-9]+[0-9]+[0-9]+$", "^(\\d+)(\\d*)(\\d+)x$", "^(a[ab]+)+$", "^(\\.[a-z.]+)+$",
        # Polynomial: three or more unbounded quantifiers whose boundaries the characters between them do not fix
        # (each quantifier can take them too). "^.*a.*a.*a.*b$" took 9 s on 400 characters and its lazy form 88 s;
        # "^.+@.+\\..+$" 13 s and "^[a-z]+a[a-z]+a[a-z]+$" about a minute on 2,000, within PATTERN_INPUT_LIMIT.
        "^.*a.*a.*a.*b$", "^[\\s\\S]*?a[\\s\\S]*?a[\\s\\S]*?a[\\s\\S]*?b$", "^.+@.+\\..+$",
        "^[a-z]+a[a-z]+a[a-z]+$", "^.*,.*,.*,.*;$"]
FAST = ["^[0-9]{6}$", "^\\d{17}[\\dX]\\d{2}[1-7][1-4]$", "^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$", "(abc|abd)*",
        "^(\\d{3}-)+$", "(ab|cd)+", "^\\d+-\\d+$", "^[\\u4e00-\\u9fa5][A-Z][A-Z0-9]{5,6}$", "^K\\d+\\+\\d{1,3}$",
        "^[a-z0-9_]+(\\.[a-z0-9_]+)+$", "^([a-z]+\\.)+$", "^\\w+(\\s\\w+)*$",   # a separator pins each round
        # a separator the quantifier before it cannot match fixes the boundary: linear however many there are
        "^\\d+-\\d+-\\d+$", "^\\w+\\s\\w+\\s\\w+$", "^[^@]+@[^@]+\\.[a-z]+$", "^[^,]+,[^,]+,[^,]+$",
        "^(\\w+\\s)+$", "^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$"]


def field_schema(pattern: str) -> dict:
    return {"type": "object", "title": "登记", "properties": {"plate": {"type": "string", "title": "车牌号",
                                                                      "pattern": pattern}}}


@pytest.mark.parametrize("pattern", SLOW)
def test_a_slow_pattern_is_refused_naming_the_field(pattern):
    problems = forms.check_schema(field_schema(pattern))
    assert [(p.pointer, p.keyword, p.code) for p in problems] == [("/properties/plate/pattern", "pattern",
                                                                   "slow-pattern")]
    assert "车牌号" in problems[0].message and "极慢" in problems[0].message


@pytest.mark.parametrize("pattern", FAST)
def test_ordinary_patterns_still_pass(pattern):
    assert forms.check_schema(field_schema(pattern)) == []


def test_a_slow_pattern_in_a_conditional_constraint_is_refused_too():
    schema = {"type": "object", "properties": {"kind": {"type": "string", "enum": ["a", "b"]},
                                               "code": {"type": "string", "title": "编码"}},
              "if": {"properties": {"kind": {"const": "a"}}},
              "then": {"properties": {"code": {"pattern": "^(a|ab)*$"}}}}
    problems = forms.check_schema(schema)
    assert [(p.pointer, p.code) for p in problems] == [("/then/properties/code/pattern", "slow-pattern")]
    assert "编码" in problems[0].message


def _patterns(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            else:
                yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


def test_every_shipped_theme_and_form_keeps_passing():
    root = Path(resources.files("minqing.themes")).parent
    files = sorted((root / "themes" / "builtin").glob("*.json")) + sorted((root / "plugins").glob("*/themes.json")) \
        + sorted((root / "forms" / "examples").glob("*.json"))
    found = [p for path in files for p in _patterns(json.loads(path.read_text("utf-8")))]
    assert found, "the shipped themes hold patterns"
    assert [p for p in found if regex.slow_pattern_reason(p)] == []


def test_a_value_longer_than_the_limit_is_refused_without_matching():
    schema = field_schema("^a*$")
    assert forms.validate(schema, {"plate": "a" * regex.PATTERN_INPUT_LIMIT}) == []
    errors = forms.validate(schema, {"plate": "a" * (regex.PATTERN_INPUT_LIMIT + 1)})
    assert [(e.path, e.code) for e in errors] == [("plate", "maxLength")]
    assert errors[0].message == f"车牌号：不能超过{regex.PATTERN_INPUT_LIMIT}个字"


def test_xlsform_import_refuses_the_slow_constraint_and_keeps_the_question():
    survey = [["type", "name", "label", "constraint"],
              ["text", "plate", "车牌号", "regex(., '^(a+)+$')"],
              ["text", "code", "编码", "regex(., '^[0-9]{6}$')"]]
    result = read_xlsform(workbook(survey))
    assert "pattern" not in result.schema["properties"]["plate"]
    assert result.schema["properties"]["code"]["pattern"] == "^[0-9]{6}$"
    [refused] = result.unconverted
    assert (refused.name, refused.column) == ("plate", "constraint") and "极慢" in refused.reason
    assert forms.check_schema(result.schema, result.ui) == []
