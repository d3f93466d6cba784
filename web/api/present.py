"""Rows as the JSON the API answers, for one viewer: every ID number, phone number, address and piece of free text
passes through `minqing.core.privacy.masking` (ID numbers always masked, phones and exact addresses unless the role needs
them)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from minqing import workflows
from minqing.core.privacy import masking, reveal
from minqing.core.actors import Actor
from minqing.core.models import (Address, Case, House, Household, KeyPerson, KeyPlace, Resident, Unit, Visit,
                                 utcnow)
from minqing.themes import records as themes_records
from minqing.workflows import reporter_view

from ..context import db, platform
from .auth import is_public_viewer
from .common import iso

def masked_document(viewer: Actor, value, key: str = ""):
    """A form document with every text masked for the viewer (address fields as addresses): the ledgers' rule
    (`themes.records.visible_value`), without a schema to read formats from."""
    return themes_records.visible_value(viewer, {}, value, key)


def _workflow(case: Case):
    try:
        return workflows.get_workflow(platform(), case.workflow_key, db())
    except workflows.WorkflowError:
        return None


def case_summary(viewer: Actor, case: Case, workflow=None, now: dt.datetime | None = None) -> dict:
    workflow = workflow or _workflow(case)
    state = workflow.states.get(case.status) if workflow else None
    now = now or utcnow()
    final = bool(state and state.final)
    return {
        "id": case.id, "number": case.number, "title": masking.text_for(viewer, case.title),
        "theme": case.theme_key, "theme_version": case.theme_version,
        # `category` is the code, as in POST /cases; the stored `category` column holds its group's title
        "category": case.subcategory or case.category, "category_group": case.category if case.subcategory else "",
        "subcategory": case.subcategory, "urgency": case.urgency, "status": case.status,
        "status_title": state.title if state else case.status, "final": final, "workflow": case.workflow_key,
        "source": case.source, "department_id": case.department_id, "grid_id": case.grid_id,
        "region_code": case.region_code, "lon": case.lon, "lat": case.lat,
        "address": masking.show(viewer, masking.ADDRESS, case.address),
        "created_at": iso(case.created_at), "updated_at": iso(case.updated_at),
        "state_deadline_at": iso(case.state_deadline_at), "due_at": iso(case.due_at),
        "closed_at": iso(case.closed_at),
        "overdue": bool(not final and case.state_deadline_at and case.state_deadline_at < now),
        "version": case.version,
    }


def case_detail(viewer: Actor, case: Case) -> dict:
    workflow = _workflow(case)
    body = case_summary(viewer, case, workflow)
    public = is_public_viewer(viewer)
    body.update({
        "description": masking.text_for(viewer, case.description),
        "form_data": masked_document(viewer, case.form_data or {}),
        "schema_version": case.schema_version,
        "reporter_name": "" if public else case.reporter_name,
        "reporter_phone": masking.show(viewer, masking.PHONE, case.reporter_phone),
        "rework_count": case.rework_count,
        "rehandling": _rehandling(workflow, case),
        "attachments": [{"id": item.id, "filename": item.filename, "content_type": item.content_type,
                         "size": item.size} for item in case.attachments],
        "timeline": timeline(viewer, case),
        **merge_links(case),
        "transitions": [] if workflow is None or public else [
            {"name": step.name, "title": step.title, "form": step.form or {"type": "object", "properties": {}}}
            for step in workflow.available(case.status)
            if (viewer.has_role("admin") or viewer.has_role(*step.roles))
            and not workflows.not_the_lead(viewer, case, step.roles)],  # co-handlers: not the lead's steps
    })
    return body


def _rehandling(workflow, case: Case) -> dict:
    """重办: how often the case went back to its department, the workflow's limit, and whether it is supervised."""
    if workflow is None:
        return {"count": case.rework_count or 0, "limit": None, "supervised": False}
    standing = workflows.rehandling_standing(db(), workflow, case)
    return {"count": standing.count, "limit": standing.limit, "supervised": standing.supervised}


def merge_links(case: Case) -> dict:
    """重复件: the master a case is merged into, and the cases merged into it (their own reporters stay linked)."""
    from minqing.workflows import duplicates

    master = db().get(Case, case.merged_into_id) if case.merged_into_id is not None else None
    return {"merged_into": {"id": master.id, "number": master.number} if master else None,
            "merged": [{"id": item.id, "number": item.number, "status": item.status}
                       for item in duplicates.duplicates_of(db(), case.id)]}


def timeline(viewer: Actor, case: Case) -> list[dict]:
    """The case's events; a citizen sees who only as 我/工作人员 and the comments of public steps only."""
    public = is_public_viewer(viewer)
    lines = []
    for event in sorted(case.events, key=lambda event: event.id):
        if public and not reporter_view.shows(event.action):
            continue
        data = event.data or {}
        line = {"id": event.id, "at": iso(event.at), "action": event.action,
                "title": data.get("title") or event.action, "from_status": event.from_status,
                "to_status": event.to_status}
        if public:
            mine = event.actor_account_id is not None and event.actor_account_id == viewer.account_id
            line["actor"] = "我" if mine else "工作人员"
            line["comment"] = masking.text_for(viewer, event.comment) if reporter_view.shows_comment(event.action) else ""
        else:
            line["actor"] = event.actor_name
            line["comment"] = masking.text_for(viewer, event.comment)
            if isinstance(data.get("form"), dict):
                line["form"] = masked_document(viewer, data["form"])
            if data.get("deadline_at"):
                line["deadline_at"] = iso(data["deadline_at"])  # stored as ISO text in UTC
        lines.append(line)
    return lines


