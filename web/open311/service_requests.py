"""Service requests: cases as the spec's request fields, the filters of GET requests, and POST through submit_report.

Who sees what (docs/open311.md):
- with an api_key, the key's account and its scope (`core.scope.restrict`), free text and addresses masked as
  for that account (`core.masking.text_for` / `show`);
- without one, the public view: cases of the themes offered to citizens, never the reporter (no name, phone or
  account is ever an Open311 field), the description with every ID and mobile number masked
  (`core.masking.scrub_text`), the address without house numbers, the position rounded to 0.001° (about 100 m).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import uuid

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from minqing import themes, workflows
from minqing.core import city, scope
from minqing.core.privacy import masking
from minqing.core.actors import Actor
from minqing.core.models import Case, CaseEvent, Department, Grid
from minqing.workflows import final_states

from . import services as catalogue
from .output import Open311Error, timestamp

MAX_REQUESTS = 1000
WINDOW = dt.timedelta(days=90)
TOKEN_PREFIX = "o311-"
PUBLIC_PRECISION = 3
STATUSES = ("open", "closed")
ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
URL = re.compile(r"^https?://[^\s<>\"]+$")
PHONE = re.compile(r"^\+?[\d\- ]{5,20}$")
MAX_DESCRIPTION = 4000
MAX_TITLE = 60
# Fields of a theme's form that the spec's own parameters fill when not given as attributes.
FILLED_BY = {"description": "description", "content": "description", "address": "address_string"}
geo_field = workflows.intake.geo_field
# The report document's own fields, and the parameters they are made of.
REPORT_PARAMETERS = {"title": "description", "category": "service_code", "location": "lat/long"}


# -- reading ---------------------------------------------------------------------------------------------------

def public_theme_keys(platform, session: Session) -> list[str]:
    from ..citizen.reports import citizen_themes

    return [theme.key for theme in citizen_themes(themes.registry(platform, session))]


def visible(platform, session: Session, viewer: Actor | None):
    """SELECT of the cases this viewer may list: the key's scope, or the public view."""
    statement = select(Case)
    if viewer is not None:
        return scope.restrict(statement, Case, viewer)
    return statement.where(Case.theme_key.in_(public_theme_keys(platform, session)))


