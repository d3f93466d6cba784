"""The registry: themes of the enabled plugins, tagged with their plugin; broken ones reported, not fatal."""
import json
import logging

from click.testing import CliRunner

from minqing import themes
from minqing.core.cli import build_cli
from minqing.core.hooks import hookimpl
from minqing.core.platform import Platform


class RaisingThemes:
    @hookimpl
    def register_themes(self):
        raise RuntimeError("主题插件内部错误")


def test_loader_reads_a_directory_and_reports_the_broken_file(platform, theme, theme_dir, caplog):
    good = theme_dir("vending.json", theme())
    theme_dir("river.json", theme("water_affairs.zz_river", title="河湖", layer={"geometry": "line"}))
    broken = theme_dir("broken.json", '{"key": "water_affairs.zz_pipes", ')
    invalid = theme_dir("invalid.json", theme("water_affairs.zz_wells", layer={"geometry": "blob"}))
    with caplog.at_level(logging.ERROR):
        found = themes.registry(platform)
    vending = found.get("urban_management.zz_stalls")
    assert vending.plugin == "declarative_themes" and vending.source == good
    assert vending.department == "urban_management"
    assert found.get("water_affairs.zz_river").layer["geometry"] == "line"
    mine = {issue.source: issue for issue in found.issues if issue.source and issue.source.startswith(
        str(theme_dir.directory))}
    assert set(mine) == {broken, invalid}
    assert "不是有效的 JSON" in mine[broken].message and broken in mine[broken].message
    assert mine[invalid].key == "water_affairs.zz_wells"
    assert [p.path for p in mine[invalid].problems] == ["/layer/geometry"]
    assert "主题“water_affairs.zz_wells”（插件 declarative_themes，文件 " + invalid in mine[invalid].message
    assert broken in caplog.text and invalid in caplog.text


def test_check_command_lists_problems_and_fails(database_url, platform, theme, theme_dir):
    theme_dir("vending.json", theme())
    invalid = theme_dir("invalid.json", theme(department="no_such_bureau", key="no_such_bureau.x"))
    runner = CliRunner()
    result = runner.invoke(build_cli(), ["--db", database_url, "themes", "check"])
    assert result.exit_code == 1
    assert invalid in result.output and "/department：未知的职能部门“no_such_bureau”" in result.output
    assert "检查未通过：1 个主题有问题" in result.stderr       # the last word says why it failed
    report = json.loads(runner.invoke(build_cli(), ["--db", database_url, "themes", "check", "--json"]).output)
    assert any(issue["source"] == invalid and issue["problems"][0]["path"] == "/department"
               for issue in report["issues"])


def test_check_command_passes_when_all_themes_are_good(database_url, platform, theme, theme_dir, monkeypatch):
    theme_dir("vending.json", theme())
    with platform.db.session() as session:
        existing = [issue for issue in themes.registry(platform, session).issues]
    result = CliRunner().invoke(build_cli(), ["--db", database_url, "themes", "check"])
    assert result.exit_code == (1 if existing else 0), result.output  # builtin files must be valid too
    assert "可用主题" in result.output


def test_plugin_themes_are_tagged_and_a_broken_one_does_not_stop_the_others(platform, theme, theme_plugin):
    platform.plugins.register(theme_plugin(theme("water_affairs.zz_river", title="河湖"),
                                           theme("water_affairs.zz_bad", department="ghost_department"),
                                           theme("urban_management.zz_stalls")), "water_plugin")
    platform.plugins.register(RaisingThemes(), "raising")
    platform.plugins.register(theme_plugin(theme("water_affairs.zz_river", title="重复")), "zz_copycat")
    found = themes.registry(platform)
    assert found.get("water_affairs.zz_river").plugin == "water_plugin"
    assert found.get("water_affairs.zz_river").title == "河湖"
    assert found.get("urban_management.zz_stalls").plugin == "water_plugin"
    issues = {(issue.plugin, issue.key): issue for issue in found.issues}
    assert "未知的职能部门“ghost_department”" in issues[("water_plugin", "water_affairs.zz_bad")].message
    assert "主题键重复" in issues[("zz_copycat", "water_affairs.zz_river")].message
    failed = next(info for info in platform.plugins.info() if info.name == "raising")
    assert failed.last_error_hook == "register_themes" and "主题插件内部错误" in failed.last_error


def test_disabling_a_plugin_removes_its_themes_at_once_everywhere(platform, database_url, system, theme,
                                                                 theme_plugin):
    other_process = Platform(database_url)
    for host in (platform.plugins, other_process.plugins):
        host.register(theme_plugin(theme("water_affairs.zz_river", title="河湖")), "water_plugin")
    assert "water_affairs.zz_river" in themes.registry(other_process).themes
    with platform.db.session() as session:
        platform.plugins.set_enabled("water_plugin", False, session=session, actor=system)
    found = themes.registry(other_process)
    assert "water_affairs.zz_river" not in found.themes
    try:
        themes.get_theme(other_process, "water_affairs.zz_river")
        raise AssertionError("a disabled plugin's theme must be gone")
    except themes.UnknownTheme as error:
        assert "water_affairs.zz_river" in str(error)
    with platform.db.session() as session:
        platform.plugins.set_enabled("water_plugin", True, session=session, actor=system)
    assert themes.get_theme(other_process, "water_affairs.zz_river").plugin == "water_plugin"
    other_process.close()


def test_disabling_the_loader_removes_the_file_themes(platform, system, theme, theme_dir):
    theme_dir("vending.json", theme())
    assert "urban_management.zz_stalls" in themes.registry(platform).themes
    with platform.db.session() as session:
        platform.plugins.set_enabled("declarative_themes", False, session=session, actor=system)
    found = themes.registry(platform)
    assert not [theme for theme in found.themes.values() if theme.plugin == "declarative_themes"]
    with platform.db.session() as session:
        platform.plugins.set_enabled("declarative_themes", True, session=session, actor=system)
    assert themes.get_theme(platform, "urban_management.zz_stalls").plugin == "declarative_themes"


def test_registry_is_cached_until_something_changes(platform, theme, theme_plugin):
    first = themes.registry(platform)
    assert themes.registry(platform) is first
    platform.plugins.register(theme_plugin(theme("water_affairs.zz_river")), "late_plugin")
    second = themes.registry(platform)
    assert second is not first and "water_affairs.zz_river" in second.themes


def test_a_fault_in_the_checks_costs_only_that_theme(platform, theme, theme_plugin, monkeypatch):
    import importlib

    registry_module = importlib.import_module("minqing.themes.registry")  # the module, not the function

    real = registry_module.validate_theme

    def flaky(document, departments=None):
        if document["key"] == "water_affairs.zz_bad":
            raise KeyError("boom")
        return real(document, departments)

    monkeypatch.setattr(registry_module, "validate_theme", flaky)
    platform.plugins.register(theme_plugin(theme("water_affairs.zz_bad"), theme("water_affairs.zz_river")), "p")
    found = themes.registry(platform)
    assert "water_affairs.zz_river" in found.themes and "water_affairs.zz_bad" not in found.themes
    assert "检查主题时出错" in next(issue.message for issue in found.issues if issue.key == "water_affairs.zz_bad")
