"""Committee pages: matching, agenda, members' pages and their limits, votes, decisions, PDFs."""

from datetime import timedelta
from decimal import Decimal
from io import BytesIO

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from applications.committee import services
from applications.committee.models import AgendaItem, Offer, Vote
from applications.models import ApplicationStatus as S
from tenancies.models import ReadLog
from tests.factories import UserFactory

from .conftest import TODAY, aware, member_user
from .factories import ApplicationFactory

DURING = aware(TODAY, 11)


def pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(response.content)).pages)
    return " ".join(text.split())


# --- Matching and agenda ------------------------------------------------------------------------


def test_match_page_lists_ranked_candidates(client, agent, vacant, applications, session):
    client.force_login(agent)
    url = reverse("committee:match", args=[vacant.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(10):
        ApplicationFactory(agency=vacant.building.estate.agency)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries) <= 36  # not one more per candidate
    body = response.content.decode()
    assert response.status_code == 200
    assert body.index(applications[0].local_number) < body.index(applications[1].local_number)
    assert "Proposé par : Préfet" in body
    assert "contingent de réservation" in body
    assert "29,28" in body  # effort rate of the first candidate


def test_dwelling_page_links_to_the_matching(client, agent, vacant, world):
    client.force_login(agent)
    body = client.get(reverse("tenancies:dwelling_detail", args=[vacant.pk])).content.decode()
    assert reverse("committee:match", args=[vacant.pk]) in body
    body = client.get(reverse("tenancies:dwelling_detail", args=[world["A"].dwelling.pk])).content.decode()
    assert "committee" not in body and "/candidats/" not in body  # let dwelling: no link


def test_agenda_post_enforces_three_candidates(client, agent, vacant, applications, session):
    client.force_login(agent)
    url = reverse("committee:agenda_add", args=[vacant.pk])
    data = {"session": session.pk, "application": [applications[0].pk, applications[1].pk]}
    response = client.post(url, data, follow=True)
    assert "Au moins 3 candidats" in response.content.decode()
    assert not AgendaItem.objects.exists()
    applications[0].refresh_from_db()
    assert applications[0].status == S.ACTIVE
    data["application"].append(applications[2].pk)
    response = client.post(url, data)
    assert response.status_code == 302 and response["Location"] == session.get_absolute_url()
    assert AgendaItem.objects.get().candidatures.count() == 3


def test_member_cannot_match(client, committee_member, vacant):
    client.force_login(committee_member)
    assert client.get(reverse("committee:match", args=[vacant.pk])).status_code == 403
    assert client.get(reverse("committee:session_list")).status_code == 403


def test_agent_cannot_compose_a_session(client, agent, session):
    client.force_login(agent)
    response = client.post(reverse("committee:member_add", args=[session.pk]), {"voting_right": "deliberative"})
    assert response.status_code == 403


def test_session_create_form(client, agent, world, members):
    client.force_login(agent)
    response = client.post(
        reverse("committee:session_create"),
        {
            "agency": world["A"].agency.pk,
            "held_on": "15/12/2026",
            "opens_on": "15/12/2026",
            "opens_time": "09:00",
            "closes_on": "14/12/2026",
            "closes_time": "18:00",
            "quorum": "3",
            "president": members[0].pk,
        },
    )
    assert "La clôture des votes doit suivre leur ouverture." in response.content.decode()


def test_session_pages_cost_bounded_queries(client, agent, opened, agenda, django_assert_max_num_queries):
    client.force_login(agent)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("committee:session_list")).status_code == 200
    with django_assert_max_num_queries(30):
        assert client.get(reverse("committee:session_detail", args=[opened.pk])).status_code == 200


# --- Members' pages -----------------------------------------------------------------------------


