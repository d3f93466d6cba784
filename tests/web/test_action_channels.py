"""One service per action: merging duplicates, co-handling (name, answer, overrule, withdraw) and appeals (file,
decide, withdraw) answer the work end's page and the REST API the same way, since each adapter only parses its
input and hands it to the service in `minqing.workflows`. Each test sends the same bad input to the same case
through both and expects the same message, and nothing changed; the reporter's rating has one adapter (the citizen
page), and its rules are the service's.

Page refusals are flashed on the page the form redirects to; API refusals are problem details (422 with the same
message per field, 409 for the state)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from minqing import workflows
from minqing.core.actors import actor_for, system_actor
from minqing.core.models import Account, Attachment, Case, CaseEvent
from minqing.core.models.appeals import CaseAppeal
from minqing.core.models.cohandling import CoHandlingTask
from minqing.core.models.merges import CaseMerge

from tests.fixtures.api import error_of
from tests.fixtures.citizen import report
from tests.fixtures.web import INSIDE

THEME = "urban_management.street_vending"
NEAR = (INSIDE[0] + 0.0003, INSIDE[1])
LONG = "长" * 1001


@pytest.fixture
def pages(app, world):
    app.config["RATELIMIT_ENABLED"] = False
    return app


def flashed(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def count(platform, model) -> int:
    with platform.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def actor(session, username: str):
    return actor_for(session, session.scalar(select(Account).where(Account.username == username)), "test")


# -- 重复件: merge and undo ---------------------------------------------------------------------------------------

@pytest.fixture
def pair(platform, world) -> tuple[int, int]:
    with platform.db.session() as session:
        made = [workflows.report_case(platform, session, system_actor("test"), theme_key=THEME, title=title,
                                      description="张掖路商铺门前有人占道经营摆摊", lon=point[0], lat=point[1],
                                      category="市容环境", subcategory="1001", source="hotline")
                for title, point in (("门前摆摊", INSIDE), ("有人摆摊", NEAR))]
        return made[0].id, made[1].id


@pytest.mark.parametrize("reason, message", [
    (" ", "请填写合并理由（至少2个字）"),
    (LONG, "理由应为文本，最多 1000 字"),            # the page used to cut it to 1000 characters and merge
])
def test_merge_refuses_the_same_reason_on_the_page_and_the_api(platform, pages, pair, as_user, api, reason, message):
    master, duplicate = pair
    page = as_user("station").post(f"/work/cases/{master}/duplicates/merge", follow_redirects=True,
                                   data={"other_id": duplicate, "into": "this", "reason": reason})
    assert message in flashed(page)
    answer = api("station").post(f"/cases/{duplicate}/merge", {"master_id": master, "reason": reason})
    assert error_of(answer, 422, "form_invalid")["fields"] == {"reason": [message]}
    assert count(platform, CaseMerge) == 0


def test_merge_into_itself_is_refused_alike(platform, pages, pair, as_user, api):
    master, _duplicate = pair
    page = as_user("station").post(f"/work/cases/{master}/duplicates/merge", follow_redirects=True,
                                   data={"other_id": master, "into": "other", "reason": "同一摊点"})
    assert "不能把事件合并到它自己" in flashed(page)
    answer = api("station").post(f"/cases/{master}/merge", {"master_id": master, "reason": "同一摊点"})
    assert error_of(answer, 409)["message"] == "不能把事件合并到它自己"
    assert count(platform, CaseMerge) == 0


def test_undo_of_a_case_not_merged_is_refused_alike(platform, pages, pair, as_user, api):
    _master, duplicate = pair
    page = as_user("station").post(f"/work/cases/{duplicate}/duplicates/undo", follow_redirects=True,
                                   data={"reason": "误合并"})
    with platform.db.session() as session:
        expected = f"事件 {session.get(Case, duplicate).number} 未合并到其他事件，无需撤销"
    assert expected in flashed(page)
    answer = api("station").post(f"/cases/{duplicate}/unmerge", {"reason": "误合并"})
    assert error_of(answer, 409)["message"] == expected


# -- 协同处置: name, answer, overrule, withdraw --------------------------------------------------------------------

@pytest.fixture
def handling(platform, world) -> int:
    """A case 城管 is handling (accepted and dispatched by the station)."""
    with platform.db.session() as session:
        case = workflows.report_case(platform, session, actor(session, "worker"), theme_key=THEME,
                                     title="张掖路占道经营", description="流动摊贩占道", lon=INSIDE[0], lat=INSIDE[1],
                                     source="grid_worker")
        for name, who, data in (("accept", "station", {}), ("dispatch", "station", {"department": "urban_management"}),
                                ("take", "chengguan", {})):
            workflows.transition(platform, session, case, name, actor(session, who), data)
        return case.id


@pytest.mark.parametrize("form, body, field, message", [
    ({"departments": ["nobody"]}, {"departments": ["nobody"]}, "departments", "没有标识为“nobody”的在用部门"),
    ({"departments": ["urban_management"]}, {"departments": ["urban_management"]}, "departments",
     "“城管”是本事件的主办部门，不能同时协办"),
    ({"departments": ["water_affairs"], "hours": "0"}, {"departments": ["water_affairs"], "hours": 0}, "hours",
     "协办时限应为 1 至 720 个工作小时"),
    # the page used to cut the instructions to 1000 characters and name the co-handler anyway
    ({"departments": ["water_affairs"], "instructions": LONG}, {"departments": ["water_affairs"], "instructions": LONG},
     "instructions", "协办要求最多 1000 字"),
])
def test_naming_co_handlers_refuses_alike(platform, pages, handling, as_user, api, form, body, field, message):
    page = as_user("station").post(f"/work/cases/{handling}/co-handlers", data=form, follow_redirects=True)
    assert message in flashed(page)
    answer = api("station").post(f"/cases/{handling}/co-handlers", body)
    assert error_of(answer, 422, "form_invalid")["fields"] == {field: [message]}
    assert count(platform, CoHandlingTask) == 0


def test_a_co_handlers_answer_and_the_decisions_refuse_alike(platform, pages, handling, as_user, api):
    api("station").post(f"/cases/{handling}/co-handlers", {"departments": ["water_affairs"]})
    water_page = as_user("water").post(f"/work/cases/{handling}/co-handlers/feedback", follow_redirects=True,
                                       data={"result": " "})
    assert "请填写协办结果（至少 2 个字）" in flashed(water_page)
    answer = api("water").post(f"/cases/{handling}/co-handlers/feedback", {"result": " "})
    assert error_of(answer, 422)["fields"] == {"result": ["请填写协办结果（至少 2 个字）"]}
    not_theirs = api("chengguan").post(f"/cases/{handling}/co-handlers/feedback", {"result": "代为反馈"})
    page = as_user("chengguan").post(f"/work/cases/{handling}/co-handlers/feedback", follow_redirects=True,
                                     data={"result": "代为反馈"})
    assert error_of(not_theirs, 403)["message"] in flashed(page)
    photo = api("water").post(f"/cases/{handling}/co-handlers/feedback", {"result": "已排查", "photos": ["nope"]})
    assert list(error_of(photo, 422)["fields"]) == ["photos[0]"]

    for decision, title in (("overrule", "撤销协办"), ("withdraw", "撤回协办")):
        page = as_user("station").post(f"/work/cases/{handling}/co-handlers/decision", follow_redirects=True,
                                       data={"department": "water_affairs", "decision": decision, "reason": ""})
        assert f"请填写{title}理由（至少 2 个字）" in flashed(page)
        answer = api("station").post(f"/cases/{handling}/co-handlers/{decision}", {"department": "water_affairs",
                                                                                  "reason": ""})
        assert error_of(answer, 422)["fields"] == {"reason": [f"请填写{title}理由（至少 2 个字）"]}
    with platform.db.session() as session:
        assert session.scalars(select(CoHandlingTask.status)).all() == ["open"]


# -- 申诉: file, decide, withdraw ---------------------------------------------------------------------------------

@pytest.fixture
def late_case(platform, world) -> int:
    """A case of 水务 from last month, closed late (so worth appealing)."""
    start, _end = workflows.months.bounds(workflows.months.previous(workflows.months.current()))
    created = start + dt.timedelta(days=2)
    with platform.db.session() as session:
        case = Case(theme_key=THEME, category="市容环境", subcategory="1001", title="水务的事件", source="grid_worker",
                    status="closed", grid_id=world.grids["G620102001001001"], region_code="620102001001",
                    department_id=world.departments["water_affairs"], created_at=created,
                    due_at=created + dt.timedelta(days=5), closed_at=created + dt.timedelta(days=8))
        session.add(case)
        session.flush()
        return case.id


WHY = "该事件实为供水管网问题，系派遣错误导致超期"


def test_filing_an_appeal_refuses_alike(platform, pages, late_case, as_user, api):
    page = as_user("water").post(f"/work/cases/{late_case}/appeal", follow_redirects=True,
                                 data={"ground": "weather", "reason": "短"})
    fields = error_of(api("water").post(f"/cases/{late_case}/appeal", {"ground": "weather", "reason": "短"}),
                      422, "form_invalid")["fields"]
    assert set(fields) == {"ground", "reason"}
    assert all(message in flashed(page) for messages in fields.values() for message in messages)
    assert count(platform, CaseAppeal) == 0


def test_deciding_without_a_pending_appeal_is_refused_alike(platform, pages, late_case, as_user, api):
    page = as_user("station").post(f"/work/cases/{late_case}/appeal/decision", follow_redirects=True,
                                   data={"decision": "approve", "reason": "经核实同意剔除"})
    assert "该事件没有待审核的申诉" in flashed(page)
    answer = api("station").post(f"/cases/{late_case}/appeal/decision",
                                 {"decision": "approve", "reason": "经核实同意剔除"})
    assert error_of(answer, 409, "no_pending_appeal")["message"] == "该事件没有待审核的申诉"


def test_an_approved_appeal_cannot_be_withdrawn_on_either_side(platform, pages, late_case, as_user, api):
    assert api("water").post(f"/cases/{late_case}/appeal", {"ground": "dispatch_error", "reason": WHY}).status_code \
        == 201
    bad = api("station").post(f"/cases/{late_case}/appeal/decision", {"decision": "maybe", "reason": "经核实同意"})
    page = as_user("station").post(f"/work/cases/{late_case}/appeal/decision", follow_redirects=True,
                                   data={"decision": "maybe", "reason": "经核实同意"})
    assert error_of(bad, 422)["fields"]["decision"][0] in flashed(page)
    assert api("station").post(f"/cases/{late_case}/appeal/decision",
                               {"decision": "approve", "reason": "经核实确属派遣错误"}).status_code == 200
    # the page used to say "该申诉已通过，不能撤回", the API "该事件没有待审核的申诉"
    page = as_user("water").post(f"/work/cases/{late_case}/appeal/withdraw", follow_redirects=True, data={})
    assert "该事件没有待审核的申诉" in flashed(page)
    answer = api("water").post(f"/cases/{late_case}/appeal/withdraw", {})
    assert error_of(answer, 409, "no_pending_appeal")["message"] == "该事件没有待审核的申诉"
    with platform.db.session() as session:
        assert session.scalars(select(CaseAppeal.status)).all() == ["approved"]


# -- 回访评价 by the reporter ---------------------------------------------------------------------------------------

def follow_up(platform, citizen) -> int:
    """The citizen reports on their page; the case is handled by 城管 and awaits the citizen's rating."""
    report(citizen)
    with platform.db.session() as session:
        case = session.scalar(select(Case))
        photo_id = session.scalar(select(Attachment.id))       # the report's photo stands in for the handling's
        for name, who, data in (("accept", "station", {}), ("dispatch", "station", {"department": "urban_management"}),
                                ("take", "chengguan", {}),
                                ("feedback", "chengguan", {"result": "已劝离摊贩", "photos": [photo_id]})):
            workflows.transition(platform, session, case, name, actor(session, who), data)
        assert case.status == "awaiting_follow_up"
        return case.id


