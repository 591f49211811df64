"""Personal data of the committee (issue 8): classification, retention and purge.

The format is described in tenancies/privacy.py. Candidates are applicants (applications
.ApplicationPerson), not tenancies persons: no "subject" path. Everything of a session is kept
for the "caleol" class (session + 3 years), then deleted with the session.
"""

from __future__ import annotations

from dateutil.relativedelta import relativedelta

CALEOL_YEARS = 3

PERSONAL_DATA = {
    "sessionmember": {
        "fields": {"user": "identity", "capacity": "identity", "present": "identity"},
        "retention": "caleol",
    },
    "candidature": {
        "fields": {
            "application": "identifier",
            "monthly_resources": "financial",
            "housing_cost": "financial",
            "apl_estimate": "financial",
            "apl_override": "financial",
            "effort_rate": "financial",
            "daily_rest": "financial",
            "consumption_units": "social",
            "flags": "financial",
        },
        "retention": "caleol",
    },
    "vote": {
        "fields": {"member": "identity", "ranking": "social", "non_attribution": "social", "comment": "free_text"},
        "retention": "caleol",
    },
    "decision": {  # append-only: a database trigger refuses UPDATE and DELETE (lifted by purge only)
        "fields": {"kind": "social", "reasons": "free_text", "condition": "social", "condition_deadline": "social"},
        "retention": "caleol",
    },
    "offer": {
        "fields": {
            "status": "social",
            "sent_on": "social",
            "received_on": "social",
            "deadline": "social",
            "answered_on": "social",
            "refusal_kind": "social",
            "refusal_reason": "free_text",
        },
        "retention": "caleol",
    },
    "allocation": {  # the attribution as the yearly reports need it; deleted with its session
        "fields": {
            "application": "identifier",
            "lease": "identifier",
            "dalo": "social",
            "priority_public": "social",
            "annual_resources": "financial",
            "consumption_units": "social",
            "resources_per_unit": "financial",
            "first_quartile": "financial",
            "first_registered_on": "social",
            "waiting_days": "social",
            "waiting_months": "social",
        },
        "retention": "caleol",
    },
    "agendaitem": {
        # The justification of fewer than three candidates can name a household situation.
        "fields": {"exception_note": "free_text"},
        "retention": "caleol",
    },
}

NO_PERSONAL_DATA = {
    "typologyoccupancy",
    "solvencythreshold",
    "aplestimatescale",
    "contingenttarget",
    "allocationquota",
    "firstquartilethreshold",
    "session",  # a date, a place, a quorum, who presides (staff)
}


def purge(*, as_of, dry_run: bool) -> dict[str, int]:
    """Delete the sessions held more than three years before `as_of`, with their agenda,
    candidatures, votes, decisions and offers. Idempotent."""
    import pgtrigger
    from django.db import transaction

    from .models import AgendaItem, Allocation, Candidature, Decision, Offer, Session, SessionMember, Vote

    old = Session.objects.filter(held_on__lt=as_of - relativedelta(years=CALEOL_YEARS))
    candidatures = Candidature.objects.filter(item__session__in=old)
    querysets = {
        "allocations": Allocation.objects.filter(offer__candidature__in=candidatures),
        "offers": Offer.objects.filter(candidature__in=candidatures),
        "decisions": Decision.objects.filter(candidature__in=candidatures),
        "votes": Vote.objects.filter(item__session__in=old),
        "candidatures": candidatures,
        "agenda_items": AgendaItem.objects.filter(session__in=old),
        "members": SessionMember.objects.filter(session__in=old),
        "sessions": old,
    }
    counts = {name: qs.count() for name, qs in querysets.items()}
    if dry_run or not counts["sessions"]:
        return counts
    with transaction.atomic(), pgtrigger.ignore("committee.Decision:decision_append_only"):
        Decision.objects.filter(candidature__in=candidatures, corrects__isnull=False).update(corrects=None)
        for qs in querysets.values():
            qs.delete()
    return counts
