"""The plugin host: discovery through entry points, switches stored in the database, fault isolation."""
import json
import logging

import pytest
from click.testing import CliRunner

from minqing.core.cli import build_cli
from minqing.core.hooks import hookimpl
from minqing.core.platform import Platform
from minqing.core.pluginhost.host import RequiredPlugin, UnknownPlugin


class Departments:
    def __init__(self, key):
        self.key = key

    @hookimpl
    def register_departments(self):
        return [{"key": self.key, "name": f"测试部门{self.key}", "short_name": self.key}]


class Broken:
    @hookimpl
    def register_departments(self):
        raise RuntimeError("插件内部错误")

    @hookimpl
    def route_case(self, case):
        raise ValueError("cannot route")


class RouteTo:
    def __init__(self, key):
        self.key = key

    @hookimpl
    def route_case(self, case, session):
        return self.key


def test_builtin_plugins_come_from_the_entry_point_group(platform):
    from importlib.metadata import entry_points

    declared = {entry.name for entry in entry_points(group="minqing.plugins")}
    assert {"web", "lanzhou_departments"} <= declared
    assert declared <= set(platform.plugins.names())
    departments = [item for _, item in platform.plugins.collect("register_departments")]
    assert len({item["key"] for item in departments}) >= 50


def test_a_failing_plugin_is_recorded_and_the_others_still_answer(platform, caplog):
    host = platform.plugins
    host.register(Departments("alpha"), "alpha")
    host.register(Broken(), "broken")
    host.register(Departments("omega"), "omega")
    with caplog.at_level(logging.ERROR):
        keys = {item["key"] for _, item in host.collect("register_departments")}
    assert {"alpha", "omega"} <= keys
    assert "broken" in caplog.text and "插件内部错误" in caplog.text
    broken = next(info for info in host.info() if info.name == "broken")
    assert broken.error_count == 1
    assert broken.last_error_hook == "register_departments"
    assert "插件内部错误" in broken.last_error and broken.last_error_at


def test_first_result_skips_a_raising_plugin(platform):
    host = platform.plugins
    host.register(RouteTo("water_affairs"), "water")
    host.register(Broken(), "broken")  # registered last, so pluggy would ask it first
    assert host.call_first("route_case", case=object(), session=None) == ("water", "water_affairs")
    assert next(info for info in host.info() if info.name == "broken").last_error_hook == "route_case"


def test_disabling_takes_effect_at_once_in_every_process(platform, database_url, system):
    other_process = Platform(database_url)
    for host in (platform.plugins, other_process.plugins):
        host.register(RouteTo("gas"), "gas_plugin")
    assert other_process.plugins.call_first("route_case", case=None, session=None) == ("gas_plugin", "gas")
    with platform.db.session() as session:
        platform.plugins.set_enabled("gas_plugin", False, session=session, actor=system)
    assert other_process.plugins.call_first("route_case", case=None, session=None) is None
    assert not other_process.plugins.is_enabled("gas_plugin")
    with platform.db.session() as session:
        platform.plugins.set_enabled("gas_plugin", True, session=session, actor=system)
    assert other_process.plugins.call_first("route_case", case=None, session=None) == ("gas_plugin", "gas")
    other_process.close()


def test_switching_is_recorded_and_checked(platform, system):
    from sqlalchemy import select

    from minqing.core.models import AuditRecord

    with platform.db.session() as session:
        with pytest.raises(UnknownPlugin, match="没有名为"):
            platform.plugins.set_enabled("no_such_plugin", False, session=session, actor=system)
        with pytest.raises(RequiredPlugin, match="不能停用"):
            platform.plugins.set_enabled("web", False, session=session, actor=system)
        platform.plugins.set_enabled("lanzhou_departments", False, session=session, actor=system)
    with platform.db.session() as session:
        record = session.scalar(select(AuditRecord).where(AuditRecord.action == "plugin.disable"))
        assert record.object_id == "lanzhou_departments" and record.actor_name == "系统" and record.origin == "test"


def test_cli_lists_enables_and_disables(database_url, platform):
    runner = CliRunner()
    cli = build_cli()
    result = runner.invoke(cli, ["--db", database_url, "plugins", "disable", "lanzhou_departments", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"name": "lanzhou_departments", "enabled": False}
    listed = json.loads(runner.invoke(cli, ["--db", database_url, "plugins", "list", "--json"]).output)
    states = {item["name"]: item for item in listed}
    assert states["lanzhou_departments"]["enabled"] is False
    assert states["web"]["required"] is True and "register_commands" in states["web"]["hooks"]
    from_plugins = {name for name, _ in platform.plugins.collect("register_departments")}
    assert "lanzhou_departments" not in from_plugins  # this process sees it at once
    result = runner.invoke(cli, ["--db", database_url, "plugins", "enable", "lanzhou_departments"])
    assert result.exit_code == 0 and "已启用" in result.output
    assert "lanzhou_departments" in {name for name, _ in platform.plugins.collect("register_departments")}

    result = runner.invoke(cli, ["--db", database_url, "plugins", "disable", "nope"])
    assert result.exit_code != 0 and "没有名为“nope”的插件" in result.output


def test_plugin_that_cannot_be_imported_does_not_stop_the_platform(platform, monkeypatch):
    import importlib.metadata as metadata

    from minqing.core.pluginhost import host as plugin_host

    broken = metadata.EntryPoint(name="ghost", value="minqing.no_such_module", group=plugin_host.ENTRY_POINT_GROUP)
    real = plugin_host.entry_points
    monkeypatch.setattr(plugin_host, "entry_points", lambda group: [*real(group=group), broken])
    host = plugin_host.PluginHost(platform.db)
    assert "lanzhou_departments" in host.names() and "ghost" not in host.names()
    with platform.db.session() as session:
        from minqing.core.models import PluginState
        state = session.get(PluginState, "ghost")
        assert state.last_error_hook == "load" and "no_such_module" in state.last_error


def test_a_failure_inside_a_writing_transaction_is_recorded_with_it(platform):
    """With the caller's session the host takes no second connection (on SQLite it would wait for the
    caller's own write lock); the failure is kept in a savepoint and commits with the caller's work."""
    from minqing.core.models import PluginState, Region

    platform.plugins.register(Broken(), "broken")
    with platform.db.session() as session:
        session.add(Region(code="620100000000", name="兰州市", level="city"))
        session.flush()  # this transaction now holds SQLite's write lock
        answers = platform.plugins.collect("register_departments", session=session)
        assert answers  # the other plugins still answered
        assert session.get(PluginState, "broken").last_error_hook == "register_departments"
    with platform.db.session() as session:
        assert session.get(PluginState, "broken").error_count == 1
        assert session.query(Region).count() == 1
