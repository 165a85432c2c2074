"""Production deployment: DEBUG off, hashed static files from `collectstatic` (the manifest storage),
`check --deploy` clean. Pages and PDFs must work exactly as in development (security review F2, F3)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import override_settings
from pypdf import PdfReader

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
    assert 1 <= len(pages) <= 6, f"{len(pages)} pages: the A4 page boxes of pdf.css were not applied"
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
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
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
