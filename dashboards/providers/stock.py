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

from django.db import connection
from django.db.models import Exists, OuterRef, Q, Subquery

from tenancies.models import Dwelling, DwellingStatus, Lease, LeaseStatus

from ..drilldown import SqlRows, VacantDwelling, flow_end, refresh_as_of, stock_day, stock_month
from ..periods import month_end, month_start
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
                "stock.dwellings", "Logements", "count", lambda v: v.stock("dwellings"), _detail_url("stock.dwellings")
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
                    _detail_url(f"stock.status_{status}"),
                    help="Statut en fin de période (reconstitué par les baux pour un mois passé).",
                )
            )
        figures += [
            Figure(
                "stock.vacancy_commercial",
                "Taux de vacance commerciale",
                "percent",
                lambda v: ratio(_add(v.stock("status_vacant"), v.stock("status_reserved")), v.stock("dwellings")),
                _detail_url("stock.vacancy_commercial"),
                help="Logements vacants ou réservés ÷ logements, en fin de période.",
            ),
            Figure(
                "stock.vacancy_technical",
                "Taux de vacance technique (travaux)",
                "percent",
                lambda v: ratio(v.stock("status_works"), v.stock("dwellings")),
                _detail_url("stock.status_works"),
                help="Logements indisponibles pour travaux ÷ logements, en fin de période.",
            ),
            Figure(
                "stock.vacancy_days_rate",
                "Taux de vacance (jours sans bail)",
                "percent",
                lambda v: ratio(v.flow("vacant_days"), v.flow("dwelling_days")),
                _detail_url("stock.rent_lost"),
                help="Jours sans bail ÷ jours de la période, tous logements.",
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
                _detail_url("stock.rent_lost"),
                help="Par logement et par mois : loyer actuel × jours sans bail ÷ jours du mois, au centime.",
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
            return relet_leases(agency_ids, period, refresh_as_of())

        def departures(agency_ids, period):
            return (
                Lease.objects.filter(
                    **in_agencies("dwelling__building__estate__agency", agency_ids),
                    status=LeaseStatus.ENDED,
                    ends_on__gte=period.start,
                    ends_on__lte=flow_end(period, refresh_as_of()),
                )
                .select_related("dwelling")
                .order_by("ends_on", "id")
            )

        def at_end(statuses):
            def query(agency_ids, period):
                return dwellings_at_end(agency_ids, period, refresh_as_of(), statuses)

            return query

        def rent_lost(agency_ids, period):
            return vacant_dwellings(agency_ids, period, refresh_as_of())

        end = "en fin de période"
        return {
            "stock.dwellings": ("Logements", at_end(None), DWELLING_COLUMNS),
            "stock.status_let": (f"Logements loués {end}", at_end(["let"]), DWELLING_COLUMNS),
            "stock.status_vacant": (f"Logements vacants {end}", at_end(["vacant"]), DWELLING_COLUMNS),
            "stock.status_reserved": (f"Logements réservés {end}", at_end(["reserved"]), DWELLING_COLUMNS),
            "stock.status_works": (f"Logements indisponibles (travaux) {end}", at_end(["works"]), DWELLING_COLUMNS),
            "stock.vacancy_commercial": (
                f"Logements vacants ou réservés {end}",
                at_end(["vacant", "reserved"]),
                DWELLING_COLUMNS,
            ),
            "stock.rent_lost": ("Logements sans bail une partie de la période", rent_lost, VACANT_COLUMNS),
            "stock.relet_days": ("Baux de relocation commencés dans la période", relets, RELET_COLUMNS),
            "stock.departures": ("Baux terminés dans la période", departures, LEASE_COLUMNS),
        }


def held_on(day: date) -> Exists:
    """A lease (neither draft nor cancelled) holds the dwelling on that day (the refresh's rule)."""
    leases = Lease.objects.filter(dwelling=OuterRef("pk"), starts_on__lte=day).exclude(status__in=NOT_HELD)
    return Exists(leases.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day)))


def dwellings_at_end(agency_ids, period, as_of: date, statuses: list[str] | None):
    """The dwellings counted in `status_<s>` for these statuses at the month the figure is read at:
    the live status in the refresh's month, else the status rebuilt from the leases."""
    qs = Dwelling.objects.filter(**in_agencies("building__estate__agency", agency_ids))
    if statuses is not None:
        if stock_month(period, as_of) >= month_start(as_of):
            qs = qs.filter(status__in=statuses)
        else:
            held = held_on(stock_day(period, as_of))
            wanted = Q(pk__in=[])
            for status in statuses:
                if status == DwellingStatus.LET:
                    wanted |= Q(held)
                elif status == DwellingStatus.VACANT:
                    wanted |= ~Q(held) & Q(status__in=[DwellingStatus.LET, DwellingStatus.VACANT])
                else:
                    wanted |= ~Q(held) & Q(status=status)
            qs = qs.filter(wanted)
    return qs.order_by("reference", "id")


