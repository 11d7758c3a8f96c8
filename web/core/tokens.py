"""POST and DELETE /api/v1/auth/token: a bearer token for a password (rate-limited, lockout), and its revocation."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, current_app, g, jsonify, request

from storage import sealed
from web.core import security
from web.core.api import public
from web.core.extensions import limiter, login_rate_limit
from web.core.problems import ApiProblem, read_body
from workflow.accounts import ApiToken, User
from workflow.db import as_utc, db

bp = Blueprint("tokens", __name__)


@bp.post("/auth/token")
@public
@limiter.limit(login_rate_limit)
def issue_token() -> Response:
    """Exchange a username and password (and the second factor's code, where it is on) for a bearer token (shown
    once; only its hash is stored)."""
    body = read_body({"username": str, "password": str, "code": str}, required=("username", "password"))
    config = current_app.config
    policy = security.LockoutPolicy(int(config["LOCKOUT_FAILURES"]), int(config["LOCKOUT_MINUTES"]))
    # Committed whatever the outcome: a failure's count and its audit event must stay.
    with db.transaction() as session:
        user = security.authenticate(
            session,
            body["username"],
            body["password"],
            policy=policy,
            channel="api",
            client=request.remote_addr,
            request_id=g.get("request_id"),
            code=body.get("code"),
            sealer=sealed.sealer(config["FIELD_ENCRYPTION_KEYS"]),
        )
        issued = security.issue_token(session, user, config["TOKEN_TTL_HOURS"], label="api") if user else None
        expires: dt.datetime | None = issued[1].expires_at if issued else None
    if issued is None or expires is None:
        raise ApiProblem(
            401,
            "invalid_credentials",
            "wrong username or password (or second-factor code), or the account is deactivated; after "
            f"{policy.failures} failed attempts in a row an account is locked for {policy.minutes} minutes",
        )
    response = jsonify(token=issued[0], token_type="Bearer", expires_at=as_utc(expires).isoformat())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.delete("/auth/token")
def revoke_token() -> Response:
    """Revoke the token this request was sent with (logout for an API client)."""
    with db.transaction() as session:
        user = session.get(User, g.api_user.id)
        token = session.get(ApiToken, g.api_token_id)
        if user is not None and token is not None:
            security.revoke_tokens(session, user, user, only=token, request_id=g.get("request_id"))
    return Response(status=204)
