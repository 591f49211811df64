"""The one write path of the dashboards: recompute the snapshot's monthly figures."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from billing.models import LedgerEntry
from tenancies.models import Agency

from .models import MonthlyFigure, Refresh
from .periods import month_start, months_between
from .registry import providers

# A full refresh covers this many months before the current one: a year view compared with the
# previous year needs 24, a rolling 12-month chart of last year's period 12 more.
HISTORY_MONTHS = getattr(settings, "DASHBOARD_HISTORY_MONTHS", 36)
# An incremental refresh recomputes the stock figures of the current month and this many before it
# (late lease entries), and the ledger's from the earliest month a new ledger entry falls in.
RECENT_MONTHS = 1


def refresh_dashboards(
    *, as_of: date | None = None, full: bool = False, reason: str = "", ledger_only: bool = False
) -> Refresh:
    """Recompute the monthly figures of every agency and provider, and record the refresh.

    Incremental by default: the ledger's figures from the earliest month touched by an entry written
    since the last refresh, the others (stock, leases) from the current month − RECENT_MONTHS.
    `full` recomputes HISTORY_MONTHS months. `ledger_only` (after a billing run, which changes nothing else) recomputes
    only the providers fed by the ledger. Runs in one transaction: pages keep reading the previous figures until it
    commits. Two refreshes at once are serialised by a transaction-level advisory lock.
    """
    as_of = as_of or timezone.localdate()
    started = time.perf_counter()
    current = month_start(as_of)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('dashboards.refresh'))")
            # The month series is estimated at 1 000 rows: the plan looks costly enough for JIT
            # compilation, which alone takes longer (≈ 100 ms a query) than running it.
            cursor.execute("SET LOCAL jit = off")
        last = Refresh.objects.order_by("-id").first()
        max_entry = LedgerEntry.objects.aggregate(m=Max("id"))["m"] or 0
        oldest = current - relativedelta(months=HISTORY_MONTHS - 1)
        full = full or last is None
        windows = {"recent": oldest, "ledger": oldest}
        if not full:
            windows["recent"] = max(oldest, current - relativedelta(months=RECENT_MONTHS))
            windows["ledger"] = max(oldest, _first_touched_month(last.last_entry_id, current))
        rows_scanned = _recompute(windows, current, as_of, ledger_only=ledger_only and not full)
        refresh = Refresh.objects.create(
            computed_at=timezone.now(),
            as_of=as_of,
            first_month=windows["ledger"] if ledger_only and not full else min(windows.values()),
            last_month=current,
            full=full,
            duration_ms=round((time.perf_counter() - started) * 1000),
            rows_scanned=rows_scanned,
            last_entry_id=max_entry,
            reason=reason[:40],
        )
    return refresh


def refresh_after_billing(run_id: int | None = None) -> Refresh:
    """To call once a billing run has finished (its entries are committed)."""
    return refresh_dashboards(reason=f"quittancement {run_id}" if run_id else "quittancement", ledger_only=True)


def _first_touched_month(after_id: int, current: date) -> date:
    """The earliest month (billed period or posting date) of the entries written after `after_id`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT MIN(LEAST(COALESCE(period, posted_on), posted_on)) FROM billing_ledgerentry WHERE id > %s",
            [after_id],
        )
        (day,) = cursor.fetchone()
    return min(month_start(day), current) if day else current


def _recompute(windows: dict[str, date], current: date, as_of: date, *, ledger_only: bool = False) -> int:
    agency_ids = list(Agency.objects.values_list("id", flat=True))
    scanned = 0
    for provider in providers():
        if ledger_only and provider.window != "ledger":
            continue
        months = months_between(windows[provider.window], current)
        values: dict[tuple[int, date, str], Decimal] = defaultdict(Decimal)
        for agency_id, month, key, value, rows in provider.compute(months=months, as_of=as_of):
            values[(agency_id, month, key)] += Decimal(value or 0)
            scanned += rows
        keys = [k for k in provider.components if k not in provider.live]
        live = [k for k in provider.live if k in provider.components]
        MonthlyFigure.objects.filter(month__gte=months[0], month__lte=months[-1], key__in=keys).delete()
        MonthlyFigure.objects.filter(month=current, key__in=live).delete()
        sparse_rows = _sparse_rows(provider, values, months, current)
        # Dense: every component of every agency and month, zeros included, so that "0" and "not
        # computed" differ (a month without rows is shown as not available).
        MonthlyFigure.objects.bulk_create(
            [
                MonthlyFigure(agency_id=a, month=m, key=k, value=values.get((a, m, k), Decimal("0")))
                for a in agency_ids
                for m in months
                for k in (keys + live if m == current else keys)
            ]
            + sparse_rows,
            batch_size=5000,
        )
    return scanned


def _sparse_rows(provider, values, months: list[date], current: date) -> list[MonthlyFigure]:
    """Delete the provider's histogram buckets of the window and return its non-zero new ones."""
    rows = []
    for prefix in provider.sparse:
        live = prefix in provider.live
        stale = MonthlyFigure.objects.filter(key__startswith=prefix)
        if live:
            stale.filter(month=current).delete()
        else:
            stale.filter(month__gte=months[0], month__lte=months[-1]).delete()
        rows += [
            MonthlyFigure(agency_id=a, month=m, key=k, value=v)
            for (a, m, k), v in values.items()
            if k.startswith(prefix) and k[len(prefix) :].isdigit() and v and (m == current or not live)
        ]
    return rows
