"""Forms of the pages, by area; each write form feeds the pydantic input model the API validates with.

Everything is re-exported here.
"""

from .base import ErrorLinks, InputForm
from .facts import (
    FACT_META,
    PRIOR_MODE_FIELD,
    UNKNOWN,
    FactGroup,
    FactMeta,
    PatientForm,
    WhatIfForm,
    encode_profile,
    profile_initial,
)
from .filters import CaseFilterForm, CatalogueFilterForm, search_field
from .mdt import (
    CASE_FIELDS,
    CaseDetailsForm,
    CaseForm,
    EvaluationCompareForm,
    MeetingAddCaseForm,
    MeetingForm,
    OutcomeForm,
    ReviewForm,
)

__all__ = [
    "CASE_FIELDS",
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
    "MeetingForm",
    "OutcomeForm",
    "PatientForm",
    "ReviewForm",
    "WhatIfForm",
    "encode_profile",
    "profile_initial",
    "search_field",
]
