"""Move-in to deposit settlement in Chromium at tablet size (800 × 1280, portrait).

The chargé de clientèle creates and signs the lease; the agent d'état des lieux does the entry EDL
room by room with a photo and both signatures drawn on the screen; the tenant gives notice; the
exit EDL (pre-filled from the entry) flags a degradation; the settlement comes out with the
2-month deadline, the repair after vétusté, and the ledger shows the entries.
"""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.utils import timezone

from billing.models import EntryKind
from inspections.models import Inspection, InspectionKind, InspectionStatus, RepairPrice, Settlement
from tenancies.demo import DEFAULT_PASSWORD
from tenancies.models import Dwelling, DwellingStatus, Lease, LeaseStatus
from tests.factories import HouseholdFactory, PersonFactory
from tests.inspections.conftest import jpeg_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 800, "height": 1280}


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", dwellings=120, allow_production=True, verbosity=0)
    call_command("seed_inspections_demo", allow_production=True, verbosity=0)


@pytest.fixture
def tablet(chromium):
    context = chromium.new_context(locale="fr-FR", viewport=TABLET, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def login(page, live_server, username):
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/")
    page.get_by_label("Nom d’utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")


def shot(page, name):
    from tests.browser.conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"edl-{name}.png"), full_page=True)


def draw(page, selector):
    box = page.locator(selector).bounding_box()
    x, y = box["x"] + 30, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(x + step * 25, y + (15 if step % 2 else -15))
    page.mouse.up()


def go_through_rooms(page, live_server, inspection, *, condition, poor=None):
    for room in inspection.rooms.order_by("position"):
        page.goto(f"{live_server.url}/etats-des-lieux/pieces/{room.pk}/")
        for element in room.elements.order_by("position"):
            label = "Mauvais état" if poor == (room.name, element.label) else condition
            page.locator(f'label[for="c-{element.pk}-{_code(label)}"]').click()
        page.get_by_role("button", name="Enregistrer la pièce").click()
        page.get_by_text("Pièce enregistrée à").wait_for()


def _code(label):
    return {"Neuf": "new", "Bon état": "good", "Usure normale": "fair", "Mauvais état": "poor"}[label]


def details_and_sign(page, live_server, inspection, *, new_address=""):
    page.goto(f"{live_server.url}/etats-des-lieux/{inspection.pk}/")
    page.get_by_label("Électricité (kWh)").fill("4521")
    page.get_by_label("Eau (m³)").fill("120,5")
    page.get_by_label("Clé de la porte d'entrée").fill("3")
    page.get_by_label("Clé de boîte aux lettres").fill("1")
    if new_address:
        page.get_by_label("Nouvelle adresse du locataire").fill(new_address)
    page.get_by_role("button", name="Enregistrer les relevés et les clés").click()
    page.get_by_text("Enregistré", exact=True).wait_for()
    page.get_by_role("link", name="Signatures").click()
    page.get_by_label("Nom du signataire (locataire)").fill("Nina NOUVEAU")
    draw(page, "#pad-tenant")
    draw(page, "#pad-agent")
    page.get_by_role("button", name="Signer et figer l'état des lieux").click()


