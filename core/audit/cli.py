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


def _witness(_ctx, _param, value: str | None) -> list[tuple[str, int, str]] | None:
    """"main:SEQ:HASH,s1:SEQ:HASH,…" (a previous run's `witness`), or "SEQ:HASH" (the stream "main" alone, as
    noted before there were streams)."""
    if value is None:
        return None
    noted = []
    for part in value.split(","):
        fields = part.strip().split(":")
        stream = fields.pop(0) if len(fields) == 3 else "main"
        if len(fields) != 2 or not stream or not fields[0].isdigit() or len(fields[1]) != 64:
            raise click.BadParameter("应为“流:序号:哈希,…”（此前校验结果中的 witness）或“序号:哈希”（main 流的 last_seq 与 "
                                     "last_hash）")
        noted.append((stream, int(fields[0]), fields[1]))
    return noted


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--witness", callback=_witness, metavar="STREAM:SEQ:HASH,…",
              help="The heads noted earlier (the `witness` of a previous run, kept outside the database; "
                   "SEQ:HASH alone means the stream main): also fail if a stream no longer passes through its "
                   "noted record.")
@click.pass_obj
def verify_command(context, as_json: bool, witness: list[tuple[str, int, str]] | None) -> None:
    """Walk every stream's hash chain; name every changed or deleted record. Exit code 1 on any fault."""
    from . import verify

    with context.platform.db.session() as session:
        verify.snapshot(session)
        with tqdm(total=verify.total(session), desc="校验审计日志", unit="条", disable=None) as bar:
            report = verify.verify(session, witness=witness, progress=bar.update)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    elif report.ok:
        streams = [stream for stream in report.streams if stream.count]
        span = "，".join(f"{stream.name} 第 {stream.first_seq}" + ("" if stream.first_seq == stream.last_seq
                                                                  else f"–{stream.last_seq}") + " 条"
                        for stream in streams)
        click.echo(f"审计日志完整：共 {report.count} 条记录（{span + '；' if span else ''}"
                   f"{len(streams)} 条链）")
        if report.witness:
            click.echo(f"链头见证（请在数据库之外保存，下次以 --witness 传入）：{report.witness}")
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
        if len(result.anchors) > 1:
            starts = "、".join(f"{name} 第 {seq + 1} 条" for name, seq in result.anchors.items())
            click.echo(f"已清理 {result.cutoff:%Y-%m-%d} 之前（{days} 天前）的审计记录 {result.removed} 条，"
                       f"各审计流现分别从 {starts}开始")
        else:
            click.echo(f"已清理 {result.cutoff:%Y-%m-%d} 之前（{days} 天前）的审计记录 {result.removed} 条，"
                       f"审计日志链现从第 {result.anchor_seq + 1} 条开始")
