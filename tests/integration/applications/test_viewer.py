"""The document viewer beside the decision form (issue 15 item 6): a reviewer with a decision to take reads the
applicant's documents in a frame on the same page; the frame shows them inline, to whoever may see them only."""

from __future__ import annotations

import re

from tests import factories
from tests.support.pages import log_in


def test_a_reviewer_with_a_decision_reads_the_documents_beside_the_form(app, cast):  # type: ignore[no-untyped-def]
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    page = log_in(app, cast.district_reviewer).get(f"/applications/{app_id}").text
    layout = page[page.index('with-viewer">') :]
    viewer, material = layout.split('<div class="material">')[:2]
    # The viewer has a column of its own; the pre-review's decision form (seed 002 §五(一)) is in the one beside it.
    assert 'id="viewer"' in viewer and 'id="prereview"' in material
    # Nothing is loaded before the reviewer picks a document (a PDF viewer opening takes the keyboard focus).
    assert not re.search(r'<iframe id="viewer-document"[^>]*src=', viewer)
    choices = re.findall(r'<option value="(\d+)"', viewer)
    assert len(choices) >= 6  # seed 002 附件2's attachments 1–6 and 附件3, all uploaded
    picked = log_in(app, cast.district_reviewer).get(f"/applications/{app_id}?view={choices[0]}").text
    frame = re.search(r'<iframe id="viewer-document"[^>]*src="([^"]+)"', picked)
    assert frame, "no document in the viewer once one is picked"

    shown = log_in(app, cast.district_reviewer).get(frame.group(1))
    assert shown.status_code == 200
    assert shown.headers["Content-Disposition"].startswith("inline;")
    assert shown.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in shown.headers["Content-Security-Policy"]
    assert shown.data.startswith(b"%PDF") or shown.data[:4] == b"\x89PNG"

    # Another district's reviewer may not see the application: the same 404 as for no document.
    assert log_in(app, cast.other_district_reviewer).get(frame.group(1)).status_code == 404

    # The picker without script: ?view= chooses the document shown.
    other = choices[-1]
    again = log_in(app, cast.district_reviewer).get(f"/applications/{app_id}?view={other}").text
    assert re.search(rf'<option value="{other}"[^>]* selected>', again)


def test_the_applicant_and_readers_with_no_decision_get_no_viewer(app, cast):  # type: ignore[no-untyped-def]
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "district_review")
    assert 'id="viewer"' not in log_in(app, cast.applicant).get(f"/applications/{app_id}").text
    assert 'id="viewer"' not in log_in(app, cast.auditor).get(f"/applications/{app_id}").text
