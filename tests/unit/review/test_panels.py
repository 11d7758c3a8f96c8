"""The expert panel: who may be drawn, a draw anyone can repeat, declarations, replacements, the site visit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from notifications.models import Notification
from review import panels
from review import pool as expert_pool
from review.models import ExpertProfile, PanelDraw, SiteVisit
from tests import factories
from workflow import operations
from workflow.db import db
from workflow.errors import Forbidden, InvalidInput, NotAllowedNow, NotFound
from workflow.models import Application, Assignment, AuditEvent
from workflow.visibility import get_visible

SERVICE_USCC = "91310115MA1H7GXL27"  # a valid code (GB 32100 check digit) for the form's service company
HEX = "0123456789abcdef"


def _at_site_verification(cast: factories.Cast, form: dict[str, Any] | None = None) -> int:
    """An application in site verification; `form` is merged into its draft before it is submitted."""
    app_id = factories.new_application(cast)
    if form:
        operations.update_draft(cast.applicant, app_id, form, None)
    factories.drive_to(cast, app_id, "site_verification")
    return app_id


def _expert(cast: factories.Cast, employer: str | None = None, district: str = "徐汇区") -> Any:
    user = factories.make_user("expert")
    expert_pool.add_expert(cast.admin, user.username, employer or factories.uscc(), "能效咨询公司", district, ["电力"])
    return user


def _pool(app_id: int, exclude_same_district: bool = False) -> tuple[list[str], dict[str, list[str]]]:
    with db.transaction() as session:
        app = session.get(Application, app_id)
        assert app is not None
        pool, excluded = expert_pool.eligible_pool(session, app, exclude_same_district)
    return [p["username"] for p in pool], {e["username"]: e["reasons"] for e in excluded}


def _seats(app_id: int) -> list[Assignment]:
    with db.transaction() as session:
        query = select(Assignment).options(joinedload(Assignment.user)).where(Assignment.application_id == app_id)
        return list(session.scalars(query.order_by(Assignment.id)))


def _active(app_id: int) -> list[Assignment]:
    return [a for a in _seats(app_id) if a.active and a.conflict is not True]


def _sees(user: Any, app_id: int) -> bool:
    with db.transaction() as session:
        return get_visible(session, user, app_id) is not None


def _events(app_id: int, outcome: str) -> list[AuditEvent]:
    with db.transaction() as session:
        query = select(AuditEvent).where(AuditEvent.application_id == app_id, AuditEvent.outcome == outcome)
        return list(session.scalars(query.order_by(AuditEvent.seq)))


def _fresh_pool() -> None:
    """Take every expert already in the pool out of it (each hypothesis example brings its own)."""
    with db.transaction() as session:
        session.execute(update(ExpertProfile).values(active=False))


# --- the pool and who is left out ---------------------------------------------------------------------------------


def test_add_expert_names_each_wrong_field(cast):
    """Unknown account, a non-expert, a bad check digit and an unknown district are each named."""
    with pytest.raises(InvalidInput) as excinfo:
        expert_pool.add_expert(cast.admin, "nobody-here", "91310115MA1H7GXL2D", "某公司", "火星区", [])
    assert {p.field: p.code for p in excinfo.value.problems} == {
        "username": "unknown_user",
        "employer_uscc": "invalid_uscc",
        "district": "unknown_district",
    }
    with pytest.raises(InvalidInput) as excinfo:
        expert_pool.add_expert(cast.admin, cast.finance_officer.username, factories.uscc(), "某公司", "徐汇区", [])
    assert [(p.field, p.code) for p in excinfo.value.problems] == [("username", "not_expert")]


def test_only_administrators_and_coordinators_keep_the_pool(cast):
    for role in ("municipal_reviewer", "expert", "applicant"):
        with pytest.raises(Forbidden):
            expert_pool.add_expert(cast.by_role[role], cast.expert.username, factories.uscc(), "某公司", "徐汇区", [])
    profile = expert_pool.add_expert(
        cast.agency_coordinator, cast.expert.username, factories.uscc(), "甲", "徐汇区", []
    )
    assert profile.employer_name == "甲"


def test_adding_again_updates_the_profile_and_puts_the_expert_back(cast):
    first = factories.uscc()
    expert_pool.add_expert(cast.admin, cast.expert.username, first, "甲公司", "徐汇区", ["电力"])
    with db.transaction() as session:
        session.execute(update(ExpertProfile).values(active=False))
    second = factories.uscc()
    profile = expert_pool.add_expert(
        cast.admin, cast.expert.username, second, "乙公司", "闵行区", ["热力", "热力", " "]
    )
    assert (profile.employer_uscc, profile.employer_name, profile.district) == (second, "乙公司", "闵行区")
    assert profile.specialities == ["热力"] and profile.active
    with db.transaction() as session:
        assert len(list(session.scalars(select(ExpertProfile)))) == 1


def test_each_tie_to_the_applicant_or_its_service_company_is_a_reason(cast):
    app_id = _at_site_verification(cast, {"service_company_uscc": SERVICE_USCC, "service_company_name": "某节能公司"})
    clear = _expert(cast)
    employed = _expert(cast, employer=cast.org.uscc)
    builder = _expert(cast, employer=SERVICE_USCC)
    tied = _expert(cast)
    expert_pool.relate(tied, tied.username, SERVICE_USCC, "某节能公司", "曾任顾问")
    neighbour = _expert(cast, district=cast.org.district)

    pool, excluded = _pool(app_id)
    assert excluded == {
        employed.username: ["same_employer"],
        builder.username: ["service_company"],
        tied.username: ["declared_relationship"],
    }
    assert set(pool) == {clear.username, neighbour.username}
    assert pool == sorted(pool)

    pool, excluded = _pool(app_id, exclude_same_district=True)
    assert excluded[neighbour.username] == ["same_district"]
    assert pool == [clear.username]


def test_an_expert_declares_only_their_own_ties(cast):
    _expert(cast)
    other = _expert(cast)
    with pytest.raises(Forbidden):
        expert_pool.relate(cast.expert, other.username, SERVICE_USCC)
    with pytest.raises(InvalidInput) as excinfo:
        expert_pool.relate(cast.admin, other.username, "123")
    assert [p.field for p in excinfo.value.problems] == ["uscc"]
    row = expert_pool.relate(cast.admin, other.username, SERVICE_USCC.lower(), "某公司")
    assert row.uscc == SERVICE_USCC


# --- the draw -----------------------------------------------------------------------------------------------------


def test_a_draw_is_reproduced_from_its_seed_and_pool(cast):
    first = _at_site_verification(cast)
    second = _at_site_verification(cast)
    experts = [_expert(cast) for _ in range(6)]

    draw = panels.draw_panel(cast.agency_coordinator, first, 3, "round-1")
    names = sorted(e.username for e in experts)
    assert [p["username"] for p in draw.pool] == names
    assert draw.drawn == panels.draw_members("round-1", draw.pool_digest, names, 3)
    assert panels.reproduce(draw) == draw.drawn
    with db.transaction() as session:
        assert panels.verify_draw(session, draw.id)[0]
    # The same pool and seed draw the same panel for any application: nothing else goes in.
    again = panels.draw_panel(cast.agency_coordinator, second, 3, "round-1")
    assert (again.drawn, again.pool_digest) == (draw.drawn, draw.pool_digest)

    seats = _seats(first)
    assert [s.user.username for s in seats] == draw.drawn
    assert [s.is_leader for s in seats] == [True, False, False]
    assert all(s.declared_at is None and s.conflict is None and s.role == "expert" for s in seats)
    [event] = _events(first, "panel_drawn")
    assert event.payload["seed"] == "round-1" and event.payload["pool_digest"] == draw.pool_digest
    assert event.payload["members"] == draw.drawn and event.actor == cast.agency_coordinator.username


def test_a_changed_record_no_longer_verifies(cast):
    app_id = _at_site_verification(cast)
    for _ in range(4):
        _expert(cast)
    draw = panels.draw_panel(cast.agency_coordinator, app_id, 2)
    assert len(draw.seed) == 32  # a random seed when none is given
    with db.transaction() as session:
        row = session.get(PanelDraw, draw.id)
        assert row is not None
        row.drawn = list(reversed(row.drawn))
    with db.transaction() as session:
        ok, detail = panels.verify_draw(session, draw.id)
    assert not ok and "was recorded" in detail
    with db.transaction() as session:
        row = session.get(PanelDraw, draw.id)
        assert row is not None
        row.drawn, row.pool = list(reversed(row.drawn)), row.pool[1:]
    with db.transaction() as session:
        ok, detail = panels.verify_draw(session, draw.id)
    assert not ok and "hashes to" in detail


def test_size_must_fit_the_pool(cast):
    app_id = _at_site_verification(cast)
    with pytest.raises(InvalidInput) as excinfo:
        panels.draw_panel(cast.agency_coordinator, app_id, 3)
    assert [(p.field, p.code) for p in excinfo.value.problems] == [("size", "empty_pool")]
    _expert(cast)
    _expert(cast)
    for size in (0, 3):
        with pytest.raises(InvalidInput) as excinfo:
            panels.draw_panel(cast.agency_coordinator, app_id, size)
        [problem] = excinfo.value.problems
        assert (problem.field, problem.code) == ("size", "out_of_range")
        assert "from 1 to 2" in problem.message
    with pytest.raises(InvalidInput) as excinfo:
        panels.draw_panel(cast.agency_coordinator, app_id, 1, "x" * 65)
    assert excinfo.value.problems[0].field == "seed"
    assert _seats(app_id) == []


def test_who_draws_and_when(cast):
    app_id = _at_site_verification(cast)
    _expert(cast)
    for role in ("expert", "municipal_reviewer", "applicant"):
        with pytest.raises(Forbidden):
            panels.draw_panel(cast.by_role[role], app_id, 1)
    early = factories.new_application(cast)
    factories.drive_to(cast, early, "completeness_check")
    with pytest.raises(NotAllowedNow) as excinfo:
        panels.draw_panel(cast.agency_coordinator, early, 1)
    assert excinfo.value.state == "completeness_check"
    with pytest.raises(NotFound):
        panels.draw_panel(cast.agency_coordinator, 999_999, 1)

    panels.draw_panel(cast.admin, app_id, 1)
    _expert(cast)
    with pytest.raises(panels.PanelConflict):
        panels.draw_panel(cast.agency_coordinator, app_id, 1)


def test_drawn_experts_are_told(cast):
    app_id = _at_site_verification(cast)
    experts = [_expert(cast) for _ in range(3)]
    draw = panels.draw_panel(cast.agency_coordinator, app_id, 2)
    with db.transaction() as session:
        told = session.scalars(select(Notification).where(Notification.event_seq == draw.event_seq)).all()
    drawn_ids = {e.id for e in experts if e.username in draw.drawn}
    assert {(n.user_id, n.kind) for n in told} == {(uid, "panel_assigned") for uid in drawn_ids}


# --- declarations -------------------------------------------------------------------------------------------------


def test_the_file_opens_only_after_declaring_no_conflict(cast):
    app_id = _at_site_verification(cast)
    expert = _expert(cast)
    panels.draw_panel(cast.agency_coordinator, app_id, 1)
    assert not _sees(expert, app_id)

    result = panels.declare(expert, app_id, False)
    assert result.assignment.conflict is False and result.replacement is None
    assert _sees(expert, app_id)
    with pytest.raises(panels.PanelConflict):
        panels.declare(expert, app_id, False)
    with pytest.raises(NotFound):
        panels.declare(cast.expert2, app_id, False)  # not on the panel
    [event] = _events(app_id, "declared")
    assert event.payload["conflict"] is False and event.actor == expert.username


def test_a_conflict_needs_a_note_and_draws_a_replacement_who_inherits_the_lead(cast):
    app_id = _at_site_verification(cast)
    experts = [_expert(cast) for _ in range(4)]
    by_name = {e.username: e for e in experts}
    draw = panels.draw_panel(cast.agency_coordinator, app_id, 2)
    leader = by_name[draw.drawn[0]]
    with pytest.raises(InvalidInput) as excinfo:
        panels.declare(leader, app_id, True, "  ")
    assert [(p.field, p.code) for p in excinfo.value.problems] == [("note", "required")]

    result = panels.declare(leader, app_id, True, "曾在申报单位任职")
    assert result.replacement is not None and not result.short
    replacement = result.replacement
    assert (replacement.reason, replacement.size, replacement.replaced_user_id) == ("replacement", 1, leader.id)
    assert replacement.seed != draw.seed and panels.reproduce(replacement) == replacement.drawn
    assert leader.username not in [p["username"] for p in replacement.pool]
    assert draw.drawn[1] not in [p["username"] for p in replacement.pool]
    active = _active(app_id)
    assert {a.user.username for a in active} == {draw.drawn[1], replacement.drawn[0]}
    assert [a.user.username for a in active if a.is_leader] == replacement.drawn
    assert not _sees(leader, app_id)
    with pytest.raises(NotFound):
        panels.declare(leader, app_id, False)  # their seat has ended


def test_an_empty_pool_leaves_the_panel_short_and_says_so(cast):
    app_id = _at_site_verification(cast)
    first, second = _expert(cast), _expert(cast)
    panels.draw_panel(cast.agency_coordinator, app_id, 2)
    result = panels.declare(second, app_id, True, "亲属在申报单位")
    assert result.replacement is None and result.short
    [short] = _events(app_id, "panel_short")
    assert short.payload["replaced"] == second.username
    with db.transaction() as session:
        view = panels.panel_view(session, cast.agency_coordinator, app_id)
    assert (view["size"], view["short"]) == (2, 1)
    assert [(m["username"], m["active"], m["conflict"]) for m in view["members"]] == [
        (first.username, True, None),
        (second.username, False, True),
    ]
    # Whoever declared a conflict is never drawn for this application again.
    panels.declare(first, app_id, True, "持有股份")
    newcomer = _expert(cast)
    again = panels.draw_panel(cast.agency_coordinator, app_id, 1)
    assert [p["username"] for p in again.pool] == again.drawn == [newcomer.username]
    assert {e["username"]: e["reasons"] for e in again.excluded} == {
        first.username: ["declared_conflict"],
        second.username: ["declared_conflict"],
    }


# --- the site visit -----------------------------------------------------------------------------------------------


def test_the_visit_is_in_the_future_and_everyone_concerned_is_told(cast):
    app_id = _at_site_verification(cast)
    experts = [_expert(cast) for _ in range(2)]
    panels.draw_panel(cast.agency_coordinator, app_id, 2)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with pytest.raises(InvalidInput) as excinfo:
        panels.schedule_visit(cast.agency_coordinator, app_id, past, "")
    assert [p.field for p in excinfo.value.problems] == ["visit_at", "place"]
    with pytest.raises(Forbidden):
        panels.schedule_visit(cast.municipal_reviewer, app_id, past, "现场")

    soon = dt.datetime(2099, 3, 1, 9, 30)  # no zone: Shanghai time
    visit = panels.schedule_visit(cast.agency_coordinator, app_id, soon, "剑川路1000号", "带好安全帽")
    later = panels.schedule_visit(cast.agency_coordinator, app_id, soon + dt.timedelta(days=1), "同上")
    assert visit.id == later.id
    with db.transaction() as session:
        rows = session.scalars(select(SiteVisit).where(SiteVisit.application_id == app_id)).all()
        assert [(r.place, r.visit_at.replace(tzinfo=None)) for r in rows] == [("同上", dt.datetime(2099, 3, 2, 1, 30))]
    events = _events(app_id, "visit_scheduled")
    assert [e.payload["previous"] for e in events] == [None, "2099-03-01T01:30:00+00:00"]
    with db.transaction() as session:
        told = session.scalars(select(Notification).where(Notification.event_seq == events[-1].seq)).all()
    assert {(n.user_id, n.kind) for n in told} == {(u.id, "site_visit") for u in (cast.applicant, *experts)}


def test_the_applicant_sees_the_visit_but_not_the_panel(cast):
    app_id = _at_site_verification(cast)
    _expert(cast)
    panels.draw_panel(cast.agency_coordinator, app_id, 1)
    panels.schedule_visit(cast.agency_coordinator, app_id, dt.datetime(2099, 3, 1, 9, 30), "现场")
    with db.transaction() as session:
        mine = panels.panel_view(session, cast.applicant, app_id)
        theirs = panels.panel_view(session, cast.municipal_reviewer, app_id)
        with pytest.raises(NotFound):
            panels.panel_view(session, cast.other_applicant, app_id)
    assert mine["members"] == [] and mine["draws"] == [] and mine["visit"]["place"] == "现场"
    assert len(theirs["members"]) == 1 and len(theirs["draws"]) == 1


def test_ensure_leader_seats_the_cast_expert_through_a_real_draw(cast):
    app_id = _at_site_verification(cast)
    _expert(cast)
    _expert(cast)
    factories.ensure_leader(cast, app_id)
    [seat] = _active(app_id)
    assert (seat.user_id, seat.is_leader, seat.conflict) == (cast.expert.id, True, False)
    with db.transaction() as session:
        [draw] = panels.draws_of(session, app_id)
        assert panels.verify_draw(session, draw.id)[0] and draw.drawn == [cast.expert.username]


# --- properties ---------------------------------------------------------------------------------------------------

APPLICANT, SERVICE, OTHER = "91310000000000001C", SERVICE_USCC, "91310000000000002A"


@st.composite
def candidates_and_facts(draw: Any) -> tuple[list[dict[str, Any]], expert_pool.Facts]:
    n = draw(st.integers(1, 12))
    people = [
        {
            "user_id": i,
            "username": f"e{i:02d}",
            "employer_uscc": draw(st.sampled_from([APPLICANT, SERVICE, OTHER, f"X{i}"])),
            "district": draw(st.sampled_from(["徐汇区", "闵行区", None])),
            "specialities": [],
        }
        for i in range(n)
    ]
    ids = list(range(n))
    related = draw(st.dictionaries(st.sampled_from(ids), st.sampled_from([APPLICANT, SERVICE, OTHER]), max_size=n))
    facts = expert_pool.Facts(
        applicant_usccs=frozenset({APPLICANT}),
        service_uscc=draw(st.sampled_from([SERVICE, None])),
        district="闵行区",
        exclude_same_district=draw(st.booleans()),
        related={k: frozenset({v}) for k, v in related.items()},
        conflicted=frozenset(draw(st.sets(st.sampled_from(ids)))),
        members=frozenset(draw(st.sets(st.sampled_from(ids)))),
    )
    return people, facts


def _tied(person: dict[str, Any], facts: expert_pool.Facts) -> bool:
    """An independent statement of the rules: anything that ties the expert to this application."""
    parties = {APPLICANT} | ({facts.service_uscc} if facts.service_uscc else set())
    return (
        person["employer_uscc"] in parties
        or bool(facts.related.get(person["user_id"], frozenset()) & parties)
        or (facts.exclude_same_district and person["district"] == facts.district)
        or person["user_id"] in facts.conflicted
        or person["user_id"] in facts.members
    )


@settings(max_examples=300, deadline=None)
@given(candidates_and_facts(), st.text(HEX, min_size=1, max_size=16), st.data())
def test_no_tied_expert_is_ever_drawn_and_the_size_is_honoured(case, seed, data):
    people, facts = case
    pool, excluded = expert_pool.screen(people, facts)
    assert {p["username"] for p in pool} == {p["username"] for p in people if not _tied(p, facts)}
    assert all(e["reasons"] for e in excluded) and len(pool) + len(excluded) == len(people)
    if not pool:
        return
    size = data.draw(st.integers(1, len(pool)))
    names = [p["username"] for p in pool]
    drawn = panels.draw_members(seed, panels.pool_digest(pool), names, size)
    assert len(drawn) == len(set(drawn)) == size and set(drawn) <= set(names)
    assert drawn == panels.draw_members(seed, panels.pool_digest(pool), list(reversed(names)), size)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        # Weighted towards clear experts, so that most examples have someone to draw and someone to replace.
        st.tuples(
            st.sampled_from(["applicant", "service", "other", "other", "other"]),
            st.sampled_from([None, None, None, "applicant", "service"]),
        ),
        min_size=3,
        max_size=7,
    ),
    st.data(),
)
def test_drawn_panels_and_replacements_never_seat_a_conflicted_expert(cast, ties, data):
    """Random pools with random ties: the draw, then a random member's declared conflict and its replacement."""
    _fresh_pool()
    app_id = _at_site_verification(cast, {"service_company_uscc": SERVICE_USCC})
    codes = {"applicant": cast.org.uscc, "service": SERVICE_USCC}
    conflicted = set()
    for employer, tie in ties:
        expert = _expert(cast, employer=codes.get(employer))
        if tie:
            expert_pool.relate(expert, expert.username, codes[tie])
        if employer != "other" or tie:
            conflicted.add(expert.username)
    eligible = len(ties) - len(conflicted)
    if eligible == 0:
        with pytest.raises(InvalidInput):
            panels.draw_panel(cast.agency_coordinator, app_id, 1)
        return
    size = data.draw(st.integers(1, eligible), label="size")
    draw = panels.draw_panel(cast.agency_coordinator, app_id, size, data.draw(st.text(HEX, min_size=1), label="seed"))
    active = _active(app_id)
    assert len(active) == size and not {a.user.username for a in active} & conflicted
    assert sum(a.is_leader for a in active) == 1

    leaver = active[data.draw(st.integers(0, size - 1), label="leaver")]
    panels.declare(leaver.user_id, app_id, True, "利益冲突")
    conflicted.add(leaver.user.username)
    after = _active(app_id)
    assert not {a.user.username for a in after} & conflicted
    assert len(after) == min(size, eligible - 1)
    assert sum(a.is_leader for a in after) == (1 if after else 0)
    with db.transaction() as session:
        assert all(panels.verify_draw(session, d.id)[0] for d in panels.draws_of(session, app_id))
    assert draw.number == 1


