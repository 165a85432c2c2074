"""Soak and fault benchmark: a mixed workload against gunicorn + PostgreSQL + Redis + the task worker.

    .venv/bin/python benchmarks/soak.py [--minutes 10] [--rate 8] [--no-fault] [--keep] [--quick]

Sets everything up itself: a PostgreSQL database of its own (netcare_soak_<pid> on
postgres://postgres@127.0.0.1:5432/, dropped at the end unless --keep), migrations, the knowledge
base, users of each role, collectstatic into a temporary STATIC_ROOT, gunicorn with the project's
gunicorn.conf.py (2 workers, DEBUG off, a generated SECRET_KEY, Redis under a key prefix of its own)
and the task worker (manage.py task_worker); it waits for /readyz.

Then it drives, at a fixed total rate, from one thread per client:
  clinician pages    log in (CSRF), POST /check/ with a profile, the case list and case pages
  coordinator pages  create a case (/cases/new/), edit it (/cases/<id>/edit/ with its version)
  API eligibility    single and batch, full and ?view=summary (a token of its own)
  API cases          create, PATCH with the version, evaluate, read the list and evaluations
  API reviews        a clinician's reviews of the evaluations made (PUT with the review version)
and, outside the rate, one meeting pack at a time through the task queue (prepare, poll, download).

With the fault (default), half-way through it terminates the app's PostgreSQL connections to its
own database and refuses new ones for about 10 s (ALLOW_CONNECTIONS false, then true) - never
restarting the machine's cluster - and prints the 503 window. At the end it prints requests, errors
by status and p50/p99 latency per endpoint, the RSS of each gunicorn worker every 30 s with its
growth from the first minute to the last, and checks that every write answered 2xx (cases,
edits, evaluations, reviews) is in the database.
Targets (issue 9): no errors outside the fault window, no 500 at all, nothing lost, flat memory.
gunicorn's worker recycling (max_requests) is switched off so that a leak would show; --recycle
keeps it. Everything shares this machine's cores: the latencies are relative, not capacity.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from api_load import PROFILE, _wait  # noqa: E402  (the API benchmark's profile and wait for a URL)
from engine import realistic_profile  # noqa: E402  (the engine benchmark's mix of referrals)

from tests.pages.helpers import form_data  # noqa: E402  (a profile as the patient form posts it)
from treatments.rules.profile import MODALITY_KEYS  # noqa: E402

ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"
PASSWORD = "soak-benchmark-password"
SAMPLE_SECONDS = 30
FAULT_BLOCK_SECONDS = 10
# Each client's share of --rate (requests per second); the pack client runs outside it.
SHARES = {"clinician-pages": 0.25, "coordinator-pages": 0.15, "api-eligibility": 0.25, "api-cases": 0.25}
SHARES["api-reviews"] = 1 - sum(SHARES.values())


# --- what happened -------------------------------------------------------------------------------


@dataclass
class Record:
    at: float  # seconds since the load began
    client: str
    endpoint: str
    status: int  # 0: no HTTP answer (connection refused, reset, timed out)
    ms: float
    ok: bool


@dataclass
class Ledger:
    """Every answer, and every write the clients were told succeeded."""

    start: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)
    records: list[Record] = field(default_factory=list)
    cases: dict[int, str] = field(default_factory=dict)  # id -> hospital reference
    case_versions: dict[int, int] = field(default_factory=dict)  # id -> newest version acknowledged
    evaluations: set[int] = field(default_factory=set)
    reviews: dict[tuple[int, str], int] = field(default_factory=dict)  # (evaluation, modality) -> version
    packs: int = 0
    shared_cases: list[int] = field(default_factory=list)  # cases any client may read
    # (case, evaluation): the latest evaluation of a case no client evaluates again (reviewable)
    shared_evaluations: list[tuple[int, int]] = field(default_factory=list)

    def now(self) -> float:
        return time.monotonic() - self.start

    def add(self, record: Record) -> None:
        with self.lock:
            self.records.append(record)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Client:
    """One user agent: a cookie jar, a CSRF token and an API token; no redirects are followed."""

    def __init__(self, name: str, port: int, ledger: Ledger):
        self.name, self.port, self.ledger = name, port, ledger
        self.cookies: dict[str, str] = {}
        self.token = ""

    def request(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        expect: tuple[int, ...] = (200,),
        json_body: Any = None,
        form: dict[str, Any] | None = None,
    ) -> Answer:
        headers = {"Host": f"127.0.0.1:{self.port}", "Accept": "*/*"}
        body: bytes | None = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            csrf = self.cookies.get("csrftoken", "")
            body = urllib.parse.urlencode({**form, "csrfmiddlewaretoken": csrf}, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.token and path.startswith("/api/"):
            headers["Authorization"] = f"Token {self.token}"
        elif self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            if method != "GET" and "csrftoken" in self.cookies:
                headers["X-CSRFToken"] = self.cookies["csrftoken"]
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            answer = Answer(response.status, dict(response.getheaders()), response.read())
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    morsel = value.split(";", 1)[0]
                    key, _, cookie = morsel.partition("=")
                    if cookie and cookie != '""':
                        self.cookies[key.strip()] = cookie.strip()
                    else:
                        self.cookies.pop(key.strip(), None)
        except (OSError, http.client.HTTPException):
            answer = Answer(0, {}, b"")
        finally:
            connection.close()
        ms = (time.monotonic() - started) * 1000
        at = started - self.ledger.start
        ok = answer.status in expect
        if answer.status == 302 and path != "/login/" and "/login/" in answer.headers.get("Location", ""):
            ok = False  # sent to the login page: the session was lost
        self.ledger.add(Record(at, self.name, endpoint, answer.status, ms, ok))
        return answer

    def login(self, username: str) -> bool:
        self.cookies.clear()
        self.request("GET", "/login/", endpoint="GET /login/")
        answer = self.request(
            "POST",
            "/login/",
            endpoint="POST /login/",
            form={"username": username, "password": PASSWORD},
            expect=(302,),
        )
        return answer.status == 302 and "sessionid" in self.cookies

    def issue_token(self, username: str) -> bool:
        answer = self.request(
            "POST",
            "/api/v1/auth/token/",
            endpoint="POST /api/v1/auth/token/",
            json_body={"username": username, "password": PASSWORD},
        )
        if answer.status == 200:
            self.token = answer.json()["token"]
        return bool(self.token)


def location_id(answer: Answer, pattern: str) -> int | None:
    match = re.search(pattern, answer.headers.get("Location", ""))
    return int(match.group(1)) if match else None


def form_profile(profile: dict[str, Any]) -> dict[str, Any]:
    return form_data({name: value for name, value in profile.items() if value is not None})


# --- the clients: each yields before every request, so the pacing decides when it is made -------


def clinician_pages(client: Client, ledger: Ledger, rng: random.Random) -> Iterator[None]:
    turn = 0
    while True:
        if turn % 40 == 0:  # a new session now and then (PBKDF2 makes a login cost CPU)
            yield
            client.login("soak-clinician")
        turn += 1
        yield
        client.request("POST", "/check/", endpoint="POST /check/", form=form_profile(realistic_profile(rng)))
        with ledger.lock:
            known = list(ledger.shared_cases)
        if known:
            yield
            case = rng.choice(known[-50:])
            client.request("GET", f"/cases/{case}/", endpoint="GET /cases/<id>/")
        if turn % 5 == 0:
            yield
            client.request("GET", "/cases/", endpoint="GET /cases/")
        if turn % 10 == 0:
            yield
            client.request("GET", "/check/", endpoint="GET /check/")


def coordinator_pages(client: Client, ledger: Ledger, rng: random.Random) -> Iterator[None]:
    yield
    client.login("soak-coordinator")
    serial = 0
    while True:
        serial += 1
        profile = form_profile(realistic_profile(rng))
        details = {
            "hospital_reference": f"SOAKP-{os.getpid()}-{serial}",
            "referring_clinician": "Dr Soak, oncology",
            "question": "Which options are open?",
            "clinical_summary": "Created by the soak benchmark.",
            "status": "draft",
        }
        yield
        client.request("GET", "/cases/new/", endpoint="GET /cases/new/")
        yield
        created = client.request(
            "POST", "/cases/new/", endpoint="POST /cases/new/", form={**details, **profile}, expect=(302,)
        )
        case = location_id(created, r"^/cases/(\d+)/$") if created.status == 302 else None
        if case is None:
            if "/login/" in created.headers.get("Location", ""):  # the session was lost
                client.login("soak-coordinator")
            continue
        with ledger.lock:
            ledger.cases[case] = details["hospital_reference"]
            ledger.case_versions[case] = 1
            ledger.shared_cases.append(case)
        for edit in range(2):
            yield
            page = client.request("GET", f"/cases/{case}/edit/", endpoint="GET /cases/<id>/edit/")
            version = re.search(r'name="version" value="(\d+)"', page.text)
            if page.status != 200 or version is None:
                break
            summary = f"Edit {edit + 1} by the soak benchmark."
            yield
            saved = client.request(
                "POST",
                f"/cases/{case}/edit/",
                endpoint="POST /cases/<id>/edit/",
                form={**details, **profile, "clinical_summary": summary, "version": version.group(1)},
                expect=(302,),
            )
            if saved.status != 302:
                break
            with ledger.lock:
                ledger.case_versions[case] = int(version.group(1)) + 1


def api_eligibility(client: Client, ledger: Ledger, rng: random.Random) -> Iterator[None]:
    yield
    client.issue_token("soak-clinician")
    turn = 0
    while True:
        turn += 1
        yield
        if turn % 4 == 1:
            batch = {"profiles": [realistic_profile(rng) for _ in range(10)]}
            client.request(
                "POST",
                "/api/v2/eligibility/batch/",
                endpoint="POST /api/v2/eligibility/batch/",
                json_body=batch,
            )
        elif turn % 4 == 2:
            batch = {"profiles": [realistic_profile(rng) for _ in range(50)]}
            client.request(
                "POST",
                "/api/v2/eligibility/batch/?view=summary",
                endpoint="POST /api/v2/eligibility/batch/?view=summary",
                json_body=batch,
            )
        elif turn % 4 == 3:
            client.request(
                "POST",
                "/api/v2/eligibility/?view=summary",
                endpoint="POST /api/v2/eligibility/?view=summary",
                json_body={"profile": realistic_profile(rng)},
            )
        else:
            client.request(
                "POST",
                "/api/v2/eligibility/",
                endpoint="POST /api/v2/eligibility/",
                json_body={"profile": realistic_profile(rng)},
            )


def api_cases(client: Client, ledger: Ledger, rng: random.Random) -> Iterator[None]:
    yield
    client.issue_token("soak-coordinator")
    serial = 0
    while True:
        serial += 1
        reference = f"SOAKA-{os.getpid()}-{serial}"
        body: dict[str, Any] = {
            "hospital_reference": reference,
            "referring_clinician": "Dr Soak, API",
            "question": "Which options are open?",
            "profile": realistic_profile(rng),
        }
        yield
        created = client.request(
            "POST", "/api/v2/cases/", endpoint="POST /api/v2/cases/", json_body=body, expect=(201,)
        )
        if created.status != 201:
            continue
        case = created.json()["id"]
        with ledger.lock:
            ledger.cases[case] = reference
            ledger.case_versions[case] = 1
            ledger.shared_cases.append(case)
        version = 1
        latest = 0
        for edit in range(2):
            yield
            evaluated = client.request(
                "POST",
                f"/api/v2/cases/{case}/evaluations/",
                endpoint="POST /api/v2/cases/<id>/evaluations/",
                expect=(201,),
            )
            if evaluated.status == 201:
                evaluation = evaluated.json()["id"]
                latest = evaluation
                with ledger.lock:
                    ledger.evaluations.add(evaluation)
                yield
                client.request(
                    "GET",
                    f"/api/v2/cases/{case}/evaluations/{evaluation}/",
                    endpoint="GET /api/v2/cases/<id>/evaluations/<id>/",
                )
            yield
            change = {
                "version": version,
                "clinical_summary": f"API edit {edit + 1}",
                "profile": realistic_profile(rng),
            }
            patched = client.request(
                "PATCH", f"/api/v2/cases/{case}/", endpoint="PATCH /api/v2/cases/<id>/", json_body=change
            )
            if patched.status != 200:
                break
            version = patched.json()["version"]
            with ledger.lock:
                ledger.case_versions[case] = version
        if latest:  # reviews of an evaluation are refused (409) once a newer one exists
            with ledger.lock:
                ledger.shared_evaluations.append((case, latest))
        yield
        client.request("GET", "/api/v2/cases/", endpoint="GET /api/v2/cases/")
        if serial % 3 == 0:
            yield
            client.request(
                "GET", f"/api/v2/cases/{case}/summary/", endpoint="GET /api/v2/cases/<id>/summary/"
            )


def api_reviews(client: Client, ledger: Ledger, rng: random.Random) -> Iterator[None]:
    yield
    client.issue_token("soak-clinician")
    while True:
        with ledger.lock:
            made = list(ledger.shared_evaluations[-20:])
        if not made:
            yield
            client.request("GET", "/api/v2/cases/", endpoint="GET /api/v2/cases/")
            continue
        case, evaluation = rng.choice(made)
        modality = rng.choice(MODALITY_KEYS)
        with ledger.lock:
            seen = ledger.reviews.get((evaluation, modality))
        if seen == -1:  # a PUT with an unknown outcome: its version is not known any more
            continue
        review: dict[str, Any] = {
            "decision": rng.choice(["accept", "reject", "defer"]),
            "reason_code": "clinically_appropriate",
        }
        if seen:
            review["version"] = seen
        yield
        path = f"/api/v2/cases/{case}/evaluations/{evaluation}/reviews/{modality}/"
        answer = client.request(
            "PUT", path, endpoint="PUT /api/v2/.../reviews/<modality>/", json_body=review, expect=(200, 201)
        )
        with ledger.lock:
            ledger.reviews[(evaluation, modality)] = (
                answer.json()["version"] if answer.status in (200, 201) else -1
            )


CLIENTS: dict[str, Callable[[Client, Ledger, random.Random], Iterator[None]]] = {
    "clinician-pages": clinician_pages,
    "coordinator-pages": coordinator_pages,
    "api-eligibility": api_eligibility,
    "api-cases": api_cases,
    "api-reviews": api_reviews,
}


def paced(name: str, rate: float, port: int, ledger: Ledger, stop: threading.Event, seed: int) -> None:
    """Run one client at `rate` requests per second; a client that falls behind does not burst."""
    client = Client(name, port, ledger)
    steps = CLIENTS[name](client, ledger, random.Random(seed))
    interval = 1 / rate
    due = time.monotonic() + random.Random(seed).uniform(0, interval)
    while not stop.is_set():
        wait = due - time.monotonic()
        if wait > 0:
            stop.wait(wait)
            if stop.is_set():
                return
        due = max(due + interval, time.monotonic() - interval)
        next(steps)


def pack_client(
    port: int, ledger: Ledger, stop: threading.Event, meeting: int, every: float, made: list[str]
) -> None:
    """Prepare the meeting pack through the task queue, poll its box until ready, download it.

    `made` gets each pack's seconds from prepare to download, or why it did not come."""
    client = Client("pack", port, ledger)
    while not stop.is_set() and not client.login("soak-coordinator"):
        stop.wait(5)
    while not stop.is_set():
        began = time.monotonic()
        client.request(
            "POST",
            f"/meetings/{meeting}/pack/prepare/",
            endpoint="POST /meetings/<id>/pack/prepare/",
            form={},
            expect=(302,),
        )
        deadline = time.monotonic() + 180
        while not stop.is_set() and time.monotonic() < deadline:
            stop.wait(2)
            state = client.request("GET", f"/meetings/{meeting}/pack/", endpoint="GET /meetings/<id>/pack/")
            link = re.search(rf'href="(/meetings/{meeting}/pack/\d+\.pdf)"', state.text)
            if link:
                pdf = client.request("GET", link.group(1), endpoint="GET /meetings/<id>/pack/<id>.pdf")
                if pdf.status == 200 and pdf.body.startswith(b"%PDF"):
                    with ledger.lock:
                        ledger.packs += 1
                    made.append(f"{time.monotonic() - began:.1f}")
                else:
                    made.append(f"download-{pdf.status}")
                break
            if "pack-state error" in state.text:
                made.append("failed")
                break
        else:
            if not stop.is_set():
                made.append("not-ready-in-180s")
        stop.wait(max(0.0, every - (time.monotonic() - began)))


