"""Scope: who may see (and so act on) which application, through the one visibility function."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from forms.samples import sample_form
from tests import factories
from tests.support.statements import selects_during
from workflow import operations
from workflow.accounts import User
from workflow.db import db
from workflow.definitions import shipped
from workflow.engine import fire
from workflow.errors import Forbidden, NotFound
from workflow.models import Application, AuditEvent
from workflow.visibility import can_see, get_visible, visible_applications


def _visible_ids(actor: User) -> set[int]:
    with db.transaction() as session:
        return set(session.scalars(select(visible_applications(session, actor).subquery().c.id)))


def _sees(actor: User, app_id: int) -> bool:
    with db.transaction() as session:
        seen = can_see(session, actor, app_id)
        # The list and the detail lookup must agree (a leak hides in the difference).
        assert seen == (get_visible(session, actor, app_id) is not None) == (app_id in _visible_ids(actor))
        return seen


@pytest.fixture
def submitted(cast) -> int:
    """An application of the cast's organisation, submitted to its district (闵行区)."""
    app_id = factories.new_application(cast)
    fire(app_id, "submit", cast.applicant)
    return app_id


def test_applicant_of_another_organisation_cannot_find_it(cast, submitted):
    """Another unit's applicant gets NotFound, exactly as for an id that does not exist."""
    assert not _sees(cast.other_applicant, submitted)
    with pytest.raises(NotFound) as excinfo:
        fire(submitted, "withdraw", cast.other_applicant)
    with pytest.raises(NotFound) as missing:
        fire(10**9, "withdraw", cast.other_applicant)
    assert excinfo.value.status == missing.value.status == 404
    assert excinfo.value.detail == f"application {submitted} not found"


def test_district_reviewer_of_another_district_cannot_find_it(cast, submitted):
    """徐汇区's reviewer does not see a 闵行区 application; 闵行区's does."""
    assert not _sees(cast.other_district_reviewer, submitted)
    with pytest.raises(NotFound):
        fire(submitted, "pass_prereview", cast.other_district_reviewer)
    assert _sees(cast.district_reviewer, submitted)
    passed = fire(submitted, "pass_prereview", cast.district_reviewer, factories.PREREVIEW_OK)
    assert passed.state == "completeness_check"


def test_group_company_reviewer_sees_its_member_units(cast):
    """A reviewer attached to a group company sees its units' applications in any district, and no others."""
    group = factories.make_org("group_company", district=None, name="上海某集团有限公司")
    unit = factories.make_org("enterprise", district="浦东新区", group=group.id)
    unit_applicant = factories.make_user("applicant", organisation=unit)
    group_reviewer = factories.make_user("district_reviewer", organisation=group)
    form = {**sample_form("emc-acceptance", "enterprise"), "district": "浦东新区"}
    member = operations.create_application(unit_applicant, "emc-acceptance", "enterprise", "集团成员项目", form)
    member_app = member.id
    factories.attach_required(factories.flask_app(), cast, member_app, actor=unit_applicant)
    fire(member_app, "submit", unit_applicant)
    outsider_app = factories.new_application(cast)
    fire(outsider_app, "submit", cast.applicant)

    assert _visible_ids(group_reviewer) == {member_app}
    with pytest.raises(NotFound):
        fire(outsider_app, "pass_prereview", group_reviewer)
    assert fire(member_app, "pass_prereview", group_reviewer, factories.PREREVIEW_OK).state == "completeness_check"


def test_group_company_reviewer_does_not_see_member_drafts(cast):
    """Drafts stay the unit's own even for its group company."""
    group = factories.make_org("group_company", district=None)
    unit = factories.make_org("enterprise", district="浦东新区", group=group.id)
    unit_applicant = factories.make_user("applicant", organisation=unit)
    group_reviewer = factories.make_user("district_reviewer", organisation=group)
    draft = operations.create_application(unit_applicant, "emc-acceptance", "enterprise", "草稿项目").id
    assert not _sees(group_reviewer, draft)


def _seat(cast, app_id: int, *members: tuple[User, bool]) -> None:
    """Assign each (expert, leader) in order; each declares no conflict, then scores and signs their sheet."""
    for expert, leader in members:
        operations.assign(cast.agency_coordinator, app_id, expert.id, leader=leader)
        factories.declare_clear(app_id, expert.id)
    for expert, _ in members:
        factories.score_sheet(expert, app_id)
    factories.note_visit_steps(app_id)


@pytest.fixture
def on_site(cast) -> int:
    """An application in site verification, no panel assigned yet."""
    app_id = factories.new_application(cast)
    factories.drive_to(cast, app_id, "site_verification")
    return app_id


