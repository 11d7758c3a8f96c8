"""`manage.py audit` (verify the chain, print its head) and `manage.py keys` (the field-encryption keys)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from applications import authorisers
from storage import sealed
from web.core import totp
from workflow import audit
from workflow.db import db

# --- audit --------------------------------------------------------------------------------------------------------


@click.group("audit")
def audit_group() -> None:
    """The audit chain."""


@audit_group.command("verify")
@with_appcontext
def audit_verify() -> None:
    """Walk the whole audit chain; exit 1 naming the first event that was edited, removed or re-linked."""
    with db.transaction() as session:
        verification = audit.verify(session)
    if not verification.ok:
        raise click.ClickException(str(verification))
    click.echo(str(verification))


@audit_group.command("head")
@with_appcontext
def audit_head() -> None:
    """Print the chain's tip (seq and hash), to be recorded outside the system: only against such a record can a
    truncated tail be seen."""
    from workflow.models import AuditHead

    with db.transaction() as session:
        head = session.get(AuditHead, audit.HEAD_ID)
        seq, digest = (head.last_seq, head.last_hash) if head else (0, audit.GENESIS)
    click.echo(f"{seq} {digest}")


# --- keys ---------------------------------------------------------------------------------------------------------


@click.group("keys")
def keys_group() -> None:
    """Field encryption keys (FIELD_ENCRYPTION_KEYS): the first seals, all open."""


@keys_group.command("generate")
def keys_generate() -> None:
    """Print a new key, to put first in FIELD_ENCRYPTION_KEYS before `keys rotate`."""
    click.echo(sealed.generate_key())


@keys_group.command("rotate")
@with_appcontext
def keys_rotate() -> None:
    """Seal every stored value again with the first key; afterwards the other keys can be dropped."""
    sealer = sealed.sealer(current_app.config["FIELD_ENCRYPTION_KEYS"])
    try:
        with db.transaction() as session:
            count = authorisers.reseal_all(session, sealer)
            secrets = totp.reseal_all(session, sealer)
    except sealed.SealError as exc:
        raise click.ClickException(f"{exc}; nothing was changed (is the key that sealed it still listed?)") from None
    click.echo(f"re-sealed {count} credit authoriser ID numbers with key 1 of {sealer.key_count}")
    click.echo(f"re-sealed {secrets} second-factor secrets with key 1 of {sealer.key_count}")
    if sealer.key_count > 1:
        click.echo("every value now opens with the first key: the others can be removed from FIELD_ENCRYPTION_KEYS")


COMMANDS: tuple[click.Command, ...] = (audit_group, keys_group)
