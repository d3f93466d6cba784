"""A case page makes a bounded number of SQL statements for every role that can open it: a case with 30 timeline
events, attachments, merged duplicates and co-handling tasks costs the same statements as one with 3 of each.

Each role opens the page in the state it meets the case in: the command post while the case awaits 受理 and 分拨
(the dispatch suggestions shown), the department, grid worker and leader while it is handled, the citizen their own
report on 小兰帮办. The dispatch suggestion model is trained once, not again on each page view."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image
from sqlalchemy import select

from minqing import workflows
from minqing.core import attachments
from minqing.core.actors import actor_for, system_actor
from minqing.core.models import Account, Attachment, Case, Department
from minqing.core.models.cohandling import CoHandlingTask
from minqing.workflows import dispatch

from tests.fixtures.statements import counting
from tests.fixtures.web import INSIDE

THEME = "urban_management.street_vending"
SMALL, LARGE = 3, 30
# A ceiling against regressions: the dispatch suggestions look at up to k + reserve categories and ask the route of
# each, which is most of a command post's statements; none of them depends on the size of the case.
CEILING = 150
# who opens the page, at which URL, with the case brought to which step first
ROLES = {
    "station (awaiting 受理)": ("station", "/work/cases/{id}", None),
    "station (awaiting 分拨)": ("station", "/work/cases/{id}", "accept"),
    "centre (awaiting 分拨)": ("centre", "/work/cases/{id}", "accept"),
    "department": ("chengguan", "/work/cases/{id}", "take"),
    "grid worker": ("worker", "/work/cases/{id}", "take"),
    "leader": ("leader", "/work/cases/{id}", "take"),
    "citizen": ("citizen", "/citizen/cases/{id}", "take"),
}
STEPS = [("accept", "station", {}), ("dispatch", "station", {"department": "urban_management"}),
         ("take", "chengguan", {})]


def jpeg(n: int) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (16, 16), (n * 8 % 256, 120, 10)).save(output, format="JPEG")
    return output.getvalue()


def busy_case(platform, count: int, until: str | None) -> int:
    """A citizen's report of a street stall with `count` timeline events (urges), attachments, merged duplicates
    and co-handling tasks, brought up to the step `until` (None: just reported)."""
    with platform.db.session() as session:
        def actor(name):
            return actor_for(session, session.scalar(select(Account).where(Account.username == name)), "test")

        def report(title, who):
            return workflows.report_case(platform, session, who, theme_key=THEME, title=title,
                                         description="张掖路商铺门前有人占道经营摆摊卖菜", lon=INSIDE[0],
                                         lat=INSIDE[1], category="市容环境", subcategory="1001", source="citizen")

        case = report("门前摆摊", actor("citizen"))
        for n in range(count):
            attachments.store(session, actor("citizen"), jpeg(n), f"现场{n}.jpg", case_id=case.id)
            duplicate = report(f"有人摆摊{n}", system_actor("test"))
            workflows.duplicates.merge(platform, session, duplicate, case, actor("station"), reason="同一摊点")
            workflows.urge(platform, session, case, actor("centre"), f"第{n}次催办")
        if until is not None:
            for name, who, data in STEPS[:[step[0] for step in STEPS].index(until) + 1]:
                workflows.transition(platform, session, case, name, actor(who), data)
        others = session.scalars(select(Department.id).where(Department.id != case.department_id,
                                                             Department.active.is_(True))
                                 .order_by(Department.id).limit(count)).all()
        assert len(others) == count
        session.add_all(CoHandlingTask(case_id=case.id, department_id=department_id, status="open",
                                       instructions="协助处置", deadline_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
                        for department_id in others)
        return case.id




def statements_of(platform, client, url: str) -> list[str]:
    with counting(platform.db.engine) as statements:
        response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return statements


@pytest.fixture
def pages(app, world):
    app.config["RATELIMIT_ENABLED"] = False
    return app


@pytest.mark.parametrize("role", ROLES)
def test_the_statements_do_not_grow_with_the_case(platform, pages, as_user, role):
    username, url, until = ROLES[role]
    small, large = busy_case(platform, SMALL, until), busy_case(platform, LARGE, until)
    client = as_user(username)
    client.get(url.format(id=small))                       # warm: the first view may fill per-process caches
    few = statements_of(platform, client, url.format(id=small))
    many = statements_of(platform, client, url.format(id=large))
    assert len(many) == len(few), "\n".join(many)
    assert len(few) <= CEILING, "\n".join(few)


def test_the_page_shows_what_it_counts(platform, pages, as_user):
    """The counted pages are the full pages: every event, attachment, duplicate and co-handling task is there."""
    case_id = busy_case(platform, SMALL, "take")
    page = as_user("chengguan").get(f"/work/cases/{case_id}").get_data(as_text=True)
    assert all(f"第{n}次催办" in page for n in range(SMALL))
    with platform.db.session() as session:
        files = session.scalars(select(Attachment.id).where(Attachment.case_id == case_id)).all()
        numbers = [row.number for row in session.scalars(select(Case).where(Case.merged_into_id == case_id))]
        names = session.scalars(select(Department.short_name).join(
            CoHandlingTask, CoHandlingTask.department_id == Department.id).where(CoHandlingTask.case_id == case_id))
        names = list(names)
    assert len(files) == SMALL and all(file in page for file in files)
    assert len(numbers) == SMALL and all(number in page for number in numbers)
    assert all(name in page for name in names)


def test_the_suggestion_model_is_trained_once_not_per_view(platform, pages, as_user, monkeypatch):
    case_id = busy_case(platform, SMALL, "accept")
    station = as_user("station")
    assert "智能分拨" in station.get(f"/work/cases/{case_id}").get_data(as_text=True)
    with platform.db.session() as session:
        trained = dispatch.current_model(session)
    assert trained is not None

    def no_training(*_args, **_kwargs):
        raise AssertionError("the dispatch model was retrained on a page view")

    monkeypatch.setattr("minqing.workflows.dispatch.suggestions.train", no_training)
    monkeypatch.setattr("minqing.workflows.dispatch.suggestions.fit", no_training)
    for _ in range(3):
        assert station.get(f"/work/cases/{case_id}").status_code == 200
    with platform.db.session() as session:
        assert dispatch.current_model(session).version == trained.version
