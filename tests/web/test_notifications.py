"""In-app notifications (the outbox's ``inbox`` channel): each person sees only their own — addressed to them, to
their department, or to a region they command — newest first and paged, reads them one at a time or all at once,
and every page's header counts the unread ones in one query."""
from __future__ import annotations

import re

from sqlalchemy import event, select

from minqing.core.actors import actor_for
from minqing.core.models import Account, AuditRecord, Notification
from minqing.web import notifications as notification_views
from minqing.workflows import outbox, report_case

from tests.fixtures import households
from tests.fixtures.web import INSIDE


def _account_id(platform, username: str) -> int:
    with platform.db.session() as session:
        return session.scalar(select(Account.id).where(Account.username == username))


def _notify(platform, recipient: str, subject: str, case_id: int | None = None, channel: str = "inbox") -> int:
    with platform.db.session() as session:
        row = outbox.add(session, kind="test", recipient=recipient, subject=subject, case_id=case_id, channel=channel)
        session.flush()
        return row.id


def _badge(page: str) -> str | None:
    found = re.search(r'id="notification-badge">([^<]*)<', page)
    return found.group(1) if found else None


def _listed(client, **params) -> str:
    response = client.get("/notifications/", query_string=params)
    assert response.status_code == 200
    return response.get_data(as_text=True).split('id="notifications"', 1)[1]


def test_a_report_reaches_the_command_posts_above_it_and_nobody_else(platform, world, as_user):
    with platform.db.session() as session:
        worker = actor_for(session, session.scalar(select(Account).where(Account.username == "worker")))
        case = report_case(platform, session, worker, theme_key="urban_management.street_vending",
                           title="夜市占道", description="摊位占道", lon=INSIDE[0], lat=INSIDE[1], source="grid_worker")
        case_id, number = case.id, case.number
    station, centre = as_user("station"), as_user("centre")
    for client in (station, centre):   # 张掖路街道 and the city centre command the case's village
        page = client.get("/work/").get_data(as_text=True)
        assert _badge(page) == "1"
        assert f"新上报事件 {number}" in _listed(client)
    for username in ("jiuquan", "chengguan", "worker", "leader", "admin"):
        client = as_user(username)
        assert _badge(client.get("/map/").get_data(as_text=True)) is None, username
        assert number not in _listed(client), username
    opened = station.post("/notifications/read", data={"id": _first_id(platform), "open": "work.case_page"})
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/work/cases/{case_id}")
    assert _badge(station.get("/work/").get_data(as_text=True)) is None
    assert _badge(centre.get("/work/").get_data(as_text=True)) == "1"   # each reads for themselves


def _first_id(platform) -> int:
    with platform.db.session() as session:
        return session.scalar(select(Notification.id).order_by(Notification.id))


def test_read_one_read_all_and_only_ones_own(platform, world, as_user):
    staff = _account_id(platform, "chengguan")
    ids = [_notify(platform, "department:urban_management", f"新交办事件 第{n}件") for n in range(3)]
    own = _notify(platform, f"account:{staff}", "给您本人的通知")
    others = _notify(platform, "department:water_affairs", "水务的通知")
    _notify(platform, "department:urban_management", "短信，不在站内", channel="sms")
    client = as_user("chengguan")
    page = _listed(client)
    assert page.index("给您本人的通知") < page.index("第2件") < page.index("第0件")   # newest first
    assert "水务的通知" not in page and "短信" not in page
    assert _badge(client.get("/work/").get_data(as_text=True)) == "4"
    assert client.post("/notifications/read", data={"id": ids[1]}).status_code == 302
    assert client.post("/notifications/read", data={"id": ids[1]}).status_code == 302   # twice: no second row
    assert _badge(client.get("/work/").get_data(as_text=True)) == "3"
    unread = _listed(client, unread=1)
    assert "第1件" not in unread and "第0件" in unread
    assert client.post("/notifications/read", data={"id": others}).status_code == 404    # another department's
    assert client.post("/notifications/read", data={"id": 999_999}).status_code == 404
    assert client.post("/notifications/read-all").status_code == 302
    assert _badge(client.get("/work/").get_data(as_text=True)) is None
    assert "未读" not in _listed(client).split("暂无通知")[0].replace("只看未读", "")
    newer = _notify(platform, f"account:{staff}", "之后的新通知")
    assert _badge(client.get("/work/").get_data(as_text=True)) == "1"
    assert f'id="notification-{newer}"' in _listed(client, unread=1)
    with platform.db.session() as session:
        actions = session.scalars(select(AuditRecord.action).where(AuditRecord.action.like("notification.%"))
                                  .order_by(AuditRecord.id)).all()
    assert actions == ["notification.read", "notification.read_all"]
    assert own   # (the account's own notification was among those read)


