"""The one write path of the dashboards: recompute the snapshot's monthly figures."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from billing.models import LedgerEntry
from tenancies.models import Agency

from .models import MonthlyFigure, Refresh
from .periods import month_start, months_between
from .providers import billing as billing_provider
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
    `full` recomputes HISTORY_MONTHS months. `ledger_only` (after a billing run, which changes nothing else)
    touches only the providers fed by the ledger, and adds the new entries' amounts to the stored components
    where it can (`_refresh_ledger`) instead of recomputing the months. Runs in one transaction: pages keep
    reading the previous figures until it commits. Two refreshes at once are serialised by an advisory lock, taken
    before the transaction's snapshot, and the transaction reads one snapshot (REPEATABLE READ) when it is the
    outermost one: the highest entry id it records and the figures it stores describe the same entries, so the
    next refresh neither misses nor counts twice an entry committed meanwhile.
    """
    as_of = as_of or timezone.localdate()
    started = time.perf_counter()
    current = month_start(as_of)
    outermost = not connection.in_atomic_block
    if outermost:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(hashtext('dashboards.refresh'))")
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                if outermost:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                else:  # inside a caller's transaction (tests, a management shell): lock until its end
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
            if ledger_only and not full:
                rows_scanned = _refresh_ledger(windows["ledger"], current, as_of, last.last_entry_id, max_entry)
            else:
                rows_scanned = _recompute(windows, current, as_of)
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
    finally:
        if outermost:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(hashtext('dashboards.refresh'))")
            except DatabaseError:
                connection.close()  # closing the session releases its advisory locks
    return refresh


def refresh_after_billing(run_id: int | None = None, *, as_of: date | None = None) -> Refresh:
    """To call once a billing run has finished (its entries are committed)."""
    reason = f"quittancement {run_id}" if run_id else "quittancement"
    return refresh_dashboards(as_of=as_of, reason=reason, ledger_only=True)


def _first_touched_month(after_id: int, current: date) -> date:
    """The earliest month (billed period or posting date) of the entries written after `after_id`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT MIN(LEAST(COALESCE(period, posted_on), posted_on)) FROM billing_ledgerentry WHERE id > %s",
            [after_id],
        )
        (day,) = cursor.fetchone()
    return min(month_start(day), current) if day else current


def _recompute(windows: dict[str, date], current: date, as_of: date, *, only=None) -> int:
    agency_ids = list(Agency.objects.values_list("id", flat=True))
    scanned = 0
    for provider in providers():
        if only is not None and provider not in only:
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
    """Delete the provider's histogram buckets (`Provider.sparse`) of the window and return its
    non-zero new ones: only the buckets that hold something are stored."""
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


# --- After a billing run: the new entries' amounts added to the stored components ----------------------

# Posted entries are never edited (append-only ledger): the billing components of a month move by
# exactly the amounts of the entries written since the last refresh. One scan of those entries
# (a range of the primary key), grouped by agency, billed month and posting month as LEDGER_SQL.
LEDGER_DELTA_SQL = """
SELECT e.agency_id,
       date_trunc('month', COALESCE(le.period, le.posted_on))::date,
       date_trunc('month', le.posted_on)::date,
       COALESCE(SUM(le.debit - le.credit) FILTER (WHERE le.kind = ANY(%(billed)s)), 0),
       COALESCE(SUM(le.credit - le.debit) FILTER (WHERE le.kind = 'apl'), 0),
       COALESCE(SUM(le.credit - le.debit) FILTER (
           WHERE le.kind = 'payment' OR (le.kind = 'reversal' AND le.payment_id IS NOT NULL)), 0),
       SUM(le.debit - le.credit),
       COUNT(*)
