"""Units: the UCUM codes accepted for each numeric fact and the factor to the contract's unit.

A Quantity whose unit is not in the fact's table gives no value (issue `unsupported_unit`), so a
unit slip never becomes a number (hazard log H-16). Pure Python: no Django.
"""

from __future__ import annotations

from typing import Final

# fact -> {UCUM code: factor to the contract unit}
UCUM_FACTORS: Final[dict[str, dict[str, float]]] = {
    "egfr_ml_min": {"mL/min/{1.73_m2}": 1.0, "mL/min/(173.10*-2.m2)": 1.0},
    "platelets_10e9_l": {"10*9/L": 1.0, "10*3/uL": 1.0, "10*3/mm3": 1.0, "/uL": 0.001, "/mm3": 0.001},
    "neutrophils_10e9_l": {"10*9/L": 1.0, "10*3/uL": 1.0, "10*3/mm3": 1.0, "/uL": 0.001, "/mm3": 0.001},
    # total bilirubin, M = 584.66 g/mol
    "bilirubin_umol_l": {"umol/L": 1.0, "mg/dL": 17.104, "mg/L": 1.7104, "mmol/L": 1000.0},
    "ki67_percent": {"%": 1.0},
    "largest_liver_lesion_mm": {"mm": 1.0, "cm": 10.0},
    "primary_tumour_size_mm": {"mm": 1.0, "cm": 10.0},
    "liver_tumour_burden_percent": {"%": 1.0},
    "haemoglobin_g_l": {"g/L": 1.0, "g/dL": 10.0},
}

# Quantity.unit text accepted when system/code are missing (issue `unit_text_only`): the text,
# lower-cased and without spaces, and the UCUM code it stands for.
UNIT_TEXT_SYNONYMS: Final[dict[str, str]] = {
    "µmol/l": "umol/L",
    "umol/l": "umol/L",
    "mg/dl": "mg/dL",
    "x10^9/l": "10*9/L",
    "10^9/l": "10*9/L",
    "k/ul": "10*3/uL",
    "ml/min/1.73m2": "mL/min/{1.73_m2}",
    "ml/min/1.73m²": "mL/min/{1.73_m2}",
    "%": "%",
    "g/l": "g/L",
    "g/dl": "g/dL",
    "mm": "mm",
    "cm": "cm",
}

# Decimal places kept after conversion (a converted bilirubin of 10.2624 is shown as 10.26).
DECIMALS: Final = 2


def convert(fact: str, value: float, ucum: str) -> float | None:
    """The value in the contract's unit, or None when the unit is not accepted for the fact."""
    factor = UCUM_FACTORS.get(fact, {}).get(ucum)
    if factor is None:
        return None
    return round(value * factor, DECIMALS)


def ucum_from_text(text: str) -> str | None:
    """The UCUM code a free-text unit stands for, when it is on the synonym list."""
    return UNIT_TEXT_SYNONYMS.get(text.replace(" ", "").lower())