# --- memory ---------------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(match.group(1)) / 1024 if match else None


def sample_memory(
    master: int,
    worker: TaskWorker,
    ledger: Ledger,
    stop: threading.Event,
    every: float,
    samples: dict[str, list[Any]],
) -> None:
    while True:
        at = ledger.now()
        for pid in children(master):
            value = rss_mb(pid)
            if value is not None:
                samples[f"gunicorn worker {pid}"].append((at, value))
        pid = worker.process.pid
        value = rss_mb(pid)
        if value is not None:
            samples[f"task worker {pid}"].append((at, value))
        if stop.wait(every):
            return


# --- the fault ------------------------------------------------------------------------------------


def fault(database: str, ledger: Ledger, window: dict[str, float]) -> None:
    """Kill the app's connections to its own database and refuse new ones for a while."""
    terminate = (
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()"
    )
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        window["start"] = ledger.now()
        killed = admin.execute(terminate, (database,)).fetchone()
        admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        again = admin.execute(terminate, (database,)).fetchone()
        time.sleep(FAULT_BLOCK_SECONDS)
        admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        window["end"] = ledger.now()
        window["killed"] = (killed[0] if killed else 0) + (again[0] if again else 0)


# --- setting up and tearing down ------------------------------------------------------------------


def environment(workdir: Path, database: str, prefix: str, port: int) -> dict[str, str]:
    (workdir / "soak_settings.py").write_text(
        f"from netcare.settings import *  # noqa: F403\nSTATIC_ROOT = {str(workdir / 'static')!r}\n"
    )
    env = {name: value for name, value in os.environ.items() if not name.startswith(("DJANGO_", "NETCARE_"))}
    env.update(
        PYTHONPATH=os.pathsep.join([str(workdir), str(ROOT)]),
        DJANGO_SETTINGS_MODULE="soak_settings",
        NETCARE_ENV_FILE="",
        DEBUG="false",
        SECRET_KEY=secrets.token_hex(32),
        ALLOWED_HOSTS="127.0.0.1",
        # Plain HTTP on this host, no proxy in front.
        SECURE_SSL_REDIRECT="false",
        SECURE_COOKIES="false",
        SECURE_HSTS_SECONDS="0",
        NETCARE_TRUSTED_PROXIES="",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{database}",
        REDIS_URL=REDIS_URL,
        CACHE_KEY_PREFIX=prefix,
        TASK_BACKEND="database",
        WEB_CONCURRENCY="2",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        LOG_FORMAT="json",
        # Every client comes from 127.0.0.1: limits far above the benchmark's rates.
        API_THROTTLE_ANON="100000/min",
        API_THROTTLE_USER="100000/min",
        API_THROTTLE_TOKEN="10000/min",
        NETCARE_LOGIN_FAILURES="10000",
        NETCARE_LOGIN_FAILURES_PER_ADDRESS="10000",
    )
    return env


