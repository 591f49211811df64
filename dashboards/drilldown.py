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
    (`rows[offset:offset + n]`, then `rows.order_by()[:cap].count()`).

    `sql` is the statement without order or limit; `order` its ORDER BY clause. A page is one query
    (the total comes with it, `COUNT(*) OVER ()`); the count runs its own only past the last page.
    `make(row)` turns a fetched tuple into an object.
    """

    def __init__(self, sql: str, order: str, params: dict, make):
        self.rows_sql = ROWS_SQL.replace("-- rows", sql).replace("-- order", order)
        self.count_sql = COUNT_SQL.replace("-- rows", sql)
        self.params, self.make = params, make
        self.total: int | None = None

    def order_by(self, *_fields) -> SqlRows:
        return self  # the SQL has its own order

    def __getitem__(self, key: slice) -> _Window:
        if not isinstance(key, slice) or key.step is not None:
            raise TypeError("SqlRows only supports plain slices.")
        return _Window(self, key.start or 0, key.stop)

    def __iter__(self):
        return iter(self[0:None])


# Constant fragments only: every value is a bound parameter.
ROWS_SQL = "SELECT *, COUNT(*) OVER () FROM (\n-- rows\n) AS x -- order\nLIMIT %(limit)s OFFSET %(offset)s"
COUNT_SQL = "SELECT COUNT(*) FROM (\n-- rows\nLIMIT %(limit)s) AS x"


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
        if fetched:
            self.rows.total = fetched[0][-1]
        return iter([self.rows.make(row[:-1]) for row in fetched])

    def count(self) -> int:
        total = self.rows.total
        if total is None:
            with connection.cursor() as cursor:
                cursor.execute(self.rows.count_sql, {**self.rows.params, "limit": self.stop})
                (total,) = cursor.fetchone()
        if self.stop is not None:
            total = min(total, self.stop)
        return max(total - self.start, 0)


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


@dataclass(frozen=True)
class AccountBalance:
    """A tenant account and its balance at a day (Σ debit − credit of the entries posted up to it)."""

    pk: int
    number: str
    balance: object
    balance_at: object
