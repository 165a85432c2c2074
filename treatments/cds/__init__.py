"""The CDS Hooks 2.0 edge (docs/cds-hooks.md): discovery, the `patient-view` service and feedback,
under CDS_HOOKS_BASE_URL, for EHRs that sign each call with a JWT.

Like the other edges it holds no clinical logic: the EHR's FHIR data become a profile through the
FHIR mapping (treatments/fhir/), the published rule set decides, and cards.py only words the
engine's answer as cards.
"""
