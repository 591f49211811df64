"""Every stored component and every figure, recomputed independently from the raw records."""

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from billing.models import DirectDebit, LedgerEntry
from dashboards.models import MonthlyFigure
from dashboards.periods import Period
from dashboards.selectors import Selection, build_blocks
from tenancies.models import Agency, Dwelling, Lease

BILLED = {"rent", "annex_rent", "charge", "sls", "rls", "regularisation"}
CENT = Decimal("0.01")


def _end(month):
    return month + relativedelta(months=1, days=-1)


def expected_components(months, as_of):
    """{(agency_id, month, key): value} from dwellings, leases, entries and debits, in plain Python."""
    out = defaultdict(Decimal)
    leases_by_dwelling = defaultdict(list)
    for lease in Lease.objects.exclude(status__in=["draft", "cancelled"]).order_by("starts_on", "id"):
        leases_by_dwelling[lease.dwelling_id].append(lease)
    live = as_of.replace(day=1)
    for d in Dwelling.objects.select_related("building__estate"):
        agency = d.building.estate.agency_id
        leases = leases_by_dwelling[d.pk]
        for m in months:
            me = min(_end(m), as_of)
            span = (me - m).days + 1
            dim = (_end(m) - m).days + 1
            occupied = 0
            held = False
            for lease in leases:
                start, end = lease.starts_on, lease.ends_on or me
                if start <= me and end >= m:
                    occupied += (min(end, me) - max(start, m)).days + 1
                    if lease.ends_on is None or lease.ends_on >= me:
                        held = True
            occupied = min(occupied, span)
            vacant = span - occupied
            out[(agency, m, "dwellings")] += 1
            out[(agency, m, "dwelling_days")] += span
            out[(agency, m, "vacant_days")] += vacant
            out[(agency, m, "rent_lost")] += (d.rent * vacant / dim).quantize(CENT, rounding=ROUND_HALF_UP)
            if m == live:
                status = d.status
            elif held:
                status = "let"
            else:
                status = "vacant" if d.status == "let" else d.status
            out[(agency, m, f"status_{status}")] += 1
        for previous, lease in zip(leases, leases[1:], strict=False):
            m = lease.starts_on.replace(day=1)
            if previous.ends_on and m in months and lease.starts_on <= as_of:
                out[(agency, m, "relets")] += 1
                out[(agency, m, "relet_vacant_days")] += max((lease.starts_on - previous.ends_on).days - 1, 0)
        for lease in leases:
            if lease.status == "ended" and lease.ends_on and lease.ends_on <= as_of:
                m = lease.ends_on.replace(day=1)
                if m in months:
                    out[(agency, m, "departures")] += 1
    agency_of_account = {}
    for entry in LedgerEntry.objects.select_related("account__lease__dwelling__building__estate"):
        agency = entry.account.lease.dwelling.building.estate.agency_id
        agency_of_account[entry.account_id] = agency
        net = entry.debit - entry.credit
        billed_month = (entry.period or entry.posted_on).replace(day=1)
        posted_month = entry.posted_on.replace(day=1)
        if entry.kind in BILLED and billed_month in months:
            out[(agency, billed_month, "billed")] += net
        if entry.kind == "apl" and billed_month in months:
            out[(agency, billed_month, "apl")] -= net
        is_payment = entry.kind == "payment" or (entry.kind == "reversal" and entry.payment_id)
        if is_payment and posted_month in months:
            out[(agency, posted_month, "collected")] -= net
        for m in months:
            if entry.posted_on <= _end(m):
                out[(agency, m, "outstanding")] += net
    for debit in DirectDebit.objects.select_related("run", "mandate__account__lease__dwelling__building__estate"):
        agency = debit.mandate.account.lease.dwelling.building.estate.agency_id
        m = debit.run.due_on.replace(day=1)
        if m in months:
            out[(agency, m, "dd_count")] += 1
            out[(agency, m, "dd_amount")] += debit.amount
        if debit.status == "rejected":
            m = debit.rejected_on.replace(day=1)
            out[(agency, m, "dd_rejected")] += 1
            out[(agency, m, "dd_rejected_amount")] += debit.amount
    # Arrears: today's situation photographed in the refresh's month, cases opened/closed by month.
    from arrears.models import ArrearsCase, ArrearsSnapshot, CafReport, RepaymentPlan

    live = as_of.replace(day=1)
    if live in months:
        for snap in ArrearsSnapshot.objects.select_related("account__lease__dwelling__building__estate"):
            agency = snap.account.lease.dwelling.building.estate.agency_id
            for key in ("overdue", "bucket_0_30", "bucket_31_60", "bucket_61_90", "bucket_over_90"):
                out[(agency, live, key)] += getattr(snap, key)
        for case in ArrearsCase.objects.select_related("lease__dwelling__building__estate"):
            if case.status != "closed":
                out[(case.lease.dwelling.building.estate.agency_id, live, f"cases_{case.status}")] += 1
        for plan in RepaymentPlan.objects.select_related("case__lease__dwelling__building__estate"):
            if plan.status in ("active", "late", "broken", "completed"):
                out[(plan.case.lease.dwelling.building.estate.agency_id, live, f"plans_{plan.status}")] += 1
        for report in CafReport.objects.select_related("case__lease__dwelling__building__estate"):
            if report.sent_on is None and report.due_by < as_of:
                out[(report.case.lease.dwelling.building.estate.agency_id, live, "caf_overdue")] += 1
    for case in ArrearsCase.objects.select_related("lease__dwelling__building__estate"):
        agency = case.lease.dwelling.building.estate.agency_id
        for day, key in ((case.opened_on, "cases_opened"), (case.closed_on, "cases_closed")):
            if day and day <= as_of and day.replace(day=1) in months:
                out[(agency, day.replace(day=1), key)] += 1
    for entry in LedgerEntry.objects.filter(kind="write_off").select_related(
        "account__lease__dwelling__building__estate"
    ):
        m = entry.posted_on.replace(day=1)
        if m in months:
            out[(entry.account.lease.dwelling.building.estate.agency_id, m, "written_off")] += (
                entry.credit - entry.debit
            )
    # Applications: open ones today (count, cotation, days since first registration), dated flows.
    from applications.committee.models import Decision, Offer, Session
    from applications.models import OPEN_STATUSES, Application

    for app in Application.objects.all():
        if live in months and app.status in OPEN_STATUSES:
            out[(app.agency_id, live, "open")] += 1
            out[(app.agency_id, live, "score_sum")] += app.score
            out[(app.agency_id, live, "waiting_days")] += (as_of - app.first_registered_on).days
        if live in months and app.status == "renewal_due":
            out[(app.agency_id, live, "renewal_due")] += 1
        for day, key in ((app.first_registered_on, "registered"), (app.cancelled_on, "cancelled")):
            if day and day <= as_of and day.replace(day=1) in months:
                out[(app.agency_id, day.replace(day=1), key)] += 1
    # CALEOL: sessions held, items examined, decisions not corrected later, offers answered.
    for session in Session.objects.prefetch_related("items"):
        m = session.held_on.replace(day=1)
        if session.status in ("closed", "signed") and session.held_on <= as_of and m in months:
            out[(session.agency_id, m, "sessions")] += 1
            out[(session.agency_id, m, "examined")] += len(session.items.all())
    for decision in Decision.objects.select_related("candidature__item__session"):
        day = timezone.localtime(decision.decided_at).date()
        if not decision.corrections.exists() and day <= as_of and day.replace(day=1) in months:
            agency = decision.candidature.item.session.agency_id
            out[(agency, day.replace(day=1), f"decision_{decision.kind}")] += 1
    for offer in Offer.objects.select_related("candidature__item__session"):
        if offer.answered_on and offer.answered_on <= as_of and offer.answered_on.replace(day=1) in months:
            key = "offers_refused" if offer.status in ("refused", "expired") else "offers_accepted"
            out[(offer.candidature.item.session.agency_id, offer.answered_on.replace(day=1), key)] += 1
    return out


