"""The case pages: the list, create and edit (with the patient facts and edit conflicts), the case
page with its latest evaluation, staleness, reviews (and review conflicts), the evaluation history
and what changed, archiving, and who may do what. Every write leaves its audit event."""

from __future__ import annotations

import html as htmlmod
import re
from typing import Any

import pytest
import yaml
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import KB_VERSION, KNOWLEDGE_BASE
from tests.pages.conftest import logged_in
from tests.pages.helpers import golden, shown_options
from tests.pages.mdt import (
    QUESTION,
    actions,
    case_post,
    create_case,
    evaluated_case,
    field_error,
    from_tag,
    text,
)
from treatments import selectors, services
from treatments.inputs import CaseChange
from treatments.models import AuditEvent, Case, Evaluation, Review
from treatments.rules.document import parse_data
from treatments.rules.profile import FACT_NAMES, PatientProfile

pytestmark = pytest.mark.django_db


def case_urls(case: Case) -> list[str]:
    evaluation = case.evaluations.first()
    urls = [
        "/cases/",
        "/cases/new/",
        f"/cases/{case.pk}/",
        f"/cases/{case.pk}/edit/",
        f"/cases/{case.pk}/archive/",
        f"/cases/{case.pk}/changes/",
    ]
    if evaluation is not None:
        urls.append(f"/cases/{case.pk}/evaluations/{evaluation.pk}/")
    return urls


def publish_new_version(knowledge_base_version: str = "9.9.9") -> None:
    """Publish the same knowledge base under a newer version (as a rule author would)."""
    content = yaml.safe_load(KNOWLEDGE_BASE.read_text(encoding="utf-8"))
    content["version"] = knowledge_base_version
    services.ruleset_publish(knowledge_base=parse_data(content))


# --- who may open what ------------------------------------------------------------------------


def test_every_case_page_sends_a_visitor_to_the_login_page(
    client: Client, clinician: User, published: object
) -> None:
    case = evaluated_case(clinician)

    for url in case_urls(case):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/?next="), url
    evaluation = case.evaluations.get()
    for url in (
        f"/cases/{case.pk}/evaluate/",
        f"/cases/{case.pk}/evaluations/{evaluation.pk}/review/ssta/",
        f"/cases/{case.pk}/archive/",
    ):
        assert client.post(url)["Location"].startswith("/login/"), url
    assert Evaluation.objects.count() == 1 and not Review.objects.exists()


@pytest.mark.parametrize("persona", ["author_client", "admin_client_", "roleless_client"])
def test_roles_without_access_to_cases_get_403_on_every_case_page(
    request: pytest.FixtureRequest, clinician: User, persona: str
) -> None:
    client: Client = request.getfixturevalue(persona)
    case = evaluated_case(clinician)
    evaluation = case.evaluations.get()

    for url in case_urls(case):
        assert client.get(url).status_code == 403, url
    assert client.post("/cases/new/", case_post()).status_code == 403
    assert client.post(f"/cases/{case.pk}/evaluate/").status_code == 403
    assert client.post(f"/cases/{case.pk}/archive/").status_code == 403
    review = {"ssta-decision": "accept", "ssta-reason_code": "clinically_appropriate"}
    assert (
        client.post(f"/cases/{case.pk}/evaluations/{evaluation.pk}/review/ssta/", review).status_code == 403
    )
    assert Case.objects.count() == 1 and Evaluation.objects.count() == 1 and not Review.objects.exists()
    assert case.archived_at is None


def test_the_coordinator_prepares_cases_but_may_not_review_options(
    coordinator_client: Client, coordinator: User
) -> None:
    case = evaluated_case(coordinator)
    evaluation = case.evaluations.get()

    page = coordinator_client.get(f"/cases/{case.pk}/").content.decode()
    response = coordinator_client.post(
        f"/cases/{case.pk}/evaluations/{evaluation.pk}/review/ssta/",
        {"ssta-decision": "accept", "ssta-reason_code": "clinically_appropriate"},
    )

    assert response.status_code == 403
    assert not Review.objects.exists()
    assert "Review this option" not in page and 'class="review-form"' not in page
    assert "Edit case" in page and "Evaluate now" in page and "Archive…" in page


