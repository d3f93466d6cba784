"""The city's own history as training samples, and the signals people give it.

A case teaches its category once a dispatch has stuck: it was dispatched and not returned since. A case
returned (退回) and not yet re-dispatched teaches nothing — its category is in doubt; once re-dispatched, its
category then (a dispatcher may correct it when confirming another suggestion) is the label, learnt with more
weight, as is any dispatch a person confirmed. A CSV of past cases (text, category, department, region,
reported_at) gives samples the same way, for `minqing dispatch evaluate --from`.
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core.importing.readers import detect_encoding
from minqing.core.models import Case, CaseEvent

from .model import Sample

DISPATCH, RETURN = "dispatch", "return"
PERSON_WEIGHT, CORRECTION_WEIGHT = 2.0, 3.0
CSV_COLUMNS = ("text", "category", "department", "region", "reported_at")


@dataclasses.dataclass
class Signals:
    dispatched: bool = False
    returned_since: bool = False    # the last dispatch was returned
    corrected: bool = False         # re-dispatched after a return
    by_person: bool = False         # the last dispatch was a person's


def case_text(case: Case) -> str:
    return f"{case.title}。{case.description or ''}"


def code_of(case: Case) -> str:
    return case.subcategory or case.category or ""


def signals(session: Session) -> dict[int, Signals]:
    """Per case id, what its dispatches and returns say, read from the timeline in order."""
    found: dict[int, Signals] = {}
    rows = session.execute(select(CaseEvent.case_id, CaseEvent.action, CaseEvent.actor_account_id)
                           .where(CaseEvent.action.in_((DISPATCH, RETURN))).order_by(CaseEvent.id))
    for case_id, action, account_id in rows:
        signal = found.setdefault(case_id, Signals())
        if action == DISPATCH:
            signal.corrected = signal.corrected or signal.returned_since
            signal.dispatched, signal.returned_since, signal.by_person = True, False, account_id is not None
        else:
            signal.returned_since = True
    return found


def samples(session: Session) -> list[Sample]:
    """Every case whose dispatch stuck, oldest first."""
    known = {case_id: signal for case_id, signal in signals(session).items()
             if signal.dispatched and not signal.returned_since}
    found = []
    dispatched = select(CaseEvent.case_id).where(CaseEvent.action == DISPATCH)  # a subquery: no list of ids
    for case in session.scalars(select(Case).where(Case.id.in_(dispatched)).order_by(Case.created_at, Case.id)):
        signal, code = known.get(case.id), code_of(case)
        if signal is None or not code or case.status == "voided":
            continue
        weight = CORRECTION_WEIGHT if signal.corrected else PERSON_WEIGHT if signal.by_person else 1.0
        found.append(Sample(text=case_text(case), label=code, weight=weight, case_id=case.id, title=case.title,
                            closed=case.closed_at is not None, at=case.created_at))
    return found


# The names an exported history commonly gives its time column, in the order they are looked for.
TIME_COLUMNS = ("reported_at", "created_at", "time", "上报时间")


@dataclasses.dataclass
class CsvHistory:
    samples: list[Sample]
    time_column: str      # which of TIME_COLUMNS the file had


def time_column_of(fieldnames) -> str | None:
    names = [name.strip() for name in fieldnames or ()]
    return next((name for name in TIME_COLUMNS if name in names), None)


def read_csv(path: str) -> CsvHistory:
    """Past cases from a CSV file (UTF-8 or GB18030, as the imports read them; a header row) with the columns text,
    category and a time column (any of TIME_COLUMNS), oldest first. A file that is not such text (a photo, a
    workbook) is a ValueError with a Chinese message, not a decoding error from the middle of the file."""
    with open(path, encoding=detect_encoding(Path(path)), newline="") as handle:
        reader = csv.DictReader(handle)
        reader.fieldnames = [name.strip() for name in reader.fieldnames or ()]
        time_column = time_column_of(reader.fieldnames)
        missing = [column for column in ("text", "category") if column not in reader.fieldnames]
        if time_column is None:
            missing.append("时间列（" + "、".join(TIME_COLUMNS) + " 之一）")
        if missing:
            raise ValueError(f"CSV 文件缺少列：{'、'.join(missing)}")
        found = []
        for number, row in enumerate(reader, start=2):
            try:
                at = dt.datetime.fromisoformat((row[time_column] or "").strip())
            except ValueError as error:
                raise ValueError(f"第 {number} 行 {time_column} 不是 ISO 时间：{row[time_column]!r}") from error
            if (row["text"] or "").strip() and (row["category"] or "").strip():
                found.append(Sample(text=row["text"], label=row["category"].strip(), at=at))
    return CsvHistory(sorted(found, key=lambda sample: sample.at), time_column)
