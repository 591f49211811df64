"""Daily detection: ageing of every account by FIFO allocation of its credits, set-based in SQL.

What an account owes is a list of debts, each with the day it fell due:
- every rent notice with a positive amount due (its APL and RLS lines already netted), due on
  its `due_on`;
- every other debit of the ledger (regularisation, repairs, fees, procedure costs, …), due on
  the day it was posted. A reversal that debits (a bounced payment) is not a debt: it takes back
  the credit it cancels.
All the credits of the account (payments, write-offs, credit regularisations, notices whose APL
exceeds the rent, minus the reversals of credits) form one pool that pays the oldest debts first
(FIFO). With the debts in due order and their running sum `cum`, what remains owed on each debt is
clamp(cum − pool, 0, amount): one window function, no loop per account.

A debt is overdue from the day after its due date; it is "in arrears" (counts for opening a case)
from the day after the detection day of its month (rule: "unpaid after the 10th"), or after its
due date when that is later. Age buckets count days since the due date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction

from tenancies.legal_dates import Period, next_working_day

from .models import OPEN_STATUSES, ArrearsRule, CaseStatus, LadderStep

# %(acct)s is replaced by an account filter (or nothing) for the one-account statement.
ITEMS_CTE = """
items AS (
    SELECT n.account_id, n.due_on, n.amount_due AS amount, 0 AS src, n.id AS seq,
           'Avis d''échéance ' || to_char(n.period, 'MM/YYYY') AS label
    FROM billing_rentnotice n
    WHERE n.amount_due > 0 AND n.issued_on <= %(as_of)s {notice_filter}
  UNION ALL
    SELECT e.account_id, e.posted_on, e.debit, 1, e.id, e.label
    FROM billing_ledgerentry e
    WHERE e.notice_id IS NULL AND e.debit > 0 AND e.kind <> 'reversal' AND e.posted_on <= %(as_of)s
          {entry_filter}
),
pools AS (
    SELECT account_id, SUM(amount) AS pool FROM (
        SELECT e.account_id, e.credit - e.debit AS amount
        FROM billing_ledgerentry e
        WHERE e.notice_id IS NULL AND (e.credit > 0 OR e.kind = 'reversal') AND e.posted_on <= %(as_of)s
              {entry_filter}
      UNION ALL
        SELECT n.account_id, -n.amount_due
        FROM billing_rentnotice n
        WHERE n.amount_due < 0 AND n.issued_on <= %(as_of)s {notice_filter}
    ) c
    GROUP BY account_id
),
fifo AS (
    SELECT i.account_id, i.due_on, i.amount, i.src, i.seq, i.label,
           SUM(i.amount) OVER (PARTITION BY i.account_id ORDER BY i.due_on, i.src, i.seq
                               ROWS UNBOUNDED PRECEDING) AS cum,
           COALESCE(p.pool, 0) AS pool
    FROM items i LEFT JOIN pools p ON p.account_id = i.account_id
),
owed AS (
    SELECT account_id, due_on, src, seq, label, amount,
           GREATEST(0, LEAST(amount, cum - pool)) AS owed
    FROM fifo
)
"""


def _items_sql(account_id: int | None) -> str:
    if account_id is None:
        return ITEMS_CTE.format(notice_filter="", entry_filter="")
    return ITEMS_CTE.format(
        notice_filter="AND n.account_id = %(account)s", entry_filter="AND e.account_id = %(account)s"
    )


# Built once at import from constant fragments: no user input reaches the SQL text.
SNAPSHOT_TAIL = """,
running AS (
    SELECT o.account_id, o.due_on, o.owed,
           GREATEST(o.due_on, date_trunc('month', o.due_on)::date + (%(day)s - 1)) AS cutoff,
           SUM(o.owed) OVER (PARTITION BY o.account_id ORDER BY o.due_on, o.src, o.seq
                             ROWS UNBOUNDED PRECEDING) AS run
    FROM owed o WHERE o.owed > 0
),
totals AS (
    SELECT account_id,
           SUM(owed) AS balance,
           COALESCE(SUM(owed) FILTER (WHERE due_on < %(as_of)s), 0) AS overdue,
           COALESCE(SUM(owed) FILTER (WHERE cutoff < %(as_of)s), 0) AS in_arrears,
           COALESCE(SUM(owed) FILTER (WHERE due_on < %(as_of)s AND %(as_of)s - due_on <= 30), 0) AS b0,
           COALESCE(SUM(owed) FILTER (WHERE %(as_of)s - due_on BETWEEN 31 AND 60), 0) AS b31,
           COALESCE(SUM(owed) FILTER (WHERE %(as_of)s - due_on BETWEEN 61 AND 90), 0) AS b61,
           COALESCE(SUM(owed) FILTER (WHERE %(as_of)s - due_on > 90), 0) AS b91,
           MIN(due_on) FILTER (WHERE due_on < %(as_of)s) AS oldest,
           MIN(cutoff) FILTER (WHERE cutoff < %(as_of)s AND run >= %(threshold)s) AS case_cutoff
    FROM running GROUP BY account_id
),
monthly AS (
    SELECT t.*, last.apl_amount > 0 AS apl,
           COALESCE(ROUND(last.amount_due * last.days_in_month / NULLIF(last.days_billed, 0), 2), 0) AS monthly_due
    FROM totals t
    JOIN billing_account a ON a.id = t.account_id
    LEFT JOIN LATERAL (
        SELECT n.amount_due, n.apl_amount, n.days_billed, n.days_in_month FROM billing_rentnotice n
        WHERE n.lease_id = a.lease_id AND n.issued_on <= %(as_of)s ORDER BY n.period DESC LIMIT 1
    ) last ON true
)
INSERT INTO arrears_arrearssnapshot (account_id, as_of, balance, overdue, in_arrears, bucket_0_30, bucket_31_60,
    bucket_61_90, bucket_over_90, monthly_due, months_unpaid, oldest_due_on, case_threshold_on, caf_threshold,
    caf_threshold_on, apl)
