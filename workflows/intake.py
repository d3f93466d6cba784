"""上报 as one service: the work end's page, the citizens' page, the REST API and Open311 all hand their parsed
input to `submit_report`, which owns every rule of reporting, so the channels cannot drift apart again.

A report document has the same shape on every channel: `title`, `category` (a code of the theme's categories),
`urgency` (staff only), `kind` (the kind of appeal, citizens only), `location` (a geo-point, when the theme's own
form has no location field) and `details` (the theme's report form). The checks run in the caller's session before
the first change, so a refused report stores nothing; the case, its timeline event, its deadline milestone, its
audit record and its linked photos are then flushed in that same transaction and committed by the caller as one.
"""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core import attachments as uploads
from minqing.forms import attachment_refs
from minqing.core.actors import Actor
from minqing.core.models import Account, Case, CaseSource, Role

from . import forms as form_rules
from .errors import CaseRejected, Conflict, FormInvalid
from .reporting import by_external_id, start_case

CHANNELS = ("work", "citizen", "api", "open311")
APPEAL_KINDS = ("投诉", "建议", "举报", "反映问题", "求助", "咨询")
TITLE_FIELD = {"type": "string", "title": "事件标题", "minLength": 2, "maxLength": 100}
LOCATION_FIELD = {"type": "object", "format": "geo-point", "title": "事发位置",
                  "description": "点“使用我的位置”或在地图上选点"}
URGENCY_FIELD = {"type": "string", "title": "紧急程度", "default": "normal",
                 "oneOf": [{"const": "normal", "title": "一般"}, {"const": "urgent", "title": "紧急"},
                           {"const": "critical", "title": "特急"}]}


@dataclasses.dataclass(frozen=True)
class Reporter:
    """Who to call back about the case, when the channel says (Open311's name and phone)."""

    name: str = ""
    phone: str = ""


# -- the report form of each channel -----------------------------------------------------------------------------

def geo_field(schema: dict | None) -> str | None:
    """The theme form's own location field, if it has one at the top level."""
    return next((name for name, field in (schema or {}).get("properties", {}).items()
                 if field.get("format") == "geo-point"), None)


def _categories(theme) -> list[dict]:
    return [{"const": item["code"], "title": f"{item.get('parent', '')} / {item['title']}".strip(" /")}
            for item in theme.categories]


def report_schema(theme) -> dict:
    """The staff's report form: title, category and urgency, then the theme's report form as a group (its rules
    intact); a location field only when the theme's form has none."""
    categories = _categories(theme)
    details = theme.form("report") or {"type": "object", "properties": {}}
    properties = {"title": dict(TITLE_FIELD)}
    required = ["title"]
    if categories:  # a theme without categories routes to its own department (theme routing)
        properties["category"] = {"type": "string", "title": "事件类别", "oneOf": categories,
                                  "default": categories[0]["const"]}
        required.append("category")
    properties["urgency"] = URGENCY_FIELD
    if geo_field(details) is None:
        properties["location"] = dict(LOCATION_FIELD)
        required.append("location")
    if details.get("properties"):
        where = geo_field(details)
        if where and where not in details.get("required", []):  # a case always needs a place on the map
            details = {**details, "required": [*details.get("required", []), where]}
        properties["details"] = {**details, "title": details.get("title") or f"{theme.title}信息"}
        required.append("details")
    return {"type": "object", "title": f"上报：{theme.title}", "properties": properties, "required": required}


def citizen_schema(theme) -> dict:
    """The staff's form without the urgency (the centre decides it), its theme part reduced to the fields the
    theme shows citizens (`themes.citizen_report_form`), with the kind of appeal unless that part asks for it."""
    from minqing import themes   # themes sits beside workflows; imported when used, as the engine does

    schema = copy.deepcopy(report_schema(theme))
    schema["title"] = f"我要反映：{theme.title}"
    properties = schema["properties"]
    properties.pop("urgency", None)
    if "details" in properties:
        details = themes.citizen_report_form(theme.document, properties["details"])
        properties["details"] = {**details, "title": properties["details"]["title"]}
    properties["title"] = {**properties["title"], "title": "标题", "description": "一句话说明是什么问题"}
    if "appeal_type" not in properties.get("details", {}).get("properties", {}):
        properties["kind"] = {"type": "string", "title": "诉求类型", "enum": list(APPEAL_KINDS),
                              "default": APPEAL_KINDS[0]}
        schema["required"] = [*schema["required"], "kind"]
    return schema


