"""Ledger files: `minqing import records --theme KEY FILE` and `minqing export records --theme KEY -o FILE`.

Both sides use the same columns, so an exported file imports again (into another database, or the same one):

- `id` (the record's number: written, ignored on import), `client_id` (the record's identity in files: a row whose
  client id names a live record of the theme updates it when a value differs and is skipped when none does, so a
  file imported twice makes its records once and an exported file edited and imported again changes them; an
  export writes `mq:<id>:<created>` for a record that has none; values still masked as the export wrote them keep
  the stored value), `lon`, `lat`, `geometry` (GeoJSON text of a line or polygon; empty for a point),
  then one column per field of the theme's record form, headed by the field's key (its title is also accepted on
  import). CSV (UTF-8 with BOM) or XLSX; or GeoJSON, one Feature per record with `geometry` and the same names in
  `properties`.
- Values: numbers and booleans (是/否, true/false, 1/0) by the form's types, arrays and objects as JSON text.
- Import: every row is checked by the records service (`themes.records.create`: the form, the plugins'
  `validate_submission`, the importer's scope); a refused row is listed with its row number and field in Chinese
  (on screen and in FILE.errors.csv), the others are stored in batches (one transaction each); an interrupted
  import says the row to go on from (`--resume-from`).
- Export (masking rule): the rows are the viewer's scope (the CLI's default viewer is the system: everything);
  coordinates and geometry are exact; every other value is masked as the map shows it to the viewer
  (`themes.records.visible_value`): ID numbers (`format: cn-id`, and any in free text) never leave whole;
  mobile numbers (`format: cn-mobile`, and in free text), house numbers in free text and every number of an
  address field (`records.ADDRESS_FIELDS`: `address`, `actual_address`, …) are masked unless the viewer's role
  needs them (`core.privacy.masking.NEEDED_BY`). Export with `--as` a grid worker's or operator's account to keep
  phone numbers and addresses; a masked value imported back into the record it came from keeps the stored value.
"""
from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core import city
from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.geo import geojson
from minqing.core.importing import ImportSummary, RowError
from minqing.core.importing.error_report import ErrorReporting
from minqing.core.importing.readers import ImportFileError, open_table
from minqing.core.models import ThemeRecord
from minqing.core.ops.exporting import sink_for
from minqing.core.ops.private_files import make_private
from minqing.core.privacy import masking

from . import records
from .versions import NotPublished, RecordInvalid, theme_version

RESERVED = ("id", "client_id", "lon", "lat", "geometry")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TRUE, FALSE = ("是", "true", "1", "yes", "y"), ("否", "false", "0", "no", "n")
KIND_LABEL = "业务主题记录（台账）"


def form_fields(session: Session, theme_key: str) -> dict[str, dict]:
    """key → property schema of the theme's newest record form."""
    try:
        document = theme_version(session, theme_key).document
    except NotPublished as error:
        raise ImportFileError(str(error)) from None
    return _record_fields(document)


def _record_fields(document: dict) -> dict[str, dict]:
    return dict((((document.get("forms") or {}).get("record") or {}).get("properties")) or {})


# -- import -------------------------------------------------------------------------------------------------------

class BadCell(ValueError):
    pass


def parse_cell(text, spec: dict):
    """A cell's text as the value the form expects (None for an empty cell)."""
    if text is None:
        return None
    if not isinstance(text, str):
        text = text.isoformat() if hasattr(text, "isoformat") else str(text)
    text = text.strip()
    if text == "":
        return None
    if text.startswith("'") and text[1:2] in FORMULA_START:
        text = text[1:]   # the export's guard against spreadsheet formulas
    kind = spec.get("type")
    kind = next((item for item in kind if item != "null"), "string") if isinstance(kind, list) else kind
    if kind in ("integer", "number"):
        try:
            number = float(text)
        except ValueError:
            raise BadCell("应为数字") from None
        if kind == "integer":
            if not number.is_integer():
                raise BadCell("应为整数")
            return int(number)
        return int(number) if number.is_integer() and "." not in text else number
    if kind == "boolean":
        if text.lower() in TRUE:
            return True
        if text.lower() in FALSE:
            return False
        raise BadCell("应为“是”或“否”")
    if kind in ("array", "object"):
        try:
            value = json.loads(text)
        except ValueError:
            if kind == "array":
                return [item.strip() for item in text.replace("，", ",").replace("、", ",").split(",") if item.strip()]
            raise BadCell("应为 JSON 对象") from None
        return value
    return text


