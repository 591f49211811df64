"""The retention job (RELIABILITY.md DP-3): records on both sides of each term, two runs, the second
changes nothing; a household with an unsettled account is kept."""

import io
from datetime import date, datetime, time
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from billing.models import Account, HousingBenefit, SepaMandate, SlsSurvey
from tenancies import privacy, services
from tenancies.models import Lease, LeaseStatus, LeaseTransition, Person, ReadLog
from tests.factories import DwellingFactory, HouseholdFactory, PersonFactory

AS_OF = date(2026, 11, 29)  # prescription: 36 months, so leases ended on or before 29/11/2023 are past it


def former_tenant(world, *, ended_on: date, balance: str = "0.00", name: str):
    territory = world["A"]
    household = HouseholdFactory(agency=territory.agency)
    person = PersonFactory(household=household, last_name=name, first_name="Paul", phone="06 00 00 00 01")
    person.email = "paul@example.fr"
    person.save()  # a second history row
    dwelling = DwellingFactory(building=territory.building)
    lease = services.lease_create(dwelling=dwelling, household=household, starts_on=date(2015, 1, 1))
    Lease.objects.filter(pk=lease.pk).update(status=LeaseStatus.ENDED, ends_on=ended_on)
    LeaseTransition.objects.create(lease=lease, from_status="active", to_status="ended", reason=f"Départ de M. {name}")
    benefit = HousingBenefit.objects.create(
        lease=lease,
        valid_from=date(2015, 1, 1),
        apl_amount=Decimal("180.00"),
        source="caf",
        allocataire_number="7654321",
    )
    benefit.apl_amount = Decimal("185.00")
    benefit.save()  # a second history row, with the number
    account = Account.objects.create(lease=lease, balance=Decimal(balance))
    SepaMandate.objects.create(
        account=account,
        rum=f"RUM-{name}",
        signed_on=date(2015, 1, 1),
        debtor_name=f"Paul {name}",
        iban="FR7630006000011234567890189",
        bic="AGRIFRPPXXX",
    )
    return person


def read_log(user, on: date):
    row = ReadLog.objects.create(user=user, record_type="tenancies.household", record_id=1, purpose="fiche")
    ReadLog.objects.filter(pk=row.pk).update(at=timezone.make_aware(datetime.combine(on, time(12))))


@pytest.fixture
def records(world, agent):
    read_log(agent, date(2025, 11, 28))  # 12 months and a day: deleted
    read_log(agent, date(2025, 11, 30))  # kept
    lease = world["A"].lease  # SLS surveys: 3 years, so sent before 29/11/2023 is past it
    SlsSurvey.objects.create(lease=lease, year=2023, sent_on=date(2023, 11, 28), household_resources=Decimal("41000"))
    SlsSurvey.objects.create(lease=lease, year=2024, sent_on=date(2023, 11, 29), household_resources=Decimal("42000"))
    return {
        "past": former_tenant(world, ended_on=date(2023, 11, 29), name="Expirus"),
        "recent": former_tenant(world, ended_on=date(2023, 11, 30), name="Recentia"),
        "owing": former_tenant(world, ended_on=date(2019, 6, 30), balance="35.00", name="Debitor"),
    }


def test_retention_job_twice(records, world):
    past, recent, owing = records["past"], records["recent"], records["owing"]
    assert Person.history.filter(id=past.pk).count() == 2
    assert privacy.expired_households(AS_OF) == [past.household_id]

    dry = privacy.run_retention(as_of=AS_OF, dry_run=True)
    assert dry["tenancies"]["person_anonymised"] == 1
    assert Person.objects.get(pk=past.pk).last_name == "Expirus"  # nothing changed

    first = privacy.run_retention(as_of=AS_OF)
    assert first["tenancies"] == {
        "person_anonymised": 1,
        "person_history_deleted": 2,
        "leasetransition_reason_blanked": 1,
        "readlog_deleted": 1,
        "axes_accesslog_deleted": 0,
        "axes_failurelog_deleted": 0,
        "axes_attempt_deleted": 0,
    }
    assert first["billing"] == {
        "sepamandate_anonymised": 1,
        "housingbenefit_number_blanked": 1,
        "housingbenefit_history_blanked": 2,
        "slssurvey_deleted": 1,
        "slssurvey_history_deleted": 1,
    }
    benefit = HousingBenefit.objects.get(lease__household=past.household)
    assert (benefit.allocataire_number, benefit.apl_amount) == ("", Decimal("185.00"))
    assert set(HousingBenefit.history.filter(id=benefit.pk).values_list("allocataire_number", flat=True)) == {""}
    assert HousingBenefit.objects.get(lease__household=recent.household).allocataire_number == "7654321"
    assert LeaseTransition.objects.get(lease__household=past.household, to_status="ended").reason == ""
    assert LeaseTransition.objects.get(lease__household=recent.household, to_status="ended").reason
    assert list(SlsSurvey.objects.values_list("year", flat=True)) == [2024]
    assert not SlsSurvey.history.filter(year=2023).exists()
    assert first == dry

    past.refresh_from_db()
    assert (past.last_name, past.first_name, past.phone, past.email, past.birth_date) == ("Anonymisé", "", "", "", None)
    assert not Person.history.filter(id=past.pk).exists()
    mandate = SepaMandate.objects.get(account__lease__household=past.household)
    assert (mandate.debtor_name, mandate.iban, mandate.bic) == ("Anonymisé", "", "")
    # The rest is untouched: within the term, an unsettled account, the current tenants, the ledger.
    for person in (recent, owing, world["A"].person, world["B"].person):
        person.refresh_from_db()
        assert person.last_name != "Anonymisé"
    assert SepaMandate.objects.filter(debtor_name="Paul Debitor", iban__startswith="FR76").exists()
    assert ReadLog.objects.count() == 1
    assert Account.objects.filter(lease__household=past.household).exists()

    second = privacy.run_retention(as_of=AS_OF)
    assert all(count == 0 for counts in second.values() for count in counts.values()), second


def test_command_prints_the_report(records):
    out = io.StringIO()
    call_command("purge_personal_data", as_of="2026-11-29", dry_run=True, stdout=out)
    text = out.getvalue()
    assert "person_anonymised" in text and "simulation" in text
    out = io.StringIO()
    call_command("purge_personal_data", as_of="2026-11-29", stdout=out)
    assert "sepamandate_anonymised" in out.getvalue()
    out = io.StringIO()
    call_command("purge_personal_data", as_of="2026-11-29", stdout=out)
    assert out.getvalue().splitlines()[-1].split()[-1] == "0"


def test_celery_task_runs_the_job(records):
    from tenancies.tasks import purge_personal_data

    report = purge_personal_data.apply().get()
    assert "tenancies" in report and "billing" in report
