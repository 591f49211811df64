"""Summed components of one scope (a set of agencies) over periods, and the arithmetic of figures."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from .periods import Period

ZERO = Decimal("0")


class Values:
    """Components of one scope, by month: `flow()` sums a period's months, `stock()` reads its last."""

    def __init__(self, by_month: dict[date, dict[str, Decimal]], period: Period, last_computed: date | None):
        self.by_month = by_month
        self.period = period
        self.last_computed = last_computed

        self.present = [self.by_month[m] for m in period.months if m in self.by_month]

    @property
    def available(self) -> bool:
        return bool(self.present)

    def flow(self, key: str) -> Decimal | None:
        if not self.present:
            return None
        return sum((values.get(key, ZERO) for values in self.present), ZERO)

    def stock(self, key: str) -> Decimal | None:
        """The value at the period's last month, or at the last computed month of a period still running."""
        if not self.present:
            return None
        # None for a component the month has no row of (a live one never photographed that month).
        return self.present[-1].get(key)

    def histogram(self, prefix: str, kind: str = "flow") -> dict[int, Decimal] | None:
        """{bucket: count} of a sparse histogram component (`Provider.sparse`): summed over the
        period's months for a flow, read at its last month for a stock."""
        if not self.present:
            return None
        months = self.present if kind == "flow" else self.present[-1:]
        buckets: dict[int, Decimal] = defaultdict(Decimal)
        for values in months:
            for key, value in values.items():
                if key.startswith(prefix) and key[len(prefix) :].isdigit():
                    buckets[int(key[len(prefix) :])] += value
        return dict(buckets)


def median(buckets: dict[int, Decimal] | None, places: str = "0.1") -> Decimal | None:
    """The exact median of the values counted in `buckets` ({value: count}); the mean of the two
    middle values for an even count. None when empty."""
    if not buckets:
        return None
    total = int(sum(buckets.values()))
    if total <= 0:
        return None
    middle = [(total - 1) // 2, total // 2]  # 0-based ranks of the middle value(s)
    found, seen = [], 0
    for value in sorted(buckets):
        count = int(buckets[value])
        for rank in middle:
            if seen <= rank < seen + count:
                found.append(value)
        seen += count
    return (Decimal(sum(found)) / len(found)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def group_rows(rows) -> dict[date, dict[str, Decimal]]:
    """(month, key, value) rows, already summed over agencies, into {month: {key: value}}."""
    by_month: dict[date, dict[str, Decimal]] = defaultdict(dict)
    for month, key, value in rows:
        by_month[month][key] = value
    return by_month


def ratio(numerator, denominator, scale: int = 100, places: str = "0.1") -> Decimal | None:
    """numerator / denominator × scale, rounded half away from zero; None when undefined."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return (Decimal(numerator) * scale / Decimal(denominator)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def diff(a, b):
    if a is None or b is None:
        return None
    return a - b
