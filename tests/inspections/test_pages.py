"""The pages: response, database after, and the refused user."""

from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from billing.models import EntryKind
from inspections import services
from inspections.models import Condition, Inspection, InspectionKind, InspectionStatus, Notice, Photo, Settlement
from tenancies.models import Lease, LeaseStatus

from .conftest import SIGNATURE, jpeg_bytes
from .test_flow import at, fill

NOW = timezone.make_aware(datetime(2026, 11, 24, 9))


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def pdf_text(content: bytes) -> str:
    import io

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_new_entry_creates_a_draft_lease(client, agent, vacant, newcomers):
    client.force_login(agent)
    url = reverse("inspections:move_in_new")
    response = client.post(url, {"dwelling": "aaa-lgt-0002", "household": newcomers.pk, "starts_on": "01/12/2026"})
    lease = Lease.objects.get(dwelling=vacant)
    assert response.status_code == 302 and response["Location"] == reverse("inspections:move_in", args=[lease.pk])
    assert (lease.status, lease.rent, lease.deposit) == (LeaseStatus.DRAFT, Decimal("420.00"), Decimal("420.00"))


def test_new_entry_bad_input_in_french_and_nothing_saved(client, agent, world, newcomers, vacant):
    client.force_login(agent)
    url = reverse("inspections:move_in_new")
    response = client.post(
        url, {"dwelling": world["A"].dwelling.reference, "household": 999999, "starts_on": "31/02/2026"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "n&#x27;est pas vacant" in body or "n'est pas vacant" in body
    assert "Aucun ménage de vos agences" in body
    assert "jj/mm/aaaa" in body
    response = client.post(url, {"dwelling": "BBB-LGT-0001", "household": newcomers.pk, "starts_on": "01/12/2026"})
    assert "Aucun logement de vos agences" in response.content.decode()
    assert not Lease.objects.filter(status=LeaseStatus.DRAFT).exists()


def test_inspector_cannot_create_a_lease(client, inspector):
    client.force_login(inspector)
    assert client.get(reverse("inspections:move_in_new")).status_code == 403


def test_sign_the_lease_calls_the_deposit(client, agent, vacant, newcomers):
    lease = services.move_in_create(dwelling=vacant, household=newcomers, starts_on=date(2026, 12, 1), by=agent)
    client.force_login(agent)
    url = reverse("inspections:move_in", args=[lease.pk])
    assert client.post(url, {"action": "sign", "signed_on": "25/11/2026"}).status_code == 400  # in the future
    response = client.post(url, {"action": "sign", "signed_on": "24/11/2026"})
    assert response.status_code == 302
    lease.refresh_from_db()
    assert lease.status == LeaseStatus.SIGNED
    assert lease.account.entries.get(kind=EntryKind.DEPOSIT).debit == Decimal("420.00")
    contract = client.get(reverse("inspections:lease_contract", args=[lease.pk]))
    text = pdf_text(contract.content)
    assert "420,00" in text and "24/11/2026" in text and "Diagnostic de performance énergétique" in text


@pytest.fixture
def exit_edl(world, agent, inspector):
    return services.inspection_schedule(
        lease=world["A"].lease, kind=InspectionKind.EXIT, scheduled_at=at(date(2026, 11, 24)), agent=inspector, by=agent
    )


def test_room_saved_alone_with_htmx(client, inspector, exit_edl):
    client.force_login(inspector)
    room = exit_edl.rooms.get(name="Cuisine")
    data = {f"condition-{e.pk}": Condition.GOOD for e in room.elements.all()}
    data["room_comment"] = "Odeur de tabac"
    response = client.post(reverse("inspections:room_edit", args=[room.pk]), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Pièce enregistrée" in response.content.decode()
    room.refresh_from_db()
    assert room.saved_at and room.comment == "Odeur de tabac"
    assert set(room.elements.values_list("condition", flat=True)) == {Condition.GOOD}
    assert not exit_edl.rooms.exclude(pk=room.pk).filter(saved_at__isnull=False).exists()
    exit_edl.refresh_from_db()
    assert exit_edl.status == InspectionStatus.IN_PROGRESS
    bad = {f"condition-{room.elements.first().pk}": "excellent"}
    response = client.post(reverse("inspections:room_edit", args=[room.pk]), bad, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "État inconnu" in response.content.decode()
    assert set(room.elements.values_list("condition", flat=True)) == {Condition.GOOD}


def test_chargé_de_clientèle_cannot_edit_a_room(client, agent, exit_edl):
    client.force_login(agent)
    room = exit_edl.rooms.first()
    assert client.post(reverse("inspections:room_edit", args=[room.pk]), {}).status_code == 403


def test_photo_upload_and_permission_checked_serving(client, inspector, exit_edl, other_agency_agent):
    client.force_login(inspector)
    room = exit_edl.rooms.first()
    url = reverse("inspections:photo_upload", args=[room.pk])
    response = client.post(url, {"photo": SimpleUploadedFile("a.jpg", jpeg_bytes())}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    response = client.post(url, {"photo": SimpleUploadedFile("a.jpg", b"GIF89a....")}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "Type de fichier refusé" in response.content.decode()
    photo = Photo.objects.get()
    served = client.get(reverse("inspections:photo", args=[photo.pk]))
    assert served["Content-Type"] == "image/jpeg" and served["X-Content-Type-Options"] == "nosniff"
    client.force_login(other_agency_agent)
    assert client.get(reverse("inspections:photo", args=[photo.pk])).status_code == 404


def test_sign_page_refuses_incomplete_then_signs(
    client, inspector, exit_edl, world, django_capture_on_commit_callbacks
):
    client.force_login(inspector)
    url = reverse("inspections:inspection_sign", args=[exit_edl.pk])
    data = {"tenant_signatory": "H. Durandal", "tenant_signature": SIGNATURE, "agent_signature": SIGNATURE}
    response = client.post(url, data)
    assert response.status_code == 400 and "incomplet" in response.content.decode()
    fill(exit_edl, inspector, poor={("Séjour", "Murs (peinture)")})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    settlement = Settlement.objects.get(lease=world["A"].lease)
    assert response.status_code == 302 and response["Location"] == settlement.get_absolute_url()
    exit_edl.refresh_from_db()
    assert exit_edl.status == InspectionStatus.SIGNED and exit_edl.pdf
    text = pdf_text(client.get(reverse("inspections:inspection_pdf", args=[exit_edl.pk])).getvalue())
    for mention in (
        "État des lieux de sortie",
        "Localisation du logement",
        "Nouvelle adresse",
        "Électricité",
        "Clé de la porte",
        "Séjour",
        "aucun état des lieux d'entrée",
    ):
        assert mention in text, mention
    comparison = client.get(reverse("inspections:comparison", args=[exit_edl.pk])).content.decode()
    assert (
        "Aucun état des lieux d&#x27;entrée signé" in comparison or "Aucun état des lieux d'entrée signé" in comparison
    )
    page = client.get(settlement.get_absolute_url()).content.decode()
    assert "24/01/2027" in page  # 24/11/2026 + 2 months


def test_notice_page_and_letter(client, agent, world, inspector):
    client.force_login(inspector)
    url = reverse("inspections:move_out", args=[world["A"].lease.pk])
    assert (
        client.post(
            url, {"action": "notice", "conge-received_on": "10/11/2026", "conge-reason": "standard"}
        ).status_code
        == 403
    )
    client.force_login(agent)
    response = client.post(url, {"action": "notice", "conge-received_on": "01/01/2024", "conge-reason": "standard"})
    assert response.status_code == 400 and "précéder la date d" in response.content.decode()
    assert not Notice.objects.exists()
    response = client.post(url, {"action": "notice", "conge-received_on": "10/11/2026", "conge-reason": "standard"})
    notice = Notice.objects.get()
    assert notice.ends_on == date(2027, 2, 10)
    letter = pdf_text(client.get(reverse("inspections:notice_letter", args=[notice.pk])).content)
    assert "10/11/2026" in letter and "10/02/2027" in letter and "3 mois" in letter


@pytest.fixture
def settlement(world, agent, inspector, exit_edl):
    fill(exit_edl, inspector, poor={("Séjour", "Murs (peinture)")})
    services.inspection_sign(
        inspection=exit_edl,
        tenant_signature=SIGNATURE,
        agent_signature=SIGNATURE,
        tenant_signatory="X",
        by=inspector,
        today=date(2026, 11, 24),
    )
    return Settlement.objects.get(lease=world["A"].lease)


def test_settlement_pricing_submission_approval_and_refusal(client, settlement, inspector, agent, resp, resp2):
    from inspections.models import RepairPrice

    url = settlement.get_absolute_url()
    line = settlement.lines.get(kind="repair")
    client.force_login(inspector)
    response = client.post(
        url, {"action": "price", "line": line.pk, f"l{line.pk}-quantity": "1", f"l{line.pk}-cost": "-5"}
    )
    assert response.status_code == 400
    price = RepairPrice.objects.get(code="peinture_murs")
    response = client.post(
        url,
        {
            "action": "price",
            "line": line.pk,
            f"l{line.pk}-price": price.pk,
            f"l{line.pk}-quantity": "1",
            f"l{line.pk}-renewed_on": "24/11/2021",
        },
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.amount == Decimal("460.00")  # E2.5: 5 years, 54 %
    assert client.post(url, {"action": "submit"}).status_code == 403  # the agent EDL prices, does not submit
    response = client.post(
        url,
        {
            "action": "price",
            "line": line.pk,
            f"l{line.pk}-price": price.pk,
            f"l{line.pk}-quantity": "1",
            f"l{line.pk}-override_amount": "300,00",
            f"l{line.pk}-override_reason": "Geste commercial",
        },
    )
    line.refresh_from_db()
    assert (line.amount, line.overridden) == (Decimal("300.00"), True)
    client.force_login(agent)
    client.post(url, {"action": "submit"})
    settlement.refresh_from_db()
    assert settlement.status == "pending"
    assert client.post(url, {"action": "decide_approve", "dec-note": ""}).status_code == 403
    client.force_login(resp)
    response = client.post(url, {"action": "decide_refuse", "dec-note": ""})
    assert "motif du refus" in response.content.decode()
    client.post(url, {"action": "decide_refuse", "dec-note": "Revoir la peinture"})
    settlement.refresh_from_db()
    assert (settlement.status, settlement.approval_note) == ("draft", "Revoir la peinture")
    client.force_login(agent)
    client.post(url, {"action": "submit"})
    client.force_login(resp2)
    client.post(url, {"action": "decide_approve", "dec-note": "Vu"})
    settlement.refresh_from_db()
    assert settlement.status == "posted" and settlement.approved_by == resp2
    # 297,05 − 412,50 (deposit) + 300,00 (repairs) − 99,41 (November after 24/11 given back) = 85,14 owed
    assert settlement.balance_after == Decimal("85.14")


def test_lists_are_pinned(client, inspector, settlement, django_assert_max_num_queries):
    client.force_login(inspector)
    for name in ("inspections:schedule", "inspections:awaiting_signature", "inspections:settlement_list"):
        with django_assert_max_num_queries(14):
            assert client.get(reverse(name)).status_code == 200
    page = client.get(reverse("inspections:settlement_list")).content.decode()
    assert "24/01/2027" in page and ">61<" in page  # days left from 24/11/2026


def test_schedule_filters_by_agent(client, inspector, exit_edl, world):
    client.force_login(inspector)
    page = client.get(reverse("inspections:schedule"), {"jour": "2026-11-24"}).content.decode()
    assert world["A"].dwelling.reference in page
    page = client.get(reverse("inspections:schedule"), {"jour": "2026-11-24", "agent": 999}).content.decode()
    assert world["A"].dwelling.reference in page  # unknown agent ignored
    page = client.get(reverse("inspections:schedule"), {"jour": "2026-11-23"}).content.decode()
    assert world["A"].dwelling.reference not in page
    week = client.get(reverse("inspections:schedule"), {"jour": "2026-11-23", "vue": "semaine"}).content.decode()
    assert world["A"].dwelling.reference in week


def test_household_panel_and_lease_links(client, agent, settlement, world):
    client.force_login(agent)
    fiche = client.get(world["A"].household.get_absolute_url()).content.decode()
    assert "Décompte de sortie" in fiche and "24/01/2027" in fiche
    lease_page = client.get(world["A"].lease.get_absolute_url()).content.decode()
    assert reverse("inspections:move_out", args=[world["A"].lease.pk]) in lease_page


def test_other_agency_cannot_reach_the_settlement(client, other_agency_agent, settlement):
    client.force_login(other_agency_agent)
    assert client.get(settlement.get_absolute_url()).status_code == 404
    assert Inspection.objects.count() == 1
