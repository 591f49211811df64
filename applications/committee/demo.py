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

Idempotent: a second run changes nothing while the demo session is still open; once it has
closed, a new one is opened.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

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
from tenancies.models import Agency, Dwelling, DwellingStatus, User
from tenancies.roles import Role

from . import matching, services
from .models import Session, SessionStatus, VotingRight
from .reference import ensure_parameters

DEMO_PLACE = ""  # remote session
LOCAL_PREFIX = "CALEOL-DEMO-"
MEMBERS = [
    ("commission", "Bernard", "Roussel", "Représentant du conseil d'administration"),
    ("commission2", "Élise", "Marchand", "Représentante des locataires"),
    ("commission3", "Yves", "Caron", "Représentant du maire"),
]
PRESIDENT = ("president.caleol", "Monique", "Vasseur", "Présidente")
AGENCY_CODE = "SA"


@dataclass
class Seeded:
    users: int = 0
    applications: int = 0
    session: Session | None = None
    created: bool = False
    free_dwelling: Dwelling | None = None


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
    president, members = ensure_members()
    agency = Agency.objects.get(code=AGENCY_CODE)
    current = Session.objects.filter(
        agency=agency, place=DEMO_PLACE, status=SessionStatus.OPEN, closes_at__gt=now, president=president
    ).first()
    if current is not None:
        result.session = current
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
    return result
