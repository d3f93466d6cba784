"""Workflow documents, the working calendar and the plugin hooks that replace them."""
from __future__ import annotations

import copy
import datetime as dt
import json

import jsonschema
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from minqing.core.cli import build_cli
from minqing.core.hooks import hookimpl
from minqing.core.models import Case, CaseEvent
from minqing.workflows import DefinitionInvalid, UnknownWorkflow, definition, get_workflow
from minqing.workflows import forms as workflow_forms
from minqing.workflows.calendar import WorkingCalendar, default_calendar

from tests.fixtures.workflow import CST, MONDAY_10AM, report, step


def standard_document() -> dict:
    return copy.deepcopy(definition.builtin("standard").document)


def test_the_meta_schema_and_the_standard_template_are_valid():
    jsonschema.Draft202012Validator.check_schema(definition.meta_schema())
    assert definition.check(standard_document()) == []
    workflow = definition.builtin("standard")
    assert workflow.states["handling"].title == "处置中"
    assert {step.name for step in workflow.available("awaiting_follow_up")} == {"confirm", "rework"}
    assert set(workflow.open_states()) == {"reported", "registered", "dispatched", "handling",
                                           "extension_requested", "awaiting_follow_up", "suspended"}


def test_check_finds_what_the_schema_cannot():
    document = standard_document()
    document["transitions"][0]["to"] = "nowhere"
    document["transitions"][1]["from"] = ["limbo"]
    document["transitions"][2]["to"] = "@previous"                     # take: not from a paused state
    document["transitions"][3]["form"] = {"type": "object", "properties": {"x": {"type": "wrong"}}}
    problems = definition.check(document)
    assert any("nowhere" in problem for problem in problems)
    assert any("limbo" in problem for problem in problems)
    assert any("@previous" in problem for problem in problems)
    assert any("“return”的表单无效" in problem for problem in problems)
    with pytest.raises(DefinitionInvalid) as refused:
        definition.parse(document)
    assert refused.value.code == "definition_invalid"
    assert definition.check({"key": "Bad Key"})            # the meta-schema speaks first


def test_yaml_documents_load(tmp_path):
    import yaml

    path = tmp_path / "copy.yaml"
    path.write_text(yaml.safe_dump(standard_document(), allow_unicode=True), encoding="utf-8")
    assert definition.load_file(path).transitions["void"].title == "作废"
    result = CliRunner().invoke(build_cli(), ["workflow-check", str(path)])
    assert result.exit_code == 0 and json.loads(result.output) == {"key": "standard", "states": 9,
                                                                   "transitions": 15}


def test_unknown_workflow(platform):
    with pytest.raises(UnknownWorkflow):
        get_workflow(platform, "no_such_workflow")


SIMPLE = {"key": "simple", "title": "简易流程", "initial": "open",
          "states": {"open": {"title": "办理中", "time_limit": {"normal": 2, "urgent": 1, "critical": 1,
                                                                "working": False}, "on_expiry": ["escalate"]},
                     "done": {"title": "已办结", "final": True}},
          "transitions": [{"name": "finish", "title": "办结", "from": ["open"], "to": "done",
                           "roles": ["grid_worker"], "effects": ["close"]}]}


class Extras:
    @hookimpl
    def register_workflows(self):
        return [SIMPLE]

    @hookimpl
    def working_calendar(self):
        return {"periods": [["09:00", "17:00"]], "holidays": ["2026-03-02"], "workdays": []}


def test_plugins_bring_workflows_and_calendars(platform, city):
    platform.plugins.register(Extras(), "test_extras")
    try:
        simple = report(platform, city.worker, workflow_key="simple")
        standard = report(platform, city.worker)
        with platform.db.session() as session:
            simple_case, standard_case = session.get(Case, simple), session.get(Case, standard)
        assert simple_case.state_deadline_at == MONDAY_10AM + dt.timedelta(hours=2)   # wall-clock hours
        # Monday is a holiday in this calendar and the office opens at 9: 4 working hours end Tuesday 13:00
        assert standard_case.state_deadline_at == dt.datetime(2026, 3, 3, 13, 0, tzinfo=CST)
        assert step(platform, simple, "finish", city.worker).status == "done"
    finally:
        platform.plugins.unregister("test_extras")


def test_china_2026_calendar():
    calendar = default_calendar()
    assert not calendar.is_workday(dt.date(2026, 10, 1)) and not calendar.is_workday(dt.date(2026, 2, 16))
    assert calendar.is_workday(dt.date(2026, 9, 20)) and calendar.is_workday(dt.date(2026, 2, 14))  # 调休上班
    assert not calendar.is_workday(dt.date(2026, 3, 7)) and calendar.is_workday(dt.date(2026, 3, 6))
    assert calendar.hours_per_day == 8
    before_holiday = dt.datetime(2026, 9, 30, 17, 0, tzinfo=CST)
    after = calendar.add_hours(before_holiday, 2)
    assert after == dt.datetime(2026, 10, 8, 9, 30, tzinfo=CST)                   # over the national holiday
    assert calendar.hours_between(before_holiday, after) == pytest.approx(2)
    lunch = dt.datetime(2026, 3, 2, 12, 30, tzinfo=CST)
    assert calendar.add_hours(lunch, 1) == dt.datetime(2026, 3, 2, 14, 30, tzinfo=CST)
    assert WorkingCalendar().is_workday(dt.date(2027, 1, 1))                       # years it does not know


def test_fallback_form_messages_are_chinese_per_field():
    form = definition.builtin("standard").transitions["request_extension"].form
    errors = workflow_forms._errors(form, {"days": 40})
    assert errors == {"days": ["“延期天数”不能大于 30"], "reason": ["请填写“延期理由”"]}
    assert workflow_forms._errors(form, {"days": "3", "reason": "需要"})["days"] == ["“延期天数”应为整数"]


def test_beat_without_a_broker_runs_the_schedule_in_process(platform, city, database_url):
    case_id = report(platform, city.worker)            # reported in March: long overdue by now
    runner = CliRunner()
    result = runner.invoke(build_cli(), ["--db", database_url, "beat", "--once"])
    assert result.exit_code == 0, result.output
    with platform.db.session() as session:
        assert session.scalar(select(CaseEvent.action).where(CaseEvent.case_id == case_id,
                                                             CaseEvent.action == "urge")) == "urge"
    refused = runner.invoke(build_cli(), ["--db", database_url, "worker"])
    assert refused.exit_code != 0 and "MINQING_BROKER_URL" in refused.output
    swept = runner.invoke(build_cli(), ["--db", database_url, "sla-sweep"])
    assert swept.exit_code == 0 and "催办 0 件" in swept.output                  # already done: idempotent


def test_the_beat_schedule_holds_the_sweep_and_the_plugins_periodic_tasks(platform):
    from minqing.workflows.tasks import schedule

    entries = schedule(platform.plugins)
    assert entries["workflows.sla_sweep"]["task"] == "minqing.periodic"
    assert entries["workflows.sla_sweep"]["args"] == ("workflows.sla_sweep",)
    assert "workflows.redeliver_notifications" in entries
