"""Matching a vacant dwelling: filters, ranking, solvency figures, reservataire marks."""

from datetime import date
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from applications.committee import matching
from applications.models import Application, ApplicationStatus
from tenancies.models import Accessibility
from tests.factories import CommuneFactory

from .conftest import TODAY
from .factories import ApplicationFactory


def ranked_ids(dwelling):
    candidates, _criteria, _cost = matching.rank_candidates(dwelling, on=TODAY)
    return [c.application.pk for c in candidates]


def test_ranked_by_score_then_seniority(vacant, applications):
    a300, a200, a100_old, a100_new = applications
    assert ranked_ids(vacant) == [a300.pk, a200.pk, a100_old.pk, a100_new.pk]


def test_filters_size_ceiling_status_and_wishes(world, vacant, applications):
    agency = world["A"].agency
    other_commune = CommuneFactory(name="Ailleurs")
    excluded = [
        ApplicationFactory(agency=agency, household_size=1, category=1, people=[("applicant", date(1970, 1, 1))]),
        ApplicationFactory(agency=agency, household_size=5, category=5),  # T3 takes 2 to 4 persons
        ApplicationFactory(agency=agency, reference_income=Decimal("48362.01")),  # PLUS IdF 2026 cat. 3 = 48 362
        ApplicationFactory(agency=agency, status=ApplicationStatus.CANCELLED, cancellation_reason="renunciation"),
        ApplicationFactory(agency=agency, wished_typologies=["T4", "T5"]),
        ApplicationFactory(agency=agency, max_floor=1),
        ApplicationFactory(agency=agency, needs_elevator=True),  # 2nd floor, no elevator
        ApplicationFactory(agency=agency, needs_accessible=True),
        ApplicationFactory(agency=agency, max_rent=Decimal("472.49")),  # 412,50 + 60,00
    ]
    wrong_commune = ApplicationFactory(agency=agency)
    wrong_commune.wished_communes.set([other_commune])
    included = [
        ApplicationFactory(agency=agency, reference_income=Decimal("48362.00")),
        ApplicationFactory(agency=agency, wished_typologies=["T3"], max_floor=2, max_rent=Decimal("472.50")),
        ApplicationFactory(agency=agency, status=ApplicationStatus.REFUSED),
    ]
    right_commune = ApplicationFactory(agency=agency)
    right_commune.wished_communes.set([world["A"].commune, other_commune])
    ids = set(ranked_ids(vacant))
    assert ids >= {a.pk for a in [*applications, *included, right_commune]}
    assert not ids & {a.pk for a in [*excluded, wrong_commune]}

    vacant.accessibility = Accessibility.ACCESSIBLE
    vacant.save()
    assert excluded[7].pk in set(ranked_ids(vacant))


def test_solvency_figures_and_reservataire(vacant, applications):
    candidates, criteria, cost = matching.rank_candidates(vacant, on=TODAY)
    assert cost.total == Decimal("472.50")
    assert criteria.min_persons == 2 and criteria.max_persons == 4
    first = candidates[0]
    # zone II, 3 persons: min(412,50 ; 399) + 85 - max(39,75 ; 0,30 × 1 600) = 4,00
    assert first.solvency.apl_estimate == Decimal("4.00")
    assert first.solvency.effort_rate == Decimal("29.28")  # (472,50 - 4) / 1 600
    assert first.solvency.units == Decimal("1.8")
    assert first.solvency.daily_rest == Decimal("20.95")  # (1 600 - 468,50) / 1,8 / 30
    assert candidates[1].application.get_reservataire_display() == "Préfet"


def test_matching_costs_a_bounded_number_of_queries(vacant, applications, world):
    for _ in range(20):
        ApplicationFactory(agency=world["A"].agency)
    with CaptureQueriesContext(connection) as ctx:
        candidates, _c, _cost = matching.rank_candidates(vacant, on=TODAY)
    assert len(candidates) == 24
    assert len(ctx.captured_queries) <= 23  # constant: two ceiling reads per household category


def test_territory_restricts_the_candidates(world, vacant, applications, agent, other_agency_agent):
    b_app = ApplicationFactory(agency=world["B"].agency, score=999)
    base = Application.objects.for_user(agent)
    candidates, _c, _cost = matching.rank_candidates(vacant, base=base, on=TODAY)
    assert b_app.pk not in [c.application.pk for c in candidates]
