"""The theme document: the published meta-schema, validation with JSON paths, reading theme files."""
import json
from importlib import resources
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from minqing import themes

DEPARTMENTS = {"urban_management", "market_regulation", "water_affairs"}


def test_meta_schema_is_published_and_accepts_a_good_theme(theme):
    schema = json.loads((resources.files("minqing.themes") / "theme.schema.json").read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert list(Draft202012Validator(schema).iter_errors(theme())) == []
    assert themes.validate_theme(theme(), DEPARTMENTS) == []


def test_minimal_theme_is_enough(theme):
    minimal = {"key": "water_affairs.zz_river", "department": "water_affairs", "title": "河湖",
               "layer": {"geometry": "line"},
               "forms": {"report": {"type": "object", "properties": {"note": {"type": "string"}}}}}
    assert themes.validate_theme(minimal, DEPARTMENTS) == []
    inline = json.loads((resources.files("minqing.workflows") / "builtin" / "standard.json").read_text("utf-8"))
    assert themes.validate_theme(theme(workflow=inline), DEPARTMENTS) == []


def test_an_inline_workflow_is_checked_like_a_workflow_file(theme):
    # The engine runs a theme's inline workflow for its cases, so a broken one must keep the theme out.
    problems = themes.validate_theme(theme(workflow={"key": "inline", "states": {}}), DEPARTMENTS)
    assert {"/workflow/initial", "/workflow/transitions", "/workflow/title"} <= {p.path for p in problems}
    assert all("缺少必填项" in p.message for p in problems if p.path in ("/workflow/initial", "/workflow/title"))


def _paths(problems):
    return sorted(problem.path for problem in problems)


@pytest.mark.parametrize("change, path, words", [
    (lambda d: d.pop("title"), "/title", "缺少必填项"),
    (lambda d: d["forms"].pop("report"), "/forms/report", "缺少必填项"),
    (lambda d: d.update(owner="x"), "/owner", "不支持的属性"),
    (lambda d: d.update(key="Urban-Management.X"), "/key", "格式不正确"),
    (lambda d: d["layer"].update(geometry="circle"), "/layer/geometry", "point、line、polygon"),
    (lambda d: d["layer"].update(visible_to=["everyone"]), "/layer/visible_to/0", "citizen"),
    (lambda d: d["layer"]["style"].update(color="red"), "/layer/style/color", "格式不正确"),
    (lambda d: d.update(colour="#12"), "/colour", "格式不正确"),
    (lambda d: d.update(patrol_every_days=0), "/patrol_every_days", "不能小于 1"),
    (lambda d: d.update(workflow=3), "/workflow", "流程模板"),
    (lambda d: d["categories"].append({"title": "无代码"}), "/categories/2/code", "缺少必填项"),
    (lambda d: d.update(key="water_affairs.stall"), "/key", "应以所属部门的键开头"),
    (lambda d: d["categories"].append({"code": "0301", "title": "重复"}), "/categories/2/code", "重复"),
    (lambda d: d["forms"]["record"]["properties"]["name"].update(widget="x"), "/forms/record/properties/name/widget",
     "不支持的关键字"),
    (lambda d: d["forms"]["report"].update(type="array"), "/forms/report/type", ""),
    (lambda d: d.update(ui={"visit": {}}), "/ui/visit", "没有表单"),
])
def test_bad_themes_are_rejected_with_the_path_of_the_problem(theme, change, path, words):
    document = theme()
    change(document)
    problems = themes.validate_theme(document, DEPARTMENTS)
    assert path in _paths(problems), problems
    assert words in next(problem.message for problem in problems if problem.path == path)


def test_unknown_departments_are_named(theme):
    document = theme(categories=[{"code": "01", "title": "甲", "department": "no_such_bureau"}])
    assert themes.validate_theme(document) == []  # without the list of departments only the form is checked
    problems = themes.validate_theme(document, {"market_regulation"})
    assert [(p.path, p.message) for p in problems] == [
        ("/department", "未知的职能部门“urban_management”"),
        ("/categories/0/department", "分类“01”分拨到未知的职能部门“no_such_bureau”"),
    ]


def test_load_theme_file_names_the_file_and_the_paths(tmp_path, theme):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(theme(), ensure_ascii=False), encoding="utf-8")
    loaded = themes.load_theme_file(good)
    assert loaded == theme() and loaded.source == str(good)

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(theme(layer={"geometry": "blob"}), ensure_ascii=False), encoding="utf-8")
    with pytest.raises(themes.ThemeError) as raised:
        themes.load_theme_file(bad)
    message = str(raised.value)
    assert "urban_management.zz_stalls" in message and str(bad) in message and "/layer/geometry" in message

    broken = tmp_path / "broken.json"
    broken.write_text('{"key": "x",', encoding="utf-8")
    with pytest.raises(themes.ThemeError, match="不是有效的 JSON") as raised:
        themes.load_theme_file(broken)
    assert str(broken) in str(raised.value)


def test_content_hash_ignores_key_order(theme):
    document = theme()
    reordered = dict(reversed(list(document.items())))
    assert themes.content_hash(document) == themes.content_hash(reordered)
    assert themes.content_hash(document) != themes.content_hash(theme(title="占道"))


def test_every_builtin_theme_file_is_valid():
    from minqing.plugins.lanzhou_departments import register_departments

    departments = {item["key"] for item in register_departments()}
    directory = Path(str(resources.files("minqing.themes") / "builtin"))
    files = sorted(directory.rglob("*.json")) if directory.is_dir() else []
    keys = {}
    for path in files:
        document = themes.load_theme_file(path)  # raises, naming the file, when it cannot be used
        assert themes.validate_theme(document, departments) == [], path
        assert document["key"] not in keys, f"{path}: 主题键与 {keys.get(document['key'])} 重复"
        keys[document["key"]] = path
