"""Demand and allocations: open applications, registrations and cancellations, renewals due,
waiting time (average and exact median), the cotation distribution, and the allocations (signed
leases after an accepted offer, `committee.Allocation`) per reservation contingent against their
target share and against the L441-1 quotas (DALO / priority households, first quartile outside QPV).

Read-only on the applications and committee apps. Open applications, renewals due, waiting time and
cotation describe today (live components, photographed each refresh for its month); registrations,
cancellations and allocations are dated flows; contingent targets and legal quotas are stocks read
from their dated tables for each month. Definitions: docs/dashboards.md.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncMonth
from django.urls import reverse

from applications.committee.models import Allocation, AllocationQuota, ContingentTarget, QuotaKind
from applications.models import OPEN_STATUSES, Application, ApplicationStatus
from tenancies.models import Agency, Contingent

from ..periods import month_end
from ..registry import Chart, Figure, Provider, in_agencies, register
from ..values import median, ratio

CONTINGENTS = [(c.value, c.label) for c in Contingent]
# Cotation buckets (points): the lower bound of each; a score below 50 (or negative) is in the first.
SCORE_BUCKETS = [0, 50, 100, 150, 200, 300, 400]

# Whole months completed between two dates: the day of the month must be reached (15/01 → 14/03 is
# 1 month, → 15/03 is 2). The same rule as applications.committee.services.whole_months.
OPEN_WAIT_SQL = """
SELECT agency_id,
       ((EXTRACT(YEAR FROM %(as_of)s::date) - EXTRACT(YEAR FROM first_registered_on)) * 12
        + EXTRACT(MONTH FROM %(as_of)s::date) - EXTRACT(MONTH FROM first_registered_on)
        - CASE WHEN EXTRACT(DAY FROM %(as_of)s::date) < EXTRACT(DAY FROM first_registered_on) THEN 1 ELSE 0 END
       )::int AS months,
       COUNT(*)
FROM applications_application
WHERE status = ANY(%(statuses)s) AND first_registered_on <= %(as_of)s::date
GROUP BY 1, 2
"""


def _list(ctx, **params):
    query = urlencode({k: v for k, v in {"agency": ctx.agency_id or "", **params}.items() if v})
    return reverse("applications:application_list") + ("?" + query if query else "")


def _detail(code):
    return lambda ctx: ctx.detail_url(code)


def _bucket_label(index: int) -> str:
    low = SCORE_BUCKETS[index]
    if index + 1 < len(SCORE_BUCKETS):
        high = SCORE_BUCKETS[index + 1] - 1
        return f"moins de {high + 1} points" if index == 0 else f"{low} à {high} points"
    return f"{low} points et plus"


def target_share(targets: dict, agency_id: int, contingent: str, year: int) -> Decimal | None:
    """The agency's own target for the year, else the organisation-wide one, else None."""
    found = targets.get((agency_id, contingent, year))
    return found if found is not None else targets.get((None, contingent, year))


def quota_share(quotas: list, kind: str, day: date) -> Decimal | None:
    """The legal share in force on `day` (the latest row valid from that day or before)."""
    rows = [(valid_from, share) for k, valid_from, share in quotas if k == kind and valid_from <= day]
    return max(rows)[1] if rows else None


