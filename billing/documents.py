"""PDF documents of billing. Being written."""

from django.http import Http404


def _todo(request, *args, **kwargs):
    raise Http404


run_agency_pdf = statement_pdf = notice_pdf = quittance_pdf = receipt_pdf = _todo
