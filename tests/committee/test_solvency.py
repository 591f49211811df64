"""Effort rate, reste à vivre and the APL estimate, to the cent (DOMAIN.md E1.6, E1.7)."""

from datetime import date
from decimal import Decimal

import pytest

from applications.committee import solvency as solv
from applications.committee.models import AplEstimateScale

AS_OF = date(2026, 3, 1)


def test_effort_rate_e1_6():
    rate = solv.effort_rate(
        rent=Decimal("420"),
        annexes=Decimal("30"),
        charges=Decimal("110"),
        apl=Decimal("180"),
        monthly_resources=Decimal("1600"),
    )
    assert rate == Decimal("23.75")


def test_effort_rate_without_resources_is_unknown():
    assert solv.effort_rate(rent=400, annexes=0, charges=50, apl=0, monthly_resources=0) is None


def test_consumption_units_oecd_modified():
    couple_two_children = [date(1985, 1, 1), date(1986, 1, 1), date(2016, 1, 1), date(2019, 1, 1)]
    assert solv.consumption_units(couple_two_children, as_of=AS_OF) == Decimal("2.1")
    teenager = [date(1980, 1, 1), date(2010, 1, 1)]  # 16 years old: an adult for the scale
    assert solv.consumption_units(teenager, as_of=AS_OF) == Decimal("1.5")


def test_reste_a_vivre_e1_7():
    units = solv.consumption_units(
        [date(1985, 1, 1), date(1986, 1, 1), date(2016, 1, 1), date(2019, 1, 1)], as_of=AS_OF
    )
    rest = solv.daily_rest_per_unit(monthly_resources=Decimal("2400"), net_housing_cost=Decimal("450"), units=units)
    assert rest == Decimal("30.95")


@pytest.mark.django_db
def test_apl_estimate_from_the_simplified_scale_and_flags():
    scales = solv.apl_scales_on(date(2026, 11, 1), "II")
    assert scales[3].rent_ceiling == Decimal("399.00")
    # min(412,50 ; 399) + 85 - max(39,75 ; 0,30 × 1 000) = 184,00
    estimate = solv.estimate_apl(scale=solv.scale_for(scales, 3), rent=Decimal("412.50"), monthly_resources=1000)
    assert estimate == Decimal("184.00")
    assert solv.estimate_apl(scale=solv.scale_for(scales, 9), rent=Decimal("412.50"), monthly_resources=9000) == 0
    assert solv.scale_for(scales, 9).household_size == 6
    assert AplEstimateScale.objects.count() == 18

    thresholds = solv.thresholds_on(date(2026, 11, 1))
    poor = solv.solvency(
        rent=Decimal("412.50"),
        annexes=0,
        charges=Decimal("60"),
        monthly_resources=Decimal("700"),
        birth_dates=[date(1980, 1, 1)],
        household_size=1,
        scales=scales,
        thresholds=thresholds,
        as_of=AS_OF,
        apl_override=Decimal("0"),
    )
    assert poor.apl == 0 and poor.effort_rate == Decimal("67.50")
    assert set(poor.flags) == {"effort_rate", "daily_rest"}
    assert poor.daily_rest == Decimal("7.58")  # (700 - 472,50) / 1 / 30
