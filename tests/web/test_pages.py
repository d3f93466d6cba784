"""Sign-in, the map's data, administration: each page as a person uses it, and refused to those who may not."""
from sqlalchemy import select

from minqing.core.models import AuditRecord, SigninThrottle

PASSWORD = "Test#Pass2026"  # the password of every account of the `world` fixture


def test_sign_in_lands_each_role_where_its_work_is(as_user):
    assert as_user("worker").get("/").location.endswith("/work/my-grid")
    assert as_user("station").get("/").location.endswith("/work/")
    assert as_user("admin").get("/").location.endswith("/work/")
    assert as_user("leader").get("/").location.endswith("/map/")


def test_wrong_password_does_not_say_whether_the_account_exists(client, world, platform):
    wrong = client.post("/login", data={"username": "worker", "password": "nope"})
    missing = client.post("/login", data={"username": "nobody", "password": "nope"})
    assert wrong.status_code == missing.status_code == 400
    message = "用户名或密码错误，或账号暂时被锁定"
    assert message in wrong.get_data(as_text=True) and message in missing.get_data(as_text=True)
    with platform.db.session() as session:
        actions = session.scalars(select(AuditRecord.action)).all()
    assert actions.count("auth.login_failed") == 2


def test_five_failures_lock_the_account_for_their_source(client, world, platform):
    for _ in range(5):
        client.post("/login", data={"username": "worker", "password": "wrong"})
    locked = client.post("/login", data={"username": "worker", "password": PASSWORD})
    assert locked.status_code == 400
    with platform.db.session() as session:
        assert session.scalar(select(SigninThrottle.locked_until).where(SigninThrottle.source == "127.0.0.1"))


def test_logout_ends_the_session(as_user):
    worker = as_user("worker")
    assert worker.get("/work/my-grid").status_code == 200
    worker.post("/logout")
    assert worker.get("/work/my-grid").status_code == 302


def test_pages_need_a_sign_in(client, world):
    for path in ("/map/", "/work/", "/work/report", "/admin/plugins", "/map/grids.geojson"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.location, path


def test_map_page_and_its_data(as_user, world):
    leader = as_user("leader")
    page = leader.get("/map/").get_data(as_text=True)
    assert "/vendor/leaflet/leaflet.js" in page and "https://" not in page
    grids = leader.get("/map/grids.geojson?bbox=103.7,35.9,104.1,36.2&zoom=9").get_json()
    assert {f["properties"]["code"] for f in grids["features"]} == {"G620102001", "G620102002"}
    small = leader.get("/map/grids.geojson?bbox=103.7,35.9,104.1,36.2&zoom=15").get_json()
    assert [f["properties"]["code"] for f in small["features"]] == ["G620102001001001"]
    far = leader.get("/map/grids.geojson?bbox=100,30,100.1,30.1&zoom=9").get_json()
    assert far["features"] == []
    bad = leader.get("/map/grids.geojson?bbox=1,2,3")
    assert bad.status_code == 400 and "bbox" in bad.get_json()["message"]
    layers = leader.get("/map/layers.json").get_json()
    assert len(layers["groups"]) >= 50 and all(layer["url"] for layer in layers["layers"])


def test_grids_on_the_map_follow_scope(as_user):
    worker = as_user("worker")
    seen = worker.get("/map/grids.geojson?zoom=9").get_json()["features"]
    assert seen == []  # a small-grid worker has no large grid in scope
    seen = worker.get("/map/grids.geojson?zoom=15").get_json()["features"]
    assert [f["properties"]["code"] for f in seen] == ["G620102001001001"]
    other = as_user("other_worker").get("/map/grids.geojson?zoom=9").get_json()["features"]
    assert [f["properties"]["code"] for f in other] == ["G620102002"]


def test_vendor_files_are_served_locally(client):
    response = client.get("/vendor/leaflet/leaflet.js")
    assert response.status_code == 200 and b"Leaflet" in response.data[:2000]
    assert client.get("/vendor/forms/forms.js").status_code == 200
    assert client.get("/vendor/nothing/x.js").status_code == 404


def test_admin_switches_plugins_and_others_cannot(as_user, platform):
    admin = as_user("admin")
    page = admin.get("/admin/plugins").get_data(as_text=True)
    assert "lanzhou_departments" in page and "必需" in page
    assert "城管 · 占道经营" in page and "事件分拨" in page      # what a person reads, not only ids and hook names
    asked = admin.post("/admin/plugins/dept_urban_management/disable").get_data(as_text=True)
    assert "确认停用插件“城管 · 占道经营”" in asked and "占道经营" in asked      # one click only asks
    assert platform.plugins.is_enabled("dept_urban_management")
    response = admin.post("/admin/plugins/dept_urban_management/disable", data={"confirm": "yes"},
                          follow_redirects=True)
    assert "已停用" in response.get_data(as_text=True)
    assert not platform.plugins.is_enabled("dept_urban_management")
    layers = admin.get("/map/layers.json").get_json()["layers"]
    assert not any(layer["key"].startswith("urban_management") for layer in layers)
    admin.post("/admin/plugins/dept_urban_management/enable")
    assert platform.plugins.is_enabled("dept_urban_management")
    assert "必需" in admin.post("/admin/plugins/web/disable", data={"confirm": "yes"},
                              follow_redirects=True).get_data(as_text=True)
    for username in ("worker", "station", "leader", "citizen"):
        client = as_user(username)
        assert client.get("/admin/plugins").status_code == 403
        assert client.post("/admin/plugins/dept_urban_management/disable").status_code == 403
    assert platform.plugins.is_enabled("dept_urban_management")
    assert "permission" not in admin.get("/admin/users").get_data(as_text=True)
    assert "兰州市城市管理局" in admin.get("/admin/departments").get_data(as_text=True)


def test_forms_need_a_csrf_token(platform, world):
    from minqing.web import create_app

    app = create_app({"TESTING": True}, platform=platform)  # CSRF on, as in production
    client = app.test_client()
    response = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 400 and "CSRF 校验失败" in response.get_data(as_text=True)


def test_every_response_carries_the_security_headers(client, as_user):
    for response in (client.get("/login"), client.get("/vendor/leaflet/leaflet.js"), client.get("/nope"),
                     as_user("leader").get("/map/grids.geojson?zoom=9")):
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_errors_are_in_chinese(client, as_user):
    assert "页面不存在" in client.get("/no/such/page").get_data(as_text=True)
    assert "没有权限" in as_user("citizen").get("/admin/plugins").get_data(as_text=True)
    assert as_user("leader").get("/map/grids.geojson?bbox=x").get_json()["message"].startswith("bbox")