def test_experts_see_only_assigned_applications(cast, on_site):
    """An expert not on the panel cannot find the application; once assigned and declared clear, they can."""
    assert not _sees(cast.expert2, on_site)
    with pytest.raises(NotFound):
        fire(on_site, "conclude_pass", cast.expert2)
    operations.assign(cast.agency_coordinator, on_site, cast.expert2.id)
    assert not _sees(cast.expert2, on_site)  # the file opens only after the conflict declaration
    factories.declare_clear(on_site, cast.expert2.id)
    assert _sees(cast.expert2, on_site)
    assert on_site in _visible_ids(cast.expert2)


def test_only_the_panel_leader_concludes(cast, on_site):
    """An assigned expert who is not the leader is forbidden; the leader concludes."""
    _seat(cast, on_site, (cast.expert, True), (cast.expert2, False))
    passed = factories.payload_for("conclude_pass", on_site)
    with pytest.raises(Forbidden) as excinfo:
        fire(on_site, "conclude_pass", cast.expert2, passed)
    assert "leader" in excinfo.value.detail
    assert excinfo.value.status == 403
    assert fire(on_site, "conclude_pass", cast.expert, passed).state == "funding_review"


def test_leadership_moves_with_reassignment(cast, on_site):
    """Making another expert the leader takes the role away from the first."""
    _seat(cast, on_site, (cast.expert, True), (cast.expert2, True))
    with pytest.raises(Forbidden):
        fire(on_site, "conclude_fail", cast.expert, {"comment": "不通过"})
    assert fire(on_site, "conclude_fail", cast.expert2, {"comment": "不通过"}).state == "verification_failed"


@pytest.mark.parametrize("definition", shipped(), ids=lambda d: d.label)
def test_drafts_are_the_applicants_alone(cast, definition):
    """A draft is invisible to every account but its own organisation's applicants."""
    app_id = factories.new_application(cast, definition.code, definition.applicant_kinds[0])
    people = [*cast.by_role.values(), cast.other_district_reviewer, cast.other_applicant, cast.expert2]
    for person in people:
        assert _sees(person, app_id) is (person is cast.applicant), person
    colleague = factories.make_user("applicant", organisation=cast.org)
    assert _sees(colleague, app_id)
    with pytest.raises(NotFound):
        operations.assign(cast.agency_coordinator, app_id, cast.expert.id)


def test_deactivated_user_is_forbidden(cast, submitted):
    """A deactivated account is refused outright, and sees nothing."""
    with db.transaction() as session:
        session.get(User, cast.district_reviewer.id).active = False
    with pytest.raises(Forbidden) as excinfo:
        fire(submitted, "pass_prereview", cast.district_reviewer)
    assert "deactivated" in excinfo.value.detail
    with db.transaction() as session:
        attempt = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
        # The audit names who tried, not an anonymous "unknown".
        assert (attempt.outcome, attempt.actor_id, attempt.actor) == (
            "denied",
            cast.district_reviewer.id,
            cast.district_reviewer.username,
        )
    with db.transaction() as session:
        reviewer = session.get(User, cast.district_reviewer.id)
        assert get_visible(session, reviewer, submitted) is None
    assert factories.state_of(submitted)[0] == "district_review"


def test_role_change_takes_effect_at_once(cast, submitted):
    """fire() trusts the database, not the caller's copy of the account: a demoted reviewer is refused."""
    stale_copy = cast.district_reviewer
    with db.transaction() as session:
        session.get(User, stale_copy.id).role = "auditor"
    with pytest.raises(Forbidden):
        fire(submitted, "pass_prereview", stale_copy)


# --- a read-only transaction keeps what it worked out; a new transaction or a writing session asks again -----------


def _selects(call):  # type: ignore[no-untyped-def]
    answer, sent = selects_during(call)
    return answer, len(sent)


def test_a_read_only_transaction_asks_once_and_a_new_one_sees_the_change(app, cast):
    draft = factories.new_application(cast)
    reviewer = cast.district_reviewer
    with app.test_request_context():
        found, first = _selects(lambda: get_visible(db.session, reviewer, draft))
        assert found is None and first >= 1  # a draft is the applicant's alone
        again, second = _selects(lambda: get_visible(db.session, reviewer, draft))
        assert again is None and second == 0  # the same transaction: the same answer, no statement
        db.session.commit()  # the read transaction ends, as a view's does before it writes
        with db.transaction() as session:  # another transaction moves it (as submit would)
            session.execute(update(Application).where(Application.id == draft).values(state="district_review"))
        submitted, third = _selects(lambda: get_visible(db.session, reviewer, draft))
        assert third >= 1, third
        assert submitted is not None and submitted.id == draft
        assert submitted.organisation.name == cast.org.name  # loaded with it: no second statement
        db.session.remove()


def test_a_session_that_writes_always_asks_again(cast):
    app_id = factories.new_application(cast)
    with db.transaction() as session:
        _found, first = _selects(lambda: get_visible(session, cast.applicant, app_id))
        _again, second = _selects(lambda: get_visible(session, cast.applicant, app_id))
    assert first >= 1 and second >= 1
