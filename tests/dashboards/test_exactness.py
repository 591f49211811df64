"""Every stored component and every figure, recomputed independently from the raw records."""

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from arrears.models import LitigationKind
from billing.models import DirectDebit, LedgerEntry
from dashboards.models import MonthlyFigure
from dashboards.periods import Period
from dashboards.registry import providers
from dashboards.selectors import Selection, build_blocks
from dashboards.services import refresh_dashboards
from tenancies.models import Agency, Dwelling, Lease

from .seeding import seed_arrears_steps, seed_move_outs

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
        for case in ArrearsCase.objects.select_related("lease__dwelling__building__estate").prefetch_related(
            "litigation_steps"
        ):
            agency = case.lease.dwelling.building.estate.agency_id
            if case.status != "closed":
                out[(agency, live, f"cases_{case.status}")] += 1
            if case.status == "amicable":
                out[(agency, live, f"ladder_{min(case.ladder_position, 4)}")] += 1
            if case.status == "litigation":
                steps = sorted(case.litigation_steps.all(), key=lambda s: (s.position, s.id))
                out[(agency, live, f"litigation_{steps[-1].kind if steps else 'none'}")] += 1
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
    # Move-outs: exit EDLs signed (local day) and deposits refunded by month; pending ones and open
    # settlements photographed in the refresh's month.
    from inspections.models import Inspection, Settlement

    for edl in Inspection.objects.filter(kind="exit").select_related("lease__dwelling__building__estate"):
        agency = edl.lease.dwelling.building.estate.agency_id
        if edl.status == "signed":
            day = timezone.localtime(edl.signed_at).date()
            if day <= as_of and day.replace(day=1) in months:
                out[(agency, day.replace(day=1), "exit_done")] += 1
        if edl.status in ("scheduled", "in_progress") and live in months:
            out[(agency, live, "exit_pending")] += 1
    for settlement in Settlement.objects.select_related("lease__dwelling__building__estate"):
        agency = settlement.lease.dwelling.building.estate.agency_id
        paid = settlement.refund_paid_on
        if paid and paid <= as_of and paid.replace(day=1) in months:
            m = paid.replace(day=1)
            out[(agency, m, "settled")] += 1
            out[(agency, m, "settle_days")] += (paid - settlement.keys_returned_on).days
            out[(agency, m, "settled_in_time")] += paid <= settlement.deadline
            out[(agency, m, "penalties")] += settlement.penalty
        if settlement.status != "refunded" and live in months:
            out[(agency, live, "settlements_open")] += 1
            out[(agency, live, "settlements_late")] += settlement.deadline < as_of
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


# The components this file recomputes: those of the stock, billing, move-out and arrears providers,
# and the applications and committee ones it has checked since they landed (their newer components
# are checked by test_exactness_allocations.py).
OWNED = ("stock", "billing", "inspections", "arrears")
APPLICATION_KEYS = {"open", "score_sum", "waiting_days", "renewal_due", "registered", "cancelled"}
COMMITTEE_KEYS = {"sessions", "examined", "offers_refused", "offers_accepted"}


def checked_keys():
    keys = set(APPLICATION_KEYS | COMMITTEE_KEYS)
    for provider in providers():
        if provider.slug in OWNED:
            keys |= set(provider.components)
        if provider.slug == "committee":
            keys |= {k for k in provider.components if k.startswith("decision_")}
    return keys


def stored(keys=None):
    return {
        (f.agency_id, f.month, f.key): f.value for f in MonthlyFigure.objects.all() if keys is None or f.key in keys
    }


@pytest.fixture
def seeded(demo_stock):
    """The demo stock with move-outs (signed, pending, refunded in time and late with penalties) and
    arrears cases along the ladder and in litigation, all through the apps' services."""
    seed_move_outs()
    seed_arrears_steps()
    return refresh_dashboards(as_of=demo_stock, full=True)


