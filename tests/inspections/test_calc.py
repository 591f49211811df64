"""The rules of DOMAIN.md §2.4, to the cent and to the day."""

from datetime import date
from decimal import Decimal

import pytest

from inspections import calc, services
from inspections.models import NoticeReason, VetusteRule

pytestmark = pytest.mark.django_db


def paint():
    return VetusteRule.objects.get(element_type="paint_wallpaper")


def test_grid_is_loaded_from_the_csv():
    rule = paint()
    assert (rule.lifetime_years, rule.franchise_years) == (7, 2)
    assert rule.yearly_abatement_pct == Decimal("18.00")
    assert rule.residual_share_pct == Decimal("10.00")
    assert VetusteRule.objects.count() == 8


def test_e2_5_paint_redone_five_years_before_exit():
    share = calc.tenant_share(Decimal("1000.00"), renewed_on=date(2021, 1, 16), on=date(2026, 1, 16), rule=paint())
    assert share.age_years == 5
    assert share.abatement_pct == Decimal("54.00")
    assert share.amount == Decimal("460.00")


def test_e2_5_paint_nine_years_old_keeps_the_residual_share():
    share = calc.tenant_share(Decimal("1000.00"), renewed_on=date(2017, 1, 16), on=date(2026, 1, 16), rule=paint())
    assert share.abatement_pct == Decimal("90.00")
    assert share.amount == Decimal("100.00")


def test_within_the_franchise_the_tenant_pays_everything():
    share = calc.tenant_share(Decimal("333.33"), renewed_on=date(2024, 6, 1), on=date(2026, 5, 31), rule=paint())
    assert (share.age_years, share.abatement_pct, share.amount) == (1, Decimal("0"), Decimal("333.33"))


def test_partial_year_does_not_count_and_cents_round_half_up():
    # 4 full years (not 5): 2 years beyond the franchise -> 36 % -> 64 % of 123,45 = 79,008 -> 79,01
    share = calc.tenant_share(Decimal("123.45"), renewed_on=date(2021, 1, 17), on=date(2026, 1, 16), rule=paint())
    assert share.age_years == 4
    assert share.amount == Decimal("79.01")


def test_negative_cost_refused():
    with pytest.raises(ValueError):
        calc.tenant_share(Decimal("-1"), renewed_on=None, on=date(2026, 1, 1), rule=None)


def test_e2_1_deadline_one_month_and_penalty_two_periods():
    deadline = services.refund_deadline(date(2026, 1, 16), True)
    assert deadline == date(2026, 2, 16)
    assert calc.late_periods(deadline, date(2026, 4, 3)) == 2
    penalty = calc.late_penalty(
        monthly_rent=Decimal("450.00"),
        deadline=deadline,
        paid_on=date(2026, 4, 3),
        new_address_known=True,
        refund=Decimal("450.00"),
    )
    assert penalty == Decimal("90.00")
    assert Decimal("450.00") + penalty == Decimal("540.00")


def test_e2_2_deadline_two_months_and_one_period():
    deadline = services.refund_deadline(date(2026, 1, 16), False)
    assert deadline == date(2026, 3, 16)
    assert calc.late_penalty(
        monthly_rent=Decimal("450.00"),
        deadline=deadline,
        paid_on=date(2026, 4, 3),
        new_address_known=True,
        refund=Decimal("300.00"),
    ) == Decimal("45.00")


def test_e2_3_no_new_address_no_penalty():
    assert calc.late_penalty(
        monthly_rent=Decimal("450.00"),
        deadline=date(2026, 2, 16),
        paid_on=date(2026, 12, 1),
        new_address_known=False,
        refund=Decimal("450.00"),
    ) == Decimal("0.00")


def test_paid_on_the_deadline_is_on_time_and_the_next_day_starts_a_period():
    assert calc.late_periods(date(2026, 2, 16), date(2026, 2, 16)) == 0
    assert calc.late_periods(date(2026, 2, 16), date(2026, 2, 17)) == 1
    assert calc.late_periods(date(2026, 2, 16), date(2026, 3, 16)) == 1
    assert calc.late_periods(date(2026, 2, 16), date(2026, 3, 17)) == 2


def test_nothing_to_refund_no_penalty():
    assert calc.late_penalty(
        monthly_rent=Decimal("450.00"),
        deadline=date(2026, 2, 16),
        paid_on=date(2026, 6, 1),
        new_address_known=True,
        refund=Decimal("0"),
    ) == Decimal("0.00")


def test_deposit_deadline_is_substantive_no_weekend_shift():
    # Keys returned Thu 29/01/2026 -> 28/02/2026 (end of February, a Saturday): stays there.
    assert services.refund_deadline(date(2026, 1, 31), True) == date(2026, 2, 28)


@pytest.mark.parametrize(
    ("reason", "tense", "code", "applied"),
    [
        (NoticeReason.STANDARD, False, "notice_standard", NoticeReason.STANDARD),
        (NoticeReason.STANDARD, True, "notice_reduced", NoticeReason.TENSE_ZONE),
        (NoticeReason.JOB_LOSS, False, "notice_reduced", NoticeReason.JOB_LOSS),
        (NoticeReason.INTERNAL_TRANSFER, False, "notice_internal_transfer", NoticeReason.INTERNAL_TRANSFER),
    ],
)
def test_notice_delay(reason, tense, code, applied):
    assert calc.notice_delay_code(reason, tense_zone=tense) == (code, applied)
