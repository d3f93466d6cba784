"""(b) Computed layers, dashboard figures and grid colours through the plugin host, within each viewer's scope."""
from __future__ import annotations

import datetime as dt

from minqing.core.geo import grid_tree
from minqing.core.actors import Actor, Grant
from minqing.core.models import Case, Grid
from minqing.plugins import visit_reminders

TODAY = visit_reminders.today()
LONG_AGO = TODAY - dt.timedelta(days=10)
LATER = TODAY + dt.timedelta(days=10)


def operator(region_code):
    return Actor(7, "指挥所值班员", (Grant("operator", region_code=region_code),))


def grid_worker(grid_code):
    return Actor(8, "网格员", (Grant("grid_worker", grid_code=grid_code),))


def layer(platform, session, viewer, key):
    layers = [item for _, item in platform.plugins.collect("map_layers", viewer=viewer, session=session)
              if item["key"] == key]
    return layers[0] if layers else None


def figure(platform, session, viewer, key):
    figures = [item for _, item in platform.plugins.collect("dashboard_figures", viewer=viewer, session=session)
               if item["key"] == key]
    return figures[0] if figures else None


def test_high_risk_grid_layer_is_computed_from_the_places_the_viewer_may_see(platform, session, system, city,
                                                                              add_key_place):
    add_key_place("东岗加油站", "加油加气站", "emergency", LONG_AGO)
    add_key_place("南关化工商店", "危化品企业", "emergency", LATER)
    add_key_place("南关小学", "中小学校", "education", LONG_AGO)
    add_key_place("西园化工仓库", "危化品企业", "emergency", LONG_AGO, grid="G620103001")

    everything = layer(platform, session, system, "emergency.high_risk_grids")
    assert everything["geometry_type"] == "polygon" and everything["department"] == "emergency"
    features = everything["features"](None, session)
    assert [f["properties"]["grid_code"] for f in features] == ["G620102001001", "G620103001"]
    assert features[0]["properties"]["categories"] == {"加油加气站": 1, "危化品企业": 1}
    assert features[0]["geometry"]["type"] == "Polygon"

    chengguan = layer(platform, session, operator(city.regions["城关区"]), "emergency.high_risk_grids")
    assert [f["properties"]["grid_code"] for f in chengguan["features"](None, session)] == ["G620102001001"]
    worker = layer(platform, session, grid_worker("G620103001"), "emergency.high_risk_grids")
    assert [f["properties"]["count"] for f in worker["features"](None, session)] == [1]
    west_only = everything["features"]((103.69, 36.0, 103.75, 36.1), session)
    assert [f["properties"]["grid_code"] for f in west_only] == ["G620103001"]
    nobody = Actor(9, "市民", (Grant("citizen"),))
    assert layer(platform, session, nobody, "emergency.high_risk_grids")["features"](None, session) == []


def test_dashboard_figures_count_within_the_viewer_scope(platform, session, system, city, add_key_person,
                                                         add_key_place):
    add_key_person("张桂兰", "独居老人", due=LONG_AGO)
    add_key_person("王秀英", "独居老人", due=LONG_AGO, grid="G620103001")
    add_key_person("李建国", "社区矫正对象", due=LONG_AGO)
    add_key_place("东岗加油站", "加油加气站", "emergency", LONG_AGO)
    add_key_place("西园化工仓库", "危化品企业", "emergency", LATER, grid="G620103001")

    assert figure(platform, session, system, "civil_affairs.elderly_overdue")["value"] == 2
    chengguan = operator(city.regions["城关区"])
    elderly = figure(platform, session, chengguan, "civil_affairs.elderly_overdue")
    assert elderly["value"] == 1 and "共 1 人" in elderly["detail"]
    assert figure(platform, session, system, "emergency.high_risk_overdue")["value"] == 1
    assert figure(platform, session, operator(city.regions["七里河区"]), "emergency.high_risk_overdue")["value"] == 0