def test_components_and_figures_are_exact(seeded):
    """Each stored component, then each figure of the page for several periods and scopes."""
    as_of = seeded.as_of
    keys = checked_keys()
    months = sorted({m for _a, m, _k in stored()})
    assert months[-1] == date(2026, 12, 1) and len(months) == 36
    expected = expected_components(months, as_of)
    actual = stored(keys)
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
        "exit_done",
        "exit_pending",
        "settled",
        "settled_in_time",
        "penalties",
        "settlements_late",
        "ladder_0",
        "ladder_1",
        "ladder_2",
        "ladder_4",
        "litigation_none",
        "litigation_commandement_payer",
        "plans_active",
        "written_off",
    ):
        assert any(v for (_a, _m, k), v in expected.items() if k == key), key
    for key, value in actual.items():
        assert value == expected.get(key, Decimal("0")), key
    assert {k for k, v in expected.items() if v and k[2] in keys} <= set(actual)
    check_page_figures(expected, as_of)
    check_move_outs_by_hand()


def _independent_figures(comp, period, agency_ids, as_of):
    """Every figure of the stock, billing, move-out and arrears blocks from the components above."""
    months = period.months

    def flow(key):
        return sum((comp.get((a, m, key), Decimal(0)) for a in agency_ids for m in months), Decimal(0))

    last = min(period.last_month, as_of.replace(day=1))
    live = last == as_of.replace(day=1)

    def stock(key):
        return sum((comp.get((a, last, key), Decimal(0)) for a in agency_ids), Decimal(0))

    def live_stock(key):  # photographed in the refresh's month only: earlier months have none
        return stock(key) if live else None

    def pct(n, d, places="0.1", scale=100):
        if n is None or not d:
            return None
        return (n * scale / d).quantize(Decimal(places), rounding=ROUND_HALF_UP)

    billed, apl, collected = flow("billed"), flow("apl"), flow("collected")
    figures = {
        "stock.dwellings": stock("dwellings"),
        **{f"stock.status_{s}": stock(f"status_{s}") for s in ("let", "vacant", "reserved", "works")},
        "stock.vacancy_commercial": pct(stock("status_vacant") + stock("status_reserved"), stock("dwellings")),
        "stock.vacancy_technical": pct(stock("status_works"), stock("dwellings")),
        "stock.vacancy_days_rate": pct(flow("vacant_days"), flow("dwelling_days")),
        "stock.rent_lost": flow("rent_lost"),
        "stock.relet_days": pct(flow("relet_vacant_days"), flow("relets"), scale=1),
        "stock.relets": flow("relets"),
        "stock.departures": flow("departures"),
        "stock.turnover": pct(flow("departures"), stock("dwellings")),
        "billing.billed": billed,
        "billing.apl": apl,
        "billing.apl_share": pct(apl, billed),
        "billing.due": billed - apl,
        "billing.collected": collected,
        "billing.collection_rate": pct(collected, billed - apl),
        "billing.outstanding": stock("outstanding"),
        "billing.dd_count": flow("dd_count"),
        "billing.dd_rejected": flow("dd_rejected"),
        "billing.dd_reject_rate": pct(flow("dd_rejected"), flow("dd_count")),
        "billing.dd_rejected_amount": flow("dd_rejected_amount"),
        "inspections.exit_done": flow("exit_done"),
        "inspections.exit_pending": live_stock("exit_pending"),
        "inspections.settled": flow("settled"),
        "inspections.settle_days": pct(flow("settle_days"), flow("settled"), scale=1),
        "inspections.in_time_rate": pct(flow("settled_in_time"), flow("settled")),
        "inspections.penalties": flow("penalties"),
        "inspections.settlements_late": live_stock("settlements_late"),
        "arrears.overdue": live_stock("overdue"),
        **{f"arrears.{b}": live_stock(b) for b in ("bucket_0_30", "bucket_31_60", "bucket_61_90", "bucket_over_90")},
        **{f"arrears.cases_{s}": live_stock(f"cases_{s}") for s in ("amicable", "plan", "litigation", "suspended")},
        **{f"arrears.ladder_{r}": live_stock(f"ladder_{r}") for r in range(5)},
        **{f"arrears.litigation_{k}": live_stock(f"litigation_{k}") for k in ["none", *LitigationKind.values]},
        "arrears.cases_opened": flow("cases_opened"),
        "arrears.cases_closed": flow("cases_closed"),
        "arrears.plans_kept": live_stock("plans_active"),
        "arrears.plans_late": live_stock("plans_late"),
        "arrears.plans_broken": live_stock("plans_broken"),
        "arrears.plans_kept_rate": pct(
            live_stock("plans_active"),
            stock("plans_active") + stock("plans_late") + stock("plans_broken"),
        ),
        "arrears.caf_overdue": live_stock("caf_overdue"),
        "arrears.written_off": flow("written_off"),
    }
    return figures


