"""Meeting-pack benchmark: a 40-case pack end to end, from the job queued to the PDF ready.

    .venv/bin/python benchmarks/pack.py [--cases 40] [--appendix] [--immediate]

Sets up a fresh SQLite database (PostgreSQL when DATABASE_URL is set: the benchmark then makes and
drops its own database on that server), publishes the knowledge base, and puts N evaluated cases
(realistic referrals, as benchmarks/engine.py makes them) on one meeting. It then starts the real
task worker (`manage.py task_worker`, database backend) and asks for the pack twice, as the meeting
page does:

- cold: no case sheet rendered yet, every sheet is laid out by WeasyPrint;
- cached: the same pack again, every sheet from the cache (treatments/sheets.py), only the cover
  is laid out and the sheets joined.

It prints the wall time from "queued" to "ready" for both, the progress the page would have shown,
the pack's pages and the pages of each case sheet (at most 2 without the appendix).
Targets (issue 12): cold < 10 s, cached < 2 s. The worker shares this machine's cores with
everything else, so on a busy machine the figures are high; the CPU seconds of the worker are
printed beside them. `--immediate` builds the pack in this process instead (no worker).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from engine import realistic_profile  # noqa: E402  (the engine benchmark's mix of referrals)


def environment(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "netcare.settings",
        "NETCARE_ENV_FILE": "",
        "DEBUG": "true",
        "SECRET_KEY": "benchmark-only-" + "x" * 40,
        "DATABASE_URL": database_url,
        "TASK_BACKEND": "database",
        "LOG_FORMAT": "text",
        "LOG_LEVEL": "WARNING",
        # Off while the cases are set up, so that "cold" is cold; the "ahead" run turns it on.
        "NETCARE_SHEETS_AHEAD": "false",
    }


def setup(cases: int) -> Any:
    """The schema, the knowledge base, a clinician and a meeting of `cases` evaluated cases."""
    import datetime as dt

    from django.contrib.auth.models import Group, User
    from django.core.management import call_command

    from treatments import services
    from treatments.inputs import CaseCreate, MeetingInput
    from treatments.rules.profile import PatientProfile

    call_command("migrate", verbosity=0)
    call_command("load_knowledge_base", no_approval=True, stdout=io.StringIO())
    user = User.objects.create_user("bench", first_name="Bea", last_name="Bench")
    user.groups.add(Group.objects.get(name="clinician"))
    meeting = services.meeting_create(
        actor=user,
        data=MeetingInput(title="NET MDT (benchmark)", date=dt.date.today() + dt.timedelta(days=3)),
    )
    rng = random.Random(12)
    for number in range(1, cases + 1):
        data = CaseCreate(
            hospital_reference=f"BENCH-{number:03d}",
            referring_clinician="Dr B Bench (fictional)",
            question="Progressive disease: which treatment next, and is PRRT an option?",
            clinical_summary="Fictional referral for the pack benchmark. " * 3,
            profile=PatientProfile.model_validate(realistic_profile(rng)),
        )
        case = services.case_create(actor=user, data=data)
        services.case_evaluate(actor=user, case=case)
        services.meeting_add_case(actor=user, meeting=meeting, case=case)
    return meeting, user


def run_pack(
    meeting: Any, user: Any, appendix: bool, worker: subprocess.Popen[bytes] | None
) -> dict[str, Any]:
    """Queue a pack as the meeting page does and wait for it; the time and the progress seen."""
    from treatments import tasks
    from treatments.models import MeetingPack

    started = time.perf_counter()
    pack = tasks.pack_prepare(meeting=meeting, user=user, cases=meeting.entries.count(), appendix=appendix)
    seen: list[int] = []
    while not pack.finished:
        if worker is not None and worker.poll() is not None:
            raise SystemExit("the task worker stopped")
        time.sleep(0.1)
        pack = MeetingPack.objects.defer("pdf").get(pk=pack.pk)
        if not seen or seen[-1] != pack.done:
            seen.append(pack.done)
    seconds = time.perf_counter() - started
    if pack.status != MeetingPack.Status.READY:
        raise SystemExit(f"the pack failed: {pack.error}")
    raw = MeetingPack.objects.values_list("pdf", flat=True).get(pk=pack.pk)
    if raw is None:
        raise SystemExit("the pack is ready but holds no PDF")
    document = bytes(raw)
    return {"seconds": seconds, "progress": seen, "pdf": document}


def server(database_url: str, statement: str) -> None:
    """One statement on the PostgreSQL server of `database_url`, from its maintenance database."""
    import psycopg

    with psycopg.connect(database_url.rpartition("/")[0] + "/postgres", autocommit=True) as connection:
        connection.execute(statement)  # type: ignore[arg-type]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far, with its children that have ended (the
    pack's layout processes), from Linux /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(field) for field in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """This process's CPU seconds with its ended children (--immediate)."""
    import resource

    ours, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return ours.ru_utime + ours.ru_stime + children.ru_utime + children.ru_stime


