"""PDF documents with WeasyPrint: the case summary and the meeting pack, A4, from templates.

Offline by design. Fonts come from the system (DejaVu Sans; no web fonts), and WeasyPrint may read
nothing but our own static files, which the fetcher serves from disk: it never fetches over the
network, least of all from this app (that would tie up a worker waiting for itself). The PDF is
built in memory and sent as an attachment; it is never stored.

WeasyPrint is imported on first use: importing it parses its own stylesheets (about half a
second), which every management command would otherwise pay when Django checks the URLs.
"""

from __future__ import annotations

import functools
import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers

# Relative URLs in the templates resolve against this; nothing is ever read from it as such.
BASE_URL = "file:///netcare/"


def static_file(url: str) -> tuple[bytes, str]:
    """The bytes and content type of one of our static files named by URL (/static/...).

    Raises LookupError for any other URL, or when there is no such file.
    """
    parts = urlsplit(url)
    prefix = "/" + settings.STATIC_URL.strip("/") + "/"
    if parts.scheme not in ("file", "") or not parts.path.startswith(prefix):
        raise LookupError(f"NETcare PDFs load only their own static files, not {url}")
    name = unquote(parts.path.removeprefix(prefix))
    try:
        found = finders.find(name)
    except SuspiciousFileOperation as exc:  # e.g. /static/../../etc/passwd
        raise LookupError(f"refused {url}: outside the static files") from exc
    if not found or isinstance(found, list):
        raise LookupError(f"no static file at {parts.path}")
    path = Path(found)
    return path.read_bytes(), mimetypes.guess_type(path.name)[0] or "application/octet-stream"


@functools.cache
def _fetcher_class() -> type:
    from weasyprint.urls import URLFetcher, URLFetcherResponse, URLFetchingError

    class StaticFileFetcher(URLFetcher):  # type: ignore[misc]
        """Serves /static/... from disk; refuses every other URL (nothing over the network)."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            try:
                body, content_type = static_file(url)
            except LookupError as exc:
                raise URLFetchingError(str(exc)) from exc
            return URLFetcherResponse(url, body, {"Content-Type": content_type})

    return StaticFileFetcher


def render_pdf(template: str, context: dict[str, Any], request: HttpRequest) -> bytes:
    """The template rendered to a PDF (its stylesheet, pdf.css, sets A4 and the page boxes)."""
    from weasyprint import HTML

    html = render_to_string(template, context, request=request)
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=_fetcher_class()())
    return bytes(document.write_pdf())


def pdf_response(document: bytes, filename: str) -> HttpResponse:
    """The PDF as a download, not kept by the browser's cache."""
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    add_never_cache_headers(response)
    return response
