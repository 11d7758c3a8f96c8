"""`manage.py orgs`, `users` and `tokens`: organisations, accounts, lockouts, deactivation and API tokens."""

from __future__ import annotations

import re
import sys
from typing import Any, cast

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from web.core import security
from web.core.cli import checked_uscc, find_organisation, operator
from web.core.security import hash_password, issue_token, password_problem
from workflow import duties, operations
from workflow.accounts import DISTRICTS, ORGANISATION_KINDS, ROLES, Organisation, User
from workflow.db import as_utc, db
from workflow.errors import InvalidInput

USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")

# --- orgs and users -----------------------------------------------------------------------------------------------


@click.group("orgs")
def orgs_group() -> None:
    """Organisations (units that apply, group companies, agencies)."""


@orgs_group.command("create")
@click.argument("uscc")
@click.option("--name", required=True, help="Registered name (单位名称).")
@click.option("--kind", required=True, type=click.Choice(ORGANISATION_KINDS))
@click.option("--district", required=True, type=click.Choice(DISTRICTS), help="所属地区, e.g. 闵行区.")
@click.option("--group", "group_uscc", help="USCC of the group company (集团公司) this unit reports to.")
@with_appcontext
def orgs_create(uscc: str, name: str, kind: str, district: str, group_uscc: str | None) -> None:
    """Register an organisation under its unified social credit code (GB 32100 check digit checked)."""
    code = checked_uscc(uscc, "USCC")
    if not name.strip():
        raise click.BadParameter("the name may not be empty", param_hint="--name")
    with db.transaction() as session:
        if session.scalar(select(Organisation.id).where(Organisation.uscc == code)) is not None:
            raise click.BadParameter(f"an organisation with code {code} is already registered", param_hint="USCC")
        group_id = None
        if group_uscc:
            group_code = checked_uscc(group_uscc, "--group")
            group = find_organisation(session, group_code)
            if group is None or group.kind != "group_company":
                raise click.BadParameter(
                    f"{group_code} is not a registered group company (kind group_company)", param_hint="--group"
                )
            group_id = group.id
        org = Organisation(uscc=code, name=name.strip(), kind=kind, district=district, group_id=group_id)
        session.add(org)
        session.flush()
        org_id = org.id
    click.echo(f"created organisation {org_id}: {code} {name.strip()} ({kind}, {district})")


@click.group("users")
def users_group() -> None:
    """Accounts: create, list, issue API tokens."""


