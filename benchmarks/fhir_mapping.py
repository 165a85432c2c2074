"""Benchmark: map FHIR R4 bundles to a profile and evaluate it (issue 11).

    .venv/bin/python benchmarks/fhir_mapping.py [--resources 1000] [--bundles 1000] [--repeat 5]

Two figures, best of the repeats, each as CPU time of this process (the steadier figure on a shared
machine) and wall-clock time, with the load average printed beside them:
  large    one bundle of about --resources resources (a patient with years of laboratory results):
           validate + map + evaluate, in ms. Target: under 100 ms for 1,000 resources.
  typical  --bundles bundles like fixtures/fhir/ex-si-net-g2.json (16 resources), each with its own
           ids and values: bundles a second, mapped and evaluated one after the other on one core.
           Target: 1,000 a second.
Three ways of validating:
  API path         what the API runs: the quick structural check built from the R4B models
                   (treatments/fhir/fastcheck.py), the R4B models for whatever it cannot vouch for;
  R4B models only  every resource validated by its R4B model (the API path before the quick check);
  not validated    mapping and evaluation alone.
Nothing is cached between bundles, so there is no cold/warm difference to report. No database: the
mapping and the engine are pure Python. Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from treatments.fhir import fastcheck  # noqa: E402
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


def unique_copies(bundle: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """`count` copies of a bundle, each resource with its own version id and slightly different
    values, so no copy is byte-for-byte another (nothing here caches, but the figure must not depend
    on it). Ids and references stay: every copy maps to the same facts."""
    copies = []
    for number in range(count):
        copy_ = copy.deepcopy(bundle)
        for entry in copy_["entry"]:
            resource = entry["resource"]
            resource["meta"] = {**resource.get("meta", {}), "versionId": str(number)}
            quantity = resource.get("valueQuantity")
            if isinstance(quantity, dict) and isinstance(quantity.get("value"), int | float):
                quantity["value"] = quantity["value"] + (number % 3) / 10
        copies.append(copy_)
    return copies


def load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


@contextmanager
def quick_check(enabled: bool) -> Iterator[None]:
    """The API path as it is (enabled), or as it was before the quick check: every resource
    validated by its R4B model."""
    original = fastcheck.certainly_valid
    if not enabled:
        fastcheck.certainly_valid = lambda resource, model: False  # type: ignore[assignment]
    try:
        yield
    finally:
        fastcheck.certainly_valid = original  # type: ignore[assignment]


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

    facts = len(map_bundle(copy.deepcopy(typical), now=NOW).profile)
    assert all(len(map_bundle(b, now=NOW).profile) == facts for b in unique_copies(typical, 3))
    print(f"FHIR benchmark (knowledge base {compiled.info.version}, Python {sys.version.split()[0]})")
    print(f"  {load()} at the start; CPU = process time, wall = elapsed; best of {args.repeat}")
    variants = (
        ("API path", MappingOptions(), True),
        ("R4B models only", MappingOptions(), False),
        ("not validated", MappingOptions(validate=False), True),
    )
    for label, options, quick in variants:
        with quick_check(quick):
            run(copy.deepcopy(big), options)  # warm up: imports, caches of the models
            large_cpu, large_wall = [], []
            for _ in range(args.repeat):
                bundle = copy.deepcopy(big)
                cpu, wall = time.process_time(), time.perf_counter()
                run(bundle, options)
                large_cpu.append(time.process_time() - cpu)
                large_wall.append(time.perf_counter() - wall)
            rate_cpu, rate_wall = [], []
            for _ in range(args.repeat):
                bundles = unique_copies(typical, args.bundles)
                cpu, wall = time.process_time(), time.perf_counter()
                for bundle in bundles:
                    run(bundle, options)
                rate_cpu.append(args.bundles / max(time.process_time() - cpu, 1e-9))
                rate_wall.append(args.bundles / (time.perf_counter() - wall))
        print(
            f"  {label:<16} large bundle of {count} resources: CPU {min(large_cpu) * 1000:6.1f} ms, "
            f"wall {min(large_wall) * 1000:6.1f} ms (target < 100 ms)   typical bundles "
            f"({len(typical['entry'])} resources, {facts} facts): CPU {max(rate_cpu):6.0f}/s, "
            f"wall {max(rate_wall):6.0f}/s "
            f"(target 1,000/s)   [{load()}]"
        )


if __name__ == "__main__":
    main()
