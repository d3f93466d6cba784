"""通知: the signed-in person's in-app notifications (the outbox's ``inbox`` channel), newest first and paged, marked
read one at a time or all at once, and the unread count the header shows on every page.

A notification is addressed (workflows/notices.py) to ``account:<id>`` (one person), ``department:<key>`` (the
department's staff) or ``region:<code>`` (the command body of the region). A person sees the ones addressed to
them, to a department they are staff of, and, as a command body (operator), to a region at or under their
region: never anyone else's. Each person reads a shared notification for themselves (``notification_reads``);
"mark all" moves a per-account cursor (``notification_cursors``) instead of writing a row per notification.
"""
from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import ColumnElement

from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.geo.regions import prefix
from minqing.core.models import Notification, NotificationCursor, NotificationRead, Role, utcnow

from .context import db, viewer
from .permissions import roles_required

log = logging.getLogger(__name__)
blueprint = Blueprint("notifications", __name__, url_prefix="/notifications")
PAGE_SIZE = 20
BADGE_CAP = 99   # the badge says "99+" beyond this: the count stops there, however many a city centre has
NOTIFIED_ROLES = ("admin", "operator", "department_staff", "grid_worker", "leader", "citizen")  # auditors: none


def addressed_to(person: Actor) -> ColumnElement[bool]:
    """A WHERE clause: the in-app notifications addressed to `person` (and to nobody else's addresses)."""
    clauses = [Notification.recipient == f"account:{person.account_id}"]
    for grant in person.grants_of(Role.DEPARTMENT_STAFF):
        if grant.department_key:
            clauses.append(Notification.recipient == f"department:{grant.department_key}")
    for grant in person.grants_of(Role.OPERATOR):
        if grant.region_code:
            code = grant.region_code
            start = "region:" + (prefix(code) if code.isdigit() and len(code) in (12, 15) else code)
            clauses.append(and_(Notification.recipient >= start, Notification.recipient < start + ":"))
    return and_(Notification.channel == "inbox", or_(*clauses))


def _is_read(person: Actor) -> ColumnElement[bool]:
    cursor = (select(NotificationCursor.read_through_id).where(NotificationCursor.account_id == person.account_id)
              .scalar_subquery())
    read = (select(NotificationRead.notification_id)
            .where(NotificationRead.account_id == person.account_id,
                   NotificationRead.notification_id == Notification.id).exists())
    return or_(Notification.id <= func.coalesce(cursor, 0), read)


def unread_count(person: Actor) -> int:
    """Unread notifications of `person`, counted up to BADGE_CAP + 1: one query, whatever the page shows."""
    if person.account_id is None or not person.has_role(*NOTIFIED_ROLES):
        return 0
    unread = (select(Notification.id).where(addressed_to(person), ~_is_read(person))
              .limit(BADGE_CAP + 1).subquery())
    return db().scalar(select(func.count()).select_from(unread)) or 0


@blueprint.app_context_processor
def _badge():
    """For the header: `notified()`, whether the viewer has notifications at all (the 通知 link shows only then:
    the page admits NOTIFIED_ROLES alone), and `unread_notifications()`; each evaluated only where a template asks."""
    def notified() -> bool:
        return current_user.is_authenticated and viewer().has_role(*NOTIFIED_ROLES)

    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        try:
            return unread_count(viewer())
        except SQLAlchemyError:   # an error page after a failed transaction still renders, without a count
            log.warning("unread notifications not counted", exc_info=True)
            return 0
    return {"notified": notified, "unread_notifications": unread_notifications, "notification_badge_cap": BADGE_CAP}


@blueprint.get("/")
@roles_required(*NOTIFIED_ROLES)
def index():
    person = viewer()
    page = max(1, min(request.args.get("page", 1, type=int), 10_000))
    only_unread = request.args.get("unread") == "1"
    statement = select(Notification, _is_read(person).label("is_read")).where(addressed_to(person))
    if only_unread:
        statement = statement.where(~_is_read(person))
    total = db().scalar(select(func.count()).select_from(statement.subquery()))
    rows = db().execute(statement.order_by(Notification.id.desc()).limit(PAGE_SIZE)
                        .offset((page - 1) * PAGE_SIZE)).all()
    citizen = person.has_role("citizen") and not person.has_role("admin", "operator", "department_staff",
                                                                 "grid_worker", "leader")
    return render_template("notifications/index.html", rows=rows, total=total, page=page, page_size=PAGE_SIZE,
                           only_unread=only_unread, case_endpoint="citizen.case_page" if citizen else "work.case_page")


def _mine(notification_id: int) -> Notification:
    """The notification, if it is addressed to this viewer; 404 otherwise (never say whose it is)."""
    row = db().scalar(select(Notification).where(Notification.id == notification_id, addressed_to(viewer())))
    if row is None:
        abort(404)
    return row


@blueprint.post("/read")
@roles_required(*NOTIFIED_ROLES)
def mark_read():
    person = viewer()
    notification_id = request.form.get("id", type=int)
    if notification_id is None:
        flash("通知编号：缺少或不是数字，未做任何更改", "error")
        return redirect(url_for("notifications.index"))
    notification = _mine(notification_id)
    already = db().scalar(select(_is_read(person)).where(Notification.id == notification.id))
    if not already:
        db().add(NotificationRead(account_id=person.account_id, notification_id=notification.id, read_at=utcnow()))
        record_change(db(), person, "notification.read", object_type="notification", object_id=notification.id,
                      summary=f"通知标为已读：{notification.kind}")
        db().commit()
    if request.form.get("open") and notification.case_id is not None:
        endpoint = request.form.get("open")
        if endpoint not in ("work.case_page", "citizen.case_page"):
            endpoint = "work.case_page"
        return redirect(url_for(endpoint, case_id=notification.case_id))
    return redirect(url_for("notifications.index", page=request.form.get("page", 1, type=int)))


@blueprint.post("/read-all")
@roles_required(*NOTIFIED_ROLES)
def mark_all_read():
    person = viewer()
    newest = db().scalar(select(func.max(Notification.id)).where(addressed_to(person), ~_is_read(person)))
    if newest is None:
        flash("没有未读通知", "info")
        return redirect(url_for("notifications.index"))
    cursor = db().get(NotificationCursor, person.account_id)
    if cursor is None:
        cursor = NotificationCursor(account_id=person.account_id, read_through_id=0)
        db().add(cursor)
    through = max(cursor.read_through_id or 0, newest)
    cursor.read_through_id, cursor.updated_at = through, utcnow()
    # single reads below the cursor say nothing more
    db().execute(delete(NotificationRead).where(NotificationRead.account_id == person.account_id,
                                                NotificationRead.notification_id <= through))
    record_change(db(), person, "notification.read_all", object_type="notification", object_id=through,
                  summary=f"全部通知标为已读（至第 {through} 条）")
    db().commit()
    flash("已将全部通知标为已读", "info")
    return redirect(url_for("notifications.index"))
