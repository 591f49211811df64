from datetime import date
from decimal import Decimal

import pytest

from applications.eligibility import Member, ceiling, household_category, income_drop_allowed

AS_OF = date(2026, 6, 1)


def couple(age_a, age_b):
    return [
        Member(date(AS_OF.year - age_a, 1, 1), True, False, False),
        Member(date(AS_OF.year - age_b, 1, 1), True, False, False),
    ]


def test_jeune_menage_is_category_3_only_up_to_55_years():
    assert household_category(couple(26, 27), as_of=AS_OF) == 3  # DOMAIN E1.1
    assert household_category(couple(30, 28), as_of=AS_OF) == 2


def test_disability_and_single_parent_move_one_category_up_not_cumulatively():
    alone = Member(date(1980, 1, 1), True, False, False)
    disabled = Member(date(1980, 1, 1), True, False, True)
    child = Member(date(2015, 1, 1), False, True, False)
    assert household_category([alone], as_of=AS_OF) == 1
    assert household_category([disabled], as_of=AS_OF) == 2  # DOMAIN E1.2
    assert household_category([alone, child], as_of=AS_OF) == 3
    assert household_category([disabled, child, child], as_of=AS_OF) == 4
    assert household_category([*couple(40, 40), child, child, child, child, child], as_of=AS_OF) == 7


@pytest.mark.django_db
def test_ceilings_from_the_dated_table():
    on = date(2026, 6, 1)
    assert ceiling("PLUS", "autres_regions", 3, on=on).amount == Decimal("37584")
    pls = ceiling("PLS", "autres_regions", 3, on=on)
    assert (pls.amount, pls.derived) == (Decimal("48859.20"), True)
    assert ceiling("PLUS", "autres_regions", 2, on=on).amount == Decimal("31254")
    assert ceiling("PLUS", "paris_limitrophes", 2, on=on).amount == Decimal("40233")
    assert ceiling("PLUS", "paris_limitrophes", 7, on=on).amount == Decimal("84304") + Decimal("9394")
    assert ceiling("PLUS", "autres_regions", 3, on=date(2025, 6, 1)).amount == Decimal("37259")


def test_ten_percent_income_drop():
    assert income_drop_allowed(Decimal("40000"), Decimal("35500"))  # DOMAIN E1.3
    assert not income_drop_allowed(Decimal("40000"), Decimal("36500"))


@pytest.mark.django_db
def test_eligibility_report_per_zone_and_financing(world):
    from applications.eligibility import eligibility_report
    from tests.applications.factories import make_application, person

    commune = world["A"].commune  # Île-de-France hors Paris
    big = [person(tax_income=Decimal("30000.00"))] + [
        person("child", "MARTIN", f"Enfant{i}", date(2012 + i, 1, 1), dependant=True) for i in range(4)
    ]
    app = make_application(world["A"].agency, people=big, communes=[commune])
    report = eligibility_report(app, on=date(2026, 6, 1))
    assert report.category == 6 and report.from_wishes
    (zone,) = report.zones
    by_financing = {check.financing: (check, eligible, margin) for check, eligible, margin in zone.checks}
    assert by_financing["PLAI"][0].ceiling is None  # PLAI IdF cat. 6 not published: "plafond inconnu"
    plus, eligible, margin = by_financing["PLUS"]
    assert (plus.ceiling.amount, eligible, margin) == (Decimal("77171"), True, Decimal("47171.00"))
    assert by_financing["PLS"][1] is True and not report.above_every_ceiling
