"""A chargé de clientèle registers a demand in Chromium: household of two, an income, a document,
then sees the eligibility and the score."""

import pytest
from django.core.management import call_command

from applications.demo import seed_grids
from applications.models import Application
from applications.reference import ensure_reference_data
from tenancies.demo import DEFAULT_PASSWORD as DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def demo(transactional_db):
    from django.utils import timezone

    call_command("seed_demo", dwellings=120, allow_production=True, verbosity=0)
    # A flushed database (transactional tests) lost the rows loaded by migrations.
    call_command("load_figures", verbosity=0)  # resource ceilings and legal delays
    ensure_reference_data()
    seed_grids(timezone.localdate())


def login(page, live_server, username):
    page.goto(f"{live_server.url}/")
    page.get_by_label("Nom d’utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")


def test_charge_registers_an_application_uploads_a_document_and_sees_eligibility_and_score(
    demo, page, live_server, screenshot
):
    login(page, live_server, "clientele.seine")
    nav = page.get_by_role("navigation", name="Navigation principale")
    nav.get_by_role("button", name="Demandes").click()
    nav.get_by_role("link", name="Nouvelle demande").click()
    page.wait_for_url(f"{live_server.url}/demandes/nouvelle/")

    page.select_option("#id_housing_situation", "hosted")
    page.get_by_label("Sans logement ou hébergé").check()
    page.get_by_label("Mantes-la-Jolie (78200)").check()
    page.get_by_label("T2", exact=True).check()
    page.get_by_label("T3", exact=True).check()
    page.get_by_label("Personne dépourvue de logement, y compris hébergée par des tiers").check()

    page.select_option("#id_people-0-relationship", "applicant")
    page.fill("#id_people-0-last_name", "Nguyen")
    page.fill("#id_people-0-first_name", "Linh")
    page.fill("#id_people-0-birth_date", "14/02/2000")
    page.fill("#id_people-0-tax_income", "16 800,00")
    page.select_option("#id_people-1-relationship", "spouse")
    page.fill("#id_people-1-last_name", "Nguyen")
    page.fill("#id_people-1-first_name", "Minh")
    page.fill("#id_people-1-birth_date", "02/07/1999")
    page.fill("#id_people-1-tax_income", "9 400,00")
    page.select_option("#id_incomes-0-person", "1")
    page.select_option("#id_incomes-0-source", "salary")
    page.fill("#id_incomes-0-monthly_amount", "1 480,00")
    screenshot("application-form")
    page.get_by_role("button", name="Enregistrer la demande").click()
    page.wait_for_url(f"{live_server.url}/demandes/*/")

    application = Application.objects.get(people__last_name="Nguyen", people__first_name="Linh")
    assert (application.household_size, application.category) == (2, 3)  # jeune ménage (ages add up to ≤ 55)
    body = page.locator("main").inner_text()
    assert "Linh NGUYEN" in body and "Minh NGUYEN" in body
    assert "catégorie 3" in body
    eligibility = page.locator("#eligibilite").inner_text()
    assert (
        "PLUS" in eligibility
        and "éligible" in eligibility
        and "26\xa0200,00" in eligibility
        and "22\xa0162,00" in eligibility
    )
    assert f"{application.score} points" in body and application.score >= 60 + 30 - 30  # sans logement criterion
    assert "rang 1" in body

    page.select_option("#id_document_type", label="Carte nationale d'identité ou passeport")
    page.set_input_files("#id_file", files=[{"name": "cni.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.get_by_role("button", name="Déposer la pièce").click()
    page.wait_for_load_state()
    assert "Pièce justificative ajoutée." in page.content()
    assert page.locator("#pieces").get_by_role("link", name="Carte nationale d'identité ou passeport").is_visible()
    assert application.documents.get().content_kind == "pdf"
    screenshot("application-detail")
