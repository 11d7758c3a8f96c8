"""`manage.py demo`: one application of each kind through fire(), each timeline printed and checked."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from web.core import seed
from web.demo import report as demo_report
from web.demo.runner import run_demo


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Drive one application of each kind through fire(), print each timeline, and check everything."""
    for line in seed.initialise(current_app.config["DATABASE_URL"], demo=True):
        if not line.startswith("  +"):
            click.echo(f"set-up: {line}")
    click.echo("")
    result = run_demo()
    for line in demo_report.render(result):
        click.echo(line)
    if not result.ok:
        raise click.ClickException("demo failed:\n  " + "\n  ".join(result.problems))
    click.echo("")
    click.echo(f"demo passed: {len(result.runs)} applications, {len(result.refusals)} wrong moves refused")
    click.echo(f"left {len(result.waiting)} applications waiting, one at each desk (see above)")


COMMANDS: tuple[click.Command, ...] = (demo_command,)