def relet_leases(agency_ids, period, as_of: date):
    """Leases counted as relets: starting in the period (up to the refresh's day) on a dwelling whose
    previous lease (by start, then id) has an end date, annotated with that end (`previous_end`)."""
    previous = (
        Lease.objects.filter(dwelling=OuterRef("dwelling"))
        .exclude(status__in=NOT_HELD)
        .filter(Q(starts_on__lt=OuterRef("starts_on")) | Q(starts_on=OuterRef("starts_on"), id__lt=OuterRef("id")))
        .order_by("-starts_on", "-id")
        .values("ends_on")[:1]
    )
    return (
        Lease.objects.filter(
            **in_agencies("dwelling__building__estate__agency", agency_ids),
            starts_on__gte=period.start,
            starts_on__lte=flow_end(period, as_of),
        )
        .exclude(status__in=NOT_HELD)
        .annotate(previous_end=Subquery(previous))
        .filter(previous_end__isnull=False)
        .select_related("dwelling")
        .order_by("starts_on", "id")
    )


# Per dwelling of the scope and month of the period (up to the refresh's month): the days without a
# lease and the rent they lost, exactly as STOCK_SQL sums them; dwellings with at least one such day.
VACANT_SQL = """
WITH mo AS (
    -- unnest of the months' array: the planner knows its length (a generate_series is estimated
    -- at 1 000 rows, which makes the plan look costly enough for a JIT compilation of ≈ 1 s).
    SELECT m,
           ((m + interval '1 month')::date - m) AS dim,
           LEAST((m + interval '1 month' - interval '1 day')::date, %(as_of)s::date) AS me
    FROM unnest(%(months)s::date[]) AS m
),
scope AS (
    -- A dwelling held by one lease over the whole span has no day without a lease: left out early
    -- (most of the stock), the others are counted day by day below.
    SELECT d.id, d.reference, d.rent
    FROM tenancies_dwelling d
    JOIN tenancies_building b ON b.id = d.building_id
    JOIN tenancies_estate e ON e.id = b.estate_id
    WHERE (%(everything)s OR e.agency_id = ANY(%(agencies)s))
      AND NOT EXISTS (
          SELECT 1 FROM tenancies_lease h
          WHERE h.dwelling_id = d.id AND h.status NOT IN ('draft', 'cancelled')
            AND h.starts_on <= %(first)s AND (h.ends_on IS NULL OR h.ends_on >= %(span_end)s)
      )
),
occ AS (
    SELECT l.dwelling_id, mo.m,
           SUM(LEAST(COALESCE(l.ends_on, mo.me), mo.me) - GREATEST(l.starts_on, mo.m) + 1) AS days
    FROM tenancies_lease l
    JOIN scope s ON s.id = l.dwelling_id
    JOIN mo ON l.starts_on <= mo.me AND (l.ends_on IS NULL OR l.ends_on >= mo.m)
    WHERE l.status NOT IN ('draft', 'cancelled')
    GROUP BY 1, 2
),
dm AS (
    SELECT s.id, s.reference, s.rent, mo.dim,
           (mo.me - mo.m + 1) - LEAST(COALESCE(occ.days, 0), mo.me - mo.m + 1) AS vacant
    FROM scope s
    CROSS JOIN mo
    LEFT JOIN occ ON occ.dwelling_id = s.id AND occ.m = mo.m
)
SELECT id, reference, rent, SUM(vacant) AS vacant_days, SUM(ROUND(rent * vacant / dim, 2)) AS lost
FROM dm
GROUP BY id, reference, rent
HAVING SUM(vacant) > 0
"""


def vacant_dwellings(agency_ids, period, as_of: date) -> SqlRows:
    """The dwellings behind `vacant_days` and `rent_lost` over the period, with their share of each."""
    last = min(period.last_month, month_start(as_of))
    params = {
        "months": [m for m in period.months if m <= last],
        "first": period.start,
        "as_of": as_of,
        "span_end": min(period.end, as_of),
        "everything": agency_ids is None,
        "agencies": list(agency_ids or []),
    }
    return SqlRows(VACANT_SQL, "ORDER BY lost DESC, id", params, lambda row: VacantDwelling(*row))


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
RELET_COLUMNS = [*LEASE_COLUMNS[:4], ("Fin du bail précédent", "previous_end", "date"), LEASE_COLUMNS[-1]]
DWELLING_COLUMNS = [
    ("Logement", "reference", "link"),
    ("Typologie", "typology", ""),
    ("Statut actuel", "get_status_display", ""),
    ("Loyer", "rent", "euros"),
]
VACANT_COLUMNS = [
    ("Logement", "reference", "link"),
    ("Loyer", "rent", "euros"),
    ("Jours sans bail", "vacant_days", ""),
    ("Loyer perdu", "rent_lost", "euros"),
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
