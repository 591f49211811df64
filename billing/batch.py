"""The monthly billing batch (quittancement): set-based, chunked, idempotent, resumable.

A run splits the billable leases into chunks (BillingChunk). Each chunk is processed by one
Celery task in one transaction: notices are inserted with ON CONFLICT DO NOTHING on
(lease, period), so the database arbitrates and a replayed or redelivered chunk creates
nothing twice; only the notices actually inserted get their lines and ledger entries (COPY)
and move their account's balance. The chunk is marked done in the same transaction. The last
chunk to finish, holding the run's row lock, computes the run's counts and totals.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from celery import current_app
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from tenancies.models import Lease, LeaseAnnex, LeaseCharge, LeaseStatus

from .calc import LeaseTerms, NoticeDraft, bill_lease, month_bounds
from .ledger import ensure_accounts
from .models import (
    ZERO,
    Account,
    BillingChunk,
    BillingFailure,
    BillingRun,
    HousingBenefit,
    RentNotice,
    RunStatus,
    SlsCharge,
)

log = logging.getLogger(__name__)

BILLED_STATUSES = (LeaseStatus.SIGNED, LeaseStatus.ACTIVE, LeaseStatus.NOTICE_GIVEN, LeaseStatus.ENDED)


class BillingError(Exception):
    """A refused billing request (French message)."""


def parse_period(text: str) -> date:
    """ "2026-12" or "12/2026" -> date(2026, 12, 1); BillingError otherwise."""
    text = (text or "").strip()
    try:
        if "/" in text:
            month, year = text.split("/")
        else:
            year, month = text.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise BillingError(f"Période « {text} » invalide : attendu AAAA-MM (par exemple 2026-12).") from None


def check_period(period: date, today: date) -> None:
    """A month may be billed up to one month ahead of today, not further."""
    latest = today.replace(day=1) + relativedelta(months=1)
    if period > latest:
        raise BillingError(f"La période {period:%m/%Y} est plus d'un mois en avance : au plus tard {latest:%m/%Y}.")


def billable_lease_ids(period: date) -> list[int]:
    first, last, _ = month_bounds(period)
    return list(
        Lease.objects.filter(status__in=BILLED_STATUSES, starts_on__lte=last)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=first))
        .order_by("id")
        .values_list("id", flat=True)
    )


def start_run(
    *,
    period: date,
    by=None,
    today: date | None = None,
    chunk_size: int | None = None,
    dispatch: bool = True,
) -> tuple[BillingRun, bool]:
    """Launch the billing of `period`; returns (run, created).

    When a run for the period is already running, that run is returned and nothing new starts
    (a partial unique constraint arbitrates two simultaneous launches). Leases already billed
    for the period get no chunk: a replay of a billed month creates no chunk and no notice, and
    counts every lease as already billed. With dispatch=False the caller processes the chunks
    itself (the demo loader); otherwise they are queued on Celery once the run is committed.
    """
    today = today or timezone.localdate()
    period = period.replace(day=1)
    check_period(period, today)
    chunk_size = chunk_size or settings.BILLING_CHUNK_SIZE
    try:
        with transaction.atomic():
            run = BillingRun.objects.create(period=period, launched_by=by, issued_on=today)
            lease_ids = billable_lease_ids(period)
            billed = set(RentNotice.objects.filter(period=period).values_list("lease_id", flat=True))
            to_bill = [lease_id for lease_id in lease_ids if lease_id not in billed]
            chunks = [
                BillingChunk(run=run, index=i, lease_ids=to_bill[start : start + chunk_size])
                for i, start in enumerate(range(0, len(to_bill), chunk_size))
            ]
            BillingChunk.objects.bulk_create(chunks, batch_size=500)
            run.lease_count = len(lease_ids)
            run.chunk_count = len(chunks)
            run.save(update_fields=["lease_count", "chunk_count"])
            if not chunks:
                finalize_run(run.pk)
            elif dispatch:
                chunk_ids = [c.pk for c in chunks]
                transaction.on_commit(lambda: dispatch_chunks(chunk_ids))
    except IntegrityError:
        existing = BillingRun.objects.filter(period=period, status=RunStatus.RUNNING).first()
        if existing is None:  # the other launch finished in between
            raise BillingError("Un quittancement de cette période vient de se terminer : relancez si besoin.") from None
        return existing, False
    run.refresh_from_db()
    return run, True


def dispatch_chunks(chunk_ids: list[int]) -> None:
    from .tasks import bill_chunk

    for chunk_id in chunk_ids:
        bill_chunk.delay(chunk_id)


def resume_run(run: BillingRun) -> int:
    """Queue again the chunks of a running run that are not done (after a crash); returns their count."""
    pending = list(run.chunks.filter(done_at__isnull=True).values_list("id", flat=True))
    if pending:
        transaction.on_commit(lambda: dispatch_chunks(pending))
    return len(pending)


# --- One chunk -------------------------------------------------------------------------------


def _latest_by_lease(rows):
    """rows ordered by lease then valid_from descending -> {lease_id: first row}."""
    found = {}
    for row in rows:
        found.setdefault(row[0], row)
    return found


def load_terms(lease_ids: list[int], period: date) -> tuple[list[LeaseTerms], dict[int, str]]:
    """The billing terms of these leases for the month, and the leases refused with a reason."""
    first, last, _ = month_bounds(period)
    leases = Lease.objects.filter(id__in=lease_ids).values_list(
        "id", "starts_on", "ends_on", "rent", "dwelling__max_rent_per_m2", "dwelling__living_area"
    )
    annexes = defaultdict(list)
    for lease_id, kind, reference, rent in (
        LeaseAnnex.objects.filter(lease_id__in=lease_ids)
        .order_by("lease_id", "annex__reference")
        .values_list("lease_id", "annex__kind", "annex__reference", "rent")
    ):
        label = {"parking": "Place de parking", "garage": "Garage", "cellar": "Cave"}.get(kind, "Annexe")
        annexes[lease_id].append((f"{label} {reference}", rent))
    charges = defaultdict(list)
    for lease_id, type_id, label, amount in (
        LeaseCharge.objects.filter(lease_id__in=lease_ids)
        .order_by("lease_id", "charge_type__position")
        .values_list("lease_id", "charge_type_id", "charge_type__label", "monthly_amount")
    ):
        charges[lease_id].append((type_id, label, amount))
    in_month = Q(valid_from__lte=last) & (Q(valid_to__isnull=True) | Q(valid_to__gte=first))
    benefits = _latest_by_lease(
        HousingBenefit.objects.filter(in_month, lease_id__in=lease_ids)
        .order_by("lease_id", "-valid_from")
        .values_list("lease_id", "apl_amount", "rls_amount")
    )
    sls = _latest_by_lease(
        SlsCharge.objects.filter(in_month, lease_id__in=lease_ids)
        .order_by("lease_id", "-valid_from")
        .values_list("lease_id", "monthly_amount")
    )
    terms, failures = [], {}
    for lease_id, starts_on, ends_on, rent, max_per_m2, area in leases:
        max_rent = (max_per_m2 * area).quantize(Decimal("0.01"))
        if rent > max_rent:
            failures[lease_id] = (
                f"Loyer {rent} € supérieur au loyer maximum de la convention ({max_rent} €) : à corriger sur le bail."
            )
            continue
        benefit = benefits.get(lease_id)
        terms.append(
            LeaseTerms(
                lease_id=lease_id,
                starts_on=starts_on,
                ends_on=ends_on,
                rent=rent,
                annexes=annexes[lease_id],
                charges=charges[lease_id],
                sls=sls[lease_id][1] if lease_id in sls else ZERO,
                apl=benefit[1] if benefit else ZERO,
                rls=benefit[2] if benefit else ZERO,
            )
        )
    return terms, failures


def due_date(period: date) -> date:
    return period + relativedelta(months=1, day=settings.BILLING_DUE_DAY)


def _insert_notices(drafts: list[NoticeDraft], accounts: dict[int, int], period: date, run_id, today) -> dict[int, int]:
    """INSERT … ON CONFLICT DO NOTHING; returns {lease_id: notice_id} of the notices inserted now."""
    if not drafts:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO billing_rentnotice (lease_id, account_id, period, run_id, issued_on, due_on, days_billed,
                days_in_month, rent_amount, charges_amount, apl_amount, amount_due)
            SELECT lease_id, account_id, %s, %s, %s, %s, days_billed, days_in_month, rent, charges, apl, due
            FROM unnest(%s::bigint[], %s::bigint[], %s::smallint[], %s::smallint[], %s::numeric[], %s::numeric[],
                        %s::numeric[], %s::numeric[])
                AS t(lease_id, account_id, days_billed, days_in_month, rent, charges, apl, due)
            ON CONFLICT (lease_id, period) DO NOTHING
            RETURNING lease_id, id
            """,
            [
                period,
                run_id,
                today,
                due_date(period),
                [d.lease_id for d in drafts],
                [accounts[d.lease_id] for d in drafts],
                [d.days_billed for d in drafts],
                [d.days_in_month for d in drafts],
                [d.rent_amount for d in drafts],
                [d.charges_amount for d in drafts],
                [d.apl_amount for d in drafts],
                [d.amount_due for d in drafts],
            ],
        )
        return dict(cursor.fetchall())


