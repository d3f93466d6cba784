"""`minqing audit verify` and `minqing audit prune`.

Registered by `core/cli.py` (this module does not import it back); the group's object, a `core.cli.Context`,
arrives through `click.pass_obj`.
"""
from __future__ import annotations

import json

import click
from tqdm import tqdm


@click.group("audit")
def audit() -> None:
    """The tamper-evident audit log: check its hash chain, remove records past the retention period."""


def _witness(_ctx, _param, value: str | None) -> tuple[int, str] | None:
    if value is None:
        return None
    seq, _, digest = value.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise click.BadParameter("应为“序号:哈希”，即此前校验结果中的 last_seq 与 last_hash")
    return int(seq), digest


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--witness", callback=_witness, metavar="SEQ:HASH",
              help="A head noted earlier (last_seq:last_hash of a previous run, kept outside the database): "
                   "also fail if the chain no longer passes through it.")
@click.pass_obj
def verify_command(context, as_json: bool, witness: tuple[int, str] | None) -> None:
    """Walk the hash chain; name every changed or deleted record. Exit code 1 on any fault."""
    from . import verify

    with context.platform.db.session() as session:
        verify.snapshot(session)
        with tqdm(total=verify.total(session), desc="校验审计日志", unit="条", disable=None) as bar:
            report = verify.verify(session, witness=witness, progress=bar.update)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    elif report.ok:
        span = f"第 {report.first_seq}–{report.last_seq} 条，" if report.count else ""
        click.echo(f"审计日志完整：共 {report.count} 条记录（{span}链头哈希 {report.last_hash}）")
    else:
        click.echo(f"审计日志不完整：发现 {len(report.faults)} 处问题（已校验 {report.count} 条记录）")
        for fault in report.faults:
            click.echo(f"  - {fault.message}")
    if not report.ok:
        raise SystemExit(1)


@audit.command("prune")
@click.option("--older-than", "days", type=int, required=True,
              help="Remove records older than this many days (at least 184).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def prune_command(context, days: int, as_json: bool) -> None:
    """Remove audit records older than DAYS (at least 184), keeping the chain verifiable; itself audited."""
    from minqing.core.actors import system_actor

    from .retention import RetentionError, check_days, prune

    try:
        check_days(days)
        with context.platform.db.session() as session, tqdm(desc="清理审计日志", unit="条", disable=None) as bar:
            result = prune(session, system_actor("cli"), days, progress=bar.update)
    except RetentionError as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        click.echo(f"已清理 {result.cutoff:%Y-%m-%d} 之前（{days} 天前）的审计记录 {result.removed} 条，"
                   f"审计日志链现从第 {result.anchor_seq + 1} 条开始")
