"""Arrears end to end in Chromium: an account falls behind, the detection opens a case, the ladder
sends its letters, a plan is agreed then broken, the CAF report is tracked and the case goes to
litigation with every deadline right to the day. The calendar moves with time_machine (the live
server runs in this process); the daily jobs run through their management commands."""

import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from arrears.models import ArrearsCase, CafReport, PlanStatus
from billing.batch import start_run
from billing.models import HousingBenefit
from tenancies.roles import Role
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
PASSWORD = "Mot-de-passe-test-2026"
PARIS = ZoneInfo("Europe/Paris")


class Clock:
    def __init__(self):
        self.traveller = None

    def at(self, day: date):
        if self.traveller:
            self.traveller.stop()
        self.traveller = time_machine.travel(datetime(day.year, day.month, day.day, 9, 0, tzinfo=PARIS), tick=True)
        self.traveller.start()

    def stop(self):
        if self.traveller:
            self.traveller.stop()


@pytest.fixture
def clock():
    c = Clock()
    yield c
    c.stop()


def bill(period: date, today: date):
    run, _ = start_run(period=period, today=today, dispatch=False)
    from billing.batch import process_chunk

    for chunk_id in run.chunks.values_list("id", flat=True):
        process_chunk(chunk_id)


def login(page, live_server, username):
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/")
    page.get_by_label("Nom d’utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")


def open_case(page, live_server, case):
    page.goto(f"{live_server.url}/impayes/dossiers/{case.pk}/")


def send_rung(page, label):
    page.locator("#case-ladder tr", has_text=label).get_by_role("button", name="Envoyer").click()
    page.wait_for_load_state()
    assert f"« {label} » enregistrée" in page.locator(".alert-success").inner_text()


def litigation(page, kind_label, done_on, **extra):
    form = page.locator('form[data-action="litigation"]')
    form.get_by_label("Étape").select_option(label=kind_label)
    form.get_by_label("Date de l'acte").fill(done_on)
    if "prefet" in extra:
        form.get_by_label("Notifiée au préfet le (assignation)").fill(extra["prefet"])
    if extra.get("termination"):
        form.get_by_label("Résiliation du bail prononcée (jugement)").check()
    form.get_by_role("button", name="Enregistrer l'étape").click()
    page.wait_for_load_state()


def row(page, kind):
    return page.locator(f'#case-litigation tr[data-kind="{kind}"]').inner_text()


