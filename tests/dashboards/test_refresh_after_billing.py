"""The refresh after a billing run adds the new entries' amounts to the stored figures: the result must
be the figures a full recomputation gives, to the cent."""

from datetime import date
from decimal import Decimal

from billing.ledger import NewEntry, post_entries
from billing.models import Account, PaymentMethod
from billing.services import record_payment
from dashboards import services
from dashboards.models import MonthlyFigure
from dashboards.services import LEDGER_DELTA_KEYS, refresh_after_billing, refresh_dashboards
from tenancies.models import Agency


def stored(keys=LEDGER_DELTA_KEYS):
    return {(f.agency_id, f.month, f.key): f.value for f in MonthlyFigure.objects.filter(key__in=keys)}


def post_billing_like_entries(as_of):
    """Entries as a billing run and the days around it write: a run's rent and charges, an APL credit,
    payments, and an entry back-dated into an earlier month (a regularisation)."""
    accounts = list(Account.objects.order_by("id")[:3])
    first, second, third = accounts
    post_entries(
        account=first,
        entries=[
            NewEntry(posted_on=date(2026, 12, 10), kind="rent", label="Loyer", amount=Decimal("400.10"), period=as_of),
            NewEntry(
                posted_on=date(2026, 12, 10), kind="charge", label="Charges", amount=Decimal("80.05"), period=as_of
            ),
            NewEntry(posted_on=date(2026, 12, 10), kind="apl", label="APL", amount=Decimal("-120.33"), period=as_of),
        ],
    )
    post_entries(
        account=second,
        entries=[
            NewEntry(
                posted_on=date(2026, 12, 11),
                kind="regularisation",
                label="Régularisation",
                amount=Decimal("33.17"),
                period=date(2026, 10, 1),
            )
        ],
    )
    for n, account in enumerate((first, third)):
        record_payment(
            account=account,
            amount=Decimal("57.91") + n,
            received_on=date(2026, 12, 12),
            method=PaymentMethod.CHEQUE,
            today=date(2026, 12, 12),
            idempotency_key=f"dash-after-billing-{n}",
        )


def test_refresh_after_billing_equals_a_full_recomputation(refreshed, monkeypatch):
    as_of = refreshed.as_of.replace(day=1)
    before = stored()
    post_billing_like_entries(as_of)
    scans = []
    real = services._billing_deltas
    monkeypatch.setattr(services, "_billing_deltas", lambda *args: scans.append(args) or real(*args))

    after_billing = refresh_after_billing(42, as_of=refreshed.as_of)
    assert len(scans) == 1  # by deltas, not by recomputing the months
    assert not after_billing.full and after_billing.reason == "quittancement 42"
    assert after_billing.first_month == date(2026, 10, 1)  # the back-dated regularisation
    assert after_billing.rows_scanned < refreshed.rows_scanned
    by_deltas = stored()
    assert by_deltas != before

    refresh_dashboards(as_of=refreshed.as_of, full=True)
    assert stored() == by_deltas

    # A second refresh with no new entry changes nothing.
    refresh_after_billing(as_of=refreshed.as_of)
    assert stored() == by_deltas


def test_a_month_never_computed_is_recomputed(refreshed):
    """The first refresh of a new month has no stored figure to add to: it computes the month."""
    january = date(2027, 1, 8)
    for account in Account.objects.order_by("id")[:2]:
        post_entries(
            account=account,
            entries=[NewEntry(posted_on=january, kind="rent", label="Loyer", amount=Decimal("10.01"), period=january)],
        )
    refresh_after_billing(as_of=january)
    january_rows = MonthlyFigure.objects.filter(month=date(2027, 1, 1), key__in=LEDGER_DELTA_KEYS)
    assert january_rows.count() == len(LEDGER_DELTA_KEYS) * Agency.objects.count()
    billed = sum(r.value for r in january_rows if r.key == "billed")
    assert billed == Decimal("20.02")
    by_refresh = stored()
    refresh_dashboards(as_of=january, full=True)
    assert stored() == by_refresh


def test_arrears_figures_are_recomputed_only_for_a_new_write_off(refreshed, monkeypatch):
    """The arrears block reads only write-offs from the ledger: a run's rents and payments leave it as it
    is, a write-off among the new entries recomputes it, to the figures a full recomputation gives."""
    recomputed = []
    real = services._recompute
    monkeypatch.setattr(
        services, "_recompute", lambda *a, only=None, **k: recomputed.append(only) or real(*a, only=only, **k)
    )
    post_billing_like_entries(refreshed.as_of.replace(day=1))
    refresh_after_billing(as_of=refreshed.as_of)
    assert recomputed == []

    account = Account.objects.order_by("id").last()
    post_entries(
        account=account,
        entries=[
            NewEntry(
                posted_on=refreshed.as_of, kind="write_off", label="Admission en non-valeur", amount=Decimal("-75.25")
            )
        ],
    )
    refresh_after_billing(as_of=refreshed.as_of)
    assert [[p.slug for p in only] for only in recomputed] == [["arrears"]]
    by_refresh = stored(keys=("written_off",))
    month = (account.lease.dwelling.building.estate.agency_id, refreshed.as_of.replace(day=1), "written_off")
    assert by_refresh[month] == Decimal("75.25")
    refresh_dashboards(as_of=refreshed.as_of, full=True)
    assert stored(keys=("written_off",)) == by_refresh
