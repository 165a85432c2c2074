"""Benchmark: evaluate a realistic mix of profiles against the full knowledge base in one process.

    .venv/bin/python benchmarks/engine.py [--profiles 20000] [--repeat 3] [--mode all] [--profile-code]
                                          [--processes N]

Each profile is validated (PatientProfile) and evaluated against every modality. The verdicts hold
the full explanation: every rule's outcome, which rules decided the status, the missing facts and
the cautions, with the patient's values at hand. Three figures, best of the repeats:
  verdicts  the explanation as the engine's objects (what the pages render),
  json      plus encoding it as the API's JSON body,
  dicts     plus building the contract's Python dicts (stored evaluations, the CLI).
No database: the engine is pure Python. Target (issue 2): at least 20,000 profiles per second on
one core with full explanations. --processes N also runs the verdicts on N processes at once (as
gunicorn's workers do), each with its share of the profiles, and prints their combined rate.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import multiprocessing
import os
import pstats
import random
import resource
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from treatments.rules.document import load_file  # noqa: E402
from treatments.rules.profile import MODALITY_KEYS, PatientProfile  # noqa: E402
from treatments.rules.serialize import result_to_dict, result_to_json  # noqa: E402

SITES = [
    "pancreas",
    "small_intestine",
    "small_intestine",
    "lung_bronchus",
    "rectum",
    "stomach",
    "duodenum",
    "colon",
    "appendix",
    "thymus",
    "unknown_primary",
    "paraganglioma",
    "pancreas",
    "small_intestine",
]


def realistic_profile(rng: random.Random) -> dict[str, Any]:
    """A plausible NET referral: most facts known, some missing, as an MDT list looks."""
    poorly = rng.random() < 0.12
    grade = None if poorly else rng.choices(["G1", "G2", "G3"], [4, 5, 1])[0]
    ki67 = {"G1": rng.uniform(0.5, 2.9), "G2": rng.uniform(3, 20), "G3": rng.uniform(21, 55)}.get(
        grade or "", rng.uniform(30, 90)
    )
    extent = rng.choices(["localised", "locoregional", "metastatic"], [2, 2, 6])[0]
    liver = extent == "metastatic" and rng.random() < 0.75
    sstr = rng.choices(["positive", "negative"], [8, 2])[0]
    sex = rng.choice(["female", "male"])
    profile: dict[str, Any] = {
        "primary_site": rng.choice(SITES),
        "differentiation": "poorly" if poorly else "well",
        "who_grade": grade,
        "ki67_percent": round(ki67, 1),
        "disease_extent": extent,
        "resectable": extent != "metastatic" and rng.random() < 0.8,
        "debulking_feasible": rng.random() < 0.3,
        "primary_resected": rng.random() < 0.5,
        "liver_metastases": liver,
        "liver_lesion_count": rng.randint(1, 12) if liver else 0,
        "largest_liver_lesion_mm": round(rng.uniform(5, 80), 0) if liver else None,
        "liver_tumour_burden_percent": round(rng.uniform(1, 70), 0) if liver else 0,
        "liver_dominant_disease": liver and rng.random() < 0.6,
        "extrahepatic_disease": rng.random() < 0.4,
        "portal_vein_thrombosis": rng.choices(["none", "branch", "main"], [95, 3, 2])[0],
        "sstr_imaging": sstr,
        # Uptake at least that of the liver (Krenning >= 2) is what makes SSTR imaging positive.
        "krenning_score": rng.randint(2, 4) if sstr == "positive" else rng.randint(0, 1),
        "functional_syndrome": rng.choices(
            ["none", "carcinoid_syndrome", "insulinoma", "gastrinoma", "vipoma"], [14, 4, 1, 1, 1]
        )[0],
        "carcinoid_heart_disease": rng.random() < 0.05,
        "disease_status": rng.choice(["progressive", "stable", "new_diagnosis"]),
        "prior_therapies": rng.sample(MODALITY_KEYS, rng.randint(0, 3)),
        "age_years": rng.randint(25, 88),
        "ecog": rng.choices([0, 1, 2, 3, 4], [5, 6, 3, 1, 0.3])[0],
        "egfr_ml_min": round(rng.uniform(20, 110), 0),
        "platelets_10e9_l": round(rng.uniform(60, 400), 0),
        "neutrophils_10e9_l": round(rng.uniform(1.0, 8.0), 1),
        "bilirubin_umol_l": round(rng.uniform(3, 50), 0),
        "pregnant": False if rng.random() < 0.7 else None,
        "sex": sex,
        "childbearing_potential": sex == "female" and rng.random() < 0.3,
        "dpd_status": rng.choices(["normal", "partial_deficiency", None], [7, 1, 4])[0],
        "biliary_enteric_anastomosis": rng.random() < 0.1 if rng.random() < 0.6 else None,
        "syndrome_refractory": rng.random() < 0.3 if rng.random() < 0.5 else None,
        "months_since_diagnosis": round(rng.uniform(0, 120), 0),
        "haemoglobin_g_l": round(rng.uniform(80, 160), 0),
        "funding": rng.choices(["nhs", "private"], [9, 1])[0],
    }
    # Real referrals arrive with gaps: drop a few facts at random (they become unknown).
    for name in rng.sample(sorted(profile), rng.choice([0, 0, 1, 2, 4, 8])):
        profile.pop(name)
    return profile


MODES = {
    "verdicts": "validate + evaluate: every rule's outcome, deciding rules, missing facts, cautions",
    "json": "... + the explanation encoded as the API's JSON body (about 100 kB per profile)",
    "dicts": "... + the explanation as the contract's Python dicts (stored evaluations, CLI)",
}


def run(mode: str, raw_profiles: list[dict[str, Any]], ruleset: Any) -> int:
    """Evaluate every profile; returns a checksum so that nothing is optimised away."""
    total = 0
    for raw in raw_profiles:
        result = ruleset.evaluate(PatientProfile.model_validate(raw))
        if mode == "verdicts":
            total += sum(len(verdict.outcomes) + len(verdict.missing_facts) for verdict in result.verdicts)
        elif mode == "json":
            total += len(result_to_json(result))
        else:
            total += len(result_to_dict(result)["options"])
    return total


def best_rate(
    mode: str, raw_profiles: list[dict[str, Any]], ruleset: Any, repeat: int
) -> tuple[float, list[float]]:
    timings = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        run(mode, raw_profiles, ruleset)
        timings.append(time.perf_counter() - start)
    return len(raw_profiles) / min(timings), timings


# What the forked processes of --processes share: (profile chunks, compiled rule set, mode).
_SHARED: tuple[list[list[dict[str, Any]]], Any, str] = ([], None, "verdicts")


def _run_chunk(index: int) -> int:
    chunks, ruleset, mode = _SHARED
    return run(mode, chunks[index], ruleset)


def parallel_rate(
    mode: str, raw_profiles: list[dict[str, Any]], ruleset: Any, repeat: int, processes: int
) -> tuple[float, list[float]]:
    """Profiles per second with `processes` processes evaluating their shares at the same time."""
    global _SHARED
    _SHARED = ([raw_profiles[i::processes] for i in range(processes)], ruleset, mode)
    timings = []
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        for _ in range(repeat):
            start = time.perf_counter()
            pool.map(_run_chunk, range(processes), chunksize=1)
            timings.append(time.perf_counter() - start)
    return len(raw_profiles) / min(timings), timings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--profiles", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--mode", choices=[*MODES, "all"], default="all")
    parser.add_argument("--profile-code", action="store_true", help="print where the time goes (cProfile)")
    parser.add_argument(
        "--processes", type=int, default=0, help="also run the verdicts on N processes at once (0: not)"
    )
    args = parser.parse_args()

    knowledge_base = load_file(ROOT / "fixtures" / "knowledge_base.yaml")
    ruleset = knowledge_base.compile()
    rng = random.Random(args.seed)
    raw_profiles = [realistic_profile(rng) for _ in range(args.profiles)]
    modes = list(MODES) if args.mode == "all" else [args.mode]

    if args.profile_code:
        for mode in modes:
            cProfile.runctx(
                "run(mode, raw_profiles, ruleset)", globals(), locals(), "/tmp/netcare-engine.prof"
            )
            print(f"== {mode}")
            pstats.Stats("/tmp/netcare-engine.prof").sort_stats("tottime").print_stats(12)
        return

    statuses: dict[str, int] = {}
    for raw in raw_profiles[:2000]:
        for verdict in ruleset.evaluate(PatientProfile.model_validate(raw)).verdicts:
            statuses[verdict.status] = statuses.get(verdict.status, 0) + 1
    total = sum(statuses.values())
    lines, overrides = len(knowledge_base.guideline_lines), len(knowledge_base.order_overrides)
    aids = f"{lines} guideline lines, {overrides} order overrides"
    rules = f"{len(ruleset.modalities)} modalities, {ruleset.rule_count} rules, {aids}"
    print(f"knowledge base {knowledge_base.version}: {rules}")
    print(f"profiles: {len(raw_profiles)} realistic referrals (seed {args.seed}), one process, one core")
    print(
        "status mix (first 2,000): " + ", ".join(f"{k} {v / total:.0%}" for k, v in sorted(statuses.items()))
    )
    for mode in modes:
        rate, timings = best_rate(mode, raw_profiles, ruleset, args.repeat)
        runs = ", ".join(f"{t:.2f}" for t in timings)
        print(
            f"{mode:<9} {rate:>9,.0f} profiles/s  ({1e6 / rate:5.1f} µs each; runs {runs} s) "
            f"against {ruleset.rule_count} rules"
        )
        print(f"          {MODES[mode]}")

    if args.processes:
        rate, timings = parallel_rate("verdicts", raw_profiles, ruleset, args.repeat, args.processes)
        runs = ", ".join(f"{t:.2f}" for t in timings)
        print(
            f"verdicts  {rate:>9,.0f} profiles/s on {args.processes} processes at once "
            f"(this machine has {os.cpu_count()} cores; runs {runs} s) against {ruleset.rule_count} rules"
        )

    tracemalloc.start()
    run("json", raw_profiles[:2000], ruleset)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak traced memory while answering 2,000 profiles: {traced_peak / 1e6:.1f} MB")
    print(f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print("target (issue 2): >= 20,000 profiles/s with full explanations")


if __name__ == "__main__":
    main()
