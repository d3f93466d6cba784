"""Department ledgers (台账): every department that has a theme keeps its own objects on the map, so one of its
themes has a record form, and every record form is a form the forms engine can use."""
from sqlalchemy import select

from minqing import forms, themes
from minqing.core.models import Department


def test_every_department_with_a_theme_has_a_ledger_theme(platform, session, world):
    registry = themes.registry(platform, session)
    assert not registry.issues
    by_department: dict[str, list] = {}
    for theme in registry.themes.values():
        by_department.setdefault(theme.department, []).append(theme)
    departments = set(session.scalars(select(Department.key)))
    assert len(by_department) >= 57 and set(by_department) <= departments
    without = sorted(key for key, found in by_department.items()
                     if not any(theme.form("record") is not None for theme in found))
    assert without == []


def test_every_record_form_is_a_usable_schema_with_chinese_titles(platform, session, world):
    for theme in themes.registry(platform, session).themes.values():
        form = theme.form("record")
        if form is None:
            continue
        assert forms.check_schema(form) == [], theme.key
        for key, spec in form["properties"].items():
            assert spec.get("title") and not spec["title"].isascii(), (theme.key, key)
        # a phone or an ID number is declared by its format, which is what masks it on every page and export
        for key, spec in form["properties"].items():
            if "phone" in key and spec.get("type") == "string":
                assert spec.get("format") == "cn-mobile", (theme.key, key)
            if "id_number" in key:
                assert spec.get("format") == "cn-id", (theme.key, key)


def test_ledger_themes_named_in_the_issue_exist_with_their_geometry(platform, session, world):
    registry = themes.registry(platform, session).themes
    expected = {"emergency.shelters": "point", "fire_rescue.hydrants": "point", "water_affairs.pump_stations": "point",
                "civil_affairs.care_homes": "point", "gas.regulator_stations": "point",
                "water_affairs.river_patrol": "line", "transport.road_and_transport": "line",
                "natural_resources.geohazard_points": "polygon", "housing_security.property_services": "polygon"}
    for key, geometry in expected.items():
        assert registry[key].layer["geometry"] == geometry and registry[key].form("record") is not None, key
        assert registry[key].patrol_every_days, key


def test_ledger_theme_files_follow_the_builtin_file_rules():
    """Second themes of a department (its ledger) live in themes/builtin/ledgers/<department key>.json."""
    import json
    from pathlib import Path

    import minqing.themes

    files = sorted((Path(minqing.themes.__file__).parent / "builtin" / "ledgers").glob("*.json"))
    assert len(files) >= 5
    for path in files:
        document = json.loads(path.read_text("utf-8"))
        assert document["department"] == path.stem and document["key"].startswith(path.stem + ".")
        assert document["guide"].startswith("业务场景指引") and "谁负责" in document["guide"]
        assert themes.validate_theme(document) == [] and document["forms"]["record"]["required"]
