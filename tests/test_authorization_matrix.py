"""The authorization matrix: every route of the web app (including every API endpoint) × every role × an object
in the role's scope and one out of it, against the table below — written from the rules of the domain, not read
from the code under test. Then every list, map layer, export, search and count, for every role: nothing of the
other side appears.

The world (tests/fixtures/trust_world.py) has side A (城关区) where every role's account is scoped, and side B (七里河区)
with the same kinds of object for other people; "out of scope" means side B's object, a guessed id of it (the
ids are small integers, so guessing is trivial), or another department's theme draft.

Outcomes: ok (200 for GET; for POST the request reached the action: not refused, whatever the action then said
of the empty input), go (302 to somewhere other than the sign-in page), L (sign in first: 302 to /login on pages,
401 in the API), deny (403), hide (404), no (refused either way: L, 403 or 404).
"""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from minqing.core.ops import exporting
from minqing.core.actors import actor_for
from minqing.core.models import Account, AuditRecord
from minqing.web import create_app

from tests.fixtures import matrix
from tests.fixtures import trust_world as tw
from tests.fixtures.matrix import OUT_PREFIX

ROLES = ("anonymous", "citizen", "grid_worker", "department_staff", "operator", "leader", "auditor", "admin")
ACCOUNT = {"anonymous": None, "citizen": "citizen", "grid_worker": "worker", "department_staff": "staff",
           "operator": "operator", "leader": "leader", "auditor": "auditor", "admin": "admin"}

