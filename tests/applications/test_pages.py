from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from applications.models import Application, ApplicationPerson, Income
from tenancies.models import ReadLog

from .factories import make_application, make_grid, person

pytestmark = pytest.mark.django_db


def form_data(world, *, people, incomes=(), **extra):
    data = {
        "agency": world["A"].agency.pk,
        "kind": "new",
        "national_number": "",
        "first_registered_on": "",
        "lease_number": "",
        "housing_situation": "hosted",
        "reasons": ["no_housing"],
        "wished_communes": [world["A"].commune.pk],
        "wished_typologies": ["T2", "T3"],
        "income_basis": "tax_n2",
        "people-TOTAL_FORMS": str(len(people)),
        "people-INITIAL_FORMS": "0",
        "incomes-TOTAL_FORMS": str(len(incomes)),
        "incomes-INITIAL_FORMS": "0",
    }
    for i, p in enumerate(people):
        for key, value in p.items():
            data[f"people-{i}-{key}"] = value
    for i, inc in enumerate(incomes):
        for key, value in inc.items():
            data[f"incomes-{i}-{key}"] = value
    data.update(extra)
    return data


ADULT = {
    "relationship": "applicant",
    "last_name": "Benali",
    "first_name": "Samia",
    "birth_date": "12/04/1988",
    "tax_income": "21 500,00",
    "tax_year": "2024",
}
CHILD = {
    "relationship": "child",
    "last_name": "Benali",
    "first_name": "Yanis",
    "birth_date": "03/09/2014",
    "dependant": "on",
}