def _copy_lines_and_entries(drafts, inserted, accounts, period, today) -> dict[int, Decimal]:
    """COPY the lines and ledger entries of the inserted notices; returns each account's delta."""
    now = timezone.now()
    deltas: dict[int, Decimal] = defaultdict(lambda: ZERO)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(
            "COPY billing_rentnoticeline (notice_id, position, kind, label, amount, charge_type_id) FROM STDIN"
        ) as copy:
            for d in drafts:
                notice_id = inserted.get(d.lease_id)
                if notice_id is None:
                    continue
                for position, line in enumerate(d.lines, start=1):
                    copy.write_row((notice_id, position, line.kind, line.label, line.amount, line.charge_type_id))
        with raw.copy(
            "COPY billing_ledgerentry (account_id, posted_on, period, kind, label, debit, credit, charge_type_id,"
            " notice_id, created_at) FROM STDIN"
        ) as copy:
            for d in drafts:
                notice_id = inserted.get(d.lease_id)
                if notice_id is None:
                    continue
                account_id = accounts[d.lease_id]
                for line in d.lines:
                    debit = line.amount if line.amount > 0 else ZERO
                    credit = -line.amount if line.amount < 0 else ZERO
                    copy.write_row(
                        (
                            account_id,
                            today,
                            period,
                            line.kind,
                            line.label,
                            debit,
                            credit,
                            line.charge_type_id,
                            notice_id,
                            now,
                        )
                    )
                deltas[account_id] += d.amount_due
    return deltas


