"""FHIR R4 input: a Bundle (or CDS Hooks prefetch resources) becomes a patient profile with sources.

Pure Python like `treatments.rules` (no Django; a test enforces it): `codes.py` holds the code tables
as data, `units.py` the unit conversions, `mapping.py` the envelope checks, candidates and resolution
rules (docs/fhir.md). Services, the API, the pages and the CLI call `map_bundle` / `map_resources`.
"""
