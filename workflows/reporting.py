"""上报: a case enters the loop. Idempotent on the client's id, so a retried report never makes a second case."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from minqing.core.actors import Actor
from minqing.core.changes import record_case_event
from minqing.core.models import Case, CaseMilestone, utcnow

from . import calendar as calendars
from . import clock, definition, notices
from .definition import URGENCIES
from .engine import announce
from .errors import CaseRejected, FormInvalid

# The channel of a case made by code (demo history, plugins) from its source; migration 0026 did the same for the
# cases stored before channels were recorded.
CHANNEL_OF_SOURCE = {"grid_worker": "work", "citizen": "citizen", "api": "api", "hotline": "12345"}


def report_case(platform, session: Session, actor: Actor, **report) -> Case:
    """Report a case: locate its grid, let plugins validate it, enter the workflow's initial state.

    The engine's door for code that already checked its input (demo city, plugins, tests); people's reports
    come through `minqing.workflows.intake.submit_report`, which checks the form first. Keywords: see
    `start_case`."""
    return start_case(platform, session, actor, **report)[0]


def start_case(platform, session: Session, actor: Actor, *, theme_key: str, title: str, description: str,
               lon: float | None, lat: float | None, category: str = "", subcategory: str = "",
               urgency: str = "normal", source: str, form_data: dict | None = None, schema_version: str = "",
               theme_version: int | None = None, client_id: str | None = None, workflow_key: str = "standard",
               reporter_name: str = "", reporter_phone: str = "", address: str = "",
               event_data: dict | None = None, now: dt.datetime | None = None, channel: str = "",
               external_id: str | None = None) -> tuple[Case, bool]:
    """(case, created): created is False when the client id (or the channel's external id) named a case stored
    earlier (or meanwhile by a racing copy of the same report), which is returned unchanged. `channel` is the
    intake channel (default: the source's, `CHANNEL_OF_SOURCE`, else the source itself)."""
    channel = channel or CHANNEL_OF_SOURCE.get(source, source)[:20]
    if client_id and (existing := _by_client_id(session, client_id)) is not None:
        return existing, False
    if external_id and (existing := by_external_id(session, channel, external_id)) is not None:
        return existing, False
    if urgency not in URGENCIES:
        raise FormInvalid({"urgency": ["紧急程度只能是 normal、urgent 或 critical"]})
    workflow = definition.get(platform, workflow_key, session)
    locator = platform.locator(session)
    grid_id = locator.locate(lon, lat) if lon is not None and lat is not None else None
    region_code = locator.region_of(grid_id) if grid_id else ""
    now = now or utcnow()
    case = Case(theme_key=theme_key, title=title, description=description, lon=lon, lat=lat, address=address,
                category=category, subcategory=subcategory, urgency=urgency, source=source,
                form_data=form_data or {}, schema_version=schema_version, client_id=client_id, channel=channel,
                external_id=external_id,
                workflow_key=workflow.key, reporter_account_id=actor.account_id, reporter_name=reporter_name,
                reporter_phone=reporter_phone, grid_id=grid_id, region_code=region_code or "",
                rework_count=0, created_at=now, updated_at=now,
                events=[], attachments=[])   # a new case's lists start empty and are known: no query reads them
    if theme_version is not None:  # the theme's form as published when the case was filled in
        case.theme_version = theme_version
    _validate(platform, session, case)
    calendar = calendars.for_platform(platform)
    clock.enter_state(case, workflow.states[workflow.initial], now, calendar)
    clock.set_due(case, workflow, now, calendar)
    stored = _insert(session, case)
    if stored is not case:
        return stored, False  # a concurrent retry of the same report won the race
    session.add(CaseMilestone(case_id=case.id, case_created_at=case.created_at,
                              accept_deadline_at=case.state_deadline_at, voided=False))
    record_case_event(session, actor, case, "report", from_status=None, to_status=case.status,
                      comment=description[:500],
                      data={**(event_data or {}), "title": workflow.report_title, "source": source}, at=now)
    notices.reported(platform, session, case)
    announce(platform, session, case, "report", actor)
    from .dispatch.actions import after_report  # a theme may let confident suggestions dispatch themselves

    after_report(platform, session, case)
    return case, True


def _by_client_id(session: Session, client_id: str) -> Case | None:
    return session.scalar(select(Case).where(Case.client_id == client_id))


def by_external_id(session: Session, channel: str, external_id: str) -> Case | None:
    """The case an outside system's item made on `channel`, if any."""
    return session.scalar(select(Case).where(Case.channel == channel, Case.external_id == external_id))


def _validate(platform, session: Session, case: Case) -> None:
    errors: dict[str, list[str]] = {}
    for _plugin, problems in platform.plugins.call("validate_case", case=case, session=session):
        for path, message in problems or ():
            errors.setdefault(path, []).append(message)
    if errors:
        raise CaseRejected(errors)


def _insert(session: Session, case: Case) -> Case:
    """Insert in a savepoint: if the same client id was stored meanwhile, return that case instead. Without a
    client id or an outside system's id nothing can collide: no savepoint then."""
    if not case.client_id and not case.external_id:
        session.add(case)
        session.flush()
        return case
    try:
        with session.begin_nested():
            session.add(case)
            session.flush()
    except IntegrityError:
        existing = ((case.client_id and _by_client_id(session, case.client_id))
                    or (case.external_id and by_external_id(session, case.channel, case.external_id)))
        if not existing:
            raise
        return existing
    return case