def parse_time(name: str, text: str, *, end: bool = False) -> dt.datetime:
    """A w3c date or date-time; a time without offset is the city's, a bare date its whole day."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), city.zone())
            return day + dt.timedelta(days=1) if end else day
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?", text):
            raise ValueError(text)
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise Open311Error(400, f"{name} 不是有效的 ISO 8601（w3c）时间：“{text[:40]}”，"
                                f"应如 2026-03-01T00:00:00+08:00 或 2026-03-01") from None
    return value if value.tzinfo else value.replace(tzinfo=city.zone())  # as read for this request


def window(args, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    start_text, end_text = (args.get("start_date") or "").strip(), (args.get("end_date") or "").strip()
    start = parse_time("start_date", start_text) if start_text else None
    end = parse_time("end_date", end_text, end=True) if end_text else None
    if start and end:
        if end < start:
            raise Open311Error(400, "end_date 早于 start_date")
        if end - start > WINDOW + dt.timedelta(days=1):
            raise Open311Error(400, "start_date 与 end_date 之间不能超过 90 天")
        return start, end
    if start:
        return start, start + WINDOW
    if end:
        return end - WINDOW, end
    return now - WINDOW, now


def _codes(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def search(platform, session: Session, viewer: Actor | None, args, now: dt.datetime) -> list[Case]:
    statement = visible(platform, session, viewer)
    ids_text = (args.get("service_request_id") or "").strip()
    if ids_text:  # the spec: with ids given, every other filter is ignored
        ids = _codes(ids_text)
        if not all(part.isdigit() and len(part) < 12 for part in ids):
            raise Open311Error(400, f"service_request_id 应为逗号分隔的编号：“{ids_text[:60]}”")
        statement = statement.where(Case.id.in_([int(part) for part in ids[:MAX_REQUESTS]]))
        return list(session.scalars(statement.order_by(Case.id)))
    start, end = window(args, now)
    statement = statement.where(Case.created_at >= start, Case.created_at < end)
    codes = _codes(args.get("service_code") or "")
    if codes:
        services = catalogue.catalogue(platform, session)
        pairs = [catalogue.find(services, code) for code in codes]
        keys = {(service.theme.key, service.category["code"]) for service in pairs}
        statement = statement.where(or_(*[and_(Case.theme_key == key, Case.subcategory == code)
                                          for key, code in keys]))
    statuses = set(_codes(args.get("status") or ""))
    if statuses - set(STATUSES):
        raise Open311Error(400, f"status 只能是 open 或 closed（可用逗号分隔）：“{(args.get('status') or '')[:40]}”")
    if statuses and statuses != set(STATUSES):
        final = sorted(final_states(platform))
        statement = statement.where(Case.status.in_(final) if "closed" in statuses else Case.status.notin_(final))
    statement = statement.order_by(Case.created_at.desc(), Case.id.desc()).limit(MAX_REQUESTS)
    return list(session.scalars(statement))


def one(platform, session: Session, viewer: Actor | None, text: str) -> Case:
    case = None
    if text.isdigit() and len(text) < 12:
        case = session.scalar(visible(platform, session, viewer).where(Case.id == int(text)))
    if case is None:
        raise Open311Error(404, f"没有编号为“{text[:40]}”的服务请求，或您无权查看")
    return case


class Describer:
    """Cases → the spec's request fields, for one viewer; look-ups shared by every case of an answer."""

    def __init__(self, platform, session: Session, viewer: Actor | None, cases: list[Case]):
        self.platform, self.viewer = platform, viewer
        self.services = catalogue.catalogue(platform, session)
        self.departments = dict(session.execute(select(Department.id, Department.name)).all())
        self.department_by_key = catalogue.department_names(session)
        self.final = final_states(platform)
        self.media = {}
        ids = [case.id for case in cases]
        for chunk in range(0, len(ids), 500):
            for case_id, data in session.execute(select(CaseEvent.case_id, CaseEvent.data).where(
                    CaseEvent.case_id.in_(ids[chunk:chunk + 500]), CaseEvent.action == "report")):
                if (data or {}).get("media_url"):
                    self.media[case_id] = data["media_url"]
        self.session = session

    def _state_title(self, case: Case) -> str:
        try:
            workflow = workflows.get_workflow(self.platform, case.workflow_key, self.session)
        except workflows.WorkflowError:
            workflow = None
        state = workflow.states.get(case.status) if workflow else None
        return state.title if state else case.status

    def _agency(self, case: Case, service) -> str | None:
        if case.department_id:
            return self.departments.get(case.department_id)
        if service is not None:
            return self.department_by_key.get(service.category.get("department") or service.theme.department)
        return None

    def _position(self, value: float | None) -> float | None:
        if value is None:
            return None
        return value if self.viewer is not None else round(value, PUBLIC_PRECISION)

    def request(self, case: Case) -> dict:
        code = catalogue.service_code_of(self.services, case.theme_key, case.subcategory)
        service = self.services.get(code)
        return {
            "service_request_id": str(case.id),
            "status": "closed" if case.status in self.final else "open",
            "status_notes": self._state_title(case),
            "service_name": service.name if service else (case.subcategory or case.theme_key),
            "service_code": code or case.subcategory,
            "description": masking.text_for(self.viewer, case.description or case.title),
            "agency_responsible": self._agency(case, service),
            "service_notice": None,
            "requested_datetime": timestamp(case.created_at),
            "updated_datetime": timestamp(case.updated_at),
            "expected_datetime": timestamp(case.due_at),
            "address": masking.show(self.viewer, masking.ADDRESS, case.address) or None,
            "address_id": None,
            "zipcode": None,
            "lat": self._position(case.lat),
            "long": self._position(case.lon),
            "media_url": self.media.get(case.id),
        }