def _features(path: Path):
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as error:
        raise ImportFileError(f"GeoJSON 文件无法读取：{error}") from None
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list):
        raise ImportFileError("GeoJSON 文件应为 FeatureCollection（含 features 数组）")
    for number, item in enumerate(features, start=1):
        properties = item.get("properties") if isinstance(item, dict) else None
        cells = dict(properties or {})
        cells["geometry"] = item.get("geometry") if isinstance(item, dict) else None
        yield number, cells


def _table_rows(table, names: dict[str, str]):
    columns = [names.get(header.strip()) for header in table.header]
    for number, raw in table.rows:
        yield number, {key: value for key, value in zip(columns, raw) if key}


class LedgerImport(ErrorReporting):
    """The batch and resume loop of `core.importing.importer` (whose `_Import` is bound to its base-data kinds:
    columns, regions and grids read up front), over ledger rows checked by the records service. As there: a batch
    is one transaction, and its rows' errors and counts are kept only once it committed, so a batch that rolls back
    reports nothing that a resumed import reports again; an interruption (Ctrl-C included) leaves the report's
    last line naming the row to resume from."""

    def __init__(self, platform, theme_key: str, path: Path, actor: Actor, report_path: Path | None,
                 batch_size: int, resume_from: int | None):
        self.platform, self.theme_key, self.path, self.actor = platform, theme_key, Path(path), actor
        self.report_path, self.batch_size, self.resume_from = report_path, batch_size, resume_from or 0
        self.summary = ImportSummary(kind="records", file=str(path), report=str(report_path) if report_path else None)
        self.existing = 0
        self.grid_regions: dict[int, str] = {}   # grid id → region code, read once per grid for the import
        self._pending = _BatchTally()            # the current batch's errors and counts, kept when it commits
        self._report = self._report_file = None

    def run(self, show_progress: bool = False) -> ImportSummary:
        from tqdm import tqdm

        started = time.perf_counter()
        with self.platform.db.session() as session:
            records.get_theme(self.platform, self.theme_key, session)
            try:
                self.version = theme_version(session, self.theme_key)   # once: every row is checked against it
            except NotPublished as error:
                raise ImportFileError(str(error)) from None
        self.fields = _record_fields(self.version.document)
        self.titles = {spec.get("title") or key: key for key, spec in self.fields.items() if isinstance(spec, dict)}
        batch_first = None
        try:
            rows, total, close = self._open()
            try:
                batch = []
                with tqdm(total=total, desc=f"导入{KIND_LABEL}", unit="行", disable=not show_progress) as bar:
                    for number, cells in rows:
                        bar.update(1)
                        if number < self.resume_from:
                            self.summary.skipped += 1
                            continue
                        if batch_first is None:
                            batch_first = number
                        batch.append((number, cells))
                        if len(batch) >= self.batch_size:
                            self._commit(batch)
                            batch, batch_first = [], None
                    if batch:
                        self._commit(batch)
                        batch, batch_first = [], None
            finally:
                close()
        except ImportFileError as error:
            if batch_first is None and not self.summary.batches:
                self._close_report()
                raise   # nothing happened yet: the file as a whole is wrong
            self._interrupted(batch_first, error, started)
        except Exception as error:
            self._interrupted(batch_first, error, started)
        except BaseException as error:   # Ctrl-C: still leave the report with the row to resume from
            self._interrupted(batch_first, error, started, reraise=False)
            raise
        finally:
            self._close_report()
        self.summary.seconds = round(time.perf_counter() - started, 2)
        return self.summary

    def _open(self):
        if self.path.suffix.lower() in (".geojson", ".json"):
            rows = list(_features(self.path))
            return iter(rows), len(rows), lambda: None
        table = open_table(self.path)
        names = {name: name for name in (*RESERVED, *self.fields)}
        names.update({title: key for title, key in self.titles.items() if title not in names})
        names.update({"经度": "lon", "纬度": "lat", "记录编号": "id"})
        self.summary.unknown_columns = [header for header in table.header if header.strip() not in names]
        return _table_rows(table, names), table.estimated_rows, table.close

    def _commit(self, batch) -> None:
        self._pending = _BatchTally()
        with self.platform.db.session() as session:
            for number, cells in batch:
                self._row(session, number, cells)
            session.commit()
        # committed: only now count the batch and report its rows' errors
        tally, self._pending = self._pending, _BatchTally()
        self.summary.batches += 1
        self.summary.imported += tally.imported
        self.summary.updated += tally.updated
        self.summary.rejected += tally.rejected
        self.existing += tally.existing
        self._write(tally.errors)

    def _fail(self, number: int, field: str, value, message: str) -> None:
        title = (self.fields.get(field) or {}).get("title") if isinstance(self.fields.get(field), dict) else None
        shown = "" if value is None else str(value)[:60]
        if (self.fields.get(field) or {}).get("format") == "cn-id":
            shown = masking.mask_id_number(shown)
        self._pending.errors.append(RowError(number, f"{title}（{field}）" if title else field, shown, message))

    def _row(self, session: Session, number: int, cells: dict) -> None:
        failed = False
        data = {}
        for key, value in cells.items():
            if key in RESERVED or key not in self.fields:
                continue
            try:
                parsed = parse_cell(value, self.fields[key]) if not isinstance(value, (int, float, bool, list,
                                                                                     dict)) else value
            except BadCell as error:
                self._fail(number, key, value, str(error))
                failed = True
                continue
            if parsed is not None:
                data[key] = parsed
        location, failed = self._location(number, cells, failed)
        client_id = str(cells.get("client_id") or "").strip() or None
        if failed:
            self._pending.rejected += 1
            return
        if client_id:
            known = _record_of(session, client_id)
            if known is not None and known.theme_key == self.theme_key and known.retired_at is None:
                self._update(session, number, known, data, location)
                return
            if known is not None:            # another theme's, or retired: never changed from here
                self._pending.existing += 1
                return
        if self._stored(session, number, cells, lambda: records.create(
                self.platform, session, self.actor, self.theme_key, data, client_id=client_id,
                version=self.version, client_id_is_new=True, grid_regions=self.grid_regions, **location)):
            self._pending.imported += 1

    def _update(self, session: Session, number: int, record: ThemeRecord, data: dict, location: dict) -> None:
        data = {key: _unmasked(value, (record.form_data or {}).get(key)) for key, value in data.items()}
        unchanged_place = _same_place(record, location)
        if data == (record.form_data or {}) and unchanged_place:
            self._pending.existing += 1
            return
        if self._stored(session, number, {}, lambda: records.update(
                self.platform, session, self.actor, record, version=record.version, data=data,
                **({} if unchanged_place else location))):
            self._pending.updated += 1

    def _stored(self, session: Session, number: int, cells: dict, write) -> bool:
        """Run the records service's `write` for row `number` in a savepoint; a refusal is the row's error."""
        try:
            with session.begin_nested():
                write()
        except RecordInvalid as error:
            for path, message in error.errors:
                self._fail(number, path.split(".")[0].split("[")[0] if path else "", cells.get(path), message)
        except records.RecordError as error:
            self._fail(number, error.field, None, error.message)
        else:
            return True
        self._pending.rejected += 1
        return False

    def _location(self, number: int, cells: dict, failed: bool) -> tuple[dict, bool]:
        geometry = cells.get("geometry")
        if isinstance(geometry, str) and geometry.strip():
            try:
                geometry = json.loads(geometry)
            except ValueError:
                self._fail(number, "geometry", geometry, "几何应为 GeoJSON 文本")
                return {}, True
        location = {"geometry": geometry or None}
        for key, title in (("lon", "经度"), ("lat", "纬度")):
            value = cells.get(key)
            if value in (None, ""):
                location[key] = None
                continue
            try:
                location[key] = float(value)
            except (TypeError, ValueError):
                self._fail(number, key, value, f"{title}应为数字")
                failed = True
        if (location.get("lon") is None) != (location.get("lat") is None):
            self._fail(number, "lon", cells.get("lon"), "经度和纬度须同时给出")
            failed = True
        if location["geometry"] and location["geometry"].get("type") == "Point":
            location["lon"] = location["lat"] = None   # the point itself says where
        return location, failed

