"""Layers: who sees which layer (visible_to), and which features of it (core.scope)."""
import pytest
from sqlalchemy import select

from minqing import themes
from minqing.core.actors import Actor, Grant
from minqing.core.hooks import hookimpl
from minqing.core.models import Department


class ComputedLayers:
    """A plugin with a computed layer and the features of its plugin-sourced theme."""

    @hookimpl
    def map_layers(self, viewer, session):
        def heat(bbox, session):
            return [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [103.0, 36.0]},
                     "properties": {"viewer": viewer.name}}]

        def wells(bbox, session):
            return [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [103.02, 36.02]},
                     "properties": {"name": "井1"}}]

        return [{"key": "water_affairs.zz_heat", "title": "热力", "department": "water_affairs", "geometry_type": "point",
                 "style": {"color": "#c00"}, "features": heat},
                {"key": "water_affairs.zz_wells", "title": "水井", "department": "water_affairs",
                 "geometry_type": "point", "style": {}, "features": wells}]


@pytest.fixture
def mapped(platform, system, city, theme, theme_plugin):
    """Two themes with records in both townships; one public theme; a computed layer."""
    river = theme("water_affairs.zz_river", title="河湖", layer={"geometry": "point"})  # default visible_to
    toilets = theme("urban_management.zz_toilets", title="公厕",
                    layer={"geometry": "point", "visible_to": ["citizen", "grid_worker", "operator"]})
    wells = theme("water_affairs.zz_wells", title="水井", layer={"geometry": "point", "source": "plugin"})
    city_plugin = type("CityPlugin", (theme_plugin, ComputedLayers), {})
    platform.plugins.register(city_plugin(river, toilets, theme(), wells), "city_plugin")
    with platform.db.session() as session:
        session.add_all([Department(key="water_affairs", name="兰州市水务局", short_name="水务"),
                         Department(key="urban_management", name="兰州市城市管理局", short_name="城管")])
        themes.sync_themes(platform, session, system)
        for key in ("water_affairs.zz_river", "urban_management.zz_stalls", "urban_management.zz_toilets"):
            themes.add_record(platform, session, system, key, {"name": f"{key}东"}, lon=103.01, lat=36.01)
            themes.add_record(platform, session, system, key, {"name": f"{key}西"}, lon=103.15, lat=36.05)
        water = session.scalar(select(Department.id).where(Department.key == "water_affairs"))
    return {"water": water, **city}


def names(platform, session, key, viewer, bbox=None):
    return sorted(f["properties"]["label"] for f in themes.layer_features(platform, session, key, viewer, bbox))


def test_features_respect_scope(platform, session, mapped):
    admin = Actor(1, "管理员", (Grant("admin"),))
    operator = Actor(2, "指挥所", (Grant("operator", region_code=mapped["zhangye"]),))
    worker = Actor(3, "网格员", (Grant("grid_worker", grid_code="G620102002"),))
    leader = Actor(4, "网格长", (Grant("grid_worker", grid_code="G620102001"),))
    water_staff = Actor(5, "水务", (Grant("department_staff", department_id=mapped["water"],
                                          department_key="water_affairs"),))
    water_by_id = Actor(6, "水务", (Grant("department_staff", department_id=mapped["water"]),))
    key = "water_affairs.zz_river"
    assert names(platform, session, key, admin) == ["water_affairs.zz_river东", "water_affairs.zz_river西"]
    assert names(platform, session, key, operator) == ["water_affairs.zz_river东"]
    assert names(platform, session, key, worker) == ["water_affairs.zz_river西"]
    assert names(platform, session, key, leader) == ["water_affairs.zz_river东"]  # the small grid under the large one
    assert len(names(platform, session, key, water_staff)) == 2 == len(names(platform, session, key, water_by_id))
    assert names(platform, session, "urban_management.zz_stalls", water_staff) == []
    assert names(platform, session, key, admin, bbox=(103.1, 36.0, 103.2, 36.1)) == ["water_affairs.zz_river西"]
    feature = themes.layer_features(platform, session, key, operator)[0]
    assert feature["type"] == "Feature" and feature["geometry"] == {"type": "Point", "coordinates": [103.01, 36.01]}
    assert feature["properties"]["theme_version"] == 1 and feature["properties"]["region_code"] == mapped["zhangye"]


