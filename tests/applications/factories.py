"""Builders for applications, set up through the services so the real write path runs."""

from datetime import date
from decimal import Decimal

from applications.models import HousingSituation, Relationship
from applications.services import CriterionData, PersonData, application_register, grid_create_version

REGISTERED_ON = date(2026, 3, 2)


def person(relationship=Relationship.APPLICANT, last="MARTIN", first="Claire", born=date(1990, 5, 4), **extra):
    return PersonData(relationship=relationship, last_name=last, first_name=first, birth_date=born, **extra)


def make_application(agency, *, people=None, on=REGISTERED_ON, communes=(), criteria=(), by=None, **data):
    data.setdefault("housing_situation", HousingSituation.HOSTED)
    data.setdefault("reasons", ["no_housing"])
    data.setdefault("wished_typologies", ["T2", "T3"])
    people = people if people is not None else [person(tax_income=Decimal("18000.00"))]
    return application_register(
        agency=agency,
        data=data,
        people=people,
        wished_communes=communes,
        priority_criteria=criteria,
        by=by,
        on=on,
    )


GRID = [
    CriterionData("anciennete", "Ancienneté (par mois)", "seniority_month", 2, cap=240),
    CriterionData("dalo", "Désignation DALO", "dalo", 500),
    CriterionData("sans_logement", "Dépourvu de logement (L441-1 k)", "priority", 80, parameter="sans_logement"),
    CriterionData("heberge", "Hébergé chez des tiers", "housing_situation", 30, parameter="hosted"),
    CriterionData("violences", "Violences familiales", "reason", 120, parameter="violence"),
    CriterionData("handicap", "Handicap dans le foyer", "disability", 60),
    CriterionData("famille", "Famille de 4 personnes ou plus", "household_min", 20, parameter="4"),
    CriterionData("ressources", "Ressources inférieures à 12 000 €", "income_below", 40, parameter="12000"),
    CriterionData("mutation", "Demande de mutation", "transfer", 10),
]


def make_grid(agency, *, valid_from=date(2026, 1, 1), criteria=None, today=None):
    return grid_create_version(
        agency=agency, valid_from=valid_from, criteria=criteria or GRID, today=today or valid_from, note="Grille test"
    )
