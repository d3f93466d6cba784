"""The audit log's streams (issue #20): writers committing at once on PostgreSQL take different heads and none
waits for another; verify walks every stream and the witness covers every head; migration 0029 keeps the
chain written before it."""
from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from alembic import command
from sqlalchemy import select, text

from minqing.core.audit import chain, retention
from minqing.core.changes import record_change
from minqing.core.db import Database, alembic_config
from minqing.core.models import AuditRecord, utcnow

from tests.fixtures.audit import WORKER, chain_actor, records, report_of, run, tamper, write, write_in
from tests.fixtures.database import ON_POSTGRES, fresh_database, platform_on
from tests.fixtures.postgres import dedicated_database


@pytest.fixture
def pg_platform(database_url):
    """A platform on PostgreSQL: the suite's own database when it runs there, else the dedicated one."""
    yield from platform_on(database_url if ON_POSTGRES else dedicated_database())


@pytest.mark.postgres
def test_two_writers_commit_at_once_without_waiting_for_each_other(pg_platform):
    """The first writer has sealed its record (holding its stream's head) and has not committed; the second
    commits meanwhile. With one head for the whole log the second would wait for the first's commit: here
    its lock_timeout would end it with an error instead of the test hanging."""
    write(pg_platform, "before")  # the head "main" exists, as after any migration
    first = pg_platform.db.sessionmaker()
    try:
        record_change(first, WORKER, "first")
        held = chain.seal(first, chain.take(first))
        with pg_platform.db.session() as second:
            second.execute(text("SET LOCAL lock_timeout = '30s'"))
            record_change(second, WORKER, "second")
        with pg_platform.db.session() as session:  # the second is committed while the first still holds its head
            passed = session.scalars(select(AuditRecord).where(AuditRecord.action == "second")).one()
            assert session.scalar(select(AuditRecord.id).where(AuditRecord.action == "first")) is None
        first.commit()
    finally:
        first.close()
    assert held == chain.CHAIN and passed.stream != held and passed.seq == 1
    assert {(row.stream, row.seq, row.action) for row in records(pg_platform)} == {
        ("main", 1, "before"), ("main", 2, "first"), (passed.stream, 1, "second")}
    report = report_of(pg_platform)
    assert report.ok and report.count == 3 and len(report.streams) == 2


def test_quiet_writers_use_the_main_stream_and_pinned_streams_chain_on_their_own(platform):
    write(platform, "a")
    write_in(platform, "s2", "x.1", "x.2")
    write(platform, "b")
    rows = records(platform)
    assert [(row.stream, row.seq, row.action) for row in rows] == [
        ("main", 1, "a"), ("main", 2, "b"), ("s2", 1, "x.1"), ("s2", 2, "x.2")]
    assert rows[2].prev_hash == chain.GENESIS and rows[3].prev_hash == rows[2].hash
    report = report_of(platform)
    assert report.ok and report.count == 4
    assert report.witness == f"main:2:{rows[1].hash},s2:2:{rows[3].hash}"


def test_verify_names_a_changed_and_a_deleted_record_in_another_stream(platform):
    write(platform, "main.1", "main.2")
    write_in(platform, "s3", *[f"step.{n}" for n in range(1, 6)])
    rows = [row for row in records(platform) if row.stream == "s3"]
    changed, deleted = rows[1], rows[3]
    tamper(platform, "UPDATE audit_log SET summary = :summary WHERE id = :id", summary="无事发生", id=changed.id)
    tamper(platform, "DELETE FROM audit_log WHERE id = :id", id=deleted.id)
    report = report_of(platform)
    assert [(fault.kind, fault.stream, fault.seq, fault.id) for fault in report.faults] == [
        ("changed", "s3", 2, changed.id), ("deleted", "s3", 4, None)]
    assert "审计流 s3 第 2 条记录" in report.faults[0].message and "内容与其哈希不符" in report.faults[0].message
    assert "审计流 s3 第 4 条记录已被删除" in report.faults[1].message
    bad = run(platform, "audit", "verify")
    assert bad.exit_code == 1 and "发现 2 处问题" in bad.output