# One token per role, in ROLES order; "in/out" where the route takes an object.
EXPECTED = {
    # -- public pages and files ---------------------------------------------------------------------------------
    "home.index": "ok go go go go go go go",
    "home.favicon": "ok ok ok ok ok ok ok ok",
    "health.healthz": "ok ok ok ok ok ok ok ok",            # for the proxy: no sign-in, nothing of the city
    "auth.login": "ok ok ok ok ok ok ok ok",
    "auth.login POST": "ok ok ok ok ok ok ok ok",
    "auth.second_factor": "go go go go go go go go",         # only between password and code: else back
    "auth.second_factor POST": "go go go go go go go go",
    "auth.logout POST": "L go go go go go go go",
    "auth.code_login": "ok ok ok ok ok ok ok ok",                   # 首次登录 / 忘记密码: user name and a code
    "auth.code_login POST": "ok ok ok ok ok ok ok ok",
    "auth.send_password_code POST": "ok ok ok ok ok ok ok ok",     # same answer whether the account exists
    "static": "ok/hide ok/hide ok/hide ok/hide ok/hide ok/hide ok/hide ok/hide",
    "vendor.asset": "ok/hide ok/hide ok/hide ok/hide ok/hide ok/hide ok/hide ok/hide",
    "meteorology.static": "hide/hide hide/hide hide/hide hide/hide hide/hide hide/hide hide/hide hide/hide",
    "meteorology.warnings": "L deny ok ok ok ok deny ok",   # staff who follow warnings, each in their own scope
    # -- own account ----------------------------------------------------------------------------------------------
    "account.security": "L ok ok ok ok ok ok ok",
    "account.password": "L ok ok ok ok ok ok ok",
    "account.password POST": "L ok ok ok ok ok ok ok",
    "account.totp": "L ok ok ok ok ok ok ok",
    "account.totp POST": "L ok ok ok ok ok ok ok",
    "account.totp_new POST": "L ok ok ok ok ok ok ok",
    "account.totp_disable POST": "L ok ok ok ok ok ok ok",
    # 通知: one's own in-app notifications (auditors get none)
    "notifications.index": "L ok ok ok ok ok deny ok",
    "notifications.mark_read POST": "L ok ok ok ok ok deny ok",      # no id: told so
    "notifications.mark_all_read POST": "L ok ok ok ok ok deny ok",
    # -- administration: administrators only --------------------------------------------------------------------
    "admin.plugins": "L deny deny deny deny deny deny ok",
    "setup.city_page": "L deny deny deny deny deny deny ok",
    "setup.city_page POST": "L deny deny deny deny deny deny ok",
    "admin.switch_plugin POST": "L deny deny deny deny deny deny go",     # an unknown plugin: told so
    "admin.users": "L deny deny deny deny deny deny ok",
    "admin.create_user POST": "L deny deny deny deny deny deny ok",          # empty form: told what is missing
    "admin.scope_options": "L deny deny deny deny deny deny ok",
    **{key: "L/L deny/deny deny/deny deny/deny deny/deny deny/deny deny/deny ok/hide" for key in (
        "admin.user_page", "admin.edit_user POST", "admin.set_user_active POST", "admin.add_grant POST",
        "admin.revoke_grant POST", "admin.reset_user_password POST", "admin.issue_user_code POST",
        "admin.reset_user_totp POST", "admin.department_page", "admin.department_page POST")},
    "admin.set_cadre_post POST": "L/L deny/deny deny/deny deny/deny deny/deny deny/deny deny/deny ok/hide",  # 干部职务
    "admin.add_department POST": "L deny deny deny deny deny deny ok",
    "admin.departments": "L deny deny deny deny deny deny ok",
    "admin.fallbacks_page": "L deny deny deny deny deny deny ok",             # 兜底部门 of the regions
    "admin.save_fallback POST": "L deny deny deny deny deny deny go",    # empty form: told so
    # -- audit log: auditors only (and auditors nothing else) -------------------------------------------------
    "audit.index": "L deny deny deny deny deny ok deny",
    "audit.export": "L deny deny deny deny deny ok deny",
    # -- theme builder: department staff for their department's drafts, administrators ---------------------------
    "builder.index": "L deny deny ok deny deny deny ok",
    "builder.new": "L deny deny ok deny deny deny ok",
    "builder.new POST": "L deny deny ok deny deny deny ok",
    "builder.edit": "L/L deny/deny deny/deny ok/no deny/deny deny/deny deny/deny ok/ok",
    "builder.save POST": "L/L deny/deny deny/deny ok/no deny/deny deny/deny deny/deny ok/ok",
    "builder.preview": "L/L deny/deny deny/deny ok/no deny/deny deny/deny deny/deny ok/ok",
    "builder.preview POST": "L/L deny/deny deny/deny ok/no deny/deny deny/deny deny/deny ok/ok",
    "builder.publish POST": "L/L deny/deny deny/deny ok/no deny/deny deny/deny deny/deny ok/ok",
    "builder.export": "L/L deny/deny deny/deny ok/no deny/deny deny/deny deny/deny ok/ok",
    "builder.versions": "L/L deny/deny deny/deny hide/no deny/deny deny/deny deny/deny hide/hide",  # never published
    "builder.diagram": "L/L deny/deny deny/deny ok/no deny/deny deny/deny deny/deny ok/ok",
    # -- 小兰帮办 (citizens; policies are public) --------------------------------------------------------------------
    "citizen.index": "ok ok ok ok ok ok ok ok",
    "citizen.publication_list": "ok ok ok ok ok ok ok ok",
    "citizen.publication": "ok/hide ok/hide ok/hide ok/hide ok/hide ok/hide ok/hide ok/hide",
    "citizen.login": "ok go go go go go go go",
    "citizen.send_code POST": "ok ok ok ok ok ok deny ok",
    "citizen.change_phone POST": "go go go go go go deny go",   # back to the sign-in form
    "citizen.verify_code POST": "ok ok ok ok ok ok deny ok",
    "citizen.report": "L ok deny deny deny deny deny deny",
    "citizen.report_theme": "L/L ok/ok deny/deny deny/deny deny/deny deny/deny deny/deny deny/deny",
    "citizen.report_theme POST": "L/L ok/ok deny/deny deny/deny deny/deny deny/deny deny/deny deny/deny",
    "citizen.my_cases": "L ok deny deny deny deny deny deny",
    "citizen.my_matters": "L ok deny deny deny deny deny deny",     # 帮办实事 that name them or come from their report
    "citizen.case_page": "L/L ok/hide deny/deny deny/deny deny/deny deny/deny deny/deny deny/deny",
    "citizen.rate POST": "L/L ok/hide deny/deny deny/deny deny/deny deny/deny deny/deny deny/deny",
    # -- 小兰网格 (work end) ---------------------------------------------------------------------------------------
    "work.inbox": "L deny ok ok ok ok deny ok",
    "work.case_page": "L/L go/hide ok/hide ok/hide ok/hide ok/hide no/no ok/ok",   # a citizen: own → 小兰帮办
    "work.take_step POST": "L/L deny/deny go/hide go/hide ok/hide go/hide deny/deny ok/ok",
    "work.urge POST": "L/L deny/deny go/hide go/hide ok/hide ok/hide deny/deny ok/ok",
    "work.supervise POST": "L/L deny/deny go/hide go/hide ok/hide ok/hide deny/deny ok/ok",
    # 协同处置: dispatchers name and overrule co-handlers, a co-handling department feeds back (else: told why)
    "work.assign_co_handlers POST": "L/L deny/deny go/hide go/hide ok/hide go/hide deny/deny ok/ok",
    "work.decide_co_handler POST": "L/L deny/deny go/hide go/hide ok/hide go/hide deny/deny ok/ok",
    "work.co_handler_feedback POST": "L/L deny/deny go/hide go/hide go/hide go/hide deny/deny ok/ok",  # A's staff lead
    "work.confirm_suggestion POST": "L/L deny/deny go/hide go/hide ok/hide go/hide deny/deny ok/ok",  # dispatchers
    # 重复件: the report pages ask for likely duplicates; command centres merge and undo
    "work.check_duplicates": "L ok ok deny ok deny deny ok",
    "work.locate_point": "L ok ok deny ok deny deny ok",
    "work.merge_duplicate POST": "L/L deny/deny deny/deny deny/deny ok/hide deny/deny deny/deny ok/ok",
    "work.undo_merge POST": "L/L deny/deny deny/deny deny/deny ok/hide deny/deny deny/deny ok/ok",
    "work.file_appeal POST": "L/L deny/deny deny/deny ok/hide deny/deny deny/deny deny/deny deny/deny",
    "work.withdraw_appeal POST": "L/L deny/deny deny/deny ok/hide deny/deny deny/deny deny/deny deny/deny",
    "work.decide_appeal POST": "L/L deny/deny deny/deny deny/deny ok/hide deny/deny deny/deny ok/ok",
    "work.my_appeals": "L deny deny ok deny deny deny deny",           # a department's own appeals
    "work.appeal_queue": "L deny deny deny ok deny deny ok",           # command centres decide
    "work.attachment": "no/no ok/hide ok/hide ok/hide ok/hide ok/hide no/no ok/ok",
    "work.attachment_thumbnail": "no/no ok/hide ok/hide ok/hide ok/hide ok/hide no/no ok/ok",  # as the file
    "work.export_cases": "L deny ok ok ok ok deny ok",        # the filtered case list, in the viewer's scope
    "work.my_grid": "L deny ok deny deny deny deny deny",
    # 走村入户: grid workers and cadres (a cadre column is in tests/web/test_household_pages.py)
    "work.households": "L deny ok deny deny deny deny deny",
    "work.household_visit": "L/L deny/deny ok/hide deny/deny deny/deny deny/deny deny/deny deny/deny",
    "work.record_household_visit POST": "L/L deny/deny ok/hide deny/deny deny/deny deny/deny deny/deny deny/deny",
    # 巡查任务: a grid worker's patrols of records in their grids; a department's own view of its records' patrols
    "work.patrols": "L deny ok ok deny deny deny deny",
    "work.patrol_record": "L/L deny/deny ok/hide deny/deny deny/deny deny/deny deny/deny deny/deny",
    "work.patrol_record POST": "L/L deny/deny ok/hide deny/deny deny/deny deny/deny deny/deny deny/deny",  # empty: told so
    # 政策服务的编写: a department's staff and administrators; another department's item is hidden
    "work.publications_page": "L deny deny ok deny deny deny ok",
    "work.new_publication": "L deny deny ok deny deny deny ok",
    "work.new_publication POST": "L deny deny ok deny deny deny ok",
    **{key: "L/L deny/deny deny/deny ok/hide deny/deny deny/deny deny/deny ok/hide" for key in (
        "work.preview_publication", "work.edit_publication", "work.edit_publication POST",
        "work.move_publication POST")},
    # 帮办实事: owners (cadres, grid workers, operators) promise and carry matters of households in their scope
    "work.my_matters": "L deny ok deny ok deny deny ok",
    "work.promise_matter POST": "L deny ok deny ok deny deny ok",            # empty form: told what is missing
    "work.matter_page": "L/L deny/deny ok/hide deny/deny ok/hide ok/hide deny/deny ok/ok",
    **{key: "L/L deny/deny ok/hide deny/deny ok/hide deny/deny deny/deny ok/ok" for key in (
        "work.start_matter POST", "work.finish_matter POST", "work.decline_matter POST")},
    "work.record_visit POST": "L/L deny/deny ok/ok deny/deny deny/deny deny/deny deny/deny deny/deny",
    "work.report": "L deny ok deny ok deny deny ok",
    "work.report_theme": "L/L deny/deny ok/ok deny/deny ok/ok deny/deny deny/deny ok/ok",
    "work.report_theme POST": "L/L deny/deny ok/ok deny/deny ok/ok deny/deny deny/deny ok/ok",
    "work.reveal POST": "L/L deny/deny ok/hide deny/deny ok/hide deny/deny deny/deny deny/deny",
    # 小兰网格 offline: the app's files for anyone but auditors; the outbox's sync for the roles of each form (docs/work-end.md)
    "work.manifest": "ok ok ok ok ok ok deny ok",         # auditors open the audit log only
    "work.service_worker": "ok ok ok ok ok ok deny ok",
    "work.offline_session": "L deny ok deny deny deny deny deny",
    "work.offline_pages": "L deny ok deny deny deny deny deny",
    "work.sync_status POST": "L deny ok deny deny deny deny deny",                  # empty: told so
    "work.sync_report POST": "L/L deny/deny ok/ok deny/deny ok/ok deny/deny deny/deny ok/ok",   # empty: told so
    "work.sync_patrol POST": "L/L deny/deny ok/hide deny/deny deny/deny deny/deny deny/deny deny/deny",
    "work.sync_household_visit POST": "L/L deny/deny ok/hide deny/deny deny/deny deny/deny deny/deny deny/deny",
    # -- 小兰民情 and the map -----------------------------------------------------------------------------------
    "manage.dashboard": "L deny deny deny ok ok deny ok",
    "manage.warnings_geojson": "L deny deny deny ok ok deny ok",          # early warnings within scope
    "manage.warnings_page": "L deny deny deny ok ok deny ok",             # the full list, page by page, in scope
    "manage.refresh_warnings POST": "L deny deny deny deny deny deny ok",  # 立即刷新: administrators only
    "manage.acknowledge_warning POST": "L/L deny/deny deny/deny deny/deny go/go deny/deny deny/deny go/go",
    "manage.warning_to_case POST": "L/L deny/deny deny/deny deny/deny go/go deny/deny deny/deny go/go",
    # 重点网格: command centres assign and remove in their region, leaders read; 帮办实事台账 per village
    "manage.key_grids_page": "L deny deny deny ok ok deny ok",
    "manage.assign_key_grid POST": "L deny deny deny ok deny deny ok",     # empty form: told so
    "manage.remove_key_grid POST": "L/L deny/deny deny/deny deny/deny ok/ok deny/deny deny/deny ok/ok",  # none: told so
    "manage.matters_page": "L deny deny deny ok ok deny ok",
    "manage.rankings_page": "L deny deny ok ok ok deny ok",            # published rankings: the ranked see them
    "manage.publish_ranking POST": "L deny deny deny deny deny deny ok",  # the city centre (side A's is a township)
    "manage.schemes_page": "L deny deny deny ok ok deny ok",           # 考核方案: centres and leaders read
    "manage.save_scheme POST": "L deny deny deny deny deny deny ok",     # the city's (or a county's) centre edits
    "manage.warning_rule_settings": "L deny deny deny deny deny deny ok",
    "manage.briefs_page": "L deny deny deny ok ok deny ok",               # the archive of 研判 briefs
    "manage.publish_brief POST": "L deny deny deny go deny deny go",      # empty form: told so
    "manage.brief_file": "L/L deny/deny deny/deny deny/deny ok/hide ok/hide deny/deny ok/ok",  # within scope
    "manage.save_warning_rule POST": "L/L deny/deny deny/deny deny/deny deny/deny deny/deny deny/deny go/go",
    "map.index": "L ok ok ok ok ok ok ok",
    "map.grids": "L ok ok ok ok ok ok ok",
    "map.regions": "L ok ok ok ok ok ok ok",              # administrative divisions: public geography
    "map.cases": "L ok ok ok ok ok ok ok",
    "map.case_clusters": "L ok ok ok ok ok ok ok",        # the same cases counted per region: the scope's
    "map.layers": "L ok ok ok ok ok ok ok",
    "map.my_grids": "L ok ok ok ok ok ok ok",              # the viewer's own grids only (none for most roles)
    "report_map.addresses": "L ok ok ok ok ok deny ok",     # the report forms' address search: text and point
    # 台账 pages: staff read and keep their department's ledgers (another department's: 403); others as the service
    # allows (grid workers write in their grids, leaders read); a record out of scope is hidden
    "ledgers.index": "L deny ok ok ok ok deny ok",
    "ledgers.records_list": "L/L deny/deny ok/ok ok/deny ok/ok ok/ok deny/deny ok/ok",
    "ledgers.new_record": "L/L deny/deny ok/ok ok/deny ok/ok deny/deny deny/deny ok/ok",
    "ledgers.new_record POST": "L/L deny/deny ok/ok ok/deny ok/ok deny/deny deny/deny ok/ok",   # empty: told so
    "ledgers.record_page": "L/L deny/deny ok/hide ok/deny ok/hide ok/hide deny/deny ok/ok",
    "ledgers.edit_record POST": "L/L deny/deny ok/hide ok/deny ok/hide deny/deny deny/deny ok/ok",
    "ledgers.retire_record POST": "L/L deny/deny go/hide go/deny go/hide deny/deny deny/deny go/go",  # no version
    "ledgers.record_history": "L/L deny/deny ok/hide ok/deny ok/hide ok/hide deny/deny ok/ok",
    "ledgers.record_file": "L/L deny/deny hide/hide hide/deny hide/hide hide/hide deny/deny hide/hide",  # a case's file
    "setup.map_tiles POST": "L deny deny deny deny deny deny ok",       # the base map's tile URL (empty: clears)
    "map.layer": "L/L hide/hide ok/ok ok/ok ok/ok ok/ok hide/hide ok/ok",
    # -- REST API -----------------------------------------------------------------------------------------------
    "api.openapi_document": "ok ok ok ok ok ok ok ok",
    "api.unknown_address": "L/L hide/hide hide/hide hide/hide hide/hide hide/hide hide/hide hide/hide",
    "api.unknown_address POST": "L/L hide/hide hide/hide hide/hide hide/hide hide/hide deny/deny hide/hide",
    "api.list_themes": "L ok ok ok ok ok deny ok",
    "api.read_theme": "L/L ok/ok ok/ok ok/ok ok/ok ok/ok deny/deny ok/ok",
    "api.list_cases": "L ok ok ok ok ok deny ok",
    "api.read_case": "L/L ok/hide ok/hide ok/hide ok/hide ok/hide deny/deny ok/ok",
    "api.create_case POST": "L ok ok deny ok deny deny ok",
    "api.case_suggestions": "L/L deny/deny deny/deny deny/deny ok/hide ok/hide deny/deny ok/ok",
    "api.case_duplicates": "L/L deny/deny ok/hide deny/deny ok/hide ok/hide deny/deny ok/ok",
    "api.merge_case POST": "L/L deny/deny deny/deny deny/deny ok/hide deny/deny deny/deny ok/ok",
    "api.unmerge_case POST": "L/L deny/deny deny/deny deny/deny ok/hide deny/deny deny/deny ok/ok",
    "api.list_co_handlers": "L/L deny/deny ok/hide ok/hide ok/hide ok/hide deny/deny ok/ok",
    "api.assign_co_handlers POST": "L/L deny/deny deny/deny deny/deny ok/hide deny/deny deny/deny ok/ok",
    "api.co_handler_feedback POST": "L/L deny/deny deny/deny deny/hide deny/deny deny/deny deny/deny ok/ok",  # lead
    "api.overrule_co_handler POST": "L/L deny/deny deny/deny deny/deny ok/hide deny/deny deny/deny ok/ok",
    "api.withdraw_co_handler POST": "L/L deny/deny deny/deny deny/deny ok/hide deny/deny deny/deny ok/ok",
    "api.list_appeals": "L deny deny ok ok ok deny ok",
    "api.create_appeal POST": "L/L deny/deny deny/deny ok/hide deny/deny deny/deny deny/deny deny/deny",
    "api.withdraw_appeal POST": "L/L deny/deny deny/deny ok/hide deny/deny deny/deny deny/deny deny/deny",
    "api.decide_appeal POST": "L/L deny/deny deny/deny deny/deny ok/hide deny/deny deny/deny ok/ok",
    "api.read_ranking": "L deny deny ok ok ok deny ok",
    "api.publish_ranking POST": "L deny deny deny deny deny deny ok",
    "api.take_transition POST": "L/L deny/deny deny/no deny/no ok/hide deny/no deny/deny ok/ok",  # accept
    "api.urge_case POST": "L/L deny/deny deny/no deny/no ok/hide ok/hide deny/deny ok/ok",
    "api.upload_attachment POST": "L ok ok ok ok deny deny ok",  # leaders only read: nothing to attach
    "api.list_grids": "L deny ok ok ok ok deny ok",
    "api.read_grid": "L/L deny/deny ok/hide hide/hide ok/hide ok/hide deny/deny ok/ok",
    "api.list_regions": "L deny ok ok ok ok deny ok",       # public geography, for work roles
    "api.read_region": "L/L deny/deny ok/ok ok/ok ok/ok ok/ok deny/deny ok/ok",
    "api.list_layers": "L ok ok ok ok ok deny ok",
    "api.layer_features": "L/L deny/deny ok/ok ok/ok ok/ok ok/ok deny/deny ok/ok",
    "api.list_visits": "L deny ok ok ok ok deny ok",
    "api.read_visit": "L/L deny/deny ok/hide hide/hide ok/hide ok/hide deny/deny ok/ok",
    "api.create_visit POST": "L deny ok deny deny deny deny ok",
    # 台账 (department ledgers): read in scope, written by the roles that keep them (PUT/DELETE: tests/web/test_api_records.py)
    "api.list_records": "L/L deny/deny ok/ok ok/ok ok/ok ok/ok deny/deny ok/ok",
    "api.read_record": "L/L deny/deny ok/hide ok/hide ok/hide ok/hide deny/deny ok/ok",
    "api.record_history": "L/L deny/deny ok/hide ok/hide ok/hide ok/hide deny/deny ok/ok",
    "api.create_record POST": "L/L deny/deny ok/ok ok/ok ok/ok deny/deny deny/deny ok/ok",  # empty body: told so
    **{f"api.list_{kind}": "L deny ok ok ok ok deny ok"
       for kind in ("households", "residents", "key_persons", "key_places", "units")},
    **{f"api.read_{kind}": "L/L deny/deny ok/hide hide/hide ok/hide ok/hide deny/deny ok/ok"
       for kind in ("households", "residents", "key_persons", "key_places", "units")},
    "api.reveal_residents POST": "L/L deny/deny ok/hide deny/deny ok/hide deny/deny deny/deny deny/deny",
    "api.reveal_key_persons POST": "L/L deny/deny ok/hide deny/deny ok/hide deny/deny deny/deny deny/deny",
    # -- Open311 (without a key: the public view of citizens' themes; with a key: that account's scope) ----------
    "open311.openapi_document": "ok ok ok ok ok ok ok ok",
    "open311.unknown": "hide/hide hide/hide hide/hide hide/hide hide/hide hide/hide hide/hide hide/hide",
    "open311.unknown POST": "hide/hide hide/hide hide/hide hide/hide hide/hide hide/hide deny/deny hide/hide",
    "open311.services": "ok ok ok ok ok ok ok ok",
    "open311.service_definition": "ok/hide ok/hide ok/hide ok/hide ok/hide ok/hide ok/hide ok/hide",
    "open311.list_requests": "ok ok ok ok ok ok ok ok",
    "open311.post_request POST": "ok ok ok ok ok ok deny ok",
    "open311.get_request": "ok/ok ok/hide ok/hide ok/hide ok/hide ok/hide hide/hide ok/ok",
    "open311.token": "hide/hide hide/hide hide/hide hide/hide hide/hide hide/hide hide/hide hide/hide",
}
# Auditors change nothing: every POST of theirs but signing in and out and their own account is refused.
# Runs last: it ends the session.
LAST = {"auth.logout POST"}

