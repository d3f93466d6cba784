"""The hook specs are the contract: strict, typed calls (`platform.hooks`), firstresult honoured whichever way a
hook is called, plugins whose hooks do not match refused at load, and `required` only for the platform's own."""
from __future__ import annotations

import importlib.metadata as metadata
import json

import pytest
from click.testing import CliRunner

from minqing.core.pluginhost import host as plugin_host
from minqing.core.cli import build_cli
from minqing.core.hooks import hookimpl
from minqing.core.pluginhost.host import PluginHost, RefusedPlugin

from tests.core import misfit_plugins


class RouteTo:
    def __init__(self, key):
        self.key, self.calls = key, 0

    @hookimpl
    def route_case(self, case, session):
        self.calls += 1
        return self.key


class Figures:
    def __init__(self, value):
        self.value = value

    @hookimpl
    def dashboard_figures(self, viewer):
        return [{"key": f"figure_{self.value}", "title": "测试指标", "value": self.value}]


class Broken:
    @hookimpl
    def dashboard_figures(self):
        raise RuntimeError("插件内部错误")


def entry_point(name: str, target: str) -> metadata.EntryPoint:
    return metadata.EntryPoint(name=name, value=f"tests.core.misfit_plugins:{target}",
                               group=plugin_host.ENTRY_POINT_GROUP)


@pytest.fixture
def misfits(monkeypatch):
    """Three third-party plugins installed beside the built-in ones."""
    real = plugin_host.entry_points
    extra = [entry_point("misspelled", "Misspelled"), entry_point("wrong_argument", "WrongArgument"),
             entry_point("claims_required", "ClaimsRequired")]
    monkeypatch.setattr(plugin_host, "entry_points", lambda group: [*real(group=group), *extra])


# -- strict, typed calls ----------------------------------------------------------------------------------------

def test_a_misspelled_or_missing_keyword_is_a_type_error_naming_hook_and_argument(platform):
    platform.plugins.register(RouteTo("water_affairs"), "water")
    with pytest.raises(TypeError, match=r"route_case\(case, session\) got an unexpected keyword argument 'sesion'"
                                        r", did you mean 'session'\?"):
        platform.hooks.route_case(case=None, sesion=None)
    with pytest.raises(TypeError, match="route_case.*missing the keyword argument 'session'"):
        platform.hooks.route_case(case=None)
    with pytest.raises(TypeError, match="validate_submission.*unexpected keyword argument 'form'"):
        platform.plugins.call("validate_submission", theme_key="t", form="report", document={}, session=None)
    with pytest.raises(TypeError, match="route_case.*missing the keyword argument 'case'"):
        platform.plugins.call_first("route_case", session=None)
    with pytest.raises(TypeError, match="no hook named 'rout_case'.*did you mean 'route_case'"):
        platform.plugins.call("rout_case", case=None, session=None)
    with pytest.raises(AttributeError, match="no hook named 'rout_case'"):
        platform.hooks.rout_case   # noqa: B018
    assert platform.hooks.route_case(case=None, session=None) == "water_affairs"   # spelled right, it answers


def test_every_spec_is_a_typed_hook_with_its_arguments(platform):
    from minqing.core.pluginhost import typed as typed_hooks

    for spec in typed_hooks.specs().values():
        hook = getattr(platform.hooks, spec.name)
        assert tuple(hook.__signature__.parameters)[:len(spec.argnames)] == spec.argnames
    assert "dashboard_figures" in repr(platform.hooks.dashboard_figures)


def test_first_result_is_honoured_whichever_way_the_hook_is_called(platform):
    first, second = RouteTo("water_affairs"), RouteTo("gas")
    platform.plugins.register(second, "second")
    platform.plugins.register(first, "first")   # registered last, asked first (pluggy's order)
    assert platform.hooks.route_case(case=None, session=None) == "water_affairs"
    assert platform.hooks.route_case.with_plugin(case=None, session=None) == ("first", "water_affairs")
    assert platform.plugins.call("route_case", case=None, session=None) == [("first", "water_affairs")]
    assert second.calls == 0   # a firstresult hook stops at its first answer, also through `call`
    with pytest.raises(TypeError, match="not firstresult"):
        platform.plugins.call_first("dashboard_figures", viewer=None, session=None)


def test_other_hooks_answer_every_plugin_and_keep_faults_isolated(platform):
    for name, plugin in (("one", Figures(1)), ("broken", Broken()), ("two", Figures(2))):
        platform.plugins.register(plugin, name)
    answers = dict(platform.hooks.dashboard_figures(viewer=None, session=None))
    assert answers["one"][0]["value"] == 1 and answers["two"][0]["value"] == 2 and "broken" not in answers
    broken = next(info for info in platform.plugins.info() if info.name == "broken")
    assert broken.last_error_hook == "dashboard_figures" and "插件内部错误" in broken.last_error


