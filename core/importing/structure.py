"""The city's own structure, imported all or nothing: `import_city_file(platform, "regions" | "grids" |
"accounts", path, ...)`. Import regions first, then grids (they name their region), then accounts (their
grants name regions, departments and grids)."""
from __future__ import annotations

from pathlib import Path

from ..actors import Actor
from .account_file import Accounts
from .city import CitySummary, run
from .grid_file import Grids
from .readers import ImportFileError
from .region_file import Regions

CITY_KINDS = {kind.name: kind for kind in (Regions, Grids, Accounts)}   # core/importing/cli.py names them too


def import_city_file(platform, kind: str, path: str | Path, *, actor: Actor | None = None,
                     report_path: str | Path | None = None, dry_run: bool = False, show_progress: bool = False,
                     deactivate_missing: bool = False) -> CitySummary:
    """Check the file and write it when it is clean (and this is no dry run). The summary lists every problem;
    raises `ImportFileError` when the file cannot be read at all."""
    if kind not in CITY_KINDS:
        raise ImportFileError(f"未知的导入类别“{kind}”：可选 {', '.join(CITY_KINDS)}")
    if deactivate_missing and kind != "accounts":
        raise ImportFileError("--deactivate-missing 只用于导入账号（accounts）")
    return run(platform, CITY_KINDS[kind], path, actor=actor, report_path=report_path, dry_run=dry_run,
               show_progress=show_progress, deactivate_missing=deactivate_missing)
