"""The applications area: the list, one application, its form, attachments, documents and revisions (pages and API)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from web.applications import (
    api,
    api_documents,
    api_revisions,
    attachments,
    documents,
    form_page,
    history,
    openapi,
    openapi_attachments,
    openapi_documents,
    openapi_revisions,
    pages,
    revisions,
    submission,
    viewer,
)
from web.applications.blueprints import api as api_blueprint
from web.applications.blueprints import pages as pages_blueprint
from web.core.areas import Area, Card, NavLink, openapi_parts

# The modules above add their routes to the area's blueprints when imported.
_ROUTES = (api, api_documents, api_revisions, attachments, documents, form_page, pages, revisions, submission, viewer)

CARDS = (
    Card("changes", revisions.changes_card, position=10),
    Card("viewer", viewer.viewer_card, position=15),
    Card("documents", documents.documents_card, position=80),
    Card("attachments", attachments.attachments_context, position=90),
    Card("events", history.history_card, position=100),
)
MENU = (NavLink("applications.applications", _l("Applications"), lambda _user: True, position=20, landing=100),)

AREA = Area(
    "applications",
    pages_blueprint,
    api_blueprint,
    **openapi_parts(openapi, openapi_attachments, openapi_revisions, openapi_documents),
    cards=CARDS,
    nav=MENU,
)
