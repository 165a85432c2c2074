"""A check's result, shared and kept (UX review, Journey 1 and Top 10 item 6): the result's address
holds its facts (bookmarkable, never an identifier), a bad or old link shows the form with the
problems by the fields, "Save as case" turns a check into a case with its first evaluation (and a
place on an upcoming meeting), and two evaluations of a case are compared option by option."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import KB_VERSION
from tests.pages.helpers import form_data, golden, shown_options
from tests.pages.mdt import QUESTION, actions, create_case, create_meeting, field_error, from_tag, text
from treatments import selectors, services
from treatments.forms import MAX_RESULT_QUERY, PatientForm, profile_query
from treatments.forms.fields import DETAIL_MAX_ROWS, DETAIL_PARTS, detail_field_name
from treatments.inputs import CaseChange
from treatments.models import AuditEvent, Case, Evaluation, MeetingCase
from treatments.rules.profile import PatientProfile

pytestmark = pytest.mark.django_db

VIGNETTE = golden("01_si_g2_progressive_nhs")
PROFILE = PatientProfile.model_validate(VIGNETTE["profile"])
REFERENCE, NHS_NUMBER = "RX-4471", "9434765919"


def link(html: str, element_id: str) -> str:
    found = re.search(rf'<a href="([^"]*)"[^>]*id="{element_id}"', html)
    assert found, f"no link #{element_id}"
    return unescape(found.group(1))


def writes() -> list[str]:
    """The clinical writes in the audit trail (not logins or publications), oldest first."""
    return [action for action in actions() if action.startswith(("case.", "evaluation.", "meeting."))]


def save_post(**fields: Any) -> dict[str, Any]:
    return {
        "hospital_reference": REFERENCE,
        "nhs_number": "943 476 5919",
        "referring_clinician": "Dr A Khan, oncology",
        "question": QUESTION,
        "clinical_summary": "",
        "status": "draft",
        **fields,
    }


# --- the result's address -------------------------------------------------------------------------


def test_the_check_form_sends_the_facts_in_the_address(clinician_client: Client) -> None:
    html = clinician_client.get("/check/").content.decode()

    form = from_tag(html, 'class="patient-form"', 200)
    assert form.startswith('<form method="get" action="/check/" class="patient-form"')
    assert 'data-short-address="prior_therapies_known"' in form.partition(">")[0]
    assert "csrfmiddlewaretoken" not in from_tag(html, 'class="patient-form"', 100_000)


def test_a_result_link_shows_the_same_result_as_the_form(clinician_client: Client) -> None:
    posted = clinician_client.post("/check/", form_data(VIGNETTE["profile"])).content.decode()
    url = link(posted, "result-link")

    assert url == f"/check/?{profile_query(PROFILE)}"
    response = clinician_client.get(url)
    assert response.status_code == 200
    expected = {key: option.status for key, option in shown_options(posted).items()}
    assert {
        key: option.status for key, option in shown_options(response.content.decode()).items()
    } == expected
    assert {key: option.status for key, option in shown_options(posted).items()} == VIGNETTE["expect"] | {
        key: status for key, status in expected.items() if key not in VIGNETTE["expect"]
    }


def test_the_form_sent_by_get_with_every_field_is_a_result_too(clinician_client: Client) -> None:
    """What the browser sends from the check form: every field, the unknown ones included."""
    blank = clinician_client.get("/check/").content.decode()
    names = set(re.findall(r'name="([a-z0-9_]+)"', from_tag(blank, 'class="patient-form"', 200_000)))
    query = {name: "" for name in names} | form_data(VIGNETTE["profile"])

    response = clinician_client.get("/check/", query)

    assert response.status_code == 200
    assert len(urlencode(query, doseq=True)) < MAX_RESULT_QUERY, len(urlencode(query, doseq=True))
    assert link(response.content.decode(), "result-link") == f"/check/?{profile_query(PROFILE)}"


def test_the_form_with_every_prior_treatment_row_filled_still_fits_a_link(clinician_client: Client) -> None:
    """Without JavaScript the form sends every field; the longest realistic values still fit."""
    form = PatientForm(modality_names=selectors.published_ruleset().names)
    longest = {
        name: max((str(value) for value, _ in getattr(field, "choices", [])), key=len, default="120")
        for name, field in form.fields.items()
    }
    query: dict[str, Any] = {name: longest[name] for name in form.fields}
    query["prior_therapies"] = [key for key, _ in form.fields["prior_therapies"].choices]  # type: ignore[attr-defined]
    for row in range(DETAIL_MAX_ROWS):
        for part in DETAIL_PARTS:
            query[detail_field_name(row, part)] = longest[detail_field_name(0, part)]

    assert len(urlencode(query, doseq=True)) < MAX_RESULT_QUERY, len(urlencode(query, doseq=True))


def test_a_link_keeps_unknown_none_and_the_prior_treatments_apart(clinician_client: Client) -> None:
    profiles: list[dict[str, Any]] = [
        {},
        {"prior_therapies": []},
        {"prior_therapies": ["ssta"]},
        {"sstr_imaging": "positive"},
    ]
    for profile in profiles:
        query = profile_query(PatientProfile.model_validate(profile))
        assert query  # /check/ alone is the empty form, so even "all unknown" has a query
        html = clinician_client.get(f"/check/?{query}").content.decode()
        assert link(html, "result-link") == f"/check/?{query}"
        base = re.search(r'<input type="hidden" name="base" value="([^"]*)"', html)
        assert base and PatientProfile.model_validate_json(unescape(base.group(1))) == PatientProfile(
            **profile
        )


def test_a_link_never_holds_an_identifier(clinician_client: Client) -> None:
    html = clinician_client.post("/check/", form_data(VIGNETTE["profile"])).content.decode()

    for href in re.findall(r'href="([^"]*)"', html):
        keys = parse_qs(unescape(href).partition("?")[2]).keys()
        assert not keys & {"hospital_reference", "nhs_number", "referring_clinician", "question"}


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("ki67_percent=900", "id_ki67_percent", "Ki-67 index must be at most 100 %"),
        ("primary_site=spleen", "id_primary_site", "choose one of the listed values"),
        ("ecog=two", "id_ecog", ""),
    ],
)
def test_a_bad_value_in_a_link_shows_the_form_with_the_message_by_its_field(
    clinician_client: Client, query: str, field: str, message: str
) -> None:
    response = clinician_client.get(f"/check/?{query}")

    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem with the facts entered" in html
    assert message in field_error(html, field)


@pytest.mark.parametrize(
    "query", ["shoe_size=44", "hospital_reference=RX-4471", "nhs_number=9434765919&primary_site=pancreas"]
)
def test_a_link_naming_what_is_not_a_fact_is_refused_not_read_as_unknown(
    clinician_client: Client, query: str
) -> None:
    response = clinician_client.get(f"/check/?{query}")

    assert response.status_code == 400
    name = query.partition("=")[0]
    assert f"The link names “{name}”, which is not a fact of this form" in text(response.content.decode())
    assert '<section class="status-group' not in response.content.decode()


def test_a_link_too_long_to_be_a_result_is_refused_with_a_message(clinician_client: Client) -> None:
    response = clinician_client.get(
        "/check/?" + urlencode({"primary_site": "pancreas" + "x" * MAX_RESULT_QUERY})
    )

    assert response.status_code == 400
    assert "This link is longer than any NETcare result link" in text(response.content.decode())


def test_rubbish_links_never_give_a_server_error(clinician_client: Client) -> None:
    for query in (
        "%ff%fe=%00",
        "ki67_percent=1e400",
        "prior_therapies=given&prior_therapies_known=maybe",
        "a" * 3000,
    ):
        assert clinician_client.get(f"/check/?{query}").status_code == 400, query


# --- save as case ---------------------------------------------------------------------------------


def test_save_as_case_asks_for_the_identifiers_and_shows_the_checked_facts(clinician_client: Client) -> None:
    result = clinician_client.get(f"/check/?{profile_query(PROFILE)}").content.decode()
    url = link(result, "save-as-case")

    assert url == f"/check/save/?{profile_query(PROFILE)}"
    html = clinician_client.get(url).content.decode()
    assert "<h1>Save this check as a case</h1>" in html
    assert f'<form method="post" action="/check/save/?{profile_query(PROFILE)}"'.replace("&", "&amp;") in html
    for name in ("hospital_reference", "nhs_number", "referring_clinician", "question"):
        assert f'name="{name}"' in html
    assert "<dt>Ki-67 index</dt><dd>8 %</dd>" in html.replace("\n", "")


def test_save_as_case_creates_the_case_with_the_facts_and_its_first_evaluation(
    clinician_client: Client, clinician: User
) -> None:
    response = clinician_client.post(f"/check/save/?{profile_query(PROFILE)}", save_post())

    case = Case.objects.get(hospital_reference=REFERENCE)
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert case.facts == PROFILE and case.nhs_number == NHS_NUMBER and case.created_by == clinician
    evaluation = Evaluation.objects.get(case=case)
    assert evaluation.ruleset_version == KB_VERSION
    assert {key: status for key, _, status in evaluation.options()} == {
        verdict.modality.key: verdict.status for verdict in evaluation.stored_result().verdicts
    }
    assert writes() == ["case.create", "evaluation.create"]
    page = clinician_client.get(response["Location"]).content.decode()
    assert f"{REFERENCE}" in page and "created from the check" in page


def test_save_as_case_puts_the_case_on_the_meeting_chosen(clinician_client: Client, clinician: User) -> None:
    past = create_meeting(clinician, "Last week's MDT", days=-7)
    meeting = create_meeting(clinician, "Tuesday NET MDT", days=5)
    html = clinician_client.get(f"/check/save/?{profile_query(PROFILE)}").content.decode()
    assert f'<option value="{meeting.pk}">Tuesday NET MDT' in html
    assert f'<option value="{past.pk}"' not in html  # only upcoming meetings

    response = clinician_client.post(
        f"/check/save/?{profile_query(PROFILE)}", save_post(meeting=str(meeting.pk))
    )

    case = Case.objects.get(hospital_reference=REFERENCE)
    assert response.status_code == 302
    assert MeetingCase.objects.filter(meeting=meeting, case=case).exists()
    assert writes() == [
        "meeting.create",
        "meeting.create",
        "case.create",
        "evaluation.create",
        "meeting.add_case",
    ]


def test_save_as_case_problems_are_shown_by_their_fields_and_nothing_typed_is_lost(
    clinician_client: Client, clinician: User
) -> None:
    meeting = create_meeting(clinician)
    posted = save_post(
        hospital_reference="", nhs_number="123 456 7890", question="What next?", meeting=str(meeting.pk)
    )

    response = clinician_client.post(f"/check/save/?{profile_query(PROFILE)}", posted)

    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem" in html
    assert "Hospital reference" in field_error(html, "id_hospital_reference")
    assert "NHS number" in field_error(html, "id_nhs_number")
    assert 'value="123 456 7890"' in html and "What next?</textarea>" in html
    assert f'<option value="{meeting.pk}" selected>' in html
    assert not Case.objects.exists() and writes() == ["meeting.create"]


def test_a_reference_already_used_is_refused_on_its_field_and_nothing_is_created(
    clinician_client: Client, clinician: User
) -> None:
    create_case(clinician, REFERENCE)
    meeting = create_meeting(clinician)

    response = clinician_client.post(
        f"/check/save/?{profile_query(PROFILE)}",
        save_post(meeting=str(meeting.pk), clinical_summary="Seen in clinic"),
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert REFERENCE in field_error(html, "id_hospital_reference")
    assert "Seen in clinic</textarea>" in html
    assert Case.objects.count() == 1 and not Evaluation.objects.exists() and not MeetingCase.objects.exists()


def test_a_meeting_that_is_not_offered_is_refused_by_its_field(
    clinician_client: Client, clinician: User
) -> None:
    past = create_meeting(clinician, days=-1)

    response = clinician_client.post(
        f"/check/save/?{profile_query(PROFILE)}", save_post(meeting=str(past.pk))
    )

    assert response.status_code == 400
    assert "choose one of the listed meetings" in field_error(response.content.decode(), "id_meeting")
    assert not Case.objects.exists()


def test_a_bad_link_to_save_shows_the_check_form_with_its_problems(clinician_client: Client) -> None:
    for query in ("ki67_percent=900", "shoe_size=1"):
        response = clinician_client.get(f"/check/save/?{query}")
        assert response.status_code == 400
        assert "<h1>Check a patient</h1>" in response.content.decode()
        assert clinician_client.post(f"/check/save/?{query}", save_post()).status_code == 400
    assert not Case.objects.exists()


def test_only_roles_that_create_cases_may_save_a_check(
    author_client: Client, coordinator_client: Client, clinician: User
) -> None:
    query = profile_query(PROFILE)
    result = author_client.get(f"/check/?{query}").content.decode()  # a rule author may check ...
    assert 'id="save-as-case"' not in result
    assert author_client.get(f"/check/save/?{query}").status_code == 403  # ... but not save
    assert author_client.post(f"/check/save/?{query}", save_post()).status_code == 403
    assert not Case.objects.exists()

    assert 'id="save-as-case"' in coordinator_client.get(f"/check/?{query}").content.decode()
    assert coordinator_client.post(f"/check/save/?{query}", save_post()).status_code == 302
    assert AuditEvent.objects.filter(action="case.create").count() == 1


def test_a_visitor_is_sent_to_log_in(client: Client, published: object) -> None:
    for url in ("/check/?ecog=1", "/check/save/?ecog=1"):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


# --- two evaluations side by side -------------------------------------------------------------


def evaluated_under_two_rule_sets(
    actor: User, reference: str, capture: Any, **changes: Any
) -> tuple[Case, Evaluation, Evaluation]:
    """A pancreatic NET (Krenning score unknown) evaluated with the knowledge base, then with its
    facts changed evaluated again under rule set 9.9.9."""
    from tests.pages.test_case_pages import publish_new_version

    vignette = golden("34_missing_krenning_pnet")
    case = create_case(actor, reference, vignette["profile"])
    first = services.case_evaluate(actor=actor, case=case)
    profile = PatientProfile.model_validate({**vignette["profile"], **changes})
    case = services.case_update(actor=actor, case=case, data=CaseChange(version=1, profile=profile))
    with capture(execute=True):  # the publication forgets the cached rule set
        publish_new_version("9.9.9")
    return case, first, services.case_evaluate(actor=actor, case=case)


def test_two_evaluations_under_different_rule_sets_are_compared_option_by_option(
    clinician_client: Client, clinician: User, django_capture_on_commit_callbacks: Any
) -> None:
    case, first, second = evaluated_under_two_rule_sets(
        clinician, "NET-2001", django_capture_on_commit_callbacks, krenning_score=3
    )

    response = clinician_client.get(f"/cases/{case.pk}/changes/?before={second.pk}&after={first.pk}")

    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(
        rf'<option value="{first.pk}" selected>#1: \d\d \w+ \d{{4}}, \d\d:\d\d:\d\d, rule set {KB_VERSION}',
        html,
    )
    table = from_tag(html, 'id="comparison-table"', 200_000)
    table = table[: table.index("</table>")]
    assert re.search(
        rf'<th scope="col">#1: [^<]*rule set {KB_VERSION}</th><th scope="col">#2: [^<]*rule set 9\.9\.9</th>',
        table,
    )
    rows = dict(re.findall(r'data-modality="([a-z0-9_]+)" data-changed="(\w+)"', table))
    assert len(rows) == len(first.option_keys()) and rows["prrt_lu177"] == "true"
    assert [key for key, changed in rows.items() if changed == "true"] == ["prrt_lu177"]
    prrt = text(from_tag(table, 'data-modality="prrt_lu177"', 5000).split("</tr>")[0])
    assert "Changed" in prrt and "Needs data" in prrt and "Candidate" in prrt
    assert "Uptake at least equal to liver" in prrt and "this patient: Krenning score: 3" in prrt


def test_a_comparison_of_an_evaluation_with_itself_is_refused_by_the_field(
    clinician_client: Client, clinician: User
) -> None:
    case = create_case(clinician, "NET-2001", {"ecog": 1})
    first = services.case_evaluate(actor=clinician, case=case)
    case = services.case_update(
        actor=clinician, case=case, data=CaseChange(version=1, profile=PatientProfile(ecog=2))
    )
    services.case_evaluate(actor=clinician, case=case)

    for query in (f"before={first.pk}&after={first.pk}", "before=x&after=1", "before=999999"):
        response = clinician_client.get(f"/cases/{case.pk}/changes/?{query}")
        assert response.status_code == 400, query
        assert 'id="comparison-table"' not in response.content.decode()