def visit(viewer: Actor, row: Visit) -> dict:
    return {"id": row.id, "kind": row.target_kind, "target_id": row.target_id,
            "visitor_account_id": row.visitor_account_id, "grid_id": row.grid_id, "region_code": row.region_code,
            "visited_at": iso(row.visited_at), "lon": row.lon, "lat": row.lat,
            "summary": masking.text_for(viewer, row.summary), "theme": row.theme_key,
            "form_data": masked_document(viewer, row.form_data or {})}


def _age(birth: dt.date | None) -> int | None:
    if birth is None:
        return None
    today = dt.date.today()
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def residents(viewer: Actor, rows) -> list[dict]:
    """The ID number always masked, the phone as the role may see it. The age only for whom the viewer could
    reveal the number (`core.reveal.birth_visible`): with the masked number it narrows the eight hidden digits to
    a year's worth, which a few searches by number then settle."""
    aged = reveal.birth_visible(db(), viewer, [row.id for row in rows])
    return [resident(viewer, row, with_age=row.id in aged) for row in rows]


def resident(viewer: Actor, row: Resident, *, with_age: bool | None = None) -> dict:
    if with_age is None:
        with_age = row.id in reveal.birth_visible(db(), viewer, [row.id])
    return {"id": row.id, "name": row.name, "id_number": masking.show(viewer, masking.ID_NUMBER, row.id_number),
            "gender": row.gender, "age": _age(row.birth_date) if with_age else None,
            "phone": masking.show(viewer, masking.PHONE, row.phone) or None,
            "household_id": row.household_id, "relation": row.relation, "residency": row.residency,
            "ethnicity": row.ethnicity, "grid_id": row.grid_id, "region_code": row.region_code}


def _address_texts(ids) -> dict[int, str]:
    ids = [item for item in set(ids) if item]
    if not ids:
        return {}
    return dict(db().execute(select(Address.id, Address.text).where(Address.id.in_(ids))).all())


def households(viewer: Actor, rows) -> list[dict]:
    house_ids = [row.house_id for row in rows if row.house_id]
    house_addresses = dict(db().execute(select(House.id, House.address_id).where(
        House.id.in_(house_ids))).all()) if house_ids else {}
    texts = _address_texts(house_addresses.values())
    return [{"id": row.id, "number": row.number, "head_name": row.head_name, "size": row.size,
             "house_id": row.house_id,
             "address": masking.show(viewer, masking.ADDRESS, texts.get(house_addresses.get(row.house_id), "")),
             "last_visit_at": iso(row.last_visit_at), "grid_id": row.grid_id, "region_code": row.region_code}
            for row in rows]


def household(viewer: Actor, row: Household) -> dict:
    return households(viewer, [row])[0]


def _visit_due(row) -> dict:
    return {"visit_every_days": row.visit_every_days, "last_visit_at": iso(row.last_visit_at),
            "next_visit_due": row.next_visit_due.isoformat() if row.next_visit_due else None}


def key_persons(viewer: Actor, rows) -> list[dict]:
    people = {person.id: person for person in db().scalars(select(Resident).where(
        Resident.id.in_([row.resident_id for row in rows] or [0])))} if rows else {}
    aged = reveal.birth_visible(db(), viewer, people)
    answer = []
    for row in rows:
        person = people.get(row.resident_id)
        answer.append({"id": row.id, "category": row.category, "risk_level": row.risk_level,
                       "note": masking.text_for(viewer, row.note),
                       "resident": resident(viewer, person, with_age=person.id in aged) if person else None,
                       "grid_id": row.grid_id, "region_code": row.region_code, **_visit_due(row)})
    return answer


def key_person(viewer: Actor, row: KeyPerson) -> dict:
    return key_persons(viewer, [row])[0]


def key_place(viewer: Actor, row: KeyPlace) -> dict:
    return {"id": row.id, "name": row.name, "category": row.category,
            "address": masking.show(viewer, masking.ADDRESS, row.address_text), "lon": row.lon, "lat": row.lat,
            "department": row.department_key, "grid_id": row.grid_id, "region_code": row.region_code,
            **_visit_due(row)}


def unit(viewer: Actor, row: Unit) -> dict:
    texts = _address_texts([row.address_id])
    return {"id": row.id, "name": row.name, "credit_code": row.credit_code, "kind": row.kind,
            "address": masking.show(viewer, masking.ADDRESS, texts.get(row.address_id, "")),
            "lon": row.lon, "lat": row.lat, "contact_name": row.contact_name,
            "contact_phone": masking.show(viewer, masking.PHONE, row.contact_phone) or None,
            "employees": row.employees, "grid_id": row.grid_id, "region_code": row.region_code}