def token_lookup(session: Session, token: str) -> dict:
    case_id = None
    if token.startswith(TOKEN_PREFIX) and len(token) <= 64:
        case_id = session.scalar(select(Case.id).where(Case.client_id == token))
    if case_id is None:
        raise Open311Error(404, f"没有令牌为“{token[:64]}”的服务请求")
    return {"service_request_id": str(case_id), "token": token}


# -- posting ---------------------------------------------------------------------------------------------------

def _number(text: str, integer: bool):
    try:
        value = int(text) if integer or re.fullmatch(r"[+-]?\d+", text) else float(text)
    except ValueError:
        return text  # the form's rules name the field and say what it should be
    return value if not isinstance(value, float) or math.isfinite(value) else text


def _value(node, text: str):
    """One form-encoded value as the JSON value the form expects (left as text when it is not one)."""
    if node.kind in ("checkbox", "yesno"):
        return {"true": True, "1": True, "是": True, "false": False, "0": False, "否": False}.get(text.lower(), text)
    if node.choices:
        return next((value for value, _label in node.choices if catalogue.key_of(value) == text), text)
    if node.value_type in ("integer", "number"):
        return _number(text, node.value_type == "integer")
    return text


def attributes(form, theme: themes.Theme) -> tuple[dict, list[str]]:
    """attribute[code]=value (attribute[code][]=value for several) → the theme form's document, and problems."""
    nodes = {node.name: node for node in catalogue.attribute_nodes(theme)}
    document, problems = {}, []
    for key in form:
        match = ATTRIBUTE.match(key)
        if not match:
            if key.startswith("attribute["):  # e.g. attribute[a][b]: the form has no nested attributes
                problems.append(f"{key[:60]}：属性应写作 attribute[代码] 或 attribute[代码][]，不能嵌套")
            continue
        code, many = match.group(1), bool(match.group(2))
        node = nodes.get(code)
        if node is None:
            problems.append(f"attribute[{code}]：此服务没有这个属性")
            continue
        given = [text.strip() for text in form.getlist(key) if text.strip()]
        if not given:
            continue
        if node.kind == "checkboxes":
            document[code] = list(dict.fromkeys(_value(node, text) for text in given))
        elif many or len(given) > 1:
            problems.append(f"attribute[{code}]（{node.title}）：只能填一个值")
        else:
            document[code] = _value(node, given[0])
    return document, problems


def _coordinate(form, name: str, limit: float, problems: list[str]) -> float | None:
    text = (form.get(name) or "").strip()
    if not text:
        problems.append(f"{name}：未提供（本平台按坐标确定网格，lat 和 long 必填）")
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or abs(value) > limit:
        problems.append(f"{name}：应为 -{limit:g} 至 {limit:g} 之间的数字（WGS-84 度）")
        return None
    return value


def _client_id(account_id: int | None, idempotency_key: str) -> str:
    """The case's client id, which is also the token: derived from the caller's idempotency key (so a retried post
    answers with the first case), or fresh."""
    if idempotency_key:
        digest = hashlib.sha256(f"{account_id}:{idempotency_key}".encode()).hexdigest()
        return TOKEN_PREFIX + digest[:40]
    return TOKEN_PREFIX + uuid.uuid4().hex


