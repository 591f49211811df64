"""The access right (RELIABILITY.md DP-4): a person's data as a readable PDF and as JSON, from a
permission-checked view and from a command; every declared field of every record reached is in it."""

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from pypdf import PdfReader

from billing.models import SepaMandate
from tenancies import privacy
from tenancies.models import ReadLog

IBAN = "FR7630006000011234567890189"


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def person(world):
    territory = world["A"]
    SepaMandate.objects.create(
        account=territory.account,
        rum="RUM-EXPORT-1",
        signed_on=date(2024, 3, 1),
        debtor_name="Hélène Durandal",
        iban=IBAN,
        bic="AGRIFRPPXXX",
    )
    return territory.person


def test_export_covers_every_declared_field(person, world):
    export = privacy.export_person(person)
    by_model = {s["model"]: s for s in export["sections"]}
    declared = {m._meta.label_lower: spec for m, spec in privacy.personal_models()}
    assert set(by_model) == privacy.exported_models()
    for label in ("tenancies.person", "tenancies.lease", "billing.account", "billing.rentnotice", "billing.payment"):
        assert by_model[label]["rows"], f"{label}: nothing exported"
    for label, section in by_model.items():
        for row in section["rows"]:
            assert set(row) == {"id", *declared[label]["fields"]}
    (me,) = by_model["tenancies.person"]["rows"]
    assert (me["last_name"], me["first_name"], me["phone"]) == ("Durandal", "Hélène", "06 11 22 33 44")
    assert by_model["billing.sepamandate"]["rows"][0]["iban"] == IBAN
    # Nothing about the other agency's tenant.
    assert "Zyxcanari" not in json.dumps(export, ensure_ascii=False)


