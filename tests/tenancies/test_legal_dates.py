from datetime import date

import pytest

from tenancies.legal_dates import Period, deadline, is_working_day, legal_deadline, legal_period, next_working_day


def test_offer_deadline_moves_from_sunday_to_monday():
    # DOMAIN.md E1.5: offer received Thursday 5 March 2026, 10 days -> Sunday 15 -> Monday 16 March.
    assert deadline(date(2026, 3, 5), Period(days=10)) == date(2026, 3, 16)
    assert deadline(date(2026, 3, 5), Period(days=10), working_day=False) == date(2026, 3, 15)


def test_months_end_on_the_last_day_when_the_number_is_missing():
    assert Period(months=2).after(date(2025, 12, 31)) == date(2026, 2, 28)
    assert Period(months=1).after(date(2024, 1, 31)) == date(2024, 2, 29)


def test_public_holidays_are_not_working_days():
    assert not is_working_day(date(2026, 5, 1))  # fête du travail, a Friday
    assert next_working_day(date(2026, 5, 1)) == date(2026, 5, 4)
    assert next_working_day(date(2026, 12, 25)) == date(2026, 12, 28)
    assert is_working_day(date(2026, 4, 3))  # Good Friday: only in Alsace-Moselle
    assert not is_working_day(date(2026, 4, 3), alsace_moselle=True)


@pytest.mark.django_db
def test_delays_are_dated_data():
    assert legal_period("commandement_payer", on=date(2023, 7, 28)) == Period(months=2)
    assert legal_period("commandement_payer", on=date(2023, 7, 29)) == Period(weeks=6)
    assert legal_deadline("offer_response", date(2026, 3, 5)) == date(2026, 3, 16)
    assert str(Period(weeks=6)) == "6 semaines"
