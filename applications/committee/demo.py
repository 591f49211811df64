"""Committee demonstration data (`manage.py seed_committee_demo`), on top of `seed_demo` and, when
present, `seed_applications_demo`.

- Logins: `commission` (from seed_demo), `commission2`, `commission3` (membres de commission) and
  `president.caleol` (membre de commission, presides), all with the demo password.
- Two vacant dwellings of Seine Aval with at least three eligible applications each: when the
  applications demo does not provide them, a few demands are created here by plain model
  creation (local numbers "CALEOL-DEMO-…"), their columns set by applications.services
  .refresh_application when it exists.
- A remote session of Seine Aval open now for a week: the president and the three members with
  a deliberative vote, quorum 3, the first dwelling on the agenda with its three best candidates.
  The second dwelling is left for the chargé de clientèle to match.

- A history of attributions for the dashboards: in each demo agency, for each of the last
  HISTORY_MONTHS months, a signed session (place HISTORY_PLACE) on one vacant dwelling, through the
  real services: decisions, offer, one refusal out of two with a structured reason, acceptance, lease
  signed, then `offers_follow_up`, which writes the allocation record. As many as the agency has
  vacant dwellings with eligible candidates (the stock of a small demo may have few).

Idempotent: a second run changes nothing while the demo session is still open; once it has
closed, a new one is opened. A history month already seeded is not seeded again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from applications.eligibility import Member, household_category
from applications.models import (
    Application,
    ApplicationPerson,
    ApplicationStatus,
    HousingSituation,
    Income,
    IncomeSource,
    Relationship,
)
from tenancies.demo import DEFAULT_PASSWORD
from tenancies.models import Agency, Dwelling, DwellingStatus, Lease, LeaseStatus, User
from tenancies.roles import Role
from tenancies.services import lease_transition

from . import matching, services
from .models import DecisionKind, Offer, OfferStatus, RefusalReason, Session, SessionStatus, VotingRight
from .reference import ensure_allocation_parameters, ensure_parameters

DEMO_PLACE = ""  # remote session
LOCAL_PREFIX = "CALEOL-DEMO-"
MEMBERS = [
    ("commission", "Bernard", "Roussel", "Représentant du conseil d'administration"),
    ("commission2", "Élise", "Marchand", "Représentante des locataires"),
    ("commission3", "Yves", "Caron", "Représentant du maire"),
]
PRESIDENT = ("president.caleol", "Monique", "Vasseur", "Présidente")
AGENCY_CODE = "SA"
HISTORY_PLACE = "Siège de l'agence (historique de démonstration)"
HISTORY_MONTHS = 4
HISTORY_AGENCIES = ("SA", "VGP")
REFUSALS = [
    (RefusalReason.LOCATION, "Trop loin de l'école des enfants"),
    (RefusalReason.COST, "Charges de chauffage trop élevées"),
    (RefusalReason.FLOOR_ACCESS, "Pas d'ascenseur"),
    (RefusalReason.TYPOLOGY, "Séjour trop petit"),
]


@dataclass
class Seeded:
    users: int = 0
    applications: int = 0
    session: Session | None = None
    created: bool = False
    free_dwelling: Dwelling | None = None
    history: int = 0


def ensure_members() -> tuple[User, list[User]]:
    password = os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD
    group, _ = Group.objects.get_or_create(name=Role.MEMBRE_COMMISSION)
    agencies = list(Agency.objects.filter(code__in=["SA", "VGP"]))
    encoded = None
    users = []
    for username, first, last, _capacity in [PRESIDENT, *MEMBERS]:
        user = User.objects.filter(username=username).first()
        if user is None:
            encoded = encoded or make_password(password)
            user = User.objects.create(
                username=username, first_name=first, last_name=last, email=f"{username}@example.fr", password=encoded
            )
            user.groups.set([group])
            user.agencies.set(agencies)
        users.append(user)
    return users[0], users[1:]


def _refresh(application):
    from applications import services as application_services

    refresh = getattr(application_services, "refresh_application", None)
    if refresh is not None:
        return refresh(application, cause="Démonstration CALEOL")
    people = list(application.people.all())
    members = [
        Member(p.birth_date, p.relationship in (Relationship.APPLICANT, Relationship.SPOUSE), p.dependant, False)
        for p in people
    ]
    application.household_size = len(people)
    application.category = household_category(members, as_of=timezone.localdate())
    application.reference_income = sum((p.tax_income or 0 for p in people), Decimal("0.00"))
    application.monthly_income = sum((i.monthly_amount for p in people for i in p.incomes.all()), Decimal("0.00"))
    application.save()
    return application


FAMILIES = [
    # (last name, adults' birth years, children's birth years, annual RFR, monthly income, score, DALO, réservataire)
    ("Lambert", [1986, 1988], [2015], "21500.00", "1850.00", 180, False, ""),
    ("Nguyen", [1979], [2012, 2016], "16200.00", "1420.00", 260, False, "prefet"),
    ("Diallo", [1990, 1992], [2020], "24800.00", "2100.00", 150, False, "action_logement"),
    ("Moreau", [1983, 1984], [2011], "19900.00", "1700.00", 140, True, ""),
    ("Fabre", [1995, 1996], [2022], "23000.00", "1960.00", 120, False, ""),
    ("Petit", [1975], [2010], "14800.00", "1300.00", 110, False, ""),
]


def create_applications(agency, today: date) -> int:
    created = 0
    for i, (last, adults, children, rfr, monthly, score, dalo, reservataire) in enumerate(FAMILIES, start=1):
        number = f"{LOCAL_PREFIX}{i:03d}"
        if Application.objects.filter(local_number=number).exists():
            continue
        application = Application.objects.create(
            agency=agency,
            local_number=number,
            status=ApplicationStatus.ACTIVE,
            first_registered_on=today - timedelta(days=300 + 90 * i),
            expires_on=today + timedelta(days=200),
            housing_situation=HousingSituation.HOSTED if i % 2 else HousingSituation.PRIVATE_TENANT,
            dalo=dalo,
            dalo_designated_on=today - timedelta(days=60) if dalo else None,
            reservataire=reservataire,
            score=score,
            social_notes="Note sociale de démonstration : jamais montrée aux membres de la commission.",
        )
        share = Decimal(rfr) / len(adults)
        position = 0
        for j, year in enumerate(adults):
            person = ApplicationPerson.objects.create(
                application=application,
                relationship=Relationship.APPLICANT if j == 0 else Relationship.SPOUSE,
                last_name=last,
                first_name=["Julie", "Marc"][j % 2],
                birth_date=date(year, 3 + j, 10 + i),
                tax_income=share.quantize(Decimal("0.01")),
                tax_year=today.year - 2,
                phone=f"06 12 34 56 {i:02d}",
                email=f"{last.lower()}.demo@example.fr",
                position=position,
            )
            Income.objects.create(
                person=person,
                source=IncomeSource.SALARY,
                monthly_amount=(Decimal(monthly) / len(adults)).quantize(Decimal("0.01")),
            )
            position += 1
        for k, year in enumerate(children):
            ApplicationPerson.objects.create(
                application=application,
                relationship=Relationship.CHILD,
                last_name=last,
                first_name=["Léa", "Tom", "Inès"][k % 3],
                birth_date=date(year, 6, 1 + k),
                dependant=True,
                position=position,
            )
            position += 1
        _refresh(application)
        created += 1
    return created


def pick_dwellings(agency, today: date, count: int = 2) -> list[Dwelling]:
    """Vacant T3 (else any vacant) dwellings of the agency not yet on an agenda, with ≥ 3 candidates."""
    vacant = (
        Dwelling.objects.filter(building__estate__agency=agency, status=DwellingStatus.VACANT)
        .exclude(caleol_items__isnull=False)
        .with_place()
        .order_by("typology", "reference")
    )
    preferred = sorted(vacant, key=lambda d: (d.typology != "T3", d.reference))
    picked = []
    for dwelling in preferred:
        qs, _criteria = matching.eligible_applications(
            dwelling, base=Application.objects.filter(agency=agency), on=today
        )
        if qs[:3].count() >= 3:
            picked.append(dwelling)
            if len(picked) == count:
                break
    return picked


@transaction.atomic
def seed(*, now=None) -> Seeded:
    now = now or timezone.now()
    today = timezone.localdate(now)
    result = Seeded()
    ensure_parameters()
    ensure_allocation_parameters()
    president, members = ensure_members()
    agency = Agency.objects.get(code=AGENCY_CODE)
    current = Session.objects.filter(
        agency=agency, place=DEMO_PLACE, status=SessionStatus.OPEN, closes_at__gt=now, president=president
    ).first()
    if current is not None:
        result.session = current
        result.history = seed_history(today, president, members)
        return result

    dwellings = pick_dwellings(agency, today)
    if len(dwellings) < 2:
        result.applications = create_applications(agency, today)
        dwellings = pick_dwellings(agency, today)
    if not dwellings:
        raise LookupError("Aucun logement vacant de Seine Aval avec trois candidats éligibles.")

    session = services.session_create(
        agency=agency,
        held_on=today,
        place=DEMO_PLACE,
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=7),
        quorum=3,
        president=president,
    )
    for user, (_u, _f, _l, capacity) in zip(members, MEMBERS, strict=True):
        services.member_add(session=session, user=user, voting_right=VotingRight.DELIBERATIVE, capacity=capacity)
    first = dwellings[0]
    qs, _criteria = matching.eligible_applications(first, base=Application.objects.filter(agency=agency), on=today)
    services.agenda_add(session=session, dwelling=first, applications=list(qs[:3]), on=today)
    services.session_transition(session=session, to_status=SessionStatus.OPEN, now=now)
    result.session = session
    result.created = True
    result.free_dwelling = dwellings[1] if len(dwellings) > 1 else None
    result.history = seed_history(today, president, members, keep=result.free_dwelling)
    return result


def _aware(day: date, hour: int):
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=timezone.get_current_timezone())


def _history_dwelling(agency, held_on: date, keep=None, *, modest_first: bool = False):
    """A vacant dwelling of the agency, never on an agenda, whose last lease ended well before the
    session, with at least two eligible candidates; None when there is none. `modest_first` puts the
    eligible demands with the lowest resources per person first (the first quartile shows)."""
    vacant = (
        Dwelling.objects.filter(building__estate__agency=agency, status=DwellingStatus.VACANT)
        .exclude(caleol_items__isnull=False)
        .with_place()
        .order_by("reference")
    )
    for dwelling in vacant:
        if keep is not None and dwelling.pk == keep.pk:
            continue
        last_end = (
            Lease.objects.filter(dwelling=dwelling).order_by("-ends_on").values_list("ends_on", flat=True).first()
        )
        if Lease.objects.filter(dwelling=dwelling, ends_on__isnull=True).exists():
            continue
        if last_end and last_end > held_on - timedelta(days=10):
            continue
        qs, _criteria = matching.eligible_applications(
            dwelling, base=Application.objects.filter(agency=agency), on=held_on
        )
        candidates = list(qs[:8])
        if modest_first:
            candidates.sort(key=lambda a: (a.monthly_income / max(a.household_size, 1), a.pk))
        candidates = candidates[:3]
        if len(candidates) >= 2:
            return dwelling, candidates
    return None, []


def seed_history(today: date, president, members, keep=None) -> int:
    """Signed sessions of the last months with their allocations (see the module docstring)."""
    created = 0
    for code in HISTORY_AGENCIES:
        agency = Agency.objects.filter(code=code).first()
        if agency is None:
            continue
        for back in range(HISTORY_MONTHS, 0, -1):
            held_on = (today - relativedelta(months=back)).replace(day=5)
            if Session.objects.filter(agency=agency, place=HISTORY_PLACE, held_on=held_on).exists():
                continue
            dwelling, candidates = _history_dwelling(agency, held_on, keep, modest_first=back % 2 == 1)
            if dwelling is None:
                continue
            _history_session(agency, held_on, dwelling, candidates, president, members, refuse=back % 2 == 0)
            created += 1
    return created


def _history_session(agency, held_on, dwelling, candidates, president, members, *, refuse: bool) -> None:
    session = services.session_create(
        agency=agency,
        held_on=held_on,
        place=HISTORY_PLACE,
        opens_at=_aware(held_on, 9),
        closes_at=_aware(held_on, 18),
        quorum=3,
        president=president,
    )
    for user, (_u, _f, _l, capacity) in zip(members, MEMBERS, strict=True):
        services.member_add(session=session, user=user, voting_right=VotingRight.DELIBERATIVE, capacity=capacity)
    exception = {} if len(candidates) >= 3 else {"exception_reason": "insufficient", "exception_note": "Démonstration"}
    item = services.agenda_add(session=session, dwelling=dwelling, applications=candidates, on=held_on, **exception)
    services.session_transition(session=session, to_status=SessionStatus.OPEN, now=_aware(held_on, 10))
    for member in session.members.all():
        services.member_set_presence(member=member, present=True)
    for rank, candidature in enumerate(item.candidatures.order_by("rank"), start=1):
        if rank <= 2:
            services.decision_record(candidature=candidature, kind=DecisionKind.RANKED, rank=rank, by=president)
        else:
            services.decision_record(
                candidature=candidature,
                kind=DecisionKind.NON_ATTRIBUTION,
                reasons="Classé après les deux premiers candidats",
                by=president,
            )
    services.session_transition(session=session, to_status=SessionStatus.CLOSED, now=_aware(held_on, 18))
    services.session_transition(session=session, to_status=SessionStatus.SIGNED, by=president, now=_aware(held_on, 19))
    offer = Offer.objects.get(candidature__item=item, status=OfferStatus.SENT)
    if refuse:
        kind, detail = REFUSALS[(held_on.month + agency.pk) % len(REFUSALS)]
        answered = offer.sent_on + timedelta(days=4)
        offer = services.offer_refuse(offer=offer, on=answered, kind=kind, reason=detail)
        if offer is None:
            return
    accepted = offer.sent_on + timedelta(days=5)
    offer = services.offer_accept(offer=offer, on=accepted, starts_on=accepted + timedelta(days=10))
    lease = lease_transition(lease=offer.lease, to_status=LeaseStatus.SIGNED, on=accepted + timedelta(days=6))
    services.offers_follow_up(as_of=lease.signed_on)
    lease_transition(lease=lease, to_status=LeaseStatus.ACTIVE, on=lease.starts_on)
