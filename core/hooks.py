"""Every hook a Minqing plugin can implement. This module is the plugin author's reference.

A plugin is a module (or object) with functions decorated by `hookimpl` whose names match the specs below; it
is found through the entry-point group ``minqing.plugins``::

    # pyproject.toml of your package
    [project.entry-points."minqing.plugins"]
    my_department = "my_package.plugin"

    # my_package/plugin.py
    from minqing.core.hooks import hookimpl

    @hookimpl
    def register_departments():
        return [{"key": "heating", "name": "兰州市供热管理办公室", "short_name": "供热"}]

Plugins may implement any subset of hooks and may take any subset of a hook's arguments (pluggy passes the
ones a function names); a function named for no hook, or naming an argument its hook does not have, refuses the
whole plugin at load (``minqing plugins list`` says why). The platform calls hooks through
``platform.hooks.<name>(...)``, generated from these specs: every argument by keyword, ``firstresult`` as declared
here. The host calls each plugin on its own: a plugin that raises is logged, its error is
recorded on its status (``minqing plugins list``), and the other plugins' answers still count. Each call is
time-bounded (``MINQING_PLUGIN_TIMEOUT``, default 5 seconds: a call that overruns is abandoned and counts as a
failure), an answer of the wrong shape is recorded and ignored, and a plugin that fails 5 times within 10
minutes is disabled automatically (the administrator sees why). Administrators
enable and disable plugins at run time (``minqing plugins enable|disable NAME``); a disabled plugin's hooks
are not called.
"""
from __future__ import annotations

import pluggy

PROJECT = "minqing"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_departments():
    """Departments (职能部门) this plugin brings.

    Return a list of dicts with ``key`` (stable ASCII identifier), ``name`` (full Chinese name, e.g.
    "兰州市城市管理局"), ``short_name`` (e.g. "城管") and optionally ``kind`` ("government", "utility",
    "mass_organisation"), ``description`` and ``parent`` (the key of its parent department, e.g. a county bureau
    under the city's). Departments are created (or updated) by ``minqing upgrade``, whenever the plugin is
    enabled (admin page or ``minqing plugins enable``) and in the demo build; a plugin's themes refer to
    departments by key.
    """


@hookspec
def register_themes(session):
    """Business themes (业务主题) this plugin brings, as theme documents (see ``themes/theme.schema.json``).

    Each theme belongs to a department (``department`` key), and declares its map layer, its forms (JSON
    Schema) and its workflow. Declarative themes are loaded by a built-in plugin through this same hook, and
    the themes built in the browser by another (``theme_builder``, which reads them from the database).

    ``session`` (optional: name it only if you need it) is the caller's database session, or None. The
    registry caches the answers until the plugin switches, the departments or the ``themes`` change counter
    move: a plugin whose themes live in the database must bump that counter when they change
    (``minqing.core.counters.bump(session, "themes")``), or other processes will not see the change.
    """


@hookspec(firstresult=True)
def route_case(case, session):
    """Choose the department that should handle a newly reported case. The first plugin that answers wins.

    ``case`` is a :class:`minqing.core.models.Case` (not yet dispatched: category, location, grid, region code
    and form data are set). Return a department key, or None to let the next plugin (and finally the theme's
    category routing table) decide.
    """


@hookspec
def validate_case(case, session):
    """Check a case before it is accepted; return a list of problems, or an empty list / None.

    A problem is ``(field_path, message_in_chinese)``; use ``""`` as the path for the case as a whole. Any
    problem refuses the report with these messages and nothing is stored. Use it for rules a JSON Schema cannot
    express: cross-field rules, checks against base data.
    """


@hookspec
def validate_submission(theme_key, form_key, document, session):
    """Check a form submission (a record, a visit or a report form) after JSON Schema validation passed.

    ``form_key`` is the name of the theme's form ("record", "report", "visit", or a workflow step form).
    Return a list of ``(field_path, message_in_chinese)``, or an empty list / None when it is acceptable.
    """


@hookspec
def case_transitioned(case, transition, actor, session):
    """React to every change of a case's state, after it was applied (within the same transaction).

    ``transition`` is "report", the name of the workflow step taken ("accept", "dispatch", "take", "feedback",
    "confirm", ...), "merge" or "unmerge" (a duplicate merged into a master, or taken out again) or
    "follow_master" (a merged duplicate moving with its master); ``actor`` a
    :class:`minqing.core.actors.Actor`. Raising here does not undo the transition: the host records the error
    on the plugin. Use the notification outbox for anything that leaves the process.
    """


