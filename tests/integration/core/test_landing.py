"""After login each reader lands on their own work (issue 11, seen in a browser): not on an empty list."""

from __future__ import annotations

import pytest

from tests import factories


@pytest.mark.parametrize(
    ("who", "lands_on"),
    [
        ("applicant", "/applications"),
        ("district_reviewer", "/desk"),
        ("municipal_reviewer", "/desk"),
        ("finance_officer", "/desk"),
        ("expert", "/assignments"),
        ("auditor", "/audit"),
    ],
)
def test_each_role_lands_on_its_own_work(app, cast, who, lands_on):  # type: ignore[no-untyped-def]
    user = getattr(cast, who)
    client = app.test_client()
    response = client.post("/login", data={"username": user.username, "password": factories.PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == lands_on
    # Coming back to the site's root takes them to the same place.
    assert client.get("/").headers["Location"] == lands_on


def test_a_next_page_still_wins_over_the_landing(app, cast):  # type: ignore[no-untyped-def]
    response = app.test_client().post(
        "/login?next=/applications", data={"username": cast.expert.username, "password": factories.PASSWORD}
    )
    assert response.headers["Location"] == "/applications"


def test_the_menu_shows_each_reader_only_their_links_in_order(app, cast):  # type: ignore[no-untyped-def]
    from tests.support.pages import log_in

    def menu(user) -> list[str]:  # type: ignore[no-untyped-def]
        page = log_in(app, user).get("/applications").text
        nav = page[page.index('<nav class="nav"') : page.index("</nav>")]
        found = [f'href="{href}"' for href in ("/desk", "/applications", "/assignments", "/experts")]
        return [link[6:-1] for link in sorted((f for f in found if f in nav), key=nav.index)]

    assert menu(cast.applicant) == ["/applications"]
    assert menu(cast.district_reviewer) == ["/desk", "/applications"]
    assert menu(cast.expert) == ["/desk", "/applications", "/assignments"]
    assert menu(cast.agency_coordinator) == ["/desk", "/applications", "/experts"]