def test_layer_visibility_by_role(platform, session, mapped):
    citizen = Actor(7, "市民", (Grant("citizen"),))
    with pytest.raises(themes.LayerHidden, match="无权查看图层"):
        themes.layer_features(platform, session, "water_affairs.zz_river", citizen)
    # a layer shown to citizens is public: all its records, whatever the scope
    assert len(names(platform, session, "urban_management.zz_toilets", citizen)) == 2
    assert len(names(platform, session, "urban_management.zz_toilets",
                     Actor(8, "网格员", (Grant("grid_worker", grid_code="G620102002"),)))) == 2
    auditor = Actor(9, "审计", (Grant("auditor"),))
    with pytest.raises(themes.LayerHidden):
        themes.layer_features(platform, session, "urban_management.zz_toilets", auditor)


def test_visible_layers_grouped_by_department(platform, session, mapped):
    leader = Actor(4, "领导", (Grant("leader", region_code="620102000000"),))
    groups = {group["department"]: group for group in themes.visible_layers(platform, session, leader)}
    water = {layer["key"]: layer for layer in groups["water_affairs"]["layers"]}
    assert groups["water_affairs"]["name"] == "水务"
    assert {"water_affairs.zz_river", "water_affairs.zz_wells", "water_affairs.zz_heat"} <= set(water)
    river, heat = water["water_affairs.zz_river"], water["water_affairs.zz_heat"]
    assert river["kind"] == "theme" and river["plugin"] == "city_plugin"
    assert heat["kind"] == "computed" and heat["style"] == {"color": "#c00"}
    assert sum(layer["key"] == "water_affairs.zz_wells" for layer in groups["water_affairs"]["layers"]) == 1
    urban = {layer["key"] for layer in groups["urban_management"]["layers"]}
    assert "urban_management.zz_stalls" in urban and "urban_management.zz_toilets" not in urban

    citizen = Actor(7, "市民", (Grant("citizen"),))
    seen = {layer["key"] for group in themes.visible_layers(platform, session, citizen)
            for layer in group["layers"] if layer["kind"] == "theme"}
    assert seen == {"urban_management.zz_toilets"}


def test_plugin_and_computed_layers_give_the_hook_features(platform, session, mapped):
    leader = Actor(4, "领导", (Grant("leader", region_code="620102000000"),))
    wells = themes.layer_features(platform, session, "water_affairs.zz_wells", leader)
    assert [f["properties"]["name"] for f in wells] == ["井1"]
    heat = themes.layer_features(platform, session, "water_affairs.zz_heat", leader)
    assert heat[0]["properties"]["viewer"] == "领导"
    with pytest.raises(themes.UnknownTheme):
        themes.layer_features(platform, session, "no.such_layer", leader)


def test_disabling_the_plugin_removes_its_layers(platform, system, mapped):
    leader = Actor(4, "领导", (Grant("leader", region_code="620102000000"),))
    with platform.db.session() as session:
        platform.plugins.set_enabled("city_plugin", False, session=session, actor=system)
    with platform.db.session() as session:
        keys = {layer["key"] for group in themes.visible_layers(platform, session, leader) for layer in group["layers"]}
        assert not keys & {"water_affairs.zz_river", "water_affairs.zz_heat", "water_affairs.zz_wells"}
        with pytest.raises(themes.UnknownTheme):
            themes.layer_features(platform, session, "water_affairs.zz_river", leader)
        platform.plugins.set_enabled("city_plugin", True, session=session, actor=system)
    with platform.db.session() as session:
        assert len(names(platform, session, "water_affairs.zz_river", leader)) == 2


