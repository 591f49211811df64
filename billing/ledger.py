"""The only code that writes ledger entries and account balances."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection, transaction

from .models import ZERO, Account, LedgerEntry


class LedgerError(Exception):
    """A refused ledger operation (French message)."""


@dataclass
class NewEntry:
    posted_on: date
    kind: str
    label: str
    amount: Decimal  # positive: debit (owed by the tenant); negative: credit
    period: date | None = None
    charge_type_id: int | None = None
    notice_id: int | None = None
    payment_id: int | None = None
    reverses_id: int | None = None


def ensure_accounts(lease_ids) -> None:
    """Create the missing accounts of these leases (set-based, idempotent)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO billing_account (lease_id, balance, flagged_for_arrears) "
            "SELECT unnest(%s::bigint[]), 0, false ON CONFLICT (lease_id) DO NOTHING",
            [list(lease_ids)],
        )


def account_for(lease) -> Account:
    ensure_accounts([lease.pk])
    return Account.objects.get(lease_id=lease.pk)


def _entry(account_id: int, e: NewEntry, by) -> LedgerEntry:
    return LedgerEntry(
        account_id=account_id,
        posted_on=e.posted_on,
        period=e.period,
        kind=e.kind,
        label=e.label[:255],
        debit=e.amount if e.amount > 0 else ZERO,
        credit=-e.amount if e.amount < 0 else ZERO,
        charge_type_id=e.charge_type_id,
        notice_id=e.notice_id,
        payment_id=e.payment_id,
        reverses_id=e.reverses_id,
        created_by=by,
    )


@transaction.atomic
def post_entries(*, account: Account, entries: list[NewEntry], by=None) -> list[LedgerEntry]:
    """Append entries to one account and move its balance, with the account row locked."""
    locked = Account.objects.select_for_update().get(pk=account.pk)
    rows = [_entry(locked.pk, e, by) for e in entries if e.amount != 0]
    created = LedgerEntry.objects.bulk_create(rows)
    locked.balance += sum((e.amount for e in entries), ZERO)
    locked.save(update_fields=["balance"])
    account.balance = locked.balance
    return created


@transaction.atomic
def reverse_entry(*, entry: LedgerEntry, posted_on: date, reason: str, by=None) -> LedgerEntry:
    """Cancel a posted entry with an opposite entry (the original is never touched)."""
    if entry.kind == "reversal" or hasattr(entry, "reversed_by"):
        raise LedgerError("Cette écriture a déjà été contre-passée ou est elle-même une contre-passation.")
    (reversal,) = post_entries(
        account=entry.account,
        entries=[
            NewEntry(
                posted_on=posted_on,
                kind="reversal",
                label=f"Contre-passation : {entry.label} — {reason}",
                amount=-entry.amount,
                period=entry.period,
                reverses_id=entry.pk,
                payment_id=entry.payment_id,
            )
        ],
        by=by,
    )
    return reversal


def reconcile() -> list[tuple[int, Decimal, Decimal]]:
    """Accounts whose cached balance differs from the sum of their entries: (id, cached, actual)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.id, a.balance, COALESCE(s.total, 0)
            FROM billing_account a
            LEFT JOIN (
                SELECT account_id, SUM(debit) - SUM(credit) AS total
                FROM billing_ledgerentry GROUP BY account_id
            ) s ON s.account_id = a.id
            WHERE a.balance <> COALESCE(s.total, 0)
            ORDER BY a.id
            """
        )
        return [(row[0], row[1], row[2]) for row in cursor.fetchall()]