def test_a_record_moved_to_another_stream_leaves_a_gap_and_lands_off_the_chain(platform):
    write(platform, "main.1")
    write_in(platform, "s1", "one", "two", "three")
    moved = records(platform)[2]
    tamper(platform, "UPDATE audit_log SET stream = 'main' WHERE id = :id", id=moved.id)
    faults = [(fault.kind, fault.stream, fault.seq) for fault in report_of(platform).faults]
    assert faults == [("deleted", "s1", 2), ("outside", "main", 2)]


def test_the_witness_covers_every_stream(platform):
    write(platform, "one", "two")
    write_in(platform, "s1", "x.1", "x.2", "x.3")
    noted = json.loads(run(platform, "audit", "verify", "--json").output)
    assert noted["ok"] and noted["count"] == 5 and [s["name"] for s in noted["streams"]] == ["main", "s1"]
    # the newest records of s1 cut together with its head, so verify alone sees a consistent, shorter log
    tamper(platform, "DELETE FROM audit_log WHERE stream = 's1'")
    tamper(platform, "DELETE FROM audit_chain WHERE name = 's1'")
    assert report_of(platform).ok
    cut = run(platform, "audit", "verify", "--witness", noted["witness"])
    assert cut.exit_code == 1 and "此前记下的审计流 s1 第 3 条记录已不在审计日志中" in cut.output
    main_only = run(platform, "audit", "verify", "--witness", f"{noted['last_seq']}:{noted['last_hash']}")
    assert main_only.exit_code == 0 and "审计日志完整：共 2 条记录" in main_only.output
    refused = run(platform, "audit", "verify", "--witness", "main:2:abc")
    assert refused.exit_code == 2 and "流:序号:哈希" in refused.output


def test_records_left_behind_by_a_cut_head_are_reported(platform):
    write_in(platform, "s4", "x.1", "x.2")
    tamper(platform, "DELETE FROM audit_chain WHERE name = 's4'")
    assert [(f.kind, f.stream, f.message) for f in report_of(platform).faults] == [
        ("head", "s4", "审计流 s4 的链头丢失，但仍有 2 条记录")]


def test_prune_removes_the_old_prefix_of_every_stream(platform):
    now = utcnow()
    write(platform, "old.main", at=now - dt.timedelta(days=400))
    write_in(platform, "s1", "old.s1.1", "old.s1.2", at=now - dt.timedelta(days=400))
    write_in(platform, "s1", "new.s1")
    write(platform, "new.main")
    with platform.db.session() as session:
        result = retention.prune(session, chain_actor(), 365)
    assert (result.removed, result.anchors) == (3, {"main": 1, "s1": 2})
    assert [(row.stream, row.seq, row.action) for row in records(platform)] == [
        ("main", 2, "new.main"), ("main", 3, "audit.prune"), ("s1", 3, "new.s1")]
    assert records(platform)[1].details["anchors"] == {"main": 1, "s1": 2}
    report = report_of(platform)
    assert report.ok and [(s.name, s.anchor_seq, s.first_seq) for s in report.streams] == [("main", 1, 2), ("s1", 2, 3)]


def test_prune_refuses_when_any_stream_was_tampered_with(platform):
    old = utcnow() - dt.timedelta(days=500)
    write(platform, "old.main.1", "old.main.2", at=old)
    write_in(platform, "s2", "old.1", "old.2", "old.3", at=old)
    tamper(platform, "DELETE FROM audit_log WHERE stream = 's2' AND seq = 2")
    with pytest.raises(retention.RetentionError, match="审计流 s2 第 2 条记录已被删除"), platform.db.session() as session:
        retention.prune(session, chain_actor(), 365)
    assert len(records(platform)) == 4  # nothing removed, not even from the intact stream


