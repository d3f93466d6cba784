"""The canary: a resident and a key person with a known valid ID number, mobile number and exact address are
planted (tests/fixtures/trust_world.py: also in a case's description, a visit, a key person's note and a theme record),
then every account whose role must not see them fetches every page (app.url_map, URL parameters filled with the
ids of the planted and the other side's objects), every API answer (the paths of the OpenAPI document, with the
planted ID number as a search), every Open311 answer (JSON and XML), every export, and the logs (caplog and a log
file) are read: the plain ID number, its birth-date digits, and — where the role does not need them — the plain
phone and address are found 0 times. Nor is the planted resident's age, except by the roles that may reveal its
number (an age and the masked number leave a year of birth dates, which searches by number then settle).

The same texts also carry another ID number, a mobile and a landline written the ways people write them (with
spaces or dashes between the groups, with +86 or 0086: `WRITTEN`), in a case's description and timeline, a key
person's note, a visit, a theme record, a unit's contact phone, the audit log and a log line; each answer is
searched for every written form and, with spaces, dashes, parentheses and plus signs taken out, for the digits.

Who needs what (core.masking.NEEDED_BY): no role sees an ID number whole (revealing one is a separate, audited
POST); grid workers and operators see phones, and they and department staff see exact addresses, but only of
what is in their scope — so a grid worker of another grid, an operator of another region and another
department's staff are unprivileged for everything.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re

from sqlalchemy import select

from minqing.core.ops import exporting
from minqing.core.privacy import idcard
from minqing.core.actors import actor_for, system_actor
from minqing.core.changes import record_case_event, record_change
from minqing.core.models import Account, Case, KeyPerson, ThemeRecord, Unit, Visit
from minqing.web import create_app

from tests.fixtures import trust_world as tw

ANONYMOUS = "anonymous"
# Accounts that see the phone / the exact address of the planted people (in scope and the role needs it).
SEES_PHONE = {"worker", "operator"}
SEES_ADDRESS = {"worker", "operator", "staff"}
# Accounts that may reveal the planted resident's number, and so see the age that narrows its birth date.
SEES_AGE = {"worker", "operator"}
BIRTH_DASHED = tw.BIRTH.isoformat()
_TODAY = dt.date.today()
AGE = _TODAY.year - tw.BIRTH.year - ((_TODAY.month, _TODAY.day) < (tw.BIRTH.month, tw.BIRTH.day))
# Numbers as people write them (finding 4 of issue 21): another ID number, a mobile and a landline.
WRITTEN_ID = idcard.make("620102001001", dt.date(1941, 5, 1), 815)
WRITTEN_MOBILE, WRITTEN_LANDLINE = "18617277861", "09318461537"
WRITTEN = {
    "id": [f"{WRITTEN_ID[:6]} {WRITTEN_ID[6:14]} {WRITTEN_ID[14:]}",
           f"{WRITTEN_ID[:6]}-{WRITTEN_ID[6:14]}-{WRITTEN_ID[14:]}",
           f"{WRITTEN_ID[:6]} {WRITTEN_ID[6:10]} {WRITTEN_ID[10:14]} {WRITTEN_ID[14:]}",
           f"{WRITTEN_ID[:6]}.{WRITTEN_ID[6:14]}.{WRITTEN_ID[14:]}"],
    "phone": ["+8618617277861", "186 1727 7861", "186-1727-7861", "+86 186 1727 7861", "0086-186-1727-7861",
              "186.1727.7861", "１８６１７２７７８６１", "0931-8461537", "(0931) 8461 537", "+86 931 8461537"],
}
WRITTEN_TEXT = "联系方式：" + "；".join(WRITTEN["id"] + WRITTEN["phone"]) + "。"
# What is taken out of an answer before its digits are searched: separators, also as URL and HTML escapes.
_SEPARATORS = re.compile(rb"[\s()+\-]|%20|%2[bB]|&#43;|&nbsp;|\\u002[bB]")
# Every account of the world (the citizen who reported the planted case, a grid worker of the same grid, of
# another grid and of another county, department staff of the case's department and of another, an operator of
# the region and of another, a leader, an auditor, the administrator), with the anonymous visitor.
UNPRIVILEGED = ("citizen", "worker", "worker_b", "worker_jq", "staff", "staff_b", "operator", "operator_b",
                "leader", "auditor", "admin")
ROW_KINDS = {"households": "household", "residents": "resident", "key_persons": "key_person",
             "key-persons": "key_person", "key_places": "key_place", "key-places": "key_place", "units": "unit"}


def forbidden_for(account: str) -> dict[str, str]:
    """What this account must never be shown."""
    secrets = {"ID number": tw.CANARY_ID, "birth-date digits": tw.CANARY_BIRTH_DIGITS, "birth date": BIRTH_DASHED,
               "written ID number's digits": WRITTEN_ID, "written ID number's birth date": WRITTEN_ID[6:14]}
    secrets.update({f"ID number written {form!r}": form for form in WRITTEN["id"]})
    if account not in SEES_AGE:
        secrets.update({"age": f'"age": {AGE}', "age (compact)": f'"age":{AGE}'})
    if account not in SEES_PHONE:
        secrets["phone"] = tw.CANARY_PHONE
        secrets.update({"written mobile's digits": WRITTEN_MOBILE, "written landline's digits": WRITTEN_LANDLINE})
        secrets.update({f"phone written {form!r}": form for form in WRITTEN["phone"]})
    if account not in SEES_ADDRESS:
        secrets["address"] = tw.CANARY_ADDRESS
    return secrets


def _fill(world: tw.TrustWorld, name: str, endpoint_or_path: str, side: str, services: list[str]):
    objects = world.a if side == "a" else world.b
    if name == "row_id":
        kind = next(kind for kind in ROW_KINDS if kind in endpoint_or_path)
        return objects[ROW_KINDS[kind]]
    if name == "key":
        if "builder" in endpoint_or_path:
            return objects.get("draft_key", "none")
        return tw.THEME_A if side == "a" else tw.THEME_B
    if name == "filename":
        return "leaflet.css" if "vendor" in endpoint_or_path else "site.css"
    return {"case_id": objects["case"], "attachment_id": objects["attachment"], "visit_id": objects["visit"],
            "grid_id": world.grids["G620102001001001" if side == "a" else "G620103001"],
            "region_id": world.regions["620102001001" if side == "a" else "620103001001"],
            "publication_id": objects["publication"], "request_id": str(objects["case"]),
            "record_id": objects["record"], "household_id": objects["household"],
            "matter_id": objects["matter"], "brief_id": objects["brief"],
            "code": services[0], "token": "none", "fmt": "json", "name": "accept", "action": "disable",
            "package": "leaflet", "rest": "none",
            "account_id": world.accounts["worker_jq"] if side == "a" else 999_999, "grant_id": 999_999,
            "department_id": 1 if side == "a" else 999_999}[name]


def page_urls(app, world, services) -> list[str]:
    """Every GET route outside the API (the API is walked from its OpenAPI document), for both sides."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith("/api/"):
            continue
        for side in ("a", "b") if rule.arguments else ("a",):
            values = {name: _fill(world, name, rule.endpoint, side, services) for name in rule.arguments}
            url = rule.build(values)[1] if rule.arguments else rule.rule
            urls.append(url)
            if rule.endpoint.startswith("open311.") and "fmt" in rule.arguments:
                urls.append(url.replace(".json", ".xml"))
    return sorted(set(urls))