def test_entry_notice_exit_settlement_on_a_tablet(demo, tablet, live_server):
    page = tablet
    today = timezone.localdate()
    dwelling = (
        Dwelling.objects.filter(status=DwellingStatus.VACANT, building__estate__agency__code="SA")
        .order_by("reference")
        .first()
    )
    household = HouseholdFactory(agency=dwelling.building.estate.agency)
    PersonFactory(household=household, last_name="Nouveau", first_name="Nina", role="titulaire")

    # 1. Chargé de clientèle: new entry (draft lease), signature with the deposit call, appointment.
    login(page, live_server, "clientele.seine")
    page.goto(f"{live_server.url}/etats-des-lieux/nouvelle-entree/")
    page.get_by_label("Logement vacant (référence)").fill(dwelling.reference)
    page.get_by_label("N° du ménage").fill(str(household.pk))
    page.get_by_label("Date d'effet du bail").fill(today.strftime("%d/%m/%Y"))
    page.get_by_role("button", name="Créer le bail en projet").click()
    page.wait_for_url(re.compile(r"/baux/\d+/entree/$"))
    lease = Lease.objects.get(dwelling=dwelling, household=household)
    page.get_by_role("button", name="Enregistrer la signature et appeler le dépôt de garantie").click()
    page.get_by_text("Dépôt de garantie de").first.wait_for()
    page.locator("#id_rdv-day").fill(today.strftime("%d/%m/%Y"))
    page.locator("#id_rdv-agent").select_option(label="Loïc Le Gall")
    page.get_by_role("button", name="Planifier le rendez-vous").click()
    page.get_by_role("link", name="Ouvrir l'état des lieux").wait_for()
    shot(page, "1-entree")

    # 2. Agent d'état des lieux: entry EDL room by room, a photo, meters, keys, two signatures.
    entry = Inspection.objects.get(lease=lease, kind=InspectionKind.ENTRY)
    login(page, live_server, "edl.seine")
    go_through_rooms(page, live_server, entry, condition="Bon état")
    first_room = entry.rooms.order_by("position").first()
    page.goto(f"{live_server.url}/etats-des-lieux/pieces/{first_room.pk}/")
    page.set_input_files(
        "#photo-input", files=[{"name": "sejour.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}]
    )
    page.get_by_role("button", name="Ajouter la photo").click()
    page.locator("img.photo-thumb").first.wait_for()
    shot(page, "2-piece")
    details_and_sign(page, live_server, entry)
    page.get_by_text("signé : le document est figé").wait_for()
    entry.refresh_from_db()
    lease.refresh_from_db()
    assert entry.status == InspectionStatus.SIGNED and entry.tenant_signature and entry.agent_signature
    assert lease.status == LeaseStatus.ACTIVE
    assert lease.account.entries.get(kind=EntryKind.DEPOSIT).debit == lease.deposit
    shot(page, "3-edl-entree-signe")

    # 3. Chargé de clientèle: the notice (job loss: 1 month), then the exit appointment.
    login(page, live_server, "clientele.seine")
    page.goto(f"{live_server.url}/etats-des-lieux/baux/{lease.pk}/sortie/")
    page.get_by_label("Congé reçu le").fill(today.strftime("%d/%m/%Y"))
    page.get_by_label("Motif invoqué").select_option(label="Perte d'emploi")
    page.get_by_role("button", name="Enregistrer le congé").click()
    ends_on = today + relativedelta(months=1)
    assert page.locator("#notice-end").inner_text() == ends_on.strftime("%d/%m/%Y")
    page.locator("#id_rdv-kind").select_option(label="État des lieux de sortie")
    page.locator("#id_rdv-day").fill(today.strftime("%d/%m/%Y"))
    page.locator("#id_rdv-agent").select_option(label="Loïc Le Gall")
    page.get_by_role("button", name="Planifier").click()
    page.get_by_role("link", name="État des lieux de sortie").wait_for()
    shot(page, "4-conge")

    # 4. Agent: exit EDL pre-filled from the entry; one degradation; new address; signatures.
    exit_ = Inspection.objects.get(lease=lease, kind=InspectionKind.EXIT)
    assert exit_.entry_id == entry.pk
    login(page, live_server, "edl.seine")
    walls = ("Séjour", "Murs (peinture)")
    go_through_rooms(page, live_server, exit_, condition="Usure normale", poor=walls)
    page.goto(f"{live_server.url}/etats-des-lieux/{exit_.pk}/comparaison/")
    assert "1 dégradation" in page.locator("#comparison-verdict").inner_text()
    shot(page, "5-comparaison")
    details_and_sign(page, live_server, exit_, new_address="4 rue des Acacias, 78000 Versailles")
    page.wait_for_url(re.compile(r"/etats-des-lieux/decomptes/\d+/$"))
    settlement = Settlement.objects.get(lease=lease)
    deadline = today + relativedelta(months=2)
    assert page.locator("#deadline").inner_text() == deadline.strftime("%d/%m/%Y")
    assert page.locator("#days-left").inner_text().startswith(str((deadline - today).days))

    # 5. The agent prices the degradation from the bordereau (new paint: no vétusté yet).
    line = settlement.lines.get(kind="repair")
    page.locator(f"#line-{line.pk} select").first.select_option(
        value=str(RepairPrice.objects.get(code="peinture_murs").pk)
    )
    page.locator(f"#line-{line.pk}").get_by_role("button", name="Chiffrer").click()
    page.get_by_text("chiffrée").wait_for()
    line.refresh_from_db()
    assert line.amount == Decimal("1000.00")
    shot(page, "6-chiffrage")

    # 6. The chargé de clientèle closes the settlement: posted on the ledger.
    login(page, live_server, "clientele.seine")
    page.goto(f"{live_server.url}{settlement.get_absolute_url()}")
    page.get_by_role("button", name="Arrêter le décompte et comptabiliser").click()
    page.get_by_text("Décompte arrêté et comptabilisé").wait_for()
    ledger = page.locator("#ledger").inner_text()
    deposit = lease.deposit
    assert "Dépôt de garantie imputé au décompte de sortie" in ledger
    assert "Réparation : Séjour — Murs (peinture)" in ledger
    assert f"{deposit:.2f}".replace(".", ",") in ledger
    assert "1\xa0000,00" in ledger
    settlement.refresh_from_db()
    lease.refresh_from_db()
    assert settlement.status == "posted"
    assert lease.status == LeaseStatus.ENDED and lease.ends_on == ends_on
    assert lease.dwelling.status == DwellingStatus.VACANT
    assert lease.account.balance == settlement.balance_after
    shot(page, "7-decompte")
    assert timedelta(0) <= (settlement.deadline - today)
