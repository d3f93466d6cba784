"""Open311 GeoReport v2 at /open311/v2: a client written like a third-party one lists services, reads a definition,
posts form-encoded requests and reads them back in JSON and XML; every endpoint with good and bad input; scope
by key and the public view's masking."""
from __future__ import annotations

import datetime as dt
import re
from xml.etree import ElementTree  # parses only this app's own answers in the tests

import pytest
from sqlalchemy import select, update

from minqing import workflows
from minqing.core.accounts import apikeys
from minqing.core.actors import actor_for, system_actor
from minqing.core.models import Account, ApiKey, Case, Department, utcnow

from tests.fixtures.web import INSIDE, OTHER

BASE = "/open311/v2"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
HEATING = "5401"          # 冬季供暖 / 室温不达标: required address and problem type, more when it is too cold
HEALTH = "1701"           # 公共卫生 / 聚集性疫情线索: a multivaluelist and a date when it is a cluster
VENDING = "1001"          # 城市管理 / 占道经营: photos required, so media_url is
ID_NUMBER = "620102199001011234"
MOBILE = "13912345678"
REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"}


class Open311Client:
    """What an existing Open311 client does: form-encoded POSTs, JSON or XML answers by the URL's extension."""

    def __init__(self, http, api_key: str | None = None):
        self.http, self.api_key = http, api_key

    def get(self, path: str, fmt: str = "json", **params):
        if self.api_key:
            params.setdefault("api_key", self.api_key)
        return self.http.get(f"{BASE}/{path}.{fmt}", query_string=params)

    def post_request(self, fmt: str = "json", headers=None, **fields):
        if self.api_key:
            fields.setdefault("api_key", self.api_key)
        return self.http.post(f"{BASE}/requests.{fmt}", data=fields, headers=headers or {},
                              content_type="application/x-www-form-urlencoded")

    @staticmethod
    def xml(response) -> ElementTree.Element:
        assert response.content_type.startswith("text/xml")
        return ElementTree.fromstring(response.data)


def xml_records(root: ElementTree.Element) -> list[dict]:
    """<root><item><field>text</field>…</item>…</root> → [{field: text or None}]."""
    return [{child.tag: child.text for child in item} for item in root]


def as_text(value):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def assert_error(response, status: int, *fragments: str, fmt: str = "json") -> list[str]:
    assert response.status_code == status, response.get_data(as_text=True)
    if fmt == "xml":
        root = Open311Client.xml(response)
        assert root.tag == "errors"
        errors = [{"code": int(item.findtext("code")), "description": item.findtext("description")} for item in root]
    else:
        errors = response.get_json()
        assert isinstance(errors, list) and errors
    assert all(set(error) == {"code", "description"} and error["code"] == status for error in errors)
    descriptions = [error["description"] for error in errors]
    for fragment in fragments:
        assert any(fragment in description for description in descriptions), (fragment, descriptions)
    return descriptions


@pytest.fixture
def keys(platform, world):
    """An API key for some accounts of the world, by username."""
    made = {}
    with platform.db.session() as session:
        for username in ("admin", "station", "jiuquan", "citizen", "auditor"):
            _row, key = apikeys.create(session, system_actor("test"), username, "open311 test")
            made[username] = key
    return made


@pytest.fixture
def open311(client):
    return Open311Client(client)


def heating(**extra) -> dict:
    fields = {"service_code": HEATING, "lat": str(INSIDE[1]), "long": str(INSIDE[0]),
              "address_string": "城关区张掖路街道永昌路12号3单元", "description": "暖气不热，室内只有14度",
              "attribute[problem_type]": "室温不达标", "attribute[room_temperature]": "14",
              "attribute[estate_name]": "永昌小区", "first_name": "明", "last_name": "王", "phone": MOBILE,
              "email": "wang@example.com", "device_id": "device-1"}
    fields.update(extra)
    return fields


def post_ok(client: Open311Client, **fields) -> dict:
    response = client.post_request(**fields)
    assert response.status_code == 201, response.get_data(as_text=True)
    answer = response.get_json()
    assert isinstance(answer, list) and len(answer) == 1
    return answer[0]


def case_count(platform) -> int:
    with platform.db.session() as session:
        return len(session.scalars(select(Case.id)).all())


# -- a third-party client, end to end -----------------------------------------------------------------------------

