"""The first admin's set-up of the city (web/setup.py), and pages that follow the city's time zone setting: a city
at UTC+5:30 counts its days and shows its times at +5:30, not at the +8 the code once assumed."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

from minqing.core import city
from minqing.core.actors import system_actor
from minqing.core.models import AuditRecord, Case, Region, Setting
from minqing.web.manage import figures

from tests.fixtures.city import add_accounts, build_places
from tests.fixtures.web import GRIDS, REGIONS, login

LANZHOU = "620100000000"


def no_city(platform, password_hash):
    """The web test city's regions, grids and two accounts — but no city settings (`minqing init` never ran)."""
    with platform.db.session() as session:
        places = build_places(session, REGIONS, GRIDS, urban=True)
        add_accounts(session, {"admin": ("admin", None), "worker": ("grid_worker", "G620102001001001")}, places,
                     password_hash=password_hash)


def signed_in(app, username):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def test_an_admin_signing_in_without_a_city_is_sent_to_set_it_up(app, platform, password_hash):
    no_city(platform, password_hash)
    admin = signed_in(app, "admin")
    assert admin.get("/").location.endswith("/setup/city")
    page = admin.get("/setup/city").get_data(as_text=True)
    assert "数据库中还没有城市设置" in page
    assert 'value="620100000000"' in page and 'value="兰州市"' in page   # offered from the top region

    refused = admin.post("/setup/city", data={"city_code": "620100", "name": "兰州市", "timezone": "Europe/Berlin",
                                              "centre": "", "zoom": "9"})
    assert refused.status_code == 400
    assert "实行夏令时" in refused.get_data(as_text=True)
    with platform.db.session() as session:
        assert session.get(Setting, city.SETTING) is None
        assert session.scalar(select(func.count()).where(AuditRecord.action.like("city.%"))) == 0

    saved = admin.post("/setup/city", data={"city_code": "620100", "name": "兰州市", "timezone": "Asia/Urumqi",
                                            "centre": "103.70,36.10", "zoom": "11"})
    assert saved.status_code == 302
    with platform.db.session() as session:
        assert city.settings(session) == city.City(code=LANZHOU, name="兰州市", timezone="Asia/Urumqi",
                                                   centre=(103.7, 36.1), zoom=11)
        assert session.scalar(select(func.count()).select_from(Region)) == len(REGIONS)   # the root was checked
    assert admin.get("/").location.endswith("/work/")    # set up: the admin goes to work as usual
    page = admin.get("/map/").get_data(as_text=True)
    assert 'data-centre="103.7,36.1" data-zoom="11"' in page


def test_changing_the_stored_city_needs_the_update_box(app, platform, password_hash):
    no_city(platform, password_hash)
    with platform.db.session() as session:
        city.initialise(session, system_actor("test"), code=LANZHOU, name="兰州市")
    admin = signed_in(app, "admin")
    form = {"city_code": LANZHOU, "name": "兰州市", "timezone": "Asia/Kolkata", "centre": "", "zoom": "9"}
    refused = admin.post("/setup/city", data=form)
    assert refused.status_code == 400 and "确需修改请加 --update（网页设置中勾选“修改”）" in refused.get_data(as_text=True)
    assert admin.post("/setup/city", data={**form, "update": "yes"}).status_code == 302
    with platform.db.session() as session:
        assert city.settings(session).timezone == "Asia/Kolkata"


def test_only_admins_set_up_the_city(app, platform, password_hash):
    no_city(platform, password_hash)
    worker = signed_in(app, "worker")
    assert worker.get("/").location.endswith("/work/my-grid")    # not sent to a page they may not open
    assert worker.get("/setup/city").status_code == 403
    assert worker.post("/setup/city", data={"city_code": LANZHOU, "name": "兰州市"}).status_code == 403


def add_case(platform, world, created_at: dt.datetime) -> None:
    with platform.db.session() as session:
        session.add(Case(theme_key="urban_management.street_vending", category="市容环境", subcategory="1001",
                         title="占道", source="grid_worker", status="reported",
                         grid_id=world.grids["G620102001001001"], region_code="620102001001",
                         created_at=created_at, due_at=created_at))


