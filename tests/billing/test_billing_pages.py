"""The chargé du quittancement's pages and the account panels."""

from datetime import date
from decimal import Decimal

from django.urls import reverse

from billing.models import BillingRun, RentNotice, RunStatus


def test_launch_a_run_from_the_page_and_follow_it(
    client, world, biller, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to("2026-11-25 10:00:00+01:00")
    client.force_login(biller)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("billing:run_list"), {"period": "2026-12"})
    run = BillingRun.objects.get(period=date(2026, 12, 1))
    assert response.status_code == 302 and response["Location"] == run.get_absolute_url()
    assert run.status == RunStatus.DONE and run.launched_by == biller
    page = client.get(run.get_absolute_url()).content.decode()
    assert "Agence Durandal" in page and "497,05\xa0€" in page and "994,10\xa0€" in page
    fragment = client.get(reverse("billing:run_progress", args=[run.pk])).content.decode()
    assert 'value="100"' in fragment and "hx-get" not in fragment


def test_a_running_run_polls_its_progress(client, world, biller, time_machine):
    time_machine.move_to("2026-11-25 10:00:00+01:00")
    client.force_login(biller)
    client.post(reverse("billing:run_list"), {"period": "2026-12"})  # chunks queued, not run
    run = BillingRun.objects.get(period=date(2026, 12, 1))
    fragment = client.get(reverse("billing:run_progress", args=[run.pk])).content.decode()
    assert "0 / 1 lot" in fragment and 'hx-trigger="every 1s"' in fragment


def test_launch_form_refuses_a_far_period_in_french(client, world, biller, time_machine):
    time_machine.move_to("2026-11-25 10:00:00+01:00")
    client.force_login(biller)
    response = client.post(reverse("billing:run_list"), {"period": "2027-03"})
    assert response.status_code == 200
    assert "plus d&#x27;un mois en avance" in response.content.decode()
    assert not BillingRun.objects.filter(period=date(2027, 3, 1)).exists()


def test_account_page_shows_balance_entries_notices_and_payments(client, world, agent):
    client.force_login(agent)
    body = client.get(reverse("billing:account_detail", args=[world["A"].account.pk])).content.decode()
    assert "297,05\xa0€" in body  # 497,05 − 200,00
    assert "Loyer novembre 2026" in body
    assert "Paiement — Virement" in body


def test_fiche_locataire_shows_the_account_panel(client, world, agent, django_assert_max_num_queries):
    client.force_login(agent)
    with django_assert_max_num_queries(20):
        body = client.get(reverse("tenancies:household_detail", args=[world["A"].household.pk])).content.decode()
    assert "297,05\xa0€" in body and "dû par le locataire" in body
    assert reverse("billing:notice_pdf", args=[world["A"].notice.pk]) in body
    assert reverse("billing:receipt_pdf", args=[world["A"].payment.pk]) in body


def test_run_list_query_count_is_bounded(client, world, biller, django_assert_max_num_queries):
    client.force_login(biller)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("billing:run_list")).status_code == 200


def test_account_page_query_count_is_bounded(client, world, agent, django_assert_max_num_queries):
    client.force_login(agent)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("billing:account_detail", args=[world["A"].account.pk])).status_code == 200


def test_notice_totals_match_the_ledger(world):
    notice = RentNotice.objects.get(pk=world["A"].notice.pk)
    assert notice.amount_due == Decimal("497.05") == notice.entries.balance()
