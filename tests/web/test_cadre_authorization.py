"""The cadre's column of the authorization matrix (tests/test_authorization_matrix.py has a column per other role):
a village cadre of side A (永昌路社区) walks every route of the web app and the API, for side A's and side B's
objects. They open only the household pages and their own account pages, the map and the visits and geography of
the API, and nothing of side B appears in any answer."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from minqing.core.grassroots import cadres
from minqing.core.accounts import apikeys
from minqing.core.accounts.passwords import hash_password
from minqing.core.actors import system_actor
from minqing.core.models import Account, RoleGrant
from minqing.web import create_app

from tests.fixtures import matrix
from tests.fixtures import trust_world as tw

# What the cadre may open (GET) or reach (POST), by route key; side B's objects are hidden or refused throughout.
OPEN = {
    "home.favicon", "health.healthz", "auth.login", "auth.login POST", "auth.code_login", "auth.code_login POST",
    "auth.send_password_code POST", "auth.logout POST", "static", "vendor.asset",
    "account.security", "account.password", "account.password POST", "account.totp", "account.totp POST",
    "account.totp_new POST", "account.totp_disable POST",
    "notifications.index", "notifications.mark_read POST", "notifications.mark_all_read POST",
    "work.households", "work.household_visit", "work.record_household_visit POST",
    "api.create_visit POST", "api.list_visits", "api.read_visit", "api.openapi_document",
    "map.index", "map.grids", "map.regions", "map.cases", "map.case_clusters", "map.layers", "map.my_grids", "map.layer",
    "work.my_matters", "work.promise_matter POST", "work.matter_page",       # 帮办实事 (the key-grid helper's pages)
    "work.start_matter POST", "work.finish_matter POST", "work.decline_matter POST",
    # the offline work end (a cadre records visits on a phone too): manifest, service worker, the pages it keeps
    "work.manifest", "work.service_worker", "work.offline_pages", "work.offline_session",
    # the public pages of 小兰帮办, open to everyone
    "citizen.index", "citizen.publication_list", "citizen.publication", "citizen.login", "citizen.send_code POST",
    "citizen.change_phone POST", "citizen.verify_code POST",
}
REDIRECTS = {"home.index", "auth.second_factor", "auth.second_factor POST"}


@pytest.fixture
def sides(platform):
    return tw.build(platform)


@pytest.fixture
def sides_app(platform):
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}, platform=platform)


def _cadre(platform, world) -> str:
    with platform.db.session() as session:
        account = Account(username="cadre_a", display_name="干部甲", password_hash=hash_password(tw.PASSWORD))
        account.grants.append(RoleGrant(role="cadre", region_id=world.regions["620102001001"]))
        session.add(account)
        session.flush()
        cadres.assign(session, system_actor("test"), account, post="村两委", region_id=world.regions["620102001001"])
        key = apikeys.create(session, system_actor("test"), "cadre_a", "matrix")[1]
        session.commit()
        return key


def test_the_cadres_column(platform, sides, sides_app):
    trust, trust_app = sides, sides_app
    key = _cadre(platform, trust)
    client = trust_app.test_client()
    signed = client.post("/login", data={"username": "cadre_a", "password": tw.PASSWORD})
    assert signed.status_code == 302 and "/login" not in signed.headers["Location"]
    services = [item["service_code"] for item in client.get("/open311/v2/services.json").get_json()]
    failures, checked, outcomes = [], 0, {}
    rules = sorted(trust_app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint))
    cells = [(rule, method) for rule in rules for method in sorted(rule.methods & {"GET", "POST"})]
    cells.sort(key=lambda cell: (cell[1] == "POST", cell[0].endpoint == "auth.logout"))
    for rule, method in cells:
        route = rule.endpoint if method == "GET" else f"{rule.endpoint} POST"
        if route.startswith("open311.") or route in ("auth.logout POST",):
            continue
        for side in ("a", "b") if rule.arguments else ("a",):
            try:
                values = {name: matrix.argument_value(trust, rule, name, side, services) for name in rule.arguments}
            except KeyError:   # an argument the shared matrix does not know yet: its row is the owner's
                continue
            path = rule.build(values)[1] if rule.arguments else rule.rule
            api = path.startswith("/api/")
            headers = {"Authorization": f"Bearer {key}"} if api else {}
            if method == "GET":
                response = client.get(path, headers=headers)
            else:
                response = client.post(path, headers=headers, **matrix.body(rule.endpoint, side, trust))
            seen = matrix.outcome(response, api)
            checked += 1
            outcomes[route, side] = seen
            if seen.startswith("status 5"):
                failures.append(f"{route} {path}: {seen}")
            elif route in REDIRECTS:
                continue
            elif route not in OPEN and seen in ("ok", "go") and not (method == "POST" and seen == "go"
                                                                      and route.startswith("auth.")):
                failures.append(f"{route} {path}: a cadre got {seen}")
            elif route in OPEN and side == "b" and rule.arguments and seen == "ok" and route not in (
                    "static", "vendor.asset", "map.layer"):
                failures.append(f"{route} {path}: side B's object answered ok")
            elif method == "GET" and seen == "ok" and (
                    leak := matrix.leak(rule.endpoint, "grid_worker", path, response)):
                failures.append(f"{route} {path}: shows side B's {leak!r}")
    assert not failures, "\n".join(failures)
    assert checked > 200
    expected = {("work.households", "a"): "ok", ("work.household_visit", "a"): "ok",
                ("work.household_visit", "b"): "hide", ("work.record_household_visit POST", "b"): "hide",
                ("api.list_visits", "a"): "ok", ("api.read_visit", "b"): "hide", ("work.my_grid", "a"): "deny",
                ("work.inbox", "a"): "deny", ("manage.dashboard", "a"): "deny", ("api.list_cases", "a"): "deny",
                ("api.list_households", "a"): "deny", ("work.case_page", "a"): "hide",
                ("admin.users", "a"): "deny", ("audit.index", "a"): "deny"}
    assert {cell: outcomes.get(cell) for cell in expected} == expected
    with platform.db.session() as session:   # the cadre is still who they were (nothing above changed them)
        assert session.scalar(select(Account.is_active).where(Account.username == "cadre_a"))