def test_a_city_at_another_fixed_offset_counts_its_own_days_and_shows_its_own_times(platform, world, as_user):
    with platform.db.session() as session:   # the world was initialised at the default zone, UTC+8
        city.initialise(session, system_actor("test"), code=LANZHOU, name="兰州市", timezone="Asia/Kolkata",
                        update=True)
    # 23:30 and 00:15 in Kolkata (UTC+5:30) fall on two days; at UTC+8 both are on the 20th (02:00, 02:45)
    add_case(platform, world, dt.datetime(2026, 5, 19, 18, 0, tzinfo=dt.UTC))
    add_case(platform, world, dt.datetime(2026, 5, 19, 18, 45, tzinfo=dt.UTC))
    # and 18:20 UTC on the 18th is 23:50 on the 18th in Kolkata: before the first day counted
    add_case(platform, world, dt.datetime(2026, 5, 18, 18, 20, tzinfo=dt.UTC))
    with platform.db.session() as session:
        labels, reported, _closed = figures.daily_trend(session, system_actor("test"), days=2,
                                                        today=dt.date(2026, 5, 20))
        assert (labels, reported) == (["05-19", "05-20"], [1, 1])
        assert city.today(session, dt.datetime(2026, 5, 19, 18, 0, tzinfo=dt.UTC)) == dt.date(2026, 5, 19)
        change = session.scalar(select(AuditRecord).where(AuditRecord.action == "city.update"))
        expected = change.at.replace(tzinfo=dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=5, minutes=30)))

    page = as_user("auditor").get("/audit/").get_data(as_text=True)
    row = re.search(rf'<tr id="audit-{change.id}">.*?</tr>', page, re.S).group(0)
    assert f"<td>{expected:%Y-%m-%d %H:%M}</td>" in row


def test_the_trend_counts_the_city_days_as_dates_not_text(platform, world):
    """The dashboard's 30-day trend groups a month of cases by the city's date; on PostgreSQL as a date (a cast),
    not a text formatted per case (`to_char`: twice the time at a city's volume). The days are the city's."""
    from tests.fixtures.statements import counting

    add_case(platform, world, dt.datetime(2026, 5, 19, 15, 59, tzinfo=dt.UTC))   # 23:59 on the 19th at UTC+8
    add_case(platform, world, dt.datetime(2026, 5, 19, 16, 0, tzinfo=dt.UTC))    # 00:00 on the 20th
    add_case(platform, world, dt.datetime(2026, 5, 20, 15, 59, tzinfo=dt.UTC))   # 23:59 on the 20th
    add_case(platform, world, dt.datetime(2026, 5, 18, 15, 59, tzinfo=dt.UTC))   # the 18th: before the days shown
    with platform.db.session() as session, counting(platform.db.engine) as statements:
        labels, reported, closed = figures.daily_trend(session, system_actor("test"), days=2,
                                                       today=dt.date(2026, 5, 20))
    assert (labels, reported, closed) == (["05-19", "05-20"], [1, 2], [0, 0])
    assert not any("to_char" in statement for statement in statements), statements


def test_a_refused_tile_url_is_shown_back_and_otherwise_the_stored_one(app, platform, password_hash):
    no_city(platform, password_hash)
    with platform.db.session() as session:
        city.initialise(session, system_actor("test"), code=LANZHOU, name="兰州市")
    admin = signed_in(app, "admin")
    stored = "https://tiles.lanzhou.example/{z}/{x}/{y}.png"
    assert admin.post("/setup/map-tiles", data={"tile_url": stored}).status_code == 302
    assert f'name="tile_url" value="{stored}"' in admin.get("/setup/city").get_data(as_text=True)
    refused = admin.post("/setup/map-tiles", data={"tile_url": "ftp://tiles.example.cn/{z}/{x}.png"})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert 'name="tile_url" value="ftp://tiles.example.cn/{z}/{x}.png"' in page and stored not in page
    # the city form refused: the tile field shows what is stored
    city_refused = admin.post("/setup/city", data={"city_code": LANZHOU, "name": "兰州市", "timezone": "Asia/Kolkata",
                                                   "centre": "", "zoom": "9"})
    assert city_refused.status_code == 400
    assert f'name="tile_url" value="{stored}"' in city_refused.get_data(as_text=True)