def stored():
    return {(f.agency_id, f.month, f.key): f.value for f in MonthlyFigure.objects.all()}


def test_components_and_figures_are_exact(refreshed):
    """Each stored component, then each figure of the page for several periods and scopes."""
    as_of = refreshed.as_of
    months = sorted({m for _a, m, _k in stored()})
    assert months[-1] == date(2026, 12, 1) and len(months) == 36
    expected = expected_components(months, as_of)
    actual = stored()
    # Sanity: the data exercises every component somewhere.
    for key in (
        "rent_lost",
        "relets",
        "departures",
        "billed",
        "apl",
        "collected",
        "dd_rejected",
        "status_works",
        "overdue",
        "cases_amicable",
        "cases_opened",
        "open",
        "registered",
        "waiting_days",
    ):
        assert any(v for (_a, _m, k), v in expected.items() if k == key), key
    for key, value in actual.items():
        assert value == expected.get(key, Decimal("0")), key
    assert {k for k, v in expected.items() if v} <= set(actual)
    check_page_figures(expected, as_of)


def _independent_figures(comp, period, agency_ids, as_of):
    months = period.months

    def flow(key):
        return sum((comp.get((a, m, key), Decimal(0)) for a in agency_ids for m in months), Decimal(0))

    last = min(period.last_month, as_of.replace(day=1))

    def stock(key):
        return sum((comp.get((a, last, key), Decimal(0)) for a in agency_ids), Decimal(0))

    def pct(n, d, places="0.1"):
        return None if not d else (n * 100 / d).quantize(Decimal(places), rounding=ROUND_HALF_UP)

    billed, apl, collected = flow("billed"), flow("apl"), flow("collected")
    return {
        "stock.dwellings": stock("dwellings"),
        "stock.status_let": stock("status_let"),
        "stock.vacancy_commercial": pct(stock("status_vacant") + stock("status_reserved"), stock("dwellings")),
        "stock.vacancy_technical": pct(stock("status_works"), stock("dwellings")),
        "stock.rent_lost": flow("rent_lost"),
        "stock.relet_days": None
        if not flow("relets")
        else (flow("relet_vacant_days") / flow("relets")).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
        "stock.turnover": pct(flow("departures"), stock("dwellings")),
        "billing.billed": billed,
        "billing.apl_share": pct(apl, billed),
        "billing.collected": collected,
        "billing.collection_rate": pct(collected, billed - apl),
        "billing.outstanding": stock("outstanding"),
        "billing.dd_rejected": flow("dd_rejected"),
        "arrears.overdue": stock("overdue") if last == as_of.replace(day=1) else None,
        "arrears.cases_opened": flow("cases_opened"),
    }


