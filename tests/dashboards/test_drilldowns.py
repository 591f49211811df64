"""Every figure of the stock, billing, move-out and arrears blocks links to the records behind it:
its drill-down lists exactly as many rows (or the same sum) as the figure says, for the period and
the agencies asked, and a responsable of agency A never gets agency B's rows through it.

One seeded world for the module (the demo stock with move-outs and arrears steps, see seeding.py),
rolled back at the end; each test runs in its own savepoint inside it.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import transaction
from django.urls import reverse

from dashboards.models import MonthlyFigure
from dashboards.periods import Period
from dashboards.registry import providers
from dashboards.selectors import Selection, build_blocks
from tenancies.models import Agency
from tenancies.roles import Role
from tests.factories import UserFactory

from .seeding import seed_all

AS_OF = date(2026, 12, 15)
DETAIL = reverse("dashboards:detail")
ZERO = Decimal("0")


@pytest.fixture(scope="module")
def world_seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            seed_all(AS_OF)
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def seeded(world_seeded, db):
    return list(Agency.objects.order_by("name"))


def pct(n, d, scale=100):
    if n is None or not d:
        return None
    return (Decimal(n) * scale / Decimal(d)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def count(rows):
    return Decimal(len(rows))


def total(attr, sign=1):
    return lambda rows: sum((sign * getattr(r, attr) for r in rows), ZERO)


def net(sign=1):
    """Σ(debit − credit) of ledger entries (sign −1: credit − debit)."""
    return lambda rows: sum((sign * (r.debit - r.credit) for r in rows), ZERO)


def relet_days(rows):
    days = [max((r.starts_on - r.previous_end).days - 1, 0) for r in rows]
    return pct(sum(days), len(days), scale=1)


def settle_days(rows):
    return pct(sum((r.refund_paid_on - r.keys_returned_on).days for r in rows), len(rows), scale=1)


def in_time(rows):
    return pct(sum(1 for r in rows if r.refund_paid_on <= r.deadline), len(rows))


def _component(key, agency_ids, period):
    """A flow component summed over the period (the denominators the rows do not carry)."""
    qs = MonthlyFigure.objects.filter(agency_id__in=agency_ids, month__in=period.months, key=key)
    return sum((f.value for f in qs), ZERO)


# Figure code -> measure(rows, figures, agency_ids, period): the figure recomputed from its drill-down
# rows (with the other figures of the page for a rate's denominator).
MEASURES = {
    "stock.dwellings": lambda rows, f, *_: count(rows),
    **{f"stock.status_{s}": (lambda rows, f, *_: count(rows)) for s in ("let", "vacant", "reserved", "works")},
    "stock.vacancy_commercial": lambda rows, f, *_: pct(len(rows), f["stock.dwellings"]),
    "stock.vacancy_technical": lambda rows, f, *_: pct(len(rows), f["stock.dwellings"]),
    "stock.vacancy_days_rate": lambda rows, f, ids, p: pct(
        sum(r.vacant_days for r in rows), _component("dwelling_days", ids, p)
    ),
    "stock.rent_lost": lambda rows, *_: total("rent_lost")(rows),
    "stock.relet_days": lambda rows, *_: relet_days(rows),
    "stock.relets": lambda rows, *_: count(rows),
    "stock.departures": lambda rows, *_: count(rows),
    "stock.turnover": lambda rows, f, *_: pct(len(rows), f["stock.dwellings"]),
    "billing.billed": lambda rows, *_: net()(rows),
    "billing.apl": lambda rows, *_: net(-1)(rows),
    "billing.apl_share": lambda rows, f, *_: pct(net(-1)(rows), f["billing.billed"]),
    "billing.due": lambda rows, *_: net()(rows),
    "billing.collected": lambda rows, *_: net(-1)(rows),
    "billing.collection_rate": lambda rows, f, *_: pct(net(-1)(rows), f["billing.due"]),
    "billing.outstanding": lambda rows, *_: total("balance_at")(rows),
    "billing.dd_count": lambda rows, *_: count(rows),
    "billing.dd_rejected": lambda rows, *_: count(rows),
    "billing.dd_reject_rate": lambda rows, f, *_: pct(len(rows), f["billing.dd_count"]),
    "billing.dd_rejected_amount": lambda rows, *_: total("amount")(rows),
    "inspections.exit_done": lambda rows, *_: count(rows),
    "inspections.exit_pending": lambda rows, *_: count(rows),
    "inspections.settled": lambda rows, *_: count(rows),
    "inspections.settle_days": lambda rows, *_: settle_days(rows),
    "inspections.in_time_rate": lambda rows, *_: in_time(rows),
    "inspections.penalties": lambda rows, *_: total("penalty")(rows),
    "inspections.settlements_late": lambda rows, *_: count(rows),
    "arrears.overdue": lambda rows, *_: total("overdue")(rows),
    **{
        f"arrears.{b}": (lambda key: lambda rows, *_: total(key)(rows))(b)
        for b in ("bucket_0_30", "bucket_31_60", "bucket_61_90", "bucket_over_90")
    },
    "arrears.cases_opened": lambda rows, *_: count(rows),
    "arrears.cases_closed": lambda rows, *_: count(rows),
    "arrears.plans_kept": lambda rows, *_: count(rows),
    "arrears.plans_late": lambda rows, *_: count(rows),
    "arrears.plans_broken": lambda rows, *_: count(rows),
    "arrears.plans_kept_rate": lambda rows, *_: pct(sum(1 for r in rows if r.status == "active"), len(rows)),
    "arrears.caf_overdue": lambda rows, *_: count(rows),
    "arrears.written_off": lambda rows, *_: net(-1)(rows),
}
COUNTED = ("arrears.cases_", "arrears.ladder_", "arrears.litigation_")

PERIODS = [
    Period("month", date(2026, 12, 1)),
    Period("month", date(2026, 11, 1)),
    Period("quarter", date(2026, 7, 1)),
    Period("year", date(2026, 1, 1)),
    Period("month", date(2025, 11, 1)),
    Period("year", date(2025, 1, 1)),
    Period("year", date(2024, 1, 1)),
]


def measure_for(code):
    if code in MEASURES:
        return MEASURES[code]
    assert code.startswith(COUNTED), code
    return lambda rows, *_: count(rows)


def _drilldown(link: str):
    query = parse_qs(urlsplit(link).query)
    code = query["figure"][0]
    for provider in providers():
        if code in provider.drilldowns():
            return code, provider.drilldowns()[code][1]
    raise AssertionError(f"no drill-down {code}")


def check_block(slug, agencies):
    """Each figure of the block equals its measure over its drill-down's rows, for several periods,
    for every agency and for each one; returns how many figures were compared."""
    compared = 0
    for period in PERIODS:
        for agency in [None, *agencies]:
            selection = Selection(period, agencies, agency)
            block = next(b for b in build_blocks(selection, with_charts=False) if b.slug == slug)
            values = {r.code: r.current for r in block.rows}
            ids = selection.agency_ids
            for row in block.rows:
                assert row.link.startswith(DETAIL + "?"), row.code  # every figure opens its records
                assert not row.link_note or "calcul" in row.link_note, row.code  # only live ones say so
                _code, query = _drilldown(row.link)
                if row.current is None and row.link_note:  # a live figure of a past month: a photo only
                    continue
                rows = list(query(None if agency is None else ids, period))
                assert measure_for(row.code)(rows, values, ids, period) == row.current, (period, agency, row.code)
                compared += 1
    return compared


def _non_zero(slug, agencies, codes):
    """The seeded data exercises these figures in the periods checked."""
    found = set()
    for period in PERIODS:
        selection = Selection(period, agencies)
        block = next(b for b in build_blocks(selection, with_charts=False) if b.slug == slug)
        found |= {r.code for r in block.rows if r.current}
    assert set(codes) <= found


def check_territory(client, slug, agencies, codes):
    """A responsable of agency A asking agency B gets their own agency's rows only."""
    a, b = agencies
    resp = UserFactory(username=f"resp-drill-{slug}", roles=[Role.RESPONSABLE_AGENCE], agencies_list=[a])
    client.force_login(resp)
    for code in codes:
        _c, query = _drilldown(f"?figure={code}")
        period = Period("year", date(2026, 1, 1))
        own = {_key(r) for r in query([a.pk], period)}
        theirs = {_key(r) for r in query([b.pk], period)}
        assert theirs and not own & theirs, code
        response = client.get(DETAIL, {"figure": code, "periode": "year", "date": "2026-01", "agence": b.pk})
        assert response.status_code == 200
        assert "hors de votre périmètre" in response.content.decode()
        shown = {_key(r) for r in response.context["page"].items}
        assert shown <= own and not shown & theirs, code


