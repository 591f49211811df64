"""The demand, allocation and committee figures added with the allocation record, recomputed
independently from the raw records (applications, offers, allocation records, dated targets and
quotas) and compared with the dashboard's values for several periods and scopes."""

import statistics
from collections import Counter
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from applications.committee import demo as committee_demo
from applications.committee.models import (
    Allocation,
    AllocationQuota,
    ContingentTarget,
    FirstQuartileThreshold,
    Offer,
    RefusalReason,
)
from applications.models import OPEN_STATUSES, Application
from dashboards.models import MonthlyFigure
from dashboards.periods import Period
from dashboards.selectors import Selection, build_blocks
from dashboards.services import refresh_dashboards
from tenancies.models import Agency, Contingent, Lease

CENT = Decimal("0.01")
# The committee demo dates its history from "today": pinned here so the periods below hold data.
HISTORY_TODAY = date(2026, 12, 3)
CONTINGENTS = [c.value for c in Contingent]
SCORE_BUCKETS = [(0, 50), (50, 100), (100, 150), (150, 200), (200, 300), (300, 400), (400, None)]


@pytest.fixture
def allocated(demo_stock):
    president, members = committee_demo.ensure_members()
    committee_demo.seed_history(HISTORY_TODAY, president, members)
    return refresh_dashboards(as_of=demo_stock, full=True)


def months_completed(start: date, end: date) -> int:
    """Whole months from `start` to `end`, the day of the month reached (docs/dashboards.md)."""
    count = 0
    while True:
        year, month = divmod(start.month - 1 + count + 1, 12)
        year += start.year
        month += 1
        # The day `start` has in that month, clipped to the month's length, must be reached...
        try:
            anniversary = date(year, month, start.day)
        except ValueError:  # ... a 31st has no anniversary in a 30-day month: the next day's
            anniversary = date(year, month + 1, 1) if month < 12 else date(year + 1, 1, 1)
        if anniversary > end:
            return count
        count += 1