def test_agent_downloads_the_pdf_and_the_json(client, agent, person, world):
    client.force_login(agent)
    response = client.get(reverse("tenancies:person_export_pdf", args=[person.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    text = pdf_text(response.content).replace("\u202f", " ").replace("\xa0", " ")
    for expected in (
        "Données personnelles détenues sur Hélène Durandal",
        "06 11 22 33 44",
        IBAN,
        "412,50 €",
        "Conservation",
    ):
        assert expected in text, expected
    assert "Zyxcanari" not in text

    response = client.get(reverse("tenancies:person_export_json", args=[person.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["X-Content-Type-Options"] == "nosniff"
    data = json.loads(response.content)
    assert data["format"] == "locatif.person-export/1" and data["person"]["id"] == person.pk
    # Each export is in the read log, without personal data.
    logs = ReadLog.objects.filter(record_type="tenancies.person", record_id=person.pk)
    assert sorted(logs.values_list("purpose", flat=True)) == ["export_rgpd_json", "export_rgpd_pdf"]


def test_other_agency_and_other_roles_get_nothing(client, other_agency_agent, inspector, person):
    client.force_login(other_agency_agent)
    assert client.get(reverse("tenancies:person_export_pdf", args=[person.pk])).status_code == 404
    assert client.get(reverse("tenancies:person_export_json", args=[person.pk])).status_code == 404
    client.force_login(inspector)  # sees tenants, does not manage leases
    assert client.get(reverse("tenancies:person_export_json", args=[person.pk])).status_code == 403


def test_command_writes_both_files(person, tmp_path):
    out = io.StringIO()
    call_command("export_person_data", person.pk, out=str(tmp_path), stdout=out)
    data = json.loads((tmp_path / f"donnees-personnelles-{person.pk}.json").read_text())
    assert data["person"]["name"] == "Hélène Durandal"
    text = pdf_text((tmp_path / f"donnees-personnelles-{person.pk}.pdf").read_bytes())
    assert "Durandal" in text and Decimal("412.50") and "enregistrements" in out.getvalue()


# --- Every app's records about the person -----------------------------------------------------


@pytest.fixture
def everywhere(person, world, agent):
    """The person seeded in every app: a demand (found by name and birth date) with a household
    member and an income, examined by the CALEOL (decision, offer); an exit EDL and its
    settlement; an arrears case with a plan and a litigation step."""
    from datetime import datetime, timedelta

    from django.utils import timezone

    from applications.committee.models import AgendaItem, Candidature, Decision, Offer, Session
    from applications.models import Application, ApplicationPerson, Income
    from arrears.models import ArrearsCase, CaseTransition, LitigationStep, RepaymentPlan
    from inspections.models import Inspection, Settlement
    from tests.factories import DwellingFactory

    territory = world["A"]
    application = Application.objects.create(
        agency=territory.agency,
        local_number="L-EXPORT-0042",
        status="presented",
        first_registered_on=date(2025, 2, 1),
        expires_on=date(2027, 2, 1),
        housing_situation="social_tenant",
        social_notes="Séparation en cours",
    )
    ApplicationPerson.objects.create(
        application=application,
        relationship="applicant",
        last_name=person.last_name,
        first_name=person.first_name,
        birth_date=person.birth_date,
    )
    child = ApplicationPerson.objects.create(
        application=application,
        relationship="child",
        last_name="Durandal",
        first_name="Lucien",
        birth_date=date(2015, 4, 2),
    )
    Income.objects.create(person=child, source="family", monthly_amount=Decimal("187.35"))
    other = Application.objects.create(  # a namesake born another day: not hers
        agency=territory.agency,
        local_number="L-EXPORT-HOMONYME",
        first_registered_on=date(2025, 2, 1),
        expires_on=date(2027, 2, 1),
        housing_situation="hosted",
    )
    ApplicationPerson.objects.create(
        application=other,
        relationship="applicant",
        last_name=person.last_name,
        first_name=person.first_name,
        birth_date=date(1950, 1, 1),
    )
    elsewhere = Application.objects.create(  # her, filed with agency B: agency B answers for it
        agency=world["B"].agency,
        local_number="L-EXPORT-HOMONYME-B",
        first_registered_on=date(2025, 2, 1),
        expires_on=date(2027, 2, 1),
        housing_situation="hosted",
    )
    ApplicationPerson.objects.create(
        application=elsewhere,
        relationship="applicant",
        last_name=person.last_name,
        first_name=person.first_name,
        birth_date=person.birth_date,
    )
    now = timezone.make_aware(datetime(2026, 10, 1, 9))
    session = Session.objects.create(
        agency=territory.agency, held_on=date(2026, 10, 1), opens_at=now, closes_at=now + timedelta(days=1), quorum=1
    )
    item = AgendaItem.objects.create(session=session, dwelling=DwellingFactory(building=territory.building))
    candidature = Candidature.objects.create(
        item=item,
        application=application,
        rank=1,
        monthly_resources=Decimal("1843.27"),
        housing_cost=Decimal("412.50"),
        apl_estimate=Decimal("0.00"),
        consumption_units=Decimal("1.50"),
    )
    Decision.objects.create(
        candidature=candidature, kind="attribution", rank=1, decided_by=agent, reasons="Taux d'effort acceptable"
    )
    Offer.objects.create(
        candidature=candidature,
        sent_on=date(2026, 10, 2),
        received_on=date(2026, 10, 3),
        deadline=date(2026, 10, 13),
        refusal_reason="Trop loin de l'école",
    )
    edl = Inspection.objects.create(
        lease=territory.lease,
        agency=territory.agency,
        kind="exit",
        scheduled_at=timezone.make_aware(datetime(2026, 11, 2, 9)),
        agent=agent,
        new_address="7 allée des Tilleuls, 78711 Mantes-la-Ville",
    )
    Settlement.objects.create(
        lease=territory.lease,
        exit_inspection=edl,
        keys_returned_on=date(2026, 11, 2),
        matches_entry=False,
        deadline=date(2027, 1, 2),
        deposit=Decimal("398.76"),
        monthly_rent=Decimal("412.50"),
        prepared_by=agent,
    )
    case = ArrearsCase.objects.create(
        account=territory.account,
        lease=territory.lease,
        opened_on=date(2026, 9, 15),
        debt_at_opening=Decimal("664.55"),
        next_action="Mise en demeure",
    )
    RepaymentPlan.objects.create(
        case=case,
        debt=Decimal("664.55"),
        monthly_instalment=Decimal("55.38"),
        first_due_on=date(2026, 12, 5),
        months=12,
        monthly_rent=Decimal("497.05"),
        proposed_on=date(2026, 11, 1),
    )
    CaseTransition.objects.create(case=case, to_status="litigation", on=date(2026, 11, 9), reason="Passage validé")
    LitigationStep.objects.create(
        case=case, kind="commandement_payer", position=1, done_on=date(2026, 11, 10), debt=Decimal("664.55")
    )
    return person


def test_export_reaches_every_app(client, agent, everywhere):
    export = privacy.export_person(everywhere)
    rows = {s["model"]: s["rows"] for s in export["sections"]}
    assert [r["local_number"] for r in rows["applications.application"]] == ["L-EXPORT-0042"]
    assert sorted(r["first_name"] for r in rows["applications.applicationperson"]) == ["Hélène", "Lucien"]
    assert [r["monthly_amount"] for r in rows["applications.income"]] == ["187.35"]
    assert [r["reasons"] for r in rows["committee.decision"]] == ["Taux d'effort acceptable"]
    assert [r["refusal_reason"] for r in rows["committee.offer"]] == ["Trop loin de l'école"]
    assert [r["monthly_resources"] for r in rows["committee.candidature"]] == ["1843.27"]
    assert [r["new_address"] for r in rows["inspections.inspection"]] == ["7 allée des Tilleuls, 78711 Mantes-la-Ville"]
    assert [r["deposit"] for r in rows["inspections.settlement"]] == ["398.76"]
    assert [r["debt_at_opening"] for r in rows["arrears.arrearscase"]] == ["664.55"]
    assert [r["monthly_instalment"] for r in rows["arrears.repaymentplan"]] == ["55.38"]
    assert [r["kind"] for r in rows["arrears.litigationstep"]] == ["Commandement de payer"]
    assert "HOMONYME" not in json.dumps(export)

    client.force_login(agent)
    response = client.get(reverse("tenancies:person_export_pdf", args=[everywhere.pk]))
    assert response.status_code == 200
    text = " ".join(pdf_text(response.content).replace("\u202f", " ").replace("\xa0", " ").split())
    for expected in (
        "L-EXPORT-0042",  # applications
        "Lucien",
        "187,35 €",
        "Taux d'effort acceptable",  # committee
        "Trop loin de l'école",
        "1 843,27 €",
        "7 allée des Tilleuls",  # inspections
        "398,76 €",
        "664,55 €",  # arrears
        "55,38 €",
        "Commandement de payer",
        "Vers Contentieux",  # a status code printed with its label
        "Changements de statut",  # French titles, not the model names
    ):
        assert expected in text, expected
    assert "HOMONYME" not in text
    data = json.loads(client.get(reverse("tenancies:person_export_json", args=[everywhere.pk])).content)
    assert {s["model"] for s in data["sections"]} == privacy.exported_models()
