"""Department ledgers (台账): the records service (edit with optimistic locking, history with old values, retire
without erasing, scope) and the ledger files (`minqing import records`, `minqing export records --theme`)."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import func, select

from minqing import themes
from minqing.core.actors import Actor, Grant
from minqing.core.cli import cli
from minqing.core.importing import ImportInterrupted
from minqing.core.models import AuditRecord, ThemeRecord
from minqing.core.models.themes import ThemeRecordChange
from minqing.core.platform import Platform
from minqing.themes import ledger_files, records

from tests.fixtures.city import build_places
from tests.fixtures.themes import CITY_GRIDS, CITY_REGIONS

KEY = "water_affairs.zz_ledger"
RECORD_FORM = {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string", "title": "名称", "maxLength": 50},
    "stalls": {"type": "integer", "title": "数量", "minimum": 0},
    "open": {"type": "boolean", "title": "开放"},
    "tags": {"type": "array", "title": "标签", "items": {"type": "string", "enum": ["防汛", "重点", "其他"]},
             "uniqueItems": True},
    "manager_phone": {"type": "string", "title": "管理员电话", "format": "cn-mobile"}}}
LINE = {"type": "LineString", "coordinates": [[103.01, 36.01], [103.04, 36.04]]}
POLYGON = {"type": "Polygon", "coordinates": [[[103.01, 36.01], [103.03, 36.01], [103.03, 36.03], [103.01, 36.03],
                                               [103.01, 36.01]]]}


@pytest.fixture
def ledger(platform, system, city, departments, theme, theme_dir):
    """The theme as a file of the declarative loader, so the command line's own platform has it too."""
    theme_dir("ledger.json", theme(KEY, title="测试台账", forms={"record": RECORD_FORM, "report": {
        "type": "object", "properties": {"note": {"type": "string"}}}}))
    with platform.db.session() as session:
        themes.sync_themes(platform, session, system)
        session.commit()


def _changes(session, record) -> list[tuple[str, int, dict]]:
    return [(row.action, row.version, row.changes) for row in records.history(session, record)]


def test_update_checks_the_newest_form_refuses_a_stale_version_and_keeps_old_values(platform, system, ledger,
                                                                                      city):
    with platform.db.session() as session:
        record = records.create(platform, session, system, KEY, {"name": "一号泵站", "stalls": 2},
                                lon=103.01, lat=36.01)
        session.commit()
        assert record.version == 1 and record.grid_id == city["small"]
        with pytest.raises(records.StaleRecord, match="已被他人改动"):
            records.update(platform, session, system, record, version=0, data={"name": "改名"})
        with pytest.raises(themes.RecordInvalid) as invalid:
            records.update(platform, session, system, record, version=1, data={"name": "x", "stalls": -1})
        assert [path for path, _ in invalid.value.errors] == ["stalls"]
        session.rollback()
        records.update(platform, session, system, record, version=1, data={"name": "一号泵站（新）", "stalls": 2},
                       geometry=LINE)
        session.commit()
        assert record.version == 2 and record.geometry["type"] == "LineString"
        assert (record.min_lon, record.max_lat) == (103.01, 36.04)
        history = _changes(session, record)
        assert [(action, version) for action, version, _ in history] == [("create", 1), ("update", 2)]
        changed = history[1][2]
        assert changed["form_data.name"] == {"old": "一号泵站", "new": "一号泵站（新）"}
        assert "form_data.stalls" not in changed   # only what changed
        assert changed["geometry"]["old"] == {"type": "Point", "coordinates": [103.01, 36.01]}
        with pytest.raises(records.StaleRecord):   # the version read before the edit is stale now
            records.update(platform, session, system, record, version=1, data={"name": "again"})
        actions = session.scalars(select(AuditRecord.action).where(AuditRecord.object_type == "theme_record")
                                  .order_by(AuditRecord.id)).all()
    assert actions == ["theme_record.create", "theme_record.update"]


def test_retire_keeps_the_record_and_hides_it(platform, system, ledger):
    with platform.db.session() as session:
        kept = records.create(platform, session, system, KEY, {"name": "保留"}, lon=103.02, lat=36.02)
        gone = records.create(platform, session, system, KEY, {"name": "退出"}, geometry=POLYGON)
        session.commit()
        records.retire(session, system, gone, version=1, reason="已拆除")
        session.commit()
        assert gone.retired_at is not None and gone.retired_by == "系统" and gone.version == 2
        listed = session.scalars(records.records_query(system, KEY)).all()
        assert [row.id for row in listed] == [kept.id]
        everything = session.scalars(records.records_query(system, KEY, include_retired=True)).all()
        assert {row.id for row in everything} == {kept.id, gone.id}
        assert session.get(ThemeRecord, gone.id) is not None   # never erased
        assert _changes(session, gone)[-1][0] == "retire"
        with pytest.raises(records.RecordRetired):
            records.update(platform, session, system, gone, version=2, data={"name": "复活"})


