"""The second factor's pages (issue 16 item 4): a staff member turns TOTP on (the secret shown grouped and as an
otpauth URI, then confirmed with a code); the login's second step; a security administrator's resets."""

from __future__ import annotations

import time
from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from storage import sealed
from web.core import security, totp
from web.core.actor import me
from web.core.extensions import limiter, login_rate_limit, open_session
from web.core.pages import bp, commit_reads, landing_url, role_label, safe_next
from workflow.accounts import User
from workflow.db import db
from workflow.duties import SECURITY_ADMIN, SeparationOfDuties
from workflow.errors import InvalidInput

# How long the login's second step waits for the code after the password was right.
PENDING_SECONDS = 300
PENDING = "totp_pending"


class CodeForm(FlaskForm):
    code = StringField(
        _l("6-digit code"),
        validators=[DataRequired(), Length(min=6, max=8)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*", "maxlength": 8},
    )


class ButtonForm(FlaskForm):
    """A button's form (CSRF only)."""


def _sealer() -> sealed.Sealer:
    return sealed.sealer(current_app.config["FIELD_ENCRYPTION_KEYS"])


def _no_store(response: Any) -> Response:
    response = current_app.make_response(response)
    response.headers["Cache-Control"] = "no-store"  # a page with a secret on it is never kept by a cache
    return response


# --- the login's second step ---------------------------------------------------------------------------------------


def logged_in(user: User, target: str | None) -> Response:
    """A fresh session at login (no fixation; only the chosen language carries over), then where the user was going."""
    chosen = session.get("lang")
    session.clear()
    if chosen:
        session["lang"] = chosen
    login_user(user)
    open_session(user)
    return redirect(target or landing_url(me()), 303)


def ask_for_code(user: User, target: str | None) -> Response:
    """The password was right and the account has a second factor: remember who, for a few minutes, and ask."""
    chosen = session.get("lang")
    session.clear()
    if chosen:
        session["lang"] = chosen
    session[PENDING] = {"uid": user.id, "gen": user.session_generation, "at": int(time.time()), "next": target}
    return redirect(url_for("pages.login_code"), 303)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.shared_limit(login_rate_limit, scope="login", methods=["POST"])
def login_code() -> Any:
    """The second step of a login: the code of the account's authenticator. Wrong codes count toward the lockout."""
    pending = session.get(PENDING)
    if current_user.is_authenticated:
        return redirect(landing_url(me()))
    if not pending or int(time.time()) - int(pending.get("at", 0)) > PENDING_SECONDS:
        session.pop(PENDING, None)
        flash(gettext("Log in again: the code was not entered in time."), "error")
        return redirect(url_for("pages.login"))
    form = CodeForm()
    if form.validate_on_submit():
        config = current_app.config
        policy = security.LockoutPolicy(int(config["LOCKOUT_FAILURES"]), int(config["LOCKOUT_MINUTES"]))
        commit_reads()
        # Committed whatever the outcome: a wrong code's count and its audit event must stay.
        with db.transaction() as tx:
            user = security.second_step(
                tx,
                int(pending["uid"]),
                form.code.data,
                sealer=_sealer(),
                policy=policy,
                channel="page",
                client=request.remote_addr,
                request_id=g.get("request_id"),
            )
            fresh = user is not None and user.session_generation == pending.get("gen")
        if user is not None and fresh:
            return logged_in(user, safe_next(pending.get("next")))
        flash(
            gettext(
                "Wrong code. After %(failures)d failed attempts in a row an account is locked for %(minutes)d minutes.",
                failures=policy.failures,
                minutes=policy.minutes,
            ),
            "error",
        )
    return render_template("login_code.html", form=form)


# --- turning it on -------------------------------------------------------------------------------------------------


def _staff() -> User:
    user = me()
    if not totp.eligible(user):
        abort(404)
    return user


@bp.get("/account/two-factor")
@login_required
def two_factor() -> Any:
    """Whether the second factor is on; while turning it on, the secret to enter and the code to confirm it."""
    user = _staff()
    secret = totp.pending_secret(user, _sealer())
    return _no_store(
        render_template(
            "two_factor.html",
            on=totp.enabled(user),
            since=user.totp_enabled_at,
            secret=totp.grouped(secret) if secret else None,
            uri=totp.provisioning_uri(secret, user.username) if secret else None,
            start_form=ButtonForm(),
            form=CodeForm(),
            may_reset=user.role == SECURITY_ADMIN,
        )
    )


@bp.post("/account/two-factor/enrol")
@login_required
def two_factor_enrol() -> Response:
    """A new secret, shown on the next page until it is confirmed with a code."""
    user_id = _staff().id
    if ButtonForm().validate_on_submit():
        commit_reads()
        try:
            with db.transaction() as tx:
                user = tx.get(User, user_id, with_for_update=True)
                assert user is not None
                totp.begin(tx, user, _sealer())
        except InvalidInput:
            flash(gettext("The second factor is already on; a security administrator can reset it."), "error")
    return redirect(url_for("pages.two_factor"), 303)


@bp.post("/account/two-factor/confirm")
@login_required
def two_factor_confirm() -> Any:
    """The authenticator's code turns the second factor on; from the next login on it is asked for."""
    user_id = _staff().id
    form = CodeForm()
    if form.validate_on_submit():
        commit_reads()
        with db.transaction() as tx:
            user = tx.get(User, user_id, with_for_update=True)
            assert user is not None
            confirmed = totp.confirm(tx, user, _sealer(), form.code.data, request_id=g.get("request_id"))
        if confirmed:
            flash(gettext("Two-step login is on: from your next login on, you will be asked for a code."), "success")
            return redirect(url_for("pages.two_factor"), 303)
    flash(gettext("That code is not right. Check the time on your phone and enter the code shown now."), "error")
    return redirect(url_for("pages.two_factor"), 303)


# --- the security administrator's resets ---------------------------------------------------------------------------


def _security_admin() -> User:
    user = me()
    if user.role != SECURITY_ADMIN:
        abort(404)
    return user


@bp.get("/security/two-factor")
@login_required
def two_factor_accounts() -> Any:
    """Every account with the second factor on (or being turned on), each with a reset."""
    _security_admin()
    rows = db.session.scalars(
        select(User).where(User.totp_secret.is_not(None)).order_by(User.role, User.username)
    ).all()
    accounts = [
        {
            "id": u.id,
            "username": u.username,
            "role": role_label(u.role),
            "on": totp.enabled(u),
            "since": u.totp_enabled_at,
        }
        for u in rows
    ]
    return render_template("two_factor_accounts.html", accounts=accounts, form=ButtonForm())


@bp.post("/security/two-factor/<int:user_id>/reset")
@login_required
def two_factor_reset(user_id: int) -> Response:
    """Turn an account's second factor off (a lost phone): it logs in with its password alone until turned on again."""
    by_id = _security_admin().id
    if ButtonForm().validate_on_submit():
        commit_reads()
        try:
            with db.transaction() as tx:
                by = tx.get(User, by_id)
                user = tx.get(User, user_id, with_for_update=True)
                if by is None or user is None:
                    abort(404)
                name = user.username
                totp.reset(tx, user, by, request_id=g.get("request_id"))
        except SeparationOfDuties:
            flash(gettext("No one resets their own second factor: another security administrator must do it."), "error")
        else:
            flash(gettext("The second factor of %(user)s is reset.", user=name), "success")
    return redirect(url_for("pages.two_factor_accounts"), 303)
