"""A theme's own workflow: edited from a template, validated, and really used by the engine for its cases."""
import datetime as dt

import pytest
from sqlalchemy import select

from minqing import themes, workflows
from minqing.core.actors import Actor, Grant
from minqing.core.models import Case, CaseEvent
from minqing.themes import authoring as builder
from minqing.workflows import sla

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _report(platform, session, actor, theme):
    return workflows.report_case(platform, session, actor, theme_key=theme.key, title="燃气泄漏",
                                 description="闻到燃气味", lon=103.01, lat=36.01, source="grid_worker",
                                 workflow_key=theme.workflow_key, now=NOW)


@pytest.fixture
def inline_theme(platform, staff):
    """gas.leaks published with an inline workflow: 待受理 2 h and 待分拨 1 h (natural hours), and only
    leaders may 受理立案."""
    gas = staff("gas")
    with platform.db.session() as session:
        draft = builder.start_draft(platform, session, gas, department="gas", slug="leaks", title="燃气泄漏",
                                    template="event_report")
        workflow = builder.workflow_for_editing(draft.document, platform)
        workflow = builder.set_time_limit(workflow, "reported", {"normal": 2, "urgent": 1, "critical": 0.5},
                                          working=False)
        workflow = builder.set_time_limit(workflow, "registered", {"normal": 1, "urgent": 1, "critical": 0.5},
                                          working=False)
        workflow = builder.set_roles(workflow, "accept", ["leader"])
        saved = builder.save_draft(platform, session, gas, "gas.leaks", builder.with_workflow(draft.document,
                                                                                               workflow),
                                   revision=draft.revision)
        assert saved.problems == []
        builder.publish_draft(platform, session, gas, "gas.leaks")
    return "gas.leaks"


def test_workflow_for_editing_copies_the_template(platform):
    document = builder.TEMPLATES["patrol"].document("gas", "gas.pipes", "管网巡查")
    edited = builder.workflow_for_editing(document, platform)
    standard = workflows.get_workflow(platform, "standard").document
    assert edited["states"] == standard["states"] and edited["transitions"] == standard["transitions"]
    assert edited["key"] == "gas_pipes" and edited["title"] == "管网巡查处置流程"
    changed = builder.set_time_limit(edited, "handling", {"normal": 24, "urgent": 8, "critical": 2})
    assert changed["states"]["handling"]["time_limit"] == {"normal": 24, "urgent": 8, "critical": 2,
                                                           "working": ["normal", "urgent"]}
    assert edited["states"]["handling"]["time_limit"]["normal"] == 40  # the argument is left alone
    table = builder.workflow_table(builder.set_roles(edited, "take", ["department_staff", "grid_worker"]))
    take = next(step for step in table["transitions"] if step["name"] == "take")
    assert take["role_titles"] == ["职能部门", "网格员"]
    with pytest.raises(builder.AuthoringError, match="没有状态“nowhere”"):
        builder.set_time_limit(edited, "nowhere", None)


def test_an_invalid_inline_workflow_is_shown_where_it_is_wrong(platform, staff):
    gas = staff("gas")
    with platform.db.session() as session:
        draft = builder.start_draft(platform, session, gas, department="gas", slug="leaks", title="燃气泄漏")
        workflow = builder.workflow_for_editing(draft.document, platform)
        workflow["transitions"][2]["to"] = "nowhere"
        workflow["states"]["handling"]["time_limit"]["normal"] = 0
        saved = builder.save_draft(platform, session, gas, "gas.leaks", builder.with_workflow(draft.document,
                                                                                               workflow), revision=1)
        problems = {problem.path: problem.message for problem in saved.problems}
        assert problems == {"/workflow/states/handling/time_limit/normal": "应大于 0"}  # meta-schema first
        workflow["states"]["handling"]["time_limit"]["normal"] = 30
        saved = builder.save_draft(platform, session, gas, "gas.leaks", builder.with_workflow(draft.document,
                                                                                               workflow), revision=2)
        assert [(p.path, p.message) for p in saved.problems] == [
            ("/workflow/transitions/2/to", "流转“take”的目标状态“nowhere”未定义")]
        unknown = builder.save_draft(platform, session, gas, "gas.leaks", dict(draft.document, workflow="fancy"),
                                     revision=3)
        assert [(p.path, p.message) for p in unknown.problems] == [("/workflow", "没有名为“fancy”的流程模板")]