# POSTs run after every GET, role by role, the roles that may change a case last (so a step taken by one role
# never turns another role's refusal into a conflict), and signing out at the very end.
POST_ORDER = ("anonymous", "citizen", "grid_worker", "department_staff", "leader", "auditor", "operator", "admin")


def _matches(expected: str, seen: str, method: str) -> bool:
    if expected == "no":
        return seen in ("L", "deny", "hide")
    if expected == "ok" and method == "POST":  # reached the action: anything but a refusal or a crash
        return seen not in ("L", "deny", "hide") and not seen.startswith("status 5")
    if expected == "deny" and seen == "status 409":
        return False
    return expected == seen


@pytest.fixture
def trust(platform):
    return tw.build(platform)


@pytest.fixture
def trust_app(platform):
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}, platform=platform)


def signed_in_clients(app, world: tw.TrustWorld) -> dict:
    clients = {}
    for role, username in ACCOUNT.items():
        client = app.test_client()
        if username:
            response = client.post("/login", data={"username": username, "password": tw.PASSWORD})
            assert response.status_code == 302 and "/login" not in response.headers["Location"], username
        clients[role] = client
    return clients


def _headers(world, role: str, path: str) -> dict:
    username = ACCOUNT[role]
    if username and path.startswith(("/api/", "/open311/")):
        return {"Authorization": f"Bearer {world.keys[username]}"}
    return {}