def _move_balances(deltas: dict[int, Decimal]) -> None:
    if not deltas:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE billing_account a SET balance = a.balance + v.delta "
            "FROM unnest(%s::bigint[], %s::numeric[]) AS v(id, delta) WHERE a.id = v.id",
            [list(deltas), list(deltas.values())],
        )


def process_chunk(chunk_id: int) -> int:
    """Bill one chunk in one transaction; returns the number of notices created (0 on replay)."""
    with transaction.atomic():
        chunk = BillingChunk.objects.select_for_update().select_related("run").get(pk=chunk_id)
        if chunk.done_at is not None:
            return 0
        run = chunk.run
        today = run.issued_on
        lease_ids = chunk.lease_ids
        ensure_accounts(lease_ids)
        accounts = dict(Account.objects.filter(lease_id__in=lease_ids).values_list("lease_id", "id"))
        terms, failures = load_terms(lease_ids, run.period)
        drafts = []
        for t in terms:
            try:
                draft = bill_lease(t, run.period)
            except Exception as exc:  # one bad lease must not stop the run
                log.exception("billing lease %s failed", t.lease_id)
                failures[t.lease_id] = f"Erreur de calcul : {exc}"
                continue
            if draft is not None:
                drafts.append(draft)
        inserted = _insert_notices(drafts, accounts, run.period, run.pk, today)
        _move_balances(_copy_lines_and_entries(drafts, inserted, accounts, run.period, today))
        BillingFailure.objects.bulk_create(
            [BillingFailure(run=run, lease_id=lease_id, reason=reason) for lease_id, reason in failures.items()],
            ignore_conflicts=True,
        )
        chunk.done_at = timezone.now()
        chunk.save(update_fields=["done_at"])
        finalize_run(run.pk)
        return len(inserted)


def finalize_run(run_id: int) -> bool:
    """Close the run once every chunk is done: counts, totals per agency, duration. Idempotent."""
    with transaction.atomic():
        run = BillingRun.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.RUNNING or run.chunks.filter(done_at__isnull=True).exists():
            return False
        notices = RentNotice.objects.filter(run=run)
        per_agency = (
            notices.values("lease__dwelling__building__estate__agency__name")
            .annotate(
                count=Count("id"),
                rent=Sum("rent_amount"),
                charges=Sum("charges_amount"),
                apl=Sum("apl_amount"),
                due=Sum("amount_due"),
            )
            .order_by("lease__dwelling__building__estate__agency__name")
        )
        run.totals_by_agency = [
            {
                "agency": row["lease__dwelling__building__estate__agency__name"],
                "count": row["count"],
                "rent": str(row["rent"]),
                "charges": str(row["charges"]),
                "apl": str(row["apl"]),
                "due": str(row["due"]),
            }
            for row in per_agency
        ]
        run.notice_count = sum(row["count"] for row in run.totals_by_agency)
        run.total_due = sum((Decimal(row["due"]) for row in run.totals_by_agency), ZERO)
        run.failure_count = run.failures.count()
        run.already_billed_count = run.lease_count - run.notice_count - run.failure_count
        run.status = RunStatus.DONE
        run.finished_at = timezone.now()
        run.save()
        # The dashboards read the ledger through a snapshot: queue its refresh, by task name so
        # that billing imports nothing from the app above it. In eager mode (tests, a machine
        # without Redis) the nightly refresh or `manage.py refresh_dashboards` does it instead.
        follow_up = current_app.tasks.get("dashboards.refresh_after_billing")
        if follow_up is not None and not settings.CELERY_TASK_ALWAYS_EAGER:
            transaction.on_commit(lambda: follow_up.delay(run_id))
        return True


def resume_stale_runs(*, older_than: timedelta = timedelta(minutes=15)) -> int:
    """Queue again the unfinished chunks of runs still running after `older_than` (a chunk lost
    to a crash or a task error); returns the number of chunks queued. Idempotent."""
    queued = 0
    cutoff = timezone.now() - older_than
    for run in BillingRun.objects.filter(status=RunStatus.RUNNING, launched_at__lt=cutoff):
        queued += resume_run(run)
    return queued


def run_progress(run: BillingRun) -> tuple[int, int]:
    """(chunks done, chunks in all)."""
    return run.chunks.filter(done_at__isnull=False).count(), run.chunk_count
