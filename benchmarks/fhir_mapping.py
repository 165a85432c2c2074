"""Benchmark: map FHIR R4 bundles to a profile and evaluate it (issue 11).

    .venv/bin/python benchmarks/fhir_mapping.py [--resources 1000] [--bundles 1000] [--repeat 5]

Two figures, best of the repeats, with the FHIR R4B validation that the API runs (and without it):
  large    one bundle of about --resources resources (a patient with years of laboratory results):
           parse + validate + map + evaluate, in ms. Target: under 100 ms for 1,000 resources.
  typical  --bundles bundles like fixtures/fhir/ex-si-net-g2.json (16 resources): bundles a second,
           mapped and evaluated one after the other on one core. Target: 1,000 a second.
No database: the mapping and the engine are pure Python. Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from treatments.fhir.mapping import MappingOptions, map_bundle  # noqa: E402
from treatments.rules.document import load_file  # noqa: E402
from treatments.rules.profile import PatientProfile  # noqa: E402

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
TYPICAL = ROOT / "fixtures" / "fhir" / "ex-si-net-g2.json"
LABS = (
    ("777-3", "platelets", "10*9/L", 150.0),
    ("751-8", "neutrophils", "10*9/L", 3.0),
    ("14631-6", "bilirubin", "umol/L", 10.0),
    ("98979-8", "egfr", "mL/min/{1.73_m2}", 70.0),
    ("718-7", "haemoglobin", "g/dL", 12.0),
)


def large_bundle(resources: int) -> dict[str, Any]:
    """The typical bundle plus laboratory results, one a day back in time, up to `resources`."""
    bundle = json.loads(TYPICAL.read_text(encoding="utf-8"))
    entries = bundle["entry"]
    day = date(2026, 11, 19)
    index = 0
    while len(entries) < resources:
        code, name, unit, base = LABS[index % len(LABS)]
        when = day - timedelta(days=index // len(LABS))
        entries.append(
            {
                "fullUrl": f"https://ehr.example.nhs.uk/fhir/Observation/{name}-{index}",
                "resource": {
                    "resourceType": "Observation",
                    "id": f"{name}-{index}",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                    "subject": {"reference": "Patient/pt-si-g2"},
                    "effectiveDateTime": when.isoformat(),
                    "valueQuantity": {
                        "value": base + index % 7,
                        "unit": unit,
                        "system": "http://unitsofmeasure.org",
                        "code": unit,
                    },
                },
            }
        )
        index += 1
    return bundle


def best(runs: list[float]) -> float:
    return min(runs)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--bundles", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    compiled = load_file(ROOT / "fixtures" / "knowledge_base.yaml").compile()
    big = large_bundle(args.resources)
    typical = json.loads(TYPICAL.read_text(encoding="utf-8"))
    count = len(big["entry"])

    def run(bundle: dict[str, Any], options: MappingOptions) -> None:
        result = map_bundle(bundle, now=NOW, options=options)
        compiled.evaluate(PatientProfile.model_validate(result.profile))

    print(f"FHIR benchmark (knowledge base {compiled.info.version}, Python {sys.version.split()[0]})")
    variants = (("validated (R4B)", MappingOptions()), ("not validated", MappingOptions(validate=False)))
    for label, options in variants:
        run(copy.deepcopy(big), options)  # warm up: imports, caches
        large = []
        for _ in range(args.repeat):
            bundle = copy.deepcopy(big)
            start = time.perf_counter()
            run(bundle, options)
            large.append(time.perf_counter() - start)
        rates = []
        for _ in range(args.repeat):
            bundles = [copy.deepcopy(typical) for _ in range(args.bundles)]
            start = time.perf_counter()
            for bundle in bundles:
                run(bundle, options)
            rates.append(args.bundles / (time.perf_counter() - start))
        print(
            f"  {label:<16} large bundle of {count} resources: {best(large) * 1000:7.1f} ms "
            f"(target < 100 ms)   typical bundles ({len(typical['entry'])} resources): "
            f"{max(rates):7.0f} a second (target 1,000)"
        )


if __name__ == "__main__":
    main()