def test_the_header_offers_cases_and_meetings_only_to_roles_that_may_use_them(
    clinician_client: Client, author_client: Client
) -> None:
    clinician_page = clinician_client.get("/").content.decode()
    author_page = author_client.get("/").content.decode()

    assert '<a href="/cases/"' in clinician_page and '<a href="/meetings/"' in clinician_page
    assert "/cases/" not in author_page and "/meetings/" not in author_page
    assert (
        '<a href="/cases/" aria-current="page">Cases</a>' in clinician_client.get("/cases/").content.decode()
    )


# --- the list ---------------------------------------------------------------------------------


def test_the_list_shows_active_cases_and_filters_by_status_and_words(
    clinician_client: Client, clinician: User
) -> None:
    create_case(clinician, "NET-1001", question="Liver-directed therapy for SI-NET?", status="ready")
    create_case(clinician, "NET-1002", question="PRRT for bronchial NET?")
    archived = create_case(clinician, "NET-1003", question="Old case")
    services.case_archive(actor=clinician, case=archived)

    everything = clinician_client.get("/cases/").content.decode()
    ready = clinician_client.get("/cases/?status=ready").content.decode()
    searched = clinician_client.get("/cases/?q=bronchial").content.decode()
    archive = clinician_client.get("/cases/?archived=on").content.decode()

    assert "NET-1001" in everything and "NET-1002" in everything and "NET-1003" not in everything
    assert "2 cases." in text(everything)
    assert "NET-1001" in ready and "NET-1002" not in ready
    assert "NET-1002" in searched and "NET-1001" not in searched
    assert "NET-1003" in archive and "NET-1001" not in archive
    assert "<caption" in everything and '<th scope="col">Reference</th>' in everything


def test_a_bad_filter_value_is_ignored_with_a_message_not_an_error(clinician_client: Client) -> None:
    response = clinician_client.get("/cases/?status=bogus&page=zzz")

    assert response.status_code == 200
    assert "Choose one of the listed statuses" in response.content.decode()


# --- create and edit --------------------------------------------------------------------------


def test_a_case_created_through_the_form_keeps_its_facts_and_unknowns(
    clinician_client: Client, clinician: User
) -> None:
    profile = golden("34_missing_krenning_pnet")["profile"]

    response = clinician_client.post(
        "/cases/new/", case_post(profile, hospital_reference="NET-2001", nhs_number="943 476 5919")
    )

    case = Case.objects.get(hospital_reference="NET-2001")
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert case.nhs_number == "9434765919"
    assert case.profile == PatientProfile.model_validate(profile).known_facts()
    assert "krenning_score" not in case.profile
    assert case.created_by == clinician and case.version == 1
    assert actions(object_type="case") == ["case.create"]
    page = clinician_client.get(response["Location"]).content.decode()
    assert "NET-2001 created." in page
    assert "943 476 5919" in page
    assert re.search(r'<div class="is-unknown"><dt>Krenning score</dt><dd>unknown</dd></div>', page)


def test_the_form_puts_each_problem_next_to_its_field_and_keeps_what_was_typed(
    clinician_client: Client,
) -> None:
    data = case_post(
        {"ki67_percent": 250, "primary_site": "pancreas"},
        hospital_reference="NET 2001!",
        nhs_number="123 456 7890",
        question="",
    )

    response = clinician_client.post("/cases/new/", data)

    html = response.content.decode()
    assert response.status_code == 400
    assert not Case.objects.exists()
    assert "letters, digits, / and -" in field_error(html, "id_hospital_reference")
    assert "check digit" in field_error(html, "id_nhs_number")
    assert "Question for the MDT must not be empty" in field_error(html, "id_question")
    assert "Ki-67 index must be at most 100 %" in field_error(html, "id_ki67_percent")
    assert 'value="NET 2001!"' in html and 'value="123 456 7890"' in html and 'value="250"' in html
    assert '<option value="pancreas" selected>' in html
    assert 'class="error-summary"' in html and 'href="#id_question"' in html
    assert 'aria-invalid="true"' in html
    assert "<title>Error: New case · NETcare</title>" in html


