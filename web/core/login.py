"""Logging in and out of the pages: per-account lockout, a per-client rate limit, sessions that logout ends."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from web.core import totp, two_factor
from web.core.actor import me
from web.core.extensions import limiter, login_rate_limit
from web.core.page_forms import LoginForm, LogoutForm
from web.core.pages import bp, commit_reads, landing_url, safe_next
from web.core.security import LockoutPolicy, authenticate, log_out
from workflow.accounts import User
from workflow.db import db


def lockout_policy() -> LockoutPolicy:
    config = current_app.config
    return LockoutPolicy(int(config["LOCKOUT_FAILURES"]), int(config["LOCKOUT_MINUTES"]))


@bp.route("/")
def index() -> Response:
    if current_user.is_authenticated:
        # Each reader starts at their own work: reviewers at their desk, experts at their panel tasks, applicants at
        # their applications (the areas' menu links say which is whose).
        return redirect(landing_url(me()))
    return redirect(url_for(".login"))


@bp.route("/login", methods=["GET", "POST"])
# One count per client for the password and the second factor's code (web.core.two_factor.login_code) alike.
@limiter.shared_limit(login_rate_limit, scope="login", methods=["POST"])
def login() -> Any:
    target = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(target or landing_url(me()))
    form = LoginForm()
    if form.validate_on_submit():
        policy = lockout_policy()
        commit_reads()
        # Committed whatever the outcome: a failure's count and its audit event must stay.
        with db.transaction() as tx:
            user = authenticate(
                tx,
                form.username.data.strip(),
                form.password.data,
                policy=policy,
                channel="page",
                client=request.remote_addr,
                request_id=g.get("request_id"),
                code_later=True,
            )
        if user is not None and totp.enabled(user):
            # The password was right; the login finishes only with the authenticator's code.
            return two_factor.ask_for_code(user, target)
        if user is not None:
            return two_factor.logged_in(user, target)
        # The same words whether the username exists, the password is wrong or the account is locked.
        flash(
            gettext(
                "Wrong username or password. After %(failures)d failed attempts in a row an account is locked "
                "for %(minutes)d minutes.",
                failures=policy.failures,
                minutes=policy.minutes,
            ),
            "error",
        )
    return render_template("login.html", form=form, next=target)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if LogoutForm().validate_on_submit():
        if current_user.is_authenticated:
            user_id = current_user.id
            commit_reads()
            # Server side: the account's session generation moves on, so a copy of this cookie is worthless too.
            with db.transaction() as tx:
                user = tx.get(User, user_id, with_for_update=True)
                if user is not None:
                    log_out(tx, user, request_id=g.get("request_id"))
        logout_user()
        chosen = session.get("lang")
        session.clear()
        if chosen:
            session["lang"] = chosen
        flash(gettext("You have logged out."), "info")
    return redirect(url_for(".login"), 303)
