"""The access right (RGPD art. 15): a person's data as a readable PDF and as JSON, from the fiche."""

import json

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from billing.documents import pdf_response

from . import privacy
from .audit import log_read


def _filename(person, extension: str) -> str:
    return f"donnees-personnelles-{person.pk}.{extension}"


@require_GET
def person_export_pdf(request, pk):
    person = privacy.get_person_for_user(request.user, pk)
    log_read(request.user, person, purpose="export_rgpd_pdf")
    response = pdf_response(privacy.export_person_pdf(person), _filename(person, "pdf"))
    response["Content-Disposition"] = f'attachment; filename="{_filename(person, "pdf")}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def person_export_json(request, pk):
    person = privacy.get_person_for_user(request.user, pk)
    log_read(request.user, person, purpose="export_rgpd_json")
    body = json.dumps(privacy.export_person(person), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(person, "json")}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
