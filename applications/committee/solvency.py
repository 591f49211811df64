"""Solvency indicators of a candidate for a dwelling (DOMAIN.md §1.2.7, E1.6 and E1.7).

- Taux d'effort (arrêté du 10 mars 2011, CCH R441-3-1): (rent + annexes + recoverable charges -
  housing benefit) / monthly resources of the household, in %.
- Reste à vivre per consumption unit and per day: (monthly resources - net housing cost) /
  OECD-modified consumption units / 30. Not a legal figure: a local-policy indicator.
- The housing benefit is an *estimate* from a simplified dated scale (AplEstimateScale): there is
  no APL scale in the data. The chargé may override it per candidate.

Pure functions over Decimals, plus two dated-table reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from applications.eligibility import age_on
from tenancies.formatting import to_cents

ZERO = Decimal("0.00")
HUNDRED = Decimal("100")
DAYS_PER_MONTH = Decimal("30")
# OECD-modified equivalence scale: 1 for the first adult, 0.5 per other person aged 14 or more,
# 0.3 per child under 14.
UC_FIRST = Decimal("1")
UC_OTHER_ADULT = Decimal("0.5")
UC_CHILD = Decimal("0.3")
UC_CHILD_AGE = 14


def consumption_units(birth_dates: list[date], *, as_of: date) -> Decimal:
    """OECD-modified consumption units of the household (the oldest person counts as the first adult)."""
    if not birth_dates:
        return UC_FIRST
    ages = sorted((age_on(b, as_of) for b in birth_dates), reverse=True)
    units = UC_FIRST
    for age in ages[1:]:
        units += UC_OTHER_ADULT if age >= UC_CHILD_AGE else UC_CHILD
    return units


def effort_rate(*, rent, annexes, charges, apl, monthly_resources) -> Decimal | None:
    """Taux d'effort in %, to the hundredth; None when the household declares no resources."""
    resources = Decimal(monthly_resources)
    if resources <= 0:
        return None
    net = Decimal(rent) + Decimal(annexes) + Decimal(charges) - Decimal(apl)
    return (net * HUNDRED / resources).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def daily_rest_per_unit(*, monthly_resources, net_housing_cost, units) -> Decimal:
    """Reste à vivre in € per day and per consumption unit, to the cent."""
    rest = Decimal(monthly_resources) - Decimal(net_housing_cost)
    return to_cents(rest / Decimal(units) / DAYS_PER_MONTH)


def estimate_apl(*, scale, rent, monthly_resources) -> Decimal:
    """Simplified housing-benefit estimate (see AplEstimateScale); 0 without a scale row."""
    if scale is None:
        return ZERO
    eligible_rent = min(Decimal(rent), scale.rent_ceiling)
    participation = max(scale.min_participation, Decimal(monthly_resources) * scale.participation_rate)
    return max(ZERO, to_cents(eligible_rent + scale.charges_flat - participation))


@dataclass
class Thresholds:
    max_effort_rate: Decimal | None = None
    min_daily_rest: Decimal | None = None


def thresholds_on(day: date) -> Thresholds:
    from .models import SolvencyThreshold

    row = SolvencyThreshold.objects.filter(valid_from__lte=day).order_by("-valid_from").first()
    if row is None:
        return Thresholds()
    return Thresholds(row.max_effort_rate, row.min_daily_rest)


def apl_scales_on(day: date, apl_zone: str) -> dict[int, object]:
    """{household size: scale row} in force on `day` for the zone (size 6 serves 6 and more)."""
    from .models import AplEstimateScale

    latest = (
        AplEstimateScale.objects.filter(apl_zone=apl_zone, valid_from__lte=day)
        .order_by("-valid_from")
        .values_list("valid_from", flat=True)
        .first()
    )
    if latest is None:
        return {}
    return {s.household_size: s for s in AplEstimateScale.objects.filter(apl_zone=apl_zone, valid_from=latest)}


def scale_for(scales: dict[int, object], household_size: int):
    if not scales:
        return None
    return scales.get(min(household_size, max(scales)))


@dataclass
class Solvency:
    monthly_resources: Decimal
    housing_cost: Decimal  # rent + annexes + charges
    apl_estimate: Decimal
    apl: Decimal  # the estimate or the manual override
    effort_rate: Decimal | None
    daily_rest: Decimal
    units: Decimal
    flags: list[str] = field(default_factory=list)

    @property
    def net_cost(self) -> Decimal:
        return self.housing_cost - self.apl


FLAG_LABELS = {
    "effort_rate": "Taux d'effort au-dessus du seuil",
    "daily_rest": "Reste à vivre sous le seuil",
    "no_resources": "Aucune ressource déclarée",
}


def solvency(
    *,
    rent: Decimal,
    annexes: Decimal,
    charges: Decimal,
    monthly_resources: Decimal,
    birth_dates: list[date],
    household_size: int,
    scales: dict,
    thresholds: Thresholds,
    as_of: date,
    apl_override: Decimal | None = None,
) -> Solvency:
    housing_cost = Decimal(rent) + Decimal(annexes) + Decimal(charges)
    estimate = estimate_apl(scale=scale_for(scales, household_size), rent=rent, monthly_resources=monthly_resources)
    apl = estimate if apl_override is None else Decimal(apl_override)
    units = consumption_units(birth_dates, as_of=as_of)
    rate = effort_rate(rent=rent, annexes=annexes, charges=charges, apl=apl, monthly_resources=monthly_resources)
    rest = daily_rest_per_unit(monthly_resources=monthly_resources, net_housing_cost=housing_cost - apl, units=units)
    flags = []
    if rate is None:
        flags.append("no_resources")
    elif thresholds.max_effort_rate is not None and rate > thresholds.max_effort_rate:
        flags.append("effort_rate")
    if thresholds.min_daily_rest is not None and rest < thresholds.min_daily_rest:
        flags.append("daily_rest")
    return Solvency(Decimal(monthly_resources), housing_cost, estimate, apl, rate, rest, units, flags)
