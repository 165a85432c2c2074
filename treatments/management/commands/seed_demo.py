"""python manage.py seed_demo - demo users, cases and a meeting for trying NETcare on a development
machine.

The cases come from fixtures/demo_cases.yaml (fictional patients, references DEMO-00n), and one,
FHIR-DEMO-001, from the FHIR Bundle fixtures/fhir/demo-si-net-g2.json (its facts with their sources,
read as of the bundle's timestamp so that the demo does not age). Everything is
idempotent: users are reset to the demo password, a case whose hospital reference exists is left as
it is, a case is evaluated only when it has no evaluation or its latest one is out of date, the
upcoming "NET MDT" is reused, and a review is recorded only once. Every write goes through the
services, so the audit trail shows it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from treatments import roles, selectors, services
from treatments.inputs import CaseCreate, MeetingInput, ReviewInput
from treatments.models import Case, Meeting
from treatments.rules.profile import ModalityKey, error_list

DEMO_PASSWORD = "netcare-demo"
DEMO_USERS = (
    # username, first name, last name, role, staff
    ("clinician", "Clara", "Hughes", roles.CLINICIAN, False),
    ("coordinator", "Colin", "Reyes", roles.COORDINATOR, False),
    ("author", "Aisha", "Patel", roles.RULE_AUTHOR, True),
    ("admin", "Adam", "Novak", roles.ADMIN, True),
)
DEMO_CASES = Path(settings.BASE_DIR) / "fixtures" / "demo_cases.yaml"
DEMO_BUNDLE = Path(settings.BASE_DIR) / "fixtures" / "fhir" / "demo-si-net-g2.json"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_STRICT = ConfigDict(extra="forbid")


class DemoCase(CaseCreate):
    from_golden: str = Field(default="", description="The golden vignette the profile follows.")


class DemoMeeting(BaseModel):
    model_config = _STRICT
    title: str = Field(min_length=1, max_length=200)
    weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    cases: list[str]


class DemoReview(ReviewInput):
    case: str
    modality: ModalityKey


class DemoData(BaseModel):
    model_config = _STRICT
    cases: list[DemoCase]
    meeting: DemoMeeting
    reviews: list[DemoReview] = []


def demo_data(path: Path = DEMO_CASES) -> DemoData:
    """The demo file, validated with the same inputs as the pages and the API."""
    try:
        return DemoData.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from exc
    except PydanticValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))} {e['msg']}" for e in error_list(exc))
        raise CommandError(f"{path} is not valid: {problems}") from exc


def next_weekday(today: dt.date, weekday: str) -> dt.date:
    """The first such weekday after today (a week ahead when today is that day)."""
    days = (WEEKDAYS.index(weekday) - today.weekday()) % 7 or 7
    return today + dt.timedelta(days=days)


class Command(BaseCommand):
    help = (
        "Create the demo users, fictional demo cases (evaluated) and an upcoming MDT meeting "
        "(development only: refuses to run when DEBUG is off)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo creates users with a known password; it runs only with DEBUG=true.")
        users = self._users()
        data = demo_data()
        coordinator, clinician = users["coordinator"], users["clinician"]
        cases = self._cases(data, coordinator)
        cases.update(self._fhir_case(coordinator))
        self._evaluate(cases, coordinator)
        self._meeting(data.meeting, cases, coordinator)
        self._reviews(data.reviews, cases, clinician)

    def _users(self) -> dict[str, Any]:
        User = get_user_model()
        users = {}
        for username, first, last, role, staff in DEMO_USERS:
            user, _ = User.objects.update_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "is_staff": staff,
                    "is_superuser": role == roles.ADMIN,
                    "email": f"{username}@netcare.invalid",
                },
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
            user.groups.set([Group.objects.get_or_create(name=role)[0]])
            users[username] = user
        self.stdout.write(
            f"Demo users (log in at http://127.0.0.1:8000/login/ with password {DEMO_PASSWORD!r}):"
        )
        for username, first, last, role, _ in DEMO_USERS:
            self.stdout.write(f"  {username:<12} {first} {last}, {roles.ROLE_LABELS[role]}")
        return users

    def _cases(self, data: DemoData, actor: Any) -> dict[str, Case]:
        self.stdout.write("Demo cases (fictional patients):")
        cases = {}
        for item in data.cases:
            case = Case.objects.filter(hospital_reference=item.hospital_reference).first()
            if case is None:
                fields = item.model_dump(exclude={"from_golden"})
                case = services.case_create(actor=actor, data=CaseCreate.model_validate(fields))
                state = "created"
            else:
                state = "already there"
            cases[case.hospital_reference] = case
            self.stdout.write(f"  {case.hospital_reference}  {state:<13} {_short(case.question)}")
        return cases

    def _fhir_case(self, actor: Any) -> dict[str, Case]:
        """The demo case imported from a FHIR Bundle (hospital reference and NHS number from its
        Patient), as "New case from FHIR" would create it."""
        try:
            bundle = selectors.fhir_load(DEMO_BUNDLE.read_bytes())
            as_of = dt.date.fromisoformat(str(bundle.get("timestamp", ""))[:10])
            result = selectors.fhir_map(bundle, as_of=as_of)
        except (OSError, ValueError) as exc:  # FhirInputError is a ValueError
            raise CommandError(f"cannot read {DEMO_BUNDLE}: {exc}") from exc
        reference = next(i["value"] for i in result.patient["identifiers"] if i.get("type") == "MR")
        case = Case.objects.filter(hospital_reference=reference).first()
        state = "already there"
        if case is None:
            data = CaseCreate.model_validate(
                {
                    "hospital_reference": reference,
                    "nhs_number": result.patient.get("nhs_number") or "",
                    "referring_clinician": "Dr Fictional Example (FHIR demo)",
                    "question": "Imported from the EHR (FHIR): options after progression on lanreotide?",
                    "profile": result.profile,
                }
            )
            case = services.case_create_from_fhir(
                actor=actor, data=data, result=result, bundle_sha256=selectors.bundle_sha256(bundle)
            )
            state = "created"
        self.stdout.write(
            f"  {case.hospital_reference}  {state:<13} from {DEMO_BUNDLE.name} ({len(result.profile)} facts)"
        )
        return {case.hospital_reference: case}

    def _evaluate(self, cases: dict[str, Case], actor: Any) -> None:
        try:
            selectors.published_ruleset()
        except selectors.NoPublishedRuleSet:
            self.stdout.write("  Not evaluated: no rule set is published (run load_knowledge_base first).")
            return
        for reference, case in cases.items():
            latest = selectors.latest_evaluation(case)
            if case.is_archived or (latest is not None and not selectors.evaluation_staleness(latest, case)):
                continue
            evaluation = services.case_evaluate(actor=actor, case=case)
            statuses = selectors.evaluation_result(evaluation).statuses()
            candidates = sum(1 for status in statuses.values() if status == "candidate")
            self.stdout.write(
                f"  {reference}  evaluated with rule set {evaluation.ruleset_version}: "
                f"{candidates} candidate option{'s' if candidates != 1 else ''}"
            )

    def _meeting(self, spec: DemoMeeting, cases: dict[str, Case], actor: Any) -> None:
        today = timezone.localdate()
        meeting = Meeting.objects.filter(title=spec.title, date__gte=today).order_by("date", "id").first()
        if meeting is None:
            date = next_weekday(today, spec.weekday)
            meeting = services.meeting_create(actor=actor, data=MeetingInput(title=spec.title, date=date))
            state = "created"
        else:
            state = "already there"
        on_list = set(meeting.entries.values_list("case__hospital_reference", flat=True))
        added = []
        for reference in spec.cases:
            case = cases.get(reference)
            if case is None or case.is_archived or reference in on_list:
                continue
            services.meeting_add_case(actor=actor, meeting=meeting, case=case)
            added.append(reference)
        self.stdout.write(
            f"Meeting: {meeting} {state}, id {meeting.pk}" + (f"; added {', '.join(added)}" if added else "")
        )

    def _reviews(self, reviews: list[DemoReview], cases: dict[str, Case], actor: Any) -> None:
        for item in reviews:
            case = cases.get(item.case)
            evaluation = selectors.latest_evaluation(case) if case is not None else None
            if evaluation is None or item.modality in selectors.reviews_by_modality(evaluation):
                continue
            data = ReviewInput(decision=item.decision, reason_code=item.reason_code, note=item.note)
            services.option_review(actor=actor, evaluation=evaluation, modality=item.modality, data=data)
            self.stdout.write(f"Review: {item.case} {item.modality} {item.decision} ({actor.get_username()})")


def _short(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