def test_writes_are_scoped_like_cases(platform, system, ledger, staff):
    water, gas = staff("water_affairs"), staff("gas")
    leader = Actor(account_id=None, name="领导", grants=(Grant(role="leader", region_code="620100000000"),))
    with platform.db.session() as session:
        record = records.create(platform, session, water, KEY, {"name": "水务的"}, lon=103.02, lat=36.02)
        session.commit()
        with pytest.raises(records.RecordRefused):
            records.create(platform, session, gas, KEY, {"name": "燃气的"}, lon=103.02, lat=36.02)
        with pytest.raises(records.RecordRefused):
            records.update(platform, session, gas, record, version=1, data={"name": "改"})
        with pytest.raises(records.RecordRefused, match="角色无权"):
            records.retire(session, leader, record)
        with pytest.raises(records.RecordNotFound):
            records.get_record(session, gas, record.id, KEY)
        assert session.scalar(select(func.count()).select_from(ThemeRecordChange)) == 1


# -- import and export ------------------------------------------------------------------------------------------

def _csv(path, rows: list[list]) -> str:
    import csv

    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return str(path)


def test_import_reports_each_bad_row_resumes_and_is_idempotent(platform, system, ledger, tmp_path):
    file = _csv(tmp_path / "ledger.csv", [
        ["client_id", "名称", "stalls", "open", "lon", "lat"],       # a title is accepted for a key
        ["c1", "一号", "3", "是", "103.01", "36.01"],
        ["c2", "", "3", "否", "103.02", "36.02"],                   # name is required
        ["c3", "三号", "很多", "是", "103.02", "36.02"],             # not a number
        ["c4", "四号", "1", "是", "东经", "36.02"],                 # not a longitude
        ["c5", "五号", "", "", "103.03", "36.03"]])
    runner = CliRunner()
    url = str(platform.db.engine.url.render_as_string(hide_password=False))
    result = runner.invoke(cli, ["--db", url, "import", "records", "--theme", KEY, file, "--no-progress",
                                 "--batch", "2"])
    assert result.exit_code == 1, result.output
    assert "成功 2 行，拒绝 3 行" in result.output
    assert "第3行" in result.output and "第4行 数量（stalls）：应为数字" in result.output
    assert "第5行 lon：经度应为数字" in result.output
    report = (tmp_path / "ledger.errors.csv").read_text(encoding="utf-8-sig")
    assert "name" in report.splitlines()[1] or "名称" in report.splitlines()[1]
    with platform.db.session() as session:
        stored = {row.client_id: row for row in session.scalars(select(ThemeRecord))}
        assert sorted(stored) == ["c1", "c5"]
        assert stored["c1"].form_data == {"name": "一号", "stalls": 3, "open": True}
    again = runner.invoke(cli, ["--db", url, "import", "records", "--theme", KEY, file, "--no-progress",
                                "--resume-from", "5"])
    assert "跳过续传起点之前的 3 行" in again.output and "已存在（client_id 相同或内容未变，跳过）1 行" in again.output
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ThemeRecord)) == 2


def test_an_interrupted_import_says_where_to_resume(platform, system, ledger, tmp_path, monkeypatch):
    file = _csv(tmp_path / "crash.csv", [["client_id", "name", "lon", "lat"],
                                         *[[f"k{n}", f"第{n}号", "103.01", "36.01"] for n in range(5)]])
    calls = {"n": 0}
    real = records.create

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("磁盘已满")
        return real(*args, **kwargs)

    monkeypatch.setattr(records, "create", failing)
    with pytest.raises(Exception) as stopped:
        ledger_files.import_ledger(platform, KEY, file, actor=system, batch_size=2)
    assert stopped.value.summary.resume_from == 4 and "--resume-from 4" in str(stopped.value)
    monkeypatch.setattr(records, "create", real)
    summary, existing = ledger_files.import_ledger(platform, KEY, file, actor=system, resume_from=4)
    assert (summary.imported, existing) == (3, 0)
    with platform.db.session() as session:
        assert sorted(session.scalars(select(ThemeRecord.client_id))) == [f"k{n}" for n in range(5)]


def _report_rows(path) -> list[list[str]]:
    import csv

    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))[1:]


