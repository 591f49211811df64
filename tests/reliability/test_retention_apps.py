"""The retention job across the apps (RELIABILITY.md DP-3): arrears cases on both sides of their
terms (amicable 3 years, litigation 10 years, write-offs kept anonymised for the accounting term),
a committee session past its term releasing a radiated demand in the same run, the EDL history,
the dated terms; the dry run changes nothing and reports what the real run does, to the row; a
second run changes nothing."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from applications.committee.models import AgendaItem, Candidature, Decision, Offer, Session, SessionMember, Vote
from applications.models import Application, ApplicationPerson, ApplicationStatus
from arrears.models import (
    AmicableStepDone,
    ArrearsCase,
    ArrearsSnapshot,
    CafReport,
    CaseEvent,
    CaseStatus,
    CaseTransition,
    CcapexReferral,
    FslApplication,
    LadderStep,
    LitigationStep,
    PlanInstalment,
    RepaymentPlan,
    WriteOff,
    WriteOffStatus,
)
from billing.models import Account
from inspections.models import Inspection, InspectionKind, Room, Settlement, SettlementStatus
from tenancies import privacy, services
from tenancies.models import Lease, LeaseStatus, LegalDelay, Person
from tests.factories import DwellingFactory, HouseholdFactory, PersonFactory, UserFactory

AS_OF = date(2026, 11, 29)
# Terms on AS_OF (dated LegalDelay rows): tenant file 36 months -> closed on or before 29/11/2023;
# litigation and accounting 120 months -> 29/11/2016; CALEOL 36 months -> held before 29/11/2023;
# applications 12 months -> radiated before 29/11/2025.
CHILD_MODELS = (CaseEvent, AmicableStepDone, RepaymentPlan, CafReport, FslApplication, CcapexReferral, LitigationStep)


def zeros(report):
    return not any(count for counts in report.values() for count in counts.values())


def test_terms_are_dated_rows(db):
    for retention_class, code in privacy.RETENTION_DELAYS.items():
        assert retention_class in privacy.RETENTION_CLASSES
        assert LegalDelay.objects.filter(code=code).exists(), code
    assert privacy.retention_limit("tenant_file", AS_OF) == date(2023, 11, 29)
    assert privacy.retention_limit("litigation", AS_OF) == date(2016, 11, 29)
    assert privacy.retention_limit("caleol", AS_OF) == date(2023, 11, 29)
    assert privacy.retention_limit("application", AS_OF) == date(2025, 11, 29)
    assert privacy.retention_limit("access_log", AS_OF) == date(2025, 11, 29)
    # A change of rule is a new row from its day on, not a code change.
    LegalDelay.objects.create(code="retention_caleol", valid_from=date(2026, 6, 1), months=24, label="test")
    assert privacy.retention_limit("caleol", AS_OF) == date(2024, 11, 29)
    assert privacy.retention_limit("caleol", date(2026, 5, 31)) == date(2023, 5, 31)


# --- Arrears ---------------------------------------------------------------------------------


def former_tenant(world, *, ended_on, name):
    household = HouseholdFactory(agency=world["A"].agency)
    person = PersonFactory(household=household, last_name=name)
    lease = services.lease_create(
        dwelling=DwellingFactory(building=world["A"].building), household=household, starts_on=date(2010, 1, 1)
    )
    Lease.objects.filter(pk=lease.pk).update(status=LeaseStatus.ENDED, ends_on=ended_on)
    Account.objects.create(lease=lease, balance=Decimal("0.00"))
    return person


def make_case(lease, *, closed_on=None, litigation=False, write_off_on=None, by):
    case = ArrearsCase.objects.create(
        account=Account.objects.get(lease=lease),
        lease=lease,
        status=CaseStatus.CLOSED if closed_on else CaseStatus.AMICABLE,
        opened_on=(closed_on or AS_OF) - timedelta(days=300),
        closed_on=closed_on,
        debt_at_opening=Decimal("950.00"),
        next_action="Appeler Mme Marqueur au 06 12 34 56 78",
        handover_approved_on=(closed_on - timedelta(days=200)) if litigation else None,
        handover_approved_by=by if litigation else None,
    )
    on = case.opened_on
    CaseEvent.objects.create(case=case, kind="note", on=on, text="Mme Marqueur dit être au chômage")
    AmicableStepDone.objects.create(
        case=case, step=LadderStep.objects.order_by("valid_from", "position").first(), position=1, done_on=on, debt=1
    )
    plan = RepaymentPlan.objects.create(
        case=case,
        debt=Decimal("100.00"),
        monthly_instalment=Decimal("50.00"),
        first_due_on=on,
        months=2,
        monthly_rent=Decimal("412.50"),
        proposed_on=on,
    )
    for number in (1, 2):
        PlanInstalment.objects.create(plan=plan, number=number, due_on=on, amount=Decimal("50.00"))
    CafReport.objects.create(case=case, threshold=Decimal("640.00"), reached_on=on, due_by=on, debt=Decimal("700.00"))
    FslApplication.objects.create(case=case, applied_on=on, requested_amount=Decimal("300.00"))
    CcapexReferral.objects.create(case=case, referred_on=on)
    LitigationStep.objects.create(case=case, kind="commandement_payer", position=1, done_on=on, debt=Decimal("900"))
    CaseTransition.objects.create(case=case, from_status="amicable", to_status="closed", on=on, reason="soldé")
    if write_off_on:
        WriteOff.objects.create(
            case=case,
            amount=Decimal("120.00"),
            reason="Mme Marqueur insolvable (surendettement)",
            status=WriteOffStatus.APPROVED,
            requested_on=write_off_on - timedelta(days=5),
            requested_by=by,
            decided_on=write_off_on,
            decided_by=by,
        )
    return case


def snapshot(person):
    return ArrearsSnapshot.objects.create(
        account=Account.objects.get(lease__household=person.household),
        as_of=AS_OF,
        **dict.fromkeys(
            ("balance", "overdue", "in_arrears", "bucket_0_30", "bucket_31_60", "bucket_61_90", "bucket_over_90"),
            Decimal("0.00"),
        ),
        monthly_due=Decimal("0.00"),
        months_unpaid=Decimal("0.0"),
    )


@pytest.fixture
def cases(world):
    by = UserFactory(username="recouvrement.a")
    lease = world["A"].lease
    held = former_tenant(world, ended_on=date(2019, 6, 30), name="Gardé")
    gone = former_tenant(world, ended_on=date(2015, 6, 30), name="Parti")
    snapshot(held), snapshot(gone)
    return {
        "amicable_old": make_case(lease, closed_on=date(2023, 11, 29), by=by),  # on the limit: past it
        "amicable_recent": make_case(lease, closed_on=date(2023, 11, 30), by=by),
        "litigation_recent": make_case(lease, closed_on=date(2020, 1, 15), litigation=True, by=by),
        "litigation_old": make_case(lease, closed_on=date(2016, 11, 29), litigation=True, by=by),
        "written_off": make_case(lease, closed_on=date(2020, 1, 10), write_off_on=date(2020, 1, 5), by=by),
        "written_off_old": make_case(lease, closed_on=date(2016, 1, 10), write_off_on=date(2016, 1, 5), by=by),
        "open": make_case(lease, by=by),
        "held_tenant_case": make_case(held.household.leases.get(), closed_on=date(2020, 6, 30), litigation=True, by=by),
        "gone_tenant_case": make_case(gone.household.leases.get(), closed_on=date(2016, 6, 30), litigation=True, by=by),
        "held": held,
        "gone": gone,
    }


def test_arrears_purge_by_term_with_an_exact_report(cases):
    expired = ("amicable_old", "litigation_old", "written_off", "written_off_old", "gone_tenant_case")
    kept = ("amicable_recent", "litigation_recent", "open", "held_tenant_case")
    before = {model: model.objects.count() for model in (*CHILD_MODELS, PlanInstalment, CaseTransition)}

    dry = privacy.run_retention(as_of=AS_OF, dry_run=True)
    assert ArrearsCase.objects.count() == 9 and ArrearsSnapshot.objects.count() == 2  # nothing changed
    assert {model: model.objects.count() for model in before} == before

    first = privacy.run_retention(as_of=AS_OF)
    assert first == dry
    n = len(expired)  # one of each child per case, two instalments per plan
    # History rows: one per audited child of the 5 cases, 4 deleted cases, 1 write-off deleted,
    # and the kept shell's own history.
    assert first["arrears"] == {
        "events_deleted": n,
        "letters_deleted": n,
        "instalments_deleted": 2 * n,
        "plans_deleted": n,
        "caf_reports_deleted": n,
        "fsl_applications_deleted": n,
        "ccapex_referrals_deleted": n,
        "litigation_steps_deleted": n,
        "transitions_deleted": n,
        "write_offs_deleted": 1,
        "cases_deleted": 4,
        "history_rows_deleted": 7 * n + 4 + 1 + 1,
        "cases_anonymised": 1,
        "write_offs_anonymised": 1,
        "write_off_history_anonymised": 1,
        "snapshots_deleted": 1,
    }
    remaining = set(ArrearsCase.objects.values_list("pk", flat=True))
    assert remaining == {cases[name].pk for name in (*kept, "written_off")}
    for name in kept:  # untouched, with their files
        case = cases[name]
        assert ArrearsCase.objects.get(pk=case.pk).next_action.startswith("Appeler")
        for model in CHILD_MODELS:
            assert model.objects.filter(case=case).count() == 1
    # The written-off case stays for the accounting term, anonymised.
    shell = ArrearsCase.objects.get(pk=cases["written_off"].pk)
    assert shell.next_action == "" and not ArrearsCase.history.filter(id=shell.pk).exists()
    assert not any(model.objects.filter(case=shell).exists() for model in CHILD_MODELS)
    (write_off,) = WriteOff.objects.filter(case=shell)
    assert (write_off.amount, write_off.reason, write_off.decided_on) == (
        Decimal("120.00"),
        "Anonymisé",
        date(2020, 1, 5),
    )
    assert set(WriteOff.history.filter(id=write_off.pk).values_list("reason", flat=True)) == {"Anonymisé"}
    assert not ArrearsCase.history.filter(id=cases["amicable_old"].pk).exists()
    assert not CaseEvent.history.filter(text__contains="chômage", case_id=cases["litigation_old"].pk).exists()
    # A litigation file within its 10 years holds its former tenant; the other one is anonymised.
    assert Person.objects.get(pk=cases["held"].pk).last_name == "Gardé"
    assert Person.objects.get(pk=cases["gone"].pk).last_name == "Anonymisé"
    assert list(ArrearsSnapshot.objects.values_list("account__lease__household", flat=True)) == [
        cases["held"].household_id
    ]

    assert zeros(privacy.run_retention(as_of=AS_OF))


# --- Committee and applications: a purge releasing another app's record in the same run -------


def radiated_application(agency, number, *, cancelled_on):
    application = Application.objects.create(
        agency=agency,
        local_number=number,
        status=ApplicationStatus.CANCELLED,
        cancelled_on=cancelled_on,
        cancellation_reason="renunciation",
        first_registered_on=date(2021, 1, 1),
        expires_on=date(2024, 1, 1),
        housing_situation="hosted",
    )
    ApplicationPerson.objects.create(
        application=application,
        relationship="applicant",
        last_name=f"Demandeur{number}",
        first_name="Léa",
        birth_date=date(1985, 3, 3),
    )
    return application


def caleol(world, application, *, held_on, member):
    now = timezone.make_aware(datetime.combine(held_on, time(9)))
    session = Session.objects.create(
        agency=world["A"].agency, held_on=held_on, opens_at=now, closes_at=now + timedelta(days=1), quorum=1
    )
    seat = SessionMember.objects.create(session=session, user=member, voting_right="deliberative")
    item = AgendaItem.objects.create(
        session=session, dwelling=DwellingFactory(building=world["A"].building), exception_note="un seul candidat"
    )
    candidature = Candidature.objects.create(
        item=item,
        application=application,
        rank=1,
        monthly_resources=Decimal("1600.00"),
        housing_cost=Decimal("412.50"),
        apl_estimate=Decimal("0.00"),
        consumption_units=Decimal("1.00"),
    )
    Vote.objects.create(item=item, member=seat, non_attribution=True, comment="situation fragile")
    Decision.objects.create(candidature=candidature, kind="attribution", rank=1, decided_by=member, reasons="ok")
    Offer.objects.create(candidature=candidature, sent_on=held_on, received_on=held_on, deadline=held_on)
    return session


def test_session_past_its_term_releases_its_radiated_demand_in_the_same_run(world):
    member = UserFactory(username="membre.a")
    old = radiated_application(world["A"].agency, "L-OLD", cancelled_on=date(2025, 11, 28))  # past the year
    caleol(world, old, held_on=date(2023, 11, 28), member=member)  # past the 3 years
    recent = radiated_application(world["A"].agency, "L-RECENT", cancelled_on=date(2024, 6, 1))
    kept_session = caleol(world, recent, held_on=date(2023, 11, 29), member=member)  # on the limit: kept
    radiated_application(world["A"].agency, "L-LIMIT", cancelled_on=date(2025, 11, 29))  # on the limit: kept

    dry = privacy.run_retention(as_of=AS_OF, dry_run=True)
    assert Session.objects.count() == 2 and Application.objects.count() == 3
    first = privacy.run_retention(as_of=AS_OF)
    assert first == dry
    committee = first["committee"]
    assert committee.pop("allocations", 0) == 0  # none frozen from these offers
    assert {k: v for k, v in committee.items() if k != "history_rows"} == {
        "offers": 1,
        "decisions": 1,
        "votes": 1,
        "candidatures": 1,
        "agenda_items": 1,
        "members": 1,
        "sessions": 1,
    }
    assert (
        committee["history_rows"] == 7
    )  # one creation row each: session, seat, item, candidature, vote, decision, offer
    assert first["applications"] == {
        "applications": 1,
        "people": 1,
        "incomes": 0,
        "documents": 0,
        "renewal_notices": 0,
    }
    assert list(Session.objects.all()) == [kept_session]
    assert sorted(Application.objects.values_list("local_number", flat=True)) == ["L-LIMIT", "L-RECENT"]
    assert Vote.history.filter(comment="situation fragile").count() == 1  # the kept session's
    assert not ApplicationPerson.history.filter(last_name="DemandeurL-OLD").exists()

    assert zeros(privacy.run_retention(as_of=AS_OF))


# --- Inspections: the EDL's history goes with its text --------------------------------------


def test_edl_history_is_purged_with_its_text(world, agent):
    lease = world["A"].lease
    edl = Inspection.objects.create(
        lease=lease,
        agency=world["A"].agency,
        kind=InspectionKind.EXIT,
        scheduled_at=timezone.make_aware(datetime(2023, 6, 1, 9)),
        agent=agent,
        new_address="12 rue des Lilas, 78200 Mantes",
        tenant_signatory="H. Durandal",
    )
    edl.new_address = "14 rue des Lilas, 78200 Mantes"
    edl.save()
    Room.objects.create(inspection=edl, position=1, name="Séjour", comment="affaires personnelles au sol")
    Settlement.objects.create(
        lease=lease,
        exit_inspection=edl,
        status=SettlementStatus.REFUNDED,
        keys_returned_on=date(2023, 6, 1),
        matches_entry=True,
        deadline=date(2023, 7, 1),
        deposit=Decimal("412.50"),
        monthly_rent=Decimal("412.50"),
        refund_paid_on=date(2023, 6, 20),
        prepared_by=agent,
    )
    dry = privacy.run_retention(as_of=AS_OF, dry_run=True)
    assert Inspection.history.filter(id=edl.pk).count() == 2
    first = privacy.run_retention(as_of=AS_OF)
    assert first == dry
    assert first["inspections"] == {
        "inspection": 1,
        "room": 1,
        "element": 0,
        "photo": 0,
        "addendum": 0,
        "notice": 0,
        "history_rows": 3,  # two of the EDL, one of the room
    }
    edl.refresh_from_db()
    assert (edl.new_address, edl.tenant_signatory) == ("", "")
    assert Room.objects.get(inspection=edl).comment == ""
    assert not Inspection.history.filter(id=edl.pk).exists()
    assert Settlement.objects.get(lease=lease).deposit == Decimal("412.50")  # amounts stay
    assert zeros(privacy.run_retention(as_of=AS_OF))