def pct(n, d):
    if d == 0:
        return None
    return (Decimal(n) * 100 / Decimal(d)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def avg(total, n):
    if n == 0:
        return None
    return (Decimal(total) / Decimal(n)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def med(values):
    if not values:
        return None
    return Decimal(str(statistics.median(values))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def refused_on(offer):
    return offer.answered_on or offer.deadline + timedelta(days=1)


def expected_figures(period: Period, agency_ids: list[int], as_of: date) -> dict:
    """Every new figure of the period and scope, from the raw records only."""
    start, end = period.start, min(period.end, as_of)
    allocations = [
        a
        for a in Allocation.objects.select_related("offer")
        if a.agency_id in agency_ids and start <= a.allocated_on <= end
    ]
    out = {"applications.allocations": Decimal(len(allocations))}
    total = len(allocations)
    year = period.last_month.year
    targets = {(t.agency_id, t.contingent, t.year): t.target_share for t in ContingentTarget.objects.all()}
    for c in CONTINGENTS:
        of_c = [a for a in allocations if a.contingent == c]
        out[f"applications.alloc_{c}"] = Decimal(len(of_c))
        out[f"applications.alloc_share_{c}"] = pct(len(of_c), total)
        out[f"applications.priority_share_{c}"] = pct(len([a for a in of_c if a.dalo or a.priority_public]), len(of_c))
        shares = []
        for agency_id in agency_ids:
            share = targets.get((agency_id, c, year), targets.get((None, c, year)))
            if share is not None:
                shares.append(share)
        out[f"applications.target_{c}"] = avg(sum(shares, Decimal(0)), len(shares))
    out["applications.priority_share"] = pct(len([a for a in allocations if a.dalo or a.priority_public]), total)
    out["applications.dalo_share"] = pct(len([a for a in allocations if a.dalo]), total)
    outside = [a for a in allocations if not a.qpv]
    out["applications.q1_share"] = pct(len([a for a in outside if a.first_quartile]), len(outside))
    month_end = period.end
    for kind, code in (("priority", "applications.quota_priority"), ("first_quartile", "applications.quota_q1")):
        rows = AllocationQuota.objects.filter(kind=kind, valid_from__lte=month_end).order_by("-valid_from")
        out[code] = rows.first().share.quantize(Decimal("0.1")) if rows.exists() else None
    out["applications.alloc_waiting"] = avg(sum(a.waiting_days for a in allocations), total)
    out["applications.alloc_waiting_median"] = med([a.waiting_months for a in allocations])
    vacancies = [a.vacancy_days for a in allocations if a.vacancy_days is not None]
    out["committee.vacancy_days"] = avg(sum(vacancies), len(vacancies))
    out["committee.vacancy_median"] = med(vacancies)
    refusals = [
        o
        for o in Offer.objects.filter(status__in=["refused", "expired"]).select_related("candidature__item__session")
        if o.candidature.item.session.agency_id in agency_ids and start <= refused_on(o) <= end
    ]
    out["committee.refusals"] = Decimal(len(refusals))
    reasons = Counter(o.refusal_kind or "other" for o in refusals)
    for r in RefusalReason:
        out[f"committee.refusal_{r.value}"] = Decimal(reasons[r.value])
    # Open applications today: only the period holding the refresh's month has the photo.
    if period.start <= as_of <= period.end:
        open_apps = [a for a in Application.objects.filter(agency_id__in=agency_ids) if a.status in OPEN_STATUSES]
        out["applications.waiting_median"] = med([months_completed(a.first_registered_on, as_of) for a in open_apps])
        for low, high in SCORE_BUCKETS:
            n = len([a for a in open_apps if (a.score >= low or low == 0) and (high is None or a.score < high)])
            out[f"applications.score_b_{low}"] = Decimal(n)
    return out


def test_allocation_records_match_their_sources(allocated):
    """Each record's frozen facts, recomputed from the dwelling, the demand, the candidature, the
    previous lease and the dated threshold table."""
    records = list(Allocation.objects.select_related("dwelling__building__estate", "lease", "application", "offer"))
    assert {a.agency_id for a in records} == set(Agency.objects.values_list("id", flat=True))  # both agencies
    for a in records:
        estate = a.dwelling.building.estate
        candidature = a.offer.candidature
        assert a.lease == a.offer.lease and a.allocated_on == a.lease.signed_on
        assert a.contingent == a.dwelling.contingent and a.qpv == estate.qpv
        assert a.dalo == a.application.dalo
        assert a.priority_public == a.application.priority_criteria.exists()
        annual = (candidature.monthly_resources * 12).quantize(CENT, rounding=ROUND_HALF_UP)
        assert a.annual_resources == annual
        assert a.resources_per_unit == (annual / candidature.consumption_units).quantize(CENT, rounding=ROUND_HALF_UP)
        threshold = (
            FirstQuartileThreshold.objects.filter(commune=estate.commune, year__lte=a.allocated_on.year)
            .order_by("-year")
            .first()
        )
        assert a.quartile_threshold == (threshold.amount if threshold else None)
        assert a.first_quartile == (threshold is not None and a.resources_per_unit < threshold.amount)
        assert a.waiting_days == (a.allocated_on - a.application.first_registered_on).days
        assert a.waiting_months == months_completed(a.application.first_registered_on, a.allocated_on)
        previous = [
            lease.ends_on
            for lease in Lease.objects.filter(dwelling=a.dwelling).exclude(pk=a.lease_id)
            if lease.ends_on and lease.ends_on <= a.allocated_on and lease.status not in ("draft", "cancelled")
        ]
        if previous:
            assert a.vacant_since == max(previous)
            assert a.vacancy_days == (a.allocated_on - max(previous)).days
    # The demo exercises the figures: refusals with reasons, first quartile, vacancy known.
    assert any(a.first_quartile for a in records) and any(a.vacancy_days for a in records)
    assert Offer.objects.filter(status="refused").exclude(refusal_kind="").exists()


PERIODS = [("month", date(2026, 11, 1)), ("quarter", date(2026, 10, 1)), ("year", date(2026, 1, 1))]


def test_new_figures_are_exact(allocated):
    """Each new figure for a month, a quarter and a year, every scope, with both comparisons."""
    as_of = allocated.as_of
    agencies = list(Agency.objects.order_by("name"))
    # Sparse histograms: only non-zero buckets are stored.
    assert not MonthlyFigure.objects.filter(key__startswith="alloc_wait_m_", value=0).exists()
    assert MonthlyFigure.objects.filter(key__startswith="open_wait_m_").exists()
    checked = 0
    for kind, day in PERIODS:
        period = Period.containing(kind, day)
        for agency in [None, *agencies]:
            scope = [agency.pk] if agency else [a.pk for a in agencies]
            blocks = build_blocks(Selection(period, agencies, agency), with_charts=False)
            rows = {r.code: r for b in blocks for r in b.rows}
            for when, p in (("current", period), ("previous", period.previous()), ("last_year", period.last_year())):
                for code, value in expected_figures(p, scope, as_of).items():
                    assert getattr(rows[code], when) == value, (code, when, agency, p)
                    checked += 1
        if kind != "month":  # non-empty on the demo: the direction sees values
            everything = expected_figures(period, [a.pk for a in agencies], as_of)
            for code in (
                "applications.allocations",
                "applications.priority_share",
                "applications.q1_share",
                "applications.alloc_waiting_median",
                "committee.refusals",
                "committee.vacancy_median",
            ):
                assert everything[code], (code, period)
    assert checked > 300

    # December 2026, the refresh's month: the photographed waiting-time median and score buckets.
    period = Period.containing("month", as_of)
    rows = {r.code: r for b in build_blocks(Selection(period, agencies, None), with_charts=False) for r in b.rows}
    expected = expected_figures(period, [a.pk for a in agencies], as_of)
    assert expected["applications.waiting_median"] is not None
    assert rows["applications.waiting_median"].current == expected["applications.waiting_median"]
    total = sum(expected[f"applications.score_b_{low}"] for low, _h in SCORE_BUCKETS)
    assert total == rows["applications.open"].current
    for low, _high in SCORE_BUCKETS:
        assert rows[f"applications.score_b_{low}"].current == expected[f"applications.score_b_{low}"]
    assert rows["applications.waiting_median"].previous is None  # live: no photo of November
