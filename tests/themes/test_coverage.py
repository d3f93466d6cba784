"""`minqing themes coverage|list`: every department and its themes, naming those with none."""
import json

from click.testing import CliRunner

from minqing.core.cli import build_cli
from minqing.core.models import Department


def test_coverage_json_names_departments_without_themes(database_url, platform, system, theme, theme_dir):
    theme_dir("vending.json", theme())
    theme_dir("river.json", theme("water_affairs.zz_river", title="河湖"))
    with platform.db.session() as session:  # a department only in the table, not in any plugin
        session.add(Department(key="heating_office", name="兰州市供热管理办公室", short_name="供热"))
    runner = CliRunner()
    result = runner.invoke(build_cli(), ["--db", database_url, "themes", "coverage", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    rows = {row["key"]: row for row in report["departments"]}
    assert len(rows) >= 57 and report["total"] == len(rows)
    assert rows["urban_management"]["name"] == "兰州市城市管理局"
    assert {"key": "urban_management.zz_stalls", "title": "占道经营", "plugin": "declarative_themes"} in \
        rows["urban_management"]["themes"]
    assert "water_affairs.zz_river" in [t["key"] for t in rows["water_affairs"]["themes"]]
    assert "heating_office" in report["without_themes"] and rows["heating_office"]["themes"] == []
    assert "urban_management" not in report["without_themes"]
    assert report["covered"] == report["total"] - len(report["without_themes"])

    text = runner.invoke(build_cli(), ["--db", database_url, "themes", "coverage"]).output
    assert "没有业务主题的部门" in text and "heating_office" in text

    covered = report["covered"]
    with platform.db.session() as session:
        platform.plugins.set_enabled("declarative_themes", False, session=session, actor=system)
    report = json.loads(runner.invoke(build_cli(), ["--db", database_url, "themes", "coverage", "--json"]).output)
    keys = {theme["key"] for row in report["departments"] for theme in row["themes"]}
    assert "urban_management.zz_stalls" not in keys and "water_affairs.zz_river" not in keys
    assert not {theme["plugin"] for row in report["departments"] for theme in row["themes"]} & {"declarative_themes"}
    assert report["covered"] <= covered and "heating_office" in report["without_themes"]


def test_list_and_sync_commands(database_url, platform, theme, theme_dir):
    theme_dir("vending.json", theme())
    runner = CliRunner()
    listed = json.loads(runner.invoke(build_cli(), ["--db", database_url, "themes", "list", "--json"]).output)
    row = next(row for row in listed if row["key"] == "urban_management.zz_stalls")
    assert row["plugin"] == "declarative_themes" and row["version"] is None and row["categories"] == 2
    synced = json.loads(runner.invoke(build_cli(), ["--db", database_url, "themes", "sync", "--json"]).output)
    assert {"key": "urban_management.zz_stalls", "version": 1, "plugin": "declarative_themes"} in synced
    listed = json.loads(runner.invoke(build_cli(), ["--db", database_url, "themes", "list", "--json"]).output)
    assert next(row for row in listed if row["key"] == "urban_management.zz_stalls")["version"] == 1
    assert runner.invoke(build_cli(), ["--db", database_url, "themes", "sync", "--json"]).output.strip() == "[]"
