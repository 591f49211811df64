"""Payments: allocation oldest first, one payment per form token, refusals in French."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.ledger import reconcile
from billing.models import Payment, PaymentAllocation
from billing.services import PaymentError, open_notices, record_payment

TODAY = date(2026, 11, 20)


def _pay(account, amount, **kw):
    kw.setdefault("received_on", TODAY)
    kw.setdefault("method", "cheque")
    return record_payment(account=account, amount=Decimal(amount), today=TODAY, **kw)


def test_payment_settles_the_oldest_notice_and_credits_the_account(world):
    account = world["A"].account  # November notice 497,05 €, 200,00 € already paid
    payment = _pay(account, "297.05", reference="CHQ 123")
    assert [(a.notice_id, a.amount) for a in payment.allocations.all()] == [(world["A"].notice.pk, Decimal("297.05"))]
    assert open_notices(account) == []
    account.refresh_from_db()
    assert account.balance == Decimal("0.00")
    entry = payment.entries.get()
    assert (entry.credit, entry.label) == (Decimal("297.05"), "Paiement — Chèque CHQ 123")
    assert reconcile() == []


def test_overpayment_stays_as_a_credit(world):
    account = world["A"].account
    _pay(account, "400.00")
    account.refresh_from_db()
    assert account.balance == Decimal("-102.95")
    assert sum(a.amount for a in PaymentAllocation.objects.filter(notice=world["A"].notice)) == Decimal("497.05")


@pytest.mark.parametrize(
    ("amount", "received_on", "method", "message"),
    [
        ("0", TODAY, "cheque", "supérieur à zéro"),
        ("-5", TODAY, "cheque", "supérieur à zéro"),
        ("10.001", TODAY, "cheque", "deux décimales"),
        ("10", date(2026, 11, 21), "cheque", "futur"),
        ("10", TODAY, "bitcoin", "inconnu"),
    ],
)
def test_bad_payments_are_refused_and_nothing_is_posted(world, amount, received_on, method, message):
    before = Payment.objects.count()
    with pytest.raises(PaymentError, match=message):
        _pay(world["A"].account, amount, received_on=received_on, method=method)
    assert Payment.objects.count() == before
    assert reconcile() == []


def test_same_token_records_one_payment(world):
    first = _pay(world["A"].account, "50.00", idempotency_key="tok-1")
    again = _pay(world["A"].account, "50.00", idempotency_key="tok-1")
    assert again.pk == first.pk
    assert Payment.objects.filter(idempotency_key="tok-1").count() == 1
    with pytest.raises(PaymentError, match="autres valeurs"):
        _pay(world["A"].account, "60.00", idempotency_key="tok-1")


# --- The page -------------------------------------------------------------------------------


def _form(client, account):
    response = client.get(reverse("billing:payment_create", args=[account.pk]))
    assert response.status_code == 200
    return response.context["form"].initial["token"]


def test_double_submitted_form_records_one_payment(client, world, agent, time_machine):
    time_machine.move_to("2026-11-20 10:00:00+01:00")
    client.force_login(agent)
    account = world["A"].account
    token = _form(client, account)
    data = {"amount": "120,50", "received_on": "19/11/2026", "method": "transfer", "reference": "VIR", "token": token}
    url = reverse("billing:payment_create", args=[account.pk])
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302
    assert Payment.objects.filter(account=account).count() == 2  # the fixture's + this one
    account.refresh_from_db()
    assert account.balance == Decimal("176.55")  # 497,05 − 200,00 − 120,50


@pytest.mark.parametrize(
    ("amount", "received_on", "error"),
    [
        ("0", "19/11/2026", "Le montant doit être supérieur à zéro."),
        ("abc", "19/11/2026", "Saisissez un montant, par exemple 412,50."),
        ("10,00", "31/02/2026", "Saisissez une date au format jj/mm/aaaa."),
        ("10,00", "25/12/2026", "La date de réception ne peut pas être dans le futur."),
    ],
)
def test_form_errors_are_in_french_beside_the_field(client, world, agent, time_machine, amount, received_on, error):
    time_machine.move_to("2026-11-20 10:00:00+01:00")
    client.force_login(agent)
    account = world["A"].account
    response = client.post(
        reverse("billing:payment_create", args=[account.pk]),
        {"amount": amount, "received_on": received_on, "method": "cheque", "token": "t-err"},
    )
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Payment.objects.filter(idempotency_key="t-err").exists()


def test_payment_on_another_agencys_account_is_404_and_posts_nothing(client, world, agent):
    client.force_login(agent)
    account = world["B"].account
    response = client.post(
        reverse("billing:payment_create", args=[account.pk]),
        {"amount": "10,00", "received_on": "19/11/2026", "method": "cheque", "token": "t-b"},
    )
    assert response.status_code == 404
    assert not Payment.objects.filter(idempotency_key="t-b").exists()


def test_inspector_cannot_record_a_payment(client, world, inspector):
    client.force_login(inspector)
    response = client.get(reverse("billing:payment_create", args=[world["A"].account.pk]))
    assert response.status_code == 403
