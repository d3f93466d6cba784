"""Every real-world XLSForm in ../shared/xlsforms, or its copy in tests/data (pyxform's own test forms):
imports, renders, lists the rest."""
from __future__ import annotations

from pathlib import Path

import pytest

from minqing import forms
from minqing.forms.xlsform import normalise, read_xlsform, write_xlsform

# ../shared/xlsforms beside the project, else the copy in tests/data (the same files) for a clone on its own
ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "xlsforms"
if not SHARED.is_dir():
    SHARED = ROOT / "tests" / "data" / "xlsforms"

# (row, XLSForm name, column) entries each file must list as not converted
EXPECTED = {
    "UCL_Biomass_Plot_Form.xlsx": {(26, "slope_radius", "type"), (16, "region_id", "type"), (3, "note2", "type"),
                                   (36, "latin_name_other", "relevant"), (38, "tree_distance", "constraint"),
                                   (49, "stem_height", "required"), (91, "deviceid", "type")},
    "choice_filter_test.xlsx": {(3, "county", "choice_filter"), (4, "city", "choice_filter")},
    "group.xlsx": set(),
    "loop.xlsx": set(),
    "xlsform_spec_test.xlsx": {(40, "calculate_test", "type"), (37, "audio_test", "type"),
                               (38, "video_test", "type"), (35, "barcode_test", "type"),
                               (21, "label-test", "name"), (14, "a_decimal", "constraint")},
    "yes_or_no_question.xlsx": set(),
}


def _files() -> list[Path]:
    return sorted(SHARED.glob("*.xls*")) if SHARED.is_dir() else []


def test_the_shared_folder_is_there():
    assert SHARED.is_dir(), f"the real-world XLSForms are missing: expected them in {SHARED} (../shared/xlsforms)"
    assert {p.name for p in _files()} >= set(EXPECTED), f"files missing from {SHARED}"


@pytest.fixture(scope="module")
def imported():
    if not SHARED.is_dir():
        pytest.fail(f"the real-world XLSForms are missing: expected them in {SHARED} (../shared/xlsforms)")
    return {path.name: read_xlsform(path) for path in _files()}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_imports_renders_and_lists_what_it_cannot_convert(imported, name):
    result = imported[name]
    assert forms.check_schema(result.schema, result.ui) == []
    html = str(forms.render(forms.build_form(result.schema, result.ui)()))
    assert "<form" in html
    assert isinstance(forms.validate(result.schema, {}), list)
    listed = {(u.row, u.name, u.column) for u in result.unconverted}
    assert EXPECTED[name] <= listed
    if not EXPECTED[name]:
        assert listed == set()
    assert all(u.message.startswith(("第 ", "字段“")) for u in result.unconverted)


def test_what_still_arrives(imported):
    ucl = imported["UCL_Biomass_Plot_Form.xlsx"].schema["properties"]
    info = ucl["info"]
    assert info["required"] == ["leader_name", "leader_number"]
    assert info["if"] == {"properties": {"leader_name": {"const": "other"}}, "required": ["leader_name"]}
    assert info["then"] == {"required": ["leader_name_other"]}
    assert ucl["location"]["properties"]["center_point"]["format"] == "geo-point"
    assert imported["UCL_Biomass_Plot_Form.xlsx"].language == "Swahili (sw)"
    cities = imported["choice_filter_test.xlsx"].schema["properties"]["county"]["oneOf"]
    assert [c["const"] for c in cities] == ["king", "pierce", "cameron"]  # duplicate names of the filter merged
    father = imported["group.xlsx"].schema["properties"]["father"]
    assert list(father["properties"]) == ["phone_number", "age"] and father["type"] == "object"
    loop = imported["loop.xlsx"].schema
    assert loop["if"]["properties"] == {"available_toilet_types": {"contains": {"const": "other"}}}
    per_type = loop["properties"]["loop_toilet_types"]["properties"]  # begin_loop: one group per choice
    assert list(per_type) == ["pit_latrine_with_slab", "open_pit_latrine", "bucket_system", "other"]
    assert per_type["bucket_system"]["properties"]["number"] == {
        "type": "integer", "title": "How many Bucket system are on the premises?"}
    spec = imported["xlsform_spec_test.xlsx"]
    assert spec.language == "chinese" and spec.schema["properties"]["skip_to_end"]["oneOf"][1]["title"] == "没有"
    assert imported["yes_or_no_question.xlsx"].schema["properties"]["good_day"]["enum"] == ["yes", "no"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_import_round_trips_through_a_spreadsheet(imported, name):
    result = imported[name]
    again = read_xlsform(write_xlsform(result.schema, result.ui, title=result.title, form_id=result.form_id))
    assert normalise(again.schema, again.ui) == normalise(result.schema, result.ui)
    assert again.unconverted == []