def open311_schema(theme, details: dict) -> dict:
    """Open311 carries the theme's form less what it cannot (`details`, from the Open311 catalogue); the title and
    category come from the request's description and service code."""
    properties = {"title": dict(TITLE_FIELD), "details": details}
    required = ["title", "details"]
    if categories := _categories(theme):
        properties["category"] = {"type": "string", "title": "服务类别", "oneOf": categories}
        required.append("category")
    if geo_field(theme.form("report")) is None:
        properties["location"] = dict(LOCATION_FIELD)
        required.append("location")
    return {"type": "object", "title": f"上报：{theme.title}", "properties": properties, "required": required}


def channel_schema(theme) -> dict:
    """What a declared channel (an outside system relaying a resident's appeal) sends: the citizen's form, with
    the urgency the outside system's time limit gives."""
    schema = citizen_schema(theme)
    schema["properties"]["urgency"] = dict(URGENCY_FIELD)
    return schema


def _declared_channel(platform, channel: str):
    """None for a built-in channel, the plugin's `Channel` for a declared one; ValueError for any other name."""
    if channel in CHANNELS:
        return None
    from .channels import declared   # channels builds on this module

    found = declared(platform).get(channel)
    if found is None:
        raise ValueError(f"unknown channel {channel!r}")
    return found


def _schema(theme, channel: str, public: bool, details: dict | None) -> dict:
    if channel == "open311":
        return open311_schema(theme, details if details is not None else
                              (theme.form("report") or {"type": "object", "properties": {}}))
    return citizen_schema(theme) if public else report_schema(theme)


# -- the service -------------------------------------------------------------------------------------------------

def submit_report(platform, session: Session, actor: Actor, theme, document: dict, *, channel: str,
                  client_id: str | None = None, external_id: str | None = None,
                  public: bool | None = None, details_schema: dict | None = None,
                  reporter: Reporter | None = None, description: str | None = None, address: str | None = None,
                  media_url: str = "", received: dict | None = None, now: dt.datetime | None = None) -> Case:
    """Report a case of `theme` from `document` (see the module's docstring) on `channel`.

    `public`: the citizens' form (no urgency, a kind of appeal); the citizen page always, the API for a citizen.
    `details_schema`: the part of the theme's form the channel carries (Open311 leaves photos out).
    `client_id`: a retry with the same id answers the first case (its photos linked once); an id another
    account used is a Conflict. A channel a plugin declares (`intake_channels`, workflows/channels.py) sends
    the citizen's form with an urgency and `external_id`, its own id of the item: the same id again answers
    the first case, and `received`, what else it said of the item (its own category, times), kept on the
    report's timeline line. Raises FormInvalid (errors by field path of `document`), CaseRejected (a plugin
    refused) or another WorkflowError; nothing is stored then. The caller commits.
    """
    declared = _declared_channel(platform, channel)
    if external_id and (earlier := by_external_id(session, channel, external_id)) is not None:
        return earlier
    if (earlier := earlier_report(session, actor, client_id)) is not None:
        return earlier
    public = channel == "citizen" or (channel == "api" and bool(public))
    schema = channel_schema(theme) if declared else _schema(theme, channel, public, details_schema)
    check_document(platform, session, theme, schema, document)
    lon, lat = locate(platform, theme, document, session)
    photos = _own_uploads(session, actor, schema, document)
    details = document.get("details") or {}
    reporter = reporter or _account_reporter(session, actor, public)
    category = next((item for item in theme.categories if item["code"] == document.get("category")), {})
    case, created = start_case(
        platform, session, actor, theme_key=theme.key, title=document["title"],
        description=_description(document, public) if description is None else description, lon=lon, lat=lat,
        category=category.get("parent", ""), subcategory=document.get("category", ""),
        urgency="normal" if public or channel == "open311" else document.get("urgency", "normal"),
        source=declared.source if declared else _source(actor, channel, public), form_data=details,
        schema_version=_schema_version(theme), theme_version=_published_version(session, theme),
        client_id=client_id, channel=channel, external_id=external_id,
        workflow_key=theme.workflow_key, reporter_name=reporter.name, reporter_phone=reporter.phone,
        address=str(details.get("address", "")) if address is None else address,
        event_data=_event_data(media_url, received), now=now)
    if not created:  # a copy of the same report raced this one and won
        return _same_reporter(actor, case)
    _link(session, actor, photos, case)
    return case


def earlier_report(session: Session, actor: Actor, client_id: str | None) -> Case | None:
    """The case an earlier submission with `client_id` made (a re-send answers it without checking the form or
    storing its photos again); None when there is none; Conflict when another account used the id."""
    if not client_id or (earlier := _by_client_id(session, client_id)) is None:
        return None
    return _same_reporter(actor, earlier)