SELECT m.account_id, %(as_of)s, m.balance, m.overdue, m.in_arrears, m.b0, m.b31, m.b61, m.b91, m.monthly_due,
       CASE WHEN m.monthly_due > 0 THEN LEAST(ROUND(m.overdue / m.monthly_due, 1), 99999) ELSE 0 END,
       m.oldest, m.case_cutoff + 1,
       CASE WHEN m.apl THEN ROUND(m.monthly_due * %(caf_months)s, 2) END,
       CASE WHEN m.apl THEN (
           SELECT MIN(r.due_on) FROM running r
           WHERE r.account_id = m.account_id AND r.due_on < %(as_of)s
                 AND r.run >= ROUND(m.monthly_due * %(caf_months)s, 2) AND m.monthly_due > 0
       ) END,
       COALESCE(m.apl, false)
FROM monthly m
"""
# Only accounts that may owe something on `as_of` are aged: a positive balance now, or entries posted
# after `as_of` (an account at or below zero now with nothing posted since was at or below zero then).
# On a real base this leaves out the ~90 % of accounts that are up to date.
CANDIDATES_CTE = """
cand AS (
    SELECT id AS account_id FROM billing_account WHERE balance > 0
    UNION
    SELECT DISTINCT account_id FROM billing_ledgerentry WHERE posted_on > %(as_of)s
),
"""
_CANDIDATE_ITEMS = ITEMS_CTE.format(
    notice_filter="AND n.account_id IN (SELECT account_id FROM cand)",
    entry_filter="AND e.account_id IN (SELECT account_id FROM cand)",
)
SNAPSHOT_SQL = "WITH " + CANDIDATES_CTE + _CANDIDATE_ITEMS + SNAPSHOT_TAIL  # noqa: S608 - constant fragments

STATEMENT_SQL = (
    "WITH "  # nosec B608 - constant fragments
    + _items_sql(0)
    + """
SELECT due_on, label, amount, owed FROM owed WHERE owed > 0 ORDER BY due_on, src, seq
"""  # noqa: S608  # nosec B608 - constant fragments
)

# Priority in the chargé's queue: 1 point per 10 € in arrears (at most 500), 1 per day of age of
# the oldest unpaid debt (at most 365), 50 when the CAF pays the APL (a report may be due), 200
# when the next action is late and 100 when it falls within a week.
PRIORITY_SQL = """
UPDATE arrears_arrearscase c SET priority =
    LEAST(COALESCE(s.in_arrears, 0) / 10, 500)::int
    + LEAST(GREATEST(%(as_of)s - COALESCE(s.oldest_due_on, %(as_of)s), 0), 365)
    + CASE WHEN s.apl THEN 50 ELSE 0 END
    + CASE WHEN c.next_deadline IS NULL THEN 0
           WHEN c.next_deadline <= %(as_of)s THEN 200
           WHEN c.next_deadline <= %(as_of)s + 7 THEN 100 ELSE 0 END
