"""Demo arrears on top of `seed_demo` + `seed_billing_demo`: the detection on the demo's reference
day opens the cases of the tenants who did not pay; a few of them get their first reminder and
one a repayment plan. Idempotent: the detection is a replay, letters and plans are made once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from tenancies.demo import REFERENCE_DATE

from . import services
from .detection import run_detection
from .models import OPEN_STATUSES, ArrearsCase, CaseStatus, RepaymentPlan

AGENCY = "SA"


def seed() -> dict[str, int]:
    report = run_detection(as_of=REFERENCE_DATE)
    counts = {"opened": report.opened, "letters": 0, "plans": 0}
    cases = list(
        ArrearsCase.objects.filter(status__in=OPEN_STATUSES, lease__household__agency__code=AGENCY)
        .select_related("account")
        .order_by("id")[:4]
    )
    for case in cases:
        if case.ladder_position == 0 and case.status == CaseStatus.AMICABLE:
            services.ladder_send(case=case, position=1, on=REFERENCE_DATE, today=REFERENCE_DATE)
            counts["letters"] += 1
    if cases and not RepaymentPlan.objects.exists():
        case = cases[-1]
        case.refresh_from_db()
        debt = case.account.balance
        scheduled, _ = services.regularisation_still_scheduled(case.account, REFERENCE_DATE)
        debt -= scheduled
        if debt > 0:
            instalment = max((debt / 6).quantize(Decimal("0.01")), Decimal("1.00"))
            months = min(int((debt / instalment).to_integral_value(rounding="ROUND_CEILING")), 36)
            services.plan_propose(
                case=case,
                debt=debt,
                monthly_instalment=instalment,
                months=months,
                first_due_on=REFERENCE_DATE + timedelta(days=9),
                on=REFERENCE_DATE,
            )
            counts["plans"] += 1
    return counts
