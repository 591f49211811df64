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
    declared = {m._meta.label_lower: spec for m, spec in privacy.personal_models() if spec.get("subject")}
    assert set(by_model) == set(declared)
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