def openapi_urls(document: dict, prefix: str, world, services) -> list[str]:
    """Every GET path of an OpenAPI document, path parameters filled for both sides; lists also searched by the
    planted ID number and asked for their largest page."""
    urls = []
    for path, operations in document["paths"].items():
        if "get" not in operations:
            continue
        names = re.findall(r"{(\w+)}", path)
        for side in ("a", "b") if set(names) - {"fmt"} else ("a",):
            filled = path
            for name in names:
                filled = filled.replace("{" + name + "}", str(_fill(world, name, path, side, services)))
            for fmt in ("json", "xml") if "{fmt}" in path else ("",):
                url = prefix + (filled.replace(".json", "." + fmt) if fmt else filled)
                urls.append(url)
                queries = {p["name"] for p in operations["get"].get("parameters", []) if p["in"] == "query"}
                if "id_number" in queries:
                    urls.append(f"{url}?id_number={tw.CANARY_ID}")
                if "per_page" in queries:
                    urls.append(f"{url}?per_page=100")
    return sorted(set(urls))


def _sign_in(app, account: str):
    client = app.test_client()
    if account != ANONYMOUS:
        response = client.post("/login", data={"username": account, "password": tw.PASSWORD})
        assert response.status_code == 302 and "/login" not in response.headers["Location"], account
    return client


