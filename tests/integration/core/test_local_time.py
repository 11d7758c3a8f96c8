"""Pages show times through one function and filter (web.core.pages.local_time), in Beijing time (issue 15 item 5)."""

from __future__ import annotations

import datetime as dt

from flask import render_template_string

from web.core.pages import local_date, local_time


def test_pages_format_times_in_beijing_at_the_utc_day_boundary(app):
    moment = dt.datetime(2026, 12, 5, 16, 30, tzinfo=dt.UTC)
    assert local_time(moment) == "2026-12-06 00:30" and local_date(moment) == "2026-12-06"
    with app.test_request_context("/"):
        shown = render_template_string("{{ t | local_time }} {{ t | local_date }} {{ local_time(t) }}", t=moment)
    assert shown == "2026-12-06 00:30 2026-12-06 2026-12-06 00:30"