def test_the_number_of_streams_is_a_setting():
    assert chain.stream_names({}) == ["main", "s1", "s2", "s3", "s4", "s5", "s6", "s7"]
    assert chain.stream_names({"MINQING_AUDIT_STREAMS": "1"}) == ["main"]
    assert chain.stream_names({"MINQING_AUDIT_STREAMS": "3"}) == ["main", "s1", "s2"]
    for bad in ("0", "多", "65"):
        with pytest.raises(ValueError, match="MINQING_AUDIT_STREAMS 应为 1 到 64 之间的整数"):
            chain.stream_names({"MINQING_AUDIT_STREAMS": bad})


OLD_RECORD = ("INSERT INTO audit_log (seq, prev_hash, hash, at, actor_account_id, actor_name, origin, action, "
              "object_type, object_id, summary, details) VALUES (:seq, :prev_hash, :hash, :at, NULL, '系统', '', "
              ":action, 'case', :object_id, '旧记录', :details)")


def _old_chain(connection, count: int) -> None:
    """Records as the code before streams wrote them: one chain, its head the row "main"."""
    previous = chain.GENESIS
    for seq in range(1, count + 1):
        record = SimpleNamespace(seq=seq, prev_hash=previous, at=dt.datetime(2026, 3, 1, 8, seq, tzinfo=dt.UTC),
                                 actor_account_id=None, actor_name="系统", origin="", action=f"old.{seq}",
                                 object_type="case", object_id=str(seq), summary="旧记录", details={"n": seq})
        digest = chain.record_hash(record)
        connection.execute(text(OLD_RECORD), {**vars(record), "hash": digest, "at": "2026-03-01 08:%02d:00" % seq,
                                              "details": json.dumps(record.details)})
        previous = digest
    connection.execute(text("UPDATE audit_chain SET last_seq = :seq, last_hash = :hash WHERE name = 'main'"),
                       {"seq": count, "hash": previous})


def _migrate(database: Database, action: str, revision: str) -> None:
    with database.engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def test_the_migration_keeps_the_old_chain_and_downgrades_only_while_other_streams_are_empty(tmp_path_factory):
    from minqing.core.audit.verify import verify

    database = Database(fresh_database(tmp_path_factory, "audit_streams"))
    _migrate(database, "upgrade", "0028_briefs")
    with database.engine.begin() as connection:
        _old_chain(connection, 3)
    database.upgrade()
    with database.session() as session:
        rows = session.scalars(select(AuditRecord).order_by(AuditRecord.seq)).all()
        assert [(row.stream, row.seq, row.action) for row in rows] == [("main", n, f"old.{n}") for n in (1, 2, 3)]
        report = verify(session)
        assert report.ok and report.count == 3 and report.last_hash == rows[-1].hash
    _migrate(database, "downgrade", "0028_briefs")  # only "main" in use: possible
    database.upgrade()
    platform = SimpleNamespace(db=database)
    write(platform, "new")
    write_in(platform, "s1", "new.s1")
    with database.session() as session:
        report = verify(session)
    assert report.ok and [(s.name, s.count) for s in report.streams] == [("main", 4), ("s1", 1)]
    with pytest.raises(RuntimeError, match="无法降级到 0029 之前"):
        _migrate(database, "downgrade", "0028_briefs")
    with database.session() as session:
        assert verify(session).ok
    database.dispose()


def test_a_wrong_stream_count_stops_the_platform_at_start(monkeypatch, tmp_path):
    from minqing.core.platform import Platform

    monkeypatch.setenv("MINQING_AUDIT_STREAMS", "eight")
    with pytest.raises(ValueError, match="MINQING_AUDIT_STREAMS 应为 1 到 64 之间的整数"):
        Platform(f"sqlite:///{tmp_path / 'never.db'}")
