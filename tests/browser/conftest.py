"""Browser tests: Playwright for Python driving Debian's chromium against pytest-django's live
server, with axe-core run in each page.

- Chromium missing: the tests are skipped with a message that says how to install it, except under
  CI (CI=true), where they fail.
- axe-core missing: installed from the npm registry by install_axe.sh into .cache/axe (git-ignored);
  when that is impossible the tests are skipped, except under CI, where they fail.
- Every page's console errors and uncaught exceptions fail the test that opened it.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from netcare.settings_test import injected_script_hash

# Playwright's sync API runs an event loop in this thread; Django's ORM would refuse to run.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parent.parent.parent
CHROMIUM = Path(os.environ.get("NETCARE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
INSTALL_AXE = Path(__file__).resolve().parent / "install_axe.sh"
AXE_JS = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
IN_CI = os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")
SEVERE = ("serious", "critical")
DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 820, "height": 1180}

# Every page audited, for the summary at the end of the run.
AXE_RESULTS: list[dict[str, Any]] = []


def _missing(message: str) -> None:
    if IN_CI:
        pytest.fail(f"{message} (CI=true: browser tests must run)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _missing(f"chromium not found at {CHROMIUM}: install chromium: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def axe_js() -> Path:
    """axe.min.js, installed from the npm registry on first use."""
    if not AXE_JS.exists():
        try:
            AXE_JS.parents[2].mkdir(parents=True, exist_ok=True)
            # One install at a time when pytest-xdist runs several workers.
            with open(AXE_JS.parents[2] / ".install.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if not AXE_JS.exists():
                    subprocess.run(
                        ["sh", str(INSTALL_AXE)], check=True, timeout=300, capture_output=True, text=True
                    )
        except (OSError, subprocess.SubprocessError) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            _missing(
                f"axe-core could not be installed ({detail.strip()}): run {INSTALL_AXE.relative_to(ROOT)}"
            )
    if not AXE_JS.exists():
        _missing(f"axe-core missing at {AXE_JS}: run {INSTALL_AXE.relative_to(ROOT)}")
    # Allow the freshly installed script under the real content security policy (by its hash): the
    # test settings could not hash it at import time on a clean checkout, before it was installed.
    settings.NETCARE_CSP_EXTRA_SCRIPT_SRC = injected_script_hash(str(AXE_JS))
    return AXE_JS


class Problems(list[str]):
    """Console errors and page errors seen by a page."""


# Chromium logs every 4xx answer as a console error. The pages answer refused input with 400 (bad
# input, shown next to the fields) and 409 (a conflict): those are the pages working, not errors.
_REFUSED_INPUT = re.compile(r"the server responded with a status of (400|409) ")


def _watch(page: Any, problems: Problems) -> None:
    def console(message: Any) -> None:
        if message.type == "error" and not _REFUSED_INPUT.search(message.text):
            problems.append(f"console: {message.text}")

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))


@pytest.fixture
def new_page(browser: Any, live_server: Any, axe_js: Path) -> Iterator[Any]:
    """A factory of pages on the live server; each page's console must stay free of errors."""
    contexts: list[Any] = []
    problems = Problems()

    def make(viewport: dict[str, int] | None = None, javascript: bool = True) -> Any:
        # bypass_csp: Playwright's own helpers (string predicates, injected axe-core) are scripts the
        # site's policy rightly refuses; the policy itself is tested on real responses
        # (tests/test_security_headers.py).
        context = browser.new_context(
            base_url=live_server.url,
            viewport=viewport or DESKTOP,
            java_script_enabled=javascript,
            bypass_csp=True,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        _watch(page, problems)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems, "errors in the browser console:\n" + "\n".join(problems)


@pytest.fixture
def page(new_page: Any) -> Any:
    return new_page()


def audit(page: Any, label: str) -> dict[str, Any]:
    """Run axe-core in the page; fail on any serious or critical violation, listing them."""
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    violations = result["violations"]
    counts: dict[str, int] = {}
    for violation in violations:
        counts[violation["impact"] or "none"] = counts.get(violation["impact"] or "none", 0) + len(
            violation["nodes"]
        )
    AXE_RESULTS.append(
        {
            "page": label,
            "url": page.url,
            "violations": [(v["id"], v["impact"], len(v["nodes"])) for v in violations],
            "passes": len(result.get("passes", [])),
        }
    )
    severe = [violation for violation in violations if violation["impact"] in SEVERE]
    if severe:
        report = [
            f"{v['impact']}: {v['id']} ({v['help']}) {v['helpUrl']}\n"
            + "\n".join(f"    {node['target']}: {node['failureSummary']}" for node in v["nodes"][:5])
            for v in severe
        ]
        print(json.dumps(severe, indent=1)[:20_000])
        pytest.fail(f"axe-core: serious or critical violations on {label}:\n" + "\n".join(report))
    return result


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not AXE_RESULTS:
        return
    terminalreporter.section("axe-core (serious or critical violations fail the test)")
    for item in AXE_RESULTS:
        found = ", ".join(f"{rule} [{impact}] x{nodes}" for rule, impact, nodes in item["violations"])
        terminalreporter.write_line(f"{item['page']}: {found or 'no violations'}")