@dataclasses.dataclass
class _BatchTally:
    """One batch's row errors and counts, until its transaction commits."""
    imported: int = 0
    updated: int = 0
    rejected: int = 0
    existing: int = 0
    errors: list[RowError] = dataclasses.field(default_factory=list)


def import_ledger(platform, theme_key: str, path, *, actor: Actor, report_path=None, batch_size: int = 500,
                  resume_from: int | None = None, show_progress: bool = False) -> tuple[ImportSummary, int]:
    """(summary, rows skipped because their client_id already exists). Raises ImportFileError for a file that
    cannot be read at all, ImportInterrupted when it stopped in the middle."""
    job = LedgerImport(platform, theme_key, Path(path), actor, Path(report_path) if report_path else None,
                       batch_size, resume_from)
    summary = job.run(show_progress)
    with platform.db.session() as session:
        record_change(session, actor, "import", object_type="theme_record", object_id=Path(path).name,
                      summary=f"导入业务主题“{theme_key}”的台账记录 {summary.imported} 条，更新 {summary.updated} 条"
                              f"（拒绝 {summary.rejected} 条）",
                      details={"what": "records", "theme": theme_key, "imported": summary.imported,
                               "updated": summary.updated,
                               "rejected": summary.rejected, "existing": job.existing})
        session.commit()
    return summary, job.existing


