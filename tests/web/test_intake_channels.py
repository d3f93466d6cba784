"""One way in for every report: the work end's page, the citizen page, the REST API and Open311 answer the same
cases the same way, since each only parses its input and hands it to `workflows.submit_report`.

Each case below runs on all four channels: a point outside every grid is refused and stores nothing; a point in
another grid than the reporter's own is accepted and the reporter can open the case; a retry with the same client
id (or Idempotency-Key) makes one case with its photos linked once; a plugin's `validate_submission` refusing a word
refuses the report; unknown, too deep or too big details are refused."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from minqing.core.hooks import hookimpl
from minqing.core.models import Attachment, Case, CaseEvent

from tests.fixtures.citizen import THEME, WORKER_ONLY, photo, report_form
from tests.fixtures.web import INSIDE, OTHER

OUTSIDE = (100.0, 30.0)     # far from every grid of the world
VENDING = "1001"            # Open311's service code of the street vending theme (城市管理 / 占道经营)
FORBIDDEN = "禁词"
CHANNELS = ("work", "citizen", "api", "open311")


class ForbiddenWord:
    """A plugin following docs/plugins.md: report forms that mention the word are refused."""

    @hookimpl
    def validate_submission(self, theme_key, form_key, document, session):
        if form_key == "report" and FORBIDDEN in str(document.get("description", "")):
            return [("description", f"情况描述不得含有“{FORBIDDEN}”")]
        return None


class Answer:
    """What a channel answered, reduced to what every channel has: accepted (the case id) or refused (the text)."""

    def __init__(self, response, case_id: int | None, text: str):
        self.response, self.case_id, self.text = response, case_id, text

    def refused(self, *fragments: str) -> None:
        assert self.case_id is None, f"accepted as case {self.case_id}"
        assert self.response.status_code in (400, 422), (self.response.status_code, self.text[:500])
        for fragment in fragments:
            assert fragment in self.text, (fragment, self.text[:2000])

    def accepted(self) -> int:
        assert self.case_id is not None, (self.response.status_code, self.text[:2000])
        return self.case_id


class Page:
    """The work end's or the citizen's report page, posted as the browser posts it."""

    def __init__(self, client, prefix: str):
        self.client, self.prefix = client, prefix

    def client_id(self) -> str:
        page = self.client.get(f"/{self.prefix}/report/{THEME}").get_data(as_text=True)
        return re.search(r"client_id=([0-9a-f]{32})", page).group(1)

    def submit(self, point=INSIDE, description="摊贩占用盲道", client_id=None, extra=None) -> Answer:
        fields = report_form(**{"details-location-lon": str(point[0]), "details-location-lat": str(point[1]),
                                "details-description": description, "details-photos": photo(), **(extra or {})})
        if self.prefix == "work":
            del fields["kind"]
            fields["urgency"] = "normal"
        else:   # the citizen's form of the theme has no grid worker's fields
            fields = {name: value for name, value in fields.items() if name not in WORKER_ONLY}
        response = self.client.post(f"/{self.prefix}/report/{THEME}?client_id={client_id or self.client_id()}",
                                    data=fields, content_type="multipart/form-data")
        made = re.search(r"/cases/(\d+)$", response.location or "") if response.status_code == 302 else None
        return Answer(response, int(made.group(1)) if made else None, response.get_data(as_text=True))

    def opens(self, case_id: int) -> bool:
        return self.client.get(f"/{self.prefix}/cases/{case_id}").status_code == 200


class Rest:
    def __init__(self, api):
        self.api = api

    def submit(self, point=INSIDE, description="摊贩占用盲道", client_id=None, extra=None) -> Answer:
        details = {"address": "张掖路123号门前", "location": {"lon": point[0], "lat": point[1]},
                   "vending_type": "流动摊贩", "blocks_passage": True, "blocked_passage": "盲道", "persuaded": False,
                   "description": description, "photos": [self.photo_id(client_id)], **(extra or {})}
        body = {"theme": THEME, "title": "张掖路夜市占道", "category": VENDING, "urgency": "normal",
                "details": details}
        headers = {"Idempotency-Key": client_id} if client_id else None
        response = self.api.post("/cases", body, headers=headers)
        answer = response.get_json()
        return Answer(response, answer["id"] if response.status_code == 201 else None,
                      json.dumps(answer, ensure_ascii=False))

    def photo_id(self, client_id) -> str:
        """A retry sends the very same request, so the same photo id; a new report uploads its own photo."""
        if client_id and client_id in getattr(self, "_uploads", {}):
            return self._uploads[client_id]
        uploaded = self.api.upload()
        self._uploads = {**getattr(self, "_uploads", {}), client_id: uploaded}
        return uploaded

    def opens(self, case_id: int) -> bool:
        return self.api.get(f"/cases/{case_id}").status_code == 200


class Open311:
    def __init__(self, http, key: str):
        self.http, self.key = http, key

    def submit(self, point=INSIDE, description="摊贩占用盲道", client_id=None, extra=None) -> Answer:
        fields = {"api_key": self.key, "service_code": VENDING, "lat": str(point[1]), "long": str(point[0]),
                  "description": description, "address_string": "张掖路123号门前",
                  "media_url": "https://cdn.example.com/p/1.jpg", "attribute[vending_type]": "流动摊贩",
                  "attribute[blocks_passage]": "true", "attribute[blocked_passage]": "盲道",
                  "attribute[persuaded]": "false", **(extra or {})}
        headers = {"Idempotency-Key": client_id} if client_id else {}
        response = self.http.post("/open311/v2/requests.json", data=fields, headers=headers,
                                  content_type="application/x-www-form-urlencoded")
        answer = response.get_json()
        made = int(answer[0]["service_request_id"]) if response.status_code == 201 else None
        return Answer(response, made, json.dumps(answer, ensure_ascii=False))

    def opens(self, case_id: int) -> bool:
        response = self.http.get(f"/open311/v2/requests/{case_id}.json", query_string={"api_key": self.key})
        return response.status_code == 200 and response.get_json()[0]["service_request_id"] == str(case_id)


@pytest.fixture
def channel(request, app, as_user, as_citizen, api, keys):
    """The reporting grid worker (a citizen on the citizen page) on one channel."""
    made = {"work": lambda: Page(as_user("worker"), "work"), "citizen": lambda: Page(as_citizen(), "citizen"),
            "api": lambda: Rest(api("worker")),
            "open311": lambda: Open311(app.test_client(), keys["worker"])}[request.param]()
    made.name = request.param
    return made


@pytest.fixture
def forbidden_word(platform):
    platform.plugins.register(ForbiddenWord(), "test_forbidden_word")
    yield
    platform.plugins.unregister("test_forbidden_word")


def counts(platform) -> tuple[int, int]:
    """(cases, attachments linked to a case)."""
    with platform.db.session() as session:
        return (session.scalar(select(func.count(Case.id))),
                session.scalar(select(func.count(Attachment.id)).where(Attachment.case_id.is_not(None))))


def on_every_channel(test):
    return pytest.mark.parametrize("channel", CHANNELS, indirect=True)(test)


@on_every_channel
def test_a_point_outside_every_grid_is_refused_naming_the_location(channel, platform):
    channel.submit(OUTSIDE).refused("不在本平台任何网格内")
    assert counts(platform) == (0, 0)


@on_every_channel
def test_a_point_in_another_grid_is_accepted_and_its_reporter_opens_the_case(channel, platform):
    case_id = channel.submit(OTHER).accepted()
    with platform.db.session() as session:
        case = session.get(Case, case_id)
        assert case.grid_id is not None and case.region_code == "620102002000"
        assert case.theme_version >= 1
        assert session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.case_id == case_id)) == 1
    assert channel.opens(case_id)


@on_every_channel
def test_a_retry_with_the_same_client_id_makes_one_case_with_its_photos_linked_once(channel, platform):
    client_id = channel.client_id() if isinstance(channel, Page) else "retry-0001"
    first = channel.submit(client_id=client_id).accepted()
    assert channel.submit(client_id=client_id).accepted() == first
    cases, photos = counts(platform)
    assert cases == 1 and photos == (0 if isinstance(channel, Open311) else 1)   # Open311 sends a media_url
    with platform.db.session() as session:
        assert session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.case_id == first)) == 1


@on_every_channel
def test_a_plugins_validate_submission_refuses_the_report(channel, platform, forbidden_word):
    channel.submit(description=f"摊贩说了{FORBIDDEN}").refused(f"不得含有“{FORBIDDEN}”", "description")
    assert counts(platform) == (0, 0)
    channel.submit(description="摊贩占用盲道").accepted()


UNKNOWN = {"work": {"details-surprise": "1"}, "citizen": {"details-surprise": "1"},
           "api": {"surprise": 1}, "open311": {"attribute[surprise]": "1"}}
TOO_DEEP = {"work": {"details-address-x-y": "1"}, "citizen": {"details-address-x-y": "1"},
            "api": {"description": json.loads("[" * 12 + "]" * 12)}, "open311": {"attribute[address][x]": "1"}}
# 25,000 characters: 75 KB as JSON, past the report's 64 KB, yet within what the form parser reads at all
TOO_BIG = {"work": {"details-description": "长" * 25_000}, "citizen": {"details-description": "长" * 25_000},
           "api": {"description": "长" * 25_000}, "open311": {"attribute[address]": "长" * 25_000}}
NAMED = {"unknown": {"work": "details-surprise", "citizen": "details-surprise", "api": "details.surprise",
                     "open311": "attribute[surprise]"},
         "too_deep": {"work": "details-address-x-y", "citizen": "details-address-x-y", "api": "嵌套",
                      "open311": "不能嵌套"},
         "too_big": {"work": "", "citizen": "", "api": "过大", "open311": "过大"}}


@pytest.mark.parametrize("channel", CHANNELS, indirect=True)
@pytest.mark.parametrize("what", ["unknown", "too_deep", "too_big"])
def test_unknown_too_deep_or_too_big_details_are_refused(channel, platform, what):
    extra = {"unknown": UNKNOWN, "too_deep": TOO_DEEP, "too_big": TOO_BIG}[what][channel.name]
    channel.submit(extra=extra).refused(NAMED[what][channel.name])
    assert counts(platform) == (0, 0)


def test_the_report_forms_check_the_point_before_sending(as_user, as_citizen, world):
    """The pages' script asks this endpoint while the reporter picks a place (no inline script: CSP holds)."""
    worker = as_user("worker")
    page = worker.get(f"/work/report/{THEME}").get_data(as_text=True)
    assert 'id="grid-check"' in page and "js/grid-check.js" in page and "<script>" not in page
    assert worker.get("/work/report/locate", query_string={"lon": OTHER[0], "lat": OTHER[1]}).get_json()["inside"]
    outside = worker.get("/work/report/locate", query_string={"lon": OUTSIDE[0], "lat": OUTSIDE[1]}).get_json()
    assert outside["inside"] is False and "不在本平台任何网格内" in outside["message"]
    assert worker.get("/work/report/locate", query_string={"lon": "east"}).get_json()["inside"] is None
    citizen = as_citizen()
    assert "js/grid-check.js" in citizen.get(f"/citizen/report/{THEME}").get_data(as_text=True)
    assert citizen.get("/work/report/locate", query_string={"lon": INSIDE[0], "lat": INSIDE[1]}).get_json()["inside"]


def test_a_photo_that_belongs_to_a_patrol_cannot_be_reported_again(api, platform):
    """A patrol's photo (attachments.visit_id) is that visit's: a report naming it is refused, nothing is stored."""
    from minqing.core.models import Visit

    rest = Rest(api("worker"))
    photo_id = rest.photo_id("patrolled")
    with platform.db.session() as session:
        upload = session.get(Attachment, photo_id)
        visit = Visit(target_kind="theme_record", target_id=1, visitor_account_id=upload.owner_account_id)
        session.add(visit)
        session.flush()
        upload.visit_id = visit.id
        session.commit()
    refused = rest.submit(client_id="patrolled")
    refused.refused("附件")
    assert counts(platform) == (0, 0)
    with platform.db.session() as session:
        assert session.get(Attachment, photo_id).case_id is None
