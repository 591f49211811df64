from datetime import date
from decimal import Decimal

import pytest

from applications.cotation import rescore_all, score_breakdown
from applications.models import (
    Application,
    ApplicationStatus,
    ApplicationTransition,
    PriorityCriterion,
    Relationship,
    ScoreChange,
)
from applications.services import ApplicationError, PersonData

from .factories import GRID, make_application, make_grid, person

pytestmark = pytest.mark.django_db


def couple(born_a, born_b, income_a="17500.00", income_b="17500.00"):
    return [
        person(Relationship.APPLICANT, "DURAND", "Léa", born_a, tax_income=Decimal(income_a)),
        person(Relationship.SPOUSE, "DURAND", "Marc", born_b, tax_income=Decimal(income_b)),
    ]


def test_register_sets_numbers_dates_status_history_and_denormalised_columns(world, agent):
    agency = world["A"].agency
    app = make_application(
        agency,
        people=[
            person(tax_income=Decimal("20000.00"), incomes=[("salary", Decimal("1500.00"))]),
            person(Relationship.CHILD, "MARTIN", "Tom", date(2015, 2, 1), dependant=True),
        ],
        by=agent,
    )
    assert app.local_number.startswith("L2026-") and app.number == app.local_number
    assert app.first_registered_on == date(2026, 3, 2)
    assert app.expires_on == date(2027, 3, 2)  # application_validity: 12 months
    assert app.status == ApplicationStatus.ACTIVE
    assert list(app.transitions.values_list("from_status", "to_status")) == [
        ("", "registered"),
        ("registered", "active"),
    ]
    assert (app.household_size, app.category) == (2, 3)  # one adult + 1 dependant
    assert app.reference_income == Decimal("20000.00")
    assert app.monthly_income == Decimal("1500.00")


def test_jeune_menage_e1_1(world):
    on = date(2026, 6, 1)
    young = make_application(world["A"].agency, people=couple(date(2000, 1, 1), date(1999, 1, 1)), on=on)
    assert young.category == 3 and young.reference_income == Decimal("35000.00")
    older = make_application(world["A"].agency, people=couple(date(1996, 1, 1), date(1998, 1, 1)), on=on)
    assert older.category == 2


def test_income_drop_rule_e1_3(world):
    people = [person(tax_income=Decimal("40000.00"))]
    app = make_application(
        world["A"].agency, people=people, income_basis="last_12_months", recent_income=Decimal("35500")
    )
    assert app.reference_income == Decimal("35500.00")
    with pytest.raises(ApplicationError, match="10 %"):
        make_application(world["A"].agency, people=people, income_basis="tax_n1", recent_income=Decimal("36500"))


@pytest.mark.parametrize(
    ("people", "message"),
    [
        ([person(born=date(2030, 1, 1))], "futur"),
        (
            [person(born=date(2000, 1, 1)), person(Relationship.CHILD, "MARTIN", "Léo", date(1995, 1, 1))],
            "plus âgé",
        ),
        ([person(Relationship.SPOUSE)], "exactement un demandeur"),
    ],
)
def test_inconsistent_household_is_refused_and_nothing_saved(world, people, message):
    with pytest.raises(ApplicationError, match=message):
        make_application(world["A"].agency, people=people)
    assert not Application.objects.exists()
    assert not ApplicationTransition.objects.exists()


def test_score_breakdown_and_set_based_rescore_agree(world):
    agency = world["A"].agency
    make_grid(agency, valid_from=date(2026, 1, 1))
    app = make_application(
        agency,
        people=[person(tax_income=Decimal("9000.00"), disability_card=True)],
        on=date(2026, 3, 2),
        first_registered_on=date(2024, 3, 2),
        reasons=["violence", "no_housing"],
        criteria=[PriorityCriterion.objects.get(code="sans_logement")],
    )
    breakdown = score_breakdown(app, as_of=date(2026, 3, 2))
    points = {line.criterion.code: line.points for line in breakdown.lines}
    assert points == {
        "anciennete": 48,  # 24 months x 2
        "dalo": 0,
        "sans_logement": 80,
        "heberge": 30,
        "violences": 120,
        "handicap": 60,
        "famille": 0,
        "ressources": 40,
        "mutation": 0,
    }
    assert app.score == breakdown.total == 378
    # One month later the daily (set-based) recompute moves seniority by 2 points and records why; the
    # other facts (priority criteria, disability) give the same points as the one-application path.
    assert rescore_all(as_of=date(2026, 4, 2), cause="Recalcul quotidien") == 1
    app.refresh_from_db()
    assert app.score == 380
    change = ScoreChange.objects.filter(application=app).first()
    assert (change.old_score, change.new_score, change.cause) == (378, 380, "Recalcul quotidien")


def test_new_grid_version_rescores_the_agency_and_keeps_the_old_version(world):
    agency = world["A"].agency
    first = make_grid(agency, valid_from=date(2026, 1, 1))
    app = make_application(agency, on=date(2026, 3, 2))
    assert app.score == 30  # hosted
    criteria = [*GRID[:3], GRID[3].__class__("heberge", "Hébergé chez des tiers", "housing_situation", 50, "hosted")]
    second = make_grid(agency, valid_from=date(2026, 3, 2), criteria=criteria, today=date(2026, 3, 2))
    first.refresh_from_db()
    assert first.valid_until == date(2026, 3, 2) and second.version == 2
    app.refresh_from_db()
    assert app.score == 50
    assert app.score_changes.first().cause == "Nouvelle grille de cotation (version 2)"
    with pytest.raises(ApplicationError, match="passé"):
        make_grid(agency, valid_from=date(2026, 3, 1), today=date(2026, 3, 2))


def test_people_update_keeps_seniority_and_refreshes(world):
    from applications.services import application_update

    app = make_application(world["A"].agency)
    people = [
        PersonData(**{**person(tax_income=Decimal("18000.00")).__dict__, "id": app.people.get().pk}),
        person(Relationship.SPOUSE, "MARTIN", "Paul", date(1988, 1, 1), tax_income=Decimal("12000.00")),
    ]
    app = application_update(
        application=app,
        data={"housing_situation": "hosted", "reasons": ["too_small"], "wished_typologies": ["T3"]},
        people=people,
        on=date(2026, 4, 1),
    )
    assert (app.household_size, app.reference_income, app.first_registered_on) == (
        2,
        Decimal("30000.00"),
        date(2026, 3, 2),
    )
