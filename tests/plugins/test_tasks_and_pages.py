"""(b) Periodic tasks (idempotent) and the extra page, through the plugin host."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from minqing.core.models import Case, Notification, Region
from minqing.plugins import visit_reminders
from minqing.web import create_app

from tests.fixtures.city import Places, add_accounts
from tests.fixtures.web import login

TODAY = visit_reminders.today()


def task(platform, name):
    tasks = {item["name"]: item for _, item in platform.plugins.collect("periodic_tasks")}
    assert tasks[name]["every"] > 0
    return tasks[name]["run"]


def notifications(session, kind):
    session.expire_all()
    return session.scalars(select(Notification).where(Notification.kind == kind).order_by(Notification.id)).all()


def test_overdue_visits_to_elderly_people_living_alone_are_flagged_once(platform, session, city, add_key_person):
    overdue = add_key_person("张桂兰", "独居老人", due=TODAY - dt.timedelta(days=3))
    add_key_person("王秀英", "独居老人", due=TODAY + dt.timedelta(days=2), grid="G620103001")
    add_key_person("李建国", "社区矫正对象", due=TODAY - dt.timedelta(days=3))
    run = task(platform, "civil_affairs.elderly_visit_overdue")

    assert run(platform) == 1
    assert run(platform) == 0  # idempotent: a second run (or a second worker) adds nothing
    rows = notifications(session, "civil_affairs.elderly_visit_overdue")
    assert len(rows) == 1
    assert rows[0].recipient == f"region:{city.regions['南关社区']}"
    assert "张桂兰" in rows[0].subject and rows[0].data["object_id"] == overdue and rows[0].status == "pending"


def test_a_new_due_date_gives_a_new_reminder(platform, session, city, add_key_person):
    from minqing.core.models import KeyPerson

    person = add_key_person("张桂兰", "独居老人", due=TODAY - dt.timedelta(days=1))
    run = task(platform, "civil_affairs.elderly_visit_overdue")
    assert run(platform) == 1
    with platform.db.session() as writer:  # visited, but the next visit is overdue again
        writer.get(KeyPerson, person).next_visit_due = TODAY - dt.timedelta(days=2)
    assert run(platform) == 1
    assert len(notifications(session, "civil_affairs.elderly_visit_overdue")) == 2


def test_river_patrol_reminders_reach_the_section_station_once(platform, session, city, add_key_place):
    add_key_place("黄河南关段", "河道水库", "water_affairs", TODAY)
    add_key_place("雷坛河西园段", "河道水库", "water_affairs", TODAY + dt.timedelta(days=3), grid="G620103001")
    add_key_place("南关加油站", "加油加气站", "emergency", TODAY)
    run = task(platform, "water_affairs.river_patrol_due")
    assert run(platform) == 1
    assert run(platform) == 0
    rows = notifications(session, "water_affairs.river_patrol_due")
    assert [row.subject.split("（")[0] for row in rows] == ["巡河提醒：黄河南关段"]


def test_warnings_page_lists_relayed_warnings_most_severe_first(platform, city, password_hash):
    with platform.db.session() as writer:
        for region, level, households in (("南关社区", "橙色", 120), ("西园街道", "橙色", 80), ("南关社区", "黄色", 30)):
            writer.add(Case(theme_key="meteorology.warning_relay", title="预警传递", source="grid_worker",
                            status="closed", region_code=city.regions[region],
                            form_data={"warning_type": "冰雹" if level == "橙色" else "大风", "warning_level": level,
                                       "issued_at": "2026-06-01T14:30:00+08:00", "households_notified": households,
                                       "relay_ways": ["微信群"]}))
        places = Places(regions=dict(writer.execute(select(Region.code, Region.id)).all()), grids=city.grids)
        add_accounts(writer, {"centre": ("operator", "620100000000"), "township": ("operator", "620102001000"),
                              "resident": ("citizen", None)}, places, password_hash=password_hash)
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, platform=platform)
    assert app.test_client().get("/meteorology/warnings").location.startswith("/login")
    page = signed_in(app, "centre").get("/meteorology/warnings")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<title>气象预警发布与传递 · 小兰善治</title>" in html and '<header class="top">' in html  # the site's layout
    assert html.index("冰雹预警") < html.index("大风预警")
    assert "<td>200</td>" in html and "<td>2</td>" in html  # 2 villages told 200 households of the hail warning
    assert "2026-06-01 14:30" in html
    assert "<style" not in html and "style=" not in html  # the site's CSP allows no inline styles
    township = signed_in(app, "township").get("/meteorology/warnings").get_data(as_text=True)
    assert "<td>120</td>" in township and "<td>200</td>" not in township  # only its own village's relays
    assert signed_in(app, "resident").get("/meteorology/warnings").status_code == 403
    stylesheet = app.test_client().get("/meteorology/static/meteorology/warnings.css")
    assert stylesheet.status_code == 200 and b".level-orange" in stylesheet.data
    stylesheet.close()


def signed_in(app, username):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client