@hookspec
def map_layers(viewer, session):
    """Map layers this plugin contributes beyond its themes' own record layers (e.g. a computed layer).

    Return a list of dicts: ``key``, ``title``, ``department`` (key), ``geometry_type`` ("point", "line",
    "polygon"), ``style`` (Leaflet path options, e.g. ``{"color": "#c00"}``) and ``features`` — a callable
    ``features(bbox, session) -> list of GeoJSON Feature dicts`` (``bbox`` is ``(min_lon, min_lat, max_lon,
    max_lat)`` or None). ``viewer`` is the :class:`minqing.core.actors.Actor` looking at the map: return only
    what that viewer may see.
    """


@hookspec
def periodic_tasks():
    """Periodic work this plugin needs, run by the scheduler (``minqing beat``) on the workers.

    Return a list of dicts: ``name`` (unique, e.g. "water.river_patrol_reminders"), ``every`` (seconds) and
    ``run`` — a callable ``run(platform)`` that must be idempotent: it may run twice, or on two workers.
    """


@hookspec
def dashboard_figures(viewer, session):
    """Figures for the management dashboard (小兰民情).

    Return a list of dicts: ``key``, ``title``, ``value`` (a number or short text), optional ``unit``,
    ``department`` (key) and ``detail``. Compute them within ``viewer``'s scope.
    """


@hookspec
def warning_rules():
    """Early-warning rules (预警规则) this plugin brings; each shows its warnings on the dashboard and the map.

    Return a list of dicts: ``key`` (stable, e.g. "surges"), ``title`` (Chinese), ``settings`` (the default
    settings, a dict), ``schema`` (a JSON Schema of the settings, with a Chinese ``title`` per property: an
    administrator's values are checked against it) and ``evaluate`` — a callable ``evaluate(session, viewer,
    settings, now) -> list`` of :class:`minqing.core.warning_rules.EarlyWarning` (rule key, a stable key, title,
    reason in Chinese, severity "red"/"yellow"/"blue", grid id, region code, lon/lat when known, the objects
    concerned as ``(kind, id)`` pairs). Compute within ``viewer``'s scope (``minqing.core.scope.restrict``).
    The platform calls it once for the whole city (its own viewer) every few minutes and stores the result
    (``minqing.core.warning_rules.refresh``); pages and the map read the stored warnings within each viewer's scope
    by the warning's ``region_code`` and ``grid_id``, so give both. The host hides warnings that were acknowledged
    or turned into a case (by rule and key). Example::

        @hookimpl
        def warning_rules():
            return [{"key": "snow.unswept", "title": "积雪未清", "settings": {"hours": 12},
                     "schema": {"type": "object", "properties": {"hours": {"type": "integer", "minimum": 1,
                                                                          "title": "小时数"}}},
                     "evaluate": unswept_streets}]
    """


@hookspec
def web_blueprints(platform):
    """Flask blueprints this plugin adds to the web application (extra pages or API endpoints).

    ``platform`` is the platform the application serves. Return a list of ``flask.Blueprint`` objects. They are
    registered when the application starts; a request to a blueprint of a disabled plugin answers 404. Routes
    are for signed-in users: an anonymous request is sent to sign in (the blueprint's static files aside) unless
    the plugin opens the blueprint with ``minqing.web.plugin_api.public(blueprint)``. Views use
    ``minqing.web.plugin_api`` for the viewer, the request's session, role checks, the scope rule, masking and
    the site's layout (docs/plugins.md, "Pages")::

        # in the plugin's module: Blueprint from flask, select from sqlalchemy, Case from minqing.core.models,
        # and plugin_api from minqing.web (the one web module a plugin may import)
        pages = Blueprint("snow", __name__, url_prefix="/snow", template_folder="templates")

        @pages.get("/roads")
        @plugin_api.roles_required("operator", "leader")
        def roads():
            cases = plugin_api.db().scalars(plugin_api.scoped(select(Case), Case)).all()
            return plugin_api.render_page("snow/roads.html", cases=cases)  # {% extends layout %}

        @hookimpl
        def web_blueprints(platform):
            return [pages]
    """


@hookspec
def register_commands(cli):
    """Add commands to the ``minqing`` command line. ``cli`` is the top-level :class:`click.Group`."""