def test_a_hospital_reference_already_used_is_refused_on_its_field(
    clinician_client: Client, clinician: User
) -> None:
    create_case(clinician, "NET-2001")

    response = clinician_client.post("/cases/new/", case_post(hospital_reference="NET-2001"))

    assert response.status_code == 400
    assert "A case with hospital reference NET-2001 already exists" in field_error(
        response.content.decode(), "id_hospital_reference"
    )
    assert Case.objects.count() == 1


def test_editing_a_case_saves_the_fields_and_facts_and_raises_its_version(
    clinician_client: Client, clinician: User
) -> None:
    case = create_case(clinician, "NET-2001", golden("34_missing_krenning_pnet")["profile"])
    form = clinician_client.get(f"/cases/{case.pk}/edit/").content.decode()
    assert '<input type="hidden" name="version" value="1"' in form
    assert 'value="NET-2001"' in form

    profile = {**golden("34_missing_krenning_pnet")["profile"], "krenning_score": 3}
    response = clinician_client.post(
        f"/cases/{case.pk}/edit/",
        case_post(profile, hospital_reference="NET-2001", status="ready", version="1"),
    )

    case.refresh_from_db()
    assert response.status_code == 302
    assert case.version == 2 and case.status == "ready" and case.profile["krenning_score"] == 3
    event = AuditEvent.objects.get(action="case.update")
    assert event.payload["changed"]["status"] == {"from": "draft", "to": "ready"}


def test_an_edit_conflict_names_who_saved_first_keeps_the_typed_values_and_shows_the_saved_ones(
    coordinator: User, second_clinician: User, clinician_client: Client
) -> None:
    case = create_case(coordinator, "NET-2001", {"primary_site": "pancreas"})
    # Colin (coordinator) and Dr Hughes both open the form at version 1; Colin saves first.
    services.case_update(
        actor=coordinator,
        case=case,
        data=CaseChange(version=1, question="Colin's question", profile=PatientProfile(ki67_percent=5)),
    )

    response = clinician_client.post(
        f"/cases/{case.pk}/edit/",
        case_post(
            {"primary_site": "pancreas", "ki67_percent": 12},
            hospital_reference="NET-2001",
            question="My question",
            version="1",
        ),
    )

    html = response.content.decode()
    page = text(html)
    assert response.status_code == 409
    assert "was changed by Colin Reyes since you opened it" in page
    assert "Your changes were not saved" in page
    assert "My question" in html and 'value="12"' in html  # what Dr Hughes typed
    assert re.search(r"Question for the MDT</th><td>My question</td><td>Colin&#x27;s question</td>", html)
    assert re.search(r"Ki-67 index</th><td>12 %</td><td>5 %</td>", html)
    assert '<input type="hidden" name="version" value="2"' in html  # saving again is deliberate
    case.refresh_from_db()
    assert case.question == "Colin's question" and case.version == 2


def test_saving_again_after_a_conflict_replaces_the_saved_values(
    coordinator: User, clinician_client: Client
) -> None:
    case = create_case(coordinator, "NET-2001")
    services.case_update(actor=coordinator, case=case, data=CaseChange(version=1, question="Theirs"))

    response = clinician_client.post(
        f"/cases/{case.pk}/edit/", case_post(hospital_reference="NET-2001", question="Mine", version="2")
    )

    case.refresh_from_db()
    assert response.status_code == 302 and case.question == "Mine" and case.version == 3


def test_an_edit_without_a_version_is_refused_with_a_message(
    clinician_client: Client, clinician: User
) -> None:
    case = create_case(clinician, "NET-2001")

    response = clinician_client.post(f"/cases/{case.pk}/edit/", case_post(hospital_reference="NET-2001"))

    assert response.status_code == 400
    assert "The form is out of date: reload the page and try again." in response.content.decode()


# --- the case page: evaluation, staleness, history ------------------------------------------


