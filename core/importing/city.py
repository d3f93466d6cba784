"""All-or-nothing imports of a city's own structure: regions, grids and the staff roster.

Base data is imported in batches that commit one by one and resume after a crash. A city's structure is
different: its parts refer to each other (a village to its township, a small grid to its medium grid, a grant
to a grid), and half a tree is worse than none. So the whole file is checked first, every problem is listed
(row or feature, code, field, message), and only a clean file is written, in one transaction.
"""
from __future__ import annotations

import abc

import csv
import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path

from ..actors import Actor, system_actor
from . import columns as C
from .readers import ImportFileError, open_table

REPORT_HEADER = ("行号/要素", "编码", "字段", "问题")


@dataclasses.dataclass(frozen=True)
class Problem:
    where: int        # the row number as a spreadsheet shows it (header = row 1), or the feature's position (1-based)
    code: str         # the row's code, the feature's code or the username: what the user searches for
    field: str
    message: str


@dataclasses.dataclass
class CitySummary:
    kind: str
    file: str
    dry_run: bool = False
    checked: int = 0                  # rows or features read
    written: bool = False             # something changed (a re-import of the same file writes nothing)
    counts: dict[str, int] = dataclasses.field(default_factory=dict)
    warnings: list[str] = dataclasses.field(default_factory=list)
    problems: list[Problem] = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    report: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, name: str, by: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + by

    def as_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["problems"] = [dataclasses.asdict(problem) for problem in self.problems]
        return data


class Kind(abc.ABC):
    """One kind of city file. `check` reads the file and the database and records every problem; `apply`
    writes, and runs only when `check` found none."""

    name: str
    label: str

    def __init__(self, path: Path, actor: Actor, summary: CitySummary, show_progress: bool, options: dict):
        self.path, self.actor, self.summary = path, actor, summary
        self.show_progress, self.options = show_progress, options

    def fail(self, where: int, code: str, field: str, message: str) -> None:
        self.summary.problems.append(Problem(where, code, field, message))

    @abc.abstractmethod
    def check(self, session) -> None:
        """Read the whole file and `fail` for every problem; write nothing."""

    @abc.abstractmethod
    def apply(self, session) -> None:
        """Write what the file says (only called when `check` found no problem)."""


def run(platform, kind_class: type[Kind], path: str | Path, *, actor: Actor | None = None,
        report_path: str | Path | None = None, dry_run: bool = False, show_progress: bool = False,
        **options) -> CitySummary:
    """Check `path` and, when it is clean and this is no dry run, write it in one transaction."""
    started = time.perf_counter()
    path = Path(path)
    summary = CitySummary(kind=kind_class.name, file=str(path), dry_run=dry_run,
                          report=str(report_path) if report_path else None)
    kind = kind_class(path, actor or system_actor("import"), summary, show_progress, options)
    with platform.db.session() as session:
        kind.check(session)
        if summary.problems or dry_run:
            session.rollback()
        else:
            kind.apply(session)   # sets `summary.written` when it changed anything
    summary.problems.sort(key=lambda problem: problem.where)
    if report_path:
        _write_report(Path(report_path), summary.problems)
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


def _write_report(path: Path, problems: list[Problem]) -> None:
    """The problems, for a spreadsheet; a clean file leaves no stale report from an earlier run behind."""
    if not problems:
        path.unlink(missing_ok=True)
        return
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_HEADER)
        writer.writerows((problem.where, problem.code, problem.field, problem.message) for problem in problems)


# -- reading ----------------------------------------------------------------------------------------------------


def table_rows(path: Path, columns: tuple[C.Column, ...]) -> Iterator[tuple[int, dict[str, str], dict]]:
    """(row number, cells by field key, nothing) for a CSV or XLSX file; refuses a file missing a required column.

    The third item is the row's geometry, which only GeoJSON files carry (see `feature_rows`)."""
    with open_table(path) as table:
        positions, _unknown = C.match_header(table.header, columns)
        missing = [column.label for column in columns if column.required and column.key not in positions]
        if missing:
            raise ImportFileError(f"缺少必填列：{'、'.join(missing)}（表头应在第1行）")
        for number, raw in table.rows:
            cells = {}
            for key, index in positions.items():
                value = raw[index] if index < len(raw) else ""
                cells[key] = "" if value is None else str(value).strip()
            yield number, cells, None


def read_feature_collection(path: Path) -> list[dict]:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            document = json.load(handle)
    except UnicodeDecodeError as error:
        raise ImportFileError(f"GeoJSON 文件应为 UTF-8 编码：{error.reason}") from error
    except json.JSONDecodeError as error:
        raise ImportFileError(f"不是有效的 GeoJSON：第{error.lineno}行第{error.colno}列 {error.msg}") from error
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ImportFileError("GeoJSON 文件应为一个 FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list):
        raise ImportFileError("FeatureCollection 缺少 features 数组")
    return features


def feature_rows(path: Path, columns: tuple[C.Column, ...]) -> Iterator[tuple[int, dict[str, str], object]]:
    """(feature position from 1, properties by field key, the feature's geometry as given) for a GeoJSON file.

    Property names are matched like a table's headers, so the same aliases work in both."""
    matched: dict[tuple, dict[str, int]] = {}   # features of one file nearly always share their property names
    for index, feature in enumerate(read_feature_collection(path), start=1):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        properties = properties if isinstance(properties, dict) else {}
        names = list(properties)
        positions = matched.get(tuple(names))
        if positions is None:
            positions = matched[tuple(names)] = C.match_header(names, columns)[0]
        cells = {key: _text(properties[names[position]]) for key, position in positions.items()}
        yield index, cells, feature.get("geometry") if isinstance(feature, dict) else None


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


GEOJSON_SUFFIXES = (".geojson", ".json")


def is_geojson(path: Path) -> bool:
    return path.suffix.lower() in GEOJSON_SUFFIXES
