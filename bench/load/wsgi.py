"""The gunicorn entry of the load bench: the app as configured by the environment, plus one bare Flask route.

    gunicorn 'bench.load.wsgi:app'

`/bench/bare` is added here only, never in the product: the baseline of the throughput ratio, served by the same
workers, the same WSGI stack and the same app object as the detail API it is compared with.
"""

from __future__ import annotations

from flask import Response, jsonify

from web.app import create_app

app = create_app()


@app.get("/bench/bare")
def bare() -> Response:
    """A tiny JSON answer: no login, no database, no template."""
    return jsonify(ok=True)