def test_evaluate_now_stores_an_evaluation_and_shows_every_option_in_its_status_group(
    coordinator_client: Client, coordinator: User
) -> None:
    vignette = golden("34_missing_krenning_pnet")
    case = create_case(coordinator, "NET-2001", vignette["profile"])
    before = coordinator_client.get(f"/cases/{case.pk}/").content.decode()
    assert "Not evaluated yet" in before

    response = coordinator_client.post(f"/cases/{case.pk}/evaluate/")

    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/#options"
    evaluation = Evaluation.objects.get(case=case)
    assert evaluation.created_by == coordinator and evaluation.ruleset_version == KB_VERSION
    assert actions(action="evaluation.create") == ["evaluation.create"]
    html = coordinator_client.get(f"/cases/{case.pk}/").content.decode()
    options = shown_options(html)
    for modality, status in vignette["expect"].items():
        assert (options[modality].group, options[modality].status) == (status, status), modality
    assert f"with rule set <strong>version {KB_VERSION}</strong>" in html
    checklist = html[html.index('id="data-jobs"') :]
    assert 'data-fact="krenning_score"' in checklist
    assert f'href="/cases/{case.pk}/edit/#id_krenning_score"' in checklist
    assert "Out of date" not in text(html)
    assert '<span class="outcome outcome-unknown">' in html  # reasons with the patient's outcome
    assert "Source:" in html and "Evidence:" in html


def test_the_case_page_says_out_of_date_after_a_fact_changes(
    clinician_client: Client, clinician: User
) -> None:
    case = evaluated_case(clinician)
    services.case_update(
        actor=clinician,
        case=case,
        data=CaseChange(version=1, profile=PatientProfile(primary_site="pancreas")),
    )

    html = clinician_client.get(f"/cases/{case.pk}/").content.decode()

    banner = text(from_tag(html, 'class="banner banner-stale"', 1000))
    assert banner.startswith("Out of date: these options may no longer apply to the patient")
    assert "The patient's facts have changed since this evaluation." in banner


def test_the_case_page_says_out_of_date_after_a_newer_rule_set_is_published(
    clinician_client: Client, clinician: User, django_capture_on_commit_callbacks: Any
) -> None:
    case = evaluated_case(clinician)

    with django_capture_on_commit_callbacks(execute=True):  # the publication forgets the cached rules
        publish_new_version("9.9.9")

    html = text(clinician_client.get(f"/cases/{case.pk}/").content.decode())
    assert f"Rule set 9.9.9 has been published since (this evaluation used {KB_VERSION})." in html
    assert "facts have changed" not in html

    clinician_client.post(f"/cases/{case.pk}/evaluate/")
    again = text(clinician_client.get(f"/cases/{case.pk}/").content.decode())
    assert "Out of date" not in again and "version 9.9.9" in again


def test_a_past_evaluation_is_shown_exactly_as_it_was_made(clinician_client: Client, clinician: User) -> None:
    vignette = golden("34_missing_krenning_pnet")
    case = create_case(clinician, "NET-2001", vignette["profile"])
    first = services.case_evaluate(actor=clinician, case=case)
    services.case_update(
        actor=clinician,
        case=case,
        data=CaseChange(
            version=1, profile=PatientProfile.model_validate({**vignette["profile"], "krenning_score": 3})
        ),
    )
    case.refresh_from_db()
    services.case_evaluate(actor=clinician, case=case)

    old = clinician_client.get(f"/cases/{case.pk}/evaluations/{first.pk}/").content.decode()
    now = clinician_client.get(f"/cases/{case.pk}/").content.decode()

    assert shown_options(old)["prrt_lu177"].status == "needs_data"
    assert shown_options(now)["prrt_lu177"].status == "candidate"
    assert re.search(r'<div class="is-unknown"><dt>Krenning score</dt><dd>unknown</dd></div>', old)
    assert "A newer evaluation exists" in old
    assert "The patient&#x27;s facts have changed since this evaluation" in old


