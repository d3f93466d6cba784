"""(a) Every built-in theme file and every department plugin's themes: well-formed, forms the engine accepts,
category codes unique across all of them, and every department of the city with at least one theme."""
from __future__ import annotations

import json
from importlib import resources
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from minqing.plugins.lanzhou_departments import DEPARTMENTS

BUILTIN = Path(str(resources.files("minqing.themes") / "builtin"))
FORM_NAMES = ("record", "report", "visit")
DEPARTMENT_KEYS = [key for key, *_ in DEPARTMENTS]


def check_form(schema: dict, ui: dict | None = None) -> list:
    """The forms engine's own check (the supported subset), falling back to the published meta-schema."""
    try:
        from minqing.forms import check_schema
    except ImportError:  # the forms engine not installed yet: the subset's meta-schema still applies
        from jsonschema import Draft202012Validator

        Draft202012Validator.check_schema(schema)
        meta = json.loads(resources.files("minqing.forms").joinpath("form.schema.json").read_text("utf-8"))
        return [error.message for error in Draft202012Validator(meta).iter_errors(schema)]
    return check_schema(schema, ui)


def builtin_files() -> list[Path]:
    return sorted(BUILTIN.glob("*.json"))


def department_plugins() -> dict[str, object]:
    return {entry.name: entry.load() for entry in entry_points(group="minqing.plugins")
            if entry.name.startswith("dept_")}


def plugin_documents() -> list[tuple[str, dict]]:
    return [(name, document) for name, module in department_plugins().items()
            for document in module.register_themes()]


def all_documents() -> list[tuple[str, dict]]:
    from_files = [(path.name, json.loads(path.read_text("utf-8"))) for path in builtin_files()]
    return from_files + plugin_documents()


def test_there_are_enough_builtin_files_and_department_plugins():
    assert len(builtin_files()) >= 47
    assert len(department_plugins()) >= 10


@pytest.mark.parametrize("path", builtin_files(), ids=lambda path: path.stem)
def test_builtin_file_is_one_theme_of_its_department(path):
    document = json.loads(path.read_text("utf-8"))
    assert isinstance(document, dict)
    assert document["department"] == path.stem
    assert document["key"].startswith(path.stem + ".")
    assert document["forms"]["report"]
    assert document["guide"].startswith("业务场景指引") and "谁负责" in document["guide"]


@pytest.mark.parametrize("source,document", all_documents(), ids=lambda value: value if isinstance(value, str) else "")
def test_every_form_passes_the_forms_engine_check(source, document):
    ui = document.get("ui", {})
    for name in FORM_NAMES:
        if name in document["forms"]:
            schema = document["forms"][name]
            assert schema["type"] == "object" and schema["title"]
            assert all(field.get("title") for field in schema["properties"].values())
            assert check_form(schema, ui.get(name)) == [], (source, name)


@pytest.mark.parametrize("source,document", all_documents(), ids=lambda value: value if isinstance(value, str) else "")
def test_every_document_passes_the_themes_engine_check(source, document):
    from minqing.themes import validate_theme

    known = DEPARTMENT_KEYS + [item["key"] for module in department_plugins().values()
                               if hasattr(module, "register_departments") for item in module.register_departments()]
    assert validate_theme(document, known) == [], source


def test_category_codes_are_unique_across_all_themes_and_in_their_department_range():
    seen: dict[str, str] = {}
    index = {key: number for number, key in enumerate(DEPARTMENT_KEYS, start=1)}
    for source, document in all_documents():
        for category in document["categories"]:
            code = category["code"]
            assert code not in seen, f"{code} in {source} and {seen.get(code)}"
            seen[code] = source
            assert len(code) == 4 and code.isdigit()
            owner = document["department"].split("_chengguan")[0]  # a district team shares its city bureau's range
            assert int(code[:2]) == index[owner], (source, code)


def test_every_department_of_the_city_has_a_theme():
    covered = {document["department"] for _, document in all_documents()}
    assert set(DEPARTMENT_KEYS) - covered == set()


def test_a_department_with_a_plugin_has_no_builtin_file():
    plugin_departments = {document["department"] for _, document in plugin_documents()}
    assert plugin_departments & {path.stem for path in builtin_files()} == set()


def test_the_themes_engine_reports_every_department_covered(platform, session):
    from minqing.themes import coverage, registry

    themes = registry(platform, session)
    assert themes.issues == (), themes.issues
    assert len(themes.themes) >= len(DEPARTMENT_KEYS)
    report = coverage(platform, session)
    assert report["without_themes"] == []
    assert report["covered"] >= len(DEPARTMENT_KEYS)


@pytest.mark.parametrize("source,document", all_documents(), ids=lambda value: value if isinstance(value, str) else "")
def test_every_form_builds_and_renders_for_the_field_worker(source, document):
    from minqing import forms

    for name, schema in document["forms"].items():
        form = forms.build_form(schema, document.get("ui", {}).get(name))()
        html = str(forms.render(form))
        assert all(field["title"] in html for field in schema["properties"].values()), (source, name)
