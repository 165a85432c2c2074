"""Forms of the pages, by area; each write form feeds the pydantic input model the API validates with.

Everything is re-exported here.
"""

from .base import ErrorLinks, InputForm
from .facts import FactGroup, PatientForm, WhatIfForm, encode_profile, profile_initial
from .fields import FACT_META, PRIOR_MODE_FIELD, UNKNOWN, FactMeta
from .filters import CaseFilterForm, CatalogueFilterForm, search_field
from .mdt import (
    CASE_FIELDS,
    AttendeeForm,
    CaseDetailsForm,
    CaseForm,
    EvaluationCompareForm,
    MeetingAddCaseForm,
    MeetingEditForm,
    MeetingForm,
    OutcomeForm,
    ReviewForm,
    WaiverForm,
)

__all__ = [
    "CASE_FIELDS",
    "AttendeeForm",
    "FACT_META",
    "PRIOR_MODE_FIELD",
    "UNKNOWN",
    "CaseDetailsForm",
    "CaseFilterForm",
    "CaseForm",
    "CatalogueFilterForm",
    "ErrorLinks",
    "EvaluationCompareForm",
    "FactGroup",
    "FactMeta",
    "InputForm",
    "MeetingAddCaseForm",
    "MeetingEditForm",
    "MeetingForm",
    "OutcomeForm",
    "PatientForm",
    "ReviewForm",
    "WaiverForm",
    "WhatIfForm",
    "encode_profile",
    "profile_initial",
    "search_field",
]
