"""Matching a vacant dwelling: the eligible applications, ranked (issue 4, DOMAIN.md §1.2.4).

One SQL query does the filtering and the ranking over tens of thousands of applications:
status matchable, household size within the typology's range (TypologyOccupancy), resources
within the ceiling of the dwelling's financing for the commune's zone (the ceilings are read once
per household category with applications.eligibility.ceiling, then compared in SQL), and the
wishes (commune, typology, floor and elevator, accessibility, maximum rent). Ranking: score,
then seniority (date of first registration). The solvency figures are computed in Python for
the shown page only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q

from applications.eligibility import ceiling
from applications.models import MATCHABLE_STATUSES, Application, ApplicationPerson
from tenancies.models import Accessibility, Dwelling, Financing

from . import solvency as solv
from .models import AgendaItem, Candidature, SessionStatus, TypologyOccupancy

DEFAULT_LIMIT = 50
# What the ranked list and the solvency figures read of an application (not the free texts).
LIST_FIELDS = (
    "id",
    "agency_id",
    "status",
    "national_number",
    "local_number",
    "first_registered_on",
    "household_size",
    "category",
    "reference_income",
    "monthly_income",
    "score",
    "dalo",
    "reservataire",
)
# Categories above the largest household the typology takes: +1 for a disability or a person
# alone with dependants (applications.eligibility.household_category).
CATEGORY_MARGIN = 1


@dataclass
class DwellingCost:
    rent: Decimal
    annexes: Decimal
    charges: Decimal

    @property
    def total(self) -> Decimal:
        return self.rent + self.annexes + self.charges


def dwelling_cost(dwelling: Dwelling) -> DwellingCost:
    charges = sum((c.monthly_amount for c in dwelling.charges.all()), Decimal("0.00"))
    # Annexes are let separately (tenancies.Annex): none is attached to a vacant dwelling.
    return DwellingCost(dwelling.rent, Decimal("0.00"), charges)


@dataclass
class Criteria:
    """What the query filtered on, shown above the list."""

    min_persons: int | None
    max_persons: int | None
    ceilings: dict[int, Decimal]
    ceiling_note: str


def occupancy(typology: str) -> tuple[int | None, int | None]:
    def compute():
        row = TypologyOccupancy.objects.filter(typology=typology).first()
        return (row.min_persons, row.max_persons) if row else (None, None)

    return cached(("occupancy", typology), compute)


# The dated reference tables (resource ceilings, read twice per category by
# applications.eligibility.ceiling; occupancy; APL scale; thresholds) are kept a minute per
# process, so that ranking a dwelling does not pay a dozen small reads each time. An edit of those
# tables shows within a minute.
PARAMETER_CACHE_SECONDS = 60
_cache: dict[tuple, tuple[float, object]] = {}


def cached(key: tuple, compute):
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and now - hit[0] < PARAMETER_CACHE_SECONDS:
        return hit[1]
    value = compute()
    _cache[key] = (now, value)
    return value


def clear_cache() -> None:
    _cache.clear()


def ceilings_by_category(financing: str, zone: str, top: int, *, on: date) -> dict[int, Decimal]:
    """{household category: annual ceiling} for categories 1 to `top` (unknown cells left out)."""

    def compute():
        ceilings = {}
        for category in range(1, top + 1):
            found = ceiling(financing, zone, category, on=on)
            if found is not None:
                ceilings[category] = found.amount
        return ceilings

    return cached(("ceilings", financing, zone, top, on), compute)


def eligible_applications(dwelling: Dwelling, *, base=None, on: date, cost: DwellingCost | None = None):
    """(queryset of eligible applications ranked, Criteria) for `dwelling`. `base` restricts the
    applications (the user's territory). The dwelling must be loaded with its building, estate and
    commune."""
    qs = Application.objects.all() if base is None else base
    cost = cost or dwelling_cost(dwelling)
    building = dwelling.building
    commune = building.estate.commune
    min_p, max_p = occupancy(dwelling.typology)

    qs = qs.filter(status__in=MATCHABLE_STATUSES)
    if min_p is not None:
        qs = qs.filter(household_size__gte=min_p, household_size__lte=max_p)

    ceilings: dict[int, Decimal] = {}
    note = ""
    if dwelling.financing == Financing.PLI:
        note = "Plafonds PLI non couverts : ressources non filtrées."
    else:
        top = max((max_p or 6) + CATEGORY_MARGIN, 3)
        ceilings = ceilings_by_category(dwelling.financing, commune.ceiling_zone, top, on=on)
        if not ceilings:
            note = f"Aucun plafond {dwelling.financing} connu pour cette zone : aucune demande éligible."
            qs = qs.none()
        else:
            within = Q()
            for category, amount in ceilings.items():
                within |= Q(category=category, reference_income__lte=amount)
            qs = qs.filter(within)

    through = Application.wished_communes.through
    any_commune = through.objects.filter(application_id=OuterRef("pk"))
    this_commune = any_commune.filter(commune_id=commune.pk)
    qs = qs.filter(~Exists(any_commune) | Exists(this_commune))
    qs = qs.filter(Q(wished_typologies=[]) | Q(wished_typologies__contains=[dwelling.typology]))
    qs = qs.filter(Q(max_floor__isnull=True) | Q(max_floor__gte=dwelling.floor))
    if dwelling.floor > 0 and not building.has_elevator:
        qs = qs.filter(needs_elevator=False)
    if dwelling.accessibility == Accessibility.STANDARD:
        qs = qs.filter(needs_accessible=False)
    qs = qs.filter(Q(max_rent__isnull=True) | Q(max_rent__gte=cost.total))
    qs = qs.order_by("-score", "first_registered_on", "id")
    return qs, Criteria(min_p, max_p, ceilings, note)


@dataclass
class Candidate:
    application: Application
    position: int
    solvency: solv.Solvency
    on_agenda: bool = False

    @property
    def flag_labels(self) -> list[str]:
        return [solv.FLAG_LABELS.get(f, f) for f in self.solvency.flags]


def figures_for(applications: list[Application], dwelling: Dwelling, cost: DwellingCost, *, on: date, overrides=None):
    """Solvency of each application for the dwelling: {application id: Solvency}. One query for
    the people (ages)."""
    overrides = overrides or {}
    births: dict[int, list[date]] = {a.pk: [] for a in applications}
    for app_id, birth in ApplicationPerson.objects.filter(application__in=applications).values_list(
        "application_id", "birth_date"
    ):
        births[app_id].append(birth)
    zone = dwelling.building.estate.commune.apl_zone
    scales = cached(("apl", on, zone), lambda: solv.apl_scales_on(on, zone))
    thresholds = cached(("thresholds", on), lambda: solv.thresholds_on(on))
    return {
        a.pk: solv.solvency(
            rent=cost.rent,
            annexes=cost.annexes,
            charges=cost.charges,
            monthly_resources=a.monthly_income,
            birth_dates=births[a.pk],
            household_size=a.household_size,
            scales=scales,
            thresholds=thresholds,
            as_of=on,
            apl_override=overrides.get(a.pk),
        )
        for a in applications
    }


def rank_candidates(dwelling: Dwelling, *, base=None, on: date, limit: int = DEFAULT_LIMIT):
    """The first `limit` eligible applications with their solvency: (candidates, criteria)."""
    cost = dwelling_cost(dwelling)
    qs, criteria = eligible_applications(dwelling, base=base, on=on, cost=cost)
    with transaction.atomic(), connection.cursor() as cursor:
        # The OR of per-category ceilings and the wish subqueries make the planner's estimate cross
        # jit_above_cost on a big table: compiling the query then costs far more than running it.
        cursor.execute("SET LOCAL jit = off")
        applications = list(qs.only(*LIST_FIELDS)[:limit])
    figures = figures_for(applications, dwelling, cost, on=on)
    on_agenda = set(
        Candidature.objects.filter(
            application__in=applications,
            item__dwelling=dwelling,
            item__session__status__in=[SessionStatus.PREPARATION, SessionStatus.OPEN, SessionStatus.CLOSED],
        ).values_list("application_id", flat=True)
    )
    candidates = [Candidate(a, i + 1, figures[a.pk], on_agenda=a.pk in on_agenda) for i, a in enumerate(applications)]
    return candidates, criteria, cost


def open_items_for(dwelling: Dwelling):
    return AgendaItem.objects.filter(dwelling=dwelling).exclude(session__status=SessionStatus.SIGNED)
