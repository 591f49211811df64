"""The allocation record (written once when the lease of an accepted offer is signed) and the
structured refusal reasons of offers."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from applications.committee import services
from applications.committee.forms import OfferAnswerForm
from applications.committee.models import Allocation, FirstQuartileThreshold, Offer, OfferStatus
from applications.models import PriorityCriterion
from tenancies.models import Lease, LeaseStatus
from tenancies.services import lease_transition
from tests.factories import HouseholdFactory

from .conftest import TODAY, aware
from .test_services import DURING, decide_all, vote_all


@pytest.fixture
def offered(opened, agenda, members, president):
    vote_all(agenda, members)
    decide_all(agenda, president)
    services.session_transition(session=opened, to_status="closed", now=DURING)
    services.session_transition(session=opened, to_status="signed", by=president, now=aware(TODAY, 20))
    return Offer.objects.get()


def test_the_allocation_record_is_written_once_when_the_lease_is_signed(offered, agenda, vacant, agent, world):
    # The dwelling's previous tenancy ended on 31/08/2026; the demand's first registration 01/01/2024.
    Lease.objects.create(
        number="ANCIEN-0001",
        dwelling=vacant,
        household=HouseholdFactory(agency=world["A"].agency),
        status=LeaseStatus.ENDED,
        signed_on=date(2019, 6, 1),
        starts_on=date(2019, 7, 1),
        ends_on=date(2026, 8, 31),
        rent=Decimal("400.00"),
        deposit=Decimal("400.00"),
    )
    vacant.contingent = "prefet"
    vacant.save(update_fields=["contingent"])
    first = agenda.candidatures.get(rank=1)
    criterion = PriorityCriterion.objects.order_by("position").first()
    first.application.priority_criteria.add(criterion)
    FirstQuartileThreshold.objects.create(
        year=2026, commune=vacant.building.estate.commune, amount=Decimal("20000.00"), source="test", demo=True
    )
    services.offer_accept(offer=offered, on=TODAY + timedelta(days=2), starts_on=date(2026, 12, 1), by=agent)
    assert services.offers_follow_up(as_of=date(2026, 11, 25))["leases_signed"] == 0
    assert not Allocation.objects.exists()  # a draft lease is not an allocation

    offered.refresh_from_db()
    lease_transition(lease=offered.lease, to_status=LeaseStatus.SIGNED, on=date(2026, 11, 28))
    services.offers_follow_up(as_of=date(2026, 11, 29))
    services.offers_follow_up(as_of=date(2026, 11, 30))  # idempotent
    services.allocation_record(offer=offered, as_of=date(2026, 12, 1))  # and so is the service
    allocation = Allocation.objects.get()
    assert allocation.offer == offered and allocation.lease == offered.lease
    assert allocation.agency == world["A"].agency and allocation.dwelling == vacant
    assert allocation.allocated_on == date(2026, 11, 28)
    assert allocation.contingent == "prefet" and allocation.qpv is False
    assert allocation.dalo is False and allocation.priority_public is True and allocation.priority
    # Resources frozen at selection: 1 600,00 € a month × 12 ÷ 1,8 UC (couple and a child under 14).
    assert first.monthly_resources == Decimal("1600.00") and first.consumption_units == Decimal("1.80")
    assert allocation.annual_resources == Decimal("19200.00")
    assert allocation.resources_per_unit == Decimal("10666.67")
    assert allocation.quartile_threshold == Decimal("20000.00") and allocation.first_quartile is True
    # 01/01/2024 → 28/11/2026: 1 062 days, 34 whole months.
    assert allocation.waiting_days == 1062 and allocation.waiting_months == 34
    # Vacant since the end of the previous lease: 31/08 → 28/11 = 89 days.
    assert allocation.vacant_since == date(2026, 8, 31) and allocation.vacancy_days == 89
    assert allocation.history.count() == 1


def test_whole_months_need_the_day_of_the_month():
    assert services.whole_months(date(2026, 1, 15), date(2026, 3, 14)) == 1
    assert services.whole_months(date(2026, 1, 15), date(2026, 3, 15)) == 2
    assert services.whole_months(date(2026, 1, 31), date(2026, 2, 28)) == 0
    assert services.whole_months(date(2026, 3, 1), date(2026, 2, 1)) == 0


def test_refusal_reason_is_structured_and_silence_is_no_answer(offered, agenda, agent):
    following = services.offer_refuse(
        offer=offered, on=TODAY + timedelta(days=1), kind="cost", reason="Chauffage collectif cher", by=agent
    )
    offered.refresh_from_db()
    assert offered.refusal_kind == "cost" and offered.refusal_reason == "Chauffage collectif cher"
    assert offered.get_refusal_kind_display() == "Loyer ou charges trop élevés"
    services.offers_follow_up(as_of=following.deadline + timedelta(days=1))
    following.refresh_from_db()
    assert following.status == OfferStatus.EXPIRED and following.refusal_kind == "no_answer"
    with pytest.raises(services.CommitteeError, match="Motif de refus inconnu"):
        services.offer_refuse(offer=Offer(pk=following.pk, status="sent"), on=TODAY, kind="fantaisie")


@pytest.mark.parametrize(
    "data,field,message",
    [
        ({}, "refusal_kind", "Indiquez le motif du refus."),
        ({"refusal_kind": "other"}, "reason", "Précisez le motif du refus « Autre »."),
        ({"refusal_kind": "no_answer"}, "refusal_kind", "Sélectionnez un choix valide."),
    ],
)
def test_refusal_form_requires_a_reason(data, field, message):
    form = OfferAnswerForm({"answer": "refuse", "on": "21/11/2026", **data})
    assert not form.is_valid()
    assert any(message in error for error in form.errors[field]), form.errors


def test_refusal_form_accepts_a_reason_with_or_without_detail():
    assert OfferAnswerForm({"answer": "refuse", "on": "21/11/2026", "refusal_kind": "location"}).is_valid()
    assert OfferAnswerForm(
        {"answer": "refuse", "on": "21/11/2026", "refusal_kind": "other", "reason": "Déménagement à l'étranger"}
    ).is_valid()


def test_refusal_through_the_page(client, agent, offered):
    client.force_login(agent)
    url = reverse("committee:offer_answer", args=[offered.pk])
    response = client.post(url, {"answer": "refuse", "on": "21/11/2026"}, follow=True)
    assert "Indiquez le motif du refus." in response.content.decode()
    offered.refresh_from_db()
    assert offered.status == OfferStatus.SENT
    response = client.post(
        url, {"answer": "refuse", "on": "21/11/2026", "refusal_kind": "floor_access", "reason": "4e sans ascenseur"}
    )
    offered.refresh_from_db()
    assert offered.status == OfferStatus.REFUSED and offered.refusal_kind == "floor_access"
    page = client.get(reverse("committee:offer_detail", args=[offered.pk])).content.decode()
    assert "Étage, ascenseur ou accessibilité — 4e sans ascenseur" in page