def test_a_third_party_client_lists_services_posts_and_reads_back(open311, keys, platform):
    services = open311.get("services").get_json()
    assert isinstance(services, list)
    service = next(item for item in services if item["service_name"] == "室温不达标")
    definition = open311.get(f"services/{service['service_code']}").get_json()
    codes = {attribute["code"]: attribute for attribute in definition["attributes"]}
    fields = {"service_code": service["service_code"], "lat": "36.05", "long": "103.83",
              "description": "暖气不热", "address_string": "永昌路12号"}
    for code, attribute in codes.items():
        if attribute["required"] and attribute["datatype"] == "singlevaluelist":
            fields[f"attribute[{code}]"] = attribute["values"][0]["key"]   # 室温不达标 is the first value
    fields.update({"attribute[room_temperature]": "15.5", "attribute[estate_name]": "永昌小区"})

    reporter = Open311Client(open311.http, keys["station"])
    created = post_ok(reporter, **fields, account_id="crm-42")
    assert set(created) == {"service_request_id", "token", "service_notice", "account_id"}
    assert created["account_id"] == "crm-42" and created["service_request_id"].isdigit()
    assert "永昌路第1网格" in created["service_notice"]

    request = reporter.get(f"requests/{created['service_request_id']}").get_json()
    assert isinstance(request, list) and len(request) == 1
    request = request[0]
    assert set(request) == REQUEST_FIELDS
    assert request["service_code"] == HEATING and request["service_name"] == "室温不达标"
    assert request["status"] == "open" and request["status_notes"] == "待受理"
    assert request["lat"] == 36.05 and request["long"] == 103.83
    for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert TIMESTAMP.match(request[field]) and request[field].endswith("+08:00")

    xml = xml_records(open311.xml(reporter.get(f"requests/{created['service_request_id']}", fmt="xml")))
    assert xml == [{key: as_text(value) for key, value in request.items()}]

    with platform.db.session() as session:
        case = session.get(Case, int(created["service_request_id"]))
        assert case.source == "api" and case.theme_key == "heating.heating_quality" and case.subcategory == HEATING
        assert case.reporter_account_id == session.scalar(select(Account.id).where(Account.username == "station"))
        assert case.reporter_name == "" and case.reporter_phone == ""   # the client sent none
        assert case.form_data["location"] == {"lon": 103.83, "lat": 36.05}
        assert case.form_data["room_temperature"] == 15.5 and case.form_data["problem_type"] == "室温不达标"
        assert case.form_data["description"] == "暖气不热" and case.form_data["address"] == "永昌路12号"
        assert case.grid_id is not None and case.region_code == "620102001001"
        assert case.client_id == created["token"]
        assert request["agency_responsible"] == session.scalar(select(Department.name)
                                                               .where(Department.key == "heating"))
        assert [event.action for event in case.events] == ["report"]


# -- services ---------------------------------------------------------------------------------------------------

def test_services_list_one_per_category_in_json_and_xml(open311):
    response = open311.get("services")
    assert response.status_code == 200 and response.content_type.startswith("application/json")
    services = response.get_json()
    assert len(services) > 100 and len({item["service_code"] for item in services}) == len(services)
    heat = next(item for item in services if item["service_code"] == HEATING)
    assert heat == {"service_code": HEATING, "service_name": "室温不达标", "description": heat["description"],
                    "metadata": True, "type": "realtime", "keywords": heat["keywords"], "group": "冬季供暖"}
    assert "公共事业" in heat["keywords"] and heat["description"]
    root = open311.xml(open311.get("services", fmt="xml"))
    assert root.tag == "services" and all(item.tag == "service" for item in root)
    assert xml_records(root) == [{key: as_text(value) for key, value in item.items()} for item in services]


