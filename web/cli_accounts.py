"""Account acts for an administrator: unlock, deactivate, revoke tokens, move an organisation; each audited."""

from __future__ import annotations

import getpass
from typing import Any, cast

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from web import security
from web.cli import _checked_uscc, _organisation, orgs_group, users_group
from workflow import operations
from workflow.accounts import DISTRICTS, User
from workflow.db import as_utc, db
from workflow.errors import InvalidInput


def _operator() -> security.Unknown:
    """The CLI acts as the operating-system account that ran it: that is who the audit names."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return security.Unknown(f"cli:{name}"[:64], role="admin")


def _user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username).with_for_update()).one_or_none()
    if user is None:
        raise click.BadParameter(f"no user '{username}'", param_hint="USERNAME")
    return user


@users_group.command("unlock")
@click.argument("username")
@with_appcontext
def users_unlock(username: str) -> None:
    """Lift a lockout after failed logins and clear the failure count."""
    with db.transaction() as session:
        user = _user(session, username)
        until = user.locked_until
        was_locked = security.unlock(session, user, _operator())
    if was_locked and until is not None:
        click.echo(f"unlocked {username} (it was locked until {as_utc(until):%Y-%m-%d %H:%M}Z)")
    else:
        click.echo(f"{username} was not locked; its failure count is cleared")


@users_group.command("deactivate")
@click.argument("username")
@with_appcontext
def users_deactivate(username: str) -> None:
    """Deactivate an account: it cannot log in, its page sessions end and its API tokens are revoked at once."""
    with db.transaction() as session:
        user = _user(session, username)
        if not user.active:
            raise click.ClickException(f"'{username}' is already deactivated")
        revoked = security.deactivate(session, user, _operator())
    click.echo(f"deactivated {username}: its sessions ended and {revoked} API token(s) were revoked")


@click.group("tokens")
def tokens_group() -> None:
    """API bearer tokens."""


@tokens_group.command("revoke")
@click.argument("username")
@with_appcontext
def tokens_revoke(username: str) -> None:
    """Revoke every live API token of USERNAME (the account stays active)."""
    with db.transaction() as session:
        user = _user(session, username)
        revoked = security.revoke_tokens(session, user, _operator())
    click.echo(f"revoked {len(revoked)} API token(s) of {username}")


@orgs_group.command("move")
@click.argument("uscc")
@click.argument("district", type=click.Choice(DISTRICTS))
@click.option("--note", default="", help="Why (e.g. the new business registration); kept in the audit.")
@with_appcontext
def orgs_move(uscc: str, district: str, note: str) -> None:
    """Register an organisation in another district; its existing applications keep their reviewing district."""
    code = _checked_uscc(uscc, "USCC")
    with db.transaction() as session:
        org = _organisation(session, code)
        if org is None:
            raise click.BadParameter(f"no organisation {code}", param_hint="USCC")
        if org.district == district:
            raise click.ClickException(f"{code} is already registered in {district}")
        try:
            before = operations.move_organisation(session, cast(Any, _operator()), org, district, note)
        except InvalidInput as exc:
            raise click.BadParameter(str(exc), param_hint="DISTRICT") from exc
    click.echo(f"moved {code} from {before or '(none)'} to {district}; existing applications keep their district")


COMMANDS = (tokens_group,)
