"""The core's commands (init, serve, worker), and the registration of every area's (manage.py is the FlaskGroup)."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from forms import uscc as uscc_rules
from web.core import security, seed
from workflow.accounts import Organisation


def register(app: Flask, area_commands: list[click.Command]) -> None:
    """The core's commands, then each registered area's."""
    for command in (init_command, serve_command, worker_command, *area_commands):
        app.cli.add_command(command)


# --- init, serve, worker, demo ------------------------------------------------------------------------------------


@click.command("init")
@click.option("--demo", is_flag=True, help="Also add sample organisations and one account per role (local demo only).")
@with_appcontext
def init_command(demo: bool) -> None:
    """Migrate the database to the latest schema and publish the shipped programmes. Safe to run again."""
    for line in seed.initialise(current_app.config["DATABASE_URL"], demo):
        click.echo(line)
    if demo:
        click.echo("")
        click.echo(f"demo password for every demo account: {seed.DEMO_PASSWORD}")
        click.echo("  (for a local demo only — never run `init --demo` on a server others can reach)")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Serve the app with the threaded development server (the embedded default).

    In production run it under gunicorn instead, e.g. `gunicorn -w 4 -b 0.0.0.0:8000 'web.app:create_app()'`.
    """
    from werkzeug.serving import run_simple

    click.echo(f"serving on http://{host}:{port}/ (development server; use gunicorn in production)")
    # Flask's app.run() refuses to start under a FlaskGroup; werkzeug's server is what it would have used.
    run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False)  # type: ignore[attr-defined]


@click.command("worker", context_settings={"ignore_unknown_options": True})
@click.option("--beat", is_flag=True, help="Also run the periodic jobs (outbox relay, deadlines) in this worker.")
@click.option("--loglevel", default="INFO", show_default=True, help="Celery log level.")
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@with_appcontext
def worker_command(beat: bool, loglevel: str, celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker of this app; extra arguments go to `celery worker` (e.g. --concurrency 4)."""
    celery = current_app.extensions["celery"]
    if current_app.config["CELERY"].get("task_always_eager"):
        click.echo(
            "CELERY_BROKER_URL is not set: tasks already run in-process (embedded default); "
            "this worker only runs the periodic jobs if --beat is given.",
            err=True,
        )
        sys.stderr.flush()  # before the worker forks, or each child writes the buffered text again
    argv = ["worker", f"--loglevel={loglevel}", *celery_args]
    if beat:
        argv.append("--beat")
        if not any(a in ("-s", "--schedule") or a.startswith("--schedule=") for a in celery_args):
            # Beat's record of last runs belongs with the instance's data, not in the working directory.
            argv.append(f"--schedule={Path(current_app.instance_path) / 'celerybeat-schedule'}")
    celery.worker_main(argv=argv)


def operator() -> security.Unknown:
    """The CLI acts as the operating-system account that ran it: that is who the audit names."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return security.Unknown(f"cli:{name}"[:64], role="admin")


def checked_uscc(value: str, hint: str) -> str:
    """A unified social credit code as stored (upper case, trimmed), or the option's error naming the rule broken."""
    code = value.strip().upper()
    problem = uscc_rules.problem(code)
    if problem:
        raise click.BadParameter(f"'{value}' is not a valid unified social credit code: {problem}", param_hint=hint)
    return code


def find_organisation(session: Session, code: str) -> Organisation | None:
    return session.scalars(select(Organisation).where(Organisation.uscc == code)).one_or_none()


def registered_organisation(session: Session, value: str, hint: str) -> Organisation:
    """The organisation an option names, which must be registered."""
    code = checked_uscc(value, hint)
    org = find_organisation(session, code)
    if org is None:
        raise click.BadParameter(f"no organisation {code} (add it with `manage.py orgs create`)", param_hint=hint)
    return org