FROM arrears_arrearscase c2 LEFT JOIN arrears_arrearssnapshot s ON s.account_id = c2.account_id
WHERE c2.id = c.id AND c.status <> 'closed' {filter}
"""


def rule_on(day: date) -> ArrearsRule:
    rule = ArrearsRule.objects.filter(valid_from__lte=day).order_by("-valid_from").first()
    if rule is None:
        raise LookupError(f"Aucune règle de détection des impayés en vigueur le {day:%d/%m/%Y}.")
    return rule


def ladder_on(day: date) -> list[LadderStep]:
    start = LadderStep.objects.filter(valid_from__lte=day).order_by("-valid_from").values("valid_from").first()
    if start is None:
        return []
    return list(LadderStep.objects.filter(valid_from=start["valid_from"]).order_by("position"))


@dataclass
class StatementItem:
    due_on: date
    label: str
    amount: Decimal
    owed: Decimal
    barred_on: date | None = None  # the day the claim became time-barred (prescription), if passed

    @property
    def barred(self) -> bool:
        return self.barred_on is not None


def outstanding_items(account_id: int, as_of: date) -> list[StatementItem]:
    """The debts of one account still owed on `as_of`, oldest first (same FIFO as the detection)."""
    with connection.cursor() as cursor:
        cursor.execute(STATEMENT_SQL, {"as_of": as_of, "account": account_id})
        return [StatementItem(*row) for row in cursor.fetchall()]


def refresh_priority(*, as_of: date, case_ids: list[int] | None = None) -> None:
    with connection.cursor() as cursor:
        if case_ids is None:
            cursor.execute(PRIORITY_SQL.format(filter=""), {"as_of": as_of})  # lint: allow raw-sql-format - constant
        else:
            cursor.execute(  # lint: allow raw-sql-format - a constant filter; the ids are a parameter
                PRIORITY_SQL.format(filter="AND c.id = ANY(%(ids)s)"), {"as_of": as_of, "ids": case_ids}
            )


@dataclass
class DetectionReport:
    as_of: date
    snapshots: int = 0
    opened: int = 0
    reopened: int = 0
    closed: int = 0
    caf_reports: int = 0


def _history(cursor, case_ids: list[int], history_type: str, reason: str) -> None:
    """simple_history rows for cases changed by SQL (the ORM path writes its own)."""
    if not case_ids:
        return
    cursor.execute(
        """
        SELECT column_name FROM information_schema.columns
        WHERE table_name = 'arrears_arrearscase' ORDER BY ordinal_position
        """
    )
    columns = [row[0] for row in cursor.fetchall()]
    names = ", ".join(columns)
    cursor.execute(  # lint: allow raw-sql-format - column names read from the catalogue
        f"""
        INSERT INTO arrears_historicalarrearscase ({names}, history_date, history_change_reason, history_type)
        SELECT {names}, now(), %s, %s FROM arrears_arrearscase WHERE id = ANY(%s)
        """,  # noqa: S608  # nosec B608 - column names read from the catalogue
        [reason, history_type, case_ids],
    )


def _log(cursor, rows, *, from_status: str, to_status: str, as_of: date, reason: str, text: str) -> None:
    """One transition row and one timeline event per (case id, amount) of `rows`."""
    if not rows:
        return
    ids = [r[0] for r in rows]
    cursor.execute(
        """
        INSERT INTO arrears_casetransition (case_id, from_status, to_status, "on", reason, at)
        SELECT unnest(%s::bigint[]), %s, %s, %s, %s, now()
        """,
        [ids, from_status, to_status, as_of, reason],
    )
    cursor.execute(
        """
        INSERT INTO arrears_caseevent (case_id, kind, "on", text, document, at)
        SELECT v.id, 'system', %s,
               replace(%s, '{amount}', replace(to_char(v.amount, 'FM999999990.00'), '.', ',')), '', now()
        FROM unnest(%s::bigint[], %s::numeric[]) AS v(id, amount)
        """,
        [as_of, text, ids, [r[1] for r in rows]],
    )


@transaction.atomic
def run_detection(*, as_of: date) -> DetectionReport:
    """Rebuild every account's snapshot for `as_of`, then open, reopen and close cases by the rule,
    and create the CAF reports that became due. Idempotent for a given day."""
    rule = rule_on(as_of)
    ladder = ladder_on(as_of)
    first_step = ladder[0] if ladder else None
    next_action = first_step.task if first_step else ""
    next_deadline = as_of + timedelta(days=first_step.delay_days) if first_step else None
    report = DetectionReport(as_of=as_of)
    params = {
        "as_of": as_of,
        "day": rule.detection_day,
        "threshold": rule.open_threshold,
        "caf_months": rule.caf_threshold_months,
    }
    with connection.cursor() as cursor:
        cursor.execute("LOCK TABLE arrears_arrearssnapshot IN EXCLUSIVE MODE")
        cursor.execute("DELETE FROM arrears_arrearssnapshot")
        # The FIFO window sorts every debt of the candidate accounts: keep the sort in memory.
        cursor.execute("SET LOCAL work_mem = '128MB'")
        cursor.execute(SNAPSHOT_SQL, params)
        report.snapshots = cursor.rowcount
        open_list = list(OPEN_STATUSES)

        # Close: the account owes nothing any more (SOLDE), whatever the phase.
        cursor.execute(
            """
            UPDATE arrears_arrearscase c SET status = 'closed', closed_on = %s, next_action = '',
                next_deadline = NULL, priority = 0
            WHERE c.status = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM arrears_arrearssnapshot s WHERE s.account_id = c.account_id)
            RETURNING c.id, 0::numeric
            """,
            [as_of, open_list],
        )
        closed = cursor.fetchall()
        report.closed = len(closed)
        if closed:
            ids = [r[0] for r in closed]
            cursor.execute(
                "UPDATE arrears_repaymentplan SET status = 'completed' "
                "WHERE case_id = ANY(%s) AND status IN ('proposed', 'active', 'late')",
                [ids],
            )
            _history(cursor, ids, "~", "Soldé (détection)")
            _log(
                cursor,
                closed,
                from_status="",
                to_status=CaseStatus.CLOSED,
                as_of=as_of,
                reason="Dette soldée",
                text="Dossier soldé : plus rien n'est dû.",
            )

        # Accounts that call for a case: in arrears above the threshold, or flagged (a direct
        # debit bounced) with anything overdue.
        qualifying = """
            SELECT s.account_id, s.in_arrears FROM arrears_arrearssnapshot s
            JOIN billing_account a ON a.id = s.account_id
            WHERE (s.in_arrears >= %(threshold)s OR (a.flagged_for_arrears AND s.overdue > 0))
              AND NOT EXISTS (SELECT 1 FROM arrears_arrearscase c
                              WHERE c.account_id = s.account_id AND c.status <> 'closed')
        """
        # Reopen the latest closed case of the account.
        cursor.execute(  # lint: allow raw-sql-format - qualifying is a constant fragment
            f"""
            WITH q AS ({qualifying}),
            latest AS (
                SELECT DISTINCT ON (c.account_id) c.id, q.in_arrears
                FROM arrears_arrearscase c JOIN q ON q.account_id = c.account_id
                ORDER BY c.account_id, c.opened_on DESC, c.id DESC
            )
            UPDATE arrears_arrearscase c SET status = 'amicable', closed_on = NULL,
                reopen_count = c.reopen_count + 1, opened_on = %(as_of)s, debt_at_opening = latest.in_arrears,
                ladder_position = 0, next_action = %(next_action)s, next_deadline = %(next_deadline)s,
                suspended_on = NULL
            FROM latest WHERE latest.id = c.id
            RETURNING c.id, latest.in_arrears
            """,  # noqa: S608  # nosec B608 - qualifying is a constant fragment
            {**params, "next_action": next_action, "next_deadline": next_deadline},
        )
        reopened = cursor.fetchall()
        report.reopened = len(reopened)
        _history(cursor, [r[0] for r in reopened], "~", "Rouvert (détection)")
        _log(
            cursor,
            reopened,
            from_status=CaseStatus.CLOSED,
            to_status=CaseStatus.AMICABLE,
            as_of=as_of,
            reason="Nouvel impayé",
            text="Dossier rouvert par la détection : impayé de {amount} €.",
        )

        cursor.execute(  # lint: allow raw-sql-format - qualifying is a constant fragment
            f"""
            INSERT INTO arrears_arrearscase (account_id, lease_id, agency_id, status, opened_on, reopen_count,
                debt_at_opening, ladder_position, next_action, next_deadline, priority)
            SELECT q.account_id, a.lease_id, es.agency_id, 'amicable', %(as_of)s, 0, q.in_arrears, 0, %(next_action)s,
                   %(next_deadline)s, 0
            FROM ({qualifying}) q JOIN billing_account a ON a.id = q.account_id
            JOIN tenancies_lease l ON l.id = a.lease_id
            JOIN tenancies_dwelling d ON d.id = l.dwelling_id
            JOIN tenancies_building b ON b.id = d.building_id
            JOIN tenancies_estate es ON es.id = b.estate_id
            RETURNING id, debt_at_opening
            """,  # noqa: S608  # nosec B608 - qualifying is a constant fragment
            {**params, "next_action": next_action, "next_deadline": next_deadline},
        )
        opened = cursor.fetchall()
        report.opened = len(opened)
        _history(cursor, [r[0] for r in opened], "+", "Ouvert (détection)")
        _log(
            cursor,
            opened,
            from_status="",
            to_status=CaseStatus.AMICABLE,
            as_of=as_of,
            reason="Impayé détecté",
            text="Dossier ouvert par la détection : impayé de {amount} €.",
        )
        cursor.execute(
            """
            UPDATE billing_account a SET flagged_for_arrears = false
            WHERE a.flagged_for_arrears AND EXISTS (
                SELECT 1 FROM arrears_arrearscase c WHERE c.account_id = a.id AND c.status <> 'closed')
            """
        )

        # CAF: an impayé constituted (APL in tiers payant) that has no report yet since its
        # oldest unpaid debt; the report is due 2 months after the threshold was reached.
        cursor.execute(
            """
            SELECT c.id, s.caf_threshold, s.caf_threshold_on, s.balance
            FROM arrears_arrearscase c JOIN arrears_arrearssnapshot s ON s.account_id = c.account_id
            WHERE c.status <> 'closed' AND s.caf_threshold_on IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM arrears_cafreport r
                              WHERE r.case_id = c.id AND r.reached_on >= s.oldest_due_on)
            """
        )
        caf_rows = cursor.fetchall()
    if caf_rows:
        from .models import CafReport
        from .services import caf_report_deadline

        CafReport.objects.bulk_create(
            [
                CafReport(
                    case_id=case_id,
                    threshold=threshold,
                    reached_on=reached_on,
                    due_by=caf_report_deadline(reached_on),
                    debt=debt,
                )
                for case_id, threshold, reached_on, debt in caf_rows
            ]
        )
        report.caf_reports = len(caf_rows)
        _set_caf_deadlines([r[0] for r in caf_rows])
    refresh_priority(as_of=as_of)
    return report


def _set_caf_deadlines(case_ids: list[int]) -> None:
    """A pending CAF report's deadline becomes the case's next deadline when it comes first."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE arrears_arrearscase c SET next_deadline = r.due_by, next_action = 'Signaler l''impayé à la CAF'
            FROM arrears_cafreport r
            WHERE r.case_id = c.id AND c.id = ANY(%s) AND r.sent_on IS NULL
              AND (c.next_deadline IS NULL OR r.due_by < c.next_deadline)
            """,
            [case_ids],
        )


def waiting_period_end(start: date, period: Period) -> date:
    """First working day on which an act may be done once `period` has fully elapsed after `start`
    (E4.3: CCAPEX on 15/01/2026, 2 months expire at the end of 15/03/2026 → 16/03/2026). The
    CPC 642 shift is for the last day to act, not for a waiting period, so it is not applied to the
    expiry itself."""
    return next_working_day(period.after(start) + timedelta(days=1))
