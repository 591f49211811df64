"""Yearly operations: rent revision (E3.3), charge regularisation, SLS (E3.5), their pages and letters.

Everything runs through billing.yearly against Postgres; amounts are pinned to the cent. The dated
figures (IRL, ceilings, SLS barème) come from the migrations (non-transactional tests keep them).
"""

import re
from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from pypdf import PdfReader

from billing import batch, yearly
from billing.models import (
    Account,
    ChargeRegularisation,
    EntryKind,
    IrlIndex,
    LedgerEntry,
    RentNotice,
    RentRevision,
    SlsCharge,
    SlsSurvey,
    SlsSurveyStatus,
    YearlyStatus,
)
from tenancies import services as tenancy_services
from tenancies.models import CeilingZone, ChargeType, DwellingCharge, Financing, Lease, LeaseStatus
from tenancies.roles import Role
from tests.factories import DwellingFactory, HouseholdFactory, PersonFactory, UserFactory

JAN_2026 = date(2026, 1, 1)
D = Decimal
MAX_PER_M2 = Decimal("8.00")


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    pages = (page.extract_text() or "" for page in PdfReader(BytesIO(content)).pages)
    return re.sub(r"\s+", " ", " ".join(pages).replace("\xa0", " ").replace("\u202f", " "))


def let_dwelling(building, *, reference, area, rent, starts_on, charges=(), tantiemes=None, max_per_m2=MAX_PER_M2):
    """A new dwelling in `building`, let from `starts_on` through the tenancy services."""
    dwelling = DwellingFactory(
        building=building,
        reference=reference,
        living_area=area,
        rent=rent,
        max_rent_per_m2=max_per_m2,
        tantiemes=tantiemes,
    )
    for code, amount in charges:
        DwellingCharge.objects.create(
            dwelling=dwelling, charge_type=ChargeType.objects.get(code=code), monthly_amount=amount
        )
    household = HouseholdFactory(agency=building.estate.agency)
    PersonFactory(household=household, last_name=f"Locataire {reference}")
    lease = tenancy_services.lease_create(dwelling=dwelling, household=household, starts_on=starts_on)
    tenancy_services.lease_transition(lease=lease, to_status=LeaseStatus.SIGNED, on=starts_on)
    tenancy_services.lease_transition(lease=lease, to_status=LeaseStatus.ACTIVE)
    lease.refresh_from_db()
    return lease


@pytest.fixture
def other_biller(world):
    """A chargé du quittancement of agency B."""
    return UserFactory(username="quittancement.b", roles=[Role.CHARGE_QUITTANCEMENT], agencies_list=[world["B"].agency])


# === 1. Rent revision =============================================================================


def test_e33_rounding_to_the_cent_half_up():
    no_cap = D("9999.99")
    # 480 × 146,68 / 145,17 = 484,993… and 480 × 1,0104 = 484,992: both 484,99 €.
    assert yearly.revised_rent(D("480.00"), D("0.0104"), no_cap) == (D("484.99"), False)
    assert yearly.revised_rent(D("480.00"), D("146.68") / D("145.17") - 1, no_cap) == (D("484.99"), False)
    # 480 × 1,0326 = 495,648: half up gives 495,65 € (truncation would give 495,64 €).
    assert yearly.revised_rent(D("480.00"), D("0.0326"), no_cap) == (D("495.65"), False)
    assert yearly.revised_rent(D("480.00"), D("0.0326"), D("490.00")) == (D("490.00"), True)


def test_cap_of_1_january_2026_is_the_irl_t2_variation(db):
    cap = yearly.revision_cap(JAN_2026)
    assert (cap.irl_reference.value, cap.irl_new.value) == (D("145.17"), D("146.68"))
    assert cap.rate == D("0.0104")
    assert yearly.percent_label(cap.rate) == "+1,04\xa0%"


