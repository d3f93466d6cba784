"""Every hook is called by the platform: one `test_hook_<name>` per hook of core/hooks.py (tests/core/test_hook_docs.py
checks there is one). Each registers a small plugin answering that hook, makes the platform do what calls it (report a
case, read the themes, draw the dashboard, deliver the outbox, ...) and shows the answer took effect."""
from __future__ import annotations

import copy
import datetime as dt
import importlib.metadata as metadata
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Blueprint
from sqlalchemy import select

from minqing import themes
from minqing.core.pluginhost import host as plugin_host
from minqing.core import warning_rules
from minqing.core.cli import Context, build_cli, cli
from minqing.core.departments import sync_departments
from minqing.core.hooks import hookimpl
from minqing.core.importing import ImportSummary
from minqing.core.importing.cli import export_command, import_command
from minqing.core.models import Case, Department, Grid, Notification
from minqing.themes import layers
from minqing.themes.colours import recompute_grid_colours
from minqing.core.actors import system_actor
from minqing.workflows import CaseRejected, calendar, channels, definition, outbox
from minqing.workflows.tasks import run_periodic

from tests.fixtures.web import INSIDE
from tests.fixtures.workflow import MONDAY_10AM, report, step

ROOT = Path(__file__).resolve().parents[2]
ICY_ROADS = json.loads((ROOT / "tests" / "example_plugin" / "minqing_snow" / "icy_roads.json").read_text("utf-8"))
STANDARD = json.loads((ROOT / "workflows" / "builtin" / "standard.json").read_text(encoding="utf-8"))
SNOW_DEPARTMENTS = [{"key": "winter_service", "name": "兰州市冬季除雪保畅指挥部", "short_name": "除雪保畅"},
                    {"key": "winter_bridges", "name": "兰州市桥梁除冰养护队", "short_name": "桥梁除冰"}]


@pytest.fixture
def plug(platform):
    """Register a plugin for the test; unregistered afterwards (the platform may outlive the test's tables)."""
    names = []

    def register(plugin, name="recorder"):
        platform.plugins.register(plugin, name)
        names.append(name)
        return plugin
    yield register
    for name in names:
        platform.plugins.unregister(name)


def test_hook_register_departments(platform, plug, system):
    class Snow:
        @hookimpl
        def register_departments(self):
            return SNOW_DEPARTMENTS

    plug(Snow())
    with platform.db.session() as session:
        sync_departments(session, platform.plugins, system)
    with platform.db.session() as session:
        assert session.scalar(select(Department.name).where(Department.key == "winter_bridges")) == "兰州市桥梁除冰养护队"


def test_hook_register_themes(platform, plug):
    class Snow:
        def __init__(self):
            self.sessions = []

        @hookimpl
        def register_departments(self):
            return SNOW_DEPARTMENTS

        @hookimpl
        def register_themes(self, session):
            self.sessions.append(session)
            return [ICY_ROADS]

    snow = plug(Snow())
    with platform.db.session() as session:
        found = themes.registry(platform, session, fresh=True).get("winter_service.icy_roads")
        assert found.plugin == "recorder" and snow.sessions[-1] is session


def test_hook_route_case(platform, loop_city, plug):
    class Route:
        @hookimpl
        def route_case(self, case, session):
            return "urban_management" if case.title == "占道经营" else None

    plug(Route())
    case_id = report(platform, loop_city.worker, title="占道经营")
    step(platform, case_id, "accept", loop_city.station)
    dispatched = step(platform, case_id, "dispatch", loop_city.station)   # no department chosen: the plugins route
    with platform.db.session() as session:
        assert session.get(Department, dispatched.department_id).key == "urban_management"


def test_hook_validate_case(platform, loop_city, plug):
    class Validate:
        @hookimpl
        def validate_case(self, case):
            return [("description", "请说明井盖位置")] if "位置" not in case.description else []

    plug(Validate())
    with pytest.raises(CaseRejected) as refused:
        report(platform, loop_city.worker)
    assert refused.value.errors == {"description": ["请说明井盖位置"]}
    with platform.db.session() as session:
        assert session.scalar(select(Case.id)) is None


