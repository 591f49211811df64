from decimal import Decimal

import pytest

from tenancies.formatting import format_euros, to_cents
from tenancies.models import normalize_search


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1234.56"), "1\xa0234,56\xa0€"),
        (Decimal("0"), "0,00\xa0€"),
        (Decimal("412.5"), "412,50\xa0€"),
        (Decimal("-1234567.891"), "-1\xa0234\xa0567,89\xa0€"),
        (Decimal("0.005"), "0,01\xa0€"),
        (None, ""),
    ],
)
def test_format_euros(value, expected):
    assert format_euros(value) == expected


def test_to_cents_rounds_half_away_from_zero():
    assert to_cents(Decimal("2.345")) == Decimal("2.35")
    assert to_cents(Decimal("-2.345")) == Decimal("-2.35")


def test_normalize_search_removes_accents_and_punctuation():
    assert normalize_search("  Lefèvre-d'Hélène ") == "LEFEVRE D HELENE"


def test_duration_filter():
    from datetime import timedelta

    from tenancies.templatetags.locatif import duration

    assert duration(timedelta(seconds=0.052)) == "0,1\xa0s"
    assert duration(timedelta(seconds=200)) == "3\xa0min 20\xa0s"
    assert duration(timedelta(hours=1, seconds=125)) == "1\xa0h 02\xa0min 05\xa0s"