def test_a_theme_layer_shows_its_own_cases_within_scope(platform, session, mapped, system):
    from minqing import workflows

    for title, lon in (("东边占道", 103.01), ("西边占道", 103.15)):
        workflows.report_case(platform, session, system, theme_key="urban_management.zz_stalls", title=title,
                              description="", lon=lon, lat=36.01, subcategory="0301", source="grid_worker")
    workflows.report_case(platform, session, system, theme_key="water_affairs.zz_river", title="河道垃圾",
                          description="", lon=103.01, lat=36.01, source="grid_worker")
    session.flush()
    admin = Actor(1, "管理员", (Grant("admin"),))
    east = Actor(3, "网格员", (Grant("grid_worker", grid_code="G620102001"),))
    features = themes.layer_features(platform, session, "urban_management.zz_stalls", admin)
    cases = [f for f in features if f["properties"].get("kind") == "case"]
    assert sorted(f["properties"]["label"] for f in cases) == ["东边占道", "西边占道"]
    assert all(f["id"] == f"case-{f['properties']['case_id']}" for f in cases)
    assert "河道垃圾" not in names(platform, session, "urban_management.zz_stalls", admin)
    assert "西边占道" not in names(platform, session, "urban_management.zz_stalls", east)
    assert "东边占道" in names(platform, session, "urban_management.zz_stalls", east)


