"""Write paths of billing besides the batch: payments and their allocation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from .ledger import NewEntry, post_entries
from .models import ZERO, Account, EntryKind, Payment, PaymentAllocation, PaymentMethod, RentNotice


class PaymentError(Exception):
    """A refused payment (French message)."""


def notices_with_paid(queryset):
    """Annotate each notice with `paid`: the sum of the allocations it received."""
    paid = (
        PaymentAllocation.objects.filter(notice=OuterRef("pk"))
        .values("notice")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    money = DecimalField(max_digits=12, decimal_places=2)
    return queryset.annotate(paid=Coalesce(Subquery(paid, output_field=money), Value(ZERO), output_field=money))


def open_notices(account: Account):
    """Notices of the account still partly unpaid, oldest first."""
    notices = notices_with_paid(RentNotice.objects.filter(account=account, amount_due__gt=0))
    return [n for n in notices.order_by("period", "id") if n.paid < n.amount_due]


def record_payment(
    *,
    account: Account,
    amount: Decimal,
    received_on: date,
    method: str,
    today: date,
    reference: str = "",
    idempotency_key: str | None = None,
    by=None,
) -> Payment:
    """Record a payment, credit the account and settle the oldest notices due first.

    One transaction with the account row locked. A second submission with the same
    `idempotency_key` returns the first payment; the same key with other values is refused.
    Raises PaymentError on a zero or negative amount, an unknown method or a future date.
    """
    amount = Decimal(amount)
    if amount <= 0:
        raise PaymentError("Le montant doit être supérieur à zéro.")
    if amount != amount.quantize(Decimal("0.01")):
        raise PaymentError("Le montant ne peut pas avoir plus de deux décimales.")
    if method not in PaymentMethod.values:
        raise PaymentError("Mode de paiement inconnu.")
    if received_on > today:
        raise PaymentError("La date de réception ne peut pas être dans le futur.")
    if idempotency_key:
        existing = Payment.objects.filter(idempotency_key=idempotency_key).first()
        if existing:
            return _same_or_refuse(existing, account, amount, received_on, method)
    try:
        with transaction.atomic():
            locked = Account.objects.select_for_update().get(pk=account.pk)
            payment = Payment.objects.create(
                account=locked,
                amount=amount,
                received_on=received_on,
                method=method,
                reference=reference,
                idempotency_key=idempotency_key or None,
                created_by=by,
            )
            label = f"Paiement — {PaymentMethod(method).label}" + (f" {reference}" if reference else "")
            post_entries(
                account=locked,
                entries=[
                    NewEntry(
                        posted_on=received_on,
                        kind=EntryKind.PAYMENT,
                        label=label,
                        amount=-amount,
                        payment_id=payment.pk,
                    )
                ],
                by=by,
            )
            _allocate(payment, locked)
    except IntegrityError:
        # Two simultaneous submissions of the same form: the unique token let one through.
        existing = Payment.objects.filter(idempotency_key=idempotency_key).first() if idempotency_key else None
        if existing is None:
            raise
        return _same_or_refuse(existing, account, amount, received_on, method)
    account.balance = locked.balance
    return payment


def _same_or_refuse(existing: Payment, account, amount, received_on, method) -> Payment:
    if (existing.account_id, existing.amount, existing.received_on, existing.method) != (
        account.pk,
        amount,
        received_on,
        method,
    ):
        raise PaymentError("Ce formulaire a déjà été enregistré avec d'autres valeurs : rechargez la page.")
    return existing


def _allocate(payment: Payment, account: Account) -> None:
    remaining = payment.amount
    allocations = []
    for notice in open_notices(account):
        if remaining <= 0:
            break
        part = min(remaining, notice.amount_due - notice.paid)
        allocations.append(PaymentAllocation(payment=payment, notice=notice, amount=part))
        remaining -= part
    PaymentAllocation.objects.bulk_create(allocations)
