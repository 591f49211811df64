"""The one helper that turns a template into a PDF (WeasyPrint), fetching nothing but our static files.

Templates are rendered with Django's autoescaping, so a tenant's name cannot become markup;
the URL fetcher is the second wall: WeasyPrint may read our own static files (stylesheet,
logo) through the staticfiles finders and nothing else, neither the network nor the disk.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import posixpath
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import weasyprint
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.cache import cache as django_cache
from django.template.loader import render_to_string
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)

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


# WeasyPrint builds a font configuration (fontconfig and Pango font map) for every document unless it is
# given one: ≈ 20 ms a document. One per thread (Pango objects are not shared between threads).
_fonts = threading.local()


def font_config() -> FontConfiguration:
    if getattr(_fonts, "config", None) is None:
        _fonts.config = FontConfiguration()
    return _fonts.config


# Bumped when the rendering itself changes (WeasyPrint options), so that cached PDFs are made again.
PDF_CACHE_VERSION = "1"


def render_pdf(template_name: str, context: dict, *, cache: bool = False) -> bytes:
    """Render `template_name` with `context` (plus the landlord's letterhead) to PDF bytes.

    `cache=True` keeps the PDF in Django's cache under a digest of its HTML: a document printed again
    with the same content (an avis, a quittance or a reçu reprinted) costs the HTML only, and any change
    of what it shows (a new name, a corrected line, another date of issue) is a new key, so a cached
    PDF is never stale. Kept PDF_CACHE_SECONDS; printed anyway when the cache is unreachable.
    """
    html = render_to_string(template_name, {"landlord": letterhead(), **context})
    key = None
    if cache:
        digest = hashlib.blake2b(f"{PDF_CACHE_VERSION}\x1f{html}".encode(), digest_size=20).hexdigest()
        key = f"pdf:{digest}"
        try:
            hit = django_cache.get(key)
        except Exception:  # a cache outage must not stop printing
            logger.warning("PDF cache unreachable (get)", exc_info=True)
            hit = None
        if hit is not None:
            return hit
    pdf = weasyprint.HTML(string=html, base_url=STATIC_BASE_URL, url_fetcher=StaticOnlyFetcher()).write_pdf(
        font_config=font_config()
    )
    if key is not None:
        try:
            django_cache.set(key, pdf, settings.PDF_CACHE_SECONDS)
        except Exception:
            logger.warning("PDF cache unreachable (set)", exc_info=True)
    return pdf