def _key(row):
    return (type(row).__name__, getattr(row, "pk", None) or row.id)


def test_stock_drilldowns(seeded, client):
    _non_zero("stock", seeded, ["stock.status_vacant", "stock.rent_lost", "stock.relets", "stock.departures"])
    assert check_block("stock", seeded) > 100
    check_territory(client, "stock", seeded, ["stock.status_let", "stock.rent_lost", "stock.departures"])


def test_billing_drilldowns(seeded, client):
    _non_zero("billing", seeded, ["billing.billed", "billing.apl", "billing.collected", "billing.dd_rejected"])
    assert check_block("billing", seeded) > 100
    check_territory(client, "billing", seeded, ["billing.billed", "billing.collected", "billing.outstanding"])


def test_move_out_drilldowns(seeded, client):
    _non_zero("inspections", seeded, ["inspections.exit_done", "inspections.penalties", "inspections.settled"])
    assert check_block("inspections", seeded) > 50
    check_territory(
        client, "inspections", seeded, ["inspections.exit_done", "inspections.settled", "inspections.exit_pending"]
    )


def test_arrears_drilldowns(seeded, client):
    _non_zero(
        "arrears",
        seeded,
        [
            "arrears.overdue",
            "arrears.ladder_1",
            "arrears.ladder_4",
            "arrears.litigation_commandement_payer",
            "arrears.plans_kept",
            "arrears.written_off",
        ],
    )
    assert check_block("arrears", seeded) > 50
    check_territory(client, "arrears", seeded, ["arrears.overdue", "arrears.cases_amicable", "arrears.ladder_0"])


