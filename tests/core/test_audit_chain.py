"""The audit log's hash chains: each stream one line whatever writes at once, writers committing at once do not
wait for each other on PostgreSQL, and every changed or deleted record is named."""
from __future__ import annotations

import datetime as dt
import json
import random
import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from minqing.core.audit import chain, retention
from minqing.core.audit.verify import verify
from minqing.core.changes import record_change
from minqing.core.db import Database, alembic_config
from minqing.core.models import AuditChain, AuditRecord, utcnow
from minqing.workflows.tasks import run_periodic, schedule

from tests.fixtures.audit import WORKER, chain_actor, records, report_of, run, tamper, write
from tests.fixtures.database import fresh_database

THREADS = 12
ROUNDS = 15


def test_records_are_numbered_and_linked_in_commit_order(platform):
    write(platform, "a", "b")
    write(platform, "c")
    rows = records(platform)
    assert [(row.seq, row.action) for row in rows] == [(1, "a"), (2, "b"), (3, "c")]
    assert rows[0].prev_hash == chain.GENESIS
    assert [row.prev_hash for row in rows[1:]] == [row.hash for row in rows[:-1]]
    assert all(chain.record_hash(row) == row.hash for row in rows)
    assert rows[0].details == {"n": 1, "tags": ["甲", 2]} and rows[0].origin == "10.0.0.7"
    with platform.db.session() as session:
        head = chain.head(session)
    assert (head.last_seq, head.last_hash) == (3, rows[-1].hash)
    report = report_of(platform)
    assert report.ok and report.count == 3 and (report.first_seq, report.last_seq) == (1, 3)


def test_rolled_back_work_leaves_no_record_and_no_gap(platform):
    write(platform, "kept.1")
    with pytest.raises(RuntimeError), platform.db.session() as session:
        record_change(session, WORKER, "lost.transaction")
        raise RuntimeError("the change failed")
    with platform.db.session() as session:
        record_change(session, WORKER, "kept.2")
        with pytest.raises(RuntimeError), session.begin_nested():
            record_change(session, WORKER, "lost.savepoint")
            raise RuntimeError("the inner step failed")
        with session.begin_nested():
            record_change(session, WORKER, "kept.3")
        assert [record.action for record in chain.pending(session)] == ["kept.2", "kept.3"]
    with platform.db.session() as session:  # a session closed without commit records nothing
        record_change(session, WORKER, "lost.closed")
        session.rollback()
    assert [(row.seq, row.action) for row in records(platform)] == [(1, "kept.1"), (2, "kept.2"), (3, "kept.3")]
    assert report_of(platform).ok


def test_many_writers_at_once_make_unbroken_chains(platform):
    """Threads commit audit records at the same time (one or two per transaction, a few rolled back); each
    stream comes out as one line with no gap, a transaction's records together in one stream, and verifies."""
    barrier = threading.Barrier(THREADS)
    committed, errors, lock = [], [], threading.Lock()

    def writer(number: int) -> None:
        rng = random.Random(number)
        barrier.wait()
        for round_ in range(ROUNDS):
            actions = [f"w{number}.{round_}.{i}" for i in range(rng.choice((1, 2)))]
            try:
                with platform.db.session() as session:
                    for action in actions:
                        record_change(session, WORKER, action)
                    if rng.random() < 0.15:
                        raise LookupError("rolled back on purpose")
                with lock:
                    committed.extend(actions)
            except LookupError:
                pass
            except Exception as error:  # noqa: BLE001 - the test examines every failure
                with lock:
                    errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    rows = records(platform)
    for stream in {row.stream for row in rows}:
        assert [row.seq for row in rows if row.stream == stream] == list(
            range(1, sum(row.stream == stream for row in rows) + 1))
    assert sorted(row.action for row in rows) == sorted(committed)
    for action_prefix in {action.rsplit(".", 1)[0] for action in committed}:  # a transaction's records stay together
        together = [(row.stream, row.seq) for row in rows if row.action.rsplit(".", 1)[0] == action_prefix]
        assert together == [(together[0][0], together[0][1] + n) for n in range(len(together))]
    report = report_of(platform)
    assert report.ok and report.count == len(committed)


def test_verify_names_exactly_the_changed_and_the_deleted_record(platform):
    write(platform, *[f"step.{n}" for n in range(1, 9)])
    rows = records(platform)
    changed, deleted = rows[2], rows[5]
    tamper(platform, "UPDATE audit_log SET summary = :summary WHERE id = :id", summary="无事发生", id=changed.id)
    tamper(platform, "DELETE FROM audit_log WHERE id = :id", id=deleted.id)
    report = report_of(platform)
    assert not report.ok and report.count == 7
    assert [(fault.kind, fault.seq, fault.id, fault.action) for fault in report.faults] == [
        ("changed", changed.seq, changed.id, "step.3"), ("deleted", deleted.seq, None, None)]
    assert report.faults[0].at == changed.at.isoformat() and "内容与其哈希不符" in report.faults[0].message
    assert report.faults[1].last_seq == deleted.seq and f"第 {deleted.seq} 条记录已被删除" in report.faults[1].message