def test_what_changed_lists_the_options_whose_status_moved_and_why(
    clinician_client: Client, clinician: User
) -> None:
    vignette = golden("34_missing_krenning_pnet")
    case = create_case(clinician, "NET-2001", vignette["profile"])
    services.case_evaluate(actor=clinician, case=case)
    profile = PatientProfile.model_validate({**vignette["profile"], "krenning_score": 3})
    services.case_update(actor=clinician, case=case, data=CaseChange(version=1, profile=profile))
    case.refresh_from_db()
    services.case_evaluate(actor=clinician, case=case)
    history = clinician_client.get(f"/cases/{case.pk}/").content.decode()
    link = re.search(r'href="(/cases/\d+/changes/\?before=\d+&amp;after=\d+)"', history)
    assert link

    html = clinician_client.get(htmlmod.unescape(link.group(1))).content.decode()

    facts = text(from_tag(html, 'class="changed-facts"', 600))
    assert facts.startswith("Facts changed: Krenning score unknown")
    change = text(from_tag(html, 'class="status-change" data-modality="prrt_lu177"', 1200))
    assert "Needs data → now Candidate" in change
    assert 'id="option-prrt_lu177"' in html  # the changed option's card, with its reasons
    assert clinician_client.get(f"/cases/{case.pk}/changes/").status_code == 200


def test_what_changed_refuses_evaluations_of_another_case(clinician_client: Client, clinician: User) -> None:
    case = evaluated_case(clinician, "NET-2001")
    # A changed fact, so that the case has two evaluations (an unchanged case is not evaluated again).
    profile = PatientProfile.model_validate({**case.profile, "ecog": 2})
    case = services.case_update(actor=clinician, case=case, data=CaseChange(version=1, profile=profile))
    services.case_evaluate(actor=clinician, case=case)
    other = evaluated_case(clinician, "NET-2002")
    latest = case.evaluations.first()
    assert latest is not None

    response = clinician_client.get(
        f"/cases/{case.pk}/changes/?before={other.evaluations.get().pk}&after={latest.pk}"
    )

    assert response.status_code == 400
    assert "Choose one of the listed evaluations" in response.content.decode()


# --- reviews ----------------------------------------------------------------------------------


def review_url(case: Case, modality: str = "prrt_lu177") -> str:
    evaluation = selectors.latest_evaluation(case)
    assert evaluation is not None
    return f"/cases/{case.pk}/evaluations/{evaluation.pk}/review/{modality}/"


def test_a_clinician_reviews_an_option_and_the_page_shows_who_and_when(
    clinician_client: Client, clinician: User
) -> None:
    case = evaluated_case(clinician)

    response = clinician_client.post(
        review_url(case),
        {
            "prrt_lu177-decision": "accept",
            "prrt_lu177-reason_code": "clinically_appropriate",
            "prrt_lu177-note": "Discuss with nuclear medicine",
        },
    )

    assert response.status_code == 302 and response["Location"].endswith("#option-prrt_lu177")
    review = Review.objects.get()
    assert (review.modality, review.decision, review.reviewed_by) == ("prrt_lu177", "accept", clinician)
    assert actions(action="review.save") == ["review.save"]
    html = clinician_client.get(f"/cases/{case.pk}/").content.decode()
    card = html[html.index('id="option-prrt_lu177"') :]
    current = text(
        card[card.index('class="review-current') : card.index("</p>", card.index("review-current"))]
    )
    assert "Accept : clinically appropriate. “Discuss with nuclear medicine” (Clara Hughes" in current
    assert '<input type="hidden" name="prrt_lu177-version" value="1"' in card
    assert "Review saved." in html


def test_a_review_with_problems_is_refused_next_to_its_fields_and_kept(
    clinician_client: Client, clinician: User
) -> None:
    case = evaluated_case(clinician)

    missing = clinician_client.post(review_url(case), {"prrt_lu177-note": "thinking"})
    other = clinician_client.post(
        review_url(case), {"prrt_lu177-decision": "reject", "prrt_lu177-reason_code": "other"}
    )

    html = missing.content.decode()
    assert missing.status_code == 400
    assert "Decision is required" in field_error(html, "id_prrt_lu177-decision")
    assert "Reason is required" in field_error(html, "id_prrt_lu177-reason_code")
    assert "thinking</textarea>" in html
    assert re.search(r'<details class="review-details" open>', html)
    assert other.status_code == 400
    assert "Note is required when the reason is &#x27;other&#x27;" in field_error(
        other.content.decode(), "id_prrt_lu177-note"
    )
    assert not Review.objects.exists()