def test_the_time_bound_holds_for_typed_calls(platform):
    import threading

    release = threading.Event()

    class Hangs:
        @hookimpl
        def route_case(self):
            release.wait(30)
            return "late"

    platform.plugins.register(RouteTo("gas"), "gas")
    platform.plugins.register(Hangs(), "hangs")   # asked first
    platform.plugins.timeouts["route_case"] = 0.2
    try:
        assert platform.hooks.route_case(case=None, session=None) == "gas"
    finally:
        release.set()
    assert "秒未返回" in next(info for info in platform.plugins.info() if info.name == "hangs").last_error


# -- checked at load --------------------------------------------------------------------------------------------

def test_a_misspelled_hookimpl_is_refused_at_load_and_listed(misfits, platform, database_url):
    host = PluginHost(platform.db)
    assert "misspelled" not in host.names() and "wrong_argument" not in host.names()
    assert "lanzhou_departments" in host.names()   # the others load
    assert "misspelled" not in {name for name, _ in host.collect("register_departments")}
    listed = {info.name: info for info in host.info()}
    assert listed["misspelled"].refused and not listed["misspelled"].enabled
    assert "route_cases 不对应任何挂钩" in listed["misspelled"].last_error
    assert "是否应为 route_case" in listed["misspelled"].last_error
    assert "参数 sesion 不在挂钩规范 route_case(case, session) 中" in listed["wrong_argument"].last_error

    runner, cli = CliRunner(), build_cli()
    as_json = json.loads(runner.invoke(cli, ["--db", database_url, "plugins", "list", "--json"]).output)
    refused = {item["name"]: item for item in as_json if item["refused"]}
    assert set(refused) == {"misspelled", "wrong_argument"}
    assert "route_cases" in refused["misspelled"]["last_error"] and refused["misspelled"]["last_error_hook"] == "load"
    text = runner.invoke(cli, ["--db", database_url, "plugins", "list"]).output
    line = next(line for line in text.splitlines() if line.startswith("misspelled "))
    assert "未加载" in line and "route_cases 不对应任何挂钩" in line


def test_register_refuses_a_plugin_whose_hooks_do_not_match(platform):
    with pytest.raises(RefusedPlugin, match="插件“typo”未加载：挂钩实现 route_cases 不对应任何挂钩"):
        platform.plugins.register(misfit_plugins.Misspelled(), "typo")
    with pytest.raises(RefusedPlugin, match="参数 sesion"):
        platform.plugins.register(misfit_plugins.WrongArgument(), "wrong")
    assert not platform.plugins.manager.has_plugin("typo") and not platform.plugins.manager.has_plugin("wrong")
    assert "misspelled" not in {name for name, _ in platform.plugins.collect("register_departments")}


def test_an_implementation_named_for_a_missing_spec_is_refused(platform):
    """`specname` points an implementation at a hook by name: a name that is no hook is refused like a typo."""
    class Pending:
        @hookimpl(specname="no_such_hook", optionalhook=False)
        def anything(self):
            return 1

    with pytest.raises(RefusedPlugin, match="no_such_hook"):
        platform.plugins.register(Pending(), "pending")
    assert not platform.plugins.manager.has_plugin("pending")
    platform.plugins.manager.check_pending()   # nothing left behind: pluggy raises PluginValidationError otherwise


# -- required ---------------------------------------------------------------------------------------------------

def test_a_third_party_required_flag_is_ignored_with_a_warning(misfits, platform, system, database_url):
    host = PluginHost(platform.db)
    assert not host.is_required("claims_required")
    info = next(info for info in host.info() if info.name == "claims_required")
    assert info.required is False and "MINQING_REQUIRED" in info.warnings[0] and "已忽略" in info.warnings[0]
    with platform.db.session() as session:
        host.set_enabled("claims_required", False, session=session, actor=system)   # no RequiredPlugin
    assert not host.is_enabled("claims_required")
    assert "claims_required" not in {name for name, _ in host.collect("register_departments")}
    assert host.is_required("web") and host.is_required("audit")   # the platform's own still are

    listed = json.loads(CliRunner().invoke(build_cli(), ["--db", database_url, "plugins", "list", "--json"]).output)
    item = next(item for item in listed if item["name"] == "claims_required")
    assert item["required"] is False and item["enabled"] is False and "MINQING_REQUIRED" in item["warnings"][0]


def test_required_only_for_entry_points_of_the_platforms_own_distribution(platform):
    own = {entry.name for entry in metadata.entry_points(group=plugin_host.ENTRY_POINT_GROUP)
           if entry.dist is not None and entry.dist.name == "minqing"}
    assert own <= platform.plugins.platform_own
    platform.plugins.register(misfit_plugins.ClaimsRequired(), "direct")
    assert not platform.plugins.is_required("direct")
    platform.plugins.register(misfit_plugins.ClaimsRequired(), "built_in", platform_own=True)
    assert platform.plugins.is_required("built_in")