def test_member_sees_only_own_sessions_within_two_months(client, opened, agenda, members, world):
    outsider = member_user("membre-autre", world)
    case_url = reverse("committee:member_case", args=[agenda.candidatures.first().pk])
    session_url = reverse("committee:member_session", args=[opened.pk])
    with time_machine.travel(DURING, tick=False):
        client.force_login(outsider)
        assert client.get(session_url).status_code == 404
        assert client.get(case_url).status_code == 404
        assert opened.held_on.strftime("%d/%m/%Y") not in client.get(reverse("committee:my_sessions")).content.decode()
        client.force_login(members[1])
        assert client.get(session_url).status_code == 200
        assert client.get(case_url).status_code == 200
        assert "CALEOL du" in client.get(reverse("committee:my_sessions")).content.decode()
    with time_machine.travel(aware(TODAY, 8), tick=False):  # before the opening
        client.force_login(members[1])
        assert client.get(session_url).status_code == 404
    two_months_after = opened.closes_at + timedelta(days=61)
    with time_machine.travel(two_months_after - timedelta(days=1), tick=False):
        client.force_login(members[1])
        assert client.get(case_url).status_code == 200
    with time_machine.travel(two_months_after + timedelta(days=1), tick=False):
        client.force_login(members[1])
        assert client.get(case_url).status_code == 404
        assert client.get(session_url).status_code == 404


def test_case_file_is_minimal_and_logged(client, opened, agenda, members, applications):
    application = applications[0]
    application.social_notes = "Note sociale confidentielle"
    application.national_number = "0781126000123"
    application.save()
    candidature = agenda.candidatures.get(application=application)
    client.force_login(members[1])
    with time_machine.travel(DURING, tick=False):
        pages = [
            client.get(reverse("committee:member_session", args=[opened.pk])).content.decode(),
            client.get(reverse("committee:member_case", args=[candidature.pk])).content.decode(),
        ]
        client.get(reverse("committee:member_case", args=[candidature.pk]))
    person = application.people.first()
    for body in pages:
        for secret in (
            "06 99 88 77 66",
            person.email,
            "@example.fr",
            "Note sociale",
            person.last_name,
            person.first_name,
            "0781126000123",
            application.local_number,
        ):
            assert secret not in body, secret
    case = pages[1]
    assert "ans" in case and "Cotation" in case and "29,28" in case and "20,95" in case
    logs = ReadLog.objects.filter(user=members[1], record_type="committee.candidature", record_id=candidature.pk)
    assert logs.count() == 2 and logs.first().purpose == "caleol"


def test_vote_through_the_page_and_after_close(client, opened, agenda, members):
    first, second, third = agenda.candidatures.order_by("rank")
    client.force_login(members[1])
    url = reverse("committee:vote", args=[agenda.pk])
    with time_machine.travel(DURING, tick=False):
        client.post(url, {f"rank_{second.pk}": "1", f"rank_{first.pk}": "2"})
    assert Vote.objects.get().ranking == [second.pk, first.pk]
    with time_machine.travel(opened.closes_at + timedelta(minutes=1), tick=False):
        client.force_login(members[1])
        response = client.post(url, {"non_attribution": "1"}, follow=True)
    assert "La séance est close : le vote n&#x27;est plus possible." in response.content.decode()
    assert Vote.objects.get().non_attribution is False


def test_president_records_decisions_on_the_page(client, opened, agenda, members):
    client.force_login(members[1])
    c = agenda.candidatures.get(rank=3)
    url = reverse("committee:decision_record", args=[c.pk])
    assert client.post(url, {"kind": "attribution"}).status_code == 403  # a member, not the president
    client.force_login(members[0])
    with time_machine.travel(DURING, tick=False):
        response = client.post(url, {"kind": "inadmissible", "reasons": "Plafond dépassé"}, follow=True)
    assert "Quorum non atteint" in response.content.decode()
    for user in members[:2]:
        services.vote_cast(item=agenda, user=user, ranking=[c.pk], non_attribution=False, now=DURING)
    with time_machine.travel(DURING, tick=False):
        response = client.post(url, {"kind": "inadmissible"}, follow=True)
        assert "motifs sont obligatoires" in response.content.decode()
        client.post(url, {"kind": "inadmissible", "reasons": "Plafond dépassé"})
    assert c.decisions.get().kind == "inadmissible"


# --- Documents ----------------------------------------------------------------------------------