def _audit_count(platform) -> int:
    with platform.db.session() as session:
        return session.scalar(select(func.count()).select_from(AuditRecord).where(
            ~AuditRecord.action.like("auth.%"), ~AuditRecord.action.like("account.%"),
            ~AuditRecord.action.like("apikey.%")))


def _cells(app, world, services):
    """(route key, rule, method, role, side, expected outcome) for every cell of the matrix."""
    rules = sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint))
    missing, cells = [], []
    for rule in rules:
        for method in sorted(rule.methods & {"GET", "POST"}):
            key = rule.endpoint if method == "GET" else f"{rule.endpoint} POST"
            if key not in EXPECTED:
                missing.append(f"{key} ({rule.rule})")
                continue
            tokens = EXPECTED[key].split()
            assert len(tokens) == len(ROLES), key
            for role, token in zip(ROLES, tokens):
                sides = token.split("/")
                assert len(sides) in (1, 2), (key, token)
                if not rule.arguments:  # the same endpoint also answers a rule without an object
                    sides = sides[:1]
                for side, expected in zip("ab", sides):
                    cells.append((key, rule, method, role, side, expected))
    assert not missing, "routes without a row in EXPECTED (add what each role may do): " + ", ".join(missing)
    return sorted(cells, key=lambda cell: (cell[0] in LAST, cell[2] == "POST",
                                           POST_ORDER.index(cell[3]) if cell[2] == "POST" else 0))


