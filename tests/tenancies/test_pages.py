"""Stock and tenancy pages: content, scoping, bad input, query counts."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from tenancies import services
from tenancies.models import LeaseStatus
from tests.factories import DwellingFactory, HouseholdFactory, PersonFactory

LIST_PAGES = [
    "tenancies:estate_list",
    "tenancies:dwelling_list",
    "tenancies:household_list",
    "tenancies:lease_list",
]


def _stock(world, n=30):
    """n more let dwellings in agency A, so that lists have two pages."""
    for i in range(n):
        dwelling = DwellingFactory(building=world["A"].building, reference=f"AAA-X-{i:03d}")
        household = HouseholdFactory(agency=world["A"].agency)
        PersonFactory(household=household, last_name=f"Martin{i}")
        PersonFactory(household=household, last_name=f"Martin{i}", first_name="Paul", role="cotitulaire")
        lease = services.lease_create(dwelling=dwelling, household=household, starts_on=date(2025, 1, 1))
        services.lease_transition(lease=lease, to_status=LeaseStatus.SIGNED, on=date(2024, 12, 15))
        services.lease_transition(lease=lease, to_status=LeaseStatus.ACTIVE)


@pytest.mark.parametrize("name", LIST_PAGES)
def test_list_pages_cost_a_bounded_number_of_queries(client, world, agent, name, django_assert_max_num_queries):
    _stock(world)
    client.force_login(agent)
    with django_assert_max_num_queries(13):
        response = client.get(reverse(name))
    assert response.status_code == 200
    with django_assert_max_num_queries(13):
        response = client.get(reverse(name), {"page": 2})
    assert response.status_code == 200


@pytest.mark.parametrize("name", LIST_PAGES)
def test_lists_never_show_another_agency(client, world, agent, name):
    client.force_login(agent)
    body = client.get(reverse(name)).content.decode()
    assert "Zyxcanari".upper() not in body.upper()
    assert "BBB-LGT" not in body


def test_direction_sees_both_agencies(client, world, manager):
    client.force_login(manager)
    body = client.get(reverse("tenancies:dwelling_list")).content.decode()
    assert "AAA-LGT-0001" in body and "BBB-LGT-0001" in body


def test_dwelling_list_filters_and_paginates(client, world, agent):
    _stock(world)
    client.force_login(agent)
    response = client.get(reverse("tenancies:dwelling_list"), {"status": "let", "typology": "T3"})
    page = response.context["page"]
    assert page.count == 31 and not page.count_capped
    assert len(page.items) == 25 and page.has_next
    second = client.get(reverse("tenancies:dwelling_list"), {"status": "let", "typology": "T3", "page": 2})
    assert len(second.context["page"].items) == 6 and not second.context["page"].has_next
    assert client.get(reverse("tenancies:dwelling_list"), {"status": "vacant"}).context["page"].count == 0


@pytest.mark.parametrize(
    "params",
    [
        {"typology": "T9"},
        {"status": "demoli"},
        {"agency": "abc"},
        {"agency": "999999"},
        {"commune": "-1"},
        {"estate": "abc"},
        {"page": "abc"},
        {"page": "-3"},
    ],
)
def test_malformed_filters_are_ignored_with_a_message(client, world, agent, params):
    client.force_login(agent)
    response = client.get(reverse("tenancies:dwelling_list"), params)
    assert response.status_code == 200
    assert response.context["page"].count == 1  # the filter was dropped, agency A's stock is shown
    text = [str(m) for m in response.context["messages"]]
    assert any("ignoré" in m or "invalide" in m for m in text)


def test_other_agency_id_in_agency_filter_is_ignored(client, world, agent):
    client.force_login(agent)
    response = client.get(reverse("tenancies:dwelling_list"), {"agency": world["B"].agency.pk})
    assert "BBB-LGT-0001" not in response.content.decode()
    assert response.context["page"].count == 1


def test_page_past_the_end_is_empty_not_an_error(client, world, agent):
    client.force_login(agent)
    response = client.get(reverse("tenancies:lease_list"), {"page": 40})
    assert response.status_code == 200
    assert response.context["page"].items == []


def test_dwelling_page_shows_characteristics_amounts_and_lease(client, world, agent):
    client.force_login(agent)
    lease = world["A"].lease
    body = client.get(reverse("tenancies:dwelling_detail", args=[world["A"].dwelling.pk])).content.decode()
    assert "412,50\xa0€" in body  # rent
    assert "84,55\xa0€" in body  # 23,40 + 61,15 of provisions
    assert "422,50\xa0€" in body  # max rent 6,50 €/m² × 65 m²
    assert "65,00\xa0m²" in body
    assert lease.number in body
    assert "01/03/2024" in body


def test_fiche_locataire_shows_people_lease_and_contact(client, world, agent):
    client.force_login(agent)
    body = client.get(reverse("tenancies:household_detail", args=[world["A"].household.pk])).content.decode()
    assert "Mme DURANDAL Hélène" in body
    assert "17/05/1980" in body
    assert "06 11 22 33 44" in body
    assert world["A"].lease.number in body
    assert "Compte locataire" in body and "Impayés" in body and "États des lieux" in body


def test_lease_page_totals(client, world, agent):
    client.force_login(agent)
    body = client.get(reverse("tenancies:lease_detail", args=[world["A"].lease.pk])).content.decode()
    assert "497,05\xa0€" in body  # 412,50 + 84,55
    assert "20/02/2024" in body  # signed on
    assert "6 semaines" in body


def test_committee_member_cannot_open_tenant_files(client, world, committee_member):
    client.force_login(committee_member)
    assert client.get(reverse("tenancies:household_detail", args=[world["A"].household.pk])).status_code == 403
    assert client.get(reverse("tenancies:lease_list")).status_code == 403
    assert client.get(reverse("tenancies:dwelling_list")).status_code == 200


def test_navigation_follows_the_role(client, world, committee_member, agent):
    client.force_login(committee_member)
    links = dict(client.get(reverse("home")).context["nav_links"])
    assert "Logements" in links and "Locataires et ménages" not in links
    client.force_login(agent)
    links = dict(client.get(reverse("home")).context["nav_links"])
    assert {"Résidences", "Logements", "Locataires et ménages", "Baux"} <= set(links)
    assert "Quittancement mensuel" not in links


def test_home_counts_the_users_stock_only(client, world, agent):
    client.force_login(agent)
    response = client.get(reverse("home"))
    assert response.context["dwelling_total"] == 1


# --- Lease status form -----------------------------------------------------------------------


def test_agent_gives_notice_through_the_page(client, world, agent):
    client.force_login(agent)
    lease = world["A"].lease
    response = client.post(
        reverse("tenancies:lease_transition", args=[lease.pk]), {"to_status": "notice_given", "reason": "Congé"}
    )
    assert response.status_code == 302
    lease.refresh_from_db()
    assert lease.status == LeaseStatus.NOTICE_GIVEN
    assert lease.transitions.last().by == agent


def test_missing_end_date_is_reported_in_french_and_nothing_saved(client, world, agent):
    client.force_login(agent)
    lease = world["A"].lease
    response = client.post(reverse("tenancies:lease_transition", args=[lease.pk]), {"to_status": "ended"})
    assert response.status_code == 400
    assert "Indiquez la date de signature ou de fin." in response.content.decode()
    lease.refresh_from_db()
    assert lease.status == LeaseStatus.ACTIVE and lease.ends_on is None


def test_illegal_status_is_refused(client, world, agent):
    client.force_login(agent)
    lease = world["A"].lease
    response = client.post(reverse("tenancies:lease_transition", args=[lease.pk]), {"to_status": "draft"})
    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in response.content.decode()
    lease.refresh_from_db()
    assert lease.status == LeaseStatus.ACTIVE


def test_extra_posted_fields_are_ignored(client, world, agent):
    client.force_login(agent)
    lease = world["A"].lease
    client.post(
        reverse("tenancies:lease_transition", args=[lease.pk]),
        {"to_status": "notice_given", "rent": "1.00", "deposit": "0", "dwelling": world["B"].dwelling.pk},
    )
    lease.refresh_from_db()
    assert lease.rent == Decimal("412.50") and lease.dwelling == world["A"].dwelling


def test_inspector_may_read_but_not_change_a_lease(client, world, inspector):
    client.force_login(inspector)
    lease = world["A"].lease
    assert client.get(reverse("tenancies:lease_detail", args=[lease.pk])).status_code == 200
    response = client.post(reverse("tenancies:lease_transition", args=[lease.pk]), {"to_status": "notice_given"})
    assert response.status_code == 403
    lease.refresh_from_db()
    assert lease.status == LeaseStatus.ACTIVE


# --- Search ----------------------------------------------------------------------------------


def test_search_finds_a_household_by_name_without_accents(client, world, agent):
    PersonFactory(household=HouseholdFactory(agency=world["A"].agency), last_name="Lefèvre", first_name="Loïc")
    PersonFactory(household=HouseholdFactory(agency=world["A"].agency), last_name="Lefevre", first_name="Anne")
    client.force_login(agent)
    response = client.get(reverse("tenancies:search"), {"q": "lefevre"})
    names = [h.display_name for h in response.context["results"]["households"]]
    assert names == ["Mme LEFEVRE Anne", "Mme LEFÈVRE Loïc"]


def test_search_with_one_hit_opens_the_record(client, world, agent):
    client.force_login(agent)
    response = client.get(reverse("tenancies:search"), {"q": "durandal helene"})
    assert response.status_code == 302
    assert response["Location"] == reverse("tenancies:household_detail", args=[world["A"].household.pk])
    response = client.get(reverse("tenancies:search"), {"q": world["A"].lease.number.lower()})
    assert response["Location"] == reverse("tenancies:lease_detail", args=[world["A"].lease.pk])
    response = client.get(reverse("tenancies:search"), {"q": "aaa-lgt-0001"})
    assert response["Location"] == reverse("tenancies:dwelling_detail", args=[world["A"].dwelling.pk])


def test_search_never_finds_another_agency(client, world, agent):
    client.force_login(agent)
    for q in ("zyxcanari", "BBB-LGT", world["B"].lease.number):
        response = client.get(reverse("tenancies:search"), {"q": q})
        assert response.status_code == 200
        assert all(not v for v in response.context["results"].values())


def test_search_too_short_is_explained(client, world, agent):
    client.force_login(agent)
    response = client.get(reverse("tenancies:search"), {"q": "a"})
    assert response.status_code == 200
    assert "Saisissez au moins 2 caractères." in [str(m) for m in response.context["messages"]]


def test_building_page_and_search_cost_a_bounded_number_of_queries(client, world, agent, django_assert_max_num_queries):
    _stock(world)
    client.force_login(agent)
    with django_assert_max_num_queries(11):
        assert client.get(reverse("tenancies:building_detail", args=[world["A"].building.pk])).status_code == 200
    with django_assert_max_num_queries(14):
        response = client.get(reverse("tenancies:search"), {"q": "martin"})
    assert len(response.context["results"]["households"]) == 10


def test_dwelling_list_by_estate_names_the_estate(client, world, agent):
    client.force_login(agent)
    response = client.get(reverse("tenancies:dwelling_list"), {"estate": world["A"].estate.pk})
    assert response.context["page"].count == 1
    assert "Logements — Résidence Durandal" in response.content.decode()
    # another agency's estate: nothing, and its name is not revealed
    response = client.get(reverse("tenancies:dwelling_list"), {"estate": world["B"].estate.pk})
    assert response.context["page"].count == 0 and "Zyxcanari" not in response.content.decode()
