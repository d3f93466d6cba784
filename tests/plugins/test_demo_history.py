"""The demo's cases (plugins/demo_history, issue #22): report texts that fit the theme they are filed under, live
cases routed only to departments someone can sign in for, and a past year of closed cases large enough that
the dispatch suggestion beats the keyword rule on the demo's own history."""
from __future__ import annotations

import random

import pytest
from sqlalchemy import func, select

from minqing import themes
from minqing.core.actors import system_actor
from minqing.core.models import Account, Case, CaseEvent, Department, Role, RoleGrant
from minqing.core.models.cohandling import CoHandlingTask
from minqing.plugins import demo_history
from minqing.plugins.demo_history import duplicates, history as demo_past
from minqing.plugins.demo_history.texts import PHRASES, report_text
from minqing.workflows.dispatch import catalogue, evaluation, history


@pytest.fixture
def registry(platform):
    with platform.db.session() as session:
        return [theme for theme in themes.registry(platform, session).themes.values() if theme.categories]


def test_every_category_has_its_own_phrasings_and_no_report_names_another_themes_category(registry):
    titles = {(theme.key, category["title"]) for theme in registry for category in theme.categories}
    rng = random.Random(3)
    for theme in registry:
        for category in theme.categories:
            assert PHRASES.get(category["title"]), category["title"]
            for _ in range(12):
                title, text = report_text(rng, theme.title, category["title"])
                foreign = [other for key, other in titles if key != theme.key and len(other) > 2
                           and other not in category["title"] and other in title + text]
                assert not foreign, (theme.title, category["title"], title, text)
                assert "（" not in text.split("，")[0]      # 河湖巡查问题, not 河湖巡查（河长制）问题


def test_the_duplicate_groups_are_filed_under_fitting_categories(registry):
    fitting = {"5304": ("井盖",), "1004": ("杂物", "乱堆"), "1002": ("饭馆", "桌")}
    for code, title, text, *_ in duplicates.GROUPS:
        theme, category = duplicates.category_of(registry, code)
        assert theme.key.split(".")[0] in ("water_supply", "urban_management")
        assert any(word in title + text for word in fitting[code]), (category["title"], title)
        assert "路灯" not in title + text        # there is no street-light theme to file it under


def test_the_demo_routes_live_cases_only_to_staffed_departments_and_learns_from_its_past(platform, world,
                                                                                        monkeypatch):
    monkeypatch.setattr(demo_history, "CASES", 40)
    with platform.db.session() as session:
        demo_history.seed_demo(platform, session, 5)
    with platform.db.session() as session:
        staffed = set(session.scalars(select(RoleGrant.department_id).join(Account).where(
            RoleGrant.role == Role.DEPARTMENT_STAFF, Account.is_active.is_(True))))
        live = session.scalars(select(Case).where(Case.status.not_in(("closed", "voided")),
                                                  Case.department_id.is_not(None))).all()
        assert live
        elsewhere = [case for case in live if case.department_id not in staffed]
        # the one exception: a case another department leads, waiting for 城管's co-handling answer (协办)
        assert len(elsewhere) <= 1
        for case in elsewhere:
            waiting_for = session.scalars(select(CoHandlingTask.department_id).where(
                CoHandlingTask.case_id == case.id, CoHandlingTask.status == "open")).all()
            assert waiting_for and set(waiting_for) <= staffed
        past = session.scalar(select(func.count()).select_from(Case).where(Case.client_id.like("demo-history-%")))
        assert past == demo_past.CASES
        first = session.scalar(select(Case).where(Case.client_id.like("demo-history-%")).limit(1))
        assert first.status == "closed" and first.closed_at and first.department_id
        assert [event.action for event in first.events] == ["report", "accept", "dispatch", "take", "feedback",
                                                            "confirm"]
        dispatched = session.scalar(select(CaseEvent).where(CaseEvent.case_id == first.id,
                                                             CaseEvent.action == "dispatch"))
        key = session.scalar(select(Department.key).where(Department.id == first.department_id))
        assert dispatched.data["department"] == key
        titles = {code: category.title for code, category in catalogue.categories(platform, session).items()}
        result = evaluation.evaluate(history.samples(session), titles)
    assert result.train + result.test >= demo_past.CASES
    assert result.model_top1 > result.keyword_top1 and result.model_top1 > 0.8


def test_the_history_is_one_audit_record(platform, world, registry):
    from minqing.core.models import AuditRecord

    import datetime as dt

    with platform.db.session() as session:
        made = demo_past.seed_history(platform, session, system_actor("demo"), registry, 1,
                                      dt.datetime(2026, 6, 1, tzinfo=dt.UTC), count=50)
    with platform.db.session() as session:
        assert made == 50
        [record] = session.scalars(select(AuditRecord).where(AuditRecord.action == "demo.history")).all()
        assert "50" in record.summary