def test_every_route_every_role_in_and_out_of_scope(platform, trust, trust_app):
    clients = signed_in_clients(trust_app, trust)
    services = [item["service_code"] for item in clients["anonymous"].get("/open311/v2/services.json").get_json()]
    failures, checked = [], 0
    for key, rule, method, role, side, expected in _cells(trust_app, trust, services):
        values = {argument: matrix.argument_value(trust, rule, argument, side, services) for argument in rule.arguments}
        path = rule.build(values)[1] if rule.arguments else rule.rule
        api = path.startswith("/api/")
        before = _audit_count(platform) if method == "POST" and expected != "ok" else None
        if method == "GET":
            response = clients[role].get(path, headers=_headers(trust, role, path))
        else:
            response = clients[role].post(path, headers=_headers(trust, role, path),
                                          **matrix.body(rule.endpoint, side, trust))
        seen = matrix.outcome(response, api)
        checked += 1
        if not _matches(expected, seen, method):
            failures.append(f"{key} {path} as {role}: expected {expected}, got {seen}")
        elif method == "GET" and seen == "ok" and (leak := matrix.leak(rule.endpoint, role, path, response)):
            failures.append(f"{key} {path} as {role}: shows side B's {leak!r}")
        elif before is not None and _audit_count(platform) != before:
            failures.append(f"{key} {path} as {role}: refused, yet something was changed (audit log grew)")
    print(f"\nauthorization matrix: {checked} cells checked")
    assert not failures, f"{len(failures)} of {checked} cells wrong:\n" + "\n".join(failures)
    assert checked > 1000


