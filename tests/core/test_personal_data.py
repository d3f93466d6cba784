"""Personal data: the audited reveal of one value (core, page and API), look-ups by the keyed digest of an ID
number, migration 0010 that re-keys the digests in batches, and the log scrubbing every process gets."""
from __future__ import annotations

import datetime as dt
import logging

import pytest
from alembic import command
from sqlalchemy import insert, select

from minqing.core.privacy import id_lookup, idcard, reveal
from minqing.core.actors import actor_for
from minqing.core.db import alembic_config
from minqing.core.privacy.masking import id_digest, scrub_text, text_for
from minqing.core.models import Account, AuditRecord, Resident
from minqing.core.settings import derive_lookup_key, lookup_key, secret_key
from minqing.web import create_app

from tests.fixtures import trust_world as tw


def _actor(session, username):
    return actor_for(session, session.scalar(select(Account).where(Account.username == username)), "test")


@pytest.fixture
def world(platform):
    return tw.build(platform, with_drafts=False)


def test_reveal_gives_the_value_to_the_roles_that_may_and_audits_it(platform, world):
    with platform.db.session() as session:
        worker, operator = _actor(session, "worker"), _actor(session, "operator")
        assert reveal.reveal(session, worker, "resident", world.a["resident"], "id_number") == tw.CANARY_ID
        assert reveal.reveal(session, operator, "key_person", world.a["key_person"], "phone") == tw.CANARY_PHONE
        assert reveal.reveal(session, worker, "key_person", world.a["key_person"], "address") == tw.CANARY_ADDRESS
    with platform.db.session() as session:  # audit records are written when the transaction commits
        records = session.scalars(select(AuditRecord).where(AuditRecord.action == "personal_data.reveal")
                                  .order_by(AuditRecord.id)).all()
        assert [(r.actor_name, r.object_type, r.details["field"]) for r in records] == [
            ("worker", "resident", "id_number"), ("operator", "key_person", "phone"),
            ("worker", "key_person", "address")]
        assert all(tw.CANARY_ID not in r.summary + str(r.details) for r in records)  # never the value itself


@pytest.mark.parametrize("username, object_type, side, field, status, at_fault", [
    ("worker_b", "resident", "a", "id_number", 404, "object_id"),     # another grid
    ("operator_b", "key_person", "a", "id_number", 404, "object_id"),  # another region
    ("worker", "resident", "b", "id_number", 404, "object_id"),       # a guessed id of the other side
    ("leader", "resident", "a", "id_number", 403, "field"),
    ("staff", "key_person", "a", "phone", 403, "field"),
    ("auditor", "resident", "a", "id_number", 403, "field"),
    ("admin", "resident", "a", "id_number", 403, "field"),
    ("citizen", "resident", "a", "id_number", 403, "field"),
    ("worker", "resident", "a", "birth_date", 400, "field"),
    ("worker", "household", "a", "id_number", 400, "object_type"),
])
def test_reveal_refuses_with_a_reason_and_records_nothing(platform, world, username, object_type, side, field,
                                                          status, at_fault):
    objects = world.a if side == "a" else world.b
    with platform.db.session() as session:
        with pytest.raises(reveal.RevealRefused) as refused:
            reveal.reveal(session, _actor(session, username), object_type,
                          objects.get(object_type, objects["resident"]), field)
        assert (refused.value.status, refused.value.field) == (status, at_fault)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in refused.value.message)
    with platform.db.session() as session:
        assert session.scalar(select(AuditRecord).where(AuditRecord.action == "personal_data.reveal")) is None


def test_reveal_button_is_a_csrf_protected_post_on_my_grid(platform, world):
    app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False}, platform=platform)  # CSRF on
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert client.post("/login", data={"username": "worker", "password": tw.PASSWORD,
                                       "csrf_token": token}).status_code == 302
    page = client.get("/work/my-grid").get_data(as_text=True)
    assert "查看完整身份证号" in page and tw.CANARY_ID not in page
    form = {"object_type": "key_person", "object_id": world.a["key_person"], "field": "id_number"}
    assert client.post("/work/reveal", data=form).status_code == 400            # no CSRF token
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    shown = client.post("/work/reveal", data={**form, "csrf_token": token})
    assert shown.status_code == 200 and tw.CANARY_ID in shown.get_data(as_text=True)
    assert shown.headers["Cache-Control"] == "no-store"
    other = client.post("/work/reveal", data={**form, "object_id": world.b["key_person"], "csrf_token": token})
    assert other.status_code == 404 and tw.OTHER_ID not in other.get_data(as_text=True)
    with platform.db.session() as session:
        assert session.query(AuditRecord).filter_by(action="personal_data.reveal").count() == 1


def test_reveal_through_the_api(platform, world):
    client = create_app({"TESTING": True}, platform=platform).test_client()

    def post(username, path, body):
        return client.post(f"/api/v1/{path}/reveal", json=body,
                           headers={"Authorization": f"Bearer {world.keys[username]}"})

    answer = post("operator", f"key-persons/{world.a['key_person']}", {"field": "id_number"})
    assert answer.status_code == 200 and answer.get_json()["value"] == tw.CANARY_ID
    assert post("leader", f"residents/{world.a['resident']}", {"field": "id_number"}).status_code == 403
    assert post("operator", f"residents/{world.b['resident']}", {"field": "id_number"}).status_code == 404
    bad = post("operator", f"residents/{world.a['resident']}", {"field": "salary"})
    assert bad.status_code == 400 and "field" in bad.get_json()["error"]["fields"]


