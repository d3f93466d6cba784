"""Import of base data (一标三实, key persons) from CSV and XLSX files: see docs/import-export.md."""
from .importer import (DEFAULT_BATCH, REPORT_HEADER, ImportInterrupted, ImportSummary, RowError, import_file,
                       insert_batch)
from .kinds import KINDS
from .readers import ImportFileError, detect_encoding, open_table

__all__ = ["DEFAULT_BATCH", "KINDS", "REPORT_HEADER", "ImportFileError", "ImportInterrupted", "ImportSummary",
           "RowError", "detect_encoding", "import_file", "insert_batch", "open_table"]
