"""`minqing themes import|export`: theme JSON and XLSForm files in and out, exact round trips."""
import io
import json
from pathlib import Path

import openpyxl
from click.testing import CliRunner
from sqlalchemy import func, select

from minqing import themes
from minqing.core.cli import build_cli
from minqing.core.models import ThemeDraft, ThemeVersion
from minqing.forms.xlsform import read_xlsform
from minqing.themes import authoring as builder


def _run(database_url, *arguments):
    return CliRunner().invoke(build_cli(), ["--db", database_url, "themes", *arguments])


def _counts(platform):
    with platform.db.session() as session:
        return (session.scalar(select(func.count()).select_from(ThemeDraft)),
                session.scalar(select(func.count()).select_from(ThemeVersion)))


def test_json_export_import_round_trip_is_exact(database_url, platform, departments, tmp_path):
    document = builder.TEMPLATES["visit"].document("gas", "gas.key_places", "重点场所走访")
    source = tmp_path / "theme.json"
    source.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    imported = _run(database_url, "import", str(source), "--department", "gas", "--publish")
    assert imported.exit_code == 0, imported.output + imported.stderr
    assert "已导入业务主题 gas.key_places" in imported.output and "第 1 版" in imported.output
    exported = _run(database_url, "export", "gas.key_places")
    assert exported.exit_code == 0 and json.loads(exported.output) == document
    again = tmp_path / "again.json"
    again.write_text(exported.output, encoding="utf-8")
    # Import the export over the theme itself: the draft is the same document, so there is nothing to publish.
    replaced = _run(database_url, "import", str(again), "--department", "gas", "--replace")
    assert replaced.exit_code == 0, replaced.stderr
    assert _run(database_url, "export", "gas.key_places").output == exported.output
    with platform.db.session() as session:
        draft = session.scalar(select(ThemeDraft))
        assert draft.document == document and draft.revision == 2
        assert themes.theme_version(session, "gas.key_places").document == document
        # The same text into a second department's key gives the same document under that key.
        copy = builder.import_json(platform, session, builder_admin(), exported.output, department="water_affairs",
                                   slug="key_places")
        assert dict(copy.document, key="gas.key_places", department="gas") == document


def builder_admin():
    from minqing.core.actors import system_actor

    return system_actor("test")


def test_a_builtin_file_theme_exports_as_its_file(database_url, platform):
    exported = _run(database_url, "export", "heating.heating_quality")
    assert exported.exit_code == 0
    with platform.db.session() as session:
        assert json.loads(exported.output) == themes.get_theme(platform, "heating.heating_quality", session).document


