"""Load benchmark of the REST API through the real HTTP stack.

    .venv/bin/python benchmarks/api_load.py [--seconds 20] [--connections 16] [--workers 2]

Serves the app with gunicorn (2 sync workers; PostgreSQL when DATABASE_URL is set, else a fresh
SQLite file), then drives POST /api/v1/eligibility/ with wrk (a Lua script posts 500 different
realistic profiles in turn, with a token) and GET /healthz the same way, and prints requests per
second, p50 and p99 latency and error counts for both, and their throughput ratio.
Targets (issue 3): eligibility throughput >= 70 % of /healthz, p99 < 100 ms, zero errors.
Needs wrk (apt-get install wrk). wrk, gunicorn and the database share this machine's cores, so the
figures are relative, not capacity.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
sys.path.insert(0, str(ROOT / "benchmarks"))

from engine import realistic_profile  # noqa: E402  (the engine benchmark's mix of referrals)

PROFILE = {
    "primary_site": "small_intestine",
    "differentiation": "well",
    "who_grade": "G2",
    "ki67_percent": 8,
    "disease_extent": "metastatic",
    "resectable": False,
    "primary_resected": True,
    "liver_metastases": True,
    "liver_lesion_count": 6,
    "largest_liver_lesion_mm": 35,
    "liver_tumour_burden_percent": 20,
    "liver_dominant_disease": True,
    "extrahepatic_disease": False,
    "sstr_imaging": "positive",
    "krenning_score": 3,
    "functional_syndrome": "carcinoid_syndrome",
    "disease_status": "progressive",
    "prior_therapies": ["ssta"],
    "age_years": 63,
    "ecog": 1,
    "egfr_ml_min": 78,
    "platelets_10e9_l": 210,
    "neutrophils_10e9_l": 4.1,
    "bilirubin_umol_l": 9,
    "funding": "nhs",
}

# wrk posts a different realistic profile on each request (as an EPR would), cycling through them.
LUA = """
local bodies = {%s}
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Token %s"}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", nil, headers, bodies[(counter %% #bodies) + 1])
end
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--profiles", type=int, default=500, help="distinct realistic profiles to cycle through"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")

    workdir = Path(tempfile.mkdtemp(prefix="netcare-bench-"))
    env = _environment(workdir)
    database = "PostgreSQL" if env["DATABASE_URL"].startswith("postgres") else "SQLite"
    token = _prepare(env)
    server = _serve(env, args.port, args.workers)
    try:
        base = f"http://127.0.0.1:{args.port}"
        _wait(base + "/healthz")
        _warm_up(base, token)
        script = workdir / "eligibility.lua"
        script.write_text(LUA % (_lua_bodies(args.profiles), token))
        eligibility = _wrk(args, base + "/api/v1/eligibility/", script)
        health = _wrk(args, base + "/healthz", None)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)

    load = f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s"
    print(f"gunicorn {args.workers} sync workers, {database}; {load}")
    for name, figures in (("POST /api/v1/eligibility/", eligibility), ("GET /healthz", health)):
        print(
            f"{name:<27} {figures['rps']:>8.0f} req/s   p50 {figures['p50']:>7.2f} ms   "
            f"p99 {figures['p99']:>7.2f} ms   errors {figures['errors']}   ({figures['requests']} requests)"
        )
    ratio = eligibility["rps"] / health["rps"] if health["rps"] else 0.0
    print(f"eligibility / healthz throughput: {ratio:.0%}  (target >= 70 %)")
    print(f"eligibility p99 {eligibility['p99']:.1f} ms  (target < 100 ms)")
    met = ratio >= 0.7 and eligibility["p99"] < 100 and eligibility["errors"] == 0 and health["errors"] == 0
    print("targets met" if met else "targets NOT met")


def _lua_bodies(count: int) -> str:
    rng = random.Random(2026)
    bodies = [json.dumps({"profile": realistic_profile(rng)}) for _ in range(count)]
    return ",\n".join(f"[==[{body}]==]" for body in bodies)


def _environment(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    env.update(
        DJANGO_SETTINGS_MODULE="netcare.settings",
        DEBUG="false",
        SECRET_KEY="benchmark-only-secret-key",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        API_THROTTLE_USER="100000000/min",
        API_THROTTLE_ANON="100000000/min",
        LOG_LEVEL="WARNING",
    )
    return env


def _prepare(env: dict[str, str]) -> str:
    """Migrate, publish the knowledge base and create a benchmark clinician with a token."""
    manage = [PYTHON, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True, cwd=ROOT)
    # Its own throwaway database: publish directly (allowed with DEBUG; the golden gate still applies).
    publish = [*manage, "load_knowledge_base", "--no-approval"]
    subprocess.run(publish, env={**env, "DEBUG": "true"}, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    code = (
        "from django.contrib.auth.models import Group, User\n"
        "from treatments.services.tokens import token_issue\n"
        "user, _ = User.objects.get_or_create(username='benchmark-clinician')\n"
        "user.groups.add(Group.objects.get(name='clinician'))\n"
        "print(token_issue(user=user, client='benchmark')[1])\n"
    )
    out = subprocess.run(
        [*manage, "shell", "-c", code], env=env, check=True, cwd=ROOT, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


def _serve(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    command = [
        str(Path(PYTHON).parent / "gunicorn"),
        "netcare.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(command, env=env, cwd=ROOT)


def _wait(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"the server did not answer {url}")


def _warm_up(base: str, token: str) -> None:
    body = json.dumps({"profile": PROFILE}).encode()
    for _ in range(50):  # each worker compiles the rule set once
        request = urllib.request.Request(base + "/api/v1/eligibility/", data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        request.add_header("Authorization", f"Token {token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200, response.status


def _wrk(args: Any, url: str, script: Path | None) -> dict[str, Any]:
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    return _parse_wrk(out)


def _parse_wrk(out: str) -> dict[str, Any]:
    def latency(percentile: str) -> float:
        match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if match is None:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, socket.groups())) if socket else 0)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return {"rps": rps, "p50": latency("50"), "p99": latency("99"), "errors": errors, "requests": requests}


if __name__ == "__main__":
    main()