def export_identity(record: ThemeRecord) -> str:
    """The `client_id` an export writes for a record that has none: its number and creation second, so the file
    imported again into the same database finds the record, and into another database makes it once."""
    return f"mq:{record.id}:{record.created_at:%Y%m%d%H%M%S}"


def _record_of(session: Session, client_id: str) -> ThemeRecord | None:
    record = session.scalar(select(ThemeRecord).where(ThemeRecord.client_id == client_id))
    if record is not None:
        return record
    parts = client_id.split(":")
    if len(parts) != 3 or parts[0] != "mq" or not parts[1].isdigit():
        return None
    record = session.get(ThemeRecord, int(parts[1]))
    if record is None or record.client_id is not None or export_identity(record) != client_id:
        return None   # a number of another database: a new record here, under this client_id
    return record


def _same_place(record: ThemeRecord, location: dict) -> bool:
    geometry = location.get("geometry")
    if record.geometry is not None:
        return geometry == record.geometry
    if geometry and geometry.get("type") == "Point":
        return tuple(geometry.get("coordinates") or ())[:2] == (record.lon, record.lat)
    return geometry is None and (location.get("lon"), location.get("lat")) == (record.lon, record.lat)


def _unmasked(incoming, stored):
    """The stored value where the file holds it as an export masked it (`620102********1234`, `139****5678`,
    an address with its numbers starred), in arrays and objects too: a masked value means "not changed", never a
    new value."""
    if isinstance(incoming, list) and isinstance(stored, list) and len(incoming) == len(stored):
        return [_unmasked(item, old) for item, old in zip(incoming, stored)]
    if isinstance(incoming, dict) and isinstance(stored, dict):
        return {name: _unmasked(item, stored.get(name)) for name, item in incoming.items()}
    if not isinstance(incoming, str) or not isinstance(stored, str) or incoming == stored or "*" not in incoming:
        return incoming
    masked_forms = {masker(stored) for masker in masking.MASKERS.values()}
    for keep_phones in (False, True):     # free text as each role sees it (`records.visible_text`) ...
        for keep_addresses in (False, True):
            scrubbed = masking.scrub_text(stored, keep_phones=keep_phones, keep_addresses=keep_addresses)
            masked_forms.update((scrubbed, masking.mask_address(scrubbed)))   # ... and as an address field
    return stored if incoming in masked_forms else incoming