def test_a_review_conflict_shows_the_first_review_and_keeps_the_second_clinicians_text(
    clinician: User, second_clinician: User, published: object
) -> None:
    case = evaluated_case(clinician)
    hughes, okafor = logged_in(clinician), logged_in(second_clinician)
    # Both open the case page: no review yet, so both forms carry an empty version.
    for client in (hughes, okafor):
        assert (
            '<input type="hidden" name="prrt_lu177-version" id='
            in client.get(f"/cases/{case.pk}/").content.decode()
        )

    first = hughes.post(
        review_url(case),
        {
            "prrt_lu177-decision": "accept",
            "prrt_lu177-reason_code": "clinically_appropriate",
            "prrt_lu177-note": "Good uptake",
            "prrt_lu177-version": "",
        },
    )
    second = okafor.post(
        review_url(case),
        {
            "prrt_lu177-decision": "defer",
            "prrt_lu177-reason_code": "awaiting_data",
            "prrt_lu177-note": "Wait for the renal function",
            "prrt_lu177-version": "",
        },
    )

    assert first.status_code == 302
    html = second.content.decode()
    assert second.status_code == 409
    conflict = text(from_tag(html, 'id="review-prrt_lu177-conflict"', 1500))
    assert conflict.startswith(
        "Clara Hughes saved a review of this option first (accept, clinically appropriate)"
    )
    assert "Saved first: Accept , clinically appropriate: “Good uptake” (Clara Hughes" in conflict
    assert "Your review is kept in the form below" in conflict
    form = html[html.index('id="review-prrt_lu177"') :]
    assert "Wait for the renal function</textarea>" in form
    assert re.search(r'value="defer"[^>]*checked', form)
    assert '<input type="hidden" name="prrt_lu177-version" value="1"' in form
    review = Review.objects.get()
    assert (review.decision, review.note, review.reviewed_by) == ("accept", "Good uptake", clinician)
    assert actions(action="review.save") == ["review.save"]

    # Saving again, now knowingly against version 1, replaces the first review.
    again = okafor.post(
        review_url(case),
        {
            "prrt_lu177-decision": "defer",
            "prrt_lu177-reason_code": "awaiting_data",
            "prrt_lu177-note": "Wait for the renal function",
            "prrt_lu177-version": "1",
        },
    )
    assert again.status_code == 302
    assert Review.objects.get().reviewed_by == second_clinician


def test_a_review_posted_from_an_older_evaluation_is_not_saved(
    clinician_client: Client, clinician: User
) -> None:
    case = evaluated_case(clinician)
    old_url = review_url(case)
    profile = PatientProfile.model_validate({**case.profile, "ecog": 2})  # a newer evaluation needs news
    case = services.case_update(actor=clinician, case=case, data=CaseChange(version=1, profile=profile))
    services.case_evaluate(actor=clinician, case=case)

    response = clinician_client.post(
        old_url, {"prrt_lu177-decision": "accept", "prrt_lu177-reason_code": "clinically_appropriate"}
    )

    assert response.status_code == 409
    assert "A newer evaluation of this case was made since you opened the page" in response.content.decode()
    assert not Review.objects.exists()


def test_reviewing_an_option_the_evaluation_lacks_is_a_404(clinician_client: Client, clinician: User) -> None:
    case = evaluated_case(clinician)
    evaluation = case.evaluations.get()

    response = clinician_client.post(
        f"/cases/{case.pk}/evaluations/{evaluation.pk}/review/no_such_option/",
        {"no_such_option-decision": "accept"},
    )

    assert response.status_code == 404
    assert not Review.objects.exists()


# --- archiving --------------------------------------------------------------------------------


