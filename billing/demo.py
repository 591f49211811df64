"""Demo billing data on top of `seed_demo`: housing benefits, three billed months, payments.

Reproducible (fixed seed) and idempotent: benefits are created once; months already billed
create nothing; payments are keyed by an idempotency token per (lease, period).
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from tenancies.demo import REFERENCE_DATE
from tenancies.models import Lease, LeaseStatus

from . import batch
from .models import BenefitSource, HousingBenefit, PaymentMethod, RentNotice
from .services import record_payment

SEED = 2026
MONTHS = 3  # September, October, November 2026 before the demo's 1 December 2026


def _cents(rng, low, high) -> Decimal:
    return Decimal(rng.randint(low, high)) / 100


def seed_benefits(rng: random.Random) -> int:
    """About 45 % of current tenants receive APL in tiers payant (with the RLS cut), 10 % only the RLS."""
    if HousingBenefit.objects.exists():
        return 0
    benefits = []
    for lease_id in (
        Lease.objects.filter(status__in=[LeaseStatus.ACTIVE, LeaseStatus.NOTICE_GIVEN])
        .order_by("id")
        .values_list("id", flat=True)
    ):
        draw = rng.random()
        if draw < 0.45:
            benefits.append(
                HousingBenefit(
                    lease_id=lease_id,
                    valid_from=date(2026, 1, 1),
                    apl_amount=_cents(rng, 9000, 32000),
                    rls_amount=rng.choice([Decimal("34.83"), Decimal("42.53"), Decimal("47.49")]),
                    source=BenefitSource.CAF,
                    allocataire_number=f"{rng.randint(1000000, 9999999)}",
                )
            )
        elif draw < 0.55:
            benefits.append(
                HousingBenefit(
                    lease_id=lease_id,
                    valid_from=date(2026, 1, 1),
                    rls_amount=rng.choice([Decimal("34.83"), Decimal("42.53")]),
                    source=BenefitSource.LANDLORD,
                )
            )
    HousingBenefit.objects.bulk_create(benefits, batch_size=2000)
    return len(benefits)


def bill_months() -> list[int]:
    """Bill the demo months in-process (no worker needed); a month already billed creates nothing."""
    created = []
    for offset in range(MONTHS, 0, -1):
        period = REFERENCE_DATE - relativedelta(months=offset)
        issued_on = period + relativedelta(days=24)
        if RentNotice.objects.filter(period=period).exists():
            continue
        run, _ = batch.start_run(period=period, today=issued_on, dispatch=False)
        chunk_ids = list(run.chunks.values_list("id", flat=True))
        for chunk_id in chunk_ids:
            batch.process_chunk(chunk_id)
        run.refresh_from_db()
        created.append(run.notice_count)
    return created


def seed_payments(rng: random.Random) -> int:
    """Most tenants pay in full, some partly, about 6 % not at all (the arrears of the demo)."""
    count = 0
    notices = RentNotice.objects.filter(amount_due__gt=0).select_related("account", "lease").order_by("period", "id")
    for notice in notices:
        draw = rng.random()
        if draw < 0.06:
            continue
        amount = notice.amount_due if draw > 0.14 else (notice.amount_due * Decimal("0.5")).quantize(Decimal("0.01"))
        method = (
            PaymentMethod.DIRECT_DEBIT
            if notice.lease.payment_method == "direct_debit"
            else rng.choice([PaymentMethod.TRANSFER, PaymentMethod.CHEQUE, PaymentMethod.TIP])
        )
        received = notice.due_on + relativedelta(days=rng.randint(-4, 6))
        record_payment(
            account=notice.account,
            amount=amount,
            received_on=min(received, REFERENCE_DATE),
            method=method,
            today=REFERENCE_DATE,
            idempotency_key=f"demo-{notice.pk}",
        )
        count += 1
    return count