# -- export -------------------------------------------------------------------------------------------------------

def _cell_value(viewer: Actor, key: str, value, spec: dict):
    """A value as a table cell holds it, masked as the map shows it (`records.visible_value`)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        return records.visible_text(viewer, spec, value, key)
    return json.dumps(records.visible_value(viewer, spec, value, key), ensure_ascii=False)


def export_ledger(session: Session, viewer: Actor, stream: BinaryIO, theme_key: str, *, fmt: str = "csv",
                  file_name: str = "", include_retired: bool = False) -> int:
    """Write the theme's records the viewer may see in the ledger columns (see the module's docstring);
    audited like every export. Returns the number of records."""
    city.settings(session)
    fields = form_fields(session, theme_key)
    statement = records.records_query(viewer, theme_key, include_retired=include_retired).order_by(ThemeRecord.id)
    keys = list(fields)
    extra = []   # keys stored on records that the newest form no longer has: kept, after the form's own
    count = 0
    rows = list(session.scalars(statement))
    for record in rows:
        for key in (record.form_data or {}):
            if key not in fields and key not in extra:
                extra.append(key)
    columns = keys + extra
    if fmt == "geojson":
        make_private(stream)
        features = []
        for record in rows:
            data = record.form_data or {}
            properties = {"id": record.id, "client_id": record.client_id or export_identity(record)}
            properties.update({key: _json_value(viewer, key, data[key], fields.get(key) or {})
                               for key in columns if key in data})
            # through the one GeoJSON writer (RFC 7946 winding, 7 decimals), as the map and the API write it
            features.append({"type": "Feature", "id": record.id, "geometry": geojson.geometry(records.location(record)),
                             "properties": properties})
            count += 1
        stream.write(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False,
                                indent=1).encode())
    else:
        sink = sink_for(fmt, stream, theme_key)
        sink.row(["id", "client_id", "lon", "lat", "geometry", *columns])
        for record in rows:
            data = record.form_data or {}
            geometry = json.dumps(record.geometry, ensure_ascii=False) if record.geometry else ""
            sink.row([record.id, record.client_id or export_identity(record), record.lon, record.lat, geometry,
                      *(_cell_value(viewer, key, data.get(key), fields.get(key) or {}) for key in columns)])
            count += 1
        sink.close()
    record_change(session, viewer, "export", object_type="theme_record", object_id=file_name,
                  summary=f"导出业务主题记录 {count} 条（{fmt.upper()}）",
                  details={"what": "records", "format": fmt, "count": count, "file": file_name, "theme": theme_key,
                           "columns": "keys"})
    return count


def _json_value(viewer: Actor, key: str, value, spec: dict):
    """A value as GeoJSON properties hold it: its JSON type kept, strings masked as in the table formats."""
    return records.visible_value(viewer, spec, value, key)


def file_kind() -> dict:
    """`records` as a kind of `minqing import` and `minqing export` (core's commands cannot import themes): the
    answer of the `file_kinds` hook, which `declarative_themes` (themes/file_plugin.py) gives."""
    return {"label": KIND_LABEL, "import": import_ledger, "export": export_ledger}