# What each role counts in each list of the API (side A has one of each; the administrator sees both sides).
# Department staff see their department's cases and records, not the population register or the grids' contents.
TOTALS = {
    "citizen": {"cases": 1},
    "grid_worker": {"cases": 1, "residents": 1, "key-persons": 1, "key-places": 1, "households": 1, "units": 1,
                    "visits": 1},
    "department_staff": {"cases": 1, "residents": 0, "key-persons": 0, "key-places": 0, "households": 0,
                         "units": 0, "visits": 0},
    "operator": {"cases": 1, "residents": 1, "key-persons": 1, "key-places": 1, "households": 1, "units": 1,
                 "visits": 1},
    "leader": {"cases": 1, "residents": 1, "key-persons": 1, "key-places": 1, "households": 1, "units": 1,
               "visits": 1},
    "admin": {"cases": 2, "residents": 2, "key-persons": 2, "key-places": 2, "households": 2, "units": 2,
              "visits": 2},
}
# Who finds the planted resident by ID number (a search is a list: the same scope).
FINDS_CANARY = {"grid_worker": 1, "department_staff": 0, "operator": 1, "leader": 1, "admin": 1}
EXPORTED_CASES = {"grid_worker": 1, "department_staff": 1, "operator": 1, "leader": 1, "admin": 2}
EXPORTED_RECORDS = {"grid_worker": 1, "department_staff": 1, "operator": 1, "leader": 1, "admin": 2}


