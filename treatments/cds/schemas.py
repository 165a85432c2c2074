"""The bodies the CDS service accepts (CDS Hooks 2.0 §HTTP Request, §Feedback), strict pydantic
models: a malformed call is refused with 400 naming the field, never half-read."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

Text = Field(min_length=1, max_length=255)


class _Model(BaseModel):
    # Unknown elements are ignored, as CDS Hooks asks of a service (§Extensions, forward compatibility).
    model_config = ConfigDict(extra="ignore", frozen=True)


class FhirAuthorization(_Model):
    """The EHR's access token for its FHIR server: used for this call only, never stored or logged."""

    access_token: str = Field(min_length=1, max_length=10_000, repr=False)
    token_type: Literal["Bearer"]
    expires_in: int = Field(ge=0)
    scope: str = Field(min_length=1, max_length=4000)
    subject: str = Field(min_length=1, max_length=255)
    patient: str | None = Field(default=None, max_length=255)


class PatientViewContext(_Model):
    userId: str = Text  # noqa: N815 - the specification's names
    patientId: str = Text  # noqa: N815
    encounterId: str | None = Field(default=None, max_length=255)  # noqa: N815


class HookRequest(_Model):
    hook: str = Text
    hookInstance: str = Text  # noqa: N815
    fhirServer: str | None = Field(default=None, max_length=500)  # noqa: N815
    fhirAuthorization: FhirAuthorization | None = None  # noqa: N815
    context: PatientViewContext
    prefetch: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _server_with_token(self) -> HookRequest:
        # cds-r-1: an access token is only useful with the server it is for.
        if self.fhirAuthorization is not None and not self.fhirServer:
            raise ValueError("fhirAuthorization needs fhirServer")
        return self


class Coding(_Model):
    system: str | None = Field(default=None, max_length=255)
    code: str = Field(min_length=1, max_length=100)
    display: str | None = Field(default=None, max_length=255)


class OverrideReason(_Model):
    reason: Coding | None = None
    userComment: str | None = Field(default=None, min_length=1, max_length=2000)  # noqa: N815

    @model_validator(mode="after")
    def _reason_or_comment(self) -> OverrideReason:
        # cds-fb-3: an override reason says something.
        if self.reason is None and self.userComment is None:
            raise ValueError("overrideReason needs a reason or a userComment")
        return self


class AcceptedSuggestion(_Model):
    id: str = Text


class FeedbackItem(_Model):
    card: UUID
    outcome: Literal["accepted", "overridden"]  # cds-fb-1
    acceptedSuggestions: list[AcceptedSuggestion] | None = Field(default=None, max_length=20)  # noqa: N815
    overrideReason: OverrideReason | None = None  # noqa: N815
    outcomeTimestamp: AwareDatetime  # noqa: N815

    @model_validator(mode="after")
    def _fits_outcome(self) -> FeedbackItem:
        # cds-fb-2: accepted names what was accepted; an override reason belongs to an override.
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("accepted feedback needs acceptedSuggestions")
        if self.outcome == "accepted" and self.overrideReason is not None:
            raise ValueError("overrideReason is only for overridden feedback")
        return self

    @property
    def at(self) -> datetime:
        return self.outcomeTimestamp


class FeedbackRequest(_Model):
    feedback: list[FeedbackItem] = Field(min_length=1, max_length=100)
