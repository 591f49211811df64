"""Stock and vacancy: dwellings by status, vacancy rates, days vacant between leases, rent lost, turnover.

Definitions (docs/dashboards.md):
- status at a month's end: the live status for the month of the refresh; for an earlier month it is
  reconstructed: a dwelling held by a lease (any status but draft or cancelled) on the month's last
  day is let, otherwise it keeps its current status (a dwelling let today counts as vacant then);
- vacant days: the days of the month (up to the refresh date) not covered by a lease; rent lost:
  per dwelling and month, current rent × vacant days ÷ days of the month, rounded to the cent;
- relet: a lease starting in the month on a dwelling that had an earlier lease; days vacant between
  the two = start − previous end − 1 (0 when they touch);
- departure: a lease ended (status ended) whose end date falls in the month.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from tenancies.models import DwellingStatus, Lease, LeaseStatus

from ..periods import month_end
from ..registry import Chart, Figure, Provider, in_agencies, register
from ..values import ratio

STATUSES = [s.value for s in DwellingStatus]
NOT_HELD = [LeaseStatus.DRAFT, LeaseStatus.CANCELLED]

STOCK_SQL = """
WITH mo AS (
    SELECT m::date AS m,
           ((m + interval '1 month')::date - m::date) AS dim,
           LEAST((m + interval '1 month' - interval '1 day')::date, %(as_of)s::date) AS me
    FROM generate_series(%(first)s::date, %(last)s::date, interval '1 month') AS m
),
occ AS (
    SELECT l.dwelling_id, mo.m,
           SUM(LEAST(COALESCE(l.ends_on, mo.me), mo.me) - GREATEST(l.starts_on, mo.m) + 1) AS days,
           BOOL_OR(l.ends_on IS NULL OR l.ends_on >= mo.me) AS held_at_end
    FROM tenancies_lease l
    JOIN mo ON l.starts_on <= mo.me AND (l.ends_on IS NULL OR l.ends_on >= mo.m)
    WHERE l.status NOT IN ('draft', 'cancelled')
    GROUP BY 1, 2
),
dm AS (
    SELECT e.agency_id, mo.m, d.rent, mo.dim,
           (mo.me - mo.m + 1) AS span,
           LEAST(COALESCE(occ.days, 0), mo.me - mo.m + 1) AS occupied,
           CASE WHEN mo.m = %(live_month)s::date THEN d.status
                WHEN occ.held_at_end THEN 'let'
                WHEN d.status = 'let' THEN 'vacant'
                ELSE d.status END AS status_at_end
    FROM tenancies_dwelling d
    JOIN tenancies_building b ON b.id = d.building_id
    JOIN tenancies_estate e ON e.id = b.estate_id
    CROSS JOIN mo
    LEFT JOIN occ ON occ.dwelling_id = d.id AND occ.m = mo.m
)
SELECT agency_id, m,
       COUNT(*),
       SUM(span),
       SUM(span - occupied),
       COALESCE(SUM(ROUND(rent * (span - occupied) / dim, 2)), 0),
       COUNT(*) FILTER (WHERE status_at_end = 'vacant'),
       COUNT(*) FILTER (WHERE status_at_end = 'reserved'),
       COUNT(*) FILTER (WHERE status_at_end = 'let'),
       COUNT(*) FILTER (WHERE status_at_end = 'works')
FROM dm
GROUP BY 1, 2
"""

RELET_SQL = """
SELECT e.agency_id, date_trunc('month', x.starts_on)::date, COUNT(*),
       SUM(GREATEST(x.starts_on - x.prev_end - 1, 0))