def test_a_batch_that_rolls_back_reports_its_rows_errors_once(platform, system, ledger, tmp_path, monkeypatch):
    """A row refused in a batch that then fails is not reported by the failed run: the resumed run reports it."""
    file = _csv(tmp_path / "crash.csv", [["client_id", "name", "stalls", "lon", "lat"],
                                         ["k2", "二号", "1", "103.01", "36.01"],
                                         ["k3", "", "1", "103.01", "36.01"],        # refused, batch 1 commits
                                         ["k4", "四号", "很多", "103.01", "36.01"],  # refused, batch 2 rolls back
                                         ["k5", "五号", "1", "103.01", "36.01"]])   # its create fails
    report = tmp_path / "crash.errors.csv"
    real = records.create
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:        # rows 2 and 3 reach create; row 4 fails before it; row 5 stops the import
            raise OSError("磁盘已满")
        return real(*args, **kwargs)

    monkeypatch.setattr(records, "create", failing)
    with pytest.raises(ImportInterrupted) as stopped:
        ledger_files.import_ledger(platform, KEY, file, actor=system, batch_size=2, report_path=report)
    summary = stopped.value.summary
    assert (summary.imported, summary.rejected, summary.batches, summary.resume_from) == (1, 1, 1, 4)
    assert [error.row for error in summary.errors] == [3, 4]          # row 3's error, then where to resume
    assert "--resume-from 4" in summary.errors[-1].message
    assert [row[0] for row in _report_rows(report)] == ["3", "4"]
    monkeypatch.setattr(records, "create", real)
    resumed, _ = ledger_files.import_ledger(platform, KEY, file, actor=system, batch_size=2, resume_from=4,
                                            report_path=report)
    assert (resumed.imported, resumed.rejected, resumed.skipped) == (1, 1, 2)
    rows = _report_rows(report)                                       # appended to: the first run's lines stay
    assert [row[0] for row in rows] == ["3", "4", "4"]
    assert sum("应为数字" in row[3] for row in rows) == 1               # row 4's fault reported once
    with platform.db.session() as session:
        assert sorted(session.scalars(select(ThemeRecord.client_id))) == ["k2", "k5"]