def test_a_layers_cases_page_by_page_are_the_scoped_cases_of_the_theme_newest_first(platform, session, mapped):
    """The layer's cases (read from ix_cases_theme_newest on PostgreSQL), followed page by page across the records,
    are exactly the theme's located cases in the viewer's scope and the box, newest first, each written as the
    map writes a case: void and merged cases included, another theme's and unlocated ones not; times in the
    city's zone (1988 in Shanghai had daylight saving: +09:00)."""
    import datetime as dt

    from minqing.core import scope
    from minqing.core.clock import isoformat_local
    from minqing.core.geo.geojson import Page
    from minqing.core.models import Account, Case
    from minqing.core.models.cohandling import CoHandlingTask

    citizen = Account(username="citizen_layer", display_name="市民")
    session.add(citizen)
    session.flush()
    utc = dt.UTC
    east, west, small = mapped["east"], mapped["west"], mapped["small"]
    stalls = "urban_management.zz_stalls"
    rows = [  # title, theme, lon, lat, grid id, region, status, department, reporter, created, deadline
        ("东小网格", stalls, 103.01, 36.01, small, mapped["zhangye"], "reported", None, None,
         dt.datetime(2026, 3, 1, 15, 59, 59, tzinfo=utc), dt.datetime(2026, 3, 2, 16, 0, tzinfo=utc)),
        ("东大网格·作废", stalls, 103.07, 36.07, east, mapped["zhangye"], "voided", None, None,
         dt.datetime(1988, 7, 1, 16, 30, tzinfo=utc), None),
        ("西·水务", stalls, 103.15, 36.05, west, mapped["jiuquan"], "closed", mapped["water"], None,
         dt.datetime(2026, 12, 31, 16, 0, tzinfo=utc), None),
        ("西·市民自报", stalls, 103.16, 36.06, west, mapped["jiuquan"], "reported", None, citizen.id,
         dt.datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=utc), None),
        ("西·已合并", stalls, 103.1234567891, 36.0987654321, west, mapped["jiuquan"], "closed", None, None,
         dt.datetime(2026, 1, 1, tzinfo=utc), None),
        ("西·协办", stalls, 103.18, 36.08, west, mapped["jiuquan"], "handling", None, None,
         dt.datetime(2026, 2, 1, tzinfo=utc), dt.datetime(2026, 2, 3, tzinfo=utc)),
        ("框外", stalls, 103.5, 36.5, None, "", "reported", None, None, dt.datetime(2026, 4, 1, tzinfo=utc), None),
        ("无位置", stalls, None, None, east, mapped["zhangye"], "reported", None, None,
         dt.datetime(2026, 4, 2, tzinfo=utc), None),
        ("河道·别的主题", "water_affairs.zz_river", 103.02, 36.02, small, mapped["zhangye"], "reported", None, None,
         dt.datetime(2026, 4, 3, tzinfo=utc), None),
    ]
    cases = []
    for title, theme_key, lon, lat, grid, region, status, department, reporter, created, deadline in rows:
        cases.append(Case(theme_key=theme_key, title=title, source="grid_worker", status=status, lon=lon, lat=lat,
                          grid_id=grid, region_code=region, department_id=department,
                          reporter_account_id=reporter, created_at=created, state_deadline_at=deadline))
    session.add_all(cases)
    session.flush()
    cases[4].merged_into_id = cases[2].id
    session.add(CoHandlingTask(case_id=cases[5].id, department_id=mapped["water"],
                               deadline_at=dt.datetime(2026, 2, 5, tzinfo=utc)))
    session.flush()

    viewers = [Actor(1, "管理员", (Grant("admin"),)),
               Actor(2, "指挥所", (Grant("operator", region_code=mapped["zhangye"]),)),
               Actor(3, "网格员", (Grant("grid_worker", grid_code="G620102001"),)),
               Actor(4, "水务", (Grant("department_staff", department_id=mapped["water"],
                                          department_key="water_affairs"),)),
               Actor(citizen.id, "市民", (Grant("operator", region_code=mapped["zhangye"]),))]
    for bbox in (None, (103.0, 36.0, 103.2, 36.1)):
        for viewer in viewers:
            records = themes.layer_features(platform, session, stalls, viewer, bbox)
            records = [feature for feature in records if feature["properties"]["kind"] == "record"]
            statement = select(Case).where(Case.theme_key == stalls, Case.lon.is_not(None))
            if bbox:
                statement = statement.where(Case.lon.between(bbox[0], bbox[2]), Case.lat.between(bbox[1], bbox[3]))
            expected = [{"type": "Feature", "id": f"case-{case.id}",
                         "geometry": {"type": "Point", "coordinates": [round(case.lon, 7), round(case.lat, 7)]},
                         "properties": {"title": case.title, "status": case.status, "theme": case.theme_key,
                                        "urgency": case.urgency, "created_at": isoformat_local(case.created_at),
                                        "deadline": isoformat_local(case.state_deadline_at), "kind": "case",
                                        "case_id": case.id, "label": case.title}}
                        for case in session.scalars(scope.restrict(statement, Case, viewer).order_by(Case.id.desc()))]
            for limit in (1, 2, 3, 10_000):
                followed, offset = [], 0
                while True:
                    body = themes.layer_page(platform, session, stalls, viewer, bbox, Page(limit=limit, offset=offset))
                    assert body["numberMatched"] == len(records) + len(expected)
                    followed += body["features"]
                    offset += body["numberReturned"]
                    if not body["numberReturned"] or offset >= body["numberMatched"]:
                        break
                assert followed[:len(records)] == records
                assert followed[len(records):] == expected, (viewer.name, bbox, limit)
    admin_cases = [f for f in themes.layer_features(platform, session, stalls, viewers[0])
                   if f["properties"]["kind"] == "case"]
    assert [f["properties"]["label"] for f in admin_cases] == [
        "框外", "西·协办", "西·已合并", "西·市民自报", "西·水务", "东大网格·作废", "东小网格"]
    times = {f["properties"]["label"]: (f["properties"]["created_at"], f["properties"]["deadline"])
             for f in admin_cases}
    assert times["东大网格·作废"] == ("1988-07-02T01:30:00+09:00", None)
    assert times["东小网格"] == ("2026-03-01T23:59:59+08:00", "2026-03-03T00:00:00+08:00")
    assert times["西·水务"][0] == "2027-01-01T00:00:00+08:00"
    assert {f["properties"]["label"] for f in themes.layer_features(platform, session, stalls, viewers[3])} >= {
        "西·水务", "西·协办"}
