"""Household category and resource ceilings (CCH R441-1; arrêté du 29 juillet 1987; DOMAIN.md §1.2.3).

Pure functions over plain values plus one table read (tenancies.ResourceCeiling, dated data). The
category returned is the *equivalent number of persons*: 1 to 6 are the legal categories, 7 means
"category 6 + 1 extra person" and so on, which is what the per-person increment applies to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from tenancies.models import Financing, ResourceCeiling

JEUNE_MENAGE_MAX_AGE_SUM = 55  # arrêté 1987 art. 2: couple whose ages add up to at most 55
PLS_FACTOR = Decimal("1.30")  # arrêté 1987 art. 1: PLS ceilings = PLUS ceilings × 1.30
INCOME_DROP = Decimal("0.10")  # recent resources replace RFR N-2 when at least 10 % lower


@dataclass(frozen=True)
class Member:
    birth_date: date
    is_couple_member: bool  # the applicant and their spouse / partner / concubin
    dependant: bool
    disability_card: bool


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def is_jeune_menage(members: list[Member], *, as_of: date) -> bool:
    couple = [m for m in members if m.is_couple_member]
    return (
        len(members) == 2
        and len(couple) == 2
        and not any(m.dependant for m in members)
        and sum(age_on(m.birth_date, as_of) for m in couple) <= JEUNE_MENAGE_MAX_AGE_SUM
    )


def household_category(members: list[Member], *, as_of: date) -> int:
    """Equivalent number of persons: the household size, one more for a person alone with
    dependants or for a household with a disabled member (not cumulative), at least 3 for a
    jeune ménage."""
    size = len(members)
    if size == 0:
        return 1
    adults = [m for m in members if not m.dependant]
    single_with_dependants = len(adults) == 1 and size > 1
    disabled = any(m.disability_card for m in members)
    equivalent = size + 1 if (disabled or single_with_dependants) else size
    if is_jeune_menage(members, as_of=as_of):
        equivalent = max(equivalent, 3)
    return equivalent


def category_label(equivalent: int) -> str:
    if equivalent <= 6:
        return f"catégorie {equivalent}"
    extra = equivalent - 6
    return f"catégorie 6 + {extra} personne{'s' if extra > 1 else ''}"


@dataclass(frozen=True)
class Ceiling:
    financing: str
    amount: Decimal
    valid_from: date
    derived: bool = False  # PLS computed from PLUS × 1.30


def _table(financing: str, zone: str, on: date) -> tuple[date, dict[str, Decimal]] | None:
    latest = (
        ResourceCeiling.objects.filter(financing=financing, zone=zone, valid_from__lte=on)
        .order_by("-valid_from")
        .values_list("valid_from", flat=True)
        .first()
    )
    if latest is None:
        return None
    rows = ResourceCeiling.objects.filter(financing=financing, zone=zone, valid_from=latest)
    return latest, {row.category: row.amount for row in rows}


def ceiling(financing: str, zone: str, equivalent: int, *, on: date) -> Ceiling | None:
    """The annual ceiling for a household of `equivalent` persons, or None when the table has no
    value (e.g. PLAI cells not published): the caller shows "plafond inconnu", never "eligible"."""
    if financing == Financing.PLS:
        found = _table(Financing.PLS, zone, on)
        if found is None:
            plus = ceiling(Financing.PLUS, zone, equivalent, on=on)
            if plus is None:
                return None
            return Ceiling(Financing.PLS, (plus.amount * PLS_FACTOR).quantize(Decimal("0.01")), plus.valid_from, True)
    else:
        found = _table(financing, zone, on)
    if found is None:
        return None
    valid_from, cells = found
    base_category = str(min(equivalent, 6))
    if base_category not in cells:
        return None
    amount = cells[base_category]
    if equivalent > 6:
        if "+" not in cells:
            return None
        amount += cells["+"] * (equivalent - 6)
    return Ceiling(financing, amount, valid_from)


def income_drop_allowed(tax_income: Decimal, recent_income: Decimal | None) -> bool:
    """Recent resources (N-1 or last 12 months) may be used when at least 10 % below RFR N-2."""
    if recent_income is None or tax_income <= 0:
        return False
    return recent_income <= tax_income * (1 - INCOME_DROP)


# --- The eligibility section of the application page ----------------------------------------

FINANCINGS = (Financing.PLAI, Financing.PLUS, Financing.PLS)


@dataclass(frozen=True)
class CeilingCheck:
    financing: str
    ceiling: Ceiling | None

    @property
    def known(self) -> bool:
        return self.ceiling is not None


@dataclass(frozen=True)
class ZoneEligibility:
    zone: str
    zone_label: str
    communes: list[str]
    # (check, eligible, |ceiling − resources|): how far under the ceiling, or how far above it.
    checks: list[tuple[CeilingCheck, bool | None, Decimal | None]]


@dataclass(frozen=True)
class EligibilityReport:
    category: int
    category_label: str
    resources: Decimal
    zones: list[ZoneEligibility]
    from_wishes: bool

    @property
    def above_every_ceiling(self) -> bool:
        verdicts = [eligible for z in self.zones for _, eligible, _ in z.checks if eligible is not None]
        return bool(verdicts) and not any(verdicts)


def eligibility_report(application, *, on: date) -> EligibilityReport:
    """For each ceiling zone of the wished communes (or of the agency's communes when none is
    wished) and each financing PLAI, PLUS, PLS: eligible or not and by how much (ceiling −
    resources retained), or "plafond inconnu" when the table has no value."""
    from tenancies.models import CeilingZone, Commune

    communes = list(application.wished_communes.all())
    from_wishes = bool(communes)
    if not communes:
        communes = list(Commune.objects.filter(estates__agency_id=application.agency_id).distinct())
    by_zone: dict[str, list[str]] = {}
    for commune in sorted(communes, key=lambda c: c.name):
        by_zone.setdefault(commune.ceiling_zone, []).append(commune.name)
    resources = application.reference_income
    zones = []
    for zone, names in by_zone.items():
        checks = []
        for financing in FINANCINGS:
            found = ceiling(financing, zone, application.category, on=on)
            if found is None:
                checks.append((CeilingCheck(financing, None), None, None))
            else:
                checks.append(
                    (CeilingCheck(financing, found), resources <= found.amount, abs(found.amount - resources))
                )
        zones.append(ZoneEligibility(zone, CeilingZone(zone).label, names, checks))
    return EligibilityReport(application.category, category_label(application.category), resources, zones, from_wishes)
