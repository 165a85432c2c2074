"""The meeting pages: the list with its create form, and a meeting's worklist: cases in order with
their readiness, adding, removing and reordering cases, the MDT outcome per case (with conflicts)
and the meeting's concordance. Every write leaves its audit event."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from tests.pages.conftest import logged_in
from tests.pages.helpers import golden
from tests.pages.mdt import actions, create_case, create_meeting, evaluated_case, field_error, from_tag, text
from treatments import selectors, services
from treatments.inputs import CaseChange, OutcomeInput
from treatments.models import AuditEvent, Case, Meeting, MeetingCase, Outcome
from treatments.rules.profile import PatientProfile

pytestmark = pytest.mark.django_db


def worklist_order(html: str) -> list[str]:
    return re.findall(r'<a href="/cases/\d+/">Case ([A-Z0-9-]+)</a>', html[html.index('id="worklist"') :])


def outcome_post(case_pk: int, chosen: list[str], plan: str = "PRRT, four cycles", version: str = "") -> dict:
    """The outcome form as the page posts it, with the hidden id of the evaluation it shows."""
    prefix = f"case{case_pk}"
    shown = selectors.latest_evaluation(Case.objects.get(pk=case_pk))
    return {
        f"{prefix}-chosen_modalities": chosen,
        f"{prefix}-plan": plan,
        f"{prefix}-version": version,
        f"{prefix}-evaluation": str(shown.pk) if shown else "",
    }


@pytest.fixture
def meeting_with_cases(clinician: User, published: object) -> Meeting:
    """NET MDT next week: NET-1001 (evaluated, ready), NET-1002 (not evaluated), NET-1003 (evaluated,
    Krenning score unknown)."""
    meeting = create_meeting(clinician)
    ready = evaluated_case(clinician, "NET-1001")
    fresh = create_case(clinician, "NET-1002", golden("02_lung_progressive_nhs")["profile"])
    missing = evaluated_case(clinician, "NET-1003", "34_missing_krenning_pnet")
    for case in (ready, fresh, missing):
        services.meeting_add_case(actor=clinician, meeting=meeting, case=case)
    return meeting


# --- who may open what ------------------------------------------------------------------------


def test_every_meeting_page_sends_a_visitor_to_the_login_page(
    client: Client, meeting_with_cases: Meeting
) -> None:
    pk = meeting_with_cases.pk
    for url in ("/meetings/", f"/meetings/{pk}/", f"/meetings/{pk}/pack.pdf"):
        assert client.get(url)["Location"].startswith("/login/?next="), url
    for url in (
        "/meetings/new/",
        f"/meetings/{pk}/cases/",
        f"/meetings/{pk}/order/",
        f"/meetings/{pk}/edit/",
    ):
        assert client.post(url)["Location"].startswith("/login/"), url


@pytest.mark.parametrize("persona", ["author_client", "admin_client_"])
def test_rule_authors_and_administrators_get_403_on_meetings(
    request: pytest.FixtureRequest, meeting_with_cases: Meeting, persona: str
) -> None:
    client: Client = request.getfixturevalue(persona)
    meeting = meeting_with_cases
    case = meeting.entries.first().case  # type: ignore[union-attr]

    for url in ("/meetings/", f"/meetings/{meeting.pk}/", f"/meetings/{meeting.pk}/pack.pdf"):
        assert client.get(url).status_code == 403, url
    posts = {
        "/meetings/new/": {"title": "X", "date": "2030-01-01"},
        f"/meetings/{meeting.pk}/cases/": {"case": str(case.pk)},
        f"/meetings/{meeting.pk}/cases/{case.pk}/remove/": {},
        f"/meetings/{meeting.pk}/order/": {"cases": []},
        f"/meetings/{meeting.pk}/cases/{case.pk}/outcome/": outcome_post(case.pk, ["ssta"]),
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url
    assert Meeting.objects.count() == 1 and MeetingCase.objects.count() == 3 and not Outcome.objects.exists()


def test_the_coordinator_runs_the_list_but_may_not_record_outcomes(
    coordinator_client: Client, meeting_with_cases: Meeting
) -> None:
    case = meeting_with_cases.entries.first().case  # type: ignore[union-attr]

    html = coordinator_client.get(f"/meetings/{meeting_with_cases.pk}/").content.decode()
    response = coordinator_client.post(
        f"/meetings/{meeting_with_cases.pk}/cases/{case.pk}/outcome/", outcome_post(case.pk, ["ssta"])
    )

    assert response.status_code == 403 and not Outcome.objects.exists()
    assert "Record the outcome" not in html and 'class="outcome-form"' not in html
    assert "Move down" in html and "Add a case" in html and "Download meeting pack (PDF)" in html


# --- the list of meetings ---------------------------------------------------------------------


def test_the_meetings_page_lists_upcoming_and_past_meetings(
    clinician_client: Client, clinician: User
) -> None:
    create_meeting(clinician, "NET MDT", days=7)
    create_meeting(clinician, "Extra MDT", days=-14)

    html = clinician_client.get("/meetings/").content.decode()

    upcoming = html[html.index('id="upcoming-title"') : html.index('id="create-title"')]
    past = html[html.index('id="past-title"') :]
    assert "NET MDT" in upcoming and "Extra MDT" not in upcoming
    assert "Extra MDT" in past


def test_a_meeting_is_created_through_the_form(clinician_client: Client, clinician: User) -> None:
    date = timezone.localdate() + dt.timedelta(days=3)

    response = clinician_client.post("/meetings/new/", {"title": "NET MDT", "date": date.isoformat()})

    meeting = Meeting.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/meetings/{meeting.pk}/"
    assert (meeting.title, meeting.date, meeting.created_by) == ("NET MDT", date, clinician)
    assert actions(action="meeting.create") == ["meeting.create"]


def test_a_meeting_with_problems_is_refused_next_to_its_fields(clinician_client: Client) -> None:
    response = clinician_client.post("/meetings/new/", {"title": "", "date": "next thursday"})

    html = response.content.decode()
    assert response.status_code == 400 and not Meeting.objects.exists()
    assert "Title must not be empty" in field_error(html, "id_title")
    assert "Date must be a date as YYYY-MM-DD" in field_error(html, "id_date")
    assert 'value="next thursday"' in html


def test_a_meeting_title_and_date_can_be_changed(clinician_client: Client, clinician: User) -> None:
    meeting = create_meeting(clinician)

    response = clinician_client.post(
        f"/meetings/{meeting.pk}/edit/",
        {"meeting-title": "NET MDT (moved)", "meeting-date": "2031-02-06", "meeting-version": "1"},
    )
    bad = clinician_client.post(
        f"/meetings/{meeting.pk}/edit/", {"meeting-title": "", "meeting-date": "x", "meeting-version": "2"}
    )

    meeting.refresh_from_db()
    assert response.status_code == 302
    assert (meeting.title, meeting.date) == ("NET MDT (moved)", dt.date(2031, 2, 6))
    assert bad.status_code == 400 and "Title must not be empty" in bad.content.decode()
    assert actions(action="meeting.update") == ["meeting.update"]


# --- the worklist -----------------------------------------------------------------------------


def test_the_worklist_shows_the_cases_in_order_with_what_each_still_needs(
    clinician_client: Client, clinician: User, meeting_with_cases: Meeting
) -> None:
    ready = meeting_with_cases.entries.get(case__hospital_reference="NET-1001").case

    html = clinician_client.get(f"/meetings/{meeting_with_cases.pk}/").content.decode()

    assert worklist_order(html) == ["NET-1001", "NET-1002", "NET-1003"]
    first = text(from_tag(html, f'id="case-{ready.pk}"', 2500))
    assert "Prepared" in first.split("Question:")[0]
    second = text(from_tag(html, "Case NET-1002</a>", 1500))
    assert "Not evaluated" in second and "Evaluate now" in second
    third = text(from_tag(html, "Case NET-1003</a>", 3000))
    assert "Data to obtain (1)" in third
    assert "Krenning score would decide Peptide-receptor radionuclide therapy" in third
    assert "1 prepared" in text(html)


def test_the_worklist_says_out_of_date_when_the_facts_changed(
    clinician_client: Client, clinician: User, meeting_with_cases: Meeting
) -> None:
    ready = meeting_with_cases.entries.get(case__hospital_reference="NET-1001").case
    services.case_update(
        actor=clinician,
        case=ready,
        data=CaseChange(version=1, profile=PatientProfile(primary_site="pancreas")),
    )

    html = clinician_client.get(f"/meetings/{meeting_with_cases.pk}/").content.decode()

    row = text(from_tag(html, f'id="case-{ready.pk}"', 3000))
    assert "Out of date" in row
    assert "the patient's facts have changed since this evaluation" in row
    assert "Evaluate again" in row


def test_evaluating_from_the_worklist_comes_back_to_the_case_on_the_list(
    coordinator_client: Client, meeting_with_cases: Meeting
) -> None:
    fresh = meeting_with_cases.entries.get(case__hospital_reference="NET-1002").case

    response = coordinator_client.post(
        f"/cases/{fresh.pk}/evaluate/", {"next": f"/meetings/{meeting_with_cases.pk}/#case-{fresh.pk}"}
    )
    offsite = coordinator_client.post(f"/cases/{fresh.pk}/evaluate/", {"next": "https://example.org/"})

    assert response["Location"] == f"/meetings/{meeting_with_cases.pk}/#case-{fresh.pk}"
    assert offsite["Location"] == f"/cases/{fresh.pk}/#options"
    html = coordinator_client.get(f"/meetings/{meeting_with_cases.pk}/").content.decode()
    assert "Not evaluated" not in text(from_tag(html, f'id="case-{fresh.pk}"', 1500))


def test_a_case_is_added_from_the_active_cases_not_yet_on_the_list(
    clinician_client: Client, clinician: User, meeting_with_cases: Meeting
) -> None:
    extra = create_case(clinician, "NET-1004")
    archived = create_case(clinician, "NET-1005")
    services.case_archive(actor=clinician, case=archived)
    html = clinician_client.get(f"/meetings/{meeting_with_cases.pk}/").content.decode()
    choices = re.findall(r'<option value="(\d+)">', html[html.index('id="add-case"') :])
    assert choices == [str(extra.pk)]

    response = clinician_client.post(f"/meetings/{meeting_with_cases.pk}/cases/", {"case": str(extra.pk)})

    assert response.status_code == 302 and response["Location"].endswith(f"#case-{extra.pk}")
    page = clinician_client.get(f"/meetings/{meeting_with_cases.pk}/").content.decode()
    assert worklist_order(page) == ["NET-1001", "NET-1002", "NET-1003", "NET-1004"]
    assert "Every active case is on the list already." in page
    assert AuditEvent.objects.filter(action="meeting.add_case").count() == 4


def test_adding_a_case_that_is_not_offered_is_refused_on_the_field(
    clinician_client: Client, clinician: User, meeting_with_cases: Meeting
) -> None:
    on_list = meeting_with_cases.entries.first().case  # type: ignore[union-attr]

    again = clinician_client.post(f"/meetings/{meeting_with_cases.pk}/cases/", {"case": str(on_list.pk)})
    blank = clinician_client.post(f"/meetings/{meeting_with_cases.pk}/cases/", {"case": ""})
    nonsense = clinician_client.post(f"/meetings/{meeting_with_cases.pk}/cases/", {"case": "abc"})
    huge = clinician_client.post(f"/meetings/{meeting_with_cases.pk}/cases/", {"case": "9" * 20})

    assert again.status_code == 400
    assert "Case to add: choose one of the listed cases" in field_error(again.content.decode(), "id_case")
    assert blank.status_code == 400 and "Case to add is required" in blank.content.decode()
    assert nonsense.status_code == 400 and huge.status_code == 400
    assert MeetingCase.objects.filter(meeting=meeting_with_cases).count() == 3


def test_a_case_is_taken_off_the_list_unless_its_outcome_is_recorded(
    clinician_client: Client, clinician: User, meeting_with_cases: Meeting
) -> None:
    pk = meeting_with_cases.pk
    fresh = meeting_with_cases.entries.get(case__hospital_reference="NET-1002").case
    decided = meeting_with_cases.entries.get(case__hospital_reference="NET-1001").case
    services.outcome_record(
        actor=clinician,
        meeting=meeting_with_cases,
        case=decided,
        data=OutcomeInput(chosen_modalities=["ssta"], plan="SSA"),
    )

    removed = clinician_client.post(f"/meetings/{pk}/cases/{fresh.pk}/remove/")
    refused = clinician_client.post(f"/meetings/{pk}/cases/{decided.pk}/remove/")

    assert removed.status_code == 302
    assert refused.status_code == 409
    assert "The outcome for Case NET-1001 is recorded; it stays on the list." in refused.content.decode()
    assert worklist_order(clinician_client.get(f"/meetings/{pk}/").content.decode()) == [
        "NET-1001",
        "NET-1003",
    ]
    assert actions(action="meeting.remove_case") == ["meeting.remove_case"]
    assert clinician_client.post(f"/meetings/{pk}/cases/{fresh.pk}/remove/").status_code == 409


def test_move_up_and_move_down_reorder_the_list(
    clinician_client: Client, meeting_with_cases: Meeting
) -> None:
    pk = meeting_with_cases.pk
    html = clinician_client.get(f"/meetings/{pk}/").content.decode()
    third = meeting_with_cases.entries.get(case__hospital_reference="NET-1003").case
    form = from_tag(html, f'id="case-{third.pk}"', 8000)
    up = re.search(r'<form method="post" action="/meetings/\d+/order/"[^>]*>(.*?)</form>', form, re.S)
    assert up and "Move up" in up.group(1)
    order = re.findall(r'name="cases" value="(\d+)"', up.group(1))

    response = clinician_client.post(f"/meetings/{pk}/order/", {"cases": order, "moved": str(third.pk)})

    assert response.status_code == 302 and response["Location"].endswith(f"#case-{third.pk}")
    page = clinician_client.get(f"/meetings/{pk}/").content.decode()
    assert worklist_order(page) == ["NET-1001", "NET-1003", "NET-1002"]
    assert AuditEvent.objects.get(action="meeting.reorder").payload == {
        "order": ["NET-1001", "NET-1003", "NET-1002"]
    }
    first = text(from_tag(page, "Case NET-1001</a>", 3000))
    assert "Move down" in first and "Move up" not in first


def test_an_order_from_an_out_of_date_page_changes_nothing(
    clinician_client: Client, meeting_with_cases: Meeting
) -> None:
    pk = meeting_with_cases.pk
    ids = list(meeting_with_cases.entries.values_list("case_id", flat=True))

    partial = clinician_client.post(f"/meetings/{pk}/order/", {"cases": ids[:2]})
    garbage = clinician_client.post(f"/meetings/{pk}/order/", {"cases": ["x", "y"]})

    assert partial.status_code == 409 and garbage.status_code == 409
    assert "The list changed since you opened the page" in partial.content.decode()
    assert not AuditEvent.objects.filter(action="meeting.reorder").exists()


# --- outcomes and concordance -----------------------------------------------------------------


def test_a_clinician_records_the_outcome_and_sees_it_with_its_concordance(
    clinician_client: Client, clinician: User, meeting_with_cases: Meeting
) -> None:
    pk = meeting_with_cases.pk
    case = meeting_with_cases.entries.get(case__hospital_reference="NET-1001").case
    form = from_tag(clinician_client.get(f"/meetings/{pk}/").content.decode(), f'id="case-{case.pk}"', 40000)
    prrt = r'value="prrt_lu177"[^>]*>\s*<span>Peptide-receptor radionuclide therapy[^<]*'
    assert re.search(prrt + r'<span class="status status-candidate">', form)
    assert 'class="status status-not_suitable"' in form  # every option shows its status

    response = clinician_client.post(
        f"/meetings/{pk}/cases/{case.pk}/outcome/", outcome_post(case.pk, ["prrt_lu177"], "PRRT, four cycles")
    )

    assert response.status_code == 302 and response["Location"].endswith(f"#case-{case.pk}")
    outcome = Outcome.objects.get()
    assert (outcome.chosen_modalities, outcome.concordant, outcome.recorded_by) == (
        ["prrt_lu177"],
        True,
        clinician,
    )
    assert actions(action="outcome.record") == ["outcome.record"]
    html = clinician_client.get(f"/meetings/{pk}/").content.decode()
    row = text(from_tag(html, f'id="case-{case.pk}"', 60000))
    assert "Plan: PRRT, four cycles" in row
    assert "concordant: every option chosen was a candidate" in row
    assert "Recorded by Clara Hughes" in row
    assert "1 of 1 decision chose only candidate or trial-only options (100 %)." in text(html)


def test_concordance_counts_decisions_that_chose_only_candidates(
    clinician_client: Client, clinician: User, meeting_with_cases: Meeting
) -> None:
    pk = meeting_with_cases.pk
    first = meeting_with_cases.entries.get(case__hospital_reference="NET-1001").case
    third = meeting_with_cases.entries.get(case__hospital_reference="NET-1003").case
    clinician_client.post(f"/meetings/{pk}/cases/{first.pk}/outcome/", outcome_post(first.pk, ["ssta"]))
    clinician_client.post(
        f"/meetings/{pk}/cases/{third.pk}/outcome/",
        outcome_post(third.pk, ["prrt_lu177"], "PRRT once Krenning known"),
    )

    html = text(clinician_client.get(f"/meetings/{pk}/").content.decode())

    assert "1 of 2 decisions chose only candidate or trial-only options (50 %)." in html
    assert (
        "not concordant: an option chosen was neither a candidate nor trial only in the evaluation shown"
        in html
    )
    assert Outcome.objects.get(entry__case=third).statuses == {"prrt_lu177": "needs_data"}


def test_an_outcome_without_a_plan_or_with_a_foreign_option_is_refused_and_kept(
    clinician_client: Client, meeting_with_cases: Meeting
) -> None:
    pk = meeting_with_cases.pk
    case = meeting_with_cases.entries.get(case__hospital_reference="NET-1001").case

    blank = clinician_client.post(
        f"/meetings/{pk}/cases/{case.pk}/outcome/", outcome_post(case.pk, ["ssta"], "")
    )
    foreign = clinician_client.post(
        f"/meetings/{pk}/cases/{case.pk}/outcome/", outcome_post(case.pk, ["chemo_x"], "Plan")
    )

    html = blank.content.decode()
    assert blank.status_code == 400
    assert "Plan must not be empty" in field_error(html, f"id_case{case.pk}-plan")
    assert re.search(rf'name="case{case.pk}-chosen_modalities" value="ssta"[^>]*checked', html)
    assert foreign.status_code == 400
    assert "chemo_x is not an option of this evaluation" in foreign.content.decode()
    assert not Outcome.objects.exists()


def test_an_outcome_conflict_keeps_the_first_and_shows_the_second_what_happened(
    clinician: User, second_clinician: User, meeting_with_cases: Meeting
) -> None:
    pk = meeting_with_cases.pk
    case = meeting_with_cases.entries.get(case__hospital_reference="NET-1001").case
    hughes, okafor = logged_in(clinician), logged_in(second_clinician)

    first = hughes.post(f"/meetings/{pk}/cases/{case.pk}/outcome/", outcome_post(case.pk, ["ssta"], "SSA"))
    second = okafor.post(
        f"/meetings/{pk}/cases/{case.pk}/outcome/", outcome_post(case.pk, ["everolimus"], "Everolimus")
    )

    assert first.status_code == 302
    html = second.content.decode()
    assert second.status_code == 409
    assert "Clara Hughes recorded this outcome first; your change was not saved." in text(html)
    row = from_tag(html, f'id="case-{case.pk}"', 60000)
    assert "Plan: SSA" in text(row)  # theirs, as recorded
    assert "Everolimus</textarea>" in row  # mine, kept
    assert f'name="case{case.pk}-version" value="1"' in row
    assert Outcome.objects.get().plan == "SSA"


def test_a_case_not_evaluated_has_no_outcome_form_and_a_post_is_refused(
    clinician_client: Client, meeting_with_cases: Meeting
) -> None:
    pk = meeting_with_cases.pk
    fresh = meeting_with_cases.entries.get(case__hospital_reference="NET-1002").case
    html = clinician_client.get(f"/meetings/{pk}/").content.decode()

    response = clinician_client.post(
        f"/meetings/{pk}/cases/{fresh.pk}/outcome/", outcome_post(fresh.pk, [], "Wait")
    )

    row = text(from_tag(html, f'id="case-{fresh.pk}"', 4000))
    assert "The case must be evaluated before its outcome can be recorded." in row
    assert response.status_code == 409 and not Outcome.objects.exists()


def test_unknown_meetings_and_cases_not_on_the_list_are_404(
    clinician_client: Client, clinician: User, meeting_with_cases: Meeting
) -> None:
    stranger = evaluated_case(clinician, "NET-1009")

    assert clinician_client.get("/meetings/999999/").status_code == 404
    assert clinician_client.get("/meetings/99999999999999999999/").status_code == 404
    assert clinician_client.get("/meetings/999999/pack.pdf").status_code == 404
    response = clinician_client.post(
        f"/meetings/{meeting_with_cases.pk}/cases/{stranger.pk}/outcome/", outcome_post(stranger.pk, [], "x")
    )
    assert response.status_code == 404
    assert clinician_client.post(f"/meetings/{meeting_with_cases.pk}/cases/999999/remove/").status_code == 404


def test_a_tampered_version_is_reported_at_the_top_of_the_form(
    clinician_client: Client, meeting_with_cases: Meeting
) -> None:
    pk = meeting_with_cases.pk
    case = meeting_with_cases.entries.get(case__hospital_reference="NET-1001").case

    response = clinician_client.post(
        f"/meetings/{pk}/cases/{case.pk}/outcome/", outcome_post(case.pk, ["ssta"], "SSA", version="abc")
    )

    assert response.status_code == 400
    row = text(from_tag(response.content.decode(), f'id="case-{case.pk}"', 60000))
    assert "Error: The form is out of date: reload the page and try again." in row
    assert not Outcome.objects.exists()
