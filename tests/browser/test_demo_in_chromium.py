"""The demo, in a real browser: every role logs in; the chargé de clientèle reaches a lease."""

import re
from decimal import Decimal

import pytest
from django.core.management import call_command

from tenancies.demo import DEFAULT_PASSWORD as DEMO_PASSWORD
from tenancies.demo import DEMO_USERS
from tenancies.models import Household, Person, PersonRole
from tenancies.roles import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", dwellings=120, allow_production=True, verbosity=0)


def login(page, live_server, username):
    page.goto(f"{live_server.url}/")
    assert "/connexion/" in page.url
    page.get_by_label("Nom d’utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")


def test_every_demo_login_opens_the_app(demo, page, live_server, screenshot):
    for username, _first, _last, role, _agencies, _admin in DEMO_USERS:
        login(page, live_server, username)
        assert page.get_by_role("heading", level=1).inner_text().startswith("Bonjour")
        nav = page.get_by_role("navigation", name="Navigation principale")
        tenants_menu = nav.get_by_role("button", name="Locataires")
        if role == Role.MEMBRE_COMMISSION:
            assert tenants_menu.count() == 0
        else:
            tenants_menu.click()
            assert nav.get_by_role("link", name="Locataires et ménages").is_visible()
        screenshot(f"home-{username}")
        page.get_by_role("button", name=re.compile(r".+")).filter(has=page.locator(".bi-person-circle")).click()
        page.get_by_role("button", name="Se déconnecter").click()
        page.wait_for_url(re.compile(r"/connexion/"))


def test_charge_de_clientele_searches_a_household_and_reaches_the_lease(demo, page, live_server, screenshot):
    holder = (
        Person.objects.filter(household__agency__code="SA", role=PersonRole.TITULAIRE, household__leases__isnull=False)
        .order_by("id")
        .first()
    )
    household = Household.objects.get(pk=holder.household_id)
    lease = household.leases.order_by("-starts_on").first()

    login(page, live_server, "clientele.seine")
    page.get_by_label("Rechercher").first.fill(f"{holder.last_name} {holder.first_name}")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    if "/recherche/" in page.url:
        screenshot("search-results")
        page.locator(f'a[href="/locataires/{household.pk}/"]').first.click()
    page.wait_for_url(f"{live_server.url}/locataires/{household.pk}/")
    assert "Fiche locataire" in page.get_by_role("heading", level=1).inner_text()
    assert holder.last_name.upper() in page.content()
    screenshot("fiche-locataire")

    page.get_by_role("link", name=lease.number).first.click()
    page.wait_for_url(f"{live_server.url}/baux/{lease.pk}/")
    assert page.get_by_role("heading", level=1).inner_text().startswith(f"Bail {lease.number}")
    body = page.locator("main").inner_text()
    assert re.search(r"\d+,\d{2}\xa0€", body)
    assert re.search(r"\d{2}/\d{2}/\d{4}", body)
    screenshot("bail")


@pytest.fixture
def billing_demo(demo):
    call_command("seed_billing_demo", allow_production=True, verbosity=0)


def test_quittancement_runs_december_and_clientele_records_a_payment(billing_demo, page, live_server, screenshot):
    from billing.models import Account, BillingRun, Payment

    login(page, live_server, "quittancement")
    nav = page.get_by_role("navigation", name="Navigation principale")
    nav.get_by_role("button", name="Quittancement").click()
    nav.get_by_role("link", name="Quittancement mensuel").click()
    page.get_by_label("Mois à facturer").fill("2026-12")
    page.get_by_role("button", name="Lancer").click()
    page.wait_for_url(re.compile(r"/quittancement/\d+/$"))
    # Celery runs eagerly in the test settings: the run is complete when the page opens.
    assert "Terminé" in page.get_by_role("heading", level=1).inner_text()
    run = BillingRun.objects.get(period="2026-12-01")
    assert page.locator("progress").get_attribute("value") == "100"
    body = page.locator("main").inner_text()
    assert f"Avis émis\n{run.notice_count}" in body
    screenshot("quittancement-run")

    account = Account.objects.filter(balance__gt=0, lease__dwelling__building__estate__agency__code="SA").first()
    page.context.clear_cookies()
    login(page, live_server, "clientele.seine")
    page.goto(f"{live_server.url}/comptes/{account.pk}/")
    page.get_by_role("link", name="Enregistrer un paiement").click()
    page.get_by_label("Montant (€)").fill("25,40")
    page.get_by_label("Mode de paiement").select_option("cheque")
    page.get_by_label("Référence (n° de chèque, libellé du virement…)").fill("CHQ 4242")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url(f"{live_server.url}/comptes/{account.pk}/")
    assert "Paiement de 25,40\xa0€ enregistré." in page.locator("main").inner_text()
    before = account.balance
    account.refresh_from_db()
    assert account.balance == before - Decimal("25.40")
    assert Payment.objects.filter(account=account, reference="CHQ 4242").count() == 1
    screenshot("compte-paiement")