def test_ctrl_c_mid_import_leaves_the_row_to_resume_from(platform, system, ledger, tmp_path, monkeypatch):
    file = _csv(tmp_path / "stop.csv", [["client_id", "name", "lon", "lat"],
                                        *[[f"k{n}", f"第{n}号", "103.01", "36.01"] for n in range(5)]])
    report = tmp_path / "stop.errors.csv"
    real = records.create
    calls = {"n": 0}

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(records, "create", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ledger_files.import_ledger(platform, KEY, file, actor=system, batch_size=2, report_path=report)
    last = _report_rows(report)[-1]
    assert last[0] == "4" and "--resume-from 4" in last[3] and "KeyboardInterrupt" in last[3]
    with platform.db.session() as session:                            # batch 1 committed, batch 2 did not
        assert sorted(session.scalars(select(ThemeRecord.client_id))) == ["k0", "k1"]
    monkeypatch.setattr(records, "create", real)
    summary, _ = ledger_files.import_ledger(platform, KEY, file, actor=system, resume_from=4, report_path=report)
    assert summary.imported == 3
    with platform.db.session() as session:
        assert sorted(session.scalars(select(ThemeRecord.client_id))) == [f"k{n}" for n in range(5)]


def test_an_import_reads_the_theme_version_and_each_grid_once(platform, system, ledger, tmp_path):
    """Per row only what differs is read: the newest version, and the region of a grid, once per import; the
    client id once (not again by records.create)."""
    from sqlalchemy import event

    file = _csv(tmp_path / "many.csv", [["client_id", "name", "lon", "lat"],
                                        *[[f"m{n}", f"第{n}号", "103.01", "36.01"] for n in range(6)]])
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    event.listen(platform.db.engine, "before_cursor_execute", seen)
    try:
        summary, _ = ledger_files.import_ledger(platform, KEY, file, actor=system, batch_size=4)
    finally:
        event.remove(platform.db.engine, "before_cursor_execute", seen)
    assert summary.imported == 6
    reads = [text for text in statements if text.startswith("SELECT")]
    assert sum("FROM theme_versions WHERE theme_versions.theme_key =" in text for text in reads) == 1
    # (the grid locator's own build, which holds each grid's region too, is not a per-row read)
    assert sum("FROM grids" in text and "region_code" in text.split("FROM")[0]
               and "geometry" not in text.split("FROM")[0] for text in reads) == 1
    assert sum("theme_records.client_id =" in text for text in reads) == 6


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "geojson"])
def test_export_round_trips_into_a_fresh_database(platform, system, ledger, tmp_path, fmt):
    with platform.db.session() as session:
        records.create(platform, session, system, KEY, {"name": "点", "stalls": 4, "open": False,
                                                        "tags": ["防汛", "重点"]}, lon=103.012, lat=36.013,
                       client_id="p-1")
        records.create(platform, session, system, KEY, {"name": "线"}, geometry=LINE, client_id="l-1")
        records.create(platform, session, system, KEY, {"name": "=面"}, geometry=POLYGON)
        records.retire(session, system, records.create(platform, session, system, KEY, {"name": "退"},
                                                       lon=103.0, lat=36.0))
        session.commit()
    output = tmp_path / f"ledger.{fmt}"
    url = platform.db.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli, ["--db", url, "export", "records", "--theme", KEY, "-o", str(output)])
    assert result.exit_code == 0 and "已导出 3 条业务主题记录" in result.output, result.output
    if fmt == "csv":
        header = output.read_text(encoding="utf-8-sig").splitlines()[0]
        columns = header.split(",")   # the form's fields after the record's own (JSONB keeps no key order)
        assert columns[:5] == ["id", "client_id", "lon", "lat", "geometry"]
        assert sorted(columns[5:]) == ["manager_phone", "name", "open", "stalls", "tags"]
    if fmt == "xlsx":
        assert next(load_workbook(output).worksheets[0].iter_rows(values_only=True))[:3] == ("id", "client_id",
                                                                                              "lon")
    fresh = Platform(f"sqlite:///{tmp_path / 'fresh.db'}")
    fresh.db.upgrade()
    with fresh.db.session() as session:
        build_places(session, CITY_REGIONS, CITY_GRIDS)
        themes.sync_themes(fresh, session, system)
        session.commit()
    fresh.locator()
    summary, _ = ledger_files.import_ledger(fresh, KEY, output, actor=system)
    assert (summary.imported, summary.rejected) == (3, 0), summary.errors

    def shape(target):
        with target.db.session() as session:
            return sorted((row.client_id or ledger_files.export_identity(row), row.form_data, row.lon, row.lat,
                           row.geometry, row.grid_id is not None)
                          for row in session.scalars(records.records_query(system, KEY)))
    assert shape(fresh) == shape(platform)
    fresh.db.dispose()
    if fmt == "geojson":
        features = json.loads(output.read_text())["features"]
        assert [feature["geometry"]["type"] for feature in features] == ["Point", "LineString", "Polygon"]


def test_an_exported_file_edited_and_imported_again_updates_its_records(platform, system, ledger, tmp_path):
    """The department's round trip: export, change a value in a spreadsheet, import: the records change, none is
    copied, and a phone the export masked stays as stored."""
    import io

    with platform.db.session() as session:
        kept = records.create(platform, session, system, KEY, {"name": "一号", "manager_phone": "13912345678"},
                              lon=103.012, lat=36.013)
        edited = records.create(platform, session, system, KEY, {"name": "二号", "stalls": 2}, lon=103.02,
                                lat=36.02, client_id="from-app")
        session.commit()
        kept_id, edited_id = kept.id, edited.id
    leader = Actor(account_id=None, name="领导", grants=(Grant(role="leader", region_code="620100000000"),))
    # a leader may not see phones: the export masks them
    with platform.db.session() as session:
        stream = io.BytesIO()
        ledger_files.export_ledger(session, leader, stream, KEY, fmt="csv")
    lines = stream.getvalue().decode("utf-8-sig").splitlines()
    assert "139****5678" in stream.getvalue().decode("utf-8-sig") and "13912345678" not in lines[1] + lines[2]
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","))) for line in lines[1:]]
    for row in rows:
        if row["name"] == "二号":
            row["stalls"] = "5"
    file = _csv(tmp_path / "edited.csv", [header, *[[row[column] for column in header] for row in rows]])
    summary, existing = ledger_files.import_ledger(platform, KEY, file, actor=system)
    assert (summary.imported, summary.updated, summary.rejected, existing) == (0, 1, 0, 1), summary.errors
    again, existing = ledger_files.import_ledger(platform, KEY, file, actor=system)
    assert (again.imported, again.updated, existing) == (0, 0, 2)
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(ThemeRecord)) == 2
        assert session.get(ThemeRecord, kept_id).form_data == {"name": "一号", "manager_phone": "13912345678"}
        changed = session.get(ThemeRecord, edited_id)
        assert changed.form_data == {"name": "二号", "stalls": 5} and changed.version == 2
