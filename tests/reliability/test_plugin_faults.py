"""A plugin that raises, hangs or answers garbage never takes a request down; one that keeps failing is disabled
automatically, and the administrator sees why."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool

from minqing.core.pluginhost import answers as plugin_answers, typed as typed_hooks
from minqing.core.hooks import hookimpl
from minqing.core.models import AuditRecord, PluginState
from minqing.core.pluginhost.host import AUTO_DISABLED_BY, FAILURE_THRESHOLD, PluginHost, hook_names
from minqing.core.actors import system_actor
from minqing.core.models import Setting, utcnow

from tests.fixtures.database import ON_POSTGRES, platform_on
from tests.fixtures.postgres import dedicated_database

BOUND = 0.3   # seconds: the time bound the tests give the hooks they hang in
AUTO_TAG = '<span class="tag red">自动停用</span>'


class Healthy:
    @hookimpl
    def dashboard_figures(self):
        return [{"key": "healthy", "title": "健康插件指标", "value": 42}]


class Raises:
    @hookimpl
    def dashboard_figures(self):
        raise RuntimeError("插件内部错误")


class Hangs:
    """Blocks until released (or 30 s): far beyond the bound."""

    def __init__(self):
        self.release, self.calls, self.finished = threading.Event(), 0, 0

    @hookimpl
    def dashboard_figures(self):
        self.calls += 1
        self.release.wait(30)
        self.finished += 1
        return [{"key": "late", "title": "迟到的指标", "value": 1}]


class Garbage:
    @hookimpl
    def dashboard_figures(self):
        return "不是列表"


class RequiredAndBroken(Raises):
    MINQING_REQUIRED = True


@pytest.fixture
def hangs(platform):
    plugin = Hangs()
    platform.plugins.timeouts["dashboard_figures"] = BOUND
    yield plugin
    plugin.release.set()


def plugin_row(platform, name) -> PluginState:
    with platform.db.session() as session:
        return session.get(PluginState, name)


def test_raising_hanging_and_garbage_plugins_leave_the_dashboard_answering(platform, as_user, hangs):
    host = platform.plugins
    for plugin, name in ((Healthy(), "healthy"), (Raises(), "raises"), (hangs, "hangs"), (Garbage(), "garbage")):
        host.register(plugin, name)
    page = as_user("leader").get("/manage/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "健康插件指标" in html and "迟到的指标" not in html and "不是列表" not in html
    assert hangs.calls == 1 and hangs.finished == 0      # answered while the hung call still runs
    admin = as_user("admin").get("/admin/plugins").get_data(as_text=True)
    assert "插件内部错误" in admin
    assert f"超过 {BOUND:g} 秒未返回" in admin
    assert "返回值无效（已忽略）：应返回列表，实际返回了 str" in admin
    for name in ("raises", "hangs", "garbage"):       # recorded although the page only read (and rolled back)
        row = plugin_row(platform, name)
        assert (row.error_count, row.last_error_hook, row.enabled) == (1, "dashboard_figures", True)


def test_a_plugin_that_keeps_hanging_is_disabled_and_the_admin_sees_why(platform, as_user, hangs):
    platform.plugins.register(Healthy(), "healthy")
    platform.plugins.register(hangs, "hangs")
    leader = as_user("leader")
    for _ in range(FAILURE_THRESHOLD + 2):
        assert leader.get("/manage/").status_code == 200
    assert hangs.calls == FAILURE_THRESHOLD               # not called once disabled
    row = plugin_row(platform, "hangs")
    assert row.enabled is False and row.updated_by == AUTO_DISABLED_BY and row.error_count == FAILURE_THRESHOLD
    with platform.db.session() as session:
        record = session.scalar(select(AuditRecord).where(AuditRecord.action == "plugin.auto_disable"))
    assert record.object_id == "hangs" and record.actor_name == "系统"
    assert f"失败 {FAILURE_THRESHOLD} 次，已自动停用" in record.summary and "dashboard_figures" in record.summary

    admin = as_user("admin")
    page = admin.get("/admin/plugins").get_data(as_text=True)
    assert AUTO_TAG in page and f"失败 {FAILURE_THRESHOLD} 次，已自动停用" in page
    info = next(item for item in platform.plugins.info() if item.name == "hangs").as_dict()   # `plugins list --json`
    assert info["enabled"] is False and info["auto_disabled"] is True and "已自动停用" in info["disabled_reason"]

    # Enabled again by the administrator, it starts with a clean slate: one more failure does not disable it.
    assert admin.post("/admin/plugins/hangs/enable").status_code == 302
    assert leader.get("/manage/").status_code == 200
    assert hangs.calls == FAILURE_THRESHOLD + 1
    assert plugin_row(platform, "hangs").enabled is True
    assert AUTO_TAG not in admin.get("/admin/plugins").get_data(as_text=True)


def test_a_required_plugin_is_never_disabled_but_its_failures_are_reported(platform, as_user):
    platform.plugins.register(RequiredAndBroken(), "required_broken", platform_own=True)  # only built-ins may be required
    leader = as_user("leader")
    for _ in range(FAILURE_THRESHOLD + 1):
        assert leader.get("/manage/").status_code == 200
    assert platform.plugins.is_enabled("required_broken")
    assert plugin_row(platform, "required_broken").error_count == FAILURE_THRESHOLD + 1
    with platform.db.session() as session:
        reports = session.scalars(select(AuditRecord.summary).where(AuditRecord.action == "plugin.failing")).all()
        disabled = session.scalar(select(func.count()).where(AuditRecord.action == "plugin.auto_disable"))
    assert len(reports) == 1 and "必需插件 required_broken" in reports[0] and disabled == 0


class Sleeps:
    """A panel whose query outlasts its bound by far (a minute on the server)."""

    @hookimpl
    def dashboard_panels(self, session):
        session.execute(text("SELECT pg_sleep(60) /* minqing-test-sleeps */"))
        return [{"key": "late", "title": "迟到的面板"}]


@pytest.fixture
def pg_platform(database_url):
    yield from platform_on(database_url if ON_POSTGRES else dedicated_database())


def _running_elsewhere(url: str, marker: str) -> int:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return connection.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() "
                "AND query LIKE '%' || :marker || '%'"), {"marker": marker})
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_query_the_host_gave_up_on_is_cancelled_on_the_server_and_the_caller_goes_on(pg_platform):
    """Not left running for the minute it asked for: after the host answers, nothing of it runs on the server,
    and the caller's transaction (its own write before the hook) is still usable and commits."""
    host = pg_platform.plugins
    host.register(Sleeps(), "sleeps")
    host.timeouts["dashboard_panels"] = BOUND
    with pg_platform.db.session() as session:
        session.add(Setting(name="written_before", value="1"))
        session.flush()
        answers = host.call("dashboard_panels", platform=pg_platform, viewer=system_actor("test"), session=session,
                            now=utcnow())
        assert "sleeps" not in {name for name, _ in answers}
        assert _running_elsewhere(pg_platform.db.url, "minqing-test-sleeps") == 0
        assert session.scalar(select(Setting.value).where(Setting.name == "written_before")) == "1"
    with pg_platform.db.session() as session:
        assert session.get(Setting, "written_before").value == "1"
        row = session.get(PluginState, "sleeps")
        assert row.error_count == 1 and "其数据库语句已取消" in row.last_error


