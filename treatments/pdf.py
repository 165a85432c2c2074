"""PDF documents with WeasyPrint: the case summary and the meeting pack, A4, from templates.

Offline by design. Fonts come from the system (DejaVu Sans; no web fonts), and WeasyPrint may read
nothing but our own static files, which the fetcher serves from disk: it never fetches over the
network, least of all from this app (that would tie up a worker waiting for itself). The PDF is
built in memory and sent as an attachment; only case sheets and meeting packs are kept, in the
database (treatments/sheets.py, treatments/tasks.py).

In production `{% static %}` gives hashed names (css/pdf.1a2b3c.css) from the manifest storage; the
fetcher reads those from STATIC_ROOT, and unhashed names from the apps' static folders. A PDF whose
own stylesheet cannot be read is refused, not sent without its page boxes: those carry the patient
reference on every page, the "Confidential" footer and the page numbers. The stylesheet is given
to WeasyPrint parsed (once per process and version of the file), not linked from the templates.

WeasyPrint is imported on first use: importing it parses its own stylesheets (about half a
second), which every management command would otherwise pay when Django checks the URLs.
"""

from __future__ import annotations

import functools
import hashlib
import mimetypes
import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
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
        found = _find(name)
    except SuspiciousFileOperation as exc:  # e.g. /static/../../etc/passwd
        raise LookupError(f"refused {url}: outside the static files") from exc
    if found is None:
        raise LookupError(f"no static file at {parts.path}")
    path = Path(found)
    return path.read_bytes(), mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _find(name: str) -> str | None:
    """The file on disk for a static name as `{% static %}` wrote it (hashed or not), or None."""
    manifest: Any = getattr(staticfiles_storage, "hashed_files", None)
    if isinstance(manifest, dict) and name in manifest.values():
        # A hashed name from the manifest storage: the collected copy in STATIC_ROOT.
        collected = staticfiles_storage.path(name)
        if os.path.isfile(collected):
            return collected
        name = next(original for original, hashed in manifest.items() if hashed == name)
    found = finders.find(name)
    if isinstance(found, str):
        return found
    return None


class MissingStaticFile(RuntimeError):
    """A PDF's own stylesheet or image could not be read: the document would be incomplete."""


@functools.cache
def _fetcher_class() -> type:
    from weasyprint.urls import URLFetcher, URLFetcherResponse, URLFetchingError

    class StaticFileFetcher(URLFetcher):  # type: ignore[misc]
        """Serves /static/... from disk; refuses every other URL (nothing over the network)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.missing: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            try:
                body, content_type = static_file(url)
            except LookupError as exc:
                if urlsplit(url).path.startswith("/" + settings.STATIC_URL.strip("/") + "/"):
                    self.missing.append(url)  # one of ours: the template asked for it
                raise URLFetchingError(str(exc)) from exc
            return URLFetcherResponse(url, body, {"Content-Type": content_type})

    return StaticFileFetcher


def render_pdf(template: str, context: dict[str, Any], request: HttpRequest | None) -> bytes:
    """The template rendered to a PDF (its stylesheet, pdf.css, sets A4 and the page boxes).

    Raises MissingStaticFile when one of our static files could not be read (a 500, logged),
    rather than sending a PDF without its running header, footer and page numbers. A background
    task has no request: it passes None and puts `user` in the context itself.
    """
    html = render_to_string(template, context, request=request)
    return html_to_pdf(html, template)[0]


def html_to_pdf(html: str, name: str) -> tuple[bytes, int]:
    """HTML made by one of our PDF templates (`name`, for the error) as a PDF, and its page count."""
    from weasyprint import HTML

    fetcher = _fetcher_class()()
    stylesheet = _stylesheet(*_stylesheet_source())
    rendered = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render(stylesheets=[stylesheet])
    if fetcher.missing:
        raise MissingStaticFile(f"PDF {name} not sent: could not read {', '.join(fetcher.missing)}")
    return bytes(rendered.write_pdf()), len(rendered.pages)


STYLESHEET = "/static/css/pdf.css"


def _stylesheet_source() -> tuple[str, str]:
    """The PDFs' stylesheet as it is on disk now, and its SHA-256."""
    try:
        body = static_file(STYLESHEET)[0]
    except LookupError as exc:
        raise MissingStaticFile(f"PDF not made: could not read {STYLESHEET}") from exc
    return body.decode(), hashlib.sha256(body).hexdigest()


@functools.lru_cache(maxsize=4)
def _stylesheet(text: str, digest: str) -> Any:
    """pdf.css parsed once per process and version (parsing it took a third of a sheet's time)."""
    from weasyprint import CSS

    return CSS(string=text, base_url=BASE_URL + "static/css/", url_fetcher=_fetcher_class()())


def stylesheet_digest() -> str:
    """SHA-256 of the PDFs' stylesheet as it is on disk now: part of every cached sheet's key."""
    return _stylesheet_source()[1]


def pdf_response(document: bytes, filename: str) -> HttpResponse:
    """The PDF as a download, not kept by the browser's cache."""
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    add_never_cache_headers(response)
    return response


def warm_up() -> None:
    """Import WeasyPrint and parse the stylesheet now, e.g. before forking processes that lay out."""
    import weasyprint  # noqa: F401

    _stylesheet(*_stylesheet_source())
