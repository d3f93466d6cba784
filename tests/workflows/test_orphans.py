"""Cases whose theme's plugin is gone: listed, then moved to another theme or closed with a reason (never left
without a way out), on the command line as an administrator would."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from minqing.core.actors import actor_for, system_actor
from minqing.core.cli import build_cli
from minqing.core.models import Account, AuditRecord, Case, CaseEvent, CaseMilestone
from minqing.workflows import orphans, report_case, transition

from tests.fixtures.web import INSIDE

VENDING, HOTLINE = "urban_management.street_vending", "hotline.general_appeals"


def actor(session, username: str):
    return actor_for(session, session.scalar(select(Account).where(Account.username == username)))


@pytest.fixture
def orphaned_cases(platform, world):
    """Two open street-vending cases (one accepted), then the 城管 plugin is disabled."""
    ids = []
    with platform.db.session() as session:
        for title in ("夜市占道", "早市占道"):
            case = report_case(platform, session, actor(session, "worker"), theme_key=VENDING, title=title,
                               description=title, lon=INSIDE[0], lat=INSIDE[1], source="grid_worker")
            ids.append(case.id)
    with platform.db.session() as session:
        transition(platform, session, session.get(Case, ids[0]), "accept", actor(session, "station"),
                   {"comment": "受理"})
    with platform.db.session() as session:
        platform.plugins.set_enabled("dept_urban_management", False, session=session, actor=system_actor("test"))
    return ids


def test_the_gone_theme_is_listed_with_its_open_cases(platform, orphaned_cases):
    with platform.db.session() as session:
        found = orphans.orphaned(platform, session)
    assert [(item.theme_key, item.open_cases) for item in found] == [(VENDING, 2)]
    assert sum(found[0].statuses.values()) == 2


def test_moving_keeps_each_case_where_it_stopped_and_records_why(platform, orphaned_cases):
    with platform.db.session() as session:
        before = {case.id: case.status for case in session.scalars(select(Case))}
        moved = orphans.move_cases(platform, session, system_actor("admin"), VENDING, HOTLINE, "城管插件已卸载")
    assert moved == 2
    with platform.db.session() as session:
        for case_id in orphaned_cases:
            case = session.get(Case, case_id)
            assert case.theme_key == HOTLINE and case.status == before[case_id]
            line = session.scalar(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                          CaseEvent.action == "move_theme"))
            assert line.comment == "城管插件已卸载" and line.data == {"from_theme": VENDING, "to_theme": HOTLINE}
        assert session.scalar(select(AuditRecord).where(AuditRecord.action == "case.move_theme")) is not None
        assert orphans.orphaned(platform, session) == []
        # handling goes on: the accepted case takes its next step in the new theme
        transition(platform, session, session.get(Case, orphaned_cases[0]), "dispatch", actor(session, "station"),
                   {"department": "urban_management", "comment": "交城管"})


def test_closing_voids_the_open_cases_with_the_reason(platform, orphaned_cases):
    with platform.db.session() as session:
        closed = orphans.close_cases(platform, session, system_actor("admin"), VENDING, "部门撤销，事件作废")
    assert closed == 2
    with platform.db.session() as session:
        for case_id in orphaned_cases:
            assert session.get(Case, case_id).status == "voided"
            assert session.get(CaseMilestone, case_id).voided
            assert session.scalar(select(CaseEvent.comment).where(CaseEvent.case_id == case_id,
                                                                  CaseEvent.action == "close_orphaned")) \
                == "部门撤销，事件作废"


@pytest.mark.parametrize("call, says", [
    (lambda p, s: orphans.move_cases(p, s, system_actor("a"), VENDING, "no.such_theme", "原因"), "没有名为"),
    (lambda p, s: orphans.move_cases(p, s, system_actor("a"), VENDING, HOTLINE, "  "), "请填写原因"),
    (lambda p, s: orphans.close_cases(p, s, system_actor("a"), HOTLINE, "原因"), "仍在使用"),
])
def test_refusals_change_nothing(platform, orphaned_cases, call, says):
    with platform.db.session() as session:
        with pytest.raises(orphans.OrphanRefused, match=says):
            call(platform, session)
    with platform.db.session() as session:
        assert {case.theme_key for case in session.scalars(select(Case))} == {VENDING}


def test_the_command_line_lists_moves_and_closes(platform, orphaned_cases, database_url):
    runner = CliRunner()
    listed = runner.invoke(build_cli(), ["--db", database_url, "themes", "orphans", "--json"])
    assert listed.exit_code == 0 and json.loads(listed.output)[0]["theme"] == VENDING
    refused = runner.invoke(build_cli(), ["--db", database_url, "themes", "close-cases", HOTLINE, "--reason", "x"])
    assert refused.exit_code != 0 and "仍在使用" in refused.output
    closed = runner.invoke(build_cli(), ["--db", database_url, "themes", "close-cases", VENDING,
                                         "--reason", "部门撤销"], catch_exceptions=False)
    assert closed.exit_code == 0 and "2 件" in closed.output, closed.output
    assert "没有失去业务主题" in runner.invoke(build_cli(), ["--db", database_url, "themes", "orphans"]).output
