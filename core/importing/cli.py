"""`minqing import KIND FILE` and `minqing export cases|records`.

Registered by `core/cli.py`; this module does not import it back (``python -m minqing.core.cli`` runs that module
as ``__main__``, and a second copy imported from here would register the commands on a group nobody uses). The
group's object, a `core.cli.Context`, arrives through `click.pass_obj`."""
from __future__ import annotations

import json
from pathlib import Path

import click
from sqlalchemy import select

from ..actors import Actor, actor_for, system_actor
from .importer import DEFAULT_BATCH, ImportInterrupted, ImportSummary, import_file
from .kinds import KINDS
from .readers import ImportFileError

# The city's structure (core/importing/structure.py), named here so that `--help` does not load the map libraries.
CITY_KINDS = {"regions": "区划", "grids": "网格", "accounts": "账号"}
# Kinds a plugin supplies through the `file_kinds` hook (core cannot import the part that reads them): the themes'
# ledgers, answered by `declarative_themes`. Named here only so that click can list them without loading the
# plugins; whether one can be read or written is the hook's answer when the command runs.
PART_KINDS = {"records": "业务主题记录（台账）"}
PART_PLUGIN = {"records": "declarative_themes"}   # named in the message when no plugin answers the kind


def part_kind(context, kind: str, direction: str, what: str | None = None):
    """The enabled plugins' function that reads (direction "import") or writes ("export") files of `kind`, with
    the kind's label; the first plugin in call order that answers the kind wins (a built-in one answers last).
    A ClickException in Chinese, naming the files as `what` says, when none does (the plugin is disabled or not
    installed)."""
    for _plugin, answer in context.platform.hooks.file_kinds():
        entry = answer.get(kind) if isinstance(answer, dict) else None
        if isinstance(entry, dict) and callable(entry.get(direction)):
            return entry[direction], str(entry.get("label") or PART_KINDS.get(kind, kind))
    action = "导入" if direction == "import" else "导出"
    plugin = PART_PLUGIN.get(kind)
    raise click.ClickException(f"{action}{what or PART_KINDS.get(kind, kind)}需要启用"
                               + (f"业务主题插件（{plugin}）" if plugin else "提供该文件类型的插件"))


def _actor(context, username: str | None, origin: str) -> Actor:
    """The account whose scope and role apply; the system actor (everything) when none is named."""
    if not username:
        return system_actor(origin)
    from ..models import Account

    with context.platform.db.session() as session:
        account = session.scalar(select(Account).where(Account.username == username))
        if account is None or not account.is_active:
            raise click.ClickException(f"账号“{username}”不存在或已停用")
        return actor_for(session, account, origin=origin)


def _print_summary(summary: ImportSummary, as_json: bool, label: str | None = None) -> None:
    if as_json:
        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2))
        return
    if label is None:
        label = KINDS[summary.kind].label if summary.kind in KINDS else PART_KINDS.get(summary.kind, summary.kind)
    click.echo(f"导入{label}：成功 {summary.imported} 行，拒绝 {summary.rejected} 行，"
               f"{summary.batches} 个批次，用时 {summary.seconds:.1f} 秒")
    if summary.skipped:
        click.echo(f"跳过续传起点之前的 {summary.skipped} 行")
    if summary.unknown_columns:
        click.echo(f"未识别（已忽略）的列：{'、'.join(summary.unknown_columns)}")
    if summary.errors and summary.report:
        click.echo(f"错误报告：{summary.report}")


def _print_city_summary(summary, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2))
        return
    label = CITY_KINDS[summary.kind]
    counts = "，".join(f"{_COUNT_NAMES.get(name, name)} {value}" for name, value in summary.counts.items()
                      if value or not name.startswith("moved_"))
    if summary.problems:
        click.echo(f"导入{label}：检查 {summary.checked} 条，发现 {len(summary.problems)} 个问题，未写入任何数据")
        for problem in summary.problems[:10]:
            click.echo(f"  {problem.where}  {problem.code}  {problem.field}：{problem.message}")
        if summary.report:
            click.echo(f"全部问题见：{summary.report}")
    elif summary.dry_run:
        click.echo(f"检查{label}：{summary.checked} 条，没有问题（试运行，未写入）" + (f"；{counts}" if counts else ""))
    else:
        click.echo(f"导入{label}：{summary.checked} 条，{counts}，用时 {summary.seconds:.1f} 秒")
    for warning in summary.warnings[:20]:
        click.echo(f"提示：{warning}")
    if len(summary.warnings) > 20:
        click.echo(f"提示：另有 {len(summary.warnings) - 20} 条（--json 可看全部）")