def prepare(env: dict[str, str], database: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')

    def manage(*args: str) -> None:
        command = [PYTHON, str(ROOT / "manage.py"), *args]
        subprocess.run(command, env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)

    manage("migrate", "--noinput", "-v", "0")
    # Its own throwaway database: publish directly (allowed with DEBUG; the golden gate still applies).
    subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), "load_knowledge_base", "--no-approval"],
        env={**env, "DEBUG": "true"},
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    manage("collectstatic", "--noinput", "-v", "0")
    code = (
        "from django.contrib.auth.models import Group, User\n"
        "for name in ('clinician', 'coordinator', 'rule_author', 'admin'):\n"
        f"    user = User.objects.create_user(username='soak-' + name, password={PASSWORD!r})\n"
        "    user.groups.add(Group.objects.get(name=name))\n"
    )
    manage("shell", "-c", code)


class TaskWorker:
    """manage.py task_worker (which itself outlives a lost database), started again should it exit
    (as compose's `restart: unless-stopped`)."""

    def __init__(self, env: dict[str, str], log: Path):
        self.env, self.log = env, log
        self.exits: list[tuple[float, int]] = []  # (t, exit code)
        self.process = self.spawn()

    def spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [PYTHON, str(ROOT / "manage.py"), "task_worker", "--queue-name", "default"],
            env=self.env,
            cwd=ROOT,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )

    def supervise(self, ledger: Ledger, stop: threading.Event) -> None:
        while not stop.wait(1):
            code = self.process.poll()
            if code is not None:
                self.exits.append((ledger.now(), code))
                self.process = self.spawn()