def test_cases_of_a_theme_run_under_its_inline_workflow(platform, system, city, inline_theme):
    operator = Actor(account_id=None, name="指挥中心", grants=(Grant(role="operator", region_code="620102000000"),))
    leader = Actor(account_id=None, name="领导", grants=(Grant(role="leader", region_code="620102000000"),))
    with platform.db.session() as session:
        theme = themes.get_theme(platform, inline_theme, session)
        assert theme.workflow_key == "gas.leaks"
        case = _report(platform, session, system, theme)
        assert case.workflow_key == "gas.leaks" and case.status == "reported"
        assert case.state_deadline_at == NOW + dt.timedelta(hours=2)  # the theme's limit, not the template's 4
        standard = _report(platform, session, system, themes.get_theme(platform, "heating.heating_quality", session))
        assert standard.workflow_key == "standard" and standard.state_deadline_at != case.state_deadline_at
        with pytest.raises(workflows.PermissionDenied):  # the theme gave 受理立案 to leaders only
            workflows.transition(platform, session, case, "accept", operator, now=NOW)
        workflows.transition(platform, session, case, "accept", leader, now=NOW + dt.timedelta(minutes=30))
        assert case.status == "registered"
        assert case.state_deadline_at == NOW + dt.timedelta(minutes=90)
        session.commit()
        case_id = case.id
    # The SLA sweep finds the theme's states too: past the 1 h limit, the case is urged.
    result = sla.sweep(platform, now=NOW + dt.timedelta(hours=3), deliver=False)
    assert result.urged >= 1
    with platform.db.session() as session:
        actions = session.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case_id)).all()
        assert actions.count("urge") == 1


def test_publish_keeps_states_that_running_cases_are_in(platform, staff, system, city, inline_theme):
    gas = staff("gas")
    with platform.db.session() as session:
        _report(platform, session, system, themes.get_theme(platform, inline_theme, session))
        draft = builder.get_draft(session, gas, inline_theme)
        document = builder.with_workflow(draft.document, draft.document["workflow"])
        workflow = document["workflow"]
        del workflow["states"]["reported"]
        workflow["initial"] = "registered"
        workflow["transitions"] = [step for step in workflow["transitions"]
                                   if "reported" not in step["from"]]
        saved = builder.save_draft(platform, session, gas, inline_theme, document, revision=draft.revision)
        assert saved.problems == []  # a valid workflow on its own
        with pytest.raises(builder.DraftInvalid, match="还有 1 件未办结的事件处于状态“reported”"):
            builder.publish_draft(platform, session, gas, inline_theme)


def test_running_cases_keep_the_inline_workflow_after_going_back_to_a_template(platform, staff, system, city,
                                                                               inline_theme):
    gas = staff("gas")
    with platform.db.session() as session:
        case = _report(platform, session, system, themes.get_theme(platform, inline_theme, session))
        draft = builder.get_draft(session, gas, inline_theme)
        builder.save_draft(platform, session, gas, inline_theme, dict(draft.document, workflow="standard"),
                           revision=draft.revision)
        builder.publish_draft(platform, session, gas, inline_theme)
        assert themes.get_theme(platform, inline_theme, session).workflow_key == "standard"
        running = workflows.get_workflow(platform, case.workflow_key, session)
        assert running.key == "gas.leaks" and running.transitions["accept"].roles == {"leader"}
        assert session.scalar(select(Case.workflow_key).where(Case.id == case.id)) == "gas.leaks"


def test_a_finished_state_must_keep_a_name_every_list_knows(platform, staff):
    gas = staff("gas")
    with platform.db.session() as session:
        draft = builder.start_draft(platform, session, gas, department="gas", slug="leaks", title="燃气泄漏")
        workflow = builder.workflow_for_editing(draft.document, platform)
        workflow["states"]["archived"] = {"title": "已归档", "final": True}
        workflow["transitions"].append({"name": "archive", "title": "归档", "from": ["closed"], "to": "archived",
                                        "roles": ["operator"]})
        saved = builder.save_draft(platform, session, gas, "gas.leaks", builder.with_workflow(draft.document,
                                                                                               workflow), revision=1)
        assert [(p.path, p.message) for p in saved.problems] == [
            ("/workflow/states/archived", "结束状态的标识须为 closed、voided 之一（可修改其名称“已归档”）")]