def test_documents_as_pdf(client, agent, opened, agenda, members, president, world):
    for user in members:
        services.vote_cast(
            item=agenda,
            user=user,
            ranking=list(agenda.candidatures.values_list("id", flat=True)),
            non_attribution=False,
            now=DURING,
        )
    first, second, third = agenda.candidatures.order_by("rank")
    services.decision_record(candidature=first, kind="attribution", by=president)
    services.decision_record(
        candidature=second, kind="non_attribution", reasons="Taux d'effort trop élevé", by=president
    )
    services.decision_record(
        candidature=third, kind="inadmissible", reasons="Ressources au-dessus du plafond", by=president
    )
    services.session_transition(session=opened, to_status="closed", now=DURING)
    services.session_transition(session=opened, to_status="signed", by=president, now=aware(TODAY, 20))
    client.force_login(agent)

    agenda_text = pdf_text(client.get(reverse("committee:agenda_pdf", args=[opened.pk])))
    assert "Ordre du jour" in agenda_text and first.pseudonym in agenda_text and "29,28" in agenda_text
    minutes = pdf_text(client.get(reverse("committee:minutes_pdf", args=[opened.pk])))
    assert "Procès-verbal" in minutes and "Attribution" in minutes and "Rejet pour irrecevabilité" in minutes
    assert "Ressources au-dessus du plafond" in minutes and "quorum atteint" in minutes and "signé le" in minutes
    refusal = pdf_text(client.get(reverse("committee:decision_letter_pdf", args=[second.pk])))
    assert "non-attribution" in refusal.lower() and "Taux d'effort trop élevé" in refusal
    assert "reste active" in refusal and "tribunal administratif" in refusal
    rejection = pdf_text(client.get(reverse("committee:decision_letter_pdf", args=[third.pk])))
    assert "irrecevabilité" in rejection and "radiation" in rejection and "Ressources au-dessus" in rejection
    offer = Offer.objects.get()
    letter = pdf_text(client.get(reverse("committee:offer_pdf", args=[offer.pk])))
    assert "30/11/2026" in letter and "silence vaut refus" in letter and "412,50" in letter

    client.force_login(UserFactory(username="b-agent", roles=["charge_clientele"], agencies_list=[world["B"].agency]))
    assert client.get(reverse("committee:offer_pdf", args=[offer.pk])).status_code == 404
    assert client.get(reverse("committee:minutes_pdf", args=[opened.pk])).status_code == 404


def test_offer_acceptance_page_creates_the_draft_lease(client, agent, opened, agenda, members, president, vacant):
    for user in members[:2]:
        services.vote_cast(
            item=agenda, user=user, ranking=[agenda.candidatures.get(rank=1).pk], non_attribution=False, now=DURING
        )
    for c in agenda.candidatures.order_by("rank"):
        kind = "attribution" if c.rank == 1 else "non_attribution"
        services.decision_record(candidature=c, kind=kind, reasons="" if c.rank == 1 else "Classé après", by=president)
    services.session_transition(session=opened, to_status="closed", now=DURING)
    services.session_transition(session=opened, to_status="signed", by=president, now=aware(TODAY, 20))
    offer = Offer.objects.get()
    client.force_login(agent)
    assert client.get(reverse("committee:offer_detail", args=[offer.pk])).status_code == 200
    response = client.post(
        reverse("committee:offer_answer", args=[offer.pk]),
        {"answer": "accept", "on": TODAY.strftime("%d/%m/%Y"), "starts_on": "01/12/2026"},
        follow=True,
    )
    assert "projet de bail créé" in response.content.decode()
    offer.refresh_from_db()
    assert offer.lease.status == "draft" and offer.lease.rent == Decimal("412.50")
    vacant.refresh_from_db()
    assert vacant.status == "reserved"


@pytest.mark.parametrize("name", ["committee:offer_list", "committee:session_list"])
def test_lists_never_show_another_agency(client, other_agency_agent, opened, name):
    client.force_login(other_agency_agent)
    body = client.get(reverse(name)).content.decode()
    assert "Durandal" not in body