def test_overdue_by_bucket_and_by_agency(seeded):
    """The per-agency table: each agency's overdue (and buckets) is its own figure; they add up."""
    period = Period("month", date(2026, 12, 1))
    block = next(b for b in build_blocks(Selection(period, seeded)) if b.slug == "arrears")
    overall = {r.label: r.current for r in block.rows}
    for label, _unit, cells in block.agency_rows:
        if "impayé" not in label and "jours" not in label:
            continue
        assert [value for _d, value, _l in cells] == [
            next(
                r.current
                for b in build_blocks(Selection(period, seeded, agency), with_charts=False)
                if b.slug == "arrears"
                for r in b.rows
                if r.label == label
            )
            for agency in seeded
        ]
        assert sum(value for _d, value, _l in cells) == overall[label]
    buckets = [overall[r.label] for r in block.rows if r.code.startswith("arrears.bucket_")]
    assert sum(buckets) == overall["Échu impayé (photo de fin de mois)"] > 0


def test_ladder_and_litigation_steps_add_up(seeded):
    """Cases by rung add up to the amicable cases, by litigation step to the litigation ones."""
    selection = Selection(Period("month", date(2026, 12, 1)), seeded)
    rows = {r.code: r.current for b in build_blocks(selection, with_charts=False) for r in b.rows}
    ladder = sum(v for k, v in rows.items() if k.startswith("arrears.ladder_"))
    litigation = sum(v for k, v in rows.items() if k.startswith("arrears.litigation_"))
    assert ladder == rows["arrears.cases_amicable"] and litigation == rows["arrears.cases_litigation"] == 4
    assert rows["arrears.litigation_commandement_payer"] == 2 and rows["arrears.litigation_none"] == 2
    assert rows["arrears.ladder_4"] == 2 and rows["arrears.ladder_1"] == 2 and rows["arrears.ladder_2"] == 2


def test_drilldown_page_counts_and_query_count(seeded, client, django_assert_max_num_queries):
    client.force_login(UserFactory(username="dir-drill", roles=[Role.DIRECTION]))
    selection = Selection(Period("year", date(2026, 1, 1)), seeded)
    rows = {r.code: r for b in build_blocks(selection, with_charts=False) for r in b.rows}
    for code in ("stock.departures", "stock.rent_lost", "inspections.settled", "arrears.cases_opened"):
        client.get(rows[code].link)
        with django_assert_max_num_queries(10):
            response = client.get(rows[code].link)
        assert response.status_code == 200
        page = response.context["page"]
        if code != "stock.rent_lost":
            assert page.count == rows[code].current, code
        assert len(page.items) == min(page.count, 25)
    # Past the first page of a SQL-backed list: the next rows, none repeated.
    link = rows["stock.rent_lost"].link
    first = client.get(link).context["page"]
    second = client.get(link + "&page=2").context["page"]
    assert first.has_next and not {r.id for r in first.items} & {r.id for r in second.items}