def load_average() -> str:
    return "load average " + " ".join(f"{load:.2f}" for load in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=40)
    parser.add_argument("--appendix", action="store_true", help="every sheet with its appendix")
    parser.add_argument("--immediate", action="store_true", help="build in this process (no worker)")
    parser.add_argument(
        "--processes", type=int, default=None, help="NETCARE_PACK_PROCESSES for the worker (default: its own)"
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="netcare-pack-"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'pack.sqlite3'}"
    if database_url.startswith("postgres"):
        database_url = database_url.rpartition("/")[0] + f"/pack_benchmark_{os.getpid()}"
        server(database_url, f"CREATE DATABASE {database_url.rpartition('/')[2]}")
    env = environment(database_url)
    if args.processes is not None:
        env["NETCARE_PACK_PROCESSES"] = str(args.processes)
    os.environ.update(env)
    if args.immediate:
        os.environ["TASK_BACKEND"] = "immediate"
    import django

    django.setup()
    set_up = time.perf_counter()
    meeting, user = setup(args.cases)
    took = time.perf_counter() - set_up
    database = database_url.split(":")[0]
    print(f"set-up: {args.cases} evaluated cases on one meeting in {took:.1f} s ({database})")
    from django.conf import settings

    processes = settings.NETCARE_PACK_PROCESSES
    print(f"layout processes per pack: {processes}; {os.cpu_count()} cores; {load_average()}")

    worker = None
    if not args.immediate:
        command = [sys.executable, "manage.py", "task_worker", "--interval", "0.1"]
        worker = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(3)  # the worker's own start-up (Django, the URL map) is not the pack's time
    try:
        for label in ("cold", "cached"):
            cpu_before = cpu_seconds(worker.pid) if worker else own_cpu_seconds()
            result = run_pack(meeting, user, args.appendix, worker)
            cpu = (cpu_seconds(worker.pid) if worker else own_cpu_seconds()) - cpu_before
            report(label, result, args.cases, cpu, appendix=args.appendix)
        if worker is not None and not args.appendix:
            ahead(meeting, user, worker)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        if database_url.startswith("postgres"):
            from django.db import connections

            connections.close_all()
            server(database_url, f"DROP DATABASE IF EXISTS {database_url.rpartition('/')[2]}")


def ahead(meeting: Any, user: Any, worker: subprocess.Popen[bytes]) -> None:
    """The usual way: the same cases put on a second meeting with NETCARE_SHEETS_AHEAD on, so the
    worker lays out each sheet in the background as the case is added; then that meeting's pack."""
    import datetime as dt

    from django.conf import settings
    from django_tasks_db.models import DBTaskResult

    from treatments import services
    from treatments.inputs import MeetingInput

    settings.NETCARE_SHEETS_AHEAD = True
    later = MeetingInput(title="NET MDT (benchmark, next week)", date=meeting.date + dt.timedelta(days=7))
    second = services.meeting_create(actor=user, data=later)
    started, cpu_before = time.perf_counter(), cpu_seconds(worker.pid)
    for entry in meeting.entries.select_related("case").order_by("position"):
        services.meeting_add_case(actor=user, meeting=second, case=entry.case)
    while DBTaskResult.objects.exclude(status__in=["SUCCESSFUL", "FAILED"]).exists():
        time.sleep(0.1)
    seconds, cpu = time.perf_counter() - started, cpu_seconds(worker.pid) - cpu_before
    failed = DBTaskResult.objects.filter(status="FAILED").count()
    print(
        f"ahead : the sheets laid out in the background as the cases were added: {seconds:5.2f} s, "
        f"worker CPU {cpu:5.2f} s{f', {failed} tasks FAILED' if failed else ''}; {load_average()}"
    )
    cpu_before = cpu_seconds(worker.pid)
    result = run_pack(second, user, False, worker)
    report("ahead", result, 0, cpu_seconds(worker.pid) - cpu_before, appendix=False)


def report(label: str, result: dict[str, Any], cases: int, cpu: float, *, appendix: bool) -> None:
    from pypdf import PdfReader

    from treatments.models import CaseSheet

    target = 10.0 if label == "cold" else 2.0  # "ahead" is a pack of cached sheets
    reader = PdfReader(io.BytesIO(result["pdf"]))
    pages = Counter(
        CaseSheet.objects.filter(case__hospital_reference__startswith="BENCH-").values_list(
            "pages", flat=True
        )
    )
    verdict = "met" if result["seconds"] < target else "NOT met"
    print(
        f"{label:6}: queued -> ready {result['seconds']:5.2f} s (target < {target:.0f} s: {verdict}); "
        f"worker CPU {cpu:5.2f} s; {len(reader.pages)} pages, {len(result['pdf']) / 1e6:.1f} MB; "
        f"{load_average()}"
    )
    print(f"        progress seen by the page (sheets made): {', '.join(map(str, result['progress']))}")
    if label == "cold":
        spread = ", ".join(
            f"{count} case{'s' if count != 1 else ''} with {n} page{'s' if n != 1 else ''}"
            for n, count in sorted(pages.items())
        )
        limit = "" if appendix else f" (at most 2 without the appendix: {'yes' if max(pages) <= 2 else 'NO'})"
        print(f"        pages per case sheet: {spread}{limit}")


if __name__ == "__main__":
    main()
