"""The write path of housing applications (STYLE.md habit 1)."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from .models import TRANSITIONS, Application, ApplicationStatus, ApplicationTransition


class ApplicationError(Exception):
    """A business rule refused the action; the message is French and shown to the user."""


def application_transition(
    *, application: Application, to_status: str, on: date, by=None, reason: str = "", cancellation_reason: str = ""
) -> Application:
    """Move the application to `to_status` if TRANSITIONS allows it, and record the move.

    Raises ApplicationError for an illegal move or a radiation without its reason."""
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if to_status not in TRANSITIONS[locked.status]:
            raise ApplicationError(
                f"Une demande « {locked.get_status_display()} » ne peut pas passer au statut "
                f"« {ApplicationStatus(to_status).label} »."
            )
        if to_status == ApplicationStatus.CANCELLED:
            if not cancellation_reason:
                raise ApplicationError("Indiquez le motif de radiation.")
            locked.cancellation_reason = cancellation_reason
            locked.cancelled_on = on
        previous = locked.status
        locked.status = to_status
        locked.save()
        ApplicationTransition.objects.create(
            application=locked, from_status=previous, to_status=to_status, on=on, by=by, reason=reason[:255]
        )
    application.refresh_from_db()
    return application