def start(env: dict[str, str], workdir: Path, recycle: bool) -> tuple[subprocess.Popen[bytes], TaskWorker]:
    gunicorn = [PYTHON, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py")]
    if not recycle:
        gunicorn += ["--max-requests", "0"]
    server = subprocess.Popen(
        [*gunicorn, "netcare.wsgi:application"],
        env=env,
        cwd=ROOT,
        stdout=(workdir / "gunicorn.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    return server, TaskWorker(env, workdir / "worker.log")


def seed_meeting(port: int, ledger: Ledger) -> int:
    """A meeting of three evaluated cases, for the pack client (made over the API)."""
    client = Client("setup", port, ledger)
    if not client.issue_token("soak-coordinator"):
        sys.exit("could not get an API token for the setup")
    rng = random.Random(7)
    meeting = client.request(
        "POST",
        "/api/v2/meetings/",
        endpoint="setup",
        json_body={"title": "Soak MDT", "date": dt.date.today().isoformat()},
        expect=(201,),
    ).json()["id"]
    for number in range(3):
        body: dict[str, Any] = {
            "hospital_reference": f"SOAKM-{os.getpid()}-{number}",
            "referring_clinician": "Dr Soak",
            "question": "Which options are open?",
            "profile": PROFILE if number == 0 else realistic_profile(rng),
        }
        case = client.request(
            "POST", "/api/v2/cases/", endpoint="setup", json_body=body, expect=(201,)
        ).json()
        ledger.cases[case["id"]] = str(body["hospital_reference"])
        ledger.case_versions[case["id"]] = 1
        ledger.shared_cases.append(case["id"])
        client.request("POST", f"/api/v2/cases/{case['id']}/evaluations/", endpoint="setup", expect=(201,))
        client.request(
            "POST", f"/api/v2/meetings/{meeting}/cases/", endpoint="setup", json_body={"case": case["id"]}
        )
    with ledger.lock:
        ledger.records.clear()
    return int(meeting)


def teardown(processes: tuple[subprocess.Popen[bytes], ...], database: str, prefix: str, keep: bool) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
    if keys:
        client.delete(*keys)
    if not keep:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


# --- the report -----------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def report_requests(ledger: Ledger, window: dict[str, float], seconds: float) -> int:
    records = ledger.records
    by_endpoint: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        by_endpoint[record.endpoint].append(record)
    print(f"\n{len(records)} requests in {seconds:.0f} s ({len(records) / seconds:.1f}/s)")
    print(f"{'endpoint':<46} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for endpoint in sorted(by_endpoint):
        items = by_endpoint[endpoint]
        fine = [r.ms for r in items if r.ok]
        statuses = Counter(r.status for r in items)
        shown = " ".join(f"{status}x{count}" for status, count in sorted(statuses.items()))
        print(
            f"{endpoint:<46} {len(items):>8} {sum(not r.ok for r in items):>6} "
            f"{percentile(fine, 0.5):>8.1f} {percentile(fine, 0.99):>8.1f}  {shown}"
        )
    # The fault window: from the fault's start to 30 s after it ended (a recovery margin).
    begin = window.get("start", float("inf"))
    end = window.get("end", float("inf")) + 30
    inside = [r for r in records if not r.ok and begin <= r.at + r.ms / 1000 <= end]
    outside = [r for r in records if not r.ok and not begin <= r.at + r.ms / 1000 <= end]
    print("\nerrors by status (any status other than the one the step expects; 0 = no answer)")
    print(f"  outside the fault window: {dict(Counter(r.status for r in outside)) or 'none'} (target none)")
    for record in outside[:20]:
        print(f"    t={record.at:7.1f} s  {record.client:<18} {record.endpoint}  -> {record.status}")
    if "start" in window:
        print(f"  inside the fault window:  {dict(Counter(r.status for r in inside)) or 'none'}")
    server_errors = [r for r in records if r.status >= 500 and r.status != 503]
    print(f"  5xx other than 503: {len(server_errors)} (target 0)")
    for record in server_errors[:20]:
        print(f"    t={record.at:7.1f} s  {record.client:<18} {record.endpoint}  -> {record.status}")
    if "start" in window:
        unavailable = [r for r in records if r.status == 503]
        print(
            f"\nfault: connections terminated at t={window['start']:.1f} s "
            f"({window['killed']:.0f} backends), "
            f"new connections refused until t={window['end']:.1f} s"
        )
        if unavailable:
            first, last = unavailable[0].at, unavailable[-1].at
            print(
                f"  503 window: first at t={first:.1f} s, last at t={last:.1f} s "
                f"({last - first:.1f} s), {len(unavailable)} answers 503"
            )
            print(f"  503 by endpoint: {dict(Counter(r.endpoint for r in unavailable))}")
        else:
            print("  no 503 answered")
        after = [r for r in records if r.at > window["end"]]
        recovered = next((r.at for r in after if r.ok), None)
        if recovered is not None:
            print(f"  first success after the database came back: t={recovered:.1f} s")
    return len(outside) + len(server_errors)


def report_memory(samples: dict[str, list[Any]], every: float, elapsed: float) -> bool:
    print(f"\nRSS (MB), sampled every {every:g} s from t=0 (the last one after the load)")
    flat = True
    for name, series in samples.items():
        values = " ".join(f"{value:.0f}" for _, value in series)
        print(f"  {name:<24} {values}")
    for name, series in samples.items():
        if len(series) < 2:
            continue
        # A minute after the process's first sample (a third of a short run): imports and caches
        # are warm by then. A task worker started again during the run has its own first minute.
        warm = series[0][0] + min(60, elapsed / 3)
        first = next(value for at, value in series if at >= warm or (at, value) == series[-1])
        last = series[-1][1]
        growth = last - first
        print(f"  {name:<24} first minute {first:.1f} -> last {last:.1f} MB: {growth:+.1f} MB")
        if name.startswith("gunicorn") and growth > max(10.0, first * 0.1):
            flat = False
    return flat


def verify(database: str, ledger: Ledger) -> bool:
    """Every write the clients got a 2xx for is in the database."""
    url = f"postgres://postgres@127.0.0.1:5432/{database}"
    with psycopg.connect(url) as connection:
        rows = connection.execute(
            "SELECT id, hospital_reference, version FROM treatments_case WHERE id = ANY(%s)",
            (list(ledger.cases),),
        ).fetchall()
        found = {row[0]: (row[1], row[2]) for row in rows}
        evaluations = {
            row[0]
            for row in connection.execute(
                "SELECT id FROM treatments_evaluation WHERE id = ANY(%s)", (list(ledger.evaluations),)
            ).fetchall()
        }
        reviews = {
            (row[0], row[1]): row[2]
            for row in connection.execute("SELECT evaluation_id, modality, version FROM treatments_review")
        }
    missing_cases = [pk for pk, reference in ledger.cases.items() if found.get(pk, ("",))[0] != reference]
    stale = [pk for pk, version in ledger.case_versions.items() if pk in found and found[pk][1] < version]
    missing_evaluations = sorted(ledger.evaluations - evaluations)
    acked = {key: version for key, version in ledger.reviews.items() if version > 0}
    lost_reviews = [key for key, version in acked.items() if reviews.get(key, 0) < version]
    edits = sum(version - 1 for version in ledger.case_versions.values())
    print("\nnothing lost? every write answered 2xx, looked up in the database afterwards")
    print(f"  cases created        {len(ledger.cases):>6}  missing {len(missing_cases)} {missing_cases[:10]}")
    print(f"  case edits (versions){edits:>6}  behind {len(stale)} {stale[:10]}")
    print(
        f"  evaluations          {len(ledger.evaluations):>6}  missing {len(missing_evaluations)} "
        f"{missing_evaluations[:10]}"
    )
    print(
        f"  reviews              {len(acked):>6}  missing or behind {len(lost_reviews)} {lost_reviews[:10]}"
    )
    print(f"  meeting packs downloaded: {ledger.packs}")
    return not (missing_cases or stale or missing_evaluations or lost_reviews)


def log_errors(workdir: Path) -> int:
    """The ERROR lines of the server's and the worker's logs by message, apart from the 503s of the
    fault; and the exceptions of tracebacks printed as text (a process that died)."""
    counts: Counter[str] = Counter()
    expected = 0
    for name in ("gunicorn.log", "worker.log"):
        for line in (workdir / name).read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                if re.match(r"^[\w.]+(Error|Exception|Interrupt)\b", line):
                    counts[f"{name}: traceback: {re.sub(r'[0-9]+', 'N', line)[:110]}"] += 1
                continue
            if not isinstance(entry, dict) or entry.get("level") not in ("ERROR", "CRITICAL"):
                continue
            message = str(entry.get("message", ""))
            if entry.get("status") == 503 or message.startswith(
                ("database unavailable", "Service Unavailable")
            ):
                expected += 1
                continue
            exception = entry.get("exception") or {}
            where = ""
            if isinstance(exception, dict):
                frames = exception.get("frames") or []
                where = f" [{exception.get('type')} at {frames[-1] if frames else '?'}]"
            counts[f"{name}: {re.sub(r'[0-9]+', 'N', message)[:100]}{where}"] += 1
    print(f"\nlog lines at ERROR: {expected} about the database being unavailable (the 503s); others:")
    for message, count in counts.most_common(15):
        print(f"  {count:>5}  {message}")
    if not counts:
        print("  none")
    return sum(counts.values())


# --- main -----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=8, help="requests per second, all paced clients")
    parser.add_argument("--no-fault", dest="fault", action="store_false", help="no database fault")
    parser.add_argument("--keep", action="store_true", help="keep the database and the logs")
    parser.add_argument("--quick", action="store_true", help="a 1-minute smoke run")
    parser.add_argument("--recycle", action="store_true", help="keep gunicorn.conf.py's max_requests")
    parser.add_argument("--pack-every", type=float, default=60, help="seconds between meeting packs")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    minutes = 1.0 if args.quick else args.minutes
    seconds = minutes * 60
    sample_every = 10 if args.quick else SAMPLE_SECONDS

    database = f"netcare_soak_{os.getpid()}"
    prefix = f"netcare-soak-{os.getpid()}"
    workdir = Path(tempfile.mkdtemp(prefix="netcare-soak-"))
    env = environment(workdir, database, prefix, args.port)
    processes: tuple[subprocess.Popen[bytes], ...] = ()
    worker: TaskWorker | None = None
    clean = False
    try:
        began = time.monotonic()
        prepare(env, database)
        server, worker = start(env, workdir, args.recycle)
        processes = (server, worker.process)
        _wait(f"http://127.0.0.1:{args.port}/readyz")
        ledger = Ledger()
        meeting = seed_meeting(args.port, ledger)
        print(
            f"set up in {time.monotonic() - began:.0f} s: database {database}, gunicorn "
            f"(2 workers, recycling {'on' if args.recycle else 'off'}) on :{args.port}, task worker, "
            f"Redis prefix {prefix}"
        )
        print(
            f"load: {minutes:g} min at {args.rate:g} req/s over {len(SHARES)} clients "
            f"({', '.join(f'{n} {s:.0%}' for n, s in SHARES.items())}), one meeting pack every "
            f"{args.pack_every:g} s outside the rate; fault {'at half-time' if args.fault else 'off'}"
        )
        sys.stdout.flush()

        ledger.start = time.monotonic()
        stop = threading.Event()
        samples: dict[str, list[Any]] = defaultdict(list)
        pack_times: list[str] = []
        threads = [
            threading.Thread(
                target=sample_memory,
                args=(server.pid, worker, ledger, stop, sample_every, samples),
            ),
            threading.Thread(target=worker.supervise, args=(ledger, stop)),
            threading.Thread(
                target=pack_client, args=(args.port, ledger, stop, meeting, args.pack_every, pack_times)
            ),
        ]
        threads += [
            threading.Thread(target=paced, args=(name, args.rate * share, args.port, ledger, stop, seed))
            for seed, (name, share) in enumerate(SHARES.items())
        ]
        for thread in threads:
            thread.start()
        window: dict[str, float] = {}
        if args.fault:
            stop.wait(seconds / 2)
            fault(database, ledger, window)
        stop.wait(max(0.0, seconds - ledger.now()))
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
        elapsed = ledger.now()
        # The last sample, after the load.
        for pid in children(server.pid):
            value = rss_mb(pid)
            if value is not None:
                samples[f"gunicorn worker {pid}"].append((elapsed, value))

        errors = report_requests(ledger, window, elapsed)
        print(
            f"\nmeeting packs: {sum(t[0].isdigit() for t in pack_times)} of {len(pack_times)} prepared "
            f"and downloaded; seconds from prepare to download (or what went wrong): {' '.join(pack_times)}"
        )
        flat = report_memory(samples, sample_every, elapsed)
        if server.poll() is not None:
            print(f"gunicorn exited during the run with code {server.returncode}")
            flat = False
        exits = ", ".join(f"t={at:.1f} s code {code}" for at, code in worker.exits) or "never"
        print(f"task worker exited: {exits}" + (" - started again" if worker.exits else ""))
        intact = verify(database, ledger)
        logged = log_errors(workdir)
        met = errors == 0 and flat and intact
        print(
            f"\nerrors outside the fault window or 5xx other than 503: {errors}; memory flat: {flat}; "
            f"nothing lost: {intact}; ERROR log lines: {logged}"
        )
        print("targets met" if met else "targets NOT met")
        clean = met
    finally:
        if worker is not None:
            processes = (processes[0], worker.process)
        teardown(processes, database, prefix, args.keep)
        if clean and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept: logs in {workdir}" + (f", database {database}" if args.keep else ""))


if __name__ == "__main__":
    main()
