"""The error report of a batched import (FILE.errors.csv): the rows it refused, written as their batches commit,
and the line an interruption leaves saying where to resume. Shared by the base-data importer and the themes'
ledger import (`themes.ledger_files`), which differ in what a row is, not in how they report."""
from __future__ import annotations

import csv
import time

REPORT_HEADER = ("行号", "列", "值", "问题")


class ErrorReporting:
    """Mixed into an import: needs `summary` (errors, resume_from, failure, seconds), `report_path` (None: no
    file), `resume_from`, and `_report = _report_file = None` set by its constructor."""

    def _write(self, errors) -> None:
        """Add committed rows' errors (or the interruption's line) to the summary and the report file (appended
        to when resuming), flushed at once: an import stopped later leaves what it found so far."""
        if not errors:
            return
        self.summary.errors.extend(errors)
        if self.report_path is None:
            return
        if self._report is None:
            resuming = self.resume_from and self.report_path.exists() and self.report_path.stat().st_size > 0
            self._report_file = open(self.report_path, "a" if resuming else "w", encoding="utf-8-sig", newline="")
            self._report = csv.writer(self._report_file)
            if not resuming:
                self._report.writerow(REPORT_HEADER)
        self._report.writerows((error.row, error.column, error.value, error.message) for error in errors)
        self._report_file.flush()

    def _close_report(self) -> None:
        if self._report_file is not None:
            self._report_file.close()
            self._report_file = self._report = None

    def _interrupted(self, batch_first, error: BaseException, started: float, reraise: bool = True) -> None:
        """The batch starting at `batch_first` failed: say so in the report and the summary, with the row to
        resume from, and raise ImportInterrupted (unless the caller re-raises the error itself)."""
        from .importer import ImportInterrupted, RowError

        summary = self.summary
        summary.resume_from = batch_first if batch_first is not None else max(self.resume_from, 2)
        summary.failure = f"{type(error).__name__}: {error}".splitlines()[0][:300]
        summary.seconds = round(time.perf_counter() - started, 2)
        self._write([RowError(summary.resume_from, "", "",
                              f"导入在此行所在批次中断（{summary.failure}），该批次未导入；"
                              f"修复后用 --resume-from {summary.resume_from} 继续")])
        if reraise:
            self._close_report()
            raise ImportInterrupted(summary) from error
