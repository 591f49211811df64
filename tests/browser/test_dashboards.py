"""The direction's dashboards on the demo data, in Chromium: blocks, charts drawn, a drill-down."""

import re
from datetime import date

import pytest
from django.core.management import call_command

from applications.committee import demo as committee_demo
from tenancies.demo import DEFAULT_PASSWORD as DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def dashboards_demo(transactional_db):
    call_command("seed_demo", dwellings=120, allow_production=True, verbosity=0)
    call_command("seed_billing_demo", allow_production=True, verbosity=0)
    call_command("seed_committee_demo", allow_production=True, verbosity=0)
    # The committee demo dates its history of allocations from today: pinned to 2026 here.
    president, members = committee_demo.ensure_members()
    committee_demo.seed_history(date(2026, 12, 3), president, members)
    call_command("seed_dashboards_demo", verbosity=0)


def test_direction_sees_the_blocks_with_charts_and_drills_down(dashboards_demo, page, live_server, screenshot):
    problems = []
    page.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type in ("error", "warning") and "favicon" not in (msg.location or {}).get("url", "")
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))

    page.goto(f"{live_server.url}/")
    page.get_by_label("Nom d’utilisateur").fill("direction")
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")
    nav = page.get_by_role("navigation", name="Navigation principale")
    nav.get_by_role("link", name="Tableaux de bord").click()
    page.wait_for_url(re.compile(r"/tableaux-de-bord/$"))
    page.goto(f"{live_server.url}/tableaux-de-bord/?periode=month&date=2026-11")

    assert page.get_by_role("heading", level=1).inner_text() == "Tableaux de bord — novembre 2026"
    main = page.locator("main").inner_text()
    assert "chiffres calculés le" in main
    for block in ("Patrimoine et vacance", "Quittancement et encaissement"):
        assert page.get_by_role("heading", name=block).is_visible()
    canvases = page.locator("canvas[data-chart]")
    assert canvases.count() >= 4
    page.wait_for_function(
        "document.querySelectorAll('canvas[data-rendered=\"1\"]').length"
        " === document.querySelectorAll('canvas[data-chart]').length"
    )
    box = canvases.first.bounding_box()
    assert box["width"] > 100 and box["height"] > 100
    assert re.search(r"\d[\d\u202f\xa0]*,\d{2}\xa0€", main)  # French amounts
    assert re.search(r"\d+,\d\xa0%", main)  # French percentages
    screenshot("dashboards-direction")

    collected = page.locator('tr[data-figure="billing.collected"] td a').first
    amount = collected.inner_text()
    collected.click()
    page.wait_for_url(re.compile(r"/tableaux-de-bord/detail/\?.*figure=billing.collected"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Paiements et rejets — novembre 2026")
    rows = page.locator("main table tbody tr")
    assert rows.count() > 5
    assert "Paiement" in rows.first.inner_text()
    screenshot("dashboards-drilldown")
    assert amount.endswith("€")

    # The vacant dwellings at the end of the period: as many rows as the figure says.
    page.go_back()
    vacant = page.locator('tr[data-figure="stock.status_vacant"] td a').first
    count = int(vacant.inner_text())
    vacant.click()
    page.wait_for_url(re.compile(r"/tableaux-de-bord/detail/\?.*figure=stock.status_vacant"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Logements vacants en fin de période")
    assert page.locator("main table tbody tr").count() == min(count, 25) or count == 0

    # Demand and allocations, CALEOL: the allocation figures of 2026, their charts, a drill-down.
    page.goto(f"{live_server.url}/tableaux-de-bord/?periode=year&date=2026-01")
    for block in ("Demandes et attributions", "Commission d'attribution (CALEOL)"):
        assert page.get_by_role("heading", name=block).is_visible()
    page.wait_for_function(
        "document.querySelectorAll('canvas[data-rendered=\"1\"]').length"
        " === document.querySelectorAll('canvas[data-chart]').length"
    )
    for chart in ("applications_scores", "applications_contingents", "committee_refusals", "committee_vacancy"):
        assert page.locator(f'canvas[data-chart="chart-{chart}"][data-rendered="1"]').count() == 1, chart
    rows = {
        code: page.locator(f'tr[data-figure="{code}"] td').first.inner_text()
        for code in (
            "applications.allocations",
            "applications.priority_share",
            "applications.quota_priority",
            "applications.q1_share",
            "applications.alloc_waiting_median",
            "committee.refusals",
            "committee.vacancy_median",
        )
    }
    assert int(rows["applications.allocations"]) > 0, rows
    assert rows["applications.quota_priority"] == "25,0\xa0%"
    assert rows["applications.priority_share"].endswith("%") and rows["applications.q1_share"].endswith("%")
    assert rows["applications.alloc_waiting_median"].endswith("mois")
    assert int(rows["committee.refusals"]) > 0 and rows["committee.vacancy_median"].endswith("j"), rows
    screenshot("dashboards-allocations")
    page.locator('tr[data-figure="applications.allocations"] td a').first.click()
    page.wait_for_url(re.compile(r"/tableaux-de-bord/detail/\?.*figure=applications.allocations"))
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading.startswith("Attributions de la période (baux signés) — 2026"), heading
    listed = page.locator("main table tbody tr")
    assert listed.count() == int(rows["applications.allocations"])
    assert re.search(r"\d{2}/\d{2}/2026", listed.first.inner_text())
    assert problems == [], problems
