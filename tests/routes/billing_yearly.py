"""Yearly operations: the operation pages span every agency; the letters are per lease."""

from datetime import date
from decimal import Decimal

from billing import yearly
from billing.models import ChargeRegularisation, RentRevision, SlsSurvey
from tenancies.models import ChargeType

from . import Route

QUITTANCEMENT = "charge_quittancement"
SLS_YEAR = 2026


def _operations(kind=None, method="get"):
    return Route(kind, method=method, role=QUITTANCEMENT, all_agencies=True)


ROUTES = {
    "billing:yearly_index": _operations(),
    "billing:revision_new": _operations(),
    "billing:revision_detail": _operations("revision"),
    "billing:revision_apply": _operations("revision", method="post"),
    "billing:revision_letter": Route("revision_line", role=QUITTANCEMENT),
    "billing:regularisation_new": _operations(),
    "billing:regularisation_detail": _operations("regularisation"),
    "billing:regularisation_apply": _operations("regularisation", method="post"),
    "billing:regularisation_statement": Route("regularisation+lease", role=QUITTANCEMENT),
    "billing:sls_campaign": _operations("sls_year"),
    "billing:sls_open": _operations("sls_year", method="post"),
    "billing:sls_close": _operations("sls_year", method="post"),
    "billing:sls_recompute": _operations("sls_year", method="post"),
    "billing:sls_apply": _operations("sls_year", method="post"),
    "billing:sls_survey_edit": Route("sls_survey", role=QUITTANCEMENT),
    "billing:sls_letter": Route("sls_survey", role=QUITTANCEMENT),
}


def make_objects(territory):
    """A revision preview at 1 January 2026, a 2025 regularisation of the territory's building with
    one cost, and an answered 2026 SLS survey owing an SLS. Idempotent: called once per URL."""
    revision = RentRevision.objects.filter(effective_on=date(2026, 1, 1)).first()
    if revision is None:
        revision = yearly.revision_preview(effective_on=date(2026, 1, 1))
    line = revision.lines.get(lease=territory.lease)
    regularisation = ChargeRegularisation.objects.filter(building=territory.building, year=2025).first()
    if regularisation is None:
        regularisation = yearly.regularisation_create(building=territory.building, year=2025, today=date(2026, 3, 1))
        yearly.regularisation_set_cost(
            regularisation=regularisation,
            charge_type=ChargeType.objects.get(code="eau_froide"),
            actual_amount=Decimal("300.00"),
            allocation_key="living_area",
        )
        yearly.regularisation_compute(regularisation=regularisation)
    survey = SlsSurvey.objects.filter(lease=territory.lease, year=SLS_YEAR).first()
    if survey is None:
        survey = SlsSurvey.objects.create(lease=territory.lease, year=SLS_YEAR, sent_on=date(2026, 3, 2))
        # Île-de-France, PLUS, category 2: 2026 ceiling 40 233 €, threshold 48 279,60 €.
        yearly.sls_record_answer(
            survey=survey, answered=True, answered_on=date(2026, 3, 20), resources=Decimal("60000"), category="2"
        )
    return {
        "revision": revision,
        "revision_line": line,
        "regularisation": regularisation,
        "regularisation+lease": (regularisation.pk, territory.lease.pk),
        "sls_year": (SLS_YEAR,),
        "sls_survey": survey,
    }
