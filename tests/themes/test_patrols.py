"""Patrols of theme records (巡查): the one service `themes.record_patrol` — scope, the visit form, photos, the
distance rule (flag or refuse), the audit record and the visit row in one transaction — and the patrol tasks."""
from __future__ import annotations

import datetime as dt
import math

import pytest
from sqlalchemy import func, select

from minqing import themes
from minqing.core.actors import Actor, Grant
from minqing.core.hooks import hookimpl
from minqing.core.models import Account, Attachment, AuditRecord, ThemeRecord, Visit

RIVER = "water_affairs.zz_river"
POINT = (103.01, 36.01)                       # inside the small grid G620102001001
VISIT_FORM = {"type": "object", "title": "河道巡查",
              "properties": {"summary": {"type": "string", "title": "巡查情况", "minLength": 2},
                             "water_level": {"type": "number", "title": "水位（米）", "minimum": 0}},
              "required": ["summary"]}


def worker(grid_code: str = "G620102001", account_id: int | None = None) -> Actor:
    return Actor(account_id, "网格员", (Grant("grid_worker", grid_code=grid_code),))


def metres_east(metres: float, lat: float = POINT[1]) -> float:
    return POINT[0] + metres / (111_320.0 * math.cos(math.radians(lat)))


class Refuser:
    """A department plugin's own rule on visits: a water level above 50 m is a typing error."""

    @hookimpl
    def validate_submission(self, theme_key, form_key, document, session):
        if theme_key == RIVER and form_key == "visit" and document.get("water_level", 0) > 50:
            return [("water_level", "水位（米）：超过 50 米，请核对")]
        return []


@pytest.fixture
def river(platform, system, city, theme, theme_plugin):
    """A river theme patrolled weekly, with a visit form; `river(policy=…)` sets its patrol_distance."""
    def make(**distance):
        document = theme(RIVER, patrol_every_days=7, forms={
            "record": {"type": "object", "properties": {"name": {"type": "string", "title": "河段"}},
                       "required": ["name"]},
            "report": {"type": "object", "properties": {}}, "visit": VISIT_FORM})
        if distance:
            document["patrol_distance"] = distance
        platform.plugins.register(theme_plugin(document), "water_plugin")
        platform.plugins.register(Refuser(), "refuser")
        with platform.db.session() as session:
            themes.sync_themes(platform, session, system)
            record = themes.add_record(platform, session, system, RIVER, {"name": "东岗段"}, lon=POINT[0],
                                       lat=POINT[1])
            return record.id
    return make


def _visits(platform) -> int:
    with platform.db.session() as session:
        return session.scalar(select(func.count()).select_from(Visit))


def test_a_patrol_is_a_visit_and_an_audited_mark(platform, river):
    record_id = river()
    with platform.db.session() as session:
        visit = themes.record_patrol(platform, session, worker(), record_id, {"summary": "水面清洁，无垃圾"},
                                     metres_east(50), POINT[1])
        visit_id = visit.id
    with platform.db.session() as session:
        visit = session.get(Visit, visit_id)
        record = session.get(ThemeRecord, record_id)
        assert (visit.target_kind, visit.target_id, visit.theme_key) == ("theme_record", record_id, RIVER)
        assert visit.distance_flagged is False and 45 < visit.distance_m < 55
        assert visit.form_data == {"summary": "水面清洁，无垃圾"} and visit.summary == "水面清洁，无垃圾"
        assert record.last_patrolled_at == visit.visited_at
        audit = session.scalars(select(AuditRecord).where(AuditRecord.action == "theme_record.patrol")).all()
        assert [(a.object_id, a.details["visit_id"], a.details["flagged"]) for a in audit] == [
            (str(record_id), visit_id, False)]


def test_too_far_is_flagged_by_default(platform, river):
    record_id = river()
    with platform.db.session() as session:
        visit = themes.record_patrol(platform, session, worker(), record_id, {"summary": "远处看了一眼"},
                                     metres_east(450), POINT[1])
        assert visit.distance_flagged is True and 440 < visit.distance_m < 460
    with platform.db.session() as session:
        staff = Actor(None, "水务科员", (Grant("department_staff", department_key="water_affairs",
                                              department_id=1),))
        flagged = themes.patrols.flagged_patrols(session, staff)
        assert [(item.record_id, item.record_title) for item in flagged] == [(record_id, "东岗段")]


def test_too_far_is_refused_when_the_theme_says_so(platform, river):
    record_id = river(max_m=100, policy="refuse")
    with platform.db.session() as session:
        with pytest.raises(themes.PatrolRefused) as refused:
            themes.record_patrol(platform, session, worker(), record_id, {"summary": "远处看了一眼"},
                                 metres_east(150), POINT[1])
        assert "超过本主题允许的 100 米" in refused.value.errors["location"][0]
        session.rollback()
        themes.record_patrol(platform, session, worker(), record_id, {"summary": "到现场查看"},
                             metres_east(80), POINT[1])
    assert _visits(platform) == 1