def test_preview_pins_e33_and_the_convention_cap(world):
    building = world["A"].building
    lease_480 = let_dwelling(building, reference="AAA-480", area=D("65"), rent=D("480.00"), starts_on=date(2023, 6, 1))
    revision = yearly.revision_preview(effective_on=JAN_2026)
    lines = {line.lease_id: line for line in revision.lines.all()}
    assert set(lines) == {world["A"].lease.pk, world["B"].lease.pk, lease_480.pk}
    assert (lines[lease_480.pk].old_rent, lines[lease_480.pk].new_rent) == (D("480.00"), D("484.99"))
    # 412,50 × 1,0104 = 416,79 (under the convention's maximum 6,50 × 65 = 422,50).
    assert lines[world["A"].lease.pk].new_rent == D("416.79")
    assert not lines[world["A"].lease.pk].capped_by_convention
    assert revision.status == YearlyStatus.PREVIEW and revision.rate == D("0.0104")
    totals = yearly.revision_totals(revision)
    assert totals["count"] == 3 and totals["capped"] == 0
    assert totals["new_total"] == D("484.99") + 2 * D("416.79")


def test_e33_with_the_2025_cap_of_3_26_percent(world):
    IrlIndex.objects.create(year=2023, quarter=2, value=D("140.59"), source="INSEE (test)")
    building = world["A"].building
    lease_480 = let_dwelling(building, reference="AAA-480", area=D("65"), rent=D("480.00"), starts_on=date(2023, 6, 1))
    revision = yearly.revision_preview(effective_on=date(2025, 1, 1))
    assert revision.rate == D("0.0326")  # 145,17 / 140,59 − 1 = +3,26 %
    assert revision.lines.get(lease=lease_480).new_rent == D("495.65")
    # 412,50 × 1,0326 = 425,95 > 422,50: capped at the convention's maximum and flagged.
    line = revision.lines.get(lease=world["A"].lease)
    assert (line.new_rent, line.capped_by_convention) == (D("422.50"), True)


def test_the_board_may_vote_less_never_more(world):
    revision = yearly.revision_preview(effective_on=JAN_2026, rate=D("0.005"))
    assert revision.lines.get(lease=world["A"].lease).new_rent == D("414.56")  # 412,50 × 1,005 = 414,5625
    with pytest.raises(yearly.YearlyError, match="dépasse la variation annuelle de l'IRL") as excinfo:
        yearly.revision_preview(effective_on=JAN_2026, rate=D("0.0105"))
    assert excinfo.value.field == "rate"
    revision.refresh_from_db()
    assert revision.rate == D("0.005")  # the refused recomputation changed nothing


def test_missing_irl_is_said_in_french(world):
    with pytest.raises(yearly.YearlyError, match=r"Indice de référence des loyers manquant \(T2 2026\)"):
        yearly.revision_preview(effective_on=date(2027, 1, 1))
    assert not RentRevision.objects.exists()


def test_revision_form_shows_errors_beside_the_fields(client, world, biller):
    client.force_login(biller)
    url = reverse("billing:revision_new")
    response = client.post(url, {"effective_on": "01/01/2026", "rate_pct": "1,05"})
    assert response.status_code == 400
    assert "dépasse la variation annuelle de l'IRL" in response.context["form"].errors["rate_pct"][0]
    response = client.post(url, {"effective_on": "01/01/2027", "rate_pct": ""})
    assert "manquant (T2 2026)" in response.context["form"].errors["effective_on"][0]
    response = client.post(url, {"effective_on": "15/01/2026"})
    assert "1er janvier" in response.context["form"].errors["effective_on"][0]
    assert not RentRevision.objects.exists()
    response = client.post(url, {"effective_on": "01/01/2026", "rate_pct": ""})
    revision = RentRevision.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("billing:revision_detail", args=[revision.pk])


