"""The one place personal data is masked: ID numbers, phone numbers and exact addresses.

Pages, exports, API answers and log lines call these functions on every value of those kinds; a value is shown
whole only when `may_see` says the viewer's role needs it (and revealing it is then a deliberate, audited act).
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re

from .actors import Actor
from .models import Role

ID_NUMBER = "id_number"
PHONE = "phone"
ADDRESS = "address"

# Roles that need the plain value in their daily work. ID numbers are never among them: they are revealed one at
# a time, on purpose, and audited.
NEEDED_BY = {
    ID_NUMBER: frozenset(),
    PHONE: frozenset({Role.GRID_WORKER, Role.OPERATOR}),
    ADDRESS: frozenset({Role.GRID_WORKER, Role.OPERATOR, Role.DEPARTMENT_STAFF}),
}

_ID_PATTERN = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?![\dXx])")
_PHONE_PATTERN = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_DETAIL_PATTERN = re.compile(r"\d+")
# A number that a house, building, unit, floor or room word follows: what makes an address exact.
_HOUSE_NUMBER_PATTERN = re.compile(r"[0-9０-９]+(?=\s*(?:号|栋|幢|单元|室|层|楼|弄))")


def mask_id_number(value: str | None) -> str:
    """620102199001011234 → 620102********1234: the birth date is always hidden."""
    if not value:
        return ""
    return value[:6] + "*" * (len(value) - 10) + value[-4:] if len(value) > 10 else "*" * len(value)


def mask_phone(value: str | None) -> str:
    """13912345678 → 139****5678."""
    if not value:
        return ""
    return value[:3] + "****" + value[-4:] if len(value) >= 8 else "*" * len(value)


def mask_address(value: str | None) -> str:
    """Keep the street and community, hide house, building, unit and room numbers."""
    return _DETAIL_PATTERN.sub("*", value or "")


MASKERS = {ID_NUMBER: mask_id_number, PHONE: mask_phone, ADDRESS: mask_address}


def may_see(viewer: Actor | None, kind: str) -> bool:
    return viewer is not None and viewer.has_role(*NEEDED_BY[kind])


def show(viewer: Actor | None, kind: str, value: str | None) -> str:
    """The value as this viewer may see it."""
    if value is None:
        return ""
    return value if may_see(viewer, kind) else MASKERS[kind](value)


def scrub_text(text: str, *, keep_phones: bool = False, keep_addresses: bool = False) -> str:
    """Mask every ID number, mobile number and house number (the digits of 12号楼3单元502室) found in free text
    (log lines, case descriptions, notes)."""
    text = _ID_PATTERN.sub(lambda m: m.group(1) + "********" + m.group(2)[-4:], text)
    if not keep_phones:
        text = _PHONE_PATTERN.sub(lambda m: m.group(1) + "****" + m.group(2), text)
    if not keep_addresses:
        text = _HOUSE_NUMBER_PATTERN.sub("*", text)
    return text


def text_for(viewer: Actor | None, text: str | None) -> str:
    """Free text (a description, a form answer) as this viewer may see it: ID numbers always masked, phone
    numbers and house numbers unless the viewer's role needs them."""
    return scrub_text(text or "", keep_phones=may_see(viewer, PHONE), keep_addresses=may_see(viewer, ADDRESS))


def id_digest(key: bytes, id_number: str) -> str:
    """Keyed digest for look-ups by ID number, so no query ever carries the plain number."""
    return hmac.new(key, id_number.upper().encode(), hashlib.sha256).hexdigest()


def scrub_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask ID, mobile and house numbers in a record's message and in its traceback text."""
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # arguments that do not fit the format: logging reports it when emitting
        return record
    scrubbed = scrub_text(message)
    if scrubbed != message:
        record.msg, record.args = scrubbed, None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = scrub_text(record.exc_text)
    return record


class ScrubbingFilter(logging.Filter):
    """The same as a logging filter, for a logging configuration that wants it on a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub_record(record)
        return True


def install_log_scrubbing() -> None:
    """Mask ID, mobile and house numbers in every log record this process makes, whichever logger or handler (a file
    handler added later, gunicorn's, pytest's) it reaches: the record factory itself scrubs. Idempotent; the
    Platform calls it, so the web app, the CLI, Celery workers and tests all get it once."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "scrubs_personal_data", False):
        return

    def scrubbing_factory(*args, **kwargs):
        return scrub_record(factory(*args, **kwargs))

    scrubbing_factory.scrubs_personal_data = True
    logging.setLogRecordFactory(scrubbing_factory)