_COUNT_NAMES = {"added": "新增", "renamed": "更名", "outlines": "更新边界", "unchanged": "未变", "updated": "更新",
                "redrawn": "重绘边界", "reactivated": "恢复启用", "granted": "授权", "revoked": "撤销授权",
                "deactivated": "停用", "moved_cases": "事件改属网格", "moved_residents": "实有人口改属网格",
                "moved_addresses": "地址改属网格", "moved_units": "单位改属网格", "moved_key_places": "重点场所改属网格",
                "moved_houses": "房屋改属网格", "moved_households": "户改属网格", "moved_key_persons": "重点人员改属网格",
                "moved_outside": "不在任何网格内（保留原网格）"}


def _import_city(context, kind: str, file: Path, report: Path, username: str | None, dry_run: bool,
                 deactivate_missing: bool, no_progress: bool, as_json: bool) -> None:
    from .structure import import_city_file

    actor = _actor(context, username, "cli import")
    try:
        summary = import_city_file(context.platform, kind, file, actor=actor, report_path=report, dry_run=dry_run,
                                   show_progress=not no_progress and not as_json,
                                   deactivate_missing=deactivate_missing)
    except ImportFileError as error:
        raise click.ClickException(str(error)) from error
    _print_city_summary(summary, as_json)
    if summary.problems:
        raise SystemExit(1)


@click.command("import")
@click.argument("kind", type=click.Choice([*KINDS, *CITY_KINDS, *PART_KINDS]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--errors", "report", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Error report (CSV). Default: FILE's name with .errors.csv, next to it.")
@click.option("--batch", "batch_size", type=click.IntRange(1, 1_000_000), default=DEFAULT_BATCH, show_default=True,
              help="Rows per transaction.")
@click.option("--resume-from", "resume_from", type=click.IntRange(2), default=None,
              help="Skip the data rows before this row number (the one an interrupted import printed).")
@click.option("--as", "username", default=None, help="Account recorded as the importer (default: 系统).")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--dry-run", is_flag=True, help="regions, grids, accounts: only check the file, write nothing.")
@click.option("--deactivate-missing", is_flag=True,
              help="accounts: deactivate the staff accounts the file does not name (see them first with --dry-run).")
@click.option("--theme", "theme_key", default=None,
              help="records: the theme whose ledger the file holds (.csv/.xlsx with lon, lat; or .geojson).")
@click.pass_obj
def import_command(context, kind: str, file: Path, report: Path | None, batch_size: int,
                   resume_from: int | None, username: str | None, no_progress: bool, as_json: bool,
                   dry_run: bool, deactivate_missing: bool, theme_key: str | None) -> None:
    """Import base data (addresses, houses, residents, units, key-persons: .csv or .xlsx, in batches) or the
    city's own structure (regions: .csv/.xlsx/.geojson; grids: .geojson; accounts: .csv/.xlsx), which is
    all or nothing: any problem exits 1, writes nothing and lists every problem in the errors file.
    See docs/setup.md."""
    report = report or file.with_name(file.stem + ".errors.csv")
    if kind in PART_KINDS:
        _import_part(context, kind, file, report, theme_key, batch_size, resume_from, username,
                     not no_progress and not as_json, as_json)
        return
    if theme_key:
        raise click.UsageError("--theme applies to records only")
    if kind in CITY_KINDS:
        _import_city(context, kind, file, report, username, dry_run, deactivate_missing, no_progress, as_json)
        return
    if dry_run or deactivate_missing:
        raise click.UsageError("--dry-run and --deactivate-missing apply to regions, grids and accounts only")
    actor = _actor(context, username, "cli import")
    try:
        summary = import_file(context.platform, kind, file, actor=actor, report_path=report,
                              batch_size=batch_size, resume_from=resume_from, show_progress=not no_progress)
    except ImportFileError as error:
        raise click.ClickException(str(error)) from error
    except ImportInterrupted as interrupted:
        _print_summary(interrupted.summary, as_json)
        raise click.ClickException(str(interrupted)) from interrupted
    _print_summary(summary, as_json)


def _import_part(context, kind, file, report, theme_key, batch_size, resume_from, username, progress,
                 as_json) -> None:
    importer, label = part_kind(context, kind, "import")
    if not theme_key:
        raise click.UsageError("导入台账记录须用 --theme 指定业务主题")
    actor = _actor(context, username, "cli import")
    try:
        summary, existing = importer(context.platform, theme_key, file, actor=actor, report_path=report,
                                     batch_size=batch_size, resume_from=resume_from, show_progress=progress)
    except ImportFileError as error:
        raise click.ClickException(str(error)) from error
    except ImportInterrupted as interrupted:
        _print_summary(interrupted.summary, as_json, label)
        raise click.ClickException(str(interrupted)) from interrupted
    except LookupError as error:   # an unknown theme
        raise click.ClickException(str(error)) from error
    _print_summary(summary, as_json, label)
    if summary.updated and not as_json:
        click.echo(f"按 id 更新已有记录 {summary.updated} 行")
    if existing and not as_json:
        click.echo(f"已存在（client_id 相同或内容未变，跳过）{existing} 行")
    for error in summary.errors[:20]:
        if not as_json:
            click.echo(f"  第{error.row}行 {error.column}：{error.message}")
    if summary.rejected:
        raise SystemExit(1)


@click.command("export")
@click.argument("what", type=click.Choice(["cases", "records", "grids"]))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "geojson"]), default=None,
              help="Default: from the output's suffix, else csv. geojson: records of one theme only.")
