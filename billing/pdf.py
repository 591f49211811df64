"""The one helper that turns a template into a PDF (WeasyPrint), fetching nothing but our static files.

Templates are rendered with Django's autoescaping, so a tenant's name cannot become markup;
the URL fetcher is the second wall: WeasyPrint may read our own static files (stylesheet,
logo) through the staticfiles finders and nothing else, neither the network nor the disk.
"""

from __future__ import annotations

import mimetypes
import posixpath
from pathlib import Path
from urllib.parse import unquote, urlsplit

import weasyprint
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from weasyprint.urls import URLFetcher, URLFetcherResponse

# Relative URLs and "/static/…" in the templates resolve against this base, which names no
# real place: the fetcher maps it to the staticfiles finders.
STATIC_BASE_URL = "file:///static/"
_STATIC_PREFIX = "/static/"


def static_path(url: str) -> str | None:
    """The file on disk behind one of our static URLs, or None when the URL is anything else."""
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc or not parts.path.startswith(_STATIC_PREFIX):
        return None
    relative = unquote(parts.path[len(_STATIC_PREFIX) :])
    if not relative or relative.startswith("/") or ".." in relative.split("/") or "\\" in relative:
        return None
    if posixpath.normpath(relative) != relative:
        return None
    found = finders.find(relative)
    if isinstance(found, str):
        return found
    # In production {% static %} gives the manifest's hashed name (css/pdf.<hash>.css), which only
    # exists in STATIC_ROOT after collectstatic: accept it there, and only there.
    root = Path(settings.STATIC_ROOT).resolve()
    candidate = (root / relative).resolve()
    if candidate.is_file() and candidate.is_relative_to(root):
        return str(candidate)
    return None


class StaticOnlyFetcher(URLFetcher):
    """Serves our static files; refuses every other URL (network, file system, data: …)."""

    def fetch(self, url, headers=None):
        path = static_path(url)
        if path is None:
            raise ValueError(f"Ressource refusée dans un document PDF : {url[:200]}")
        with open(path, "rb") as handle:
            body = handle.read()
        mime_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body, {"Content-Type": mime_type})


def letterhead() -> dict:
    """settings.LANDLORD, with the SIRET grouped as printed ("277 800 000 00018")."""
    landlord = dict(settings.LANDLORD)
    siret = "".join(str(landlord.get("siret", "")).split())
    if len(siret) == 14 and siret.isdigit():
        landlord["siret"] = f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"
    return landlord


def render_pdf(template_name: str, context: dict) -> bytes:
    """Render `template_name` with `context` (plus the landlord's letterhead) to PDF bytes."""
    html = render_to_string(template_name, {"landlord": letterhead(), **context})
    return weasyprint.HTML(string=html, base_url=STATIC_BASE_URL, url_fetcher=StaticOnlyFetcher()).write_pdf()
