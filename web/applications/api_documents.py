"""The documents the applicant prints, signs, scans and uploads (API): the commitment, the credit letter, the form."""

from __future__ import annotations

from flask import Response, g

from applications import authorisers, printouts
from applications.programme_words import programme_words
from web.applications.blueprints import api as bp
from web.core.actor import me
from web.core.api import docx_response, sealer
from web.core.problems import language, read_body
from workflow.db import db
from workflow.errors import NotFound


def _reader() -> int:
    """Who reads, the view's read transaction ended: the audited operation writes in its own (SQLite: one writer)."""
    actor = me().id
    db.session.commit()
    return actor


def _docx(printout: printouts.Printout) -> Response:
    assert printout.data is not None
    return docx_response(printout.data, printout.filename)


@bp.get("/applications/<int:application_id>/documents/authenticity-commitment")
def authenticity_commitment_document(application_id: int) -> Response:
    """申报材料真实性承诺书 filled in from the form, to print, sign, seal, scan and upload."""
    return _docx(printouts.commitment(_reader(), application_id, request_id=g.request_id))


@bp.post("/applications/<int:application_id>/documents/credit-authorisation")
def credit_authorisation_document(application_id: int) -> Response:
    """附件3 for the legal representative or the project lead: the authoriser is recorded (ID number sealed)."""
    body = read_body({"person_name": str, "id_card": str, "role": str}, required=("person_name", "id_card", "role"))
    # The operation checks visibility, role, state and the values in its own transaction; read after it.
    _row, document = authorisers.record(
        me(),
        application_id,
        person_name=body["person_name"],
        id_card=body["id_card"],
        role=body["role"],
        sealer=sealer(),
        request_id=g.request_id,
    )
    return docx_response(document, authorisers.LETTER_FILENAME)


@bp.get("/applications/<int:application_id>/documents/credit-authorisation")
def credit_authorisation_again(application_id: int) -> Response:
    """附件3 again, from the recorded authoriser (404 until one is recorded)."""
    printout = printouts.credit_letter(_reader(), application_id, sealer(), request_id=g.request_id)
    if printout.data is None:
        raise NotFound(
            f"no credit authoriser is recorded for application {application_id} yet: POST person_name, id_card "
            "and role to this URL first"
        )
    return _docx(printout)


@bp.get("/applications/<int:application_id>/documents/application-form")
def application_form_document(application_id: int) -> Response:
    """附件2 项目申请表 and 验收申请报告 as .docx, for whoever may see the application (404: the programme has none)."""
    printout = printouts.application_form(_reader(), application_id, request_id=g.request_id)
    if printout.data is None:
        definition = printout.definition
        fund = programme_words(definition).fund_title
        raise NotFound(
            f"{fund}没有附件2项目申请表可打印"
            if language() == "zh"
            else f"{definition.title.get('en', fund)} has no 附件2 application form to print",
            programme=definition.label,
        )
    return _docx(printout)