def test_bad_input_is_refused_in_chinese_and_changes_nothing(database_url, platform, departments, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{\"key\": ", encoding="utf-8")
    result = _run(database_url, "import", str(broken), "--department", "gas")
    assert result.exit_code == 1 and "不是有效的 JSON" in result.stderr
    invalid = builder.TEMPLATES["register"].document("gas", "gas.houses", "自建房")
    invalid["layer"]["geometry"] = "circle"
    source = tmp_path / "invalid.json"
    source.write_text(json.dumps(invalid, ensure_ascii=False), encoding="utf-8")
    result = _run(database_url, "import", str(source), "--department", "gas", "--publish")
    assert result.exit_code == 1 and "不能发布" in result.stderr and "/layer/geometry" in result.stderr
    taken = _run(database_url, "import", str(source), "--department", "heating", "--key", "heating_quality")
    assert taken.exit_code == 1 and "已被插件 declarative_themes" in taken.stderr
    unknown = _run(database_url, "import", str(source), "--department", "no_such_department")
    assert unknown.exit_code == 1 and "未知的职能部门" in unknown.stderr
    missing = _run(database_url, "export", "gas.nothing")
    assert missing.exit_code == 1 and "没有名为“gas.nothing”" in missing.stderr
    assert _counts(platform) == (0, 0)
    # Without --publish an invalid theme is kept as a draft to fix, and the problems are listed.
    kept = _run(database_url, "import", str(source), "--department", "gas")
    assert kept.exit_code == 0 and "待修改：/layer/geometry" in kept.output
    assert _counts(platform) == (1, 0)


def _xlsform(path):
    book = openpyxl.Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(["type", "name", "label::中文", "required", "constraint", "relevant", "calculation"])
    survey.append(["text", "site", "场所名称", "yes", "", "", ""])
    survey.append(["integer", "people", "人数", "", ". >= 0 and . <= 500", "", ""])
    survey.append(["select_one yn", "problem", "是否有隐患", "yes", "", "", ""])
    survey.append(["text", "detail", "隐患说明", "yes", "", "${problem} = 'yes'", ""])
    survey.append(["calculate", "twice", "", "", "", "", "${people} * 2"])
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", "label::中文"])
    choices.append(["yn", "yes", "是"])
    choices.append(["yn", "no", "否"])
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id"])
    settings.append(["场所检查", "site_check"])
    book.save(path)


def test_xlsform_import_lists_what_was_not_converted_and_round_trips(database_url, platform, departments,
                                                                     tmp_path):
    source = tmp_path / "site_check.xlsx"
    _xlsform(source)
    result = _run(database_url, "import", str(source), "--department", "gas", "--template", "patrol",
                  "--publish")
    assert result.exit_code == 0, result.stderr
    assert "已导入业务主题 gas.site_check" in result.output and "未转换：" in result.output
    assert "twice" in result.output and "共 1 项未能转换" in result.output
    with platform.db.session() as session:
        theme = themes.get_theme(platform, "gas.site_check", session)
        form = theme.form("visit")  # 巡查检查: the spreadsheet is the patrol (visit) form
        assert set(form["properties"]) == {"site", "people", "problem", "detail"}
        assert form["properties"]["people"]["maximum"] == 500 and theme.form("record")
    spreadsheet = tmp_path / "out.xlsx"
    exported = _run(database_url, "export", "gas.site_check", "--format", "xlsform", "--form", "visit",
                    "-o", str(spreadsheet))
    assert exported.exit_code == 0, exported.stderr
    assert openpyxl.load_workbook(io.BytesIO(spreadsheet.read_bytes())).sheetnames[:1] == ["survey"]
    again = _run(database_url, "import", str(spreadsheet), "--department", "gas", "--key", "site_check",
                 "--template", "patrol", "--replace")
    assert again.exit_code == 0 and "未转换" not in again.output
    with platform.db.session() as session:
        draft = session.scalar(select(ThemeDraft).where(ThemeDraft.theme_key == "gas.site_check"))
        published = themes.theme_version(session, "gas.site_check").document
        assert draft.document["forms"]["visit"] == published["forms"]["visit"]
        assert draft.document.get("ui", {}).get("visit") == published.get("ui", {}).get("visit")


# ../shared/xlsforms beside the project, else the copy in tests/data (the same files) for a clone on its own
ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "xlsforms"
if not SHARED.is_dir():
    SHARED = ROOT / "tests" / "data" / "xlsforms"


def test_every_real_world_xlsform_becomes_a_publishable_theme(platform, departments, system):
    files = sorted(SHARED.glob("*.xls*")) if SHARED.is_dir() else []
    assert files, f"the real-world XLSForms are missing: expected them in {SHARED} (../shared/xlsforms)"
    with platform.db.session() as session:
        for path in files:
            draft, unconverted = builder.import_xlsform(platform, session, system, str(path), department="gas",
                                                        template="register")
            assert builder.draft_problems(platform, session, draft) == [], path.name
            assert [str(item) for item in unconverted] == [str(item) for item in read_xlsform(path).unconverted]
            assert builder.publish_draft(platform, session, system, draft.theme_key).version == 1
            assert themes.get_theme(platform, draft.theme_key, session).form("record") == draft.document[
                "forms"]["record"]


def test_an_xlsform_with_no_convertible_question_is_refused_unless_allowed(database_url, platform, departments,
                                                                           tmp_path):
    path = tmp_path / "only_calculations.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "survey"
    for row in (["type", "name", "label", "calculation"], ["calculate", "a", None, "1 + 1"],
                ["calculate", "b", None, "${a} * 2"]):
        book.active.append(row)
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id"])
    settings.append(["只有计算", "only_calculations"])
    book.save(path)
    before = _counts(platform)
    refused = _run(database_url, "import", str(path), "--department", "gas", "--publish")
    assert refused.exit_code != 0 and "没有一道题能够转换" in refused.stderr and "--allow-empty" in refused.stderr
    assert _counts(platform) == before
    allowed = _run(database_url, "import", str(path), "--department", "gas", "--allow-empty")
    assert allowed.exit_code == 0, allowed.stderr
    assert _counts(platform)[0] == before[0] + 1


def test_an_exported_xlsform_keeps_the_imported_form_id(database_url, platform, departments, tmp_path):
    source = tmp_path / "site_check.xlsx"
    _xlsform(source)
    assert _run(database_url, "import", str(source), "--department", "gas", "--key", "renamed_here",
                "--template", "patrol").exit_code == 0
    spreadsheet = tmp_path / "out.xlsx"
    assert _run(database_url, "export", "gas.renamed_here", "--format", "xlsform", "--form", "visit",
                "-o", str(spreadsheet)).exit_code == 0
    assert read_xlsform(spreadsheet).form_id == "site_check"
