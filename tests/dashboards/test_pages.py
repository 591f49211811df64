"""Dashboard pages on the shared two-agency world: access by role, figures, exports, PDF, drill-downs."""

import io
import xml.etree.ElementTree as ET  # noqa: S405 - parses our own export
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from pypdf import PdfReader

from dashboards.models import MonthlyFigure, Refresh
from dashboards.services import refresh_after_billing, refresh_dashboards
from dashboards.tasks import refresh_dashboards as refresh_task
from tests.factories import UserFactory

INDEX = reverse("dashboards:index")
DETAIL = reverse("dashboards:detail")
NOVEMBER = {"date": "2026-11"}


@pytest.fixture
def figures(world):
    return refresh_dashboards(as_of=date(2026, 11, 20), full=True)


@pytest.fixture
def responsable(world):
    return UserFactory(username="resp.a", roles=["responsable_agence"], agencies_list=[world["A"].agency])


def read_xlsx(data: bytes) -> list[list[str]]:
    ns = {"s": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        root = ET.fromstring(archive.read("xl/worksheets/sheet1.xml"))  # noqa: S314 - our own file
    return [["".join(c.itertext()) for c in row.iterfind("s:c", ns)] for row in root.iterfind(".//s:row", ns)]


def test_direction_sees_every_agency_with_comparisons(client, manager, world, figures):
    client.force_login(manager)
    response = client.get(INDEX, NOVEMBER)
    html = response.content.decode()
    assert response.status_code == 200
    assert "chiffres calculés le" in html
    assert "Agence Durandal" in html and "Agence Zyxcanari" in html  # the per-agency tables
    assert "Patrimoine et vacance" in html and "Quittancement et encaissement" in html
    assert 'data-chart="chart-billing_months"' in html and 'id="chart-billing_months"' in html
    assert "<script>" not in html.replace('<script id="chart-', "")  # data only through json_script
    rows = {r.code: r for b in response.context["blocks"] for r in b.rows}
    assert rows["stock.dwellings"].current == 2
    assert rows["stock.status_let"].current == 2
    # Both leases billed 412,50 € rent + 84,55 € charges for November; 2 × 200,00 € paid.
    assert rows["billing.billed"].current == Decimal("994.10")
    assert rows["billing.collected"].current == Decimal("400.00")
    assert rows["billing.collection_rate"].current == Decimal("40.2")
    assert rows["billing.billed"].previous == Decimal("0") and rows["billing.billed"].vs_previous == Decimal("994.10")
    assert "994,10\xa0€" in html and "40,2\xa0%" in html
    assert rows["billing.collected"].link.startswith(reverse("dashboards:detail") + "?")
    assert rows["stock.status_let"].link == DETAIL + "?periode=month&date=2026-11&figure=stock.status_let"
    listed = client.get(rows["stock.status_let"].link).context["page"].items
    assert {d.reference for d in listed} == {world["A"].dwelling.reference, world["B"].dwelling.reference}


def test_responsable_sees_only_their_agency(client, responsable, world, figures):
    client.force_login(responsable)
    response = client.get(INDEX, {**NOVEMBER, "agence": world["B"].agency.pk})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Zyxcanari" not in html
    assert "hors de votre périmètre" in html
    rows = {r.code: r for b in response.context["blocks"] for r in b.rows}
    assert rows["billing.billed"].current == Decimal("497.05")
    link = rows["stock.status_let"].link  # their agencies only: the drill-down is scoped by the same rule
    assert link == DETAIL + "?periode=month&date=2026-11&figure=stock.status_let"
    html = client.get(link).content.decode()
    assert world["A"].dwelling.reference in html and world["B"].dwelling.reference not in html
    nav = client.get(reverse("home")).content.decode()
    assert 'href="/tableaux-de-bord/"' in nav


@pytest.mark.parametrize("persona", ["agent", "committee_member", "biller", "inspector"])
def test_other_roles_are_refused(client, request, persona, figures):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    assert client.get(INDEX).status_code == 403
    assert client.get(reverse("dashboards:export")).status_code == 403
    assert 'href="/tableaux-de-bord/"' not in client.get(reverse("home")).content.decode()


def test_page_query_count_is_pinned(client, manager, figures, django_assert_max_num_queries):
    client.force_login(manager)
    client.get(INDEX)
    with django_assert_max_num_queries(9):
        assert client.get(INDEX, {"periode": "year", "date": "2026-11"}).status_code == 200
    with django_assert_max_num_queries(9):
        assert client.get(reverse("dashboards:export"), {"table": "billing", "format": "xlsx"}).status_code == 200


def test_bad_parameters_fall_back_with_a_message(client, manager, figures):
    client.force_login(manager)
    response = client.get(INDEX, {"periode": "decade", "date": "2026-13"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Période « decade » inconnue" in html and "Date « 2026-13 » invalide" in html
    assert client.get(reverse("dashboards:export"), {"table": "nope"}).status_code == 404
    assert client.get(reverse("dashboards:detail"), {"figure": "nope"}).status_code == 404


def test_csv_and_xlsx_exports(client, manager, world, figures):
    client.force_login(manager)
    url = reverse("dashboards:export")
    response = client.get(url, {**NOVEMBER, "table": "billing", "format": "csv"})
    assert response["Content-Disposition"] == 'attachment; filename="tableau-de-bord-billing-2026-11.csv"'
    text = response.content.decode("utf-8-sig")
    assert "Quittancé (loyers et charges, RLS déduite);€;994.10".replace(".", ",") in text
    response = client.get(url, {**NOVEMBER, "table": "stock:agences", "format": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = read_xlsx(response.content)
    assert rows[1] == ["Chiffre", "Unité", "Agence Durandal", "Agence Zyxcanari"]
    assert ["Logements", "1", "1"] in [[r[0], *r[-2:]] for r in rows]


def test_monthly_pdf(client, manager, figures):
    client.force_login(manager)
    response = client.get(reverse("dashboards:monthly_pdf"), {**NOVEMBER, "periode": "year"})
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Tableau de bord — novembre 2026" in text  # always the month
    assert "Quittancement et encaissement" in text and "994,10" in text


def test_drilldown_lists_the_records_behind_a_figure(client, manager, responsable, world, figures):
    client.force_login(manager)
    response = client.get(reverse("dashboards:detail"), {**NOVEMBER, "figure": "billing.collected"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("200,00\xa0€") == 2
    client.force_login(responsable)
    html = client.get(reverse("dashboards:detail"), {**NOVEMBER, "figure": "billing.collected"}).content.decode()
    assert html.count("200,00\xa0€") == 1 and world["B"].lease.number not in html


def test_refresh_entry_points(world):
    call_command("refresh_dashboards", "--as-of", "2026-11-20", stdout=io.StringIO())
    first = Refresh.objects.get()
    assert first.full and MonthlyFigure.objects.filter(month=date(2026, 11, 1), key="billed").count() == 2
    refresh_task.delay()
    refresh_after_billing(world["A"].run.pk)
    assert Refresh.objects.count() == 3 and not Refresh.objects.order_by("-id").first().full
