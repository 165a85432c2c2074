"""Forms of the pages, by area; each write form feeds the pydantic input model the API validates with.

Everything is re-exported here.
"""

from .base import ErrorLinks, InputForm
from .facts import (
    MAX_RESULT_QUERY,
    FactGroup,
    PatientForm,
    WhatIfForm,
    encode_profile,
    profile_initial,
    profile_query,
)
from .fields import FACT_META, PRIOR_MODE_FIELD, UNKNOWN, FactMeta
from .filters import CaseFilterForm, CatalogueFilterForm, search_field
from .mdt import (
    CASE_FIELDS,
    AttendeeForm,
    CaseDetailsForm,
    CaseForm,
    CaseFromCheckForm,
    EvaluationCompareForm,
    MeetingAddCaseForm,
    MeetingEditForm,
    MeetingForm,
    OutcomeForm,
    PatientSheetForm,
    ReviewForm,
    WaiverForm,
)

__all__ = [
    "CASE_FIELDS",
    "MAX_RESULT_QUERY",
    "AttendeeForm",
    "FACT_META",
    "PRIOR_MODE_FIELD",
    "UNKNOWN",
    "CaseDetailsForm",
    "CaseFilterForm",
    "CaseForm",
    "CaseFromCheckForm",
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
    "PatientSheetForm",
    "ReviewForm",
    "WaiverForm",
    "WhatIfForm",
    "encode_profile",
    "profile_initial",
    "profile_query",
    "search_field",
]