@users_group.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--district", type=click.Choice(DISTRICTS), help="A district reviewer's district.")
@click.option("--org", "org_uscc", help="USCC of the user's organisation (an applicant's unit, a group company).")
@click.option("--email", help="E-mail address for notifications.")
@click.option("--name", "display_name", default="", help="Name shown to others.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@with_appcontext
def users_create(
    username: str,
    role: str,
    district: str | None,
    org_uscc: str | None,
    email: str | None,
    display_name: str,
    password_stdin: bool,
) -> None:
    """Create an account; the password comes on standard input, never as an argument (shell history)."""
    if not USERNAME.match(username):
        raise click.BadParameter(
            f"'{username}': 2–64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit",
            param_hint="USERNAME",
        )
    if not password_stdin:
        raise click.UsageError("give --password-stdin and the password on standard input, e.g. from a secret file")
    if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise click.BadParameter(f"'{email}' is not an e-mail address", param_hint="--email")
    password = sys.stdin.readline().rstrip("\r\n")
    problem = password_problem(password, username)
    if problem:
        raise click.BadParameter(f"password refused: {problem}", param_hint="--password-stdin")
    if district and role != "district_reviewer":
        raise click.BadParameter(f"only a district reviewer has a district, not a {role}", param_hint="--district")
    with db.transaction() as session:
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise click.BadParameter(f"'{username}' is already taken", param_hint="USERNAME")
        org = None
        if org_uscc:
            code = checked_uscc(org_uscc, "--org")
            org = find_organisation(session, code)
            if org is None:
                raise click.BadParameter(f"no organisation {code}: create it with `orgs create`", param_hint="--org")
        if role == "applicant" and org is None:
            raise click.BadParameter("an applicant acts for an organisation: give --org USCC", param_hint="--org")
        if role == "applicant" and org is not None and org.kind == "group_company":
            raise click.BadParameter(
                f"{org.uscc} is a group company; applicants belong to the unit that applies", param_hint="--org"
            )
        if role == "district_reviewer" and not district and (org is None or org.kind != "group_company"):
            raise click.BadParameter(
                "a district reviewer needs --district, or --org of a group company whose units it reviews",
                param_hint="--district",
            )
        user = User(
            username=username,
            display_name=display_name or username,
            email=email,
            password_hash=hash_password(password),
            role=role,
            district=district,
            organisation_id=org.id if org else None,
        )
        session.add(user)
        session.flush()
        scope = ", ".join(filter(None, [district, org.name if org else None])) or "no scope limit within the role"
        click.echo(f"created user {user.id}: {username} ({role}; {scope})")


@users_group.command("token")
@click.argument("username")
@click.option("--hours", type=click.IntRange(1, 24 * 366), help="Validity (default: TOKEN_TTL_HOURS).")
@with_appcontext
def users_token(username: str, hours: int | None) -> None:
    """Print a new API bearer token for USERNAME (only its hash is stored: keep it now)."""
    ttl = hours or int(current_app.config["TOKEN_TTL_HOURS"])
    with db.transaction() as session:
        user = session.scalars(select(User).where(User.username == username)).one_or_none()
        if user is None:
            raise click.BadParameter(f"no user '{username}'", param_hint="USERNAME")
        if not user.active:
            raise click.ClickException(f"'{username}' is deactivated: no token issued")
        token, row = issue_token(session, user, ttl, label="cli")
        expires = as_utc(row.expires_at)
    click.echo(token)
    click.echo(f"token for {username}, valid until {expires:%Y-%m-%d %H:%M}Z", err=True)


@users_group.command("list")
@with_appcontext
def users_list() -> None:
    """Every account with its role and scope."""
    with db.transaction() as session:
        rows = session.execute(
            select(User, Organisation.name)
            .outerjoin(Organisation, User.organisation_id == Organisation.id)
            .order_by(User.role, User.username)
        ).all()
        lines = [
            f"{u.username:<20} {u.role:<20} {'active' if u.active else 'inactive':<8} "
            f"{u.district or ''}{' ' if u.district and org else ''}{org or ''}"
            for u, org in rows
        ]
    for line in lines:
        click.echo(line)


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
        was_locked = security.unlock(session, user, operator())
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
        revoked = security.deactivate(session, user, operator())
    click.echo(f"deactivated {username}: its sessions ended and {revoked} API token(s) were revoked")


@users_group.command("role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
@click.option("--by", "by_username", required=True, help="The system administrator (admin) making the change.")
@click.option("--district", type=click.Choice(DISTRICTS), help="A district reviewer's district.")
@with_appcontext
def users_role(username: str, role: str, by_username: str, district: str | None) -> None:
    """Give USERNAME another role, on behalf of an administrator who is not USERNAME (separation of duties)."""
    with db.transaction() as session:
        user = _user(session, username)
        by = session.scalars(select(User).where(User.username == by_username)).one_or_none()
        if by is None or not by.active:
            raise click.BadParameter(f"no active user '{by_username}'", param_hint="--by")
        try:
            before = duties.change_role(session, user, role, by, district=district)
        except (duties.SeparationOfDuties, InvalidInput) as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{username} is now {role} (was {before}); its page sessions ended")


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
        revoked = security.revoke_tokens(session, user, operator())
    click.echo(f"revoked {len(revoked)} API token(s) of {username}")


@orgs_group.command("move")
@click.argument("uscc")
@click.argument("district", type=click.Choice(DISTRICTS))
@click.option("--note", default="", help="Why (e.g. the new business registration); kept in the audit.")
@with_appcontext
def orgs_move(uscc: str, district: str, note: str) -> None:
    """Register an organisation in another district; its existing applications keep their reviewing district."""
    code = checked_uscc(uscc, "USCC")
    with db.transaction() as session:
        org = find_organisation(session, code)
        if org is None:
            raise click.BadParameter(f"no organisation {code}", param_hint="USCC")
        if org.district == district:
            raise click.ClickException(f"{code} is already registered in {district}")
        try:
            before = operations.move_organisation(session, cast(Any, operator()), org, district, note)
        except InvalidInput as exc:
            raise click.BadParameter(str(exc), param_hint="DISTRICT") from exc
    click.echo(f"moved {code} from {before or '(none)'} to {district}; existing applications keep their district")


COMMANDS: tuple[click.Command, ...] = (orgs_group, users_group, tokens_group)