FROM (
    SELECT l.dwelling_id, l.starts_on,
           LAG(l.ends_on) OVER (PARTITION BY l.dwelling_id ORDER BY l.starts_on, l.id) AS prev_end
    FROM tenancies_lease l
    WHERE l.status NOT IN ('draft', 'cancelled')
) x
JOIN tenancies_dwelling d ON d.id = x.dwelling_id
JOIN tenancies_building b ON b.id = d.building_id
JOIN tenancies_estate e ON e.id = b.estate_id
WHERE x.prev_end IS NOT NULL AND x.starts_on >= %(first)s AND x.starts_on <= %(end)s
GROUP BY 1, 2
"""

DEPARTURE_SQL = """
SELECT e.agency_id, date_trunc('month', l.ends_on)::date, COUNT(*)
FROM tenancies_lease l
JOIN tenancies_dwelling d ON d.id = l.dwelling_id
JOIN tenancies_building b ON b.id = d.building_id
JOIN tenancies_estate e ON e.id = b.estate_id
WHERE l.status = 'ended' AND l.ends_on >= %(first)s AND l.ends_on <= %(end)s
GROUP BY 1, 2
"""


def _dwellings_url(ctx, **params):
    query = {k: v for k, v in {"agency": ctx.agency_id or "", **params}.items() if v}
    return reverse("tenancies:dwelling_list") + ("?" + urlencode(query) if query else "")


def _detail_url(code):
    def link(ctx):
        return ctx.detail_url(code)

    return link


class StockProvider(Provider):
    def compute(self, *, months: list[date], as_of: date):
        first, last = months[0], months[-1]
        end = min(as_of, month_end(last))
        params = {"first": first, "last": last, "as_of": as_of, "live_month": as_of.replace(day=1), "end": end}
        with connection.cursor() as cursor:
            cursor.execute(STOCK_SQL, params)
            for agency_id, m, n, span, vacant, lost, s_vac, s_res, s_let, s_works in cursor.fetchall():
                yield agency_id, m, "dwellings", n, n
                yield agency_id, m, "dwelling_days", span, 0
                yield agency_id, m, "vacant_days", vacant, 0
                yield agency_id, m, "rent_lost", lost, 0
                yield agency_id, m, "status_vacant", s_vac, 0
                yield agency_id, m, "status_reserved", s_res, 0
                yield agency_id, m, "status_let", s_let, 0
                yield agency_id, m, "status_works", s_works, 0
            cursor.execute(RELET_SQL, params)
            for agency_id, m, count, days in cursor.fetchall():
                yield agency_id, m, "relets", count, count
                yield agency_id, m, "relet_vacant_days", days, 0
            cursor.execute(DEPARTURE_SQL, params)
            for agency_id, m, count in cursor.fetchall():
                yield agency_id, m, "departures", count, count

    def figures(self):
        def status_count(status):
            return lambda v: v.stock(f"status_{status}")

        figures = [
            Figure(
                "stock.dwellings",
                "Logements",
                "count",
                lambda v: v.stock("dwellings"),
                lambda ctx: _dwellings_url(ctx),
                "liste du patrimoine actuel",
            )
        ]
        labels = {"let": "Loués", "vacant": "Vacants", "reserved": "Réservés", "works": "Indisponibles (travaux)"}
        for status in ("let", "vacant", "reserved", "works"):
            figures.append(
                Figure(
                    f"stock.status_{status}",
                    labels[status],
                    "count",
                    status_count(status),
                    (lambda s: lambda ctx: _dwellings_url(ctx, status=s))(status),
                    "statut actuel (la liste n'a pas de filtre par date)",
                )
            )
        figures += [
            Figure(
                "stock.vacancy_commercial",
                "Taux de vacance commerciale",
                "percent",
                lambda v: ratio(_add(v.stock("status_vacant"), v.stock("status_reserved")), v.stock("dwellings")),
                lambda ctx: _dwellings_url(ctx, status="vacant"),
                "statut actuel",
                "Logements vacants ou réservés ÷ logements, en fin de période.",
            ),
            Figure(
                "stock.vacancy_technical",
                "Taux de vacance technique (travaux)",
                "percent",
                lambda v: ratio(v.stock("status_works"), v.stock("dwellings")),
                lambda ctx: _dwellings_url(ctx, status="works"),
                "statut actuel",
                "Logements indisponibles pour travaux ÷ logements, en fin de période.",
            ),
            Figure(
                "stock.vacancy_days_rate",
                "Taux de vacance (jours sans bail)",
                "percent",
                lambda v: ratio(v.flow("vacant_days"), v.flow("dwelling_days")),
                lambda ctx: _dwellings_url(ctx, status="vacant"),
                "statut actuel",
                "Jours sans bail ÷ jours de la période, tous logements.",
            ),
            Figure(
                "stock.relet_days",
                "Durée moyenne de vacance entre deux baux (jours)",
                "days",
                lambda v: ratio(v.flow("relet_vacant_days"), v.flow("relets"), scale=1),
                _detail_url("stock.relet_days"),
                help="Baux commencés dans la période sur un logement déjà loué avant : jours entre les deux baux.",
            ),
            Figure(
                "stock.relets",
                "Relocations",
                "count",
                lambda v: v.flow("relets"),
                _detail_url("stock.relet_days"),
            ),
            Figure(
                "stock.rent_lost",
                "Loyer perdu du fait de la vacance",
                "euros",
                lambda v: v.flow("rent_lost"),
                lambda ctx: _dwellings_url(ctx, status="vacant"),
                "statut actuel",
                "Par logement et par mois : loyer actuel × jours sans bail ÷ jours du mois, au centime.",
            ),
            Figure(
                "stock.departures",
                "Départs (baux terminés)",
                "count",
                lambda v: v.flow("departures"),
                _detail_url("stock.departures"),
            ),
            Figure(
                "stock.turnover",
                "Taux de rotation",
                "percent",
                lambda v: ratio(v.flow("departures"), v.stock("dwellings")),
                _detail_url("stock.departures"),
                help="Baux terminés dans la période ÷ logements.",
            ),
        ]
        return figures

    def charts(self):
        return [
            Chart("stock_vacancy", "Vacance par mois (%)", ("stock.vacancy_days_rate", "stock.departures:line"), "bar"),
            Chart("stock_lost", "Loyer perdu par mois (€)", ("stock.rent_lost",), "bar"),
        ]

    def drilldowns(self):
        def relets(agency_ids, period):
            earlier = Lease.objects.filter(dwelling=OuterRef("dwelling")).exclude(status__in=NOT_HELD)
            earlier = earlier.filter(
                Q(starts_on__lt=OuterRef("starts_on")) | Q(starts_on=OuterRef("starts_on"), id__lt=OuterRef("id"))
            )
            return (
                Lease.objects.filter(
                    **in_agencies("dwelling__building__estate__agency", agency_ids),
                    starts_on__gte=period.start,
                    starts_on__lte=period.end,
                )
                .exclude(status__in=NOT_HELD)
                .filter(Exists(earlier))
                .select_related("dwelling")
                .order_by("starts_on", "id")
            )

        def departures(agency_ids, period):
            return (
                Lease.objects.filter(
                    **in_agencies("dwelling__building__estate__agency", agency_ids),
                    status=LeaseStatus.ENDED,
                    ends_on__gte=period.start,
                    ends_on__lte=period.end,
                )
                .select_related("dwelling")
                .order_by("ends_on", "id")
            )

        return {
            "stock.relet_days": ("Baux de relocation commencés dans la période", relets, LEASE_COLUMNS),
            "stock.departures": ("Baux terminés dans la période", departures, LEASE_COLUMNS),
        }


def _add(a, b):
    return None if a is None or b is None else a + b


LEASE_COLUMNS = [
    ("Bail", "number", "link"),
    ("Logement", "dwelling.reference", ""),
    ("Statut", "get_status_display", ""),
    ("Début", "starts_on", "date"),
    ("Fin", "ends_on", "date"),
    ("Loyer", "rent", "euros"),
]


register(
    StockProvider(
        slug="stock",
        title="Patrimoine et vacance",
        order=10,
        components={
            "dwellings": "stock",
            "dwelling_days": "flow",
            "vacant_days": "flow",
            "rent_lost": "flow",
            "status_vacant": "stock",
            "status_reserved": "stock",
            "status_let": "stock",
            "status_works": "stock",
            "relets": "flow",
            "relet_vacant_days": "flow",
            "departures": "flow",
        },
    )
)