def test_lookups_use_the_keyed_digest(platform, world, monkeypatch):
    with platform.db.session() as session:
        key = lookup_key(session)
        assert key == derive_lookup_key(secret_key(session)) and key != secret_key(session)
        stored = session.scalar(select(Resident.id_digest).where(Resident.id == world.a["resident"]))
        assert stored == id_digest(key, tw.CANARY_ID) and tw.CANARY_ID[6:14] not in stored
        found = session.scalars(select(Resident.id).where(id_lookup.resident_is(session, tw.CANARY_ID.lower()))).all()
        assert found == [world.a["resident"]]
        monkeypatch.setenv("MINQING_LOOKUP_KEY", "a key of the city's own")
        assert lookup_key(session) == b"a key of the city's own"
        assert session.scalar(select(Resident.id).where(id_lookup.resident_is(session, tw.CANARY_ID))) is None
        assert id_lookup.rehash(session.connection(), lookup_key(session), batch_size=1) == 2
        assert session.scalar(select(Resident.id).where(id_lookup.resident_is(session, tw.CANARY_ID))) == \
            world.a["resident"]


def test_migration_0010_rekeys_every_digest_in_batches(platform):
    numbers = [idcard.make("620102", tw.BIRTH + dt.timedelta(days=n // 1000), n)   # three batches of 1,000
               for n in range(2_500)]
    with platform.db.session() as session:
        secret = secret_key(session)
        session.execute(insert(Resident), [
            {"name": f"人{n}", "id_number": number, "id_digest": id_digest(secret, number), "gender": "male",
             "birth_date": tw.BIRTH, "region_code": "620102001001"} for n, number in enumerate(numbers)])
    config = alembic_config()
    with platform.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")  # at head already: nothing runs
        command.downgrade(config, "0009")
        command.upgrade(config, "0010")
    with platform.db.session() as session:
        key = lookup_key(session)
        digests = dict(session.execute(select(Resident.id_number, Resident.id_digest)).all())
    assert len(digests) == 2_500
    assert all(digests[number] == id_digest(key, number) for number in numbers)
    with platform.db.engine.begin() as connection:  # leave the shared database at head
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def test_free_text_and_log_records_are_masked(platform, caplog):
    text = f"住幸福巷47号楼3单元1502室，身份证 {tw.CANARY_ID}，电话 {tw.CANARY_PHONE}，共5户"
    assert scrub_text(text) == "住幸福巷*号楼*单元*室，身份证 620102********5172，电话 158****7264，共5户"
    assert text_for(None, text) == scrub_text(text)  # an anonymous view: everything masked
    with caplog.at_level(logging.INFO, logger="minqing"):
        logging.getLogger("minqing.anything").info("为 %s 办理，电话 %s", tw.CANARY_ID, tw.CANARY_PHONE)
    assert tw.CANARY_ID not in caplog.text and tw.CANARY_PHONE not in caplog.text
    assert "620102********5172" in caplog.text


def test_rehash_command_rekeys_after_the_key_changed(platform, database_url, world, monkeypatch):
    from click.testing import CliRunner

    from minqing.core.cli import build_cli

    monkeypatch.setenv("MINQING_LOOKUP_KEY", "the city's new key")
    result = CliRunner().invoke(build_cli(), ["--db", database_url, "personal-data", "rehash"])
    assert result.exit_code == 0, result.output
    assert "重算 2 名" in result.output
    with platform.db.session() as session:
        assert session.scalar(select(Resident.id).where(id_lookup.resident_is(session, tw.CANARY_ID))) == \
            world.a["resident"]
        assert session.scalar(select(Resident.id_digest).where(Resident.id == world.a["resident"])) == \
            id_digest(b"the city's new key", tw.CANARY_ID)


def test_searching_by_number_is_audited_and_birth_details_follow_the_reveal(platform, world):
    """An exact-number search confirms a guess, so `reveal.search` records each one (found or not, never the
    number); whose age a viewer may see is whose number they could reveal (`reveal.birth_visible`)."""
    people = [world.a["resident"], world.b["resident"]]
    with platform.db.session() as session:
        assert reveal.search(session, _actor(session, "leader"), "resident", tw.CANARY_ID) == [world.a["resident"]]
        assert reveal.search(session, _actor(session, "worker_b"), "key_person", tw.CANARY_ID) == []
        visible = {name: reveal.birth_visible(session, _actor(session, name), people)
                   for name in ("worker", "operator", "worker_b", "leader", "admin", "staff", "citizen")}
        session.commit()
    assert visible == {"worker": {world.a["resident"]}, "operator": {world.a["resident"]},
                       "worker_b": {world.b["resident"]}, "leader": set(), "admin": set(), "staff": set(),
                       "citizen": set()}
    with platform.db.session() as session:
        records = session.scalars(select(AuditRecord).where(AuditRecord.action == reveal.SEARCH_ACTION)
                                  .order_by(AuditRecord.id)).all()
    assert [(r.actor_name, r.object_type, r.details["found"]) for r in records] == [
        ("leader", "resident", 1), ("worker_b", "key_person", 0)]
    assert all(tw.CANARY_ID not in r.summary + str(r.details) for r in records)