FROM billing_ledgerentry le
JOIN billing_account a ON a.id = le.account_id
JOIN tenancies_lease l ON l.id = a.lease_id
JOIN tenancies_dwelling d ON d.id = l.dwelling_id
JOIN tenancies_building b ON b.id = d.building_id
JOIN tenancies_estate e ON e.id = b.estate_id
WHERE le.id > %(after)s AND le.id <= %(upto)s
GROUP BY 1, 2, 3
"""
# The components it moves; the direct-debit ones (not ledger entries) wait for the nightly refresh.
LEDGER_DELTA_KEYS = ("billed", "apl", "collected", "outstanding")

APPLY_DELTAS_SQL = """
UPDATE dashboards_monthlyfigure f SET value = f.value + d.delta
FROM unnest(%s::bigint[], %s::date[], %s::text[], %s::numeric[]) AS d(agency_id, month, key, delta)
WHERE f.agency_id = d.agency_id AND f.month = d.month AND f.key = d.key
"""


def _billing_deltas(months: list[date], after_id: int, upto_id: int):
    """{(agency_id, month, key): amount to add} for the entries after_id < id <= upto_id, and their count."""
    wanted = set(months)
    deltas: dict[tuple[int, date, str], Decimal] = defaultdict(Decimal)
    scanned = 0
    params = {"billed": [str(k) for k in billing_provider.BILLED_KINDS], "after": after_id, "upto": upto_id}
    with connection.cursor() as cursor:
        cursor.execute(LEDGER_DELTA_SQL, params)
        for agency_id, billed_month, posted_month, billed, apl, collected, net, n in cursor.fetchall():
            scanned += n
            if billed_month in wanted:
                deltas[(agency_id, billed_month, "billed")] += billed
                deltas[(agency_id, billed_month, "apl")] += apl
            if posted_month in wanted:
                deltas[(agency_id, posted_month, "collected")] += collected
            # Outstanding at the end of m: every entry posted up to that day.
            for m in months:
                if m >= posted_month:
                    deltas[(agency_id, m, "outstanding")] += net
    return {k: v for k, v in deltas.items() if v}, scanned


def _computed_everywhere(months: list[date], keys, agency_ids: list[int]) -> bool:
    """Whether the snapshot holds every (agency, month, key) of these: deltas need a value to add to."""
    stored = MonthlyFigure.objects.filter(month__in=months, key__in=keys, agency_id__in=agency_ids).count()
    return stored == len(months) * len(keys) * len(agency_ids)


def _new_entries_of_kinds(after_id: int, upto_id: int, kinds) -> bool:
    """Whether an entry after_id < id <= upto_id has one of these kinds."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM billing_ledgerentry WHERE id > %s AND id <= %s AND kind = ANY(%s))",
            [after_id, upto_id, [str(k) for k in kinds]],
        )
        return cursor.fetchone()[0]


def _refresh_ledger(first: date, current: date, as_of: date, after_id: int, upto_id: int) -> int:
    """The ledger-fed providers after a billing run: the billing components by deltas when every month
    they touch is already computed; then the other ledger providers recomputed from `first`, those that
    declare `ledger_kinds` only when a new entry is of one of their kinds (a month never computed:
    every ledger provider recomputed)."""
    agency_ids = list(Agency.objects.values_list("id", flat=True))
    months = months_between(first, current)
    ledger = [p for p in providers() if p.window == "ledger"]
    recompute = list(ledger)
    scanned = 0
    billing = next((p for p in ledger if p.slug == "billing"), None)
    if billing is not None and _computed_everywhere(months, LEDGER_DELTA_KEYS, agency_ids):
        recompute = [
            p
            for p in ledger
            if p is not billing and (not p.ledger_kinds or _new_entries_of_kinds(after_id, upto_id, p.ledger_kinds))
        ]
        deltas, scanned = _billing_deltas(months, after_id, upto_id)
        if deltas:
            columns = list(zip(*[(a, m, k, v) for (a, m, k), v in deltas.items()], strict=True))
            with connection.cursor() as cursor:
                cursor.execute(APPLY_DELTAS_SQL, [list(c) for c in columns])
    if recompute:
        scanned += _recompute({"recent": first, "ledger": first}, current, as_of, only=recompute)
    return scanned
