"""Billing and collection: billed, APL, collected, outstanding, collection rate, direct-debit rejections.

Definitions (docs/dashboards.md):
- billed: Σ(debit − credit) of the notice kinds (rent, annex rent, charges, SLS, RLS, regularisation)
  by billed month (the entry's period, else its posting date);
- APL: Σ(credit − debit) of the APL entries by billed month;
- collected: Σ(credit − debit) of payments and of their reversals (rejected or bounced payments),
  by posting month;
- collection rate: collected ÷ (billed − APL);
- outstanding at a month's end: Σ(debit − credit) of every entry posted up to that day (net of
  tenants' credits);
- direct debits: collections by due date, rejections (count and amount) by rejection date.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db import connection
from django.db.models import Q

from billing.models import DirectDebit, DirectDebitStatus, EntryKind, LedgerEntry

from ..drilldown import AccountBalance, SqlRows, refresh_as_of, stock_month
from ..periods import month_end
from ..registry import Chart, Figure, Provider, in_agencies, register
from ..values import diff, ratio

BILLED_KINDS = (
    EntryKind.RENT,
    EntryKind.ANNEX_RENT,
    EntryKind.CHARGE,
    EntryKind.SLS,
    EntryKind.RLS,
    EntryKind.REGULARISATION,
)
# A billed entry is counted in its period's month; entries posted up to this many months before
# their period (a run on the 25th for the next month) are still found by the refresh's scan.
ADVANCE_MONTHS = 1

AGENCY_JOIN = """
JOIN billing_account a ON a.id = le.account_id
JOIN tenancies_lease l ON l.id = a.lease_id
JOIN tenancies_dwelling d ON d.id = l.dwelling_id
JOIN tenancies_building b ON b.id = d.building_id
JOIN tenancies_estate e ON e.id = b.estate_id
"""

# One scan of the entries posted since the window's start (less ADVANCE_MONTHS), grouped by agency,
# billed month and posting month: billed and APL go by billed month, payments and the net movement
# by posting month.
LEDGER_SQL = """
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
-- agency join
WHERE le.posted_on >= %(scan_from)s AND (le.posted_on >= %(first)s OR le.period >= %(first)s)
GROUP BY 1, 2, 3
"""

BALANCE_SQL = """
SELECT e.agency_id, SUM(a.balance), COUNT(*)
FROM billing_account a
JOIN tenancies_lease l ON l.id = a.lease_id
JOIN tenancies_dwelling d ON d.id = l.dwelling_id
JOIN tenancies_building b ON b.id = d.building_id
JOIN tenancies_estate e ON e.id = b.estate_id
GROUP BY 1
"""

DEBIT_JOIN = """
JOIN billing_sepamandate sm ON sm.id = dd.mandate_id
JOIN billing_account a ON a.id = sm.account_id
JOIN tenancies_lease l ON l.id = a.lease_id
JOIN tenancies_dwelling d ON d.id = l.dwelling_id
JOIN tenancies_building b ON b.id = d.building_id
JOIN tenancies_estate e ON e.id = b.estate_id
"""

DEBITS_SQL = """
SELECT e.agency_id, date_trunc('month', r.due_on)::date, COUNT(*), SUM(dd.amount)
FROM billing_directdebit dd
JOIN billing_directdebitrun r ON r.id = dd.run_id
-- debit join
WHERE r.due_on >= %(first)s AND r.due_on <= %(end)s
GROUP BY 1, 2
"""

REJECTS_SQL = """
SELECT e.agency_id, date_trunc('month', dd.rejected_on)::date, COUNT(*), SUM(dd.amount)
FROM billing_directdebit dd
-- debit join
WHERE dd.status = 'rejected' AND dd.rejected_on >= %(first)s AND dd.rejected_on <= %(end)s
GROUP BY 1, 2
"""


LEDGER_SQL = LEDGER_SQL.replace("-- agency join", AGENCY_JOIN)
DEBITS_SQL = DEBITS_SQL.replace("-- debit join", DEBIT_JOIN)
REJECTS_SQL = REJECTS_SQL.replace("-- debit join", DEBIT_JOIN)


class BillingProvider(Provider):
    def compute(self, *, months: list[date], as_of: date):
        first, last = months[0], months[-1]
        end = month_end(last)
        wanted = set(months)
        params = {
            "billed": [str(k) for k in BILLED_KINDS],
            "first": first,
            "end": end,
            "scan_from": first - relativedelta(months=ADVANCE_MONTHS),
        }
        flows = defaultdict(lambda: defaultdict(Decimal))
        with connection.cursor() as cursor:
            cursor.execute(LEDGER_SQL, params)
            for agency_id, billed_month, posted_month, billed, apl, collected, net, n in cursor.fetchall():
                if billed_month in wanted:
                    yield agency_id, billed_month, "billed", billed, n
                    yield agency_id, billed_month, "apl", apl, 0
                if posted_month in wanted:
                    yield agency_id, posted_month, "collected", collected, 0 if billed_month in wanted else n
                if posted_month >= first:
                    flows[agency_id][posted_month] += net
            cursor.execute(BALANCE_SQL)
            balances = {agency_id: (total, n) for agency_id, total, n in cursor.fetchall()}
            # Outstanding at the end of m = today's balances − the net movement posted after m
            # (the balances cache Σ(debit − credit) of every entry: `reconcile_ledger` checks it).
            for agency_id in set(balances) | set(flows):
                total, n = balances.get(agency_id, (Decimal("0"), 0))
                after = sum(flows[agency_id].values(), Decimal("0"))  # everything posted from `first` on
                for m in months:
                    after -= flows[agency_id].get(m, Decimal("0"))
                    yield agency_id, m, "outstanding", total - after, n if m == first else 0
            cursor.execute(DEBITS_SQL, params)
            for agency_id, m, count, amount in cursor.fetchall():
                yield agency_id, m, "dd_count", count, count
                yield agency_id, m, "dd_amount", amount, 0
            cursor.execute(REJECTS_SQL, params)
            for agency_id, m, count, amount in cursor.fetchall():
                yield agency_id, m, "dd_rejected", count, count
                yield agency_id, m, "dd_rejected_amount", amount, 0

    def figures(self):
        detail = _detail_url
        return [
            Figure(
                "billing.billed",
                "Quittancé (loyers et charges, RLS déduite)",
                "euros",
                lambda v: v.flow("billed"),
                detail("billing.billed"),
            ),
            Figure("billing.apl", "APL versée par la CAF", "euros", lambda v: v.flow("apl"), detail("billing.apl")),
            Figure(
                "billing.apl_share",
                "Part du quittancé couverte par l'APL",
                "percent",
                lambda v: ratio(v.flow("apl"), v.flow("billed")),
                detail("billing.apl"),
                help="APL ÷ quittancé.",
            ),
            Figure(
                "billing.due",
                "À encaisser auprès des locataires",
                "euros",
                lambda v: diff(v.flow("billed"), v.flow("apl")),
                detail("billing.due"),
                help="Quittancé − APL.",
            ),
            Figure(
                "billing.collected",
                "Encaissé",
                "euros",
                lambda v: v.flow("collected"),
                detail("billing.collected"),
                help="Paiements reçus, rejets et impayés de prélèvement déduits.",
            ),
            Figure(
                "billing.collection_rate",
                "Taux d'encaissement",
                "percent",
                lambda v: ratio(v.flow("collected"), diff(v.flow("billed"), v.flow("apl"))),
                detail("billing.collected"),
                help="Encaissé ÷ (quittancé − APL).",
            ),
            Figure(
                "billing.outstanding",
                "Restant dû en fin de période",
                "euros",
                lambda v: v.stock("outstanding"),
                detail("billing.outstanding"),
                help="Σ des écritures passées jusqu'à la fin de la période (avances des locataires déduites).",
            ),
            Figure(
                "billing.dd_count",
                "Prélèvements présentés",
                "count",
                lambda v: v.flow("dd_count"),
                detail("billing.dd_count"),
            ),
            Figure(
                "billing.dd_rejected",
                "Prélèvements rejetés",
                "count",
                lambda v: v.flow("dd_rejected"),
                detail("billing.dd_rejected"),
            ),
            Figure(
                "billing.dd_reject_rate",
                "Taux de rejet des prélèvements",
                "percent",
                lambda v: ratio(v.flow("dd_rejected"), v.flow("dd_count")),
                detail("billing.dd_rejected"),
            ),
            Figure(
                "billing.dd_rejected_amount",
                "Montant des prélèvements rejetés",
                "euros",
                lambda v: v.flow("dd_rejected_amount"),
                detail("billing.dd_rejected"),
            ),
        ]

    def charts(self):
        return [
            Chart(
                "billing_months",
                "Quittancé, encaissé et restant dû par mois (€)",
                ("billing.billed", "billing.collected", "billing.outstanding:line"),
                "bar",
            ),
            Chart(
                "billing_rates",
                "Taux d'encaissement et part APL (%)",
                ("billing.collection_rate", "billing.apl_share"),
                "line",
            ),
        ]

    def drilldowns(self):
        def entries(kinds=None, payments=False, by_period=False):
            def query(agency_ids, period):
                qs = LedgerEntry.objects.filter(
                    **in_agencies("account__lease__dwelling__building__estate__agency", agency_ids)
                )
                if payments:
                    qs = qs.filter(kind=EntryKind.PAYMENT) | qs.filter(kind=EntryKind.REVERSAL, payment__isnull=False)
                    qs = qs.filter(posted_on__gte=period.start, posted_on__lte=period.end)
                else:
                    in_period = Q(period__gte=period.start, period__lte=period.end) | Q(
                        period__isnull=True, posted_on__gte=period.start, posted_on__lte=period.end
                    )
                    qs = qs.filter(kind__in=kinds).filter(in_period)
                return qs.select_related("account__lease").order_by("posted_on", "id")

            return query

        def outstanding(agency_ids, period):
            return accounts_at_end(agency_ids, month_end(stock_month(period, refresh_as_of())))

        def presented(agency_ids, period):
            return (
                DirectDebit.objects.filter(
                    **in_agencies("mandate__account__lease__dwelling__building__estate__agency", agency_ids),
                    run__due_on__gte=period.start,
                    run__due_on__lte=period.end,
                )
                .select_related("mandate__account__lease", "run")
                .order_by("run__due_on", "id")
            )

        def rejected(agency_ids, period):
            return (
                DirectDebit.objects.filter(
                    **in_agencies("mandate__account__lease__dwelling__building__estate__agency", agency_ids),
                    status=DirectDebitStatus.REJECTED,
                    rejected_on__gte=period.start,
                    rejected_on__lte=period.end,
                )
                .select_related("mandate__account__lease")
                .order_by("rejected_on", "id")
            )

        return {
            "billing.billed": ("Écritures quittancées", entries(kinds=BILLED_KINDS), ENTRY_COLUMNS),
            "billing.apl": ("APL versée par la CAF", entries(kinds=[EntryKind.APL]), ENTRY_COLUMNS),
            "billing.due": (
                "Écritures quittancées et APL (à encaisser = débits − crédits)",
                entries(kinds=[*BILLED_KINDS, EntryKind.APL]),
                ENTRY_COLUMNS,
            ),
            "billing.collected": ("Paiements et rejets", entries(payments=True), ENTRY_COLUMNS),
            "billing.outstanding": (
                "Comptes au solde non nul en fin de période (restant dû = Σ des soldes)",
                outstanding,
                ACCOUNT_COLUMNS,
            ),
            "billing.dd_count": ("Prélèvements présentés (par date d'échéance)", presented, PRESENTED_COLUMNS),
            "billing.dd_rejected": ("Prélèvements rejetés", rejected, DEBIT_COLUMNS),
        }


# The accounts of the scope whose balance at the end of a day is not zero: today's cached balance less
# the net of the entries posted after that day (one aggregate over those entries).
BALANCE_AT_SQL = """
WITH after AS (
    SELECT le.account_id, SUM(le.debit - le.credit) AS net
    FROM billing_ledgerentry le
    WHERE le.posted_on > %(day)s
    GROUP BY 1
)
SELECT a.id, l.number, a.balance, a.balance - COALESCE(af.net, 0) AS balance_at
FROM billing_account a
JOIN tenancies_lease l ON l.id = a.lease_id
JOIN tenancies_dwelling d ON d.id = l.dwelling_id
JOIN tenancies_building b ON b.id = d.building_id
JOIN tenancies_estate e ON e.id = b.estate_id
LEFT JOIN after af ON af.account_id = a.id
WHERE (%(everything)s OR e.agency_id = ANY(%(agencies)s)) AND a.balance - COALESCE(af.net, 0) <> 0
"""


def accounts_at_end(agency_ids, day: date) -> SqlRows:
    """The accounts whose balance at the end of `day` (Σ debit − credit of the entries posted up to
    it) is not zero, with that balance (`balance_at`) and today's."""
    params = {"day": day, "everything": agency_ids is None, "agencies": list(agency_ids or [])}
    return SqlRows(BALANCE_AT_SQL, "ORDER BY balance_at DESC, id", params, lambda row: AccountBalance(*row))