def test_the_rating_rules_are_the_services(platform, pages, as_citizen):
    citizen = as_citizen()
    at_follow_up = follow_up(platform, citizen)
    long = citizen.post(f"/citizen/cases/{at_follow_up}/rate", data={"rating": "5", "solved": "yes",
                                                                     "comment": "好" * 501})
    assert long.status_code == 400 and "评价意见应为文本，最多 500 字" in long.get_data(as_text=True)
    missing = citizen.post(f"/citizen/cases/{at_follow_up}/rate", data={"rating": "9"})
    text = missing.get_data(as_text=True)
    assert missing.status_code == 400 and "请选择满意度（1至5分）" in text and "请说明问题是否已解决" in text
    with platform.db.session() as session:
        case = session.get(Case, at_follow_up)
        with pytest.raises(workflows.PermissionDenied):
            workflows.rate_as_reporter(platform, session, actor(session, "station"), case, rating=5, solved=True)
        assert case.status == "awaiting_follow_up"
        assert session.scalar(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.action.in_(("confirm", "rework", "citizen_rating")))) == 0
    done = citizen.post(f"/citizen/cases/{at_follow_up}/rate", data={"rating": "5", "solved": "yes"},
                        follow_redirects=True)
    assert "感谢您的评价" in done.get_data(as_text=True)
    with platform.db.session() as session:
        assert session.get(Case, at_follow_up).status == "closed"