def test_apply_updates_leases_and_dwellings_once(client, world, biller, django_assert_max_num_queries):
    revision = yearly.revision_preview(effective_on=JAN_2026, by=biller)
    client.force_login(biller)
    with django_assert_max_num_queries(15):
        page = client.get(reverse("billing:revision_detail", args=[revision.pk])).content.decode()
    assert "416,79\xa0€" in page and "+1,04\xa0%" in page
    assert "avis d'échéance déjà émis" in page  # November 2026 was billed at the old rent

    response = client.post(reverse("billing:revision_apply", args=[revision.pk]))
    assert response.status_code == 302
    revision.refresh_from_db()
    assert revision.status == YearlyStatus.APPLIED and revision.applied_by == biller and revision.applied_at
    for territory in world.values():
        territory.lease.refresh_from_db()
        territory.dwelling.refresh_from_db()
        assert territory.lease.rent == territory.dwelling.rent == D("416.79")
        history = territory.lease.history.first()
        assert history.history_change_reason.startswith("Révision des loyers au 01/01/2026")
        assert history.history_user == biller

    response = client.post(reverse("billing:revision_apply", args=[revision.pk]), follow=True)
    assert "déjà été appliquée" in response.content.decode()
    with pytest.raises(yearly.YearlyError, match="déjà été appliquée"):
        yearly.revision_apply(revision=revision)
    with pytest.raises(yearly.YearlyError, match="ne peut plus être recalculée"):
        yearly.revision_preview(effective_on=JAN_2026)
    world["A"].lease.refresh_from_db()
    assert world["A"].lease.rent == D("416.79")


def test_apply_refuses_a_stale_preview(world):
    revision = yearly.revision_preview(effective_on=JAN_2026)
    Lease.objects.filter(pk=world["A"].lease.pk).update(rent=D("400.00"))
    with pytest.raises(yearly.YearlyError, match="recalculez l'aperçu"):
        yearly.revision_apply(revision=revision)
    world["B"].lease.refresh_from_db()
    assert world["B"].lease.rent == D("412.50")  # nothing half-applied
    revision.refresh_from_db()
    assert revision.status == YearlyStatus.PREVIEW