class ApplicationsProvider(Provider):
    def compute(self, *, months: list[date], as_of: date):
        first, end = months[0], min(as_of, month_end(months[-1]))
        live_month = as_of.replace(day=1)
        if live_month in months:
            yield from self._live(as_of, live_month)
        for field, key in (("first_registered_on", "registered"), ("cancelled_on", "cancelled")):
            rows = (
                Application.objects.filter(**{f"{field}__gte": first, f"{field}__lte": end})
                .values("agency", m=TruncMonth(field))
                .annotate(n=Count("pk"))
            )
            for row in rows:
                yield row["agency"], row["m"], key, row["n"], row["n"]
        yield from self._allocations(first, end)
        yield from self._targets(months)

    def _live(self, as_of, live_month):
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
        # Cotation distribution: one count per bucket.
        buckets = {}
        for i, low in enumerate(SCORE_BUCKETS):
            if i == 0:
                buckets[f"score_b_{low}"] = Q(score__lt=SCORE_BUCKETS[1])
            elif i + 1 == len(SCORE_BUCKETS):
                buckets[f"score_b_{low}"] = Q(score__gte=low)
            else:
                buckets[f"score_b_{low}"] = Q(score__gte=low, score__lt=SCORE_BUCKETS[i + 1])
        counts = open_apps.values("agency").annotate(**{k: Count("pk", filter=q) for k, q in buckets.items()})
        for row in counts:
            for key in buckets:
                yield row["agency"], live_month, key, row[key], 0
        # Whole months waited, as a histogram (exact median).
        with connection.cursor() as cursor:
            cursor.execute(OPEN_WAIT_SQL, {"as_of": as_of, "statuses": list(OPEN_STATUSES)})
            for agency_id, waited_months, n in cursor.fetchall():
                yield agency_id, live_month, f"open_wait_m_{max(waited_months, 0)}", n, 0

    def _allocations(self, first, end):
        allocations = Allocation.objects.filter(allocated_on__gte=first, allocated_on__lte=end)
        totals = allocations.values("agency", m=TruncMonth("allocated_on"), c=F("contingent")).annotate(
            n=Count("pk"),
            priority=Count("pk", filter=Q(dalo=True) | Q(priority_public=True)),
            dalo=Count("pk", filter=Q(dalo=True)),
            out_qpv=Count("pk", filter=Q(qpv=False)),
            out_qpv_q1=Count("pk", filter=Q(qpv=False, first_quartile=True)),
            wait=Sum("waiting_days"),
        )
        for row in totals:
            agency, m, c = row["agency"], row["m"], row["c"]
            yield agency, m, "alloc_total", row["n"], row["n"]
            yield agency, m, f"alloc_{c}", row["n"], 0
            yield agency, m, f"alloc_prio_{c}", row["priority"], 0
            yield agency, m, "alloc_priority", row["priority"], 0
            yield agency, m, "alloc_dalo", row["dalo"], 0
            yield agency, m, "alloc_out_qpv", row["out_qpv"], 0
            yield agency, m, "alloc_out_qpv_q1", row["out_qpv_q1"], 0
            yield agency, m, "alloc_wait_days", row["wait"] or 0, 0
        waits = allocations.values("agency", "waiting_months", m=TruncMonth("allocated_on")).annotate(n=Count("pk"))
        for row in waits:
            yield row["agency"], row["m"], f"alloc_wait_m_{row['waiting_months']}", row["n"], 0

    def _targets(self, months):
        targets = {
            (agency_id, contingent, year): share
            for agency_id, contingent, year, share in ContingentTarget.objects.values_list(
                "agency_id", "contingent", "year", "target_share"
            )
        }
        quotas = list(AllocationQuota.objects.values_list("kind", "valid_from", "share"))
        for agency_id in Agency.objects.values_list("id", flat=True):
            for m in months:
                yield agency_id, m, "target_agencies", 1, 0
                for c, _label in CONTINGENTS:
                    share = target_share(targets, agency_id, c, m.year)
                    if share is not None:
                        yield agency_id, m, f"target_{c}", share, 0
                        yield agency_id, m, f"target_n_{c}", 1, 0
                for kind, key in ((QuotaKind.PRIORITY, "quota_priority"), (QuotaKind.FIRST_QUARTILE, "quota_q1")):
                    share = quota_share(quotas, kind, month_end(m))
                    if share is not None:
                        yield agency_id, m, key, share, 0
                        yield agency_id, m, f"{key}_n", 1, 0

    def figures(self):
        today = "demandes à ce jour"
        figures = [
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
                "Jours depuis la première inscription, moyenne des demandes actives en fin de période.",
            ),
            Figure(
                "applications.waiting_median",
                "Ancienneté médiane des demandes actives (mois révolus)",
                "months",
                lambda v: median(v.histogram("open_wait_m_", "stock")),
                _list,
                today,
                "Mois entiers écoulés depuis la première inscription (le quantième atteint), médiane exacte.",
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
        for index, low in enumerate(SCORE_BUCKETS):
            figures.append(
                Figure(
                    f"applications.score_b_{low}",
                    f"Demandes actives cotées {_bucket_label(index)}",
                    "count",
                    (lambda k: lambda v: v.stock(k))(f"score_b_{low}"),
                    _list,
                    today,
                )
            )
        figures += [
            Figure(
                "applications.allocations",
                "Attributions (baux signés)",
                "count",
                lambda v: v.flow("alloc_total"),
                _detail("applications.allocations"),
                help="Propositions acceptées dont le bail est signé, à la date de signature.",
            ),
        ]
        for c, label in CONTINGENTS:
            figures += [
                Figure(
                    f"applications.alloc_{c}",
                    f"Attributions — contingent {label}",
                    "count",
                    (lambda k: lambda v: v.flow(f"alloc_{k}"))(c),
                    _detail(f"applications.alloc_{c}"),
                ),
                Figure(
                    f"applications.alloc_share_{c}",
                    f"Part des attributions — contingent {label}",
                    "percent",
                    (lambda k: lambda v: ratio(v.flow(f"alloc_{k}"), v.flow("alloc_total")))(c),
                    _detail(f"applications.alloc_{c}"),
                ),
                Figure(
                    f"applications.target_{c}",
                    f"Objectif — contingent {label}",
                    "percent",
                    (lambda k: lambda v: ratio(v.stock(f"target_{k}"), v.stock(f"target_n_{k}"), scale=1))(c),
                    help="Part cible des attributions de l'année (table des objectifs des contingents).",
                ),
            ]
        figures += [
            Figure(
                "applications.priority_share",
                "Part des attributions aux ménages DALO ou prioritaires (L441-1)",
                "percent",
                lambda v: ratio(v.flow("alloc_priority"), v.flow("alloc_total")),
                _detail("applications.priority"),
                help="Ménages DALO ou relevant d'au moins un critère de priorité L441-1 ÷ attributions.",
            ),
            Figure(
                "applications.dalo_share",
                "dont ménages DALO",
                "percent",
                lambda v: ratio(v.flow("alloc_dalo"), v.flow("alloc_total")),
                _detail("applications.priority"),
            ),
            Figure(
                "applications.quota_priority",
                "Objectif légal DALO et prioritaires (par réservataire)",
                "percent",
                lambda v: ratio(v.stock("quota_priority"), v.stock("quota_priority_n"), scale=1),
            ),
        ]
        for c, label in CONTINGENTS:
            figures.append(
                Figure(
                    f"applications.priority_share_{c}",
                    f"Part DALO ou prioritaires — contingent {label}",
                    "percent",
                    (lambda k: lambda v: ratio(v.flow(f"alloc_prio_{k}"), v.flow(f"alloc_{k}")))(c),
                    _detail(f"applications.alloc_{c}"),
                )
            )
        figures += [
            Figure(
                "applications.q1_share",
                "Part des attributions hors QPV aux demandeurs du 1er quartile",
                "percent",
                lambda v: ratio(v.flow("alloc_out_qpv_q1"), v.flow("alloc_out_qpv")),
                _detail("applications.outside_qpv"),
                help="Ressources annuelles par UC sous le seuil du 1er quartile de la commune, attributions hors QPV.",
            ),
            Figure(
                "applications.quota_q1",
                "Objectif légal 1er quartile hors QPV",
                "percent",
                lambda v: ratio(v.stock("quota_q1"), v.stock("quota_q1_n"), scale=1),
            ),
            Figure(
                "applications.alloc_waiting",
                "Attente moyenne des ménages attribués (jours)",
                "days",
                lambda v: ratio(v.flow("alloc_wait_days"), v.flow("alloc_total"), scale=1),
                _detail("applications.allocations"),
                help="Jours de la première inscription à la signature du bail.",
            ),
            Figure(
                "applications.alloc_waiting_median",
                "Attente médiane des ménages attribués (mois révolus)",
                "months",
                lambda v: median(v.histogram("alloc_wait_m_")),
                _detail("applications.allocations"),
                help="Mois entiers de la première inscription à la signature du bail, médiane exacte.",
            ),
        ]
        return figures

    def charts(self):
        return [
            Chart(
                "applications_scores",
                "Répartition des cotations des demandes actives",
                tuple(f"applications.score_b_{low}" for low in SCORE_BUCKETS),
            ),
            Chart(
                "applications_contingents",
                "Attributions par contingent et part DALO ou prioritaires",
                (*(f"applications.alloc_{c}" for c, _l in CONTINGENTS), "applications.priority_share:line"),
            ),
        ]

    def drilldowns(self):
        def allocations(**filters):
            def query(agency_ids, period):
                return (
                    Allocation.objects.filter(
                        **in_agencies("agency", agency_ids),
                        allocated_on__gte=period.start,
                        allocated_on__lte=period.end,
                        **filters,
                    )
                    .select_related("dwelling", "lease")
                    .order_by("allocated_on", "id")
                )

            return query

        def priority(agency_ids, period):
            return allocations()(agency_ids, period).filter(Q(dalo=True) | Q(priority_public=True))

        found = {
            "applications.allocations": ("Attributions de la période (baux signés)", allocations(), ALLOCATION_COLUMNS),
            "applications.priority": ("Attributions aux ménages DALO ou prioritaires", priority, ALLOCATION_COLUMNS),
            "applications.outside_qpv": ("Attributions hors QPV", allocations(qpv=False), ALLOCATION_COLUMNS),
        }
        for c, label in CONTINGENTS:
            found[f"applications.alloc_{c}"] = (
                f"Attributions du contingent {label}",
                allocations(contingent=c),
                ALLOCATION_COLUMNS,
            )
        return found


ALLOCATION_COLUMNS = [
    ("Signé le", "allocated_on", "date"),
    ("Logement", "dwelling.reference", ""),
    ("Contingent", "get_contingent_display", ""),
    ("QPV", "qpv_label", ""),
    ("DALO", "dalo_label", ""),
    ("Prioritaire L441-1", "priority_label", ""),
    ("Ressources / UC", "resources_per_unit", "euros"),
    ("Seuil 1er quartile", "quartile_threshold", "euros"),
    ("1er quartile", "first_quartile_label", ""),
    ("Attente (mois)", "waiting_months", ""),
    ("Vacance (jours)", "vacancy_days", ""),
]


register(
    ApplicationsProvider(
        slug="applications",
        title="Demandes et attributions",
        order=20,
        components={
            "open": "stock",
            "score_sum": "stock",
            "waiting_days": "stock",
            "renewal_due": "stock",
            **{f"score_b_{low}": "stock" for low in SCORE_BUCKETS},
            "registered": "flow",
            "cancelled": "flow",
            "alloc_total": "flow",
            **{f"alloc_{c}": "flow" for c, _l in CONTINGENTS},
            **{f"alloc_prio_{c}": "flow" for c, _l in CONTINGENTS},
            "alloc_priority": "flow",
            "alloc_dalo": "flow",
            "alloc_out_qpv": "flow",
            "alloc_out_qpv_q1": "flow",
            "alloc_wait_days": "flow",
            "target_agencies": "stock",
            **{f"target_{c}": "stock" for c, _l in CONTINGENTS},
            **{f"target_n_{c}": "stock" for c, _l in CONTINGENTS},
            "quota_priority": "stock",
            "quota_priority_n": "stock",
            "quota_q1": "stock",
            "quota_q1_n": "stock",
        },
        live=frozenset(
            {
                "open",
                "score_sum",
                "waiting_days",
                "renewal_due",
                "open_wait_m_",
                *(f"score_b_{b}" for b in SCORE_BUCKETS),
            }
        ),
        sparse={"open_wait_m_": "stock", "alloc_wait_m_": "flow"},
    )
)