def test_a_record_rehashed_after_its_change_is_caught_by_the_next_one(platform):
    write(platform, "one", "two", "three")
    second = records(platform)[1]
    second.summary = "改过的摘要"
    tamper(platform, "UPDATE audit_log SET summary = :summary, hash = :hash WHERE id = :id",
           summary=second.summary, hash=chain.record_hash(second), id=second.id)
    assert [(fault.kind, fault.id) for fault in report_of(platform).faults] == [("changed", second.id)]
    tamper(platform, "UPDATE audit_log SET hash = :hash WHERE id = :id", hash="f" * 64, id=second.id)
    assert [(fault.kind, fault.id) for fault in report_of(platform).faults] == [("changed", second.id)]  # once


def test_the_newest_records_cannot_vanish_unnoticed(platform):
    write(platform, "one", "two", "three", "four")
    rows = records(platform)
    noted = run(platform, "audit", "verify", "--json")
    witness = "{last_seq}:{last_hash}".format(**json.loads(noted.output))
    tamper(platform, "DELETE FROM audit_log WHERE seq >= 3")
    assert [(f.kind, f.seq, f.last_seq) for f in report_of(platform).faults] == [("deleted", 3, 4)]
    # Cutting the head too leaves a shorter chain that is consistent in itself: a new head grows from the
    # tail it finds. Only a head noted outside the database shows the loss.
    tamper(platform, "DELETE FROM audit_chain")
    write(platform, "after")
    assert records(platform)[-1].prev_hash == rows[1].hash and report_of(platform).ok
    cut = run(platform, "audit", "verify", "--witness", witness)
    assert cut.exit_code == 1 and "此前记下的第 4 条记录已不在审计日志中" in cut.output
    assert run(platform, "audit", "verify", "--witness", f"4:{rows[3].hash}").exit_code == 1
    assert run(platform, "audit", "verify", "--witness", f"2:{rows[1].hash}").exit_code == 0
    refused = run(platform, "audit", "verify", "--witness", "两条")
    assert refused.exit_code == 2 and "序号:哈希" in refused.output


def test_the_database_keeps_the_log_append_only_where_it_can(platform):
    """PostgreSQL refuses UPDATE, DELETE and TRUNCATE of audit records (the retention job alone may delete,
    and never a record younger than 184 days). SQLite cannot: there, the chain is what shows the change."""
    write(platform, "one", "two")
    first = records(platform)[0]
    statements = ["UPDATE audit_log SET summary = 'x' WHERE seq = 1", "DELETE FROM audit_log WHERE seq = 1",
                  "TRUNCATE audit_log"]
    if platform.db.engine.dialect.name == "postgresql":
        for statement in statements:
            with pytest.raises(DBAPIError, match="append-only"), platform.db.engine.begin() as connection:
                connection.execute(text(statement))
        with pytest.raises(DBAPIError, match="184 days"), platform.db.engine.begin() as connection:
            connection.execute(text("SELECT set_config('minqing.audit_retention', 'on', true)"))
            connection.execute(text("DELETE FROM audit_log WHERE seq = 1"))
        assert [row.summary for row in records(platform)] == [first.summary, "做了 two"]
        assert report_of(platform).ok
    else:
        with platform.db.engine.begin() as connection:
            connection.execute(text(statements[0]))
        assert [(f.kind, f.id) for f in report_of(platform).faults] == [("changed", first.id)]


def test_prune_removes_old_records_and_the_chain_still_verifies(platform):
    now = utcnow()
    write(platform, "old.1", "old.2", at=now - dt.timedelta(days=400))
    write(platform, "middle", at=now - dt.timedelta(days=200))
    write(platform, "old.3", at=now - dt.timedelta(days=390))  # an old time written late stays: only a prefix goes
    write(platform, "new")
    with platform.db.session() as session:
        result = retention.prune(session, chain_actor(), 365)
    assert (result.removed, result.anchor_seq) == (2, 2)
    assert [row.action for row in records(platform)] == ["middle", "old.3", "new", "audit.prune"]
    pruned = records(platform)[-1]
    assert pruned.details["removed"] == 2 and pruned.details["days"] == 365 and "365 天" in pruned.summary
    with platform.db.session() as session:
        head = session.get(AuditChain, chain.CHAIN)
        assert (head.anchor_seq, head.anchor_at) == (2, now - dt.timedelta(days=400))
    report = report_of(platform)
    assert report.ok and (report.count, report.first_seq, report.anchor_seq) == (4, 3, 2)
    write(platform, "later")
    assert report_of(platform).ok


