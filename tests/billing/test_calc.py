"""Notice amounts (DOMAIN.md §3.4): prorata line by line, no RLS/APL in the month of entry."""

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from billing.calc import LeaseTerms, bill_lease, prorate
from billing.models import EntryKind


def _terms(**kw):
    base = {"lease_id": 1, "starts_on": date(2020, 1, 1), "ends_on": None, "rent": Decimal("520.00")}
    base.update(kw)
    return LeaseTerms(**base)


def test_e3_1_entry_prorata_rounds_each_line():
    terms = _terms(
        starts_on=date(2026, 3, 12),
        charges=[(1, "Eau froide", Decimal("80.00"))],
        rls=Decimal("42.53"),
        apl=Decimal("200.00"),
    )
    draft = bill_lease(terms, date(2026, 3, 1))
    assert (draft.days_billed, draft.days_in_month) == (20, 31)
    assert [line.amount for line in draft.lines] == [Decimal("335.48"), Decimal("51.61")]
    assert draft.amount_due == Decimal("387.09")  # not 387.10: lines are rounded, then summed
    assert draft.apl_amount == Decimal("0.00")  # no APL and no RLS in the month of entry
    assert all(line.kind not in (EntryKind.RLS, EntryKind.APL) for line in draft.lines)
    assert draft.lines[0].label == "Loyer mars 2026 (20 j / 31)"


def test_e3_2_exit_prorata():
    draft = bill_lease(_terms(rent=Decimal("600.00"), ends_on=date(2026, 4, 10)), date(2026, 4, 1))
    assert draft.amount_due == Decimal("200.00")


def test_full_month_with_annex_sls_rls_and_apl():
    terms = _terms(
        rent=Decimal("412.50"),
        annexes=[("Place de parking P1", Decimal("17.50"))],
        charges=[(1, "Eau froide", Decimal("23.40")), (2, "Chauffage collectif", Decimal("61.15"))],
        sls=Decimal("35.00"),
        rls=Decimal("42.53"),
        apl=Decimal("180.32"),
    )
    draft = bill_lease(terms, date(2026, 11, 1))
    assert draft.rent_amount == Decimal("422.47")  # 412,50 + 17,50 + 35,00 − 42,53
    assert draft.charges_amount == Decimal("84.55")
    assert draft.apl_amount == Decimal("180.32")
    assert draft.amount_due == Decimal("326.70")
    assert [line.kind for line in draft.lines] == ["rent", "annex_rent", "sls", "charge", "charge", "rls", "apl"]


def test_rls_and_apl_are_not_prorated_in_the_month_of_exit():
    terms = _terms(rent=Decimal("600.00"), ends_on=date(2026, 4, 10), rls=Decimal("42.53"), apl=Decimal("100.00"))
    draft = bill_lease(terms, date(2026, 4, 1))
    assert draft.amount_due == Decimal("200.00") - Decimal("42.53") - Decimal("100.00")


def test_lease_outside_the_month_gets_no_notice():
    assert bill_lease(_terms(starts_on=date(2026, 5, 1)), date(2026, 4, 1)) is None
    assert bill_lease(_terms(ends_on=date(2026, 3, 31)), date(2026, 4, 1)) is None


def test_entry_and_exit_in_the_same_month():
    draft = bill_lease(
        _terms(rent=Decimal("300.00"), starts_on=date(2026, 2, 10), ends_on=date(2026, 2, 16)), date(2026, 2, 1)
    )
    assert (draft.days_billed, draft.days_in_month) == (7, 28)
    assert draft.amount_due == Decimal("75.00")


@settings(max_examples=1000, deadline=None)
@given(
    cents=st.integers(min_value=0, max_value=500_000),
    split=st.integers(min_value=1, max_value=30),
)
def test_prorated_parts_never_drift_more_than_a_cent_from_the_month(cents, split):
    """Two tenants sharing a 31-day month: their prorated rents differ from the whole by ≤ 1 cent."""
    monthly = Decimal(cents) / 100
    first = prorate(monthly, split, 31)
    second = prorate(monthly, 31 - split, 31)
    assert abs(first + second - monthly) <= Decimal("0.01")
    assert first == first.quantize(Decimal("0.01"))