def test_distance_to_a_polygon_is_zero_inside_it(platform, system, river):
    river()
    with platform.db.session() as session:
        square = {"type": "Polygon", "coordinates": [[[103.00, 36.00], [103.02, 36.00], [103.02, 36.02],
                                                      [103.00, 36.02], [103.00, 36.00]]]}
        record = themes.add_record(platform, session, system, RIVER, {"name": "水库"}, geometry=square)
        assert themes.patrols.distance_m(record, 103.01, 36.01) == 0
        assert 1000 < themes.patrols.distance_m(record, 103.01, 36.03) < 1200   # 0.01° of latitude north


@pytest.mark.parametrize("document, lon, field, words", [
    ({}, POINT[0], "summary", "必"),                                       # the visit form's required field
    ({"summary": "好", "water_level": 2}, POINT[0], "summary", ""),          # minLength
    ({"summary": "正常", "water_level": 80}, POINT[0], "water_level", "超过 50 米"),   # the plugin's rule
    ({"summary": "正常"}, None, "location", "使用我的位置"),                   # no location
    ({"summary": "正常"}, 300.0, "location", "经度"),                         # not a place on Earth
])
def test_bad_input_is_refused_naming_the_field_and_stores_nothing(platform, river, document, lon, field, words):
    record_id = river()
    with platform.db.session() as session:
        with pytest.raises(themes.PatrolRefused) as refused:
            themes.record_patrol(platform, session, worker(), record_id, document, lon, POINT[1])
        session.rollback()
    assert field in refused.value.errors and words in "".join(refused.value.errors[field])
    assert _visits(platform) == 0
    with platform.db.session() as session:
        assert session.get(ThemeRecord, record_id).last_patrolled_at is None


def test_a_worker_cannot_patrol_outside_their_grids(platform, river):
    record_id = river()
    with platform.db.session() as session:
        for actor in (worker("G620102002"),                                     # the other township's grid
                      Actor(None, "水务科员", (Grant("department_staff", department_key="water_affairs"),))):
            with pytest.raises(themes.PatrolRefused) as refused:
                themes.record_patrol(platform, session, actor, record_id, {"summary": "正常"}, *POINT)
            assert "record" in refused.value.errors
    assert _visits(platform) == 0


def test_photos_must_be_the_workers_own(platform, river):
    record_id = river()
    with platform.db.session() as session:
        mine, theirs = Account(username="w1", display_name="w1"), Account(username="w2", display_name="w2")
        session.add_all([mine, theirs])
        session.flush()
        for key, owner in (("a" * 32, mine), ("b" * 32, theirs)):
            session.add(Attachment(id=key, owner_account_id=owner.id, filename="x.jpg", content_type="image/jpeg",
                                   size=1, sha256="0" * 64, storage_key=key))
        ids = (mine.id, theirs.id)
    me = worker(account_id=ids[0])
    with platform.db.session() as session:
        with pytest.raises(themes.PatrolRefused) as refused:
            themes.record_patrol(platform, session, me, record_id, {"summary": "正常"}, *POINT, ["b" * 32])
        assert list(refused.value.errors) == ["photos[0]"]
        session.rollback()
        visit = themes.record_patrol(platform, session, me, record_id, {"summary": "正常"}, *POINT, ["a" * 32])
        assert visit.form_data["photos"] == ["a" * 32]


def test_a_retried_patrol_is_stored_once(platform, river):
    record_id = river()
    for _ in range(2):
        with platform.db.session() as session:
            themes.record_patrol(platform, session, worker(), record_id, {"summary": "正常"}, *POINT,
                                 client_id="patrol-1")
    assert _visits(platform) == 1


def test_tasks_are_the_overdue_records_of_my_grids(platform, river):
    record_id = river()
    with platform.db.session() as session:
        created = session.get(ThemeRecord, record_id).created_at
        later = created + dt.timedelta(days=10)
        tasks = themes.patrol_tasks(platform, session, worker(), now=later)
        assert [(t.record_id, t.title, t.theme_title, t.days_overdue) for t in tasks] == [
            (record_id, "东岗段", "占道经营", 3)]
        assert themes.patrol_tasks(platform, session, worker("G620102002"), now=later) == []
        assert themes.overdue_counts(session, worker(), later) == [
            ("water_affairs", session.get(ThemeRecord, record_id).grid_id, "620102001000", 1)]
        themes.record_patrol(platform, session, worker(), record_id, {"summary": "正常"}, *POINT, now=later)
        assert themes.patrol_tasks(platform, session, worker(), now=later + dt.timedelta(days=1)) == []
