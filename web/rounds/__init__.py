"""The rounds area: an administrator opens a programme's next round through pages (a draft copy of the newest
version, its round settings, the diff, publishing) and admits a late submission with a recorded reason."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from web.core.areas import Area, NavLink
from web.rounds import pages
from web.rounds.blueprints import pages as pages_blueprint

AREA = Area(
    "rounds",
    pages=pages_blueprint,
    nav=(NavLink("rounds_pages.rounds", _l("Rounds"), pages.may_open_rounds, position=85),),
)
