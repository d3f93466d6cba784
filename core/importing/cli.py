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


def _print_summary(summary: ImportSummary, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"导入{KINDS[summary.kind].label}：成功 {summary.imported} 行，拒绝 {summary.rejected} 行，"
               f"{summary.batches} 个批次，用时 {summary.seconds:.1f} 秒")
    if summary.skipped:
        click.echo(f"跳过续传起点之前的 {summary.skipped} 行")
    if summary.unknown_columns:
        click.echo(f"未识别（已忽略）的列：{'、'.join(summary.unknown_columns)}")
    if summary.errors and summary.report:
        click.echo(f"错误报告：{summary.report}")


@click.command("import")
@click.argument("kind", type=click.Choice(list(KINDS)))
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
@click.pass_obj
def import_command(context, kind: str, file: Path, report: Path | None, batch_size: int,
                   resume_from: int | None, username: str | None, no_progress: bool, as_json: bool) -> None:
    """Import base data: addresses, houses, residents, units or key-persons, from a .csv or .xlsx file."""
    actor = _actor(context, username, "cli import")
    report = report or file.with_name(file.stem + ".errors.csv")
    try:
        summary = import_file(context.platform, kind, file, actor=actor, report_path=report,
                              batch_size=batch_size, resume_from=resume_from, show_progress=not no_progress)
    except ImportFileError as error:
        raise click.ClickException(str(error)) from error
    except ImportInterrupted as interrupted:
        _print_summary(interrupted.summary, as_json)
        raise click.ClickException(str(interrupted)) from interrupted
    _print_summary(summary, as_json)


@click.command("export")
@click.argument("what", type=click.Choice(["cases", "records"]))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default=None,
              help="Default: from the output's suffix, else csv.")
@click.option("--theme", "theme_key", default=None, help="Only this theme (records: one column per form field).")
@click.option("--as", "username", default=None,
              help="Export as this account: its scope and role decide rows and masking (default: 系统, everything).")
@click.pass_obj
def export_command(context, what: str, output: Path, fmt: str | None, theme_key: str | None,
                   username: str | None) -> None:
    """Export cases or theme records to CSV or XLSX, scoped and masked for the viewer, and audited."""
    from .. import exporting

    fmt = fmt or ("xlsx" if output.suffix.lower() == ".xlsx" else "csv")
    viewer = _actor(context, username, "cli export")
    partial = output.with_name(output.name + ".part")
    try:
        with context.platform.db.session() as session, open(partial, "wb") as stream:
            function = exporting.export_cases if what == "cases" else exporting.export_records
            count = function(session, viewer, stream, fmt=fmt, theme_key=theme_key, file_name=output.name)
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
    click.echo(f"已导出 {count} 条{'事件' if what == 'cases' else '业务主题记录'}到 {output}")