# -- every hook ---------------------------------------------------------------------------------------------------

def plugin_for(hook_name: str, behaviour):
    """A plugin object implementing only `hook_name`, doing `behaviour()`."""
    def implementation(self):
        return behaviour()
    implementation.__name__ = hook_name
    return type(f"Test_{hook_name}", (), {hook_name: hookimpl(implementation)})()


BOUNDED_HOOKS = [name for name in hook_names() if name != "seed_demo"]   # seed_demo is unbounded by design


def _raise():
    raise ValueError("故意的错误")


def test_every_hook_survives_a_plugin_that_raises_hangs_or_answers_garbage(platform):
    release = threading.Event()
    behaviours = {"raises": _raise, "hangs": lambda: release.wait(30) or [], "garbage": lambda: 12345}
    expected = {"raises": "故意的错误", "hangs": "秒未返回", "garbage": "返回值无效"}
    checked = 0
    try:
        for hook_name in BOUNDED_HOOKS:
            for kind, behaviour in behaviours.items():
                if kind == "garbage" and hook_name not in plugin_answers.CHECKS:
                    assert hook_name in ("case_transitioned", "register_commands"), f"{hook_name}: no shape check"
                    continue
                host, name = PluginHost(platform.db, load_entry_points=False), f"{kind}_{hook_name}"
                host.register(plugin_for(hook_name, behaviour), name)
                host.timeouts[hook_name] = 0.1
                arguments = dict.fromkeys(typed_hooks.spec_of(hook_name).argnames)   # calls must name every one
                assert host.call(hook_name, **arguments) == [], (hook_name, kind)
                assert (host.failures[-1].hook, host.failures[-1].plugin) == (hook_name, name)
                row = plugin_row(platform, name)
                assert row.error_count == 1 and row.last_error_hook == hook_name
                assert expected[kind] in row.last_error, (hook_name, kind, row.last_error)
                checked += 1
    finally:
        release.set()
    assert checked == 3 * len(BOUNDED_HOOKS) - 2


def test_answers_of_the_right_shape_pass(platform):
    host = PluginHost(platform.db)   # the built-in plugins' real answers
    assert len(host.collect("register_departments")) >= 50
    assert {name for name, _ in host.collect("periodic_tasks")} >= {"workflows"}
    assert host.failures == []