def test_hook_validate_submission(platform, plug):
    from minqing.themes.versions import check_data

    class Validate:
        @hookimpl
        def validate_submission(self, theme_key, form_key, document):
            if theme_key == "snow.roads" and form_key == "record" and document.get("length_m", 0) > 50000:
                return [("length_m", "路段长度不能超过 50 公里")]
            return []

    plug(Validate())
    schema = {"type": "object", "properties": {"length_m": {"type": "number"}}}
    with platform.db.session() as session:
        assert check_data(platform, session, "snow.roads", schema, {"length_m": 60000}) == [
            ("length_m", "路段长度不能超过 50 公里")]
        assert check_data(platform, session, "snow.roads", schema, {"length_m": 600}) == []


def test_hook_case_transitioned(platform, loop_city, plug):
    class Record:
        def __init__(self):
            self.seen = []

        @hookimpl
        def case_transitioned(self, case, transition, actor):
            self.seen.append((transition, case.status, actor.name))

    recorder = plug(Record())
    case_id = report(platform, loop_city.worker)
    step(platform, case_id, "accept", loop_city.station)
    assert recorder.seen == [("report", "reported", "worker"), ("accept", "registered", "station")]
    # every status change (merge, unmerge, following a master too): tests/workflows/test_case_transitioned.py


def test_hook_map_layers(platform, loop_city, plug):
    class Layers:
        @hookimpl
        def map_layers(self, viewer):
            return [{"key": "snow.points", "title": "除冰点", "department": "water_affairs",
                     "geometry_type": "point", "features": lambda bbox, session: []}]

    plug(Layers())
    with platform.db.session() as session:
        groups = layers.visible_layers(platform, session, loop_city.leader)
    found = [layer for group in groups for layer in group["layers"] if layer["key"] == "snow.points"]
    assert found and found[0]["plugin"] == "recorder" and found[0]["kind"] == "computed"


def test_hook_periodic_tasks(platform, plug):
    ran = []

    class Tasks:
        @hookimpl
        def periodic_tasks(self):
            return [{"name": "snow.morning_check", "every": 3600, "run": ran.append}]

    plug(Tasks())
    assert run_periodic(platform, "snow.morning_check") is True
    assert ran == [platform]


def test_hook_dashboard_figures(platform, as_user, plug):
    class Figures:
        @hookimpl
        def dashboard_figures(self, viewer, session):
            return [{"key": "snow.open", "title": "未办结的道路结冰事件", "value": 7, "unit": "件"}]

    plug(Figures())
    page = as_user("leader").get("/manage/").get_data(as_text=True)
    assert "未办结的道路结冰事件" in page


def test_hook_dashboard_panels(platform, as_user, plug):
    class Panels:
        @hookimpl
        def dashboard_panels(self, viewer, now):
            return [{"key": "snow", "title": "积雪未清路段", "count": 3, "blocks": [{"items": ["张掖路"]}]}]

    plug(Panels())
    page = as_user("leader").get("/manage/").get_data(as_text=True)
    assert "积雪未清路段" in page and "张掖路" in page


def test_hook_warning_rules(platform, plug):
    class Rules:
        @hookimpl
        def warning_rules(self):
            return [{"key": "snow.shelters", "title": "避难场所未检查", "settings": {"limit": 20},
                     "evaluate": lambda session, viewer, settings, now: []}]

    plug(Rules())
    with platform.db.session() as session:
        rule = warning_rules.rules(platform, session)["snow.shelters"]
    assert rule["plugin"] == "recorder" and rule["title"] == "避难场所未检查"


def test_hook_web_blueprints(platform, plug):
    from minqing.web import create_app, plugin_api

    pages = plugin_api.public(Blueprint("snow_pages", __name__, url_prefix="/snow"))   # no sign-in needed
    pages.add_url_rule("/hello", "hello", lambda: "除雪保畅")
    given = []

    class Pages:
        @hookimpl
        def web_blueprints(self, platform):
            given.append(platform)
            return [pages]

    plug(Pages())
    app = create_app({"TESTING": True}, platform=platform)
    assert app.test_client().get("/snow/hello").get_data(as_text=True) == "除雪保畅"
    assert given == [platform]


def test_hook_register_commands(monkeypatch, database_url, platform):
    real = plugin_host.entry_points
    snow = metadata.EntryPoint(name="snow_commands", value="tests.plugins.command_plugin",
                               group=plugin_host.ENTRY_POINT_GROUP)
    monkeypatch.setattr(plugin_host, "entry_points", lambda group: [*real(group=group), snow])
    try:
        result = CliRunner().invoke(build_cli(), ["--db", database_url, "snow-report"])
    finally:
        cli.commands.pop("snow-report", None)   # `cli` is the module's group: leave it as the other tests expect
    assert result.exit_code == 0 and "今日无积雪" in result.output


