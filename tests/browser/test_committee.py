"""The CALEOL in Chromium: a chargé matches a vacant dwelling and puts three candidates on the
session's agenda, three members vote, the president records the decisions, closes the session
and signs the minutes; the minutes and letters come out as PDFs; the accepted offer becomes a
draft lease."""

from io import BytesIO

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from applications.committee import demo as committee_demo
from applications.committee.models import Candidature, Offer, Session
from tenancies.demo import DEFAULT_PASSWORD
from tenancies.models import Lease

from .conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def caleol_demo(transactional_db):
    # A flushed database (transactional tests) has lost the dated figures loaded by migrations.
    call_command("load_figures", verbosity=0)
    call_command("seed_demo", dwellings=300, allow_production=True, verbosity=0)
    call_command("seed_committee_demo", allow_production=True, verbosity=0)


def open_as(chromium, live_server, username):
    context = chromium.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/")
    page.get_by_label("Nom d’utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")
    return page


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def pdf_text(page, url) -> str:
    response = page.request.get(url)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(BytesIO(response.body())).pages)
    return " ".join(text.split())


def test_a_caleol_session_from_matching_to_draft_lease(caleol_demo, chromium, live_server):
    session = Session.objects.exclude(place=committee_demo.HISTORY_PLACE).get()  # not the demo's past sessions
    agency = session.agency
    free = committee_demo.pick_dwellings(agency, session.held_on, count=1)
    assert free, "the demo leaves a vacant dwelling with three candidates"
    dwelling = free[0]

    # 1. The chargé de clientèle matches the vacant dwelling and puts three candidates on the agenda.
    page = open_as(chromium, live_server, "clientele.seine")
    page.goto(f"{live_server.url}/logements/{dwelling.pk}/")
    page.get_by_role("link", name="Candidats — rapprocher des demandes").click()
    page.wait_for_url(f"**/caleol/logements/{dwelling.pk}/candidats/")
    assert "Rapprochement" in page.get_by_role("heading", level=1).inner_text()
    boxes = page.locator("input[name=application]:not([disabled])")
    for i in range(3):
        boxes.nth(i).check()
    shot(page, "caleol-matching")
    page.get_by_role("button", name="Inscrire à l'ordre du jour").click()
    page.wait_for_url(f"**/caleol/seances/{session.pk}/")
    assert "inscrit à l'ordre du jour avec 3 candidat(s)" in page.content()
    item = session.items.get(dwelling=dwelling)
    page.context.close()

    # 2. Three members vote on it from their own pages.
    for username in ("commission", "commission2", "commission3"):
        page = open_as(chromium, live_server, username)
        page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Commission").click()
        page.get_by_role("link", name=str(session)).click()
        section = page.get_by_role("region", name=f"Logement {dwelling.reference}")
        for rank, c in enumerate(item.candidatures.order_by("rank"), start=1):
            section.get_by_label(f"Mon rang pour {c.pseudonym}").select_option(str(rank))
        section.get_by_role("button", name="Voter").click()
        page.wait_for_load_state()
        assert f"Vote enregistré pour le logement {dwelling.reference}" in page.content()
        if username == "commission":
            shot(page, "caleol-member-vote")
        page.context.close()

    # 3. The president records one decision per candidate, closes the session, signs the minutes.
    page = open_as(chromium, live_server, "president.caleol")
    page.goto(f"{live_server.url}/caleol/mes-seances/{session.pk}/")
    forms = page.locator("form.decision-form")
    count = forms.count()
    assert count >= 6
    attributed_items = set()
    by_pseudonym = {c.pseudonym: c for c in Candidature.objects.filter(item__session=session)}
    for i in range(count):
        form = page.locator("form.decision-form").nth(i)
        pseudonym = form.locator(".fw-semibold").inner_text()
        c = by_pseudonym[pseudonym]
        if c.item_id not in attributed_items:
            form.get_by_label(f"Décision pour {pseudonym}").select_option("attribution")
            attributed_items.add(c.item_id)
        elif c.rank == 2:
            form.get_by_label(f"Décision pour {pseudonym}").select_option("ranked")
            form.get_by_label(f"Rang pour {pseudonym}").fill("2")
        else:
            form.get_by_label(f"Décision pour {pseudonym}").select_option("non_attribution")
            form.get_by_label(f"Motifs pour {pseudonym}").fill("Candidat classé après deux ménages prioritaires")
        form.get_by_role("button", name="Enregistrer").click()
        page.wait_for_load_state()
        assert f"Décision enregistrée pour {pseudonym}" in page.content()
    shot(page, "caleol-president")
    page.get_by_role("button", name="Clore la séance").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Signer le procès-verbal").click()
    page.wait_for_load_state()
    minutes = pdf_text(page, f"{live_server.url}/caleol/seances/{session.pk}/proces-verbal.pdf")
    assert "Procès-verbal signé le" in minutes and "Attribution par classement, rang 2" in minutes
    page.context.close()

    # 4. The letters come out as PDFs and the accepted offer becomes a draft lease.
    page = open_as(chromium, live_server, "clientele.seine")
    refused = item.candidatures.get(rank=3)
    letter = pdf_text(page, f"{live_server.url}/caleol/candidatures/{refused.pk}/courrier.pdf")
    assert "non-attribution" in letter.lower() and "Candidat classé après" in letter
    offer = Offer.objects.get(candidature__item=item)
    offer_letter = pdf_text(page, f"{live_server.url}/caleol/propositions/{offer.pk}/courrier.pdf")
    assert "silence vaut refus" in offer_letter and offer.deadline.strftime("%d/%m/%Y") in offer_letter
    page.goto(f"{live_server.url}/caleol/propositions/")
    page.get_by_role("link", name=dwelling.reference).click()
    page.locator("#id_answer").select_option("accept")
    page.get_by_role("button", name="Enregistrer la réponse").click()
    page.wait_for_load_state()
    assert "projet de bail créé" in page.content()
    shot(page, "caleol-offer-accepted")
    offer.refresh_from_db()
    lease = Lease.objects.get(pk=offer.lease_id, dwelling=dwelling)
    assert lease.status == "draft" and lease.rent == dwelling.rent
    page.context.close()
