"""Early warnings on the pages: the dashboard lists the rule plugins' warnings, an operator acknowledges one or
turns it into a case, the map gets their GeoJSON within scope, an administrator edits a rule's settings (bad
values refused in Chinese), and a disabled rule plugin's rule leaves the dashboard."""
import datetime as dt
import json

from sqlalchemy import select

from minqing.core.actors import system_actor
from minqing.core.models import Case, Setting, WarningAction, utcnow

THEME = "urban_management.street_vending"
GRID, VILLAGE = "G620102001001001", "620102001001"
SPOT = (103.82, 36.05)


def repeat_report(platform, world) -> int:
    """A closed case, and the same problem reported 20 m away a week later: one repeat-report warning."""
    with platform.db.session() as session:
        for days_ago, status, north in ((12, "closed", 0.0), (2, "reported", 20 / 111_320)):
            case = Case(theme_key=THEME, category="市容环境", subcategory="1001", title="占道经营", source="grid_worker",
                        status=status, grid_id=world.grids[GRID], region_code=VILLAGE, lon=SPOT[0],
                        lat=SPOT[1] + north, created_at=utcnow() - dt.timedelta(days=days_ago),
                        closed_at=utcnow() - dt.timedelta(days=9) if status == "closed" else None)
            session.add(case)
            session.flush()
        return case.id


def test_an_operator_acknowledges_a_warning_of_their_area_only(platform, as_user, world):
    case_id = repeat_report(platform, world)
    station, jiuquan = as_user("station"), as_user("jiuquan")
    page = station.get("/manage/").get_data(as_text=True)
    assert 'id="warnings-repeat_reports"' in page and f"事件 #{case_id} 距已办结事件" in page
    assert 'id="warnings-repeat_reports"' not in jiuquan.get("/manage/").get_data(as_text=True)
    refused = jiuquan.post("/manage/warnings/repeat_reports/acknowledge", data={"key": f"case:{case_id}"},
                           follow_redirects=True)
    assert "没有这条预警" in refused.get_data(as_text=True)
    assert station.post("/manage/warnings/repeat_reports/acknowledge",
                        data={"key": f"case:{case_id}"}).status_code == 302
    assert 'id="warnings-repeat_reports"' not in station.get("/manage/").get_data(as_text=True)
    with platform.db.session() as session:
        assert session.scalars(select(WarningAction.action)).all() == ["acknowledge"]


def test_a_warning_becomes_a_case_from_the_dashboard(platform, as_user, world):
    case_id = repeat_report(platform, world)
    response = as_user("station").post("/manage/warnings/repeat_reports/case", data={"key": f"case:{case_id}"})
    assert response.status_code == 302 and "/work/cases/" in response.headers["Location"]
    with platform.db.session() as session:
        made = session.scalar(select(Case).where(Case.source == "warning"))
        assert made.region_code == VILLAGE and session.scalar(select(WarningAction.case_id)) == made.id


def test_the_map_gets_the_located_warnings_within_scope(platform, as_user, world):
    case_id = repeat_report(platform, world)
    features = as_user("station").get("/manage/warnings.geojson").get_json()["features"]
    assert [f["id"] for f in features] == [f"repeat_reports:case:{case_id}"]
    assert as_user("jiuquan").get("/manage/warnings.geojson").get_json()["features"] == []
    layers = json.dumps(as_user("station").get("/map/layers.json").get_json(), ensure_ascii=False)
    assert "warnings.repeat_reports" in layers


def test_an_administrator_edits_a_rules_settings(platform, as_user, world):
    admin = as_user("admin")
    assert "办结后同一地点再次上报" in admin.get("/manage/warning-rules").get_data(as_text=True)
    refused = admin.post("/manage/warning-rules/repeat_reports", data={"radius_m": "0", "days": "30", "limit": "50"})
    assert refused.status_code == 400 and "距离（米）不能小于 1" in refused.get_data(as_text=True)
    with platform.db.session() as session:
        assert session.get(Setting, "warning_rule:repeat_reports") is None
    assert admin.post("/manage/warning-rules/repeat_reports",
                      data={"radius_m": "80", "days": "30", "limit": "50"}).status_code == 302
    with platform.db.session() as session:
        assert json.loads(session.get(Setting, "warning_rule:repeat_reports").value)["radius_m"] == 80
    assert as_user("station").get("/manage/warning-rules").status_code == 403


def test_a_disabled_rule_plugin_leaves_the_dashboard(platform, as_user, world):
    assert 'id="surge-count"' in as_user("leader").get("/manage/").get_data(as_text=True)
    with platform.db.session() as session:
        platform.plugins.set_enabled("warning_surges", False, session=session, actor=system_actor("test"))
    page = as_user("leader").get("/manage/").get_data(as_text=True)
    assert 'id="surge-count"' not in page and 'id="visit-count"' in page