def _api(client, world, role, path, **params):
    return client.get(f"/api/v1{path}", query_string=params,
                      headers={"Authorization": f"Bearer {world.keys[ACCOUNT[role]]}"})


def test_lists_searches_maps_exports_and_counts_hold_only_what_is_in_scope(platform, trust, trust_app):
    client, checked = trust_app.test_client(), 0
    for role, totals in TOTALS.items():
        for kind, total in totals.items():
            answer = _api(client, trust, role, f"/{kind}", per_page=100).get_json()
            assert answer["total"] == total == len(answer["items"]), (role, kind, answer)
            checked += 1
            if role != "admin":
                assert all(not item.get("region_code", "").startswith(OUT_PREFIX) for item in answer["items"])
    for role, found in FINDS_CANARY.items():
        for kind in ("residents", "key-persons"):
            mine = _api(client, trust, role, f"/{kind}", id_number=tw.CANARY_ID).get_json()
            other = _api(client, trust, role, f"/{kind}", id_number=tw.OTHER_ID).get_json()
            assert mine["total"] == found, (role, kind)
            assert other["total"] == (1 if role == "admin" else 0), (role, kind)
            checked += 2
    bad = _api(client, trust, "operator", "/residents", id_number="62010219")
    assert bad.status_code == 400 and "id_number" in bad.get_json()["error"]["fields"]
    clients = signed_in_clients(trust_app, trust)
    for role in ROLES[1:]:
        features = clients[role].get("/map/cases.geojson").get_json()["features"]
        ids = {feature["id"] for feature in features}
        assert trust.b["case"] not in ids or role == "admin", role
        # the zoomed-out map's circles count exactly the cases the markers show, no case out of scope
        assert clients[role].get("/map/case-clusters.geojson?level=village").get_json()["casesMatched"] == len(ids)
        for layer in (tw.THEME_A, tw.THEME_B):
            response = clients[role].get(f"/map/layers/{layer}.geojson")
            if response.status_code == 200:
                ids = {feature["id"] for feature in response.get_json()["features"]}
                assert trust.b["record"] not in ids or role == "admin", (role, layer)
            checked += 1
        checked += 1
    with platform.db.session() as session:
        for role, expected in EXPORTED_CASES.items():
            viewer = actor_for(session, session.scalar(select(Account).where(Account.username == ACCOUNT[role])))
            for export, count in ((exporting.export_cases, expected), (exporting.export_records,
                                                                         EXPORTED_RECORDS[role])):
                stream = io.BytesIO()
                assert export(session, viewer, stream, fmt="csv") == count, (role, export.__name__)
                text = stream.getvalue().decode("utf-8-sig")
                assert role == "admin" or not re.search(OUT_PREFIX + "|103\\.72", text), (role, export.__name__)
                checked += 1
        session.rollback()
    print(f"\nscope of lists, searches, map layers and exports: {checked} checks")
