"""Pure rules of the move-out, checked to the cent and to the day by tests/inspections/test_calc.py.

- Vétusté (décret 2016-382 art. 4, DOMAIN.md §2.2.3, E2.5): the tenant bears the repair cost minus
  the abatement: no abatement during the franchise, then `yearly %` per full year beyond it,
  capped so that the residual share always stays with the tenant. Age in full years from the
  element's last renewal (or first letting) to the exit.
- Deposit penalty (loi 89 art. 22, E2.1-E2.3): 10 % of the monthly rent excluding charges for each
  monthly period started after the deadline; none when the tenant gave no new address, none when
  nothing was left to refund (Cass. 3e civ. 31 mai 2018 n° 17-18.069).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from tenancies.formatting import to_cents

from .models import NoticeReason

ZERO = Decimal("0.00")
HUNDRED = Decimal("100")
PENALTY_RATE = Decimal("0.10")  # loi 89 art. 22: 10 % of the monthly rent per month started
MAX_PROVISION_RATE = Decimal("0.20")  # loi 89 art. 22: at most 20 % kept until the charges are closed


@dataclass(frozen=True)
class Share:
    age_years: int
    abatement_pct: Decimal
    amount: Decimal


def full_years(start: date, end: date) -> int:
    if end <= start:
        return 0
    return relativedelta(end, start).years


def tenant_share(cost: Decimal, *, renewed_on: date | None, on: date, rule=None) -> Share:
    """The tenant's share of a repair `cost` after vétusté (rule: a VetusteRule or None = no grid)."""
    cost = Decimal(cost)
    if cost < 0:
        raise ValueError("Le coût d'une réparation ne peut pas être négatif.")
    if rule is None or renewed_on is None:
        age = full_years(renewed_on, on) if renewed_on else 0
        return Share(age, ZERO, to_cents(cost))
    age = full_years(renewed_on, on)
    abated_years = max(0, age - rule.franchise_years)
    cap = HUNDRED - Decimal(rule.residual_share_pct)
    abatement = min(Decimal(rule.yearly_abatement_pct) * abated_years, cap)
    return Share(age, abatement, to_cents(cost * (HUNDRED - abatement) / HUNDRED))


def late_periods(deadline: date, paid_on: date) -> int:
    """Monthly periods started after `deadline` when paid on `paid_on` (0 when on time).

    Period n runs from deadline + (n-1) months + 1 day to deadline + n months (E2.1: deadline
    16/02, paid 03/04 -> 17/02-16/03 and 17/03-16/04 -> 2)."""
    n = 0
    while paid_on > deadline + relativedelta(months=n):
        n += 1
    return n


def late_penalty(
    *, monthly_rent: Decimal, deadline: date, paid_on: date, new_address_known: bool, refund: Decimal
) -> Decimal:
    if not new_address_known or refund <= 0:
        return ZERO
    return to_cents(Decimal(monthly_rent) * PENALTY_RATE * late_periods(deadline, paid_on))


REDUCED_REASONS = frozenset(
    {
        NoticeReason.TENSE_ZONE,
        NoticeReason.FIRST_JOB,
        NoticeReason.TRANSFER,
        NoticeReason.JOB_LOSS,
        NoticeReason.NEW_JOB,
        NoticeReason.HEALTH,
        NoticeReason.RSA_AAH,
        NoticeReason.SOCIAL_HOUSING,
    }
)


def notice_delay_code(reason: str, *, tense_zone: bool) -> tuple[str, str]:
    """(legal delay code, reason actually applied). A dwelling in a tense zone always gets the
    reduced notice (loi 89 art. 15 I and art. 17); a move to another dwelling of the same landlord
    1 month (CCH L442-6-3 / L353-15)."""
    if reason == NoticeReason.INTERNAL_TRANSFER:
        return "notice_internal_transfer", reason
    if reason in REDUCED_REASONS:
        return "notice_reduced", reason
    if tense_zone:
        return "notice_reduced", NoticeReason.TENSE_ZONE
    return "notice_standard", NoticeReason.STANDARD