def test_archiving_asks_first_then_makes_the_case_read_only(
    clinician_client: Client, clinician: User
) -> None:
    case = evaluated_case(clinician)

    confirm = clinician_client.get(f"/cases/{case.pk}/archive/")
    assert confirm.status_code == 200
    assert "Archive case NET-1001?" in confirm.content.decode()
    case.refresh_from_db()
    assert case.archived_at is None

    response = clinician_client.post(f"/cases/{case.pk}/archive/")

    case.refresh_from_db()
    assert response.status_code == 302 and case.archived_at is not None
    assert actions(action="case.archive") == ["case.archive"]
    html = clinician_client.get(f"/cases/{case.pk}/").content.decode()
    assert "this case is read-only" in html
    for absent in ("Edit case", "Evaluate now", "Review this option", "Archive…", 'class="review-form"'):
        assert absent not in html, absent
    assert clinician_client.get(f"/cases/{case.pk}/edit/").status_code == 409
    assert clinician_client.post(f"/cases/{case.pk}/evaluate/").status_code == 409
    refused = clinician_client.post(
        review_url(case),
        {"prrt_lu177-decision": "accept", "prrt_lu177-reason_code": "clinically_appropriate"},
    )
    assert refused.status_code == 409 and "is archived" in refused.content.decode()
    assert Evaluation.objects.count() == 1 and not Review.objects.exists()
    assert "NET-1001" not in clinician_client.get("/cases/").content.decode()


# --- bad addresses ----------------------------------------------------------------------------


def test_unknown_ids_are_404_pages(clinician_client: Client, clinician: User) -> None:
    case = evaluated_case(clinician, "NET-2001")
    other = evaluated_case(clinician, "NET-2002")
    foreign = other.evaluations.get().pk

    for url in (
        "/cases/999999/",
        "/cases/999999/edit/",
        f"/cases/{case.pk}/evaluations/{foreign}/",
        f"/cases/{case.pk}/evaluations/999999/",
        "/cases/999999/summary/",
        "/cases/99999999999999999999/",  # beyond a 64-bit id
        f"/cases/{case.pk}/evaluations/99999999999999999999/",
    ):
        response = clinician_client.get(url)
        assert response.status_code == 404, url
        assert "Page not found" in response.content.decode()
    assert clinician_client.post("/cases/999999/evaluate/").status_code == 404
    assert (
        clinician_client.post(
            f"/cases/{case.pk}/evaluations/{foreign}/review/ssta/",
            {"ssta-decision": "accept", "ssta-reason_code": "other", "ssta-note": "x"},
        ).status_code
        == 404
    )


def test_writes_answer_only_to_posts(clinician_client: Client, clinician: User) -> None:
    case = evaluated_case(clinician)

    assert clinician_client.get(f"/cases/{case.pk}/evaluate/").status_code == 405
    assert clinician_client.get(review_url(case)).status_code == 405


def test_evaluating_before_any_rule_set_is_published_explains_instead_of_failing(
    clinician: User, no_knowledge_base: None
) -> None:
    case = create_case(clinician, "NET-2001")
    client = logged_in(clinician)

    response = client.post(f"/cases/{case.pk}/evaluate/")

    assert response.status_code == 503
    assert "No rule set has been published yet" in response.content.decode()
    assert client.get(f"/cases/{case.pk}/").status_code == 200


def test_the_question_and_the_case_fields_are_shown_with_the_nhs_number_in_groups(
    clinician_client: Client, clinician: User
) -> None:
    case = create_case(clinician, "NET-2001", nhs_number="9434765919", clinical_summary="Seen in clinic.")

    html = text(clinician_client.get(f"/cases/{case.pk}/").content.decode())

    assert "NHS number 943 476 5919" in html
    assert "Referring clinician Dr A Khan, oncology" in html
    assert f"Question for the MDT {QUESTION}" in html
    assert "Clinical summary Seen in clinic." in html
    assert "Status Draft" in html
    assert f"Patient facts (1 of {len(FACT_NAMES)} known)" in html  # funding always has a value