def test_service_definition_maps_form_fields_to_attributes(open311):
    definition = open311.get(f"services/{HEATING}").get_json()
    assert definition["service_code"] == HEATING
    attributes = {item["code"]: item for item in definition["attributes"]}
    assert "location" not in attributes and "photos" not in attributes       # lat/long and media_url
    assert [item["order"] for item in definition["attributes"]] == list(range(1, len(attributes) + 1))
    problem = attributes["problem_type"]
    assert problem["datatype"] == "singlevaluelist" and problem["required"] is True and problem["variable"] is True
    assert problem["values"][0] == {"key": "室温不达标", "name": "室温不达标"}
    assert attributes["room_temperature"]["datatype"] == "number"
    assert "不小于 -30" in attributes["room_temperature"]["datatype_description"]
    assert attributes["room_temperature"]["required"] is False
    assert "室温不达标" in attributes["room_temperature"]["datatype_description"]   # required when it is
    assert attributes["households_affected"]["datatype"] == "number"
    assert attributes["description"]["datatype"] == "text" and attributes["address"]["datatype"] == "string"
    assert attributes["address"]["required"] is True and attributes["address"]["description"].startswith("详细地址")
    assert "values" not in attributes["address"]

    health = {item["code"]: item for item in open311.get(f"services/{HEALTH}").get_json()["attributes"]}
    assert health["symptoms"]["datatype"] == "multivaluelist"
    assert {"key": "发热", "name": "发热"} in health["symptoms"]["values"]
    assert health["onset_date"]["datatype"] == "datetime"

    root = open311.xml(open311.get(f"services/{HEALTH}", fmt="xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == HEALTH
    symptoms = next(item for item in root.find("attributes") if item.findtext("code") == "symptoms")
    assert symptoms.findtext("datatype") == "multivaluelist" and symptoms.findtext("required") == "false"
    assert [value.findtext("key") for value in symptoms.find("values")] == \
        [value["key"] for value in health["symptoms"]["values"]]
    assert [item.findtext("code") for item in root.find("attributes")] == list(health)


def test_unknown_service_and_unknown_paths_answer_404_in_the_spec_format(open311):
    assert_error(open311.get("services/9999"), 404, "9999")
    assert_error(open311.get("services/9999", fmt="xml"), 404, "9999", fmt="xml")
    assert_error(open311.get("nothing-here"), 404)
    assert_error(open311.get("requests/abc"), 404, "abc")
    assert_error(open311.get("requests/123456"), 404)
    assert_error(open311.http.post(f"{BASE}/services.json"), 405, "POST")
    assert_error(open311.http.delete(f"{BASE}/requests/1.xml"), 405, "DELETE", fmt="xml")


# -- POST requests ----------------------------------------------------------------------------------------------

def test_post_needs_a_valid_api_key(open311, keys, platform):
    assert_error(open311.post_request(**heating()), 400, "api_key")
    assert_error(open311.post_request(fmt="xml", **heating()), 400, "api_key", fmt="xml")
    assert_error(open311.post_request(**heating(api_key="mq_not-a-key")), 403, "api_key")
    with platform.db.session() as session:
        session.execute(update(ApiKey).values(revoked_at=utcnow()))
    assert_error(open311.post_request(**heating(api_key=keys["station"])), 403, "api_key")
    assert case_count(platform) == 0


def test_post_errors_name_the_field_in_chinese(open311, keys, platform):
    client = Open311Client(open311.http, keys["station"])
    assert_error(client.post_request(**heating(service_code="")), 400, "service_code")
    assert_error(client.post_request(**heating(service_code="9999")), 400, "service_code", "9999")
    assert_error(client.post_request(**heating(**{"attribute[problem_type]": "太冷了"})), 400,
                 "attribute[problem_type]：问题类型")
    assert_error(client.post_request(**heating(**{"attribute[room_temperature]": "很冷"})), 400,
                 "attribute[room_temperature]：实测室温")
    assert_error(client.post_request(**heating(**{"attribute[room_temperature]": "99"})), 400,
                 "attribute[room_temperature]：实测室温")
    missing = heating(address_string="")
    del missing["attribute[room_temperature]"]
    assert_error(client.post_request(**missing), 400, "attribute[address]（或 address_string）：详细地址",
                 "attribute[room_temperature]：实测室温")
    assert_error(client.post_request(**heating(**{"attribute[colour]": "红"})), 400, "attribute[colour]")
    assert_error(client.post_request(**heating(**{"attribute[problem_type][]": "管网漏水"})), 400,
                 "attribute[problem_type]")
    assert_error(client.post_request(**heating(lat="", long="")), 400, "lat：", "long：")
    assert_error(client.post_request(**heating(lat="95")), 400, "lat：")
    assert_error(client.post_request(**heating(long="east")), 400, "long：")
    assert_error(client.post_request(**heating(lat="40.0", long="116.4")), 400, "lat/long", "网格")
    assert_error(client.post_request(**heating(phone="call me")), 400, "phone")
    assert_error(client.post_request(**heating(media_url="javascript:alert(1)")), 400, "media_url")
    assert_error(client.post_request(**heating(description="暖" * 1200)), 400, "description：情况描述")
    descriptions = assert_error(client.post_request(fmt="xml", **heating(**{"attribute[problem_type]": "x"})), 400,
                                "attribute[problem_type]", fmt="xml")
    assert all(re.search(r"[\u4e00-\u9fff]", text) for text in descriptions)
    assert case_count(platform) == 0


def test_multivaluelist_number_and_date_attributes(open311, keys, platform):
    client = Open311Client(open311.http, keys["station"])
    fields = {"service_code": HEALTH, "lat": "36.05", "long": "103.83", "description": "某小学多名学生发热",
              "attribute[problem_type]": "聚集性发热", "attribute[cases_count]": "7"}
    assert_error(client.post_request(**fields), 400, "attribute[symptoms]", "attribute[onset_date]")
    assert_error(client.post_request(**fields, **{"attribute[symptoms][]": ["发热", "打喷嚏"],
                                                  "attribute[onset_date]": "2026-02-30"}), 400,
                 "attribute[symptoms]", "attribute[onset_date]：首例发病日期")
    created = post_ok(client, **fields, **{"attribute[symptoms][]": ["发热", "咳嗽"],
                                           "attribute[onset_date]": "2026-01-05"})
    with platform.db.session() as session:
        case = session.get(Case, int(created["service_request_id"]))
        assert case.form_data["symptoms"] == ["发热", "咳嗽"] and case.form_data["cases_count"] == 7
        assert case.form_data["onset_date"] == "2026-01-05"


def test_photo_services_need_a_media_url_which_is_read_back(open311, keys):
    client = Open311Client(open311.http, keys["station"])
    definition = open311.get(f"services/{VENDING}").get_json()
    fields = {"service_code": VENDING, "lat": "36.05", "long": "103.83", "description": "路口占道卖菜"}
    for attribute in definition["attributes"]:
        if attribute["required"]:
            fields[f"attribute[{attribute['code']}]"] = (attribute["values"][-1]["key"] if "values" in attribute
                                                         else "永昌路口")   # the last: 其他, false
    assert_error(client.post_request(**fields), 400, "media_url：此服务要求提供照片")
    created = post_ok(client, **fields, media_url="https://cdn.example.com/p/1.jpg")
    request = client.get(f"requests/{created['service_request_id']}").get_json()[0]
    assert request["media_url"] == "https://cdn.example.com/p/1.jpg"


def test_idempotency_key_makes_a_retry_answer_with_the_first_request_and_tokens_map_to_ids(open311, keys, platform):
    client = Open311Client(open311.http, keys["station"])
    first = post_ok(client, headers={"Idempotency-Key": "crm-req-1"}, **heating())
    again = post_ok(client, headers={"Idempotency-Key": "crm-req-1"}, **heating())
    other = post_ok(client, headers={"Idempotency-Key": "crm-req-2"}, **heating())
    assert first["service_request_id"] == again["service_request_id"] != other["service_request_id"]
    assert first["token"] == again["token"] and first["token"].startswith("o311-")
    assert case_count(platform) == 2
    # the same idempotency key from another account is another request
    elsewhere = post_ok(Open311Client(open311.http, keys["admin"]), headers={"Idempotency-Key": "crm-req-1"},
                        **heating())
    assert elsewhere["service_request_id"] != first["service_request_id"]

    answer = open311.get(f"tokens/{first['token']}").get_json()
    assert answer == [{"service_request_id": first["service_request_id"], "token": first["token"]}]
    assert xml_records(open311.xml(open311.get(f"tokens/{first['token']}", fmt="xml"))) == answer
    assert_error(open311.get("tokens/o311-unknown"), 404, "o311-unknown")
    with platform.db.session() as session:   # a client id from the web pages is no Open311 token
        session.execute(update(Case).where(Case.id == int(other["service_request_id"])).values(client_id="abc123"))
    assert_error(open311.get("tokens/abc123", fmt="xml"), 404, fmt="xml")


# -- GET requests -----------------------------------------------------------------------------------------------

def _report(platform, username: str, point, description: str = "暖气不热", code: str = HEATING) -> int:
    with platform.db.session() as session:
        account = session.scalar(select(Account).where(Account.username == username))
        case = workflows.report_case(
            platform, session, actor_for(session, account), theme_key="heating.heating_quality", title="暖气不热",
            description=description, lon=point[0], lat=point[1], category="公共事业", subcategory=code,
            source="grid_worker", reporter_name="王明", reporter_phone=MOBILE,
            address="城关区永昌路12号3单元501室",
            form_data={"address": "永昌路12号", "problem_type": "管网漏水"})
        return case.id


def _backdate(platform, case_id: int, days: int) -> None:
    with platform.db.session() as session:
        session.execute(update(Case).where(Case.id == case_id)
                        .values(created_at=utcnow() - dt.timedelta(days=days)))


def test_requests_filters_and_status_mapping(open311, keys, platform, world):
    client = Open311Client(open311.http, keys["admin"])
    recent = _report(platform, "worker", INSIDE)
    old = _report(platform, "worker", INSIDE)
    ancient = _report(platform, "worker", INSIDE)
    voided = _report(platform, "worker", INSIDE)
    leak = _report(platform, "worker", INSIDE, code="5402")
    _backdate(platform, old, 30)
    _backdate(platform, ancient, 120)
    with platform.db.session() as session:
        station = actor_for(session, session.scalar(select(Account).where(Account.username == "station")))
        workflows.transition(platform, session, session.get(Case, voided), "void", station,
                             {"kind": "invalid", "reason": "重复信息"})

    def ids(**params):
        response = client.get("requests", **params)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [int(item["service_request_id"]) for item in response.get_json()]

    assert ids() == [leak, voided, recent, old]                     # last 90 days, newest first
    assert ids(status="closed") == [voided]
    assert ids(status="open") == [leak, recent, old]
    assert ids(status="open,closed") == [leak, voided, recent, old]
    assert ids(service_code="5402") == [leak]
    assert ids(service_code=f"{HEATING},5402", status="open") == [leak, recent, old]
    voided_request = client.get(f"requests/{voided}").get_json()[0]
    assert voided_request["status"] == "closed" and voided_request["status_notes"] == "已作废"
    assert ids(service_request_id=f"{ancient},{recent}", status="closed") == [recent, ancient]   # others ignored
    start = (utcnow() - dt.timedelta(days=125)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert ids(start_date=start.isoformat(timespec="seconds")) == [ancient]                     # 90 days on
    assert ids(start_date=(utcnow() - dt.timedelta(days=100)).date().isoformat()) == [old]
    assert ids(start_date=(utcnow() - dt.timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%SZ"),
               end_date=(utcnow() - dt.timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%SZ")) == [old]
    assert ids(end_date=(utcnow() - dt.timedelta(days=100)).date().isoformat()) == [ancient]

    assert_error(client.get("requests", start_date="yesterday"), 400, "start_date")
    assert_error(client.get("requests", end_date="2026-13-01", fmt="xml"), 400, "end_date", fmt="xml")
    assert_error(client.get("requests", start_date="2026-03-01", end_date="2026-02-01"), 400, "end_date")
    assert_error(client.get("requests", start_date="2025-01-01", end_date="2025-12-31"), 400, "90")
    assert_error(client.get("requests", status="pending"), 400, "status")
    assert_error(client.get("requests", service_request_id="1;drop"), 400, "service_request_id")
    assert_error(client.get("requests", service_code="9999"), 404, "9999")
    assert_error(client.get("requests", api_key="mq_wrong"), 403, "api_key")


def test_requests_at_most_1000(open311, keys, platform, world):
    with platform.db.session() as session:
        now = utcnow()
        session.add_all([Case(theme_key="heating.heating_quality", title="x", subcategory=HEATING, source="api",
                              status="reported", created_at=now - dt.timedelta(minutes=n), updated_at=now)
                         for n in range(1003)])
    answer = Open311Client(open311.http, keys["admin"]).get("requests").get_json()
    assert len(answer) == 1000


def test_a_township_operators_key_sees_only_its_requests(open311, keys, platform, world):
    mine = post_ok(Open311Client(open311.http, keys["station"]), **heating())["service_request_id"]
    theirs = post_ok(Open311Client(open311.http, keys["jiuquan"]),
                     **heating(lat=str(OTHER[1]), long=str(OTHER[0])))["service_request_id"]
    citizens = post_ok(Open311Client(open311.http, keys["citizen"]), **heating())["service_request_id"]
    station = Open311Client(open311.http, keys["station"])
    jiuquan = Open311Client(open311.http, keys["jiuquan"])
    citizen = Open311Client(open311.http, keys["citizen"])
    auditor = Open311Client(open311.http, keys["auditor"])
    assert {item["service_request_id"] for item in station.get("requests").get_json()} == {mine, citizens}
    assert [item["service_request_id"] for item in jiuquan.get("requests").get_json()] == [theirs]
    assert [item["service_request_id"] for item in citizen.get("requests").get_json()] == [citizens]
    assert auditor.get("requests").get_json() == []
    assert_error(jiuquan.get(f"requests/{mine}"), 404)
    assert_error(citizen.get(f"requests/{mine}", fmt="xml"), 404, fmt="xml")
    assert jiuquan.get("requests", service_request_id=f"{mine},{theirs}").get_json()[0]["service_request_id"] == theirs


def test_the_public_view_never_shows_personal_data(open311, keys, platform, world):
    planted = f"楼道漏水，联系人电话{MOBILE}，身份证{ID_NUMBER}"
    created = post_ok(Open311Client(open311.http, keys["station"]), **heating(description=planted))
    direct = _report(platform, "worker", INSIDE, description=planted)
    public = [open311.get("requests"), open311.get("requests", fmt="xml"),
              open311.get(f"requests/{created['service_request_id']}"),
              open311.get(f"requests/{direct}", fmt="xml")]
    for response in public:
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        for secret in (MOBILE, ID_NUMBER, "王明", "王", "wang@example.com", "3单元", "501"):
            assert secret not in body, secret
        assert "139****5678" in body and "620102********1234" in body
    items = open311.get("requests").get_json()
    assert {item["service_request_id"] for item in items} == {created["service_request_id"], str(direct)}
    for item in items:
        assert set(item) == REQUEST_FIELDS
        assert item["lat"] == 36.05 and item["long"] == 103.83           # rounded to 0.001°
        assert item["address"] and "*" in item["address"]

    # A key whose role needs phone numbers (an operator) sees them; ID numbers stay masked for everyone.
    station = Open311Client(open311.http, keys["station"]).get(f"requests/{direct}").get_json()[0]
    assert MOBILE in station["description"] and ID_NUMBER not in station["description"]
    assert station["address"] == "城关区永昌路12号3单元501室"


def test_answers_follow_the_spec_formats(open311, keys, platform, world):
    client = Open311Client(open311.http, keys["admin"])
    post_ok(client, **heating())
    post_ok(client, **heating(**{"attribute[problem_type]": "管网漏水"}))
    json_answer = client.get("requests").get_json()
    assert isinstance(json_answer, list) and len(json_answer) == 2
    for item in json_answer:
        assert isinstance(item["lat"], float) and isinstance(item["long"], float)
        assert item["status"] in ("open", "closed")
        assert TIMESTAMP.match(item["requested_datetime"])
        assert dt.datetime.fromisoformat(item["requested_datetime"]).utcoffset() == dt.timedelta(hours=8)
    root = open311.xml(client.get("requests", fmt="xml"))
    assert root.tag == "service_requests" and [item.tag for item in root] == ["request", "request"]
    assert xml_records(root) == [{key: as_text(value) for key, value in item.items()} for item in json_answer]
    assert client.get("requests", fmt="xml").data.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    posted = open311.xml(client.post_request(fmt="xml", **heating()))
    assert posted.tag == "service_requests" and posted[0].tag == "request"
    assert posted[0].findtext("service_request_id").isdigit() and posted[0].findtext("token").startswith("o311-")


def test_xml_stays_well_formed_whatever_the_text(open311, keys, platform, world):
    client = Open311Client(open311.http, keys["admin"])
    created = post_ok(client, **heating(description="漏水\x0b<b>&\"'</b>\x1f结束"))
    root = open311.xml(client.get(f"requests/{created['service_request_id']}", fmt="xml"))
    assert root[0].findtext("description") == "漏水\ufffd<b>&\"'</b>\ufffd结束"
    assert client.get(f"requests/{created['service_request_id']}").get_json()[0]["description"] == \
        "漏水\x0b<b>&\"'</b>\x1f结束"
