"""Import of base data (一标三实, key persons) from CSV and XLSX files, and of the city's own structure (regions,
grids, the staff roster): see docs/import-export.md and docs/setup.md.

The public API for plugins (docs/plugins.md) is what `minqing import` itself calls:

    summary = import_city_file(platform, "regions", "regions.geojson", actor=actor)   # then "grids", "accounts"
    summary.ok, summary.counts, summary.problems      # [Problem(where, code, field, message), ...]: nothing written
    summary = import_file(platform, "residents", "residents.csv", actor=actor)        # base data, in batches

and, for a plugin's own files (an intake channel's export, docs/channels.md), the parts they are read with:
`open_table` (CSV/XLSX), `Column` and `match_header` (headers and their aliases), the cell checks `phone` and
`decimal` (raising `Bad` with the Chinese message), `RowError` and `ImportSummary`.
"""
from .city import CitySummary, Problem
from .columns import PHONE, TEXT, Column, match_header
from .error_report import REPORT_HEADER
from .importer import DEFAULT_BATCH, ImportInterrupted, ImportSummary, RowError, import_file, insert_batch
from .kinds import KINDS
from .readers import ImportFileError, detect_encoding, open_table
from .values import CHINA_LAT, CHINA_LON, Bad, decimal, phone

CITY_KINDS = ("regions", "grids", "accounts")   # in the order a city imports them


def import_city_file(platform, kind: str, path, *, actor=None, report_path=None, dry_run: bool = False,
                     show_progress: bool = False, deactivate_missing: bool = False) -> CitySummary:
    """Check a regions, grids or accounts file and write it, all or nothing, when it is clean (and this is no dry
    run): the same code path as `minqing import KIND FILE`. Raises `ImportFileError` when the file cannot be read.

    Imported here on first use: the grid checks load the map libraries, which `minqing --help` does not need."""
    from .structure import import_city_file as run

    return run(platform, kind, path, actor=actor, report_path=report_path, dry_run=dry_run,
               show_progress=show_progress, deactivate_missing=deactivate_missing)


__all__ = ["CHINA_LAT", "CHINA_LON", "CITY_KINDS", "CitySummary", "DEFAULT_BATCH", "KINDS", "PHONE", "Problem",
           "REPORT_HEADER", "TEXT", "Bad", "Column", "ImportFileError", "ImportInterrupted", "ImportSummary", "RowError",
           "decimal", "detect_encoding", "import_city_file", "import_file", "insert_batch", "match_header", "open_table",
           "phone"]
