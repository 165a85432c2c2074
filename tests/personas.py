"""Named, fictional patient profiles shared by tests of different layers."""

from __future__ import annotations

from typing import Any

# The profile of the external API contract check: a progressive bronchial NET under the NHS, for
# which PRRT is available only in a trial.
BRONCHIAL_NHS: dict[str, Any] = {
    "primary_site": "lung_bronchus",
    "differentiation": "well",
    "who_grade": "G2",
    "ki67_percent": 8,
    "disease_extent": "metastatic",
    "resectable": False,
    "sstr_imaging": "positive",
    "krenning_score": 3,
    "disease_status": "progressive",
    "prior_therapies": ["ssta"],
    "ecog": 1,
    "egfr_ml_min": 80,
    "platelets_10e9_l": 200,
    "pregnant": False,
    "funding": "nhs",
}

# A progressive, receptor-positive G2 small-intestinal NET after an SSA: a PRRT candidate.
SI_NET: dict[str, Any] = {
    "primary_site": "small_intestine",
    "differentiation": "well",
    "who_grade": "G2",
    "ki67_percent": 8,
    "disease_extent": "metastatic",
    "resectable": False,
    "sstr_imaging": "positive",
    "krenning_score": 3,
    "disease_status": "progressive",
    "egfr_ml_min": 80,
    "platelets_10e9_l": 220,
    "prior_therapies": ["ssta"],
    "funding": "nhs",
}