@hookspec
def file_kinds():
    """Kinds of file that ``minqing import KIND FILE`` and ``minqing export KIND`` read and write beyond core's
    own (base data, the city's structure, cases): asked each time such a command runs, so a disabled plugin's
    kind is refused (in Chinese) until it is enabled again.

    Return a dict ``{kind: {"label": ..., "import": ..., "export": ...}}``: ``label`` names the files in
    Chinese (the import summary says it), and either callable may be left out:

    - ``import(platform, theme_key, file, *, actor, report_path, batch_size, resume_from, show_progress)``
      stores the rows of ``file`` (a :class:`pathlib.Path`) as ``actor``, in transactions of ``batch_size``
      rows, skipping the rows before ``resume_from``; returns ``(summary, existing)``, a
      :class:`minqing.core.importing.ImportSummary` and the number of rows already stored;
    - ``export(session, viewer, stream, theme_key, *, fmt, file_name)`` writes what ``viewer`` may see to the
      binary ``stream`` as ``fmt`` ("csv", "xlsx" or "geojson"), audited, and returns the number of rows.

    The command line lists the kinds it knows (today ``records``, the themes' ledgers, which the built-in
    ``declarative_themes`` answers last); the first plugin that answers a kind wins, so yours replaces the
    built-in one. Example::

        @hookimpl
        def file_kinds():
            return {"records": {"label": "业务主题记录（台账）", "import": import_snow_ledger,
                                "export": export_snow_ledger}}
    """


@hookspec
def grid_colours(parents, session):
    """Say how risky many grids are, in one go, to colour them 红/黄/蓝 on the map.

    ``parents`` maps the id of every grid to its parent grid's id (None for a large grid). Return None, or a
    dict ``{grid_id: (colour, reason)}`` for the grids you have something to say about, with colour "red",
    "yellow" or "blue" and a reason in Chinese. Judge the small grids by what is in them and the grids above by
    the city's share rule, as the built-in rules do: ``minqing.core.geo.grid_tree.colours_by_share(small,
    parents, what=...)`` (adding counts up the tree with ``roll_up`` would colour a large grid by its worst
    part). Prefer this hook to ``grid_colour`` when one query can answer for all grids (the city has
    thousands); answers of both hooks are combined, the most severe winning.
    """


@hookspec
def grid_colour(grid, session):
    """Say how risky a grid is, to colour it 红/黄/蓝 on the map (called once per grid: see ``grid_colours``).

    Return None, or ``(colour, reason)`` with colour "red", "yellow" or "blue" and a reason in Chinese. The
    most severe answer of all plugins wins and the reasons are joined.
    """


@hookspec
def deliver_notification(notification):
    """Deliver one notification from the outbox (SMS, app push, a message to another system).

    ``notification`` is a dict with ``id``, ``channel``, ``recipient``, ``subject``, ``body`` and ``data``. Return
    True when this plugin delivered it; the outbox retries notifications that no plugin delivered. Delivery is at
    least once (a worker that dies mid-delivery leaves it to be sent again): use ``id`` to send each only once.
    """


@hookspec(firstresult=True)
def working_calendar():
    """The working calendar that time limits counted in working hours use. The first plugin that answers wins.

    Return a :class:`minqing.workflows.calendar.WorkingCalendar`, or a dict with ``timezone`` (default: the
    city's time zone, ``minqing.core.city.zone()``), ``periods`` (office hours of a workday, e.g. ``[["08:30", "12:00"], ["13:30", "18:00"]]``),
    ``holidays`` (ISO dates off work) and ``workdays`` (ISO dates of weekend make-up workdays, 调休上班). Days
    in neither list are workdays from Monday to Friday. The built-in ``workflows`` plugin answers last with China's
    official calendar for 2026, so any other plugin's answer wins. Example::

        @hookimpl
        def working_calendar():
            return {"holidays": ["2027-01-01"], "workdays": [], "periods": [["09:00", "17:00"]]}
    """


@hookspec
def register_workflows():
    """Case workflows (事件处置流程) this plugin brings, as documents shaped by
    ``workflows/workflow.schema.json`` (states, transitions with roles and forms, time limits per urgency and
    what happens on expiry). Return a list of dicts; a case names its workflow by ``key``. A plugin's
    workflow with the key of a built-in template ("standard") replaces that template.
    """


@hookspec(firstresult=True)
def resolve_workflow(key, platform, session):
    """The workflow document for a workflow key that no plugin registers and no template has; the first
    plugin that answers wins.

    Used for workflows that are not known ahead: a theme with an inline workflow (``"workflow": {...}`` in its
    document) has its cases run under the workflow key equal to the theme's key, which the themes answer here.
    Return a document shaped by ``workflows/workflow.schema.json``, or None. ``session`` may be None.
    """


