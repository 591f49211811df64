"""The daily renewal job (DOMAIN.md E1.4), by time machine and by command."""

from datetime import date
from io import BytesIO, StringIO

import pytest
import time_machine
from django.core.management import call_command
from pypdf import PdfReader

from applications.models import ApplicationStatus, RenewalNotice
from applications.services import ApplicationError, application_renew, renewal_notice_latest, renewals_run

from .factories import make_application

pytestmark = pytest.mark.django_db


def test_e1_4_dates(world):
    app = make_application(world["A"].agency, on=date(2025, 3, 15))
    assert app.expires_on == date(2026, 3, 15)
    assert renewal_notice_latest(app.expires_on) == date(2026, 2, 15)


def test_notice_then_radiation_with_time_machine(world):
    app = make_application(world["A"].agency, on=date(2025, 3, 15))
    with time_machine.travel(date(2026, 1, 30)):
        assert renewals_run().notices == 0  # notices leave from 15 days before the legal latest date
    with time_machine.travel(date(2026, 1, 31)):
        result = renewals_run()
    assert result.notices == 1 and result.late_notices == 0
    app.refresh_from_db()
    assert app.status == ApplicationStatus.RENEWAL_DUE
    notice = RenewalNotice.objects.get(application=app)
    assert (notice.expires_on, notice.latest_send_on) == (date(2026, 3, 15), date(2026, 2, 15))
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(notice.file.read())).pages)
    assert "15/03/2026" in text and "radiée" in text and app.number in text
    # Idempotent: the next day sends nothing more.
    with time_machine.travel(date(2026, 2, 1)):
        assert renewals_run().notices == 0
    # Still not renewed the day after expiry: radiated, not renewed.
    with time_machine.travel(date(2026, 3, 15)):
        assert renewals_run().cancelled == 0
    with time_machine.travel(date(2026, 3, 16)):
        assert renewals_run().cancelled == 1
    app.refresh_from_db()
    assert (app.status, app.cancellation_reason, app.cancelled_on) == ("cancelled", "not_renewed", date(2026, 3, 16))
    with pytest.raises(ApplicationError, match="nouvelle demande"):
        application_renew(application=app, on=date(2026, 3, 17))


def test_renewal_keeps_seniority_and_reactivates(world):
    app = make_application(world["A"].agency, on=date(2025, 3, 15))
    renewals_run(as_of=date(2026, 2, 1))
    app = application_renew(application=app, on=date(2026, 2, 20))
    assert app.status == ApplicationStatus.ACTIVE
    assert (app.first_registered_on, app.last_renewed_on, app.expires_on) == (
        date(2025, 3, 15),
        date(2026, 2, 20),
        date(2027, 2, 20),
    )
    assert renewals_run(as_of=date(2026, 3, 16)).cancelled == 0


def test_command_runs_the_same_service(world):
    make_application(world["A"].agency, on=date(2025, 3, 15))
    out = StringIO()
    call_command("applications_renewals", "--date", "2026-02-10", stdout=out)
    assert "1 avis de renouvellement" in out.getvalue()


def test_a_grid_published_in_advance_rescores_on_its_first_day(world):
    from applications.cotation import score_breakdown
    from applications.services import CriterionData

    from .factories import make_grid

    agency = world["A"].agency
    make_grid(agency, valid_from=date(2026, 1, 1))
    app = make_application(agency, on=date(2026, 3, 2))
    assert app.score == 30
    make_grid(
        agency,
        valid_from=date(2026, 4, 1),
        criteria=[CriterionData("heberge", "Hébergé", "housing_situation", 45, "hosted")],
        today=date(2026, 3, 10),
    )
    app.refresh_from_db()
    assert app.score == 30  # not in force yet
    renewals_run(as_of=date(2026, 4, 1))
    app.refresh_from_db()
    assert app.score == 45 == score_breakdown(app, as_of=date(2026, 4, 1)).total
    assert app.score_changes.first().cause == "Entrée en vigueur de la grille de cotation (version 2)"
