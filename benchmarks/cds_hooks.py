"""Latency benchmark of the CDS Hooks `patient-view` service over real HTTP.

    .venv/bin/python benchmarks/cds_hooks.py [--calls 800] [--concurrency 16] [--workers 2] [--vary]
    .venv/bin/python benchmarks/cds_hooks.py --in-process [--calls 300] [--vary]

Serves the app with gunicorn (2 sync workers; PostgreSQL when DATABASE_URL is set, else a fresh
SQLite file), registers an EHR client with an ES384 key, and sends `patient-view` calls with the
full prefetch of example bundle 1 (fixtures/fhir/ex-si-net-g2.json) from N concurrent clients, each
call with its own signed JWT (signed beforehand, so that the clients' signing does not count). Every
call maps the prefetch, evaluates, stores a hook evaluation and its audit event, and answers cards.
A prefetch a worker has validated before skips the FHIR R4 validation (about 25 ms for bundle 1):
`--vary` sends a different one on every call, so that every call pays it (a chart opened for the
first time).
Prints p50, p95 and p99 latency, calls per second, errors, and the CPU time the gunicorn workers
spent per call (user + system, from /proc): on a shared machine the wall-clock figures move with
the load average, the CPU per call much less.
`--in-process` calls the WSGI application in this one process instead, one call at a time (no HTTP, no
queue), and prints the CPU time and the wall time per call: the cost of a call itself.
Target (issue 13): p95 <= 200 ms under 16 concurrent clients, zero errors. The clients, gunicorn and
the database share this machine's cores, so the figures are relative, not capacity.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
sys.path.insert(0, str(ROOT))

from api_load import _wait  # noqa: E402  (as soak.py: wait until a URL answers 200)

from tools.cds_client import hook_request, new_key, prefetch_from_bundle, public_jwks, sign  # noqa: E402

ISS = "https://ehr.example.org/benchmark"
KID = "benchmark-1"
BUNDLE = ROOT / "fixtures" / "fhir" / "ex-si-net-g2.json"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=800)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument(
        "--in-process", action="store_true", help="CPU per call through the WSGI app, no HTTP"
    )
    parser.add_argument(
        "--vary",
        action="store_true",
        help="a different prefetch on every call (new Bundle ids), so that none skips the FHIR validation",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="netcare-cds-bench-"))
    base = f"http://127.0.0.1:{args.port}/cds-hooks"
    env = _environment(workdir, base)
    database = "PostgreSQL" if env["DATABASE_URL"].startswith("postgres") else "SQLite"
    key = new_key()
    _prepare(env, workdir, key)
    url = base + "/cds-services/netcare-net-options"
    patient_id, prefetch = prefetch_from_bundle(json.loads(BUNDLE.read_text()))
    bodies = [_body(patient_id, prefetch, index if args.vary else 0) for index in range(args.calls)]
    if args.in_process:
        _in_process(env, url, bodies, [sign(key, iss=ISS, aud=url, kid=KID) for _ in range(args.calls + 10)])
        shutil.rmtree(workdir, ignore_errors=True)
        return
    server = _serve(env, args.port, args.workers)
    try:
        _wait(f"http://127.0.0.1:{args.port}/healthz")
        tokens = [sign(key, iss=ISS, aud=url, kid=KID) for _ in range(args.calls + 4 * args.workers)]
        for token in tokens[: 4 * args.workers]:  # each worker maps, compiles and connects once
            _call(url, _body(patient_id, prefetch, 0), token)
        cpu_before, client_cpu = _workers_cpu_seconds(server.pid), time.process_time()
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            results = list(
                pool.map(lambda pair: _call(url, *pair), zip(bodies, tokens[4 * args.workers :], strict=True))
            )
        elapsed = time.perf_counter() - started
        cpu_per_call = (_workers_cpu_seconds(server.pid) - cpu_before) * 1000 / args.calls
        client_cpu_per_call = (time.process_time() - client_cpu) * 1000 / args.calls
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)

    latencies = sorted(millis for status, millis in results if status == 200)
    errors = sum(1 for status, _ in results if status != 200)
    cut = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    prefetch_kind = "a new prefetch each call" if args.vary else "the same prefetch each call"
    print(f"gunicorn {args.workers} sync workers, {database}; {args.calls} patient-view calls (bundle 1, "
          f"{prefetch_kind}), {args.concurrency} concurrent clients")  # fmt: skip
    print(
        f"POST .../netcare-net-options  {len(results) / elapsed:>6.0f} calls/s   p50 {cut[49]:>6.1f} ms   "
        f"p95 {cut[94]:>6.1f} ms   p99 {cut[98]:>6.1f} ms   errors {errors}"
    )
    print(f"server CPU per call {cpu_per_call:.1f} ms (workers' user + system time), "
          f"the benchmark's own clients {client_cpu_per_call:.1f} ms on the same cores; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    met = cut[94] <= 200 and errors == 0
    print(f"p95 {cut[94]:.1f} ms (target <= 200 ms), errors {errors} (target 0): "
          f"{'targets met' if met else 'targets NOT met'}")  # fmt: skip


def _body(patient_id: str, prefetch: dict[str, Any], index: int) -> bytes:
    """A call with bundle 1's prefetch; index > 0 gives every searchset its own id (same data)."""
    if index:
        prefetch = {
            key: {**value, "id": f"bench-{index}-{key}"} if value.get("resourceType") == "Bundle" else value
            for key, value in prefetch.items()
        }
        prefetch["patient"] = {**prefetch["patient"], "meta": {"versionId": str(index)}}
    return json.dumps(hook_request(patient_id, prefetch)).encode()


