"""Demand: open applications, new and cancelled ones, renewals due, waiting time, cotation.

Read-only on the applications app's models. Open applications, renewals due, waiting time and
cotation describe today (live components, photographed each refresh for its month); registrations
and cancellations are dated flows. Not computed (see docs/dashboards.md): the median waiting time,
the cotation distribution, allocations per contingent against their targets and the L441-1 quotas
(priority households, first quartile outside QPV).
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.db.models import Count, F, Sum
from django.db.models.functions import TruncMonth
from django.urls import reverse

from applications.models import OPEN_STATUSES, Application, ApplicationStatus

from ..periods import month_end
from ..registry import Figure, Provider, register
from ..values import ratio


def _list(ctx, **params):
    query = urlencode({k: v for k, v in {"agency": ctx.agency_id or "", **params}.items() if v})
    return reverse("applications:application_list") + ("?" + query if query else "")


class ApplicationsProvider(Provider):
    def compute(self, *, months: list[date], as_of: date):
        first, end = months[0], min(as_of, month_end(months[-1]))
        live_month = as_of.replace(day=1)
        if live_month in months:
            open_apps = Application.objects.filter(status__in=OPEN_STATUSES)
            rows = open_apps.values("agency").annotate(n=Count("pk"), score=Sum("score"))
            waited = {
                r["agency"]: r["days"]
                for r in open_apps.values("agency").annotate(days=Sum(as_of - F("first_registered_on")))
            }
            for row in rows:
                days = waited.get(row["agency"])
                yield row["agency"], live_month, "open", row["n"], row["n"]
                yield row["agency"], live_month, "score_sum", row["score"] or 0, 0
                yield row["agency"], live_month, "waiting_days", days.days if hasattr(days, "days") else days, 0
            due = Application.objects.filter(status=ApplicationStatus.RENEWAL_DUE).values("agency")
            for row in due.annotate(n=Count("pk")):
                yield row["agency"], live_month, "renewal_due", row["n"], 0
        for field, key in (("first_registered_on", "registered"), ("cancelled_on", "cancelled")):
            rows = (
                Application.objects.filter(**{f"{field}__gte": first, f"{field}__lte": end})
                .values("agency", m=TruncMonth(field))
                .annotate(n=Count("pk"))
            )
            for row in rows:
                yield row["agency"], row["m"], key, row["n"], row["n"]

    def figures(self):
        today = "demandes à ce jour"
        return [
            Figure(
                "applications.open",
                "Demandes actives (photo de fin de mois)",
                "count",
                lambda v: v.stock("open"),
                _list,
                today,
            ),
            Figure(
                "applications.registered", "Nouvelles demandes", "count", lambda v: v.flow("registered"), _list, today
            ),
            Figure(
                "applications.cancelled",
                "Demandes radiées",
                "count",
                lambda v: v.flow("cancelled"),
                lambda ctx: _list(ctx, status=ApplicationStatus.CANCELLED),
                today,
            ),
            Figure(
                "applications.renewal_due",
                "Renouvellements à faire",
                "count",
                lambda v: v.stock("renewal_due"),
                lambda ctx: _list(ctx, status=ApplicationStatus.RENEWAL_DUE),
                today,
            ),
            Figure(
                "applications.waiting",
                "Ancienneté moyenne des demandes actives (jours)",
                "days",
                lambda v: ratio(v.stock("waiting_days"), v.stock("open"), scale=1),
                _list,
                today,
            ),
            Figure(
                "applications.score",
                "Cotation moyenne des demandes actives",
                "points",
                lambda v: ratio(v.stock("score_sum"), v.stock("open"), scale=1),
                _list,
                today,
            ),
        ]


register(
    ApplicationsProvider(
        slug="applications",
        title="Demandes de logement",
        order=20,
        components={
            "open": "stock",
            "score_sum": "stock",
            "waiting_days": "stock",
            "renewal_due": "stock",
            "registered": "flow",
            "cancelled": "flow",
        },
        live=frozenset({"open", "score_sum", "waiting_days", "renewal_due"}),
    )
)