def _context(platform, database_url) -> Context:
    """The command line's context, opened on the test's platform (with the test's plugins registered)."""
    context = Context(database_url)
    context._platform = platform
    return context


def test_hook_file_kinds(platform, plug, database_url, tmp_path):
    class SnowLedger:
        def __init__(self):
            self.calls = []

        def read(self, platform, theme_key, file, *, actor, report_path, batch_size, resume_from, show_progress):
            self.calls.append(("import", theme_key, file.name, batch_size))
            return ImportSummary(kind="records", file=str(file), imported=3, batches=1), 0

        def write(self, session, viewer, stream, theme_key, *, fmt, file_name):
            self.calls.append(("export", theme_key, fmt, file_name))
            stream.write(b"id\n")
            return 7

        @hookimpl
        def file_kinds(self):
            return {"records": {"label": "除雪台账", "import": self.read, "export": self.write}}

    snow = plug(SnowLedger())   # registered after the built-in `declarative_themes`: called first, so it wins
    file = tmp_path / "roads.csv"
    file.write_text("name\n", encoding="utf-8")
    runner = CliRunner()
    imported = runner.invoke(import_command, ["records", "--theme", "snow.roads", str(file), "--no-progress",
                                              "--batch", "5"], obj=_context(platform, database_url))
    assert imported.exit_code == 0, imported.output
    assert "导入除雪台账：成功 3 行" in imported.output
    output = tmp_path / "roads-out.csv"
    exported = runner.invoke(export_command, ["records", "--theme", "snow.roads", "-o", str(output)],
                             obj=_context(platform, database_url))
    assert exported.exit_code == 0 and "已导出 7 条" in exported.output, exported.output
    assert snow.calls == [("import", "snow.roads", "roads.csv", 5), ("export", "snow.roads", "csv", "roads-out.csv")]
    assert output.read_bytes() == b"id\n"


def test_a_disabled_plugins_file_kind_is_refused(platform, database_url, system, tmp_path):
    """`records` is the answer of `declarative_themes` on this platform: switched off, the kind is refused, in
    Chinese, by import and export alike (it once stayed, registered for the whole process when themes loaded)."""
    file = tmp_path / "roads.csv"
    file.write_text("name\n", encoding="utf-8")
    with platform.db.session() as session:
        platform.plugins.set_enabled("declarative_themes", False, session=session, actor=system)
    try:
        runner = CliRunner()
        imported = runner.invoke(import_command, ["records", "--theme", "snow.roads", str(file), "--no-progress"],
                                 obj=_context(platform, database_url))
        exported = runner.invoke(export_command, ["records", "--theme", "snow.roads", "-o", str(tmp_path / "o.csv")],
                                 obj=_context(platform, database_url))
    finally:
        with platform.db.session() as session:
            platform.plugins.set_enabled("declarative_themes", True, session=session, actor=system)
    assert imported.exit_code == 1 and "导入业务主题记录（台账）需要启用业务主题插件（declarative_themes）" in imported.output
    assert exported.exit_code == 1 and "导出台账记录需要启用业务主题插件（declarative_themes）" in exported.output
    assert not (tmp_path / "o.csv").exists()


def test_hook_grid_colours(platform, loop_city, plug, system):
    class Colours:
        @hookimpl
        def grid_colours(self, parents):
            return {grid_id: ("red", "道路结冰") for grid_id in parents}

    plug(Colours())
    with platform.db.session() as session:
        recompute_grid_colours(platform, session, system)
    with platform.db.session() as session:
        grid = session.get(Grid, loop_city.grid_id)
        assert (str(grid.colour), grid.colour_reason) == ("red", "道路结冰")


def test_hook_grid_colour(platform, loop_city, plug, system):
    class Colour:
        @hookimpl
        def grid_colour(self, grid):
            return ("yellow", "中山桥周边易结冰")

    plug(Colour())
    with platform.db.session() as session:
        recompute_grid_colours(platform, session, system)
    with platform.db.session() as session:
        grid = session.get(Grid, loop_city.grid_id)
        assert str(grid.colour) == "yellow" and "中山桥周边易结冰" in grid.colour_reason


