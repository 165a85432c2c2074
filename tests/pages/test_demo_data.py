"""seed_demo: fictional demo cases from fixtures/demo_cases.yaml, evaluated, on the next NET MDT in
order, with one review; idempotent, development only."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from treatments import selectors
from treatments.management.commands.seed_demo import demo_data, next_weekday
from treatments.models import AuditEvent, Case, Evaluation, Meeting, Review, nhs_number_is_valid

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_the_demo_file_holds_fictional_cases_only() -> None:
    data = demo_data()

    assert 4 <= len(data.cases) <= 5
    for case in data.cases:
        assert case.hospital_reference.startswith("DEMO-")
        assert case.nhs_number is not None
        assert case.nhs_number == "" or (
            case.nhs_number.startswith("999") and nhs_number_is_valid(case.nhs_number)
        )
        assert "fictional" in case.referring_clinician.lower()
    assert data.meeting.cases == [case.hospital_reference for case in data.cases]


def test_seed_demo_creates_evaluated_cases_on_the_next_thursday_meeting_with_a_review(
    settings: Any, published: object
) -> None:
    settings.DEBUG = True

    output = seed()

    cases = Case.objects.filter(hospital_reference__startswith="DEMO-")
    assert cases.count() == 5
    assert all(selectors.latest_evaluation(case) is not None for case in cases)
    from_fhir = Case.objects.get(hospital_reference="FHIR-DEMO-001")
    assert from_fhir.nhs_number == "9990000026"
    assert from_fhir.fact_sources["ecog"]["sources"][0]["ref"] == "Observation/ecog"
    assert selectors.latest_evaluation(from_fhir) is not None
    meeting = Meeting.objects.get(title="NET MDT")
    assert meeting.date.weekday() == 3 and 0 < (meeting.date - timezone.localdate()).days <= 7
    assert [entry.case.hospital_reference for entry in meeting.entries.order_by("position")] == [
        "DEMO-001",
        "DEMO-002",
        "DEMO-003",
        "DEMO-004",
        "DEMO-005",
    ]
    review = Review.objects.get()
    assert (review.evaluation.case.hospital_reference, review.modality) == ("DEMO-001", "prrt_lu177")
    assert "DEMO-003  created" in output and "evaluated with rule set" in output
    assert f"Meeting: {meeting} created" in output and "Review: DEMO-001 prrt_lu177 accept" in output
    latest = selectors.latest_evaluation(cases.get(hospital_reference="DEMO-002"))
    assert latest is not None
    statuses = selectors.evaluation_result(latest).statuses()
    assert statuses["prrt_lu177"] == "trial_only"  # bronchial NET on NHS funding


def test_seed_demo_run_twice_changes_nothing(settings: Any, published: object) -> None:
    settings.DEBUG = True
    seed()
    events = AuditEvent.objects.count()

    output = seed()

    assert AuditEvent.objects.count() == events
    assert Case.objects.count() == 6 and Evaluation.objects.count() == 6 and Meeting.objects.count() == 1
    assert Review.objects.count() == 1
    assert "already there" in output


def test_seed_demo_refuses_to_run_without_debug(settings: Any, db: None) -> None:
    settings.DEBUG = False

    with pytest.raises(CommandError, match="only with DEBUG=true"):
        seed()


@pytest.mark.parametrize(
    ("today", "expected"),
    [(dt.date(2026, 11, 25), dt.date(2026, 11, 26)), (dt.date(2026, 11, 26), dt.date(2026, 12, 3))],
)
def test_next_thursday_is_after_today(today: dt.date, expected: dt.date) -> None:
    assert next_weekday(today, "thursday") == expected