def _exports(platform, account: str) -> list[tuple[str, bytes]]:
    if account == ANONYMOUS:
        return []
    answers = []
    with platform.db.session() as session:
        viewer = actor_for(session, session.scalar(select(Account).where(Account.username == account)))
        for export in (exporting.export_cases, exporting.export_records):
            for fmt in exporting.FORMATS:
                stream = io.BytesIO()
                try:
                    export(session, viewer, stream, fmt=fmt)
                except exporting.ExportError:
                    pass  # this role may not export: nothing written
                answers.append((f"{export.__name__}.{fmt}", _xlsx_text(stream.getvalue()) if fmt == "xlsx"
                                else stream.getvalue()))
        session.rollback()
    return answers


def _xlsx_text(data: bytes) -> bytes:
    """An XLSX file's cells as text (the file itself is compressed, so a search of its bytes would prove
    nothing)."""
    if not data:
        return b""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True)
    return "\n".join(str(cell) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)
                     for cell in row if cell is not None).encode()


def _readable(body: bytes) -> bytes:
    """The body, and when it is JSON, its text again with non-ASCII characters as themselves (an escaped Chinese
    address would otherwise never match)."""
    try:
        return body + b"\n" + json.dumps(json.loads(body), ensure_ascii=False).encode()
    except ValueError:
        return body


def _hits(body: bytes, secrets: dict[str, str]) -> list[str]:
    """Each secret searched as written and, when it is a run of digits, in the body without separators."""
    body = _readable(body)
    digits = _SEPARATORS.sub(b"", body)
    return [what for what, value in secrets.items()
            if value.encode() in body or (value.isdigit() and value.encode() in digits)]


def plant_written_numbers(platform, world: tw.TrustWorld) -> None:
    """The written forms in free text on side A (and a unit's contact phone), and in the audit log, the way each
    gets there: through the one change function."""
    system = system_actor("test")
    with platform.db.session() as session:
        case = session.get(Case, world.a["case"])
        case.description = f"{case.description}。{WRITTEN_TEXT}"
        record_case_event(session, system, case, "comment", from_status=case.status, to_status=case.status,
                          comment=WRITTEN_TEXT)
        key_person = session.get(KeyPerson, world.a["key_person"])
        key_person.note = f"{key_person.note}。{WRITTEN_TEXT}"
        visit = session.get(Visit, world.a["visit"])
        visit.summary = f"{visit.summary}。{WRITTEN_TEXT}"
        record = session.get(ThemeRecord, world.a["record"])
        record.form_data = {**record.form_data, "note": f"{record.form_data['note']}。{WRITTEN_TEXT}"}
        session.get(Unit, world.a["unit"]).contact_phone = "+86 186 1727 7861"
        record_change(session, system, "test.canary", object_type="case", object_id=case.id,
                      summary=WRITTEN_TEXT, details={"note": WRITTEN_TEXT})
        session.commit()


