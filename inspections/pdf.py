"""EDL, notice acknowledgement, lease contract and settlement letter PDFs.

billing.pdf renders every document; for the EDL, the fetcher also hands WeasyPrint the photo
thumbnails and signatures of *this* EDL (and nothing else) under a private URL prefix.
"""

from __future__ import annotations

import weasyprint
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import render_to_string

from billing.pdf import STATIC_BASE_URL, StaticOnlyFetcher, letterhead, render_pdf
from tenancies.uploads import generated_name

FILE_PREFIX = "file:///edl-files/"


class InspectionFetcher(StaticOnlyFetcher):
    """Our static files, plus the listed storage files of one EDL; everything else refused."""

    def __init__(self, allowed: set[str]):
        super().__init__()
        self.allowed = allowed

    def fetch(self, url, headers=None):
        if url.startswith(FILE_PREFIX):
            name = url[len(FILE_PREFIX) :]
            if name not in self.allowed:
                raise ValueError(f"Ressource refusée dans un document PDF : {url[:200]}")
            from weasyprint.urls import URLFetcherResponse

            with default_storage.open(name, "rb") as handle:
                body = handle.read()
            mime = "image/png" if name.endswith(".png") else "image/jpeg"
            return URLFetcherResponse(url, body, {"Content-Type": mime})
        return super().fetch(url, headers)


def inspection_context(inspection) -> dict:
    from .models import InspectionKind

    lease = inspection.lease
    rooms = list(inspection.rooms.prefetch_related("elements", "photos").order_by("position"))
    allowed = set()
    for room in rooms:
        for photo in room.photos.all():
            allowed.add(photo.thumbnail.name)
    for f in (inspection.tenant_signature, inspection.agent_signature):
        if f:
            allowed.add(f.name)
    return {
        "inspection": inspection,
        "lease": lease,
        "dwelling": lease.dwelling,
        "household": lease.household,
        "people": [p for p in lease.household.people.all() if p.is_cotenant] or list(lease.household.people.all()[:1]),
        "rooms": rooms,
        "keys": list(inspection.keys.all()),
        "addenda": list(inspection.addenda.order_by("received_on", "id")),
        "is_exit": inspection.kind == InspectionKind.EXIT,
        "is_previsit": inspection.kind == InspectionKind.PRE_VISIT,
        "entry": inspection.entry,
        "file_prefix": FILE_PREFIX,
        "allowed": allowed,
    }


def render_inspection(inspection) -> bytes:
    context = inspection_context(inspection)
    html = render_to_string("inspections/pdf/edl.html", {"landlord": letterhead(), **context})
    fetcher = InspectionFetcher(context["allowed"])
    return weasyprint.HTML(string=html, base_url=STATIC_BASE_URL, url_fetcher=fetcher).write_pdf()


def store_inspection_pdf(inspection) -> None:
    """Render a signed EDL (with its addenda) and store it; the previous file is replaced."""
    pdf = render_inspection(inspection)
    old = inspection.pdf.name if inspection.pdf else None
    inspection.pdf.save(generated_name("edl-pdf", "pdf"), ContentFile(pdf), save=False)
    type(inspection).objects.filter(pk=inspection.pk).update(pdf=inspection.pdf.name)
    if old:
        default_storage.delete(old)


def render_document(template: str, context: dict) -> bytes:
    return render_pdf(f"inspections/pdf/{template}.html", context)
