"""Issue 14, "Done means": every transition of both programmes tells exactly the right people, and no one else —
in the inbox and by mail (sent over SMTP to a real server on 127.0.0.1 and read back).

Who is right is written out below, transition by transition, as the people of a cast (one account per role, a
second district's reviewer, a second finance officer, an applicant of another unit). The rule behind the table:
the applicant's people hear of every step shown to them (not of a draft award or its send-back, which their
history hides too); a desk hears when the application now waits for it — whoever may fire a transition from the
new state and sees the application, the coordinator when a panel is to be drawn, never the officer who proposed an
award for its approval; no one else (another district, auditors, administrators, another unit).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from notifications.models import Delivery, Notification
from tests import factories
from workflow.accounts import SYSTEM
from workflow.db import db
from workflow.engine import fire
from workflow.visibility import can_see

A, D, M, C = "applicant", "district_reviewer", "municipal_reviewer", "agency_coordinator"
F1, F2, MR, R = "finance_officer", "finance_officer2", "monitoring_reviewer", "market_regulator"
FINANCE = {F1, F2}

EMC = {
    ("submit", "draft"): {A, D},
    ("return_for_correction", "district_review"): {A},
    ("resubmit", "returned"): {A, D},
    ("pass_prereview", "district_review"): {A, M},
    ("reject", "district_review"): {A, M},  # the municipal desk archives what is rejected
    ("reject", "completeness_check"): {A, M},
    ("request_supplement", "completeness_check"): {A},
    ("supply", "supplement_requested"): {A, M},
    ("lapse", "supplement_requested"): {A, M},
    ("confirm_complete", "completeness_check"): {A, C},  # the coordinator draws the panel
    ("conclude_pass", "site_verification"): {A, *FINANCE},
    ("conclude_fail", "site_verification"): {A, M},
    ("propose_award", "funding_review"): {F2},  # hidden from the applicant; the proposer does not approve
    ("approve_award", "award_proposed"): {A, *FINANCE},
    ("send_back", "award_proposed"): FINANCE,
    ("record_payment", "award_approved"): {A, M},
    ("withdraw", "draft"): {A, M},  # archiving a withdrawn application is the municipal desk's
    ("withdraw", "district_review"): {A, M},
    ("withdraw", "returned"): {A, M},
    ("withdraw", "completeness_check"): {A, M},
    ("withdraw", "supplement_requested"): {A, M},
    ("archive", "paid"): {A},
    ("archive", "rejected"): {A},
    ("archive", "withdrawn"): {A},
    ("archive", "lapsed"): {A},
    ("archive", "verification_failed"): {A},
}
MONITORING = {
    ("submit", "draft"): {A, MR},
    ("return_for_correction", "technical_review"): {A},
    ("resubmit", "returned"): {A, MR},
    ("pass_technical_review", "technical_review"): {A, R},
    ("reject", "technical_review"): {A, R},  # the regulator archives
    ("reject", "regulator_approval"): {A, R},
    ("refer_back", "regulator_approval"): {A, MR},
    ("approve_support", "regulator_approval"): {A, *FINANCE},
    ("propose_award", "funding_review"): {F2},
    ("approve_award", "award_proposed"): {A, *FINANCE},
    ("send_back", "award_proposed"): FINANCE,
    ("record_payment", "award_approved"): {A, R},
    ("withdraw", "draft"): {A, R},
    ("withdraw", "technical_review"): {A, R},
    ("withdraw", "returned"): {A, R},
    ("archive", "paid"): {A},
    ("archive", "rejected"): {A},
    ("archive", "withdrawn"): {A},
}
CASES = [("emc-acceptance", *key) for key in EMC] + [("monitoring-fund", *key) for key in MONITORING]


def _expected(programme: str, trigger: str, source: str) -> set[str]:
    return (EMC if programme == "emc-acceptance" else MONITORING)[(trigger, source)]


def _actor(cast, application_id: int, trigger: str, roles: tuple[str, ...]):  # type: ignore[no-untyped-def]
    """Who fires it: the cast's person for the first human role who can see the application, else the system."""
    for role in roles:
        if role == "system":
            continue
        person = factories.actor_for(cast, trigger, role)
        with db.transaction() as session:
            if can_see(session, person, application_id):
                return person, role
    return SYSTEM, "system"


def test_the_table_covers_every_transition_of_both_programmes():
    from workflow.definitions import shipped

    latest = {}
    for definition in shipped():
        if definition.version >= latest.get(definition.code, definition).version:
            latest[definition.code] = definition
    for code, table in (("emc-acceptance", EMC), ("monitoring-fund", MONITORING)):
        wanted = {(t.trigger, source) for t in latest[code].transitions for source in t.sources}
        assert wanted == set(table), f"{code}: add to or remove from the table {wanted ^ set(table)}"


@pytest.mark.parametrize("programme,trigger,source", CASES, ids=[f"{p}:{t}:{s}" for p, t, s in CASES])
def test_each_transition_tells_exactly_the_right_people(app, cast, mailbox, programme, trigger, source):
    app_id = factories.new_application(cast, programme=programme)
    factories.drive_to(cast, app_id, source)
    definition = factories.definition_of(app_id)
    transition = definition.transition(trigger, source)
    assert transition is not None
    if "expert" in transition.roles:  # the panel's leader concludes, once every sheet is in
        factories.ensure_leader(cast, app_id)
        factories.score_sheet(cast.expert, app_id)
        factories.note_visit_steps(app_id)
    actor, _role = _actor(cast, app_id, trigger, transition.roles)
    mailbox.clear()
    result = fire(app_id, trigger, actor, factories.payload_for(trigger, app_id))

    names = {getattr(cast, name).id: name for name in cast.__dataclass_fields__ if name not in ("org", "by_role")}
    with db.transaction() as session:
        told = session.scalars(select(Notification).where(Notification.event_seq == result.event_seq)).all()
        mailed = session.scalars(
            select(Delivery).where(Delivery.notification_id.in_([n.id for n in told]), Delivery.channel == "email")
        ).all()
        people = {n.user_id for n in told}
        assert people <= set(names), "someone outside the cast was told"
        assert {names[uid] for uid in people} == _expected(programme, trigger, source)
        assert {d.status for d in mailed} <= {"sent"}
        assert len(mailed) == len(told)
        addresses = {d.address for d in mailed}
    received = mailbox.messages()
    assert sorted(m.to for m in received) == sorted(addresses)  # each exactly once
    assert {m.envelope_to[0] for m in received} == {
        f"{getattr(cast, n).username}@example.test" for n in _expected(programme, trigger, source)
    }
