"""Production deployment: DEBUG off, hashed static files from `collectstatic` (the manifest storage),
`check --deploy` clean. Pages and PDFs must work exactly as in development (security review F2, F3)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client, override_settings
from pypdf import PdfReader

from tests.conftest import ROOT
from tests.pages.conftest import logged_in
from tests.pages.mdt import create_meeting, evaluated_case
from treatments import services

MANIFEST_STORAGE = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"


def production_storages(root: Path) -> dict[str, Any]:
    return {
        "STATIC_ROOT": str(root),
        "STORAGES": {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": MANIFEST_STORAGE},
        },
    }


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """STATIC_ROOT after `collectstatic` with the manifest storage, as a deployment has it."""
    root = tmp_path_factory.mktemp("staticfiles")
    with override_settings(**production_storages(root)):
        call_command("collectstatic", "--noinput", verbosity=0)
    assert (root / "staticfiles.json").is_file()
    return root


@pytest.fixture
def production(settings: Any, collected_static: Path) -> Iterator[Path]:
    """DEBUG off, hashed static names from the manifest, files served from STATIC_ROOT only."""
    settings.DEBUG = False
    for name, value in production_storages(collected_static).items():
        setattr(settings, name, value)
    settings.WHITENOISE_USE_FINDERS = False
    settings.WHITENOISE_AUTOREFRESH = False
    yield collected_static


def pdf_pages(content: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(content)).pages]


# --- F2: the PDFs keep their stylesheet under the manifest storage ------------------------------


@pytest.mark.django_db
def test_a_summary_pdf_under_the_manifest_storage_has_the_reference_footer_and_page_numbers_on_every_page(
    production: Path, clinician: User, published: object
) -> None:
    case = evaluated_case(clinician, "NET-3001", "36_missing_bloods_pnet")
    client = logged_in(clinician)

    response = client.get(f"/cases/{case.pk}/summary.pdf")

    assert response.status_code == 200, response.content[:300]
    pages = pdf_pages(response.content)
    # Unstyled, a summary runs to about three times its pages (the review saw a pack of 44 instead of
    # 20); the footer on every page below is the real proof that pdf.css was applied.
    assert 1 <= len(pages) <= 10, f"{len(pages)} pages: the A4 page boxes of pdf.css were not applied"
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert "Confidential: patient information" in page
        assert "NET-3001" in page


@pytest.mark.django_db
def test_a_meeting_pack_under_the_manifest_storage_names_the_patient_on_every_page(
    production: Path, clinician: User, published: object
) -> None:
    meeting = create_meeting(clinician, "NET MDT")
    for reference, vignette in [
        ("NET-3003", "02_lung_progressive_nhs"),
        ("NET-3001", "36_missing_bloods_pnet"),
    ]:
        services.meeting_add_case(
            actor=clinician, meeting=meeting, case=evaluated_case(clinician, reference, vignette)
        )

    response = logged_in(clinician).get(f"/meetings/{meeting.pk}/pack.pdf")

    assert response.status_code == 200
    pages = pdf_pages(response.content)
    assert f"Pack page 1 of {len(pages)}" in pages[0]
    for number, page in enumerate(pages, start=1):
        # After the cover, each case sheet numbers its own pages (treatments/sheets.py).
        assert number == 1 or re.search(r"Page [12] of [12]", page), f"page {number} has no page number"
        assert "Confidential: patient information" in page
        assert number == 1 or re.search(r"NET-300[13]", page), f"page {number} names no patient"


def test_the_pdf_fetcher_reads_hashed_names_from_static_root_and_still_refuses_everything_else(
    production: Path,
) -> None:
    from django.templatetags.static import static

    from treatments import pdf

    url = static("css/pdf.css")
    assert re.fullmatch(r"/static/css/pdf\.[0-9a-f]{12}\.css", url), url

    body, content_type = pdf.static_file(f"file://{url}")

    assert content_type == "text/css" and b"@page" in body
    for refused in (
        f"http://127.0.0.1:8000{url}",
        "file:///etc/passwd",
        "file:///static/../../etc/passwd",
        "file:///static/css/pdf.000000000000.css",
        "file:///static/staticfiles.json/../../../etc/passwd",
    ):
        with pytest.raises(LookupError):
            pdf.static_file(refused)


@pytest.mark.django_db
def test_a_pdf_whose_stylesheet_cannot_be_read_is_refused_rather_than_sent_without_its_page_boxes(
    production: Path, clinician: User, published: object
) -> None:
    case = evaluated_case(clinician, "NET-3001", "36_missing_bloods_pnet")
    client = logged_in(clinician)
    client.raise_request_exception = False
    stylesheet = next(production.glob("css/pdf.*.css"))
    kept = stylesheet.read_bytes()
    stylesheet.unlink()
    try:
        with override_settings(STATICFILES_DIRS=[], STATICFILES_FINDERS=[]):
            response = client.get(f"/cases/{case.pk}/summary.pdf")
    finally:
        stylesheet.write_bytes(kept)

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


# --- F3: production settings: check --deploy clean, pages answer 200 after collectstatic -----------

# Variables of the test run (settings_test.py) or of a developer's shell that the processes below set
# themselves.
_OWN = {
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # set by the browser tests' Playwright
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "DJANGO_SETTINGS_MODULE",
    "NETCARE_ENV_FILE",
    "NETCARE_TRUSTED_PROXIES",
    "SECURE_COOKIES",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_AGE",
    "SESSION_EXPIRE_AT_BROWSER_CLOSE",
}
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "0c5b0d6f3f1e4a8a9b7c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a",
    "ALLOWED_HOSTS": "netcare.trust.example",
    "CSRF_TRUSTED_ORIGINS": "https://netcare.trust.example",
    "NETCARE_TRUSTED_PROXIES": "10.0.0.2",
    "NETCARE_ENV_FILE": "",
}


def run(args: list[str], tmp_path: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if name not in _OWN}
    env.setdefault("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    return subprocess.run(
        args, cwd=ROOT, env={**env, **environment}, capture_output=True, text=True, timeout=300
    )


def manage(tmp_path: Path, *args: str, **environment: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "manage.py", *args], tmp_path, **environment)


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path: Path) -> None:
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_check_deploy_is_clean_without_a_proxy_too(tmp_path: Path) -> None:
    environment = {**PRODUCTION_ENV, "NETCARE_TRUSTED_PROXIES": ""}
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **environment)

    assert result.returncode == 0, result.stderr


def test_production_defaults_turn_on_hsts_https_redirect_and_short_sessions(tmp_path: Path) -> None:
    expression = (
        "s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_SSL_REDIRECT, "
        "s.SESSION_COOKIE_AGE, s.SESSION_EXPIRE_AT_BROWSER_CLOSE, "
        "getattr(s, 'SECURE_PROXY_SSL_HEADER', None)"
    )
    code = f"import netcare.settings as s; print({expression})"

    without_proxy = run(
        [sys.executable, "-c", code], tmp_path, **{**PRODUCTION_ENV, "NETCARE_TRUSTED_PROXIES": ""}
    )
    with_proxy = run([sys.executable, "-c", code], tmp_path, **PRODUCTION_ENV)
    development = run([sys.executable, "-c", code], tmp_path, DEBUG="true", NETCARE_ENV_FILE="")

    assert without_proxy.stdout.strip() == "31536000 True True 28800 True None", without_proxy.stderr
    assert with_proxy.stdout.strip().endswith("('HTTP_X_FORWARDED_PROTO', 'https')"), with_proxy.stderr
    assert development.stdout.strip().startswith("0 True False 28800"), development.stderr


@pytest.mark.django_db
def test_with_debug_off_after_collectstatic_the_pages_answer_200_with_hashed_static_files(
    production: Path, clinician: User, published: object
) -> None:
    client = Client()
    login = client.get("/login/")
    assert login.status_code == 200
    stylesheet = re.search(r'href="(/static/css/netcare\.[0-9a-f]{12}\.css)"', login.content.decode())
    assert stylesheet, "the page links the hashed stylesheet"
    assert Client().get(stylesheet.group(1)).status_code == 200

    client = logged_in(clinician)
    for url in ("/", "/catalogue/", "/check/", "/cases/", "/meetings/", "/api/docs/"):
        assert client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_readyz_says_ready_only_with_a_database_a_rule_set_and_the_static_manifest(
    production: Path, settings: Any, tmp_path: Path, no_knowledge_base: None
) -> None:
    not_published = Client().get("/readyz")
    assert not_published.status_code == 503
    assert "load_knowledge_base" in not_published.json()["checks"]["ruleset"]

    from tests.conftest import KNOWLEDGE_BASE
    from treatments.services.knowledge import knowledge_base_publish

    knowledge_base_publish(KNOWLEDGE_BASE)
    ready = Client().get("/readyz")
    assert ready.status_code == 200, ready.json()
    assert ready.json()["status"] == "ok" and ready.json()["checks"]["static"] == "ok"

    settings.STATIC_ROOT = str(tmp_path / "never-collected")
    without_collectstatic = Client().get("/readyz")
    assert without_collectstatic.status_code == 503
    assert "collectstatic" in without_collectstatic.json()["checks"]["static"]
    assert without_collectstatic["Retry-After"]


# --- F3: the newcomer path: make run writes a .env that manage.py reads ---------------------------


def test_make_writes_a_development_env_file_once_and_manage_py_works_with_it(tmp_path: Path) -> None:
    env_file = tmp_path / "dev.env"
    make = ["make", "--no-print-directory", f"ENV_FILE={env_file}", str(env_file)]

    first = run(make, tmp_path)
    assert first.returncode == 0, first.stderr
    written = env_file.read_text()
    assert "DEBUG=true" in written and re.search(r"^SECRET_KEY=insecure-dev-\S{40,}$", written, re.M)
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    run(make, tmp_path)
    assert env_file.read_text() == written, "an existing .env is never overwritten"

    dev = {"NETCARE_ENV_FILE": str(env_file)}
    assert manage(tmp_path, "migrate", "--noinput", **dev).returncode == 0
    assert manage(tmp_path, "load_knowledge_base", "--no-approval", **dev).returncode == 0
    profile = tmp_path / "patient.json"
    profile.write_text('{"primary_site": "pancreas", "disease_status": "progressive"}')
    evaluated = manage(tmp_path, "evaluate", str(profile), **dev)
    assert evaluated.returncode == 0, evaluated.stderr
    assert "rule set" in evaluated.stdout and "liver_transplant" in evaluated.stdout


def test_the_real_environment_wins_over_the_env_file_and_production_refuses_its_development_key(
    tmp_path: Path,
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("# dev\nDEBUG=true\nexport SECRET_KEY='insecure-dev-abc'\nLOG_LEVEL=\"DEBUG\"\n")
    code = "import netcare.settings as s; print(s.DEBUG, s.SECRET_KEY, s.LOGGING['root']['level'])"

    development = run([sys.executable, "-c", code], tmp_path, NETCARE_ENV_FILE=str(env_file))
    production = run([sys.executable, "-c", code], tmp_path, NETCARE_ENV_FILE=str(env_file), DEBUG="false")
    no_file = run([sys.executable, "-c", code], tmp_path, NETCARE_ENV_FILE=str(tmp_path / "absent"))

    assert development.stdout.strip() == "True insecure-dev-abc DEBUG", development.stderr
    assert production.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is a development key" in production.stderr
    assert "ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off" in no_file.stderr


def test_a_line_in_the_env_file_that_is_not_an_assignment_stops_start_up_naming_the_line(
    tmp_path: Path,
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=true\nthis is not a setting\n")

    result = run([sys.executable, "-c", "import netcare.settings"], tmp_path, NETCARE_ENV_FILE=str(env_file))

    assert result.returncode != 0 and f"{env_file}, line 2: not a NAME=value line" in result.stderr