def _environment(workdir: Path, base: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    env.update(
        DJANGO_SETTINGS_MODULE="netcare.settings",
        NETCARE_ENV_FILE="",
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",  # plain HTTP on 127.0.0.1
        SECRET_KEY="benchmark-only-secret-key",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        CDS_HOOKS_BASE_URL=base,
        CDS_HOOKS_THROTTLE="100000000/min",
        LOG_LEVEL="WARNING",
    )
    return env


def _prepare(env: dict[str, str], workdir: Path, key: object) -> None:
    """Migrate, publish the knowledge base and register the benchmark's EHR client."""
    manage = [PYTHON, str(ROOT / "manage.py")]
    quiet = {"env": env, "check": True, "cwd": ROOT, "stdout": subprocess.DEVNULL}
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], **quiet)  # type: ignore[call-overload]
    # Its own throwaway database: publish directly (allowed with DEBUG; the golden gate still applies).
    publish = {**quiet, "env": {**env, "DEBUG": "true"}}
    subprocess.run([*manage, "load_knowledge_base", "--no-approval"], **publish)  # type: ignore[call-overload]
    jwks = workdir / "jwks.json"
    jwks.write_text(json.dumps(public_jwks(key, KID)))
    subprocess.run([*manage, "cds_client", "add", "--iss", ISS, "--jwks-file", str(jwks)], **quiet)  # type: ignore[call-overload]


def _serve(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    gunicorn = str(Path(PYTHON).parent / "gunicorn")
    command = [gunicorn, "netcare.wsgi:application", "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), "--log-level", "warning"]  # fmt: skip
    return subprocess.Popen(command, env=env, cwd=ROOT)


def _in_process(env: dict[str, str], url: str, bodies: list[bytes], tokens: list[str]) -> None:
    """Each call through the WSGI application in this process, one after the other."""
    os.environ.update(env)
    import django

    django.setup()
    from netcare.wsgi import application

    path = urllib.parse.urlsplit(url).path

    def call(body: bytes, token: str) -> str:
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": path, "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http", "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
            "HTTP_AUTHORIZATION": f"Bearer {token}", "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
        }  # fmt: skip
        status: list[str] = []
        b"".join(application(environ, lambda line, headers, exc_info=None: status.append(line)))  # type: ignore[arg-type]
        return status[0]

    for token in tokens[:10]:  # compile the rules, validate the prefetch, connect
        call(bodies[0], token)
    cpu, wall = time.process_time(), time.perf_counter()
    statuses = [call(body, token) for body, token in zip(bodies, tokens[10:], strict=True)]
    cpu, wall = (
        (time.process_time() - cpu) * 1000 / len(bodies),
        (time.perf_counter() - wall) * 1000 / len(bodies),
    )
    errors = sum(1 for status in statuses if not status.startswith("200"))
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"in process, one call at a time, {len(bodies)} calls: CPU {cpu:.2f} ms per call, "
          f"wall {wall:.2f} ms per call, errors {errors}; load average {load}")  # fmt: skip


def _workers_cpu_seconds(master: int) -> float:
    """User + system CPU seconds of gunicorn's workers so far (Linux /proc; 0 elsewhere)."""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return 0.0
    ticks = 0
    for pid in children:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


def _call(url: str, body: bytes, token: str) -> tuple[int, float]:
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {token}")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError:
        status = 0
    return status, (time.perf_counter() - started) * 1000


if __name__ == "__main__":
    main()