def _detail_url(code):
    return lambda ctx: ctx.detail_url(code)


ENTRY_COLUMNS = [
    ("Date", "posted_on", "date"),
    ("Période", "period", "month"),
    ("Bail", "account.lease.number", "account"),
    ("Nature", "get_kind_display", ""),
    ("Libellé", "label", ""),
    ("Débit", "debit", "euros"),
    ("Crédit", "credit", "euros"),
]
ACCOUNT_COLUMNS = [
    ("Bail", "number", "account_self"),
    ("Solde en fin de période", "balance_at", "euros"),
    ("Solde à ce jour", "balance", "euros"),
]
PRESENTED_COLUMNS = [
    ("Échéance", "run.due_on", "date"),
    ("Bail", "mandate.account.lease.number", ""),
    ("Statut", "get_status_display", ""),
    ("Montant", "amount", "euros"),
]
DEBIT_COLUMNS = [
    ("Rejeté le", "rejected_on", "date"),
    ("Bail", "mandate.account.lease.number", ""),
    ("Code", "reject_code", ""),
    ("Montant", "amount", "euros"),
]

register(
    BillingProvider(
        slug="billing",
        title="Quittancement et encaissement",
        order=50,
        window="ledger",
        components={
            "billed": "flow",
            "apl": "flow",
            "collected": "flow",
            "outstanding": "stock",
            "dd_count": "flow",
            "dd_amount": "flow",
            "dd_rejected": "flow",
            "dd_rejected_amount": "flow",
        },
    )
)