def check_document(platform, session: Session, theme, schema: dict, document: dict) -> None:
    """FormInvalid unless the document is small, known field by field, valid against `schema` and accepted by
    the plugins' `validate_submission` for the theme's report form."""
    errors = form_rules.bounds(document, "整份上报")
    if errors:
        raise FormInvalid(errors)
    errors = form_rules.unknown_fields(schema, document)
    try:
        form_rules.validate(schema, document)
    except FormInvalid as error:
        for path, messages in error.errors.items():
            errors.setdefault(path, []).extend(messages)
    if errors:
        raise FormInvalid(errors)
    details = document.get("details") or {}
    rejected: dict[str, list[str]] = {}
    for _plugin, problems in platform.plugins.call("validate_submission", theme_key=theme.key, form_key="report",
                                                   document=details, session=session):
        for path, message in problems or ():
            rejected.setdefault(f"details.{path}" if path else "details", []).append(str(message))
    if rejected:
        raise CaseRejected(rejected)


def locate(platform, theme, document: dict, session=None) -> tuple[float, float]:
    """The report's point, which must lie in one of the platform's grids: the same rule on every channel (a case
    outside every grid would have no grid, no region and nobody to handle it)."""
    geo = geo_field(theme.form("report"))
    path = f"details.{geo}" if geo else "location"
    point = (document.get("details") or {}).get(geo) if geo else document.get("location")
    if not isinstance(point, dict) or not {"lon", "lat"} <= point.keys():
        raise FormInvalid({path: ["请给出事发位置（经纬度）"]})
    lon, lat = point["lon"], point["lat"]
    if platform.locator(session).locate(lon, lat) is None:
        title = ((theme.form("report") or {}).get("properties", {}).get(geo, {}).get("title") if geo
                 else LOCATION_FIELD["title"]) or "事发位置"
        message = f"{title}（经度 {lon:g}，纬度 {lat:g}）不在本平台任何网格内，无法受理，请在地图上重新选点"
        raise FormInvalid({path: [message]})
    return lon, lat


def point_in_grid(platform, lon: float, lat: float) -> bool:
    """Whether a point lies in one of the grids (for the report forms' check before they are sent)."""
    return platform.locator().locate(lon, lat) is not None


# -- attachments -------------------------------------------------------------------------------------------------

def _own_uploads(session: Session, actor: Actor, schema: dict, document: dict) -> list[str]:
    """The attachment ids the document names, if each is a file this actor uploaded and no case holds yet."""
    refs = attachment_refs(schema, document)
    if not refs:
        return []
    ids = [item for _path, item in refs]
    usable = uploads.unclaimed(session, actor, ids)   # a patrol's photo is the patrol's, not a loose upload
    problems = {path: ["附件不存在或不是您上传的，请重新上传"] for path, item in refs if item not in usable}
    if problems:
        raise FormInvalid(problems)
    return ids


def _link(session: Session, actor: Actor, ids: list[str], case: Case) -> None:
    if not ids:
        return
    uploads.link_to_case(session, actor, ids, case.id)
    session.flush()
    session.expire(case, ["attachments"])


# -- small parts -------------------------------------------------------------------------------------------------

def _event_data(media_url: str, received: dict | None) -> dict | None:
    data = {**({"media_url": media_url} if media_url else {}), **({"received": received} if received else {})}
    return data or None


def _by_client_id(session: Session, client_id: str) -> Case | None:
    return session.scalar(select(Case).where(Case.client_id == client_id))


def _same_reporter(actor: Actor, case: Case) -> Case:
    """A retry answers the first case, but never another account's case that happens to carry the same id."""
    if case.reporter_account_id != actor.account_id:
        raise Conflict("这份上报的编号已被使用，请重新打开上报页面后再提交")
    return case


def _account_reporter(session: Session, actor: Actor, public: bool) -> Reporter:
    """A citizen is called back on their own account's name and phone; staff report for the grid, not as callers."""
    account = session.get(Account, actor.account_id) if public and actor.account_id is not None else None
    return Reporter(account.display_name, account.phone or "") if account else Reporter()


def _description(document: dict, public: bool) -> str:
    details = document.get("details") or {}
    text = str(details.get("description") or details.get("content") or "")
    kind = (document.get("kind") or details.get("appeal_type") or "") if public else ""
    return f"【{kind}】{text}" if kind else text


def _source(actor: Actor, channel: str, public: bool) -> str:
    if channel == "open311":
        return CaseSource.API
    if public:
        return CaseSource.CITIZEN
    return CaseSource.GRID_WORKER if actor.has_role(Role.GRID_WORKER) else CaseSource.API


def _schema_version(theme) -> str:
    from minqing import forms  # the forms engine names the version of the theme's form the case was filled in

    details = theme.form("report")
    return forms.schema_version(details) if details else ""


def _published_version(session: Session, theme) -> int | None:
    """The published version the report was filled in under: the one with the theme's document (an older one for
    a report a phone kept offline, `themes.theme_at`), else the newest."""
    from minqing.themes import version_index   # themes sits beside workflows; imported when used

    return version_index.filled_under(session, theme)