@click.option("--theme", "theme_key", default=None,
              help="Only this theme. Records: the ledger's own columns (field keys, id, client_id, lon, lat, "
                   "geometry), which `import records` reads back.")
@click.option("--titles", is_flag=True, help="records --theme: the report layout instead (Chinese titles).")
@click.option("--as", "username", default=None,
              help="Export as this account: its scope and role decide rows and masking (default: 系统, everything).")
@click.pass_obj
def export_command(context, what: str, output: Path, fmt: str | None, theme_key: str | None,
                   titles: bool, username: str | None) -> None:
    """Export cases or theme records to CSV or XLSX, scoped and masked for the viewer, and audited; or every
    grid to GeoJSON (`export grids -o grids.geojson`), which `import grids` reads back."""
    from minqing.core.ops import exporting

    if what == "grids":
        from .grid_export import export_grids

        with context.platform.db.session() as session:
            count = export_grids(session, output)
        click.echo(f"已导出 {count} 个网格到 {output}")
        return
    suffix = output.suffix.lower()
    fmt = fmt or ("xlsx" if suffix == ".xlsx" else "geojson" if suffix in (".geojson", ".json") else "csv")
    ledger = what == "records" and theme_key and not titles
    if fmt == "geojson" and not ledger:
        raise click.UsageError("--format geojson applies to `export records --theme KEY` only")
    viewer = _actor(context, username, "cli export")
    if ledger:
        exporter, _label = part_kind(context, "records", "export", "台账记录")
        function = lambda session, viewer, stream, **options: exporter(  # noqa: E731
            session, viewer, stream, theme_key, fmt=options["fmt"], file_name=options["file_name"])
    partial = output.with_name(output.name + ".part")
    try:
        with context.platform.db.session() as session, open(partial, "wb") as stream:
            if not ledger:
                function = exporting.export_cases if what == "cases" else exporting.export_records
            count = function(session, viewer, stream, fmt=fmt, theme_key=theme_key, file_name=output.name)
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    click.echo(f"已导出 {count} 条{'事件' if what == 'cases' else '业务主题记录'}到 {output}")