def test_revision_letter(client, world, biller, other_biller):
    revision = yearly.revision_preview(effective_on=JAN_2026)
    line = revision.lines.get(lease=world["A"].lease)
    client.force_login(biller)
    response = client.get(reverse("billing:revision_letter", args=[line.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    for expected in (
        "Notification de révision de loyer",
        "Durandal",
        world["A"].lease.number,
        "412,50 €",
        "416,79 €",
        "4,29 €",
        "+1,04 %",
        "146,68",
        "01/01/2026",
        "Document provisoire",
    ):
        assert expected in text, expected
    client.force_login(other_biller)
    assert client.get(reverse("billing:revision_letter", args=[line.pk])).status_code == 404


# === 2. Charge regularisation =====================================================================


@pytest.fixture
def building_2026(world, django_capture_on_commit_callbacks):
    """Agency A's building for 2026: the world's dwelling (65 m², let all year, 400 tantièmes), a
    vacant one (35 m², 250) and one let from 1 July (50 m², 350, 20,00 € water provision).
    November and December 2026 are billed."""
    a = world["A"]
    a.dwelling.tantiemes = 400
    a.dwelling.save(update_fields=["tantiemes"])
    DwellingFactory(building=a.building, reference="AAA-VAC", living_area=D("35"), tantiemes=250)
    july = let_dwelling(
        a.building,
        reference="AAA-JUL",
        area=D("50"),
        rent=D("380.00"),
        starts_on=date(2026, 7, 1),
        charges=[("eau_froide", D("20.00"))],
        tantiemes=350,
    )
    for period in (date(2026, 11, 1), date(2026, 12, 1)):
        with django_capture_on_commit_callbacks(execute=True):
            batch.start_run(period=period, today=date(2026, 11, 20))
    return {"full": a.lease, "july": july}


def _set_costs(regularisation, costs):
    for code, amount, key in costs:
        yearly.regularisation_set_cost(
            regularisation=regularisation,
            charge_type=ChargeType.objects.get(code=code),
            actual_amount=D(amount),
            allocation_key=key,
        )
    yearly.regularisation_compute(regularisation=regularisation)


COSTS_2026 = [
    ("eau_froide", "1200.00", "living_area"),
    ("chauffage", "3650.00", "equal"),
    ("entretien", "500.00", "tantiemes"),
]


def test_regularisation_preview_to_the_cent(world, building_2026):
    regularisation = yearly.regularisation_create(building=world["A"].building, year=2026, today=date(2027, 3, 15))
    _set_costs(regularisation, COSTS_2026)
    lines = {(ln.lease_id, ln.charge_type.code): ln for ln in regularisation.lines.select_related("charge_type")}
    full, july = building_2026["full"].pk, building_2026["july"].pk
    expected = {
        # 1 200 × 65 × 365 / (150 m² × 365) ; provisions of November and December: 2 × 23,40.
        (full, "eau_froide"): (365, "520.00", "46.80", "473.20"),
        # 1 200 × 50 × 184 / (150 × 365) = 201,643…
        (july, "eau_froide"): (184, "201.64", "40.00", "161.64"),
        # equal shares: 3 650 × 1 × 365 / (3 dwellings × 365) = 1 216,666…; 3 650 × 184 / 1 095 = 613,333…
        (full, "chauffage"): (365, "1216.67", "122.30", "1094.37"),
        (july, "chauffage"): (184, "613.33", "0.00", "613.33"),
        # tantièmes: 500 × 400 / 1 000 ; 500 × 350 × 184 / (1 000 × 365) = 88,219…
        (full, "entretien"): (365, "200.00", "0.00", "200.00"),
        (july, "entretien"): (184, "88.22", "0.00", "88.22"),
    }
    assert set(lines) == set(expected)
    for key, (days, share, provisions, balance) in expected.items():
        line = lines[key]
        assert (line.days_occupied, line.actual_share, line.provisions_billed, line.balance) == (
            days,
            D(share),
            D(provisions),
            D(balance),
        ), key
    totals = yearly.regularisation_totals(regularisation)
    assert totals["cost_total"] == D("5350.00")
    assert totals["share_total"] == D("2839.86")
    assert totals["landlord_share"] == D("2510.14")  # the vacant dwelling and the first half of the year
    assert (totals["debit_total"], totals["debit_count"], totals["credit_total"]) == (D("2630.76"), 2, D("0.00"))


def test_regularisation_refuses_missing_data_in_french(world, building_2026):
    regularisation = yearly.regularisation_create(building=world["A"].building, year=2026, today=date(2027, 3, 15))
    with pytest.raises(yearly.YearlyError, match="au moins une dépense"):
        yearly.regularisation_compute(regularisation=regularisation)
    yearly.regularisation_set_cost(
        regularisation=regularisation,
        charge_type=ChargeType.objects.get(code="eau_froide"),
        actual_amount=D("1200.00"),
        allocation_key="living_area",
    )
    with pytest.raises(yearly.YearlyError, match="Chauffage collectif sans dépense réelle saisie"):
        yearly.regularisation_compute(regularisation=regularisation)
    world["A"].dwelling.tantiemes = None
    world["A"].dwelling.save(update_fields=["tantiemes"])
    _set_costs(regularisation, [("chauffage", "0", "equal")])
    yearly.regularisation_set_cost(
        regularisation=regularisation,
        charge_type=ChargeType.objects.get(code="entretien"),
        actual_amount=D("500.00"),
        allocation_key="tantiemes",
    )
    with pytest.raises(yearly.YearlyError, match="tantièmes non renseignés pour 1 logement.*AAA-LGT-0001"):
        yearly.regularisation_compute(regularisation=regularisation)
    with pytest.raises(yearly.YearlyError, match="n'est pas clos"):
        yearly.regularisation_create(building=world["A"].building, year=2027, today=date(2027, 3, 15))
    with pytest.raises(yearly.YearlyError, match="existe déjà"):
        yearly.regularisation_create(building=world["A"].building, year=2026, today=date(2027, 3, 15))


def test_apply_posts_one_entry_per_lease_once(world, building_2026, biller):
    regularisation = yearly.regularisation_create(building=world["A"].building, year=2026, today=date(2027, 3, 15))
    _set_costs(regularisation, COSTS_2026)
    before = {lease.pk: Account.objects.get(lease=lease).balance for lease in building_2026.values()}
    entries = yearly.regularisation_apply(
        regularisation=regularisation, today=date(2027, 3, 15), spread_months=12, by=biller
    )
    assert len(entries) == 2
    posted = LedgerEntry.objects.filter(kind=EntryKind.REGULARISATION)
    assert posted.count() == 2 and posted.balance() == D("2630.76")
    full = posted.get(account__lease=building_2026["full"])
    assert (full.debit, full.credit, full.posted_on) == (D("1767.57"), D("0"), date(2027, 3, 15))
    assert full.created_by == biller
    assert full.label == (f"Régularisation des charges 2026 — {world['A'].building} (étalement accordé sur 12 mois)")
    assert posted.get(account__lease=building_2026["july"]).debit == D("863.19")
    for lease in building_2026.values():
        account = Account.objects.get(lease=lease)
        assert account.balance - before[lease.pk] == account.entries.filter(kind=EntryKind.REGULARISATION).balance()
    regularisation.refresh_from_db()
    assert regularisation.status == YearlyStatus.APPLIED and regularisation.spread_months == 12
    with pytest.raises(yearly.YearlyError, match="déjà été appliquée"):
        yearly.regularisation_apply(regularisation=regularisation, today=date(2027, 3, 16))
    with pytest.raises(yearly.YearlyError, match="ne peut plus être modifiée"):
        yearly.regularisation_compute(regularisation=regularisation)
    assert LedgerEntry.objects.filter(kind=EntryKind.REGULARISATION).count() == 2


def test_a_tenant_overcharged_is_credited(world, building_2026):
    regularisation = yearly.regularisation_create(building=world["A"].building, year=2026, today=date(2027, 3, 15))
    _set_costs(regularisation, [("eau_froide", "0", "living_area"), ("chauffage", "0", "equal")])
    yearly.regularisation_apply(regularisation=regularisation, today=date(2027, 3, 15))
    entries = LedgerEntry.objects.filter(kind=EntryKind.REGULARISATION)
    assert {(e.account.lease_id, e.debit, e.credit) for e in entries} == {
        (building_2026["full"].pk, D("0"), D("169.10")),  # 46,80 + 122,30 of provisions given back
        (building_2026["july"].pk, D("0"), D("40.00")),
    }


def test_apply_refuses_figures_changed_since_the_preview(world, building_2026):
    regularisation = yearly.regularisation_create(building=world["A"].building, year=2026, today=date(2027, 3, 15))
    _set_costs(regularisation, COSTS_2026)
    Lease.objects.filter(pk=building_2026["july"].pk).update(starts_on=date(2026, 6, 1))
    with pytest.raises(yearly.YearlyError, match="recalculez l'aperçu"):
        yearly.regularisation_apply(regularisation=regularisation, today=date(2027, 3, 15))
    assert not LedgerEntry.objects.filter(kind=EntryKind.REGULARISATION).exists()


def test_instalment_plan_and_late_regularisation():
    plan = yearly.instalment_plan(D("1767.57"), 12, date(2027, 3, 15))
    assert len(plan) == 12 and sum(amount for _, amount in plan) == D("1767.57")
    assert plan[0] == (date(2027, 5, 5), D("147.30"))  # with the April notice, due on 5 May
    assert plan[-1] == (date(2028, 4, 5), D("147.27"))
    assert yearly.instalment_plan(D("-40.00"), 12, date(2027, 3, 15)) == []
    # E3.7: 2024 charges regularised in March 2026 (after 31/12/2025) → 12 instalments on request.
    late = ChargeRegularisation(year=2024)
    assert yearly.regularisation_is_late(late, date(2026, 3, 1))
    assert not yearly.regularisation_is_late(late, date(2025, 12, 31))


def test_regularisation_pages_and_statement(
    client, world, building_2026, biller, other_biller, time_machine, django_assert_max_num_queries
):
    time_machine.move_to("2027-03-15 10:00:00+01:00")
    client.force_login(biller)
    response = client.post(reverse("billing:regularisation_new"), {"building": world["A"].building.pk, "year": "2026"})
    regularisation = ChargeRegularisation.objects.get()
    detail = reverse("billing:regularisation_detail", args=[regularisation.pk])
    assert response["Location"] == detail
    response = client.post(detail, {"action": "cost", "charge_type": "", "actual_amount": "-3", "allocation_key": "x"})
    assert response.status_code == 400
    errors = response.context["cost_form"].errors
    assert errors["actual_amount"] == ["La dépense ne peut pas être négative."]
    assert errors["charge_type"] == ["Choisissez le type de charge."]
    assert not regularisation.costs.exists()
    for code, amount, key in COSTS_2026:
        charge_type = ChargeType.objects.get(code=code)
        amount_fr = amount.replace(".", ",")
        data = {"action": "cost", "charge_type": charge_type.pk, "actual_amount": amount_fr, "allocation_key": key}
        assert client.post(detail, data).status_code == 302
    with django_assert_max_num_queries(20):
        page = client.get(detail).content.decode()
    assert "2\xa0630,76\xa0€" in page and "1\xa0767,57\xa0€" in page and "2\xa0510,14\xa0€" in page

    response = client.post(reverse("billing:regularisation_apply", args=[regularisation.pk]), {"spread_months": "12"})
    assert response.status_code == 302
    assert LedgerEntry.objects.filter(kind=EntryKind.REGULARISATION).balance() == D("2630.76")
    response = client.post(
        reverse("billing:regularisation_apply", args=[regularisation.pk]), {"spread_months": "1"}, follow=True
    )
    assert "déjà été appliquée" in response.content.decode()
    assert LedgerEntry.objects.filter(kind=EntryKind.REGULARISATION).count() == 2

    url = reverse("billing:regularisation_statement", args=[regularisation.pk, building_2026["full"].pk])
    text = pdf_text(client.get(url).content)
    for expected in (
        "Décompte de régularisation des charges",
        "Exercice 2026",
        "Eau froide",
        "520,00 €",
        "46,80 €",
        "473,20 €",
        "Parts égales",
        "Tantièmes : 400 / 1000",
        "Surface habitable : 65 / 150",
        "1 767,57 €",
        "six mois",
        "365 jours",
        "147,30 €",
        "05/05/2027",
    ):
        assert expected in text, expected
    client.force_login(other_biller)
    assert client.get(url).status_code == 404


# === 3. SLS ======================================================================================


@pytest.fixture
def surveys_2026(world):
    """The 2026 survey sent to both households; agency A's commune is in "autres régions" (E3.5)."""
    commune = world["A"].commune
    commune.ceiling_zone = CeilingZone.AUTRES_REGIONS
    commune.save(update_fields=["ceiling_zone"])
    assert yearly.sls_open_survey(year=2026, sent_on=date(2026, 3, 2)) == 2
    assert yearly.sls_open_survey(year=2026, sent_on=date(2026, 3, 2)) == 0  # idempotent
    return {key: SlsSurvey.objects.get(lease=t.lease, year=2026) for key, t in world.items()}


def _answer(survey, resources, *, category="2", apl=False):
    return yearly.sls_record_answer(
        survey=survey,
        answered=True,
        answered_on=date(2026, 3, 20),
        resources=D(resources),
        category=category,
        apl_beneficiary=apl,
    )


def test_e35_threshold_and_excess(world, surveys_2026):
    survey = _answer(surveys_2026["A"], "38000")
    result = yearly.survey_result(survey)
    assert (result.ceiling, result.ceiling_valid_from, result.threshold) == (D("31254"), JAN_2026, D("37504.80"))
    assert survey.excess_pct == D("21.58")
    # 65 m² × CDPR (0,27 + 0,06 × 1,58 = 0,3648) × SLR autres régions (placeholder 0,50) = 11,856.
    assert result.coefficient == D("0.3648")
    assert survey.monthly_sls == D("11.86")
    assert survey.reason == "Dû : dépassement de 21,58 % (CDPR 0,3648)."

    survey = _answer(surveys_2026["A"], "37000")
    assert (survey.excess_pct, survey.monthly_sls) == (D("18.38"), D("0"))
    assert survey.reason == "Non dû : dépassement de 18,38 % du plafond, inférieur à 20 %."

    survey = _answer(surveys_2026["A"], "38000", apl=True)
    assert survey.monthly_sls == D("0") and "APL" in survey.reason

    survey = _answer(surveys_2026["A"], "46881")  # the 150 % line of E3.5
    assert survey.excess_pct == D("50.00")


def test_sls_exemptions_and_cap(db):
    common = {
        "year": 2026,
        "status": SlsSurveyStatus.ANSWERED,
        "resources": D("38000"),
        "category": "2",
        "apl_beneficiary": False,
        "financing": Financing.PLUS,
        "qpv": False,
        "zone": CeilingZone.AUTRES_REGIONS,
        "living_area": D("65"),
        "rent": D("412.50"),
    }
    assert yearly.compute_sls(**{**common, "financing": Financing.PLI}).monthly_sls == 0
    assert "quartier prioritaire" in yearly.compute_sls(**{**common, "qpv": True}).reason
    # Rent + SLS ≤ 30 % of 38 000 / 12 = 950,00 €: with a 945,00 € rent the SLS is 5,00 €.
    capped = yearly.compute_sls(**{**common, "rent": D("945.00")})
    assert (capped.uncapped, capped.effort_cap, capped.monthly_sls) == (D("11.86"), D("5.00"), D("5.00"))
    assert "30 %" in capped.reason
    # Beyond the loaded barème (59 %): the top coefficient 2,61, flagged.
    high = yearly.compute_sls(**{**common, "resources": D("60000")})
    assert high.excess_pct == D("91.98") and high.coefficient == D("2.61") and high.warnings


@pytest.mark.django_db
def test_ceilings_pls_derived_extra_persons_and_missing_cells():
    zone = CeilingZone.AUTRES_REGIONS
    assert yearly.household_ceiling(financing="PLS", zone=zone, category="2", on=JAN_2026) == (D("40630"), JAN_2026)
    # Category 8 = category 6 + 2 persons: 60 156 + 2 × 6 710.
    assert yearly.household_ceiling(financing="PLUS", zone=zone, category="8", on=JAN_2026)[0] == D("73576")
    # PLAI 2026 is not loaded: the 2025 table applies (and the survey says so).
    assert yearly.household_ceiling(financing="PLAI", zone=zone, category="1", on=JAN_2026) == (
        D("12759"),
        date(2025, 1, 1),
    )
    with pytest.raises(yearly.YearlyError, match="non chargé pour la catégorie 5"):
        yearly.household_ceiling(financing="PLAI", zone=zone, category="5", on=JAN_2026)


def test_sls_apply_then_billed_in_january_2027(world, surveys_2026, biller, django_capture_on_commit_callbacks):
    _answer(surveys_2026["A"], "38000")
    with pytest.raises(yearly.YearlyError, match="1 enquête\\(s\\) attendent encore une réponse"):
        yearly.sls_apply(year=2026, today=date(2026, 12, 15))
    assert yearly.sls_close_survey(year=2026) == 1
    b = SlsSurvey.objects.get(pk=surveys_2026["B"].pk)
    # B (Île-de-France, SLR placeholder 0,80) did not answer: 65 × 2,61 × 0,80 = 135,72 € + 25 € fee.
    assert (b.status, b.monthly_sls) == (SlsSurveyStatus.NO_ANSWER, D("135.72"))
    assert yearly.sls_recompute(year=2026) == 2
    assert SlsSurvey.objects.get(pk=surveys_2026["A"].pk).monthly_sls == D("11.86")

    assert yearly.sls_apply(year=2026, today=date(2026, 12, 15), by=biller) == (2, 1)
    charges = {c.lease_id: c for c in SlsCharge.objects.all()}
    a_charge = charges[world["A"].lease.pk]
    assert (a_charge.valid_from, a_charge.valid_to, a_charge.monthly_amount) == (
        date(2027, 1, 1),
        date(2027, 12, 31),
        D("11.86"),
    )
    assert charges[world["B"].lease.pk].monthly_amount == D("135.72")
    fee = LedgerEntry.objects.get(kind=EntryKind.FEE)
    assert (fee.account.lease_id, fee.debit, fee.posted_on) == (world["B"].lease.pk, D("25.00"), date(2026, 12, 15))

    with pytest.raises(yearly.YearlyError, match="déjà été appliquée"):
        yearly.sls_apply(year=2026, today=date(2026, 12, 16))
    with pytest.raises(yearly.YearlyError, match="déjà été appliquée"):
        _answer(surveys_2026["A"], "30000")
    assert SlsCharge.objects.count() == 2 and LedgerEntry.objects.filter(kind=EntryKind.FEE).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        batch.start_run(period=date(2027, 1, 1), today=date(2026, 12, 20))
    for key, amount in (("A", D("11.86")), ("B", D("135.72"))):
        notice = RentNotice.objects.get(lease=world[key].lease, period=date(2027, 1, 1))
        sls_line = notice.lines.get(kind=EntryKind.SLS)
        assert sls_line.amount == amount
        assert notice.rent_amount == D("412.50") + amount
        assert notice.entries.filter(kind=EntryKind.SLS).balance() == amount


def test_sls_pages_and_letter(client, world, surveys_2026, biller, other_biller, django_assert_max_num_queries):
    client.force_login(biller)
    edit = reverse("billing:sls_survey_edit", args=[surveys_2026["A"].pk])
    response = client.post(edit, {"answer": "answered", "answered_on": "20/03/2026", "household_resources": "-1"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["household_resources"] == ["Les ressources ne peuvent pas être négatives."]
    assert errors["household_category"] == ["Choisissez la catégorie de ménage."]
    assert SlsSurvey.objects.get(pk=surveys_2026["A"].pk).status == SlsSurveyStatus.SENT
    data = {"answer": "answered", "answered_on": "20/03/2026", "household_resources": "38 000"}
    data["household_category"] = "2"
    assert client.post(edit, data).status_code == 302
    with django_assert_max_num_queries(15):
        page = client.get(reverse("billing:sls_campaign", args=[2026])).content.decode()
    assert "21,58 %" in page and "11,86\xa0€" in page and "fictifs" in page

    text = pdf_text(client.get(reverse("billing:sls_letter", args=[surveys_2026["A"].pk])).content)
    for expected in (
        "Notification du supplément de loyer de solidarité",
        "38 000,00 €",
        "31 254,00 €",
        "37 504,80 €",
        "21,58 %",
        "0,3648",
        "11,86 €",
        "01/01/2027",
        "31/12/2027",
        "valeur fictive",  # the SLR placeholders are flagged on the letter itself
    ):
        assert expected in text, expected
    # B's household is another agency's: 404, whatever its survey.
    assert client.get(reverse("billing:sls_letter", args=[surveys_2026["B"].pk])).status_code == 404
    client.force_login(other_biller)
    assert client.get(reverse("billing:sls_letter", args=[surveys_2026["A"].pk])).status_code == 404
    assert client.get(edit).status_code == 404

    client.force_login(biller)
    client.post(reverse("billing:sls_close", args=[2026]))
    client.post(reverse("billing:sls_apply", args=[2026]))
    assert SlsCharge.objects.count() == 2
    response = client.post(reverse("billing:sls_apply", args=[2026]), follow=True)
    assert "déjà été appliquée" in response.content.decode()
    assert LedgerEntry.objects.filter(kind=EntryKind.FEE).count() == 1


def test_yearly_index_lists_past_runs(client, world, biller, agent, django_assert_max_num_queries):
    yearly.revision_preview(effective_on=JAN_2026)
    yearly.regularisation_create(building=world["A"].building, year=2025, today=date(2026, 11, 29))
    yearly.sls_open_survey(year=2026, sent_on=date(2026, 3, 2))
    client.force_login(biller)
    with django_assert_max_num_queries(15):
        page = client.get(reverse("billing:yearly_index")).content.decode()
    assert "01/01/2026" in page and "+1,04\xa0%" in page and "Résidence Durandal" in page and ">2026</a>" in page
    client.force_login(agent)
    assert client.get(reverse("billing:yearly_index")).status_code == 403