def test_a_short_panel_fills_its_empty_seat_once_the_pool_grows(cast):
    app_id = _at_site_verification(cast)
    first, second = _expert(cast), _expert(cast)
    initial = panels.draw_panel(cast.agency_coordinator, app_id, 2)
    leader = first if initial.drawn[0] == first.username else second
    member = second if leader is first else first
    panels.declare(member, app_id, True, "曾为申报单位提供咨询")
    with pytest.raises(InvalidInput):
        panels.draw_panel(cast.agency_coordinator, app_id, 1)  # nobody eligible yet

    newcomer = _expert(cast)
    with pytest.raises(InvalidInput) as too_many:
        panels.draw_panel(cast.agency_coordinator, app_id, 2)  # one seat is empty, not two
    assert too_many.value.problems[0].field == "size"
    refill = panels.draw_panel(cast.agency_coordinator, app_id, 1)

    assert (refill.reason, refill.drawn) == ("refill", [newcomer.username])
    seats = {a.user_id: a.is_leader for a in _active(app_id)}
    assert seats == {leader.id: True, newcomer.id: False}  # the leader keeps the lead
    with db.transaction() as session:
        assert panels.verify_draw(session, refill.id)[0]
        assert panels.panel_view(session, cast.agency_coordinator, app_id)["short"] == 0
    with pytest.raises(panels.PanelConflict):
        panels.draw_panel(cast.agency_coordinator, app_id, 1)  # full again
