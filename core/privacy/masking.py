"""The one place personal data is masked: ID numbers, phone numbers and exact addresses.

Pages, exports, API answers and log lines call these functions on every value of those kinds; a value is shown
whole only when `may_see` says the viewer's role needs it (and revealing it is then a deliberate, audited act).
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re

from minqing.core.actors import Actor
from minqing.core.models import Role

ID_NUMBER = "id_number"
PHONE = "phone"
ADDRESS = "address"

# Roles that need the plain value in their daily work. ID numbers are never among them: they are revealed one at
# a time, on purpose, and audited.
NEEDED_BY = {
    ID_NUMBER: frozenset(),
    PHONE: frozenset({Role.GRID_WORKER, Role.OPERATOR, Role.CADRE}),   # cadres visit households as grid workers do
    ADDRESS: frozenset({Role.GRID_WORKER, Role.OPERATOR, Role.DEPARTMENT_STAFF, Role.CADRE}),
}

# Free-text patterns. Each is a fixed sequence of bounded pieces (no nested or unbounded repetition), so a match
# attempt costs a constant number of steps at each position: linear in the text, whatever its content. People
# write numbers with spaces or dashes between the usual groups (620102 19410501 8154, 186-1727-7861,
# (0931) 8888 888) and with the country code (+86, 0086, 86); separators are allowed only between those groups,
# so lists of small numbers, dates and codes are not taken for phone numbers. No number starts right after a digit
# or a decimal point (case numbers like MQ20261206000123, 12-digit region codes, coordinates stay as they are).
_SEP = "[ \u00a0\u3000\u2010\u2013-]"
_START = r"(?<!\d)(?<!\d\.)"
_COUNTRY = rf"\(?(?:\+|00)?{_SEP}?86\)?{_SEP}?"
# A dot separates the groups only when it separates both of them (186.1727.7861, 620102.19410501.8154): a number
# with one dot is a decimal. A mobile may be typed in full-width digits (１８６１７２７７８６１) as well; `\d` takes them.
_ID_PATTERN = re.compile(
    rf"{_START}(\d{{6}})(?:{_SEP}?\d{{4}}{_SEP}?\d{{4}}{_SEP}?|\.\d{{8}}\.)(\d{{3}}[\dXx])(?![\dXx])")
_PHONE_PATTERN = re.compile(
    rf"{_START}(?P<country>{_COUNTRY}|(?:\+|00)?86\.(?=1\d\d\.))?(?P<head>[1１][3-9３-９]\d)"
    rf"(?:{_SEP}?\d{{4}}{_SEP}?|\.\d{{4}}\.)(?P<tail>\d{{4}})(?!\d)")
# Landlines: an area code (0931, (0931), or 931 after +86 / 0086) and a local number of 7 or 8 digits that does not
# start with 0 or 1, split at most once.
_AREA = rf"(?:\(0\d{{2,3}}\)|0\d{{2,3}}|(?:\+|00){_SEP}?86{_SEP}?(?:\(0\){_SEP}?)?\(?0?\d{{2,3}}\)?)"
_LOCAL = rf"(?:[2-9]\d{{3}}{_SEP}?\d{{3,4}}|[2-9]\d{{2}}{_SEP}?\d{{4}})"
_LANDLINE_PATTERN = re.compile(rf"{_START}(?P<area>{_AREA})(?P<sep>{_SEP}?)(?P<local>{_LOCAL})(?!\d)")
_NOT_DIGIT = re.compile(r"\D")
_SEPARATORS = re.compile(_SEP)
# A phone number's country code, written as digits: 0086… or 86… before an 11-digit national number.
_COUNTRY_DIGITS = re.compile(r"(?:00)?86(?=\d{11}$)")
_DETAIL_PATTERN = re.compile(r"\d+")
# A number that a house, building, unit, floor or room word follows: what makes an address exact. Only a whole run
# of digits is tried, and possessively, so a long run costs one pass (without both, each position of the run
# re-read the rest of it: quadratic).
_HOUSE_NUMBER_PATTERN = re.compile(r"(?<![0-9０-９])[0-9０-９]++(?=\s*+(?:号|栋|幢|单元|室|层|楼|弄))")
# Every pattern run over free text (each must stay linear-time: bounded repetitions, or possessive after a guard).
FREE_TEXT_PATTERNS = (_ID_PATTERN, _PHONE_PATTERN, _LANDLINE_PATTERN, _HOUSE_NUMBER_PATTERN)


def mask_id_number(value: str | None) -> str:
    """620102199001011234 (or 620102 19900101 1234) → 620102********1234: the birth date is always hidden."""
    if not value:
        return ""
    value = _SEPARATORS.sub("", value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:] if len(value) > 10 else "*" * len(value)


def mask_phone(value: str | None) -> str:
    """13912345678, +86 139 1234 5678, 0931-8461537 → 139****5678, 139****5678, 093****1537: the digits only,
    without the country code, so no way of writing the number keeps it whole."""
    if not value:
        return ""
    digits = _COUNTRY_DIGITS.sub("", _NOT_DIGIT.sub("", value))
    if len(digits) >= 8:
        return digits[:3] + "****" + digits[-4:]
    return value[:3] + "****" + value[-4:] if len(value) >= 8 else "*" * len(value)


def mask_address(value: str | None) -> str:
    """Keep the street and community, hide house, building, unit and room numbers."""
    return _DETAIL_PATTERN.sub("*", value or "")


def mask_name(value: str | None) -> str:
    """张建国 → 张**: a person's name in lists (the household head on the visit list); the surname only."""
    value = (value or "").strip()
    return value[:1] + "*" * (len(value) - 1) if len(value) > 1 else value


MASKERS = {ID_NUMBER: mask_id_number, PHONE: mask_phone, ADDRESS: mask_address}


def may_see(viewer: Actor | None, kind: str) -> bool:
    return viewer is not None and viewer.has_role(*NEEDED_BY[kind])


def show(viewer: Actor | None, kind: str, value: str | None) -> str:
    """The value as this viewer may see it."""
    if value is None:
        return ""
    return value if may_see(viewer, kind) else MASKERS[kind](value)


def scrub_text(text: str, *, keep_phones: bool = False, keep_addresses: bool = False) -> str:
    """Mask every ID number, mobile and landline number (however spaced, dashed or prefixed with +86) and house
    number (the digits of 12号楼3单元502室) found in free text (log lines, case descriptions, notes)."""
    text = _ID_PATTERN.sub(lambda m: m.group(1) + "********" + m.group(2)[-4:], text)
    if not keep_phones:
        text = _PHONE_PATTERN.sub(lambda m: (m["country"] or "") + m["head"] + "****" + m["tail"], text)
        text = _LANDLINE_PATTERN.sub(_masked_landline, text)
    if not keep_addresses:
        text = _HOUSE_NUMBER_PATTERN.sub("*", text)
    return text


def _masked_landline(match: re.Match) -> str:
    """0931-8461537 → 0931-****537: the area code stays, the first four digits of the local number go."""
    local = _SEPARATORS.sub("", match["local"])
    return match["area"] + match["sep"] + "****" + local[4:]


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