def test_arrears_from_detection_to_litigation(world, page, live_server, screenshot, clock):
    a = world["A"]
    UserFactory(username="recouvrement", roles=[Role.CHARGE_PRECONTENTIEUX], agencies_list=[a.agency])
    UserFactory(username="apl", roles=[Role.AGENT_APL], agencies_list=[a.agency])
    UserFactory(username="responsable", roles=[Role.RESPONSABLE_AGENCE], agencies_list=[a.agency])
    # From December the CAF pays 177,05 € of APL: 497,05 − 177,05 = 320,00 € net a month.
    HousingBenefit.objects.create(
        lease=a.lease,
        valid_from=date(2026, 12, 1),
        apl_amount=Decimal("177.05"),
        source="caf",
        allocataire_number="7654321",
    )
    bill(date(2026, 12, 1), date(2026, 12, 1))

    # 1. The account falls behind: November (297,05 € left) is unpaid after the 10th of December.
    clock.at(date(2026, 12, 11))
    call_command("detect_arrears", verbosity=0)
    case = ArrearsCase.objects.get(account=a.account)
    login(page, live_server, "recouvrement")
    page.goto(f"{live_server.url}/impayes/")
    queue = page.locator("#arrears-queue").inner_text()
    assert "297,05" in queue and "Zyxcanari" not in queue  # agency B's case is not in A's queue
    page.get_by_role("link", name=f"n° {case.pk}").click()
    page.wait_for_url(re.compile(rf"/impayes/dossiers/{case.pk}/$"))
    assert "Dossier ouvert par la détection : impayé de 297,05 €" in page.locator("#case-timeline").inner_text()
    assert page.locator("#case-balance").inner_text() == "617,05\xa0€"

    # 2. The ladder: a rung skipped is refused, then the first and second reminders go out.
    page.locator("#case-ladder tr", has_text="Deuxième relance").get_by_role("button", name="Envoyer").click()
    page.wait_for_load_state()
    assert "Étape sautée : « Première relance » doit être envoyée avant « Deuxième relance »" in page.content()
    send_rung(page, "Première relance")
    assert page.locator("#case-next-deadline").inner_text() == "26/12/2026"
    letter = page.locator("#case-ladder tr", has_text="Première relance").get_by_role("link", name="courrier")
    response = page.request.get(live_server.url + letter.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    clock.at(date(2026, 12, 26))
    login(page, live_server, "recouvrement")
    open_case(page, live_server, case)
    send_rung(page, "Deuxième relance")
    screenshot("arrears-ladder")

    # 3. A plan is agreed: a wrong schedule is refused, then 617,05 € in 3 months of 210 €.
    page.locator("summary", has_text="Proposer un plan").click()
    plan_form = page.locator('form[data-action="plan"]')
    plan_form.get_by_label("Dette").fill("617,05")
    plan_form.get_by_label("Mensualité (en plus du loyer courant)").fill("210,00")
    plan_form.get_by_label("Première échéance").fill("10/01/2027")
    plan_form.get_by_label("Durée (mois)").fill("2")
    plan_form.get_by_role("button", name="Proposer le plan").click()
    page.wait_for_load_state()
    assert "ne couvrent pas la dette de 617,05" in page.content()
    plan_form = page.locator('form[data-action="plan"]')
    plan_form.get_by_label("Durée (mois)").fill("3")
    plan_form.get_by_role("button", name="Proposer le plan").click()
    page.wait_for_load_state()
    assert "Plan d'apurement proposé (3 mois)" in page.content()
    assert "10/03/2027 : 197,05" in page.locator(".plan").inner_text()
    page.get_by_role("button", name="Signé par le locataire").click()
    page.wait_for_load_state()
    assert page.locator("#case-status").inner_text() == "Plan d'apurement en cours"

    # 4. January is billed, nothing is paid: the monthly check breaks the plan → next step.
    bill(date(2027, 1, 1), date(2027, 1, 1))
    clock.at(date(2027, 2, 11))
    call_command("check_repayment_plans", verbosity=0)
    call_command("detect_arrears", verbosity=0)
    assert case.plans.get().status == PlanStatus.BROKEN
    login(page, live_server, "recouvrement")
    open_case(page, live_server, case)
    assert page.locator("#case-status").inner_text() == "Pré-contentieux"
    assert "Plan d'apurement rompu" in page.locator("#case-timeline").inner_text()
    assert page.locator("#case-next-action").inner_text().startswith("Mise en demeure")

    # 5. CAF: the impayé reached 2 × 320,00 € on 05/02/2027; report due by 05/04/2027; the agent APL sends it.
    report = CafReport.objects.get(case=case)
    assert (report.threshold, report.reached_on, report.due_by) == (
        Decimal("640.00"),
        date(2027, 2, 5),
        date(2027, 4, 5),
    )
    login(page, live_server, "apl")
    open_case(page, live_server, case)
    assert page.locator(".caf-due").inner_text() == "05/04/2027"
    page.get_by_role("button", name="Signalé à la CAF").click()
    page.wait_for_load_state()
    assert "signalé le 11/02/2027" in page.locator(".caf-report").inner_text()
    # The report counts as the CCAPEX referral: no assignation before Monday 12/04/2027.
    assert page.locator("#assignation-earliest").inner_text() == "12/04/2027"
    screenshot("arrears-caf")

    # 6. End of the ladder, handover asked by the chargé and approved by the responsable d'agence.
    login(page, live_server, "recouvrement")
    open_case(page, live_server, case)
    send_rung(page, "Mise en demeure")
    clock.at(date(2027, 2, 21))
    login(page, live_server, "recouvrement")
    open_case(page, live_server, case)
    send_rung(page, "Invitation à rencontrer la conseillère sociale")
    page.get_by_role("button", name="Demander le passage au contentieux").click()
    page.wait_for_load_state()
    login(page, live_server, "responsable")
    open_case(page, live_server, case)
    page.get_by_role("button", name="Approuver le passage au contentieux").click()
    page.wait_for_load_state()
    assert page.locator("#case-status").inner_text() == "Contentieux"

    # 7. Litigation, every deadline to the day.
    clock.at(date(2027, 3, 1))
    login(page, live_server, "recouvrement")
    open_case(page, live_server, case)
    litigation(page, "Commandement de payer", "01/03/2027")
    assert "réglée à la fin du 12/04/2027 (6 semaines)" in row(page, "commandement_payer")
    assert "Au plus tôt le 13/04/2027" in row(page, "assignation")
    clock.at(date(2027, 4, 14))
    login(page, live_server, "recouvrement")
    open_case(page, live_server, case)
    litigation(page, "Assignation", "12/04/2027")
    assert "ne peut pas être daté avant le 13/04/2027" in page.content()
    litigation(page, "Assignation", "13/04/2027", prefet="14/04/2027")
    assert "Audience au plus tôt le 26/05/2027" in row(page, "assignation")
    litigation(page, "Audience", "01/06/2027")
    clock.at(date(2027, 6, 15))
    login(page, live_server, "recouvrement")
    open_case(page, live_server, case)
    litigation(page, "Jugement", "15/06/2027", termination=True)
    clock.at(date(2027, 9, 1))
    login(page, live_server, "recouvrement")
    open_case(page, live_server, case)
    litigation(page, "Commandement de quitter les lieux", "01/09/2027")
    # 2 months run to 01/11/2027, in the winter truce: eviction from 01/04/2028.
    assert "Expulsion possible au plus tôt le 01/04/2028" in row(page, "commandement_quitter")
    screenshot("arrears-litigation")