def test_chargé_registers_with_household_and_income_then_sees_eligibility_and_score(client, world, agent):
    make_grid(world["A"].agency, valid_from=date(2020, 1, 1))
    client.force_login(agent)
    assert client.get(reverse("applications:application_create")).status_code == 200
    response = client.post(
        reverse("applications:application_create"),
        form_data(
            world, people=[ADULT, CHILD], incomes=[{"person": "1", "source": "salary", "monthly_amount": "1 650,00"}]
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    app = Application.objects.get()
    assert (app.household_size, app.category, app.reference_income, app.monthly_income) == (
        2,
        3,
        Decimal("21500.00"),
        Decimal("1650.00"),
    )
    assert app.created_by == agent and app.score == 30
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "Samia BENALI" in html and "catégorie 3" in html
    assert "PLUS" in html and "éligible" in html
    assert "2025 (dernier barème chargé)" in html  # PLAI 2026 is not published: the 2025 table is used
    assert "30 points" in html and "rang 1 sur 1" in html
    assert ReadLog.objects.filter(record_type="applications.application", record_id=app.pk).count() == 1


def test_income_above_every_ceiling_is_registered_and_said_clearly(client, world, agent):
    client.force_login(agent)
    rich = {**ADULT, "tax_income": "250 000,00"}
    response = client.post(reverse("applications:application_create"), form_data(world, people=[rich]), follow=True)
    html = response.content.decode()
    assert Application.objects.count() == 1
    assert "dépassent tous les plafonds" in html
    assert "non éligible" in html and "au-dessus de tous les plafonds" in html


@pytest.mark.parametrize(
    ("people", "message"),
    [
        ([{**ADULT, "birth_date": "01/01/2099"}], "La date de naissance ne peut pas être dans le futur."),
        ([ADULT, {**CHILD, "birth_date": "01/01/1980"}], "est plus âgé(e) que Samia Benali"),
    ],
)
def test_inconsistent_household_french_message_nothing_saved(client, world, agent, people, message):
    client.force_login(agent)
    response = client.post(reverse("applications:application_create"), form_data(world, people=people))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Application.objects.exists() and not ApplicationPerson.objects.exists()


def test_transfer_needs_a_current_lease_of_the_agency(client, world, agent):
    client.force_login(agent)
    data = form_data(world, people=[ADULT], kind="transfer", lease_number=world["B"].lease.number)
    response = client.post(reverse("applications:application_create"), data)
    assert response.status_code == 400 and "Aucun bail en cours" in response.content.decode()
    data["lease_number"] = world["A"].lease.number
    assert client.post(reverse("applications:application_create"), data).status_code == 302
    assert Application.objects.get().current_lease == world["A"].lease


def test_edit_replaces_household_and_incomes(client, world, agent):
    app = make_application(world["A"].agency, people=[person(tax_income=Decimal("15000.00"))])
    client.force_login(agent)
    url = reverse("applications:application_edit", args=[app.pk])
    assert client.get(url).status_code == 200
    p = app.people.get()
    data = form_data(
        world,
        people=[
            {**ADULT, "id": p.pk},
            {
                "relationship": "spouse",
                "last_name": "Benali",
                "first_name": "Karim",
                "birth_date": "01/02/1987",
                "tax_income": "9 000",
            },
        ],
        incomes=[{"person": "2", "source": "unemployment", "monthly_amount": "800"}],
    )
    data["people-INITIAL_FORMS"] = "1"
    del data["agency"]
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    app.refresh_from_db()
    assert (app.household_size, app.reference_income, app.monthly_income) == (2, Decimal("30500.00"), Decimal("800.00"))
    assert ApplicationPerson.objects.get(pk=p.pk).first_name == "Samia"  # same row, updated
    assert Income.objects.get().person.first_name == "Karim"


def test_cancel_and_renew_actions(client, world, agent):
    app = make_application(world["A"].agency, on=date(2026, 3, 2))
    client.force_login(agent)
    response = client.post(reverse("applications:application_renew", args=[app.pk]))
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.last_renewed_on is not None and app.first_registered_on == date(2026, 3, 2)
    pdf = client.get(reverse("applications:certificate_pdf", args=[app.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    response = client.post(reverse("applications:application_cancel", args=[app.pk]), {"reason": "renunciation"})
    app.refresh_from_db()
    assert (app.status, app.cancellation_reason) == ("cancelled", "renunciation")


def test_list_filters_search_and_pinned_query_count(client, world, agent, django_assert_max_num_queries):
    agency = world["A"].agency
    for i in range(30):
        make_application(
            agency, people=[person(last=f"NOM{i:02d}", first="Test")], wished_typologies=["T2" if i % 2 else "T4"]
        )
    make_application(world["B"].agency, people=[person(last="Zyxcanari", first="Bob")])
    client.force_login(agent)
    url = reverse("applications:application_list")
    with django_assert_max_num_queries(
        14
    ):  # session, user, roles, agencies, rows, count, applicants, filter choices, session save
        response = client.get(url, {"typology": "T4", "status": "active", "commune": "", "category": "1"})
    html = response.content.decode()
    assert response.status_code == 200 and "15 résultats" in html and "Zyxcanari" not in html
    assert "NOM03" not in html and "NOM04" in html
    assert "1 résultat" in client.get(url, {"q": "nom07"}).content.decode()
    number = Application.objects.filter(people__last_name="NOM05").get().number
    assert "NOM05" in client.get(url, {"q": number}).content.decode()
    assert "ignoré" in client.get(url, {"status": "nope"}, follow=True).content.decode()


def test_grid_pages_and_new_version(client, world, agent, responsable):
    grid = make_grid(world["A"].agency, valid_from=date(2020, 1, 1))
    app = make_application(world["A"].agency)
    client.force_login(agent)
    assert client.get(reverse("applications:grid_list")).status_code == 200
    assert client.get(reverse("applications:grid_detail", args=[grid.pk])).status_code == 200
    assert client.get(reverse("applications:grid_create", args=[world["A"].agency.pk])).status_code == 403
    client.force_login(responsable)
    url = reverse("applications:grid_create", args=[world["A"].agency.pk])
    page = client.get(url)
    assert page.status_code == 200
    initial = page.context["criteria"].initial
    data = {
        "valid_from": "",
        "note": "Hausse hébergés",
        "criteria-TOTAL_FORMS": str(len(initial)),
        "criteria-INITIAL_FORMS": str(len(initial)),
    }
    from django.utils import timezone

    data["valid_from"] = timezone.localdate().strftime("%d/%m/%Y")
    for i, row in enumerate(initial):
        for key, value in row.items():
            data[f"criteria-{i}-{key}"] = "" if value is None else value
        if row["code"] == "heberge":
            data[f"criteria-{i}-points"] = 70
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    app.refresh_from_db()
    assert app.score == 70 + (app.score - 70)  # rescored
    assert app.score_changes.filter(cause__startswith="Nouvelle grille").exists()


def test_household_page_lists_its_transfer_requests(client, world, agent, inspector):
    lease = world["A"].lease
    app = make_application(world["A"].agency, kind="transfer", current_lease=lease, housing_situation="social_tenant")
    url = reverse("tenancies:household_detail", args=[lease.household_id])
    client.force_login(agent)
    html = client.get(url).content.decode()
    assert "Demandes de mutation" in html and app.number in html
    client.force_login(inspector)  # sees the tenant file, not the demands
    assert "Demandes de mutation" not in client.get(url).content.decode()
