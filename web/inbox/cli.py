"""`manage.py notifications`: run today's reminders or digests now, hand out due retries, list and re-send failed
deliveries, preview a template (the beat does the first three on its own: `manage.py worker --beat`)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from notifications import delivery, mail, reminders
from notifications.kinds import KINDS
from web.core import notices
from workflow import outbox
from workflow.db import db, utcnow
from workflow.errors import NotAllowedNow, NotFound
from workflow.workdays import today_in_shanghai


@click.group("notifications")
def notifications_group() -> None:
    """Notifications: reminders, digests, retries, failed deliveries, template previews."""


@notifications_group.command("remind")
@with_appcontext
def remind() -> None:
    """Make today's reminders now (once per person per occasion; nothing on a day off) and send them."""
    settings = notices.settings(current_app)
    with db.transaction() as session:
        made = reminders.run(session, utcnow(), settings.reminder_options)
        planned = delivery.plan(session, made, settings.channels)
    outbox.kick()
    click.echo(f"{len(made)} reminders, {len(planned)} deliveries")


@notifications_group.command("digests")
@with_appcontext
def digests() -> None:
    """Send today's digests of held mail now (once a day per reader)."""
    with db.transaction() as session:
        made = delivery.make_digests(session, today_in_shanghai(utcnow()))
    outbox.kick()
    click.echo(f"{len(made)} digests")


@notifications_group.command("sweep")
@with_appcontext
def sweep() -> None:
    """Hand out again the deliveries whose retry is due or whose worker died holding them."""
    with db.transaction() as session:
        count = delivery.sweep(session)
    outbox.kick()
    click.echo(f"{count} deliveries handed out again")


@notifications_group.command("dead")
@with_appcontext
def dead() -> None:
    """The deliveries that failed for good, newest first."""
    rows = delivery.dead(db.session)
    for row in rows:
        click.echo(f"{row.id}\t{row.channel}\t{row.address}\t{row.occasion}\t{row.attempts}\t{row.last_error or ''}")
    click.echo(f"{len(rows)} failed for good", err=True)


@notifications_group.command("resend")
@click.argument("delivery_id", type=click.IntRange(min=1))
@with_appcontext
def resend(delivery_id: int) -> None:
    """Send a failed delivery again (its attempts start afresh)."""
    try:
        with db.transaction() as session:
            delivery.resend(session, delivery_id)
    except (NotFound, NotAllowedNow) as exc:
        raise click.ClickException(str(exc)) from None
    outbox.kick()
    click.echo(f"delivery {delivery_id} queued again")


@notifications_group.command("preview")
@click.argument("kind", type=click.Choice([*KINDS, mail.DIGEST]))
@click.option("--lang", "language", type=click.Choice(mail.LANGS), default="zh", show_default=True)
@click.option("--html", is_flag=True, help="Print the HTML part instead of the plain text.")
def preview(kind: str, language: str, html: bool) -> None:
    """Render KIND's mail with sample data: the subject, then the plain text (or the HTML)."""
    rendered = mail.render(kind, language, mail.sample(kind, language))
    click.echo(f"Subject: {rendered.subject}\n")
    click.echo(rendered.html if html else rendered.text)


COMMANDS: tuple[click.Command, ...] = (notifications_group,)
