"""The demo ledgers plugin: records on every ledger theme, inside the city's grids, with answers its forms accept and
a spread of patrol states — deterministic from the seed."""
from collections import Counter

from shapely.geometry import Point, shape
from sqlalchemy import func, select

from minqing import forms, themes
from minqing.core.actors import Actor, Grant, system_actor
from minqing.core.privacy import uscc
from minqing.core.models import Grid, ThemeRecord
from minqing.plugins import demo_ledgers


def _seed(platform, seed):
    with platform.db.session() as session:
        demo_ledgers.seed_demo(platform, session, seed)


def test_every_ledger_theme_gets_records_its_form_accepts(platform, session, world):
    _seed(platform, 7)
    ledgers = demo_ledgers.ledger_themes(platform, session)
    assert len(ledgers) >= 60
    records = session.scalars(select(ThemeRecord).order_by(ThemeRecord.id)).all()
    counts = Counter(record.theme_key for record in records)
    assert {theme.key for theme in ledgers} == set(counts)
    assert 2500 <= len(records) <= 4000
    forms_by_key = {theme.key: theme.form("record") for theme in ledgers}
    grids = {grid.id: shape(grid.geometry) for grid in session.scalars(select(Grid))}
    for record in records:
        assert forms.validate(forms_by_key[record.theme_key], record.form_data) == [], record.theme_key
        assert record.grid_id in grids and record.region_code
        assert grids[record.grid_id].buffer(1e-6).contains(Point(record.lon, record.lat))
        assert record.schema_version == f"{record.theme_key}@{record.theme_version}"
    kinds = {record.theme_key: (record.geometry or {}).get("type") for record in records}
    assert kinds["water_affairs.river_patrol"] == "LineString" and kinds["transport.road_and_transport"] == "LineString"
    assert kinds["natural_resources.geohazard_points"] == "Polygon" and kinds["fire_rescue.hydrants"] is None
    rivers = [record.form_data for record in records if record.theme_key == "water_affairs.river_patrol"]
    assert all(data["chief_name"] and data["chief_level"] for data in rivers)
    schools = [record.form_data for record in records if record.theme_key == "education.campus_surroundings"]
    assert all(data["name"].endswith(("幼儿园", "小学", "中学", "学校")) for data in schools)
    codes = [record.form_data["credit_code"] for record in records if record.form_data.get("credit_code")]
    assert codes and [code for code in codes if uscc.problem(code)] == []     # with a right check character


def test_patrol_states_are_spread_on_the_layer(platform, session, world):
    _seed(platform, 7)
    admin = Actor(1, "管理员", (Grant("admin"),))
    states = Counter(feature["properties"]["patrol"]["status"]
                     for feature in themes.layer_features(platform, session, "fire_rescue.hydrants", admin)
                     if feature["properties"].get("kind") == "record")
    assert set(states) == {"on_time", "due_soon", "overdue"} and states["on_time"] > states["overdue"]


def test_the_same_seed_makes_the_same_ledgers(platform, session, world):
    _seed(platform, 3)
    _seed(platform, 3)
    rows = session.execute(select(ThemeRecord.theme_key, ThemeRecord.form_data, ThemeRecord.lon)
                           .order_by(ThemeRecord.id)).all()
    half = len(rows) // 2

    def plain(row):  # the shared demo photo is stored anew by each run, under a new id
        return row.theme_key, {key: value for key, value in row.form_data.items()
                               if key not in ("photos", "appraisal_report")}, row.lon
    assert [plain(row) for row in rows[:half]] == [plain(row) for row in rows[half:]]


def test_the_full_demo_has_every_department_ledger_on_the_map(demo_platform):
    """On the Lanzhou-scale city (real outlines); `minqing demo` publishes the themes and calls the hook after
    the build, as here. All is rolled back so the other tests of the shared demo city see it unchanged."""
    with demo_platform.db.session() as session:
        themes.sync_themes(demo_platform, session, system_actor("test"))   # as `minqing demo` does before the hook
        demo_ledgers.seed_demo(demo_platform, session, 1)
        ledgers = {theme.key for theme in demo_ledgers.ledger_themes(demo_platform, session)}
        counts = Counter(session.scalars(select(ThemeRecord.theme_key)))
        departments = {theme.department for theme in themes.registry(demo_platform, session).themes.values()}
        assert ledgers <= set(counts) and 2500 <= sum(counts[key] for key in ledgers) <= 4000
        assert departments <= {key.split(".")[0] for key in ledgers}
        outside = session.scalar(select(func.count()).select_from(ThemeRecord).where(ThemeRecord.grid_id.is_(None)))
        assert outside == 0
        session.rollback()


def test_the_demo_grid_worker_has_patrol_tasks_and_a_patrol_history(platform, session, world, monkeypatch):
    """`gridworker` of the demo (here the test city's `worker`) opens 巡查任务 and finds work in their own grid."""
    from minqing.core.actors import actor_for
    from minqing.core.models import Account, Visit
    from minqing.plugins.demo_ledgers import worker_grid

    monkeypatch.setattr(worker_grid, "WORKER", "worker")
    _seed(platform, 5)
    worker = actor_for(session, session.scalar(select(Account).where(Account.username == "worker")))
    [grid_id] = [grant.grid_id for grant in worker.grants_of("grid_worker")]
    due = themes.due_for_patrol(platform, session, worker)
    assert len([record for record in due if record.grid_id == grid_id]) >= worker_grid.TASKS // 2
    visits = session.scalars(select(Visit).where(Visit.target_kind == "theme_record")).all()
    assert len(visits) == worker_grid.TASKS // 2
    assert all(visit.visitor_account_id == worker.account_id and visit.summary for visit in visits)
