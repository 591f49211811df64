"""Committee URLs (applications.committee). Members' pages are declared for the agency's session
manager (responsable d'agence), who reads them as the secretariat; a member reads them only for
the sessions they sit on (tests/committee/test_pages.py)."""

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from . import Route

MANAGER = "responsable_agence"

ROUTES = {
    "committee:match": Route("committee_dwelling"),
    "committee:agenda_add": Route("committee_dwelling", method="post"),
    "committee:session_list": Route(),
    "committee:session_create": Route(),
    "committee:session_detail": Route("caleol_session"),
    "committee:member_add": Route("caleol_session", method="post", role=MANAGER),
    "committee:member_presence": Route("caleol_session", method="post", role=MANAGER),
    "committee:session_transition": Route("caleol_session", method="post", role=MANAGER),
    "committee:agenda_pdf": Route("caleol_session"),
    "committee:minutes_pdf": Route("caleol_session"),
    "committee:candidature_apl": Route("caleol_candidature", method="post"),
    "committee:decision_record": Route("caleol_candidature", method="post", role="membre_commission"),
    "committee:decision_letter_pdf": Route("caleol_candidature"),
    "committee:my_sessions": Route(role="membre_commission"),
    "committee:member_session": Route("caleol_session", role=MANAGER),
    "committee:member_case": Route("caleol_candidature", role=MANAGER),
    "committee:vote": Route("caleol_item", method="post", role="membre_commission"),
    "committee:offer_list": Route(),
    "committee:offer_detail": Route("caleol_offer"),
    "committee:offer_answer": Route("caleol_offer", method="post"),
    "committee:offer_received": Route("caleol_offer", method="post"),
    "committee:offer_pdf": Route("caleol_offer"),
}

KINDS = {"committee_dwelling", "caleol_session", "caleol_item", "caleol_candidature", "caleol_offer"}


class _Lazy(Mapping):
    """Builds the committee objects of a territory only when one of our kinds is asked for."""

    def __init__(self, territory):
        self.territory = territory

    def __iter__(self):
        return iter(KINDS)

    def __len__(self):
        return len(KINDS)

    def __getitem__(self, kind):
        if kind not in KINDS:
            raise KeyError(kind)
        built = getattr(self.territory, "_committee_objects", None)
        if built is None:
            built = self.territory._committee_objects = _build(self.territory)
        return built[kind]


def _build(t):
    from applications.committee.models import (
        AgendaItem,
        Candidature,
        Decision,
        Offer,
        Session,
        SessionMember,
        SessionStatus,
        VotingRight,
    )
    from applications.models import Application, ApplicationStatus
    from tenancies.roles import Role
    from tests.factories import DwellingFactory, UserFactory

    today = timezone.localdate()
    now = timezone.now()
    code = t.agency.code
    dwelling = DwellingFactory(building=t.building, reference=f"{code}-VAC-ROUTE")
    president = UserFactory(username=f"pres-{code}", roles=[Role.MEMBRE_COMMISSION], agencies_list=[t.agency])
    session = Session.objects.create(
        agency=t.agency,
        held_on=today,
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=1),
        quorum=1,
        president=president,
        status=SessionStatus.OPEN,
    )
    SessionMember.objects.create(session=session, user=president, voting_right=VotingRight.DELIBERATIVE)
    item = AgendaItem.objects.create(session=session, dwelling=dwelling, exception_reason="dalo")
    application = Application.objects.create(
        agency=t.agency,
        local_number=f"L-ROUTE-{code}",
        status=ApplicationStatus.OFFER_SENT,
        first_registered_on=today - timedelta(days=400),
        expires_on=today + timedelta(days=100),
        housing_situation="hosted",
        dalo=True,
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
    Decision.objects.create(candidature=candidature, kind="attribution", rank=1, decided_by=president)
    offer = Offer.objects.create(
        candidature=candidature, sent_on=today, received_on=today, deadline=today + timedelta(days=10)
    )
    return {
        "committee_dwelling": dwelling,
        "caleol_session": session,
        "caleol_item": item,
        "caleol_candidature": candidature,
        "caleol_offer": offer,
    }


def make_objects(territory):
    return _Lazy(territory)
