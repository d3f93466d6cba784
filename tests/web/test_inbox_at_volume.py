"""The inbox at a city's volume (issue #20): its heading counts exactly up to 10,000 and says "1万+" beyond, its pages
go on as long as there are cases, and its status choices are read without a scan of every case; on a small city it
shows what it always showed."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import insert, select, update

from minqing.core import scope
from minqing.core.actors import actor_for
from minqing.core.models import Account, Case, utcnow
from minqing.web.work import inbox
from minqing.workflows import report_case

from tests.fixtures.web import INSIDE, OTHER

VIEWERS = ("admin", "leader", "station", "jiuquan", "worker", "chengguan")


def _actor(session, username: str):
    return actor_for(session, session.scalar(select(Account).where(Account.username == username)))


def _cases(platform) -> None:
    """Nine cases in 张掖路 and three in 酒泉路; two closed, one voided, one overdue."""
    with platform.db.session() as session:
        worker, other = _actor(session, "worker"), _actor(session, "other_worker")
        ids = [report_case(platform, session, worker, theme_key="urban_management.street_vending", title=f"占道{i}",
                           description="占道", lon=INSIDE[0], lat=INSIDE[1], source="grid_worker").id for i in range(9)]
        ids += [report_case(platform, session, other, theme_key="urban_management.street_vending", title=f"酒泉{i}",
                            description="占道", lon=OTHER[0], lat=OTHER[1], source="grid_worker").id for i in range(3)]
        session.flush()
        session.execute(update(Case).where(Case.id.in_(ids[:2])).values(status="closed"))
        session.execute(update(Case).where(Case.id == ids[9]).values(status="voided"))
        session.execute(update(Case).where(Case.id.in_((ids[0], ids[3]))).values(
            state_deadline_at=utcnow() - dt.timedelta(days=1)))   # overdue: the open one; the closed one is not


def _listed(client, **query) -> tuple[str, list[str], list[str]]:
    """The heading's count, every case number on every page (following 下一页), the status filter's choices."""
    page = client.get("/work/", query_string=query).get_data(as_text=True)
    heading = re.search(r"（共 (.+?) 件）", page).group(1)
    choices = re.findall(r'<option value="([a-z_]+)"[^>]*>', page.split('name="status"')[1].split("</select>")[0])
    numbers, number = [], 1
    while True:
        numbers += re.findall(r"<small>(MQ\d+) ·", page)
        if "下一页" not in page:
            return heading, numbers, choices
        number += 1
        page = client.get("/work/", query_string={**query, "page": number}).get_data(as_text=True)


def test_counts_pages_and_status_choices_are_those_of_every_case_in_scope(platform, world, as_user, monkeypatch):
    _cases(platform)
    monkeypatch.setattr(inbox, "PAGE_SIZE", 4)   # a few pages of a small city
    with platform.db.session() as session:
        for username in VIEWERS:
            viewer = _actor(session, username)
            visible = session.scalars(scope.restrict(select(Case), Case, viewer).order_by(Case.id.desc())).all()
            client = as_user(username)
            heading, numbers, choices = _listed(client)
            assert heading == str(len(visible)), username
            assert numbers == [case.number for case in visible], username
            assert choices == ["open", *sorted({case.status for case in visible})], username
            open_cases = [case for case in visible if case.status not in ("closed", "voided")]
            heading, numbers, _ = _listed(client, status="open")
            assert (heading, numbers) == (str(len(open_cases)), [case.number for case in open_cases]), username
            closed = [case.number for case in visible if case.status == "closed"]
            assert _listed(client, status="closed")[:2] == (str(len(closed)), closed), username
            overdue = [case.number for case in open_cases if case.state_deadline_at and case.state_deadline_at < utcnow()]
            assert _listed(client, overdue="1")[:2] == (str(len(overdue)), overdue), username


def test_past_ten_thousand_the_heading_says_1wan_plus_and_the_pages_go_on(platform, world, as_user):
    with platform.db.session() as session:
        template = {"theme_key": "urban_management.street_vending", "title": "历史事件", "description": "",
                    "lon": INSIDE[0], "lat": INSIDE[1], "region_code": "620102001001", "source": "grid_worker",
                    "status": "closed", "grid_id": world.grids["G620102001001001"]}
        session.execute(insert(Case), [template] * (inbox.COUNT_LIMIT + 1))
    station, jiuquan = as_user("station"), as_user("jiuquan")
    page = station.get("/work/").get_data(as_text=True)
    assert "（共 1万+ 件）" in page and "下一页" in page
    last = station.get("/work/", query_string={"page": (inbox.COUNT_LIMIT + 1 + 29) // 30}).get_data(as_text=True)
    assert len(re.findall(r"<small>MQ\d+ ·", last)) == (inbox.COUNT_LIMIT + 1) % 30 and "下一页" not in last
    assert "（共 0 件）" in jiuquan.get("/work/").get_data(as_text=True)     # 酒泉路街道 has none of them
    filtered = station.get("/work/?status=open").get_data(as_text=True)
    assert "（共 0 件）" in filtered and "没有符合条件的事件" in filtered
