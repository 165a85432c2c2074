"""Who may open which page: login first (redirect), then the role's capability (403)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import KB_VERSION
from tests.pages.conftest import logged_in

PAGES = ["/", "/catalogue/", "/catalogue/prrt_lu177/", "/check/"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES)
def test_every_page_sends_a_visitor_to_the_login_page(client: Client, published: object, url: str) -> None:
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"


@pytest.mark.django_db
def test_what_if_sends_a_visitor_to_the_login_page(client: Client, published: object) -> None:
    response = client.post("/check/what-if/", {"base": "{}"})

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_the_login_page_opens_and_logs_the_clinician_in(client: Client, clinician: object) -> None:
    page = client.get("/login/?next=/catalogue/")
    assert page.status_code == 200
    assert b'<label for="id_username">Username</label>' in page.content

    response = client.post(
        "/login/", {"username": "dr_hughes", "password": "correct-horse-battery", "next": "/catalogue/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/catalogue/"


@pytest.mark.django_db
def test_a_wrong_password_says_so_and_stays_on_the_login_page(client: Client, clinician: object) -> None:
    response = client.post("/login/", {"username": "dr_hughes", "password": "wrong"})

    assert response.status_code == 200
    assert "did not match" in response.content.decode()


@pytest.mark.django_db
def test_logging_out_ends_the_session(clinician_client: Client) -> None:
    response = clinician_client.post("/logout/")

    assert response.status_code == 302
    assert clinician_client.get("/check/").status_code == 302


@pytest.mark.parametrize("url", PAGES)
def test_the_clinician_opens_every_page(clinician_client: Client, url: str) -> None:
    assert clinician_client.get(url).status_code == 200


@pytest.mark.parametrize("url", ["/", "/catalogue/", "/catalogue/ssta/"])
def test_the_administrator_may_browse_the_catalogue(admin_client_: Client, url: str) -> None:
    assert admin_client_.get(url).status_code == 200


def test_the_administrator_may_not_check_patients(admin_client_: Client) -> None:
    response = admin_client_.get("/check/")

    assert response.status_code == 403
    assert "You cannot open this page" in response.content.decode()
    assert admin_client_.post("/check/what-if/", {"base": "{}"}).status_code == 403


def test_the_administrator_is_not_offered_the_patient_check(admin_client_: Client) -> None:
    html = admin_client_.get("/catalogue/").content.decode()

    assert 'href="/catalogue/"' in html
    assert 'href="/check/"' not in html


@pytest.mark.parametrize("url", ["/catalogue/", "/catalogue/ssta/", "/check/"])
def test_a_user_without_a_role_gets_a_403_page(roleless_client: Client, url: str) -> None:
    response = roleless_client.get(url)

    assert response.status_code == 403
    assert "Your role does not allow this" in response.content.decode()


@pytest.mark.parametrize("role", ["coordinator", "rule_author"])
def test_coordinators_and_rule_authors_may_check_patients(
    request: pytest.FixtureRequest, published: object, role: str
) -> None:
    client = logged_in(request.getfixturevalue(role))

    assert client.get("/check/").status_code == 200


def test_the_header_names_the_user_and_role_and_every_page_has_the_disclaimer_and_version(
    clinician_client: Client,
) -> None:
    for url in PAGES:
        html = clinician_client.get(url).content.decode()
        assert '<span class="user-name">Clara Hughes</span>' in html
        assert '<span class="user-role">Clinician</span>' in html
        assert "to support, and not replace, the judgement of the multidisciplinary team" in html
        assert f"Rule set in force: <strong>version {KB_VERSION}</strong>" in html
        assert '<a class="skip-link" href="#main">' in html
        assert '<main id="main"' in html


def test_the_current_page_is_marked_in_the_navigation(clinician_client: Client) -> None:
    html = clinician_client.get("/catalogue/").content.decode()

    assert '<a href="/catalogue/" aria-current="page">Catalogue</a>' in html


def test_static_assets_are_served_from_our_own_files(clinician_client: Client) -> None:
    html = clinician_client.get("/").content.decode()

    assert "/static/django_htmx/htmx-2.min.js" in html
    assert "/static/css/netcare.css" in html
    assert '/static/css/print.css" media="print"' in html
    assert "//cdn" not in html and "unpkg" not in html and "jsdelivr" not in html


def test_what_if_only_accepts_posts(clinician_client: Client) -> None:
    assert clinician_client.get("/check/what-if/").status_code == 405


def test_the_patient_check_answers_503_until_a_rule_set_is_published(
    clinician: object, no_knowledge_base: None
) -> None:
    client = logged_in(clinician)  # type: ignore[arg-type]

    response = client.get("/check/")

    assert response.status_code == 503
    assert "No rule set has been published yet" in response.content.decode()


def test_an_unknown_page_is_a_404_page(clinician_client: Client) -> None:
    response = clinician_client.get("/catalogue/no_such_option/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_the_catalogue_says_when_no_rule_set_is_published(clinician: object, no_knowledge_base: None) -> None:
    client = logged_in(clinician)  # type: ignore[arg-type]

    response = client.get("/catalogue/")

    assert response.status_code == 200
    assert "No rule set has been published yet" in response.content.decode()