def test_the_citizen_sees_their_own_in_the_citizen_end_and_opens_the_case_there(platform, world, as_user):
    citizen = _account_id(platform, "citizen")
    _notify(platform, f"account:{citizen}", "您反映的事件已办结", case_id=None)
    _notify(platform, f"account:{_account_id(platform, 'worker')}", "别人的通知")
    client = as_user("citizen")
    assert _badge(client.get("/citizen/").get_data(as_text=True)) == "1"
    page = _listed(client)
    assert "您反映的事件已办结" in page and "别人的通知" not in page


def test_the_badge_costs_one_query_however_many_notifications(platform, world, as_user, monkeypatch):
    client = as_user("chengguan")
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    def page_queries() -> int:
        statements.clear()
        event.listen(platform.db.engine, "before_cursor_execute", count)
        try:
            assert client.get("/work/").status_code == 200
        finally:
            event.remove(platform.db.engine, "before_cursor_execute", count)
        return len([s for s in statements if "notifications" in s])

    _notify(platform, "department:urban_management", "一条")
    one = page_queries()
    for n in range(30):
        _notify(platform, "department:urban_management", f"第{n}条")
    assert page_queries() == one == 1
    monkeypatch.setattr(notification_views, "BADGE_CAP", 9)
    assert _badge(client.get("/work/").get_data(as_text=True)) == "9+"


def test_paged(platform, world, as_user):
    for n in range(notification_views.PAGE_SIZE + 2):
        _notify(platform, "region:620102001001", f"区域通知{n:02d}")
    client = as_user("station")
    first, second = _listed(client), _listed(client, page=2)
    assert f"区域通知{notification_views.PAGE_SIZE + 1:02d}" in first and "区域通知00" not in first
    assert "区域通知00" in second and "下一页" in first


def test_the_link_shows_only_to_those_the_page_admits(platform, world, as_user, password_hash):
    """A cadre or an auditor gets no notifications: no 通知 link in their header (the page would answer 403)."""
    households.build(platform, world, password_hash)
    for username in ("cun", "auditor"):
        client = as_user(username)
        assert 'id="notification-link"' not in client.get("/", follow_redirects=True).get_data(as_text=True), username
        assert client.get("/notifications/").status_code == 403, username
    for username in ("worker", "citizen", "leader"):
        client = as_user(username)
        assert 'id="notification-link"' in client.get("/", follow_redirects=True).get_data(as_text=True), username
        assert client.get("/notifications/").status_code == 200, username


def test_no_form_inside_a_paragraph(platform, world, as_user):
    """A <p> cannot hold a <form> (the browser closes the paragraph before it): the page's rows are <div>s."""
    _notify(platform, "department:urban_management", "一条通知", case_id=None)
    page = as_user("chengguan").get("/notifications/").get_data(as_text=True)
    main = page.split("<main>", 1)[1]
    assert 'id="read-all"' in main
    assert re.search(r"<p\b[^>]*>(?:(?!</p>).)*<form\b", main, re.S) is None
