"""Helpers of the drill-down lists (`Provider.drilldowns()`): the refresh's day, the month a stock
figure is read at, and SQL-backed rows the detail page paginates like a queryset.

A drill-down lists exactly the records a figure counts or sums, for the same period and agencies:
flows over the period's days up to the refresh's day, stocks at the month `Values.stock()` reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from .models import Refresh
from .periods import Period, month_end, month_start


def refresh_as_of() -> date:
    """The day the figures were computed at (the last refresh's `as_of`), else today."""
    day = Refresh.objects.order_by("-id").values_list("as_of", flat=True).first()
    return day or timezone.localdate()


def flow_end(period: Period, as_of: date) -> date:
    """The last day a flow of the period counts: the period's end, or the refresh's day before it."""
    return min(period.end, as_of)


def stock_month(period: Period, as_of: date) -> date:
    """The month a stock figure of the period is read at: its last month, or the refresh's month
    for a period still running (the snapshot has no later month)."""
    return min(period.last_month, month_start(as_of))


def stock_day(period: Period, as_of: date) -> date:
    """The day a stock is situated at: the end of `stock_month`, or the refresh's day in its month."""
    return min(month_end(stock_month(period, as_of)), as_of)


class SqlRows:
    """Rows of one SQL statement, paginated by the detail page as it does a queryset
    (`rows[offset:offset + n]`, `rows.order_by()[:cap].count()`).

    `rows_sql` must end with `LIMIT %(limit)s OFFSET %(offset)s`, `count_sql` count at most
    `%(limit)s` rows; both take `params`. `make(row)` turns a fetched tuple into an object.
    """

    def __init__(self, rows_sql: str, count_sql: str, params: dict, make):
        self.rows_sql, self.count_sql, self.params, self.make = rows_sql, count_sql, params, make

    def order_by(self, *_fields) -> SqlRows:
        return self  # the SQL has its own order

    def __getitem__(self, key: slice) -> _Window:
        if not isinstance(key, slice) or key.step is not None:
            raise TypeError("SqlRows only supports plain slices.")
        return _Window(self, key.start or 0, key.stop)

    def __iter__(self):
        return iter(self[0:None])


@dataclass
class _Window:
    rows: SqlRows
    start: int
    stop: int | None

    def __iter__(self):
        limit = None if self.stop is None else max(self.stop - self.start, 0)
        with connection.cursor() as cursor:
            cursor.execute(self.rows.rows_sql, {**self.rows.params, "limit": limit, "offset": self.start})
            fetched = cursor.fetchall()
        return iter([self.rows.make(row) for row in fetched])

    def count(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(self.rows.count_sql, {**self.rows.params, "limit": self.stop})
            (count,) = cursor.fetchone()
        return max(count - self.start, 0)


@dataclass(frozen=True)
class VacantDwelling:
    """A dwelling with days without a lease in the period, and the rent they lost."""

    id: int
    reference: str
    rent: object
    vacant_days: int
    rent_lost: object

    def get_absolute_url(self):
        return reverse("tenancies:dwelling_detail", args=[self.id])
