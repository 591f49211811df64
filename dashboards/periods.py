"""Dashboard periods: a month, a quarter or a year, with the previous period and last year's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from dateutil.relativedelta import relativedelta

KINDS = {"month": ("Mois", 1), "quarter": ("Trimestre", 3), "year": ("Année", 12)}
MONTH_NAMES = [
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
]  # fmt: skip


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(month: date) -> date:
    return month + relativedelta(months=1, days=-1)


def add_months(day: date, count: int) -> date:
    """The first of the month `count` months after `day`'s month (plain arithmetic: pages call it a lot)."""
    index = day.year * 12 + day.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


@lru_cache(maxsize=4096)
def _months(start: date, length: int) -> tuple[date, ...]:
    return tuple(add_months(start, i) for i in range(length))


def months_between(first: date, last: date) -> list[date]:
    """Every first-of-month from `first`'s month to `last`'s month, both included."""
    months, current = [], month_start(first)
    while current <= last:
        months.append(current)
        current += relativedelta(months=1)
    return months


@dataclass(frozen=True)
class Period:
    kind: str  # "month", "quarter", "year"
    start: date  # first day of the period

    @classmethod
    def containing(cls, kind: str, day: date) -> Period:
        if kind == "year":
            return cls(kind, date(day.year, 1, 1))
        if kind == "quarter":
            return cls(kind, date(day.year, 3 * ((day.month - 1) // 3) + 1, 1))
        return cls("month", month_start(day))

    @property
    def length(self) -> int:
        return KINDS[self.kind][1]

    @property
    def end(self) -> date:
        return self.start + relativedelta(months=self.length, days=-1)

    @property
    def months(self) -> tuple[date, ...]:
        return _months(self.start, self.length)

    @property
    def last_month(self) -> date:
        return self.months[-1]

    def previous(self) -> Period:
        return Period(self.kind, add_months(self.start, -self.length))

    def next(self) -> Period:
        return Period(self.kind, add_months(self.start, self.length))

    def last_year(self) -> Period:
        return Period(self.kind, add_months(self.start, -12))

    @property
    def label(self) -> str:
        if self.kind == "year":
            return str(self.start.year)
        if self.kind == "quarter":
            return f"{(self.start.month - 1) // 3 + 1}e trimestre {self.start.year}".replace("1e ", "1er ")
        return f"{MONTH_NAMES[self.start.month - 1]} {self.start.year}"

    @property
    def param(self) -> str:
        return f"{self.start.year:04d}-{self.start.month:02d}"
