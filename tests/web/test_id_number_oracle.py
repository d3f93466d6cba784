"""Finding 2 of the outside probe (issue 21): a resident's masked ID number shows every digit but the eight of the
birth date; with the resident's age from GET /api/v1/residents/<id> only a year of birth dates remains, and the
exact-number search `?id_number=` confirmed the right one — resident 1's whole number in 15 requests, no audit
record. These tests play that attack and show each of its legs is gone: no age (or other birth detail) for whom
may not reveal the number, every search by number audited, and searches limited per account."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from minqing.core.accounts import apikeys
from minqing.core.privacy import idcard
from minqing.core.actors import system_actor
from minqing.core.models import Account, AuditRecord, Grid, RoleGrant
from minqing.web import create_app

from tests.fixtures import trust_world as tw

SEARCH = "personal_data.id_search"


@pytest.fixture
def world(platform):
    return tw.build(platform, with_drafts=False)


def _app(platform, **config):
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, **config},
                      platform=platform)


def _api(app, key: str):
    client = app.test_client()
    return lambda path: client.get(path, headers={"Authorization": f"Bearer {key}"})


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def rebuild(get, resident_id: int) -> tuple[str | None, int]:
    """The probe: the masked number and the age from the resident's record, then a search for every number that
    the age leaves possible (each birth date of that year of life, with a valid check digit) until one is found.
    Returns the number found (None) and how many searches were made."""
    person = get(f"/api/v1/residents/{resident_id}").get_json()
    masked, age = person["id_number"], person["age"]
    if age is None:
        return None, 0
    today = dt.date.today()
    day, last = _years_before(today, age + 1) + dt.timedelta(days=1), _years_before(today, age)
    candidates = []
    while day <= last:
        number = masked[:6] + f"{day:%Y%m%d}" + masked[-4:]
        if idcard.is_valid(number):
            candidates.append(number)
        day += dt.timedelta(days=1)
    for searches, number in enumerate(candidates, 1):
        answer = get(f"/api/v1/residents?id_number={number}")
        if answer.status_code != 200:
            return None, searches
        if answer.get_json()["total"]:
            return number, searches
    return None, len(candidates)


def _searches(platform) -> list[AuditRecord]:
    with platform.db.session() as session:
        return session.scalars(select(AuditRecord).where(AuditRecord.action == SEARCH).order_by(AuditRecord.id)).all()


@pytest.mark.parametrize("account", ["leader", "admin"])
def test_the_probe_no_longer_rebuilds_the_number(platform, world, account):
    """Roles that see resident A but may not reveal its number get no age anywhere, so the attack has nothing to
    narrow the birth date with (and the masked number keeps all eight digits of it hidden)."""
    get = _api(_app(platform), world.keys[account])
    found, searches = rebuild(get, world.a["resident"])
    assert (found, searches) == (None, 0)
    shown = [get(f"/api/v1/residents/{world.a['resident']}").get_json(),
             *get("/api/v1/residents?per_page=100").get_json()["items"],
             *get(f"/api/v1/residents?id_number={tw.CANARY_ID}").get_json()["items"],
             get(f"/api/v1/key-persons/{world.a['key_person']}").get_json()["resident"],
             *[item["resident"] for item in get("/api/v1/key-persons?per_page=100").get_json()["items"]]]
    assert len(shown) >= 5 and {person["age"] for person in shown} == {None}
    birth_digits = tw.CANARY_BIRTH_DIGITS
    assert all(birth_digits not in str(person) and "birth" not in str(person) for person in shown)


def test_whoever_may_reveal_the_number_keeps_the_age_within_that_scope(platform, world):
    """A grid worker sees the age of the residents of their grid (they could reveal the number anyway, audited).
    An account that is a leader of 城关区 and a grid worker of 西园 sees resident A as a leader — no age — and
    resident B as a grid worker — with the age."""
    with platform.db.session() as session:
        leader = session.scalar(select(Account).where(Account.username == "leader"))
        grid_b = session.scalar(select(Grid.id).where(Grid.code == "G620103001"))
        leader.grants.append(RoleGrant(role="grid_worker", grid_id=grid_b))
        session.commit()
    app = _app(platform)
    worker, leader = _api(app, world.keys["worker"]), _api(app, world.keys["leader"])
    age_a = dt.date.today().year - tw.BIRTH.year - ((dt.date.today().month, dt.date.today().day)
                                                    < (tw.BIRTH.month, tw.BIRTH.day))
    assert worker(f"/api/v1/residents/{world.a['resident']}").get_json()["age"] == age_a
    assert worker(f"/api/v1/key-persons/{world.a['key_person']}").get_json()["resident"]["age"] == age_a
    ages = {item["id"]: item["age"] for item in leader("/api/v1/residents?per_page=100").get_json()["items"]}
    assert ages[world.a["resident"]] is None and isinstance(ages[world.b["resident"]], int)


def test_every_search_by_number_is_audited_without_the_number(platform, world):
    get = _api(_app(platform), world.keys["leader"])
    miss = idcard.make("620102", dt.date(1937, 8, 30), 517)
    assert get(f"/api/v1/residents?id_number={tw.CANARY_ID}").get_json()["total"] == 1
    assert get(f"/api/v1/residents?id_number={miss}").get_json()["total"] == 0
    assert get(f"/api/v1/key-persons?id_number={tw.CANARY_ID}").get_json()["total"] == 1
    assert get(f"/api/v1/residents?id_number={tw.OTHER_ID}").get_json()["total"] == 0  # out of scope: a miss
    assert get("/api/v1/residents").status_code == 200  # a list without a number is no search
    records = _searches(platform)
    assert [(r.actor_name, r.origin, r.object_type, r.details["found"]) for r in records] == [
        ("leader", "127.0.0.1", "resident", 1), ("leader", "127.0.0.1", "resident", 0),
        ("leader", "127.0.0.1", "key_person", 1), ("leader", "127.0.0.1", "resident", 0)]
    assert records[0].object_id == str(world.a["resident"])
    assert records[0].details["id_number"] == tw.CANARY_ID[:6] + "********" + tw.CANARY_ID[-4:]
    for record in records:
        text = f"{record.summary} {record.details} {record.object_id}"
        assert all(number not in text and number[6:14] not in text for number in (tw.CANARY_ID, miss, tw.OTHER_ID))


def test_searches_by_number_are_limited_per_account_across_keys_and_kinds(platform, world):
    with platform.db.session() as session:
        second_key = apikeys.create(session, system_actor("test"), "leader", "second key")[1]
        session.commit()
    app = _app(platform, RATELIMIT_ENABLED=True, RATELIMIT_ID_SEARCH="3 per minute")
    first, second = _api(app, world.keys["leader"]), _api(app, second_key)
    assert first(f"/api/v1/residents?id_number={tw.CANARY_ID}").status_code == 200
    assert second(f"/api/v1/residents?id_number={tw.OTHER_ID}").status_code == 200
    assert first(f"/api/v1/key-persons?id_number={tw.CANARY_ID}").status_code == 200
    for get, path in ((second, "residents"), (first, "key-persons")):
        refused = get(f"/api/v1/{path}?id_number={tw.CANARY_ID}")
        assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
        assert "频繁" in refused.get_data(as_text=True)
    assert len(_searches(platform)) == 3  # a refused search finds nothing and records nothing
    assert first("/api/v1/residents").status_code == 200  # listing is not searching
    worker = _api(app, world.keys["worker"])  # another account: its own budget
    assert [worker(f"/api/v1/residents?id_number={tw.CANARY_ID}").status_code for _ in range(4)] == [200] * 3 + [429]
    assert len(_searches(platform)) == 6