def check_page_figures(comp, as_of):
    agencies = list(Agency.objects.order_by("name"))
    checks = [
        (Period("month", date(2026, 11, 1)), None),
        (Period("quarter", date(2026, 10, 1)), None),
        (Period("year", date(2026, 1, 1)), agencies[0]),
        (Period("month", date(2026, 12, 1)), None),
    ]
    for period, agency in checks:
        selection = Selection(period, agencies, agency)
        rows = {r.code: r for b in build_blocks(selection) for r in b.rows}
        ids = selection.agency_ids
        expected = _independent_figures(comp, period, ids, as_of)
        previous = _independent_figures(comp, period.previous(), ids, as_of)
        for code, value in expected.items():
            assert rows[code].current == value, (period, code)
            assert rows[code].previous == previous[code], (period, code, "previous")
    # Collected in November 2026 really is a sum of euros, to the cent.
    november = Selection(Period("month", date(2026, 11, 1)), agencies)
    row = next(r for b in build_blocks(november) for r in b.rows if r.code == "billing.collected")
    assert row.current > 0 and row.current == row.current.quantize(CENT)


def test_incremental_refresh_matches_a_full_one(refreshed, django_capture_on_commit_callbacks):
    from billing.models import Account, PaymentMethod
    from billing.services import record_payment
    from dashboards.services import refresh_dashboards

    account = Account.objects.filter(balance__gt=0).order_by("id").first()
    record_payment(
        account=account,
        amount=Decimal("10.00"),
        received_on=date(2026, 12, 14),
        method=PaymentMethod.CHEQUE,
        today=date(2026, 12, 14),
        idempotency_key="dash-incr",
    )
    incremental = refresh_dashboards(as_of=refreshed.as_of)
    assert not incremental.full and incremental.first_month == date(2026, 11, 1)  # stock: 1 month back
    after_incremental = stored()
    refresh_dashboards(as_of=refreshed.as_of, full=True)
    assert stored() == after_incremental
    agency = account.lease.dwelling.building.estate.agency_id
    before = expected_components([date(2026, 12, 1)], refreshed.as_of)
    assert (
        after_incremental[(agency, date(2026, 12, 1), "collected")] == before[(agency, date(2026, 12, 1), "collected")]
    )