def test_hook_deliver_notification(platform, plug):
    class Sms:
        def __init__(self):
            self.sent = []

        @hookimpl
        def deliver_notification(self, notification):
            if notification["channel"] != "sms":
                return None
            self.sent.append(notification["recipient"])
            return True

    sms = plug(Sms())
    with platform.db.session() as session:
        outbox.add(session, kind="test", channel="sms", recipient="13800000000", subject="道路结冰")
    outbox.deliver(platform)
    assert sms.sent == ["13800000000"]
    with platform.db.session() as session:
        row = session.scalar(select(Notification))
        assert row.status == "delivered" and "recorder" in row.delivered_by.split(",")


def test_hook_working_calendar(platform, plug):
    class Calendar:
        @hookimpl
        def working_calendar(self):
            return {"holidays": ["2026-03-02"], "workdays": [], "periods": [["09:00", "17:00"]]}

    plug(Calendar())
    answered = calendar.for_platform(platform)
    monday_9am = MONDAY_10AM.replace(hour=9)    # a holiday in this plugin's calendar, a workday in China's
    assert calendar.deadline(answered, monday_9am, 8, True) == monday_9am + dt.timedelta(days=1, hours=8)


def test_hook_register_workflows(platform, plug):
    class Workflows:
        @hookimpl
        def register_workflows(self):
            document = copy.deepcopy(STANDARD)
            document.update(key="snow", title="除雪处置流程")
            return [document]

    plug(Workflows())
    with platform.db.session() as session:
        assert definition.get(platform, "snow", session).title == "除雪处置流程"


def test_hook_resolve_workflow(platform, plug):
    class Resolve:
        @hookimpl
        def resolve_workflow(self, key):
            if not key.startswith("snow."):
                return None
            return {**copy.deepcopy(STANDARD), "key": "anything", "title": f"{key} 的流程"}

    plug(Resolve())
    with platform.db.session() as session:
        found = definition.get(platform, "snow.bridges", session)
    assert (found.key, found.title) == ("snow.bridges", "snow.bridges 的流程")


def test_hook_seed_demo(platform, plug, monkeypatch):
    """`minqing demo` seeds through the hook once the city is built (the Lanzhou-scale build itself is skipped here:
    it takes minutes, and what is shown is that the seeding step calls the plugins with the demo's seed)."""
    from minqing.plugins.demo_city import build
    from minqing.plugins.demo_city.plugin import build_city

    class Seed:
        def __init__(self):
            self.seeds = []

        @hookimpl
        def seed_demo(self, platform, session, seed):
            self.seeds.append((seed, session is not None))

    seeding = plug(Seed())
    monkeypatch.setattr(build, "build_demo", lambda platform, **options: None)
    build_city(platform, seed=7, residents=0)
    assert seeding.seeds == [(7, True)]


def test_hook_intake_channels(platform, plug, world, database_url):
    class Longqing:
        """A pull channel (陇情E通): its backend's one item, fetched on every pull."""

        def __init__(self):
            self.pulls = 0

        def pull(self, platform):
            self.pulls += 1
            item = channels.Item(external_id="LQ-0001", theme_key="urban_management.street_vending",
                                 title="夜市占道", content="夜市摊位占用盲道", category="1001", address="永昌路",
                                 lon=INSIDE[0], lat=INSIDE[1], kind="投诉")
            with platform.db.session() as session:
                channels.receive(platform, session, system_actor("longqing"), "longqing", item)
                session.commit()

        @hookimpl
        def intake_channels(self):
            return [{"name": "longqing", "title": "陇情E通", "source": "citizen", "pull": self.pull}]

    longqing = plug(Longqing())
    build_cli()
    group = cli.commands["channels"]
    for _ in range(2):   # the same item twice: one case
        pulled = CliRunner().invoke(group, ["pull", "longqing"], obj=_context(platform, database_url))
        assert pulled.exit_code == 0, pulled.output
    assert longqing.pulls == 2
    listed = CliRunner().invoke(group, ["list"], obj=_context(platform, database_url))
    assert "longqing\t陇情E通\t插件 recorder\t拉取" in listed.output
    with platform.db.session() as session:
        made = session.execute(select(Case.channel, Case.external_id, Case.source)).all()
    assert made == [("longqing", "LQ-0001", "citizen")]