def check_page_figures(comp, as_of):
    agencies = list(Agency.objects.order_by("name"))
    checks = [
        (Period("month", date(2026, 11, 1)), None),
        (Period("quarter", date(2026, 10, 1)), None),
        (Period("year", date(2026, 1, 1)), agencies[0]),
        (Period("month", date(2026, 12, 1)), None),
        (Period("month", date(2026, 12, 1)), agencies[1]),
    ]
    owned = {f.code for p in providers() if p.slug in OWNED for f in p.figures()}
    for period, agency in checks:
        selection = Selection(period, agencies, agency)
        rows = {r.code: r for b in build_blocks(selection) for r in b.rows}
        ids = selection.agency_ids
        expected = _independent_figures(comp, period, ids, as_of)
        previous = _independent_figures(comp, period.previous(), ids, as_of)
        last_year = _independent_figures(comp, period.last_year(), ids, as_of)
        assert set(expected) == owned  # every figure of these blocks is recomputed
        for code, value in expected.items():
            assert rows[code].current == value, (period, code)
            assert rows[code].previous == previous[code], (period, code, "previous")
            assert rows[code].last_year == last_year[code], (period, code, "last year")
    # Collected in November 2026 really is a sum of euros, to the cent.
    november = Selection(Period("month", date(2026, 11, 1)), agencies)
    row = next(r for b in build_blocks(november) for r in b.rows if r.code == "billing.collected")
    assert row.current > 0 and row.current == row.current.quantize(CENT)


def check_move_outs_by_hand():
    """The seeded move-outs, figure by figure, against what the scenario says (tests/dashboards/seeding.py)."""
    agencies = list(Agency.objects.order_by("name"))
    rows = {r.code: r for b in build_blocks(Selection(Period("year", date(2026, 1, 1)), agencies)) for r in b.rows}
    # Per agency: 5 exits signed in 2026 (1 in 2025), 3 refunds in 2026 (1 in time, 2 late).
    assert rows["inspections.exit_done"].current == 10 and rows["inspections.exit_done"].last_year == 2
    assert rows["inspections.settled"].current == 6 and rows["inspections.in_time_rate"].current == Decimal("33.3")
    assert rows["inspections.settlements_late"].current == 2  # signed 1 October, deadline 1 December
    assert rows["inspections.exit_pending"].current == 4
    from inspections.models import Settlement

    late = Settlement.objects.filter(refund_paid_on__year=2026, penalty__gt=0)
    expected_penalties = sum(
        ((s.monthly_rent * Decimal("0.10") * n).quantize(CENT) for s in late for n in [_months_started(s)]),
        Decimal("0"),
    )
    assert late.count() == 4 and rows["inspections.penalties"].current == expected_penalties
    days = sum(
        (s.refund_paid_on - s.keys_returned_on).days for s in Settlement.objects.filter(refund_paid_on__year=2026)
    )
    assert rows["inspections.settle_days"].current == (Decimal(days) / 6).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _months_started(settlement):
    """Monthly periods started after the deadline up to the refund (DOMAIN.md: 10 % per month started)."""
    n, start = 0, settlement.deadline
    while start < settlement.refund_paid_on:
        n += 1
        start += relativedelta(months=1)
    return n


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
