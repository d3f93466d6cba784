"""The dispatch suggestions' plugin: daily retraining and the `minqing dispatch train|evaluate` commands.
(Automatic dispatch after a report is called by `report_case` itself: it needs the platform.)"""
from __future__ import annotations

import json
import logging
import os

import click

from minqing.core.hooks import hookimpl

MINQING_TITLE = "智能分拨建议"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "根据历史事件训练分拨模型，每日重新训练。"

RETRAIN_EVERY = float(os.environ.get("MINQING_DISPATCH_RETRAIN_SECONDS", str(24 * 3600)))
log = logging.getLogger(__name__)


def _retrain(platform) -> None:
    from .suggestions import train

    with platform.db.session() as session:
        train(platform, session)


@hookimpl
def periodic_tasks():
    return [{"name": "dispatch.retrain", "every": RETRAIN_EVERY, "run": _retrain}]


@hookimpl
def register_commands(cli):
    @cli.group("dispatch")
    def dispatch_group():
        """智能分拨: train the suggestion model and measure it."""

    @dispatch_group.command("train")
    @click.pass_obj
    def train_command(context):
        """Retrain the suggestion model from the dispatches that stuck (what the daily task does)."""
        from .suggestions import train

        with context.platform.db.session() as session:
            info = train(context.platform, session)
        click.echo(json.dumps(info.as_dict(), ensure_ascii=False))

    @dispatch_group.command("evaluate")
    @click.option("--from", "source", type=click.Path(exists=True, dir_okay=False),
                  help="CSV of past cases (text, category, and a time column: reported_at, created_at, time or "
                       "上报时间); default: this database's dispatched cases.")
    @click.option("--tokens", type=click.Choice(["chars", "words"]), default="chars", show_default=True,
                  help="chars: character 1–3-grams (what suggestions use); words: jieba words and word pairs.")
    @click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
    @click.pass_obj
    def evaluate_command(context, source, tokens, as_json):
        """Top-1 and top-3 accuracy of the suggestions beside a keyword rule, on a time split (older 80 % to
        train, newer 20 % to test)."""
        from . import catalogue, evaluation, history

        with context.platform.db.session() as session:
            titles = {code: category.title for code, category in
                      catalogue.categories(context.platform, session).items()}
            try:
                read = history.read_csv(source) if source else None
                samples = read.samples if read else history.samples(session)
                result = evaluation.evaluate(samples, titles, tokens=tokens, show_progress=not as_json)
            except ValueError as error:
                raise click.ClickException(str(error)) from error
        if as_json:
            click.echo(json.dumps({**result.as_dict(), **({"time_column": read.time_column} if read else {})},
                                  ensure_ascii=False))
            return
        if read:
            click.echo(f"时间列：{read.time_column}")
        click.echo(f"训练 {result.train} 件（较早的 80%），测试 {result.test} 件（较新的 20%），{result.categories} 个分类")
        click.echo(f"智能分拨  top-1 {result.model_top1:.1%}  top-3 {result.model_top3:.1%}")
        click.echo(f"关键词规则 top-1 {result.keyword_top1:.1%}  top-3 {result.keyword_top3:.1%}")
