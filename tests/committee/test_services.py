"""Sessions, the three-candidate rule, votes, decisions, minutes, offers (DOMAIN.md §1.2.8-1.2.10)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction

from applications.committee import services
from applications.committee.models import Decision, ExceptionReason, Offer, OfferStatus, Vote, VotingRight
from applications.committee.services import CommitteeError
from applications.models import ApplicationStatus as S
from tenancies.models import DwellingStatus, LeaseStatus
from tenancies.services import lease_transition

from .conftest import TODAY, aware
from .factories import ApplicationFactory

DURING = aware(TODAY, 11)
AFTER_CLOSE = aware(TODAY + timedelta(days=3), 9)


def vote_all(item, users, ranking=None):
    ids = ranking or list(item.candidatures.order_by("rank").values_list("id", flat=True))
    for user in users:
        services.vote_cast(item=item, user=user, ranking=ids, non_attribution=False, now=DURING)


# --- Agenda and the three-candidate rule (E1.8) -----------------------------------------------


def test_agenda_puts_candidates_under_review_with_their_rank(agenda, applications):
    ranks = list(agenda.candidatures.order_by("rank").values_list("application_id", "rank"))
    assert ranks == [(applications[0].pk, 1), (applications[1].pk, 2), (applications[2].pk, 3)]
    applications[0].refresh_from_db()
    assert applications[0].status == S.UNDER_REVIEW
    c = agenda.candidatures.get(rank=1)
    assert c.effort_rate == Decimal("29.28") and c.daily_rest == Decimal("20.95")


def test_two_candidates_need_a_legal_reason(session, vacant, applications, agent):
    with pytest.raises(CommitteeError, match="Au moins 3 candidats"):
        services.agenda_add(session=session, dwelling=vacant, applications=applications[:2], by=agent, on=TODAY)
    with pytest.raises(CommitteeError, match="Justifiez"):
        services.agenda_add(
            session=session,
            dwelling=vacant,
            applications=applications[:2],
            by=agent,
            on=TODAY,
            exception_reason=ExceptionReason.INSUFFICIENT,
        )
    applications[0].refresh_from_db()
    assert applications[0].status == S.ACTIVE  # nothing half-saved
    item = services.agenda_add(
        session=session,
        dwelling=vacant,
        applications=applications[:2],
        by=agent,
        on=TODAY,
        exception_reason=ExceptionReason.INSUFFICIENT,
        exception_note="Deux demandes seulement pour ce T3 en RDC",
    )
    assert item.candidatures.count() == 2


def test_one_dalo_candidate_is_allowed(world, session, vacant, applications, agent):
    with pytest.raises(CommitteeError, match="DALO"):
        services.agenda_add(
            session=session,
            dwelling=vacant,
            applications=applications[:1],
            by=agent,
            on=TODAY,
            exception_reason=ExceptionReason.DALO,
        )
    dalo = ApplicationFactory(agency=world["A"].agency, dalo=True)
    item = services.agenda_add(
        session=session, dwelling=vacant, applications=[dalo], by=agent, on=TODAY, exception_reason=ExceptionReason.DALO
    )
    assert item.exception_reason == "dalo"


def test_a_let_dwelling_cannot_be_presented(world, session, applications, agent):
    with pytest.raises(CommitteeError, match="vacant"):
        services.agenda_add(
            session=session, dwelling=world["A"].dwelling, applications=applications[:3], by=agent, on=TODAY
        )


# --- Sessions and votes -----------------------------------------------------------------------


def test_opening_presents_the_candidates(opened, applications):
    applications[0].refresh_from_db()
    assert applications[0].status == S.PRESENTED


def test_opening_needs_enough_deliberative_members(session, agenda):
    session.quorum = 4
    session.save()
    with pytest.raises(CommitteeError, match="quorum de 4"):
        services.session_transition(session=session, to_status="open", now=DURING)


def test_vote_is_changeable_until_close_then_refused(opened, agenda, members):
    first, second, third = agenda.candidatures.order_by("rank")
    services.vote_cast(item=agenda, user=members[1], ranking=[first.pk, second.pk], non_attribution=False, now=DURING)
    services.vote_cast(item=agenda, user=members[1], ranking=[third.pk], non_attribution=False, now=DURING)
    assert Vote.objects.get(item=agenda).ranking == [third.pk]
    with pytest.raises(CommitteeError, match="La séance est close"):
        services.vote_cast(item=agenda, user=members[1], ranking=[first.pk], non_attribution=False, now=AFTER_CLOSE)
    services.session_transition(session=opened, to_status="closed", now=DURING)
    with pytest.raises(CommitteeError, match="La séance est close"):
        services.vote_cast(item=agenda, user=members[1], ranking=[], non_attribution=True, now=DURING)
    assert Vote.objects.get(item=agenda).ranking == [third.pk]


def test_vote_checks(opened, agenda, members, agent, world):
    with pytest.raises(CommitteeError, match="ne siégez pas"):
        services.vote_cast(item=agenda, user=agent, ranking=[], non_attribution=True, now=DURING)
    with pytest.raises(CommitteeError, match="pas présenté"):
        services.vote_cast(item=agenda, user=members[1], ranking=[999999], non_attribution=False, now=DURING)
    vote = services.vote_cast(item=agenda, user=members[1], ranking=[1], non_attribution=True, now=DURING)
    assert vote.non_attribution and vote.ranking == []
    result = services.tally(agenda)
    assert result["non_attribution"] == 1 and result["votes"] == 1


# --- Decisions and minutes --------------------------------------------------------------------


def test_decision_without_quorum_is_refused(opened, agenda, president, members):
    c = agenda.candidatures.get(rank=1)
    with pytest.raises(CommitteeError, match="Quorum non atteint"):
        services.decision_record(candidature=c, kind="attribution", by=president)
    vote_all(agenda, members[:1])  # one deliberative member voted: 1 < 2
    with pytest.raises(CommitteeError, match="Quorum non atteint"):
        services.decision_record(candidature=c, kind="attribution", by=president)
    assert not Decision.objects.exists()
    vote_all(agenda, members[1:2])
    assert services.decision_record(candidature=c, kind="attribution", by=president).rank == 1


def test_only_the_president_decides_and_reasons_are_required(opened, agenda, members):
    vote_all(agenda, members)
    c = agenda.candidatures.get(rank=2)
    with pytest.raises(CommitteeError, match="président"):
        services.decision_record(candidature=c, kind="attribution", by=members[1])
    for kind in ("non_attribution", "inadmissible"):
        with pytest.raises(CommitteeError, match="motifs sont obligatoires"):
            services.decision_record(candidature=c, kind=kind, by=members[0])
    with pytest.raises(CommitteeError, match="condition suspensive"):
        services.decision_record(candidature=c, kind="conditional", by=members[0], condition="Avis d'imposition")
    with pytest.raises(CommitteeError, match="rang"):
        services.decision_record(candidature=c, kind="ranked", by=members[0])


def decide_all(agenda, president):
    first, second, third = agenda.candidatures.order_by("rank")
    services.decision_record(candidature=first, kind="attribution", by=president)
    services.decision_record(candidature=second, kind="ranked", rank=2, by=president)
    services.decision_record(
        candidature=third, kind="inadmissible", reasons="Ressources supérieures au plafond PLUS", by=president
    )
    return first, second, third


def test_signed_minutes_make_decisions_immutable(opened, agenda, members, president):
    vote_all(agenda, members)
    first, second, third = decide_all(agenda, president)
    services.session_transition(session=opened, to_status="closed", now=DURING)
    services.session_transition(session=opened, to_status="signed", by=president, now=AFTER_CLOSE)
    with pytest.raises(CommitteeError, match="procès-verbal est signé"):
        services.decision_record(candidature=second, kind="attribution", by=president)
    decision = first.decisions.get()
    with pytest.raises(DatabaseError), transaction.atomic():  # the database refuses too
        Decision.objects.filter(pk=decision.pk).update(reasons="modifié")
    with pytest.raises(DatabaseError), transaction.atomic():
        Decision.objects.filter(pk=decision.pk).delete()
    correction = services.decision_record(
        candidature=second,
        kind="non_attribution",
        reasons="Erreur matérielle de classement",
        by=president,
        correction=True,
        on=TODAY,
    )
    assert correction.corrects.kind == "ranked"
    assert services.current_decisions([second])[second.pk] == correction
    second.application.refresh_from_db()
    assert second.application.status == S.ACTIVE  # the correction took effect


def test_signing_applies_the_decisions_and_sends_the_offer(opened, agenda, members, president, vacant):
    vote_all(agenda, members)
    first, second, third = decide_all(agenda, president)
    services.session_transition(session=opened, to_status="closed", now=DURING)
    services.session_transition(session=opened, to_status="signed", by=president, now=aware(date(2026, 3, 5), 10))
    for c in (first, second, third):
        c.application.refresh_from_db()
    assert first.application.status == S.OFFER_SENT
    assert second.application.status == S.PRESENTED
    assert third.application.status == S.CANCELLED and third.application.cancellation_reason == "inadmissible"
    offer = Offer.objects.get()
    # E1.5: received Thursday 5 March 2026, 10 days -> Sunday 15 March -> Monday 16 March 2026.
    assert offer.received_on == date(2026, 3, 5)
    assert offer.deadline == date(2026, 3, 16)


def test_signing_needs_every_decision(opened, agenda, members, president):
    vote_all(agenda, members)
    services.decision_record(candidature=agenda.candidatures.get(rank=1), kind="attribution", by=president)
    services.session_transition(session=opened, to_status="closed", now=DURING)
    with pytest.raises(CommitteeError, match="2 candidature"):
        services.session_transition(session=opened, to_status="signed", by=president, now=AFTER_CLOSE)


# --- Offers -----------------------------------------------------------------------------------


@pytest.fixture
def offered(opened, agenda, members, president):
    vote_all(agenda, members)
    decide_all(agenda, president)
    services.session_transition(session=opened, to_status="closed", now=DURING)
    services.session_transition(session=opened, to_status="signed", by=president, now=aware(TODAY, 20))
    return Offer.objects.get()


def test_acceptance_creates_a_draft_lease_and_reserves_the_dwelling(offered, agenda, vacant, agent):
    services.offer_accept(offer=offered, on=TODAY + timedelta(days=2), starts_on=date(2026, 12, 1), by=agent)
    offered.refresh_from_db()
    vacant.refresh_from_db()
    lease = offered.lease
    assert lease.status == LeaseStatus.DRAFT and lease.rent == Decimal("412.50")
    assert lease.charges_total == Decimal("60.00")
    assert vacant.status == DwellingStatus.RESERVED
    assert [p.role for p in lease.household.people.order_by("id")] == ["titulaire", "cotitulaire", "enfant"]
    first, second = agenda.candidatures.order_by("rank")[:2]
    first.application.refresh_from_db()
    second.application.refresh_from_db()
    assert first.application.status == S.ACCEPTED
    assert second.application.status == S.ACTIVE  # not reached

    lease_transition(lease=lease, to_status=LeaseStatus.SIGNED, on=date(2026, 11, 28))
    assert services.offers_follow_up(as_of=date(2026, 11, 29))["leases_signed"] == 1
    first.application.refresh_from_db()
    assert first.application.status == S.CANCELLED and first.application.cancellation_reason == "attribution"
    assert services.offers_follow_up(as_of=date(2026, 11, 30))["leases_signed"] == 0  # idempotent


def test_refusal_passes_the_offer_to_the_next_ranked(offered, agenda, agent):
    following = services.offer_refuse(offer=offered, on=TODAY + timedelta(days=1), reason="Trop loin", by=agent)
    assert following.candidature.rank == 2
    first = agenda.candidatures.get(rank=1)
    first.application.refresh_from_db()
    assert first.application.status == S.REFUSED


def test_silence_past_the_deadline_is_refusal(offered, agenda):
    assert offered.deadline == date(2026, 11, 30)  # received Fri 20/11 + 10 days = Mon 30/11
    call_command("offers_follow_up", as_of="2026-11-30", verbosity=0)
    offered.refresh_from_db()
    assert offered.status == OfferStatus.SENT  # the deadline day itself is still open
    call_command("offers_follow_up", as_of="2026-12-01", verbosity=0)
    offered.refresh_from_db()
    assert offered.status == OfferStatus.EXPIRED
    assert Offer.objects.get(status=OfferStatus.SENT).candidature.rank == 2
    # The second expires too: the ranking is exhausted, the dwelling stays vacant.
    counts = services.offers_follow_up(as_of=date(2026, 12, 31))
    assert counts == {"expired": 1, "next_offers": 0, "leases_signed": 0}


def test_late_acceptance_is_refused(offered, agent):
    with pytest.raises(CommitteeError, match="silence vaut refus"):
        services.offer_accept(offer=offered, on=date(2026, 12, 1), starts_on=date(2026, 12, 1), by=agent)
    offered.refresh_from_db()
    assert offered.status == OfferStatus.SENT and offered.lease is None


def test_consultative_members_do_not_count(session, agenda, world):
    from .conftest import member_user

    guest = member_user("reservataire", world)
    services.member_add(session=session, user=guest, voting_right=VotingRight.CONSULTATIVE, capacity="Action Logement")
    services.session_transition(session=session, to_status="open", now=DURING)
    vote_all(agenda, [guest])
    assert services.deliberative_present(session) == 0
    assert services.tally(agenda)["opinions"] == 1
