"""The amounts of one rent notice, as a pure function of the lease's terms and the month.

Rules (DOMAIN.md §3.2.2):
- Prorata temporis on the calendar days of the month for the month of entry or exit:
  each line = monthly amount × days occupied ÷ days of the month, rounded to the cent half away
  from zero *line by line*; the notice total is the sum of the rounded lines (E3.1: 335,48 € +
  51,61 € = 387,09 €).
- No RLS and no APL in the month of entry; neither is prorated in the month of exit.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from tenancies.formatting import to_cents

from .models import ZERO, EntryKind

MONTHS_FR = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


def month_label(period: date) -> str:
    return f"{MONTHS_FR[period.month - 1]} {period.year}"


def month_bounds(period: date) -> tuple[date, date, int]:
    days = calendar.monthrange(period.year, period.month)[1]
    first = period.replace(day=1)
    return first, first + timedelta(days=days - 1), days


@dataclass
class LeaseTerms:
    lease_id: int
    starts_on: date
    ends_on: date | None
    rent: Decimal
    annexes: list[tuple[str, Decimal]] = field(default_factory=list)  # (label, monthly rent)
    charges: list[tuple[int, str, Decimal]] = field(default_factory=list)  # (charge type id, label, monthly)
    sls: Decimal = ZERO
    rls: Decimal = ZERO
    apl: Decimal = ZERO


@dataclass
class Line:
    kind: str
    label: str
    amount: Decimal
    charge_type_id: int | None = None


@dataclass
class NoticeDraft:
    lease_id: int
    days_billed: int
    days_in_month: int
    lines: list[Line]

    def _sum(self, kinds) -> Decimal:
        return sum((line.amount for line in self.lines if line.kind in kinds), ZERO)

    @property
    def rent_amount(self) -> Decimal:
        return self._sum({EntryKind.RENT, EntryKind.ANNEX_RENT, EntryKind.SLS, EntryKind.RLS})

    @property
    def charges_amount(self) -> Decimal:
        return self._sum({EntryKind.CHARGE})

    @property
    def apl_amount(self) -> Decimal:
        return -self._sum({EntryKind.APL})

    @property
    def amount_due(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)


def prorate(monthly: Decimal, days: int, days_in_month: int) -> Decimal:
    if days == days_in_month:
        return monthly
    return to_cents(monthly * days / days_in_month)


def bill_lease(terms: LeaseTerms, period: date) -> NoticeDraft | None:
    """The notice draft for `period`, or None when the lease does not run during that month."""
    first, last, days_in_month = month_bounds(period)
    start = max(first, terms.starts_on)
    end = min(last, terms.ends_on) if terms.ends_on else last
    if end < start:
        return None
    days = (end - start).days + 1
    entry_month = first <= terms.starts_on <= last
    suffix = f" ({days} j / {days_in_month})" if days != days_in_month else ""

    lines = [Line(EntryKind.RENT, f"Loyer {month_label(period)}{suffix}", prorate(terms.rent, days, days_in_month))]
    for label, rent in terms.annexes:
        lines.append(Line(EntryKind.ANNEX_RENT, f"{label}{suffix}", prorate(rent, days, days_in_month)))
    if terms.sls > 0:
        lines.append(
            Line(EntryKind.SLS, f"Supplément de loyer de solidarité{suffix}", prorate(terms.sls, days, days_in_month))
        )
    for charge_type_id, label, monthly in terms.charges:
        lines.append(
            Line(
                EntryKind.CHARGE,
                f"Provision {label.lower()}{suffix}",
                prorate(monthly, days, days_in_month),
                charge_type_id,
            )
        )
    if not entry_month:
        if terms.rls > 0:
            lines.append(Line(EntryKind.RLS, "Réduction de loyer de solidarité", -terms.rls))
        if terms.apl > 0:
            lines.append(Line(EntryKind.APL, "APL versée par la CAF", -terms.apl))
    lines = [line for line in lines if line.amount != 0]
    return NoticeDraft(terms.lease_id, days, days_in_month, lines)