def test_prune_refuses_to_erase_evidence_of_tampering(platform):
    write(platform, "old.1", "old.2", "old.3", at=utcnow() - dt.timedelta(days=500))
    write(platform, "new")
    tamper(platform, "DELETE FROM audit_log WHERE seq = 2")
    with pytest.raises(retention.RetentionError, match="为保留证据已停止清理"), platform.db.session() as session:
        retention.prune(session, chain_actor(), 365)
    assert [row.seq for row in records(platform)] == [1, 3, 4]


def test_prune_never_goes_below_184_days(platform, monkeypatch):
    with pytest.raises(retention.RetentionError, match="至少保留 184 天"), platform.db.session() as session:
        retention.prune(session, chain_actor(), 183)
    assert retention.retention_days({}) == 365
    assert retention.retention_days({"MINQING_AUDIT_RETENTION_DAYS": "200"}) == 200
    for bad, message in (("90", "至少保留 184 天"), ("半年", "应为天数")):
        with pytest.raises(retention.RetentionError, match=message):
            retention.retention_days({"MINQING_AUDIT_RETENTION_DAYS": bad})
    result = run(platform, "audit", "prune", "--older-than", "100")
    assert result.exit_code == 1 and "审计日志至少保留 184 天" in result.output and "100 天以内" in result.output
    assert records(platform) == []


def test_the_retention_job_is_a_periodic_task_with_the_configured_period(platform, monkeypatch):
    tasks = {item["name"]: item for _, item in platform.plugins.collect("periodic_tasks")}
    assert tasks["audit.retention"]["every"] == 24 * 3600
    write(platform, "old", at=utcnow() - dt.timedelta(days=300))
    write(platform, "recent", at=utcnow() - dt.timedelta(days=190))
    monkeypatch.setenv("MINQING_AUDIT_RETENTION_DAYS", "250")
    assert schedule(platform.plugins)["audit.retention"]["args"] == ("audit.retention",)  # minqing beat's entry
    assert run_periodic(platform, "audit.retention")  # what the worker runs for it
    assert [row.action for row in records(platform)] == ["recent", "audit.prune"]
    assert records(platform)[-1].actor_name == "系统" and records(platform)[-1].origin == "beat"


def test_the_command_line_reports_ok_or_each_fault_with_exit_code_1(platform):
    write(platform, "one", "two", "three")
    ok = run(platform, "audit", "verify")
    assert ok.exit_code == 0 and "审计日志完整：共 3 条记录" in ok.output
    as_json = json.loads(run(platform, "audit", "verify", "--json").output)
    assert as_json["ok"] and as_json["count"] == 3 and as_json["last_hash"] == records(platform)[-1].hash
    tamper(platform, "UPDATE audit_log SET actor_name = '别人' WHERE seq = 2")
    bad = run(platform, "audit", "verify")
    assert bad.exit_code == 1 and "发现 1 处问题" in bad.output and "第 2 条记录" in bad.output
    faults = json.loads(run(platform, "audit", "verify", "--json").output)["faults"]
    assert [(fault["kind"], fault["seq"], fault["action"]) for fault in faults] == [("changed", 2, "two")]
    pruned = run(platform, "audit", "prune", "--older-than", "184", "--json")
    assert pruned.exit_code == 0 and json.loads(pruned.output)["removed"] == 0
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).where(AuditRecord.action == "audit.prune")) == 1


def test_the_migration_chains_the_records_already_there(tmp_path_factory):
    """Upgrading an installation that already has an audit log numbers and hashes its records in id order."""
    from alembic import command

    database = Database(fresh_database(tmp_path_factory, "audit_migration"))
    with database.engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")
        for n, at in enumerate(("2026-01-01 08:00:00.000001", "2026-01-01 08:00:00", "2025-12-31 23:59:59.5")):
            connection.execute(text("INSERT INTO audit_log (at, actor_account_id, actor_name, origin, action, "
                                    "object_type, object_id, summary, details) VALUES (:at, NULL, '系统', '', "
                                    ":action, 'case', :id, '旧记录', :details)"),
                               {"at": at, "action": f"old.{n}", "id": str(n), "details": json.dumps({"n": n + 0.5})})
    database.upgrade()
    with database.session() as session:
        rows = session.scalars(select(AuditRecord).order_by(AuditRecord.id)).all()
        assert [(row.seq, row.action) for row in rows] == [(1, "old.0"), (2, "old.1"), (3, "old.2")]
        assert (chain.head(session).last_seq, chain.head(session).last_hash) == (3, rows[-1].hash)
        record_change(session, WORKER, "new")
    with database.session() as session:
        report = verify(session)
    database.dispose()
    assert report.ok and report.count == 4
