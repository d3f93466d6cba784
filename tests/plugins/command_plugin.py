"""A plugin module adding a command, found through an entry point by tests/plugins/test_hooks_called.py."""
import click

from minqing.core.hooks import hookimpl


@hookimpl
def register_commands(cli):
    @cli.command("snow-report")
    def snow_report():
        """Print today's snow clearing figures."""
        click.echo("除雪保畅：今日无积雪")