@hookspec
def seed_demo(platform, session, seed):
    """Add demo data to a demo city that has just been built (``minqing demo``).

    Called once, after the regions, grids, people, departments and published themes exist, with the demo's
    random ``seed``; generate deterministically from it. Use the public functions of the platform (e.g.
    ``minqing.workflows.report_case`` and ``transition``) so demo data runs through the same rules as real work.
    """


@hookspec
def dashboard_panels(platform, viewer, session, now):
    """Panels for the management dashboard (小兰民情): a summary this plugin computes, shown as text, tables and lists.

    Return a list of dicts: ``key`` (stable, ASCII; the page gives the count the HTML id ``<key>-count``),
    ``title`` (Chinese), optional ``count`` (a number shown beside the title), ``section`` (``"warnings"`` puts the
    panel in the early-warning section, as the built-in warning rules do; otherwise it gets a section of its own),
    ``order`` (smaller first, default 100) and ``blocks``, shown in order, each a dict with one of:
    ``{"text": str}`` a paragraph, ``{"note": str}`` a paragraph in small print, ``{"label": str}`` a line in
    bold, ``{"items": [str, ...]}`` a list, or ``{"table": {"columns": [...], "rows": [[cell, ...], ...]}}`` (a
    column is its title, or ``{"title": str, "wrap": True}`` for long text; ``"id"`` optional). Everything is
    text: the page escapes it, so no markup. Compute within ``viewer``'s scope; ``now`` is the moment the page is
    drawn (aware, UTC); ``platform`` gives access to the themes (``minqing.themes.themes(platform, session)``).
    A disabled plugin's panel is not shown. Example::

        @hookimpl
        def dashboard_panels(viewer, session):
            rows = unswept_streets(session, viewer)          # [(street, hours), ...] within the viewer's scope
            return [{"key": "snow", "title": "积雪未清路段", "count": len(rows),
                     "blocks": [{"note": "超过 12 小时未清扫的路段"},
                                {"table": {"columns": ["路段", "小时"], "rows": [list(row) for row in rows]}}]}]
    """


@hookspec
def intake_channels():
    """Intake channels (受理渠道) this plugin brings: outside systems whose items become cases, such as a 12345
    hotline's work orders, 陇情E通 or a mini-program's backend.

    Return a list of dicts: ``name`` (the channel stored on each case, ASCII or digits, at most 20 characters,
    e.g. "12345"), ``title`` (Chinese), ``source`` (the cases' source, e.g. "hotline"), optionally ``import`` —
    ``import(platform, path, *, actor, dry_run, report_path, show_progress)`` reading an export file of the outside
    system and returning a :class:`minqing.core.importing.ImportSummary` (``minqing channels import NAME FILE``)
    —, ``pull`` — ``pull(platform)`` fetching what is new (``minqing channels pull NAME``; answer
    ``periodic_tasks`` with it to run it on a schedule) — and ``time_standards``, a dict of the outside
    system's time limits (``minqing.workflows.channels.time_standards`` gives it to other modules). Each item
    goes to the one intake service through ``minqing.workflows.channels.receive`` with the channel's name and
    the outside system's id of the item, so an item sent again answers its first case and never makes a second.
    Status flows back through ``case_transitioned``: ``minqing.workflows.channels.record_update`` stores what the
    outside system fetches (``minqing channels status-back NAME --since``). Example::

        @hookimpl
        def intake_channels():
            return [{"name": "longqing", "title": "陇情E通", "source": "citizen", "pull": fetch_new_items}]
    """


# What a person reads for each hook (the admin's plugin page): the hook's name is an identifier, not a sentence.
HOOK_TITLES = {
    "register_departments": "登记职能部门", "register_themes": "提供业务主题", "route_case": "事件分拨",
    "validate_case": "校验事件", "validate_submission": "校验表单提交", "case_transitioned": "事件流转通知",
    "map_layers": "地图图层", "periodic_tasks": "定时任务", "dashboard_figures": "驾驶舱指标",
    "warning_rules": "预警规则", "web_blueprints": "网页", "register_commands": "命令行命令",
    "grid_colours": "网格着色（批量）", "grid_colour": "网格着色", "deliver_notification": "发送通知",
    "working_calendar": "工作日历", "register_workflows": "处置流程模板", "resolve_workflow": "选择处置流程",
    "seed_demo": "演示数据", "dashboard_panels": "驾驶舱面板",
    "file_kinds": "导入导出文件类型", "intake_channels": "受理渠道",
}
