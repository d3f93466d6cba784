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