def test_campus_figure_counts_open_cases_the_viewer_may_see(platform, session, system, city):
    with platform.db.session() as writer:
        for region, grid, status, school_run in (("张掖路街道", "G620102001001", "handling", True),
                                                 ("张掖路街道", "G620102001001", "closed", True),
                                                 ("西园街道", "G620103001", "reported", False)):
            writer.add(Case(theme_key="education.campus_surroundings", title="校门口摊贩", source="grid_worker",
                            status=status, region_code=city.regions[region], grid_id=city.grids[grid],
                            form_data={"school_name": f"{region}小学", "during_school_run": school_run}))
    everything = figure(platform, session, system, "education.campus_open")
    assert everything["value"] == 2 and "学校 2 所" in everything["detail"] and "上下学时段发现 1 件" in everything["detail"]
    assert figure(platform, session, operator(city.regions["七里河区"]), "education.campus_open")["value"] == 1


def colours(platform, session, grid_code):
    """Each plugin's `grid_colours` answer for one grid (the grids under it counted in)."""
    grid = session.query(Grid).filter_by(code=grid_code).one()
    answers = platform.plugins.call("grid_colours", parents=grid_tree.parents(session), session=session)
    return {plugin: answer[grid.id] for plugin, answer in answers if grid.id in answer}


def test_police_colour_grids_with_overdue_high_risk_key_persons(platform, session, city, add_key_person):
    add_key_person("李建国", "社区矫正对象", risk="medium", due=LONG_AGO)
    assert colours(platform, session, "G620102001001")["dept_police"] == ("yellow", "中风险重点人员走访逾期 1 人")
    assert colours(platform, session, "G620102001")["dept_police"] == (   # its one small grid: 100 %
        "yellow", "重点人员走访逾期：辖内小网格红色 0%（0/1），红黄合计 100%（1/1）；红黄合计达到 30%")
    add_key_person("张桂兰", "严重精神障碍患者", risk="high", due=LONG_AGO)
    assert colours(platform, session, "G620102001001")["dept_police"] == ("red", "高风险重点人员走访逾期 1 人")
    assert colours(platform, session, "G620102001")["dept_police"][0] == "red"
    assert "dept_police" not in colours(platform, session, "G620103001")
    add_key_person("王秀英", "吸毒人员", risk="high", due=LATER, grid="G620103001")  # visited in time
    assert "dept_police" not in colours(platform, session, "G620103001")


def test_fire_rescue_colours_grids_where_fire_lanes_are_blocked_again_and_again(platform, session, city):
    def blocked(times, grid="G620102001001"):
        with platform.db.session() as writer:
            for _ in range(times):
                writer.add(Case(theme_key="fire_rescue.fire_lane", title="消防通道被占", source="grid_worker",
                                status="reported", region_code=city.regions["南关社区"], grid_id=city.grids[grid]))

    blocked(1)
    assert "dept_fire_rescue" not in colours(platform, session, "G620102001")
    blocked(1)
    assert colours(platform, session, "G620102001001")["dept_fire_rescue"] == ("yellow", "近30日消防通道占用 2 起")
    assert colours(platform, session, "G620102001")["dept_fire_rescue"][0] == "yellow"
    blocked(3)
    assert colours(platform, session, "G620102001001")["dept_fire_rescue"][0] == "red"
    assert "dept_fire_rescue" not in colours(platform, session, "G620103001")


def test_the_map_serves_the_computed_layer_through_the_themes_engine(platform, session, system, city,
                                                                     add_key_place):
    from minqing import themes

    add_key_place("东岗加油站", "加油加气站", "emergency", LONG_AGO)
    viewer = operator(city.regions["城关区"])
    groups = {group["department"]: group for group in themes.visible_layers(platform, session, viewer)}
    assert "emergency.high_risk_grids" in {layer["key"] for layer in groups["emergency"]["layers"]}
    features = themes.layer_features(platform, session, "emergency.high_risk_grids", viewer)
    assert [feature["properties"]["summary"] for feature in features] == ["加油加气站1处"]