def test_canary_is_found_nowhere_an_unprivileged_role_looks(platform, caplog, tmp_path):
    world = tw.build(platform)
    plant_written_numbers(platform, world)
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}, platform=platform)
    log_file = tmp_path / "minqing.log"
    file_handler = logging.FileHandler(log_file, encoding="utf-8")
    logging.getLogger().addHandler(file_handler)
    caplog.set_level(logging.DEBUG, logger="minqing")  # the app's own loggers, at every level
    try:
        anonymous = app.test_client()
        services = [item["service_code"] for item in anonymous.get("/open311/v2/services.json").get_json()]
        pages = page_urls(app, world, services)
        api = openapi_urls(anonymous.get("/api/v1/openapi.json").get_json(), "/api/v1", world, services)
        open311 = openapi_urls(anonymous.get("/open311/v2/openapi.json").get_json(), "/open311/v2", world,
                               services)
        checked, hits = 0, []
        for account in (ANONYMOUS, *UNPRIVILEGED):
            secrets = forbidden_for(account)
            client = _sign_in(app, account)
            headers = {} if account == ANONYMOUS else {"Authorization": f"Bearer {world.keys[account]}"}
            answers = [(url, client.get(url).get_data()) for url in pages]
            answers += [(url, client.get(url, headers=headers).get_data()) for url in api + open311]
            answers += _exports(platform, account)
            for where, body in answers:
                checked += 1
                hits += [f"{account} {where}: {what}" for what in _hits(body, secrets)]
        # The log lines of all of that, and lines that name the canary on purpose (a look-up gone wrong, an
        # error with the number in it): every record is masked before any handler writes it.
        logging.getLogger("minqing.web").warning("查找身份证号 %s 失败，联系电话 %s", tw.CANARY_ID, tw.CANARY_PHONE)
        logging.getLogger("minqing.core").info("回访：%s", WRITTEN_TEXT)
        try:
            raise ValueError(f"bad id {tw.CANARY_ID}")
        except ValueError:
            logging.getLogger("minqing.core").exception("lookup failed")
        file_handler.flush()
        logs = {"caplog": caplog.text.encode(), "log file": log_file.read_bytes()}
        for where, body in logs.items():
            checked += 1
            hits += [f"logs {where}: {what}" for what in _hits(body, forbidden_for(ANONYMOUS))]
        assert "620102********" in caplog.text and "158****7264" in log_file.read_text(encoding="utf-8")
    finally:
        logging.getLogger().removeHandler(file_handler)
        file_handler.close()
    print(f"\ncanary: {checked} responses checked ({len(pages)} pages, {len(api)} API and {len(open311)} Open311 "
          f"answers per account, {len(UNPRIVILEGED) + 1} accounts, exports, logs), {len(hits)} hits")
    assert not hits, "\n".join(hits)
    assert checked > 1200


def test_the_privileged_do_see_the_canary(platform):
    """The same walk would find the values where they are meant to be: the canary is really there."""
    world = tw.build(platform, with_drafts=False)
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}, platform=platform)
    worker = _sign_in(app, "worker")
    headers = {"Authorization": f"Bearer {world.keys['worker']}"}
    resident = worker.get(f"/api/v1/residents/{world.a['resident']}", headers=headers).get_json()
    assert resident["phone"] == tw.CANARY_PHONE
    assert resident["id_number"] == tw.CANARY_ID[:6] + "********" + tw.CANARY_ID[-4:]
    revealed = worker.post(f"/api/v1/residents/{world.a['resident']}/reveal", headers=headers,
                           json={"field": "id_number"}).get_json()
    assert revealed["value"] == tw.CANARY_ID
    case = worker.get(f"/work/cases/{world.a['case']}").get_data(as_text=True)
    assert tw.CANARY_PHONE in case and tw.CANARY_ID not in case
