"""The SLA sweep writes its rows with SQL that mirrors the platform's Python for one case: each pair gives the same
answers on the database, and a batch's marks, timeline lines and notices are each one INSERT … SELECT."""
from __future__ import annotations

import datetime as dt
import json
import types

from sqlalchemy import event, literal, select

from minqing.core.models import Case, Notification, UTCDateTime
from minqing.workflows import notices
from minqing.workflows.sla import parent_region, sweep
from minqing.workflows.sweep_rows import case_number, json_object
from minqing.workflows.sweep_rows import parent_region as parent_region_sql

from tests.fixtures.workflow import MONDAY_10AM, report, step

HOUR = dt.timedelta(hours=1)
CODES = ["620102001001002", "620102001001", "620102001000", "620102000000", "620100000000", "620000000000", "",
         "620102001010", "620102010000", "620110000000", "6201"]


def test_the_parent_region_in_sql_is_the_python_one(platform):
    with platform.db.session() as session:
        answers = session.execute(select(*[parent_region_sql(literal(code)) for code in CODES])).one()
    assert list(answers) == [parent_region(code) for code in CODES]


def test_the_case_number_in_sql_is_the_python_one(platform):
    created = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)
    ids = [7, 1234567, 12345678]
    with platform.db.session() as session:
        dialect = session.get_bind().dialect.name
        numbers = session.execute(select(*[
            case_number(dialect, types.SimpleNamespace(id=literal(case_id), created_at=literal(created, UTCDateTime())))
            for case_id in ids])).one()
    assert list(numbers) == [Case(id=case_id, created_at=created).number for case_id in ids]
    assert numbers[2] == "MQ2026030112345678"


def test_a_json_object_built_in_sql_keeps_its_types(platform):
    with platform.db.session() as session:
        document = session.scalar(select(json_object(session.get_bind().dialect.name, title="超时升级",
                                                     region_code=literal("620102001000"), automatic=True)))
    document = json.loads(document) if isinstance(document, str) else document
    assert document == {"title": "超时升级", "region_code": "620102001000", "automatic": True}


def test_the_sweep_notices_are_the_ones_the_platform_sends_for_one_case(platform, city):
    """The urge goes to the department holding the case, worded as `notices.urge_message` words it; the
    escalation to the region above, as `notices.escalate_message`."""
    case_id = report(platform, city.worker, title="井盖缺失")
    step(platform, case_id, "accept", city.station)
    step(platform, case_id, "dispatch", city.station, {"department": "water_affairs"})
    step(platform, case_id, "take", city.water)
    later = MONDAY_10AM + dt.timedelta(days=14)              # handling (urge + escalate) long over
    result = sweep(platform, now=later)
    assert (result.urged, result.escalated) == (1, 1)
    with platform.db.session() as session:
        case = session.get(Case, case_id)
        expected = [notices.urge_message(session, case, "已超过办理时限，请尽快办理", "系统"),
                    notices.escalate_message(case, "620102001000")]
        sent = session.scalars(select(Notification).where(Notification.kind.in_(["urge", "escalate"]))
                               .order_by(Notification.id)).all()
    assert expected[0]["recipient"] == "department:water_affairs"
    assert [{"kind": row.kind, "recipient": row.recipient, "subject": row.subject, "body": row.body,
             "case_id": row.case_id, "data": row.data} for row in sent] == expected


def test_a_batch_writes_with_one_insert_select_per_table_and_no_row_by_row_inserts(platform, city):
    case_ids = [report(platform, city.worker, title=f"事件{n}") for n in range(6)]
    step(platform, case_ids[0], "accept", city.station)      # 待分拨: urged and escalated
    inserts = []

    def seen(connection, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT"):
            inserts.append((statement.split()[2], " SELECT " in " ".join(statement.upper().split()), executemany))

    event.listen(platform.db.engine, "before_cursor_execute", seen)
    try:
        result = sweep(platform, now=MONDAY_10AM + 6 * HOUR, deliver=False)
    finally:
        event.remove(platform.db.engine, "before_cursor_execute", seen)
    assert (result.urged, result.escalated) == (6, 1)
    written = {table: (from_select, many) for table, from_select, many in inserts
               if table in ("sweep_marks", "case_events", "notifications")}
    assert written == {"sweep_marks": (True, False), "case_events": (True, False), "notifications": (True, False)}
    assert sum(table == "case_events" for table, _, _ in inserts) == 1