def post(platform, session: Session, actor: Actor, form, idempotency_key: str) -> tuple[Case, str]:
    """Report the case; (case, token). Open311Error with every problem found, each naming its parameter."""
    code = (form.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, "service_code：未提供")
    services = catalogue.catalogue(platform, session)
    service = services.get(code)
    if service is None:
        raise Open311Error(400, f"service_code：没有代码为“{code[:40]}”的服务")
    theme = service.theme
    schema = catalogue.report_form(theme)
    properties = schema.get("properties", {})
    problems: list[str] = []
    lat = _coordinate(form, "lat", 90, problems)
    lon = _coordinate(form, "long", 180, problems)
    document, attribute_problems = attributes(form, theme)
    problems += attribute_problems
    description = (form.get("description") or "").strip()
    if len(description) > MAX_DESCRIPTION:
        problems.append(f"description：最多 {MAX_DESCRIPTION} 字")
    address = (form.get("address_string") or "").strip()
    if len(address) > 300:
        problems.append("address_string：最多 300 字")
    media_url = (form.get("media_url") or "").strip()
    if media_url and (len(media_url) > 500 or not URL.match(media_url)):
        problems.append("media_url：应为 http 或 https 网址（最多 500 字）")
    photos = catalogue.photos_required(theme)
    if photos and not media_url:
        problems.append(f"media_url：此服务要求提供照片（{'、'.join(photos)}），请给出照片的网址")
    phone = (form.get("phone") or "").strip()
    if phone and not PHONE.match(phone):
        problems.append("phone：应为电话号码（数字，最多 20 位）")
    name = ((form.get("last_name") or "").strip() + (form.get("first_name") or "").strip())[:60]
    # What the spec's own parameters say fills the theme's like-named fields, unless given as attributes.
    filled_from = {}
    geo = geo_field(schema)
    if geo and lat is not None and lon is not None:
        document[geo] = {"lon": lon, "lat": lat}
        filled_from[geo] = "lat/long"
    values = {"description": description, "address": address}
    for field, parameter in FILLED_BY.items():
        value = values[parameter.split("_")[0]]
        if value and field in properties and field not in document and properties[field].get("type") == "string":
            document[field] = value
            filled_from[field] = parameter
    if problems:  # with the form's own complaints, so the client fixes everything at once
        problems += [f"{_where(error.path, filled_from)}：{error.message}"
                     for error in catalogue.validate(theme, document)]
        raise Open311Error(400, *problems)
    title = (description.splitlines()[0] if description else "")[:MAX_TITLE].strip() or service.name
    report = {"title": title if len(title) >= 2 else service.name, "category": service.category["code"],
              "details": document}
    if not geo:
        report["location"] = {"lon": lon, "lat": lat}
    client_id = _client_id(actor.account_id, idempotency_key)
    try:
        case = workflows.submit_report(
            platform, session, actor, theme, report, channel="open311", client_id=client_id,
            details_schema=catalogue.api_schema(theme), reporter=workflows.Reporter(name, phone),
            description=description, address=address, media_url=media_url)
    except workflows.FormInvalid as error:
        raise Open311Error(400, *[f"{_parameter(path, filled_from)}：{'，'.join(texts)}"
                                  for path, texts in error.errors.items()]) from None
    except workflows.WorkflowError as error:
        raise Open311Error(400, error.message) from None
    return case, client_id


def _parameter(path: str, filled_from: dict) -> str:
    """The parameter a problem of the report document is about: its own fields come from the spec's parameters,
    its `details` are the theme's form (the attributes)."""
    if path == "details" or path.startswith("details."):
        return _where(path[len("details."):], filled_from)
    return REPORT_PARAMETERS.get(re.split(r"[.\[]", path, maxsplit=1)[0], "请求")


def _where(path: str, filled_from: dict) -> str:
    """The parameter a problem is about: the one that filled the field, else attribute[code] (with the spec's
    parameter that could have filled it)."""
    top = re.split(r"[.\[]", path or "", maxsplit=1)[0]
    if not top:
        return "请求"
    if top in filled_from:
        return filled_from[top]
    return f"attribute[{top}]" + (f"（或 {FILLED_BY[top]}）" if top in FILLED_BY else "")


def notice(session: Session, case: Case) -> str:
    grid = session.scalar(select(Grid.name).where(Grid.id == case.grid_id)) if case.grid_id else None
    where = f"，已进入“{grid}”" if grid else ""
    return f"已受理上报，事件编号 {case.number}{where}"
