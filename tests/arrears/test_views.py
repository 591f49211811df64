from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
import time_machine
from django.urls import reverse
from pypdf import PdfReader

from arrears.detection import run_detection
from arrears.models import ArrearsCase, RepaymentPlan
from tenancies.models import ReadLog


@pytest.fixture
def case(world):
    run_detection(as_of=date(2026, 12, 11))
    return ArrearsCase.objects.get(account=world["A"].account)


def pdf_text(response) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(response.content)).pages)


def test_queue_sorted_by_priority_scoped_and_pinned(client, world, case, precontentieux, django_assert_max_num_queries):
    client.force_login(precontentieux)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("arrears:queue"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Durandal" in body and "Zyxcanari" not in body
    assert "297,05" in body
    response = client.get(reverse("arrears:queue"), {"step": "3", "status": "closed"})
    assert "Aucun dossier." in response.content.decode()


def test_queue_refused_to_the_edl_agent(client, inspector):
    client.force_login(inspector)
    assert client.get(reverse("arrears:queue")).status_code == 403


@time_machine.travel("2026-12-12 10:00 +0100", tick=False)
def test_ladder_letter_from_the_case_page(client, case, precontentieux):
    client.force_login(precontentieux)
    url = reverse("arrears:case_action", args=[case.pk, "ladder"])
    response = client.post(url, {"position": "2", "on": "12/12/2026"})
    assert response.status_code == 400
    assert "Étape sautée" in response.content.decode()
    response = client.post(url, {"position": "1", "on": "12/12/2026"})
    assert response.status_code == 302
    done = case.ladder.get()
    response = client.get(reverse("arrears:case_document", args=[case.pk, done.doc_code]))
    text = pdf_text(response)
    assert "Rappel de loyer impayé" in text and "297,05" in text


@time_machine.travel("2026-12-12 10:00 +0100", tick=False)
def test_plan_form_errors_are_french_and_nothing_saved(client, case, precontentieux):
    client.force_login(precontentieux)
    url = reverse("arrears:case_action", args=[case.pk, "plan"])
    data = {"debt": "297,05", "monthly_instalment": "100", "first_due_on": "10/01/2027", "months": "3"}
    response = client.post(url, {**data, "schedule": "100\n100\n90"})
    assert response.status_code == 400
    assert "au lieu de la dette" in response.content.decode()
    response = client.post(url, {**data, "months": "abc"})
    assert response.status_code == 400 and "Saisissez un nombre entier" in response.content.decode()
    assert not RepaymentPlan.objects.exists()
    assert client.post(url, data).status_code == 302
    plan = RepaymentPlan.objects.get()
    text = pdf_text(client.get(reverse("arrears:case_document", args=[case.pk, plan.doc_code])))
    assert "Protocole de plan d'apurement" in text
    assert "97,05" in text and "10/03/2027" in text


def test_case_page_and_statement(client, case, precontentieux):
    client.force_login(precontentieux)
    response = client.get(case.get_absolute_url())
    assert response.status_code == 200
    assert "Dossier ouvert par la détection" in response.content.decode()
    text = pdf_text(client.get(reverse("arrears:case_document", args=[case.pk, "decompte"])))
    assert "Décompte de la dette locative" in text and "297,05" in text


@time_machine.travel("2026-12-12 10:00 +0100", tick=False)
def test_litigation_file_logs_its_reads_and_write_off_refused_to_requester(client, case, responsable):
    case.handover_requested_on = case.handover_approved_on = date(2026, 12, 11)
    case.status = "litigation"
    case.save()
    client.force_login(responsable)
    client.get(case.get_absolute_url())
    assert ReadLog.objects.filter(record_type="arrears.arrearscase", record_id=case.pk).count() == 1
    response = client.post(
        reverse("arrears:case_action", args=[case.pk, "writeoff_request"]),
        {"amount": "10,00", "reason": "Test", "on": "12/12/2026"},
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    wo = case.write_offs.get()
    response = client.post(
        reverse("arrears:case_action", args=[case.pk, "writeoff_decide"]),
        {"write_off": wo.pk, "decision": "approve", "on": "12/12/2026"},
    )
    assert response.status_code == 400
    assert "autre personne que son demandeur" in response.content.decode()
    wo.refresh_from_db()
    assert wo.status == "requested"


def test_chargee_de_clientele_reads_but_cannot_act(client, case, agent):
    client.force_login(agent)
    assert client.get(case.get_absolute_url()).status_code == 200
    response = client.post(
        reverse("arrears:case_action", args=[case.pk, "note"]), {"kind": "call", "on": "11/12/2026", "text": "x"}
    )
    assert response.status_code == 403


def test_household_panel_shows_the_case(client, world, case, agent):
    client.force_login(agent)
    body = client.get(world["A"].household.get_absolute_url()).content.decode()
    assert f"Dossier n° {case.pk}" in body
    assert Decimal("297.05") == case.debt_at_opening
