"""Demonstration applications on the demo agencies (`manage.py seed_applications_demo`).

Builds on `seed_demo`: a cotation grid per agency, a few hundred demands with their household,
resources, wishes and priorities, a handful of them housed (status history up to the lease
signature, for the average waiting time), radiated, suspected duplicates, and demands whose
renewal notice falls due within days. Rows are created set-based (bulk_create), then the
denormalised columns come from the same functions as the services, the scores from the set-based
rescoring and the duplicate flags from the duplicate scan. Idempotent: a second run adds nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone

from tenancies.demo import FIRST_NAMES, SURNAMES
from tenancies.models import Agency, Commune, Lease, LeaseStatus, User

from . import cotation
from .eligibility import household_category
from .models import (
    Application,
    ApplicationPerson,
    ApplicationStatus,
    ApplicationTransition,
    CancellationReason,
    CotationGrid,
    HousingSituation,
    Income,
    IncomeSource,
    PriorityCriterion,
    Relationship,
    RequestReason,
)
from .services import CriterionData, grid_create_version, members_of, refresh_duplicate_flags, validity_end

SEED = 4040
PER_AGENCY = 150
PREFIX = "DEMO-"
GRID_START = date(2026, 1, 1)
RENEWAL_WINDOW_DAYS = 60

DEMO_GRID = [
    CriterionData("anciennete", "Ancienneté de la demande (par mois)", "seniority_month", 1, cap=120),
    CriterionData("dalo", "Ménage désigné DALO par le préfet", "dalo", 400),
    CriterionData("sans_logement", "Dépourvu de logement ou hébergé (L441-1 k)", "priority", 60, "sans_logement"),
    CriterionData("violences", "Victime de violences au sein du couple (L441-1 g)", "priority", 80, "violences_couple"),
    CriterionData("expulsion", "Menacé d'expulsion sans relogement (L441-1 l)", "priority", 60, "menace_expulsion"),
    CriterionData("indigne", "Habitat indigne (L441-1 f)", "priority", 50, "habitat_indigne"),
    CriterionData("handicap", "Personne handicapée dans le foyer", "disability", 40),
    CriterionData("hebergement", "Hébergement temporaire ou foyer", "housing_situation", 30, "temporary"),
    CriterionData("suroccupation", "Logement trop petit", "reason", 20, "too_small"),
    CriterionData("famille", "Famille de 4 personnes ou plus", "household_min", 10, "4"),
    CriterionData("premier_quartile", "Ressources annuelles sous 11 000 €", "income_below", 25, "11000"),
    CriterionData("mutation", "Mutation interne", "transfer", 15),
]

SITUATIONS = [
    (HousingSituation.PRIVATE_TENANT, 35),
    (HousingSituation.HOSTED, 25),
    (HousingSituation.SOCIAL_TENANT, 10),
    (HousingSituation.TEMPORARY, 10),
    (HousingSituation.HOMELESS, 3),
    (HousingSituation.OWNER, 2),
    (HousingSituation.STUDENT, 5),
    (HousingSituation.OTHER, 10),
]
REASONS = [r.value for r in RequestReason]
PRIORITY_CODES = ["sans_logement", "violences_couple", "menace_expulsion", "habitat_indigne", "handicap", "defavorise"]


def _weighted(rng, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


@dataclass
class Seeded:
    grids: int = 0
    applications: int = 0
    people: int = 0
    duplicates: int = 0


def seed_grids(today: date) -> int:
    created = 0
    for agency in Agency.objects.order_by("code"):
        if not CotationGrid.objects.filter(agency=agency).exists():
            grid_create_version(
                agency=agency, valid_from=GRID_START, criteria=DEMO_GRID, note="Grille du PPGD", today=GRID_START
            )
            created += 1
    return created


def _person(rng, relationship, last, born, *, dependant=False, income=None, disabled=False):
    sex = rng.choice("FM")
    generation = 0 if born.year < 1960 else 1 if born.year < 1990 else 2
    return {
        "relationship": relationship,
        "last_name": last,
        "first_name": rng.choice(FIRST_NAMES[sex, generation]),
        "birth_date": born,
        "dependant": dependant,
        "disability_card": disabled,
        "tax_income": income,
    }


def _household(rng, today):
    last = rng.choice(SURNAMES)
    age = rng.randint(19, 78)
    born = today - timedelta(days=age * 365 + rng.randint(0, 364))
    income = Decimal(rng.randint(4_000, 42_000))
    people = [_person(rng, Relationship.APPLICANT, last, born, income=income, disabled=rng.random() < 0.06)]
    if age < 70 and rng.random() < 0.45:
        partner_born = born + timedelta(days=rng.randint(-2500, 2500))
        partner_income = Decimal(rng.randint(0, 28_000)) if rng.random() < 0.7 else None
        people.append(_person(rng, Relationship.SPOUSE, last, partner_born, income=partner_income))
    if 22 <= age <= 55:
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3, 4])):
            child_age = rng.randint(0, min(age - 18, 20))
            child_born = today - timedelta(days=child_age * 365 + rng.randint(0, 364))
            if child_born <= born:
                continue
            people.append(_person(rng, Relationship.CHILD, last, child_born, dependant=True))
    return people


@transaction.atomic
def seed_applications(*, today: date | None = None, per_agency: int = PER_AGENCY) -> Seeded:
    today = today or timezone.localdate()
    result = Seeded(grids=seed_grids(today))
    if Application.objects.filter(local_number__startswith=PREFIX).exists():
        return result
    rng = random.Random(SEED)
    criteria = {c.code: c for c in PriorityCriterion.objects.all()}
    creators = {
        a.pk: User.objects.filter(agencies=a, groups__name="charge_clientele").first() for a in Agency.objects.all()
    }
    plans = []  # (application, people dicts, incomes, communes, criteria, history)
    n = 0
    for agency in Agency.objects.order_by("code"):
        communes = list(Commune.objects.filter(estates__agency=agency).distinct())
        leases = list(
            Lease.objects.filter(dwelling__building__estate__agency=agency, status=LeaseStatus.ACTIVE).order_by("pk")[
                :20
            ]
        )
        for i in range(per_agency):
            n += 1
            people = _household(rng, today)
            # Seniority: mostly under 3 years; a few demands expire within the next weeks.
            if i < 6:
                first = today - relativedelta(years=rng.randint(1, 3)) + timedelta(days=rng.randint(20, 40))
            else:
                first = today - timedelta(days=rng.randint(10, 5 * 365))
            last_renewed, expires = _validity(first, today)
            if i >= 6 and expires <= today + timedelta(days=RENEWAL_WINDOW_DAYS):
                first -= timedelta(days=RENEWAL_WINDOW_DAYS)  # keep the renewals due to the planned few
                last_renewed, expires = _validity(first, today)
            size = len(people)
            typology = f"T{min(max(size, 1) + (0 if size > 1 else 0), 6)}"
            wished = sorted({typology, f"T{min(max(size - 1, 1), 6)}"})
            status = ApplicationStatus.ACTIVE
            housed_on = None
            if i % 25 == 7:
                status = ApplicationStatus.LEASE_SIGNED
                housed_on = first + timedelta(days=rng.randint(120, 900))
                if housed_on >= today:
                    status, housed_on = ApplicationStatus.ACTIVE, None
            elif i % 30 == 11:
                status = ApplicationStatus.CANCELLED
            application = Application(
                agency=agency,
                kind="new",
                national_number=f"078{first:%y}{n:07d}" if rng.random() < 0.85 else "",
                local_number=f"{PREFIX}{n:06d}",
                status=status,
                first_registered_on=first,
                last_renewed_on=last_renewed,
                expires_on=expires,
                housing_situation=_weighted(rng, SITUATIONS),
                current_rent=Decimal(rng.randint(350, 950)) if rng.random() < 0.5 else None,
                reasons=sorted(set(rng.sample(REASONS, rng.randint(1, 2)))),
                wished_typologies=wished,
                max_floor=rng.choice([None, None, None, 2, 4]),
                needs_elevator=rng.random() < 0.1,
                needs_accessible=any(p["disability_card"] for p in people),
                max_rent=Decimal(rng.choice([450, 550, 650, 750])) if rng.random() < 0.4 else None,
                dalo=rng.random() < 0.03,
                created_by=creators.get(agency.pk),
            )
            if i % 20 == 3 and leases:
                application.kind = "transfer"
                application.current_lease = leases.pop()
                application.housing_situation = HousingSituation.SOCIAL_TENANT
            if application.dalo:
                application.dalo_designated_on = first + timedelta(days=200)
            if status == ApplicationStatus.CANCELLED:
                application.cancellation_reason = CancellationReason.RENUNCIATION
                application.cancelled_on = today - timedelta(days=rng.randint(5, 200))
            incomes = []
            for index, p in enumerate(people):
                if p["relationship"] != Relationship.CHILD and p["tax_income"]:
                    source = rng.choice(
                        [
                            IncomeSource.SALARY,
                            IncomeSource.SALARY,
                            IncomeSource.UNEMPLOYMENT,
                            IncomeSource.PENSION,
                            IncomeSource.RSA,
                        ]
                    )
                    incomes.append((index, source, (p["tax_income"] / 12 * Decimal("1.05")).quantize(Decimal("1"))))
            chosen = [criteria[c] for c in rng.sample(PRIORITY_CODES, rng.choice([0, 0, 0, 1, 1, 2])) if c in criteria]
            wished_communes = rng.sample(communes, rng.randint(1, len(communes))) if communes else []
            plans.append((application, people, incomes, wished_communes, chosen, housed_on))
    # Duplicates: the applicant of a few demands also registered in another demand.
    duplicates = 0
    for k in range(3):
        source = plans[13 + k][1][0]
        plans[63 + k][1][0] = {
            **plans[63 + k][1][0],
            "last_name": source["last_name"],
            "first_name": source["first_name"],
            "birth_date": source["birth_date"],
        }
        duplicates += 1
    # Denormalised columns from the same functions as the services.
    for application, people, incomes, _, _, _ in plans:
        persons = [ApplicationPerson(**p) for p in people]
        application.household_size = len(persons)
        application.category = household_category(members_of(persons), as_of=today)
        application.reference_income = sum((p.tax_income or Decimal(0) for p in persons), Decimal("0.00"))
        application.monthly_income = sum((amount for _, _, amount in incomes), Decimal("0.00"))
    Application.objects.bulk_create([plan[0] for plan in plans])
    person_rows, income_rows, commune_rows, criteria_rows, transitions = [], [], [], [], []
    Through = Application.wished_communes.through
    CriteriaThrough = Application.priority_criteria.through
    for application, people, incomes, communes, chosen, housed_on in plans:
        rows = []
        for position, p in enumerate(people):
            row = ApplicationPerson(application=application, position=position, **p)
            row.search_name = _search_name(row)
            rows.append(row)
        person_rows.append((rows, incomes))
        commune_rows += [Through(application_id=application.pk, commune_id=c.pk) for c in communes]
        criteria_rows += [CriteriaThrough(application_id=application.pk, prioritycriterion_id=c.pk) for c in chosen]
        first = application.first_registered_on
        transitions += [
            ApplicationTransition(
                application=application,
                from_status="",
                to_status="registered",
                on=first,
                reason="Enregistrement de la demande",
            ),
            ApplicationTransition(
                application=application, from_status="registered", to_status="active", on=first, reason="Demande valide"
            ),
        ]
        if application.status == ApplicationStatus.LEASE_SIGNED:
            offer = housed_on - timedelta(days=30)
            chain = [
                ("active", "under_review", offer - timedelta(days=20)),
                ("under_review", "presented", offer - timedelta(days=10)),
                ("presented", "offer_sent", offer),
                ("offer_sent", "accepted", offer + timedelta(days=8)),
                ("accepted", "lease_signed", housed_on),
            ]
            transitions += [
                ApplicationTransition(application=application, from_status=a, to_status=b, on=d, reason="Attribution")
                for a, b, d in chain
            ]
        elif application.status == ApplicationStatus.CANCELLED:
            transitions.append(
                ApplicationTransition(
                    application=application,
                    from_status="active",
                    to_status="cancelled",
                    on=application.cancelled_on,
                    reason="Renonciation du demandeur",
                )
            )
    ApplicationPerson.objects.bulk_create([p for rows, _ in person_rows for p in rows])
    for rows, incomes in person_rows:
        income_rows += [
            Income(person=rows[index], source=source, monthly_amount=amount) for index, source, amount in incomes
        ]
    Income.objects.bulk_create(income_rows)
    Through.objects.bulk_create(commune_rows)
    CriteriaThrough.objects.bulk_create(criteria_rows)
    ApplicationTransition.objects.bulk_create(transitions)
    cotation.rescore_all(as_of=today, cause="Cotation initiale (démonstration)")
    refresh_duplicate_flags(ids=None)
    result.applications = len(plans)
    result.people = sum(len(rows) for rows, _ in person_rows)
    result.duplicates = duplicates
    return result


def _validity(first: date, today: date) -> tuple[date | None, date]:
    """(last renewal, expiry) of a demand renewed every year since `first`."""
    last_renewed, expires = None, validity_end(first)
    while expires <= today:
        last_renewed, expires = expires, validity_end(expires)
    return last_renewed, expires


def _search_name(person) -> str:
    from tenancies.models import normalize_search

    return normalize_search(f"{person.last_name} {person.first_name}")
