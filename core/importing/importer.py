"""Batch import of base data from CSV or XLSX files.

The file is read as a stream and cut into batches of N data rows. Every row is validated (required columns,
ID numbers, codes, references, duplicates in the file and in the database, phones, dates, location); the good
rows of a batch are inserted together in one transaction with the batch's audit record, and the batch's problems
are written to the error report only once that transaction committed. So a batch is all or nothing: a crash
leaves the batches before it committed and none of its own rows, and the report's last line names the row to
resume from (``resume_from``).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import time
from pathlib import Path

import numpy as np
from sqlalchemy import insert, select
from tqdm import tqdm

from .. import city
from ..actors import Actor, system_actor
from ..changes import record_change
from minqing.core.privacy.masking import mask_id_number, mask_phone
from ..models import Grid, Region
from minqing.core.geo.regions import prefix
from ..settings import lookup_key
from . import columns as C
from . import values as V
from .kinds import KINDS, Kind
from .error_report import ErrorReporting
from .readers import ImportFileError, open_table

DEFAULT_BATCH = 5000
_VALUE_LIMIT = 60
_DATE_KEYS = frozenset({"birth_date", "last_visit_at"})


@dataclasses.dataclass(frozen=True)
class RowError:
    row: int
    column: str       # the column's header as the file has it (its Chinese label when the file lacks it)
    value: str        # ID and phone numbers masked
    message: str


@dataclasses.dataclass
class ImportSummary:
    kind: str
    file: str
    imported: int = 0
    updated: int = 0          # rows that changed a record they name (ledgers: an exported file imported again)
    rejected: int = 0
    skipped: int = 0          # data rows before --resume-from
    batches: int = 0          # committed batches
    seconds: float = 0.0
    report: str | None = None
    resume_from: int | None = None   # set when the import stopped: the first row not committed
    failure: str = ""
    unknown_columns: list[str] = dataclasses.field(default_factory=list)
    errors: list[RowError] = dataclasses.field(default_factory=list)

    @property
    def completed(self) -> bool:
        return self.resume_from is None

    def as_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data.pop("errors")
        return data


class ImportInterrupted(RuntimeError):
    """The import stopped in the middle of the file; `summary.resume_from` is where to go on."""

    def __init__(self, summary: ImportSummary):
        self.summary = summary
        super().__init__(f"导入在第{summary.resume_from}行所在批次中断：{summary.failure}；"
                         f"该批次未导入，之前的 {summary.batches} 个批次已提交。"
                         f"修复后用 --resume-from {summary.resume_from} 继续")


class Row:
    __slots__ = ("number", "cells", "values", "problems", "lon", "lat", "grid", "region_code", "reference")

    def __init__(self, number: int, cells: dict):
        self.number, self.cells = number, cells
        self.values: dict = {}
        self.problems: list[tuple[str, object, str]] = []
        self.lon = self.lat = None
        self.grid: tuple[int, str] | None = None     # (grid id, grid's region code)
        self.region_code: str | None = None
        self.reference: tuple[int | None, str] | None = None  # (grid id, region code) of the row referred to

    def fail(self, key: str, value, message: str) -> None:
        self.problems.append((key, value, message))


def insert_batch(session, model, records: list[dict]) -> None:
    """Insert one batch's rows in one executemany (tests replace this to inject a crash).

    Core, on the model's table: every record has the same keys. The ORM's bulk INSERT left a None out of the row,
    so rows with and without a phone, a grid or a household went in as thousands of small statements, and it
    worked over every record again (together half of a resident import's time). No column the importer may
    leave None has a default that NULL would bypass."""
    if records:
        session.connection().execute(insert(model.__table__), records)


def import_file(platform, kind: str, path: str | Path, *, actor: Actor | None = None,
                report_path: str | Path | None = None, batch_size: int = DEFAULT_BATCH,
                resume_from: int | None = None, show_progress: bool = False,
                today: dt.date | None = None) -> ImportSummary:
    """Import `path` as `kind` (addresses, houses, residents, units, key-persons). Returns the summary; raises
    `ImportFileError` when the file cannot be read at all and `ImportInterrupted` when it stopped midway."""
    if kind not in KINDS:
        raise ImportFileError(f"未知的导入类别“{kind}”：可选 {', '.join(KINDS)}")
    if batch_size < 1:
        raise ImportFileError("每批行数应至少为1")
    return _Import(platform, KINDS[kind], Path(path), actor or system_actor("import"), report_path, batch_size,
                   resume_from or 0, show_progress, today).run()


class _Import(ErrorReporting):
    def __init__(self, platform, kind_class: type[Kind], path: Path, actor: Actor, report_path, batch_size: int,
                 resume_from: int, show_progress: bool, today: dt.date | None):
        self.platform, self.path, self.actor = platform, path, actor
        self.batch_size, self.resume_from, self.show_progress = batch_size, resume_from, show_progress
        self.report_path = Path(report_path) if report_path else None
        self.today = today or city.today()  # in the city's zone, as the command read it
        with platform.db.session() as session:
            key = lookup_key(session)
            self.regions = {code: level for code, level in session.execute(select(Region.code, Region.level))}
            self.grids = {code: (grid_id, region_code) for code, grid_id, region_code
                          in session.execute(select(Grid.code, Grid.id, Grid.region_code))}
        self.grid_regions = {grid_id: region_code for grid_id, region_code in self.grids.values()}
        self.kind = kind_class(key, self.today)
        self.summary = ImportSummary(kind=self.kind.name, file=str(path),
                                     report=str(self.report_path) if self.report_path else None)
        self.seen: dict[str, dict] = {}   # column key → unique value → first row number with it
        self._locator = None
        self._report = None
        self._report_file = None

    # -- the loop ---------------------------------------------------------------------------------------------

    def run(self) -> ImportSummary:
        started = time.perf_counter()
        batch: list[Row] = []
        batch_first = None
        try:
            with open_table(self.path) as table:
                self._columns(table.header)
                with tqdm(total=table.estimated_rows, desc=f"导入{self.kind.label}", unit="行",
                          disable=not self.show_progress, dynamic_ncols=True) as bar:
                    pending_ticks = 0
                    for number, cells in table.rows:
                        pending_ticks += 1
                        if pending_ticks >= 1000:
                            bar.update(pending_ticks)
                            pending_ticks = 0
                        if number < self.resume_from:
                            self.summary.skipped += 1
                            continue
                        if batch_first is None:
                            batch_first = number
                        batch.append(self._row(number, cells))
                        if len(batch) >= self.batch_size:
                            self._commit(batch)
                            batch, batch_first = [], None
                    if batch:
                        self._commit(batch)
                        batch, batch_first = [], None
                    bar.update(pending_ticks)
        except ImportFileError as error:
            if batch_first is None and not self.summary.batches and not self.summary.imported:
                self._close_report()
                raise  # nothing happened yet: the file as a whole is wrong
            self._interrupted(batch_first, error, started)
        except Exception as error:
            self._interrupted(batch_first, error, started)
        except BaseException as error:  # Ctrl-C: still leave the report with the row to resume from
            self._interrupted(batch_first, error, started, reraise=False)
            raise
        finally:
            self._close_report()
        self.summary.seconds = round(time.perf_counter() - started, 2)
        return self.summary

    # -- header and rows --------------------------------------------------------------------------------------

    def _columns(self, header: list[str]) -> None:
        self.positions, self.summary.unknown_columns = C.match_header(header, self.kind.columns)
        missing = [column.label for column in self.kind.columns
                   if column.required and column.key not in self.positions]
        if missing:
            raise ImportFileError(f"缺少必填列：{'、'.join(missing)}（表头应在第1行）")
        if ("lon" in self.positions) != ("lat" in self.positions):
            raise ImportFileError("经度列和纬度列应同时提供")
        self.header_names = {column.key: header[self.positions[column.key]].strip() if column.key in self.positions
                             else column.label for column in self.kind.columns}
        self.column_kinds = {column.key: column.kind for column in self.kind.columns}
        self.required = [column for column in self.kind.columns if column.required]
        self.limited = [column for column in self.kind.columns if column.max_length and column.key in self.positions]

    def _row(self, number: int, raw: list) -> Row:
        cells = {}
        for key, index in self.positions.items():
            value = raw[index] if index < len(raw) else ""
            if isinstance(value, str):
                cells[key] = value.strip()
            else:  # an XLSX date cell stays a date only where a date belongs
                cells[key] = "" if value is None else value if key in _DATE_KEYS else V.text(value)
        row = Row(number, cells)
        for column in self.required:
            if cells.get(column.key, "") == "":
                row.fail(column.key, "", f"{column.label}不能为空")
        for column in self.limited:
            value = cells.get(column.key)
            if isinstance(value, str) and len(value) > column.max_length:
                row.fail(column.key, value, f"{column.label}超过{column.max_length}个字符")
        self.kind.parse(row)
        self._location(row)
        return row

    def _location(self, row: Row) -> None:
        cells = row.cells
        code = cells.get("region_code", "")
        if code:
            if not isinstance(code, str):   # an XLSX number cell
                code = V.text(code)
            if not code.isdigit() or len(code) not in (12, 15):
                row.fail("region_code", code, "区划代码应为12位（村、社区）或15位（组）数字")
            elif code not in self.regions:
                row.fail("region_code", code, f"区划代码 {code} 不存在")
            elif self.regions[code] not in ("village", "group"):
                row.fail("region_code", code, f"区划代码 {code} 不是村(社区)或组一级的代码")
            else:
                row.region_code = code
        grid_code = cells.get("grid_code", "")
        if grid_code:
            if not isinstance(grid_code, str):
                grid_code = V.text(grid_code)
            row.grid = self.grids.get(grid_code)
            if row.grid is None:
                row.fail("grid_code", grid_code, f"网格编码 {grid_code} 不存在")
            elif row.region_code and not _related(row.grid[1], row.region_code):
                row.fail("grid_code", grid_code, f"网格 {grid_code} 不在区划 {row.region_code} 内")
        lon, lat = cells.get("lon", ""), cells.get("lat", "")
        if lon != "" or lat != "":
            if lon == "" or lat == "":
                row.fail("lon" if lon == "" else "lat", "", "经度和纬度应同时填写")
            else:
                try:
                    row.lon = V.decimal(lon, "经度", *V.CHINA_LON)
                except V.Bad as error:
                    row.fail("lon", lon, str(error))
                try:
                    row.lat = V.decimal(lat, "纬度", *V.CHINA_LAT)
                except V.Bad as error:
                    row.fail("lat", lat, str(error))

    # -- a batch ----------------------------------------------------------------------------------------------

    def _commit(self, batch: list[Row]) -> None:
        """Check the batch against the database, insert its good rows and its audit record in one transaction."""
        with self.platform.db.session() as session:
            candidates = [row for row in batch if not row.problems]
            self.kind.look_up(session, candidates)
            candidates = [row for row in candidates if not row.problems]
            self._place(candidates)
            records = []
            for row in candidates:
                if row.problems or not self._unique(row):
                    continue
                record = self.kind.record(row)
                record["grid_id"] = row.grid[0] if row.grid else None
                record["region_code"] = row.region_code
                records.append(record)
            rejected = [row for row in batch if row.problems]
            insert_batch(session, self.kind.model, records)
            first, last = batch[0].number, batch[-1].number
            record_change(session, self.actor, "import", object_type=self.kind.name, object_id=self.path.name,
                          summary=f"导入{self.kind.label}：第{first}～{last}行，导入{len(records)}条，拒绝{len(rejected)}条",
                          details={"file": self.path.name, "batch": self.summary.batches + 1, "first_row": first,
                                   "last_row": last, "imported": len(records), "rejected": len(rejected)})
        # committed: only now count the batch and report its problems
        self.summary.batches += 1
        self.summary.imported += len(records)
        self.summary.rejected += len(rejected)
        self._write([error for row in rejected for error in self._errors(row)])

    def _unique(self, row: Row) -> bool:
        """Whether the row's unique values are new in the file; the first row with a value keeps it."""
        keys = self.kind.unique_keys(row)
        seen = self.seen
        for key, value, what in keys:
            first = seen[key].get(value) if key in seen else None
            if first is not None:
                row.fail(key, row.cells.get(key, ""), f"{what}与第{first}行重复")
        if row.problems:
            return False
        for key, value, _ in keys:
            values = seen.get(key)
            if values is None:
                values = seen[key] = {}
            values[value] = row.number
        return True

    def _place(self, rows: list[Row]) -> None:
        """Grid and region of every row: given, located from coordinates, or taken from the row referred to."""
        to_locate = [row for row in rows if row.grid is None and row.lon is not None]
        if to_locate:
            if self._locator is None:
                self._locator = self.platform.locator()
            found = self._locator.locate_many(np.array([row.lon for row in to_locate]),
                                              np.array([row.lat for row in to_locate]))
            for row, grid_id in zip(to_locate, found.tolist()):
                if grid_id < 0:
                    row.fail("lon", f"{row.lon}, {row.lat}", f"经纬度（{row.lon}, {row.lat}）不在任何网格内")
                    continue
                row.grid = (grid_id, self.grid_regions[grid_id])
                if row.region_code and not _related(row.grid[1], row.region_code):
                    row.fail("lon", f"{row.lon}, {row.lat}", f"经纬度所在网格不在区划 {row.region_code} 内")
        for row in rows:
            if row.problems:
                continue
            if row.grid is None and row.reference is not None:  # where the address/household/resident is
                grid_id, region_code = row.reference
                if row.region_code is None:
                    row.region_code = region_code
                if grid_id is not None and _related(self.grid_regions[grid_id], row.region_code):
                    row.grid = (grid_id, self.grid_regions[grid_id])
            if row.region_code is None and row.grid is not None:
                row.region_code = row.grid[1]
            if row.region_code is None:
                row.fail("region_code", "", "缺少所在位置：请填写区划代码、网格编码或经纬度")

    # -- the report -------------------------------------------------------------------------------------------

    def _errors(self, row: Row) -> list[RowError]:
        errors = []
        for key, value, message in row.problems:
            shown = V.text(value) if value is not None else ""
            kind = self.column_kinds.get(key)
            if kind == C.ID_NUMBER:
                shown = mask_id_number(shown)
            elif kind == C.PHONE:
                shown = mask_phone(shown)
            if len(shown) > _VALUE_LIMIT:
                shown = shown[:_VALUE_LIMIT] + "…"
            errors.append(RowError(row.number, self.header_names.get(key, key), shown, message))
        return errors

@functools.lru_cache(maxsize=4096)   # a file names a few hundred (grid region, region) pairs, row after row
def _related(grid_region: str, region_code: str) -> bool:
    """Whether a grid's region and a row's region lie on one branch (one contains the other)."""
    a, b = prefix(grid_region), prefix(region_code)
    return a.startswith(b) or b.startswith(a)
