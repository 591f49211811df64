"""Personal data of the committee (issue 8): classification, retention and purge.

The format is described in tenancies/privacy.py. Candidates are applicants (applications
.ApplicationPerson), not tenancies persons: no "subject" path. Everything of a session is kept
for the "caleol" class (session + 3 years), then deleted with the session.
"""

from __future__ import annotations

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
    """Delete the sessions held before the "caleol" term (3 years, a dated LegalDelay row) with
    their agenda, candidatures, votes, decisions, offers and every history row about them (the
    history keeps the old reasons and comments). Idempotent."""
    import pgtrigger
    from django.apps import apps
    from django.db import transaction

    from tenancies.privacy import retention_limit

    from .models import AgendaItem, Candidature, Decision, Offer, Session, SessionMember, Vote

    old = Session.objects.filter(held_on__lt=retention_limit("caleol", as_of))
    candidatures = Candidature.objects.filter(item__session__in=old)
    querysets = {
        "offers": Offer.objects.filter(candidature__in=candidatures),
        "decisions": Decision.objects.filter(candidature__in=candidatures),
        "votes": Vote.objects.filter(item__session__in=old),
        "candidatures": candidatures,
        "agenda_items": AgendaItem.objects.filter(session__in=old),
        "members": SessionMember.objects.filter(session__in=old),
        "sessions": old,
    }
    try:  # the attribution statistics frozen from an offer go with it (same "caleol" term)
        allocation = apps.get_model("committee", "Allocation")
    except LookupError:  # pragma: no cover - older schema
        allocation = None
    if allocation is not None:
        querysets = {"allocations": allocation.objects.filter(offer__candidature__in=candidatures), **querysets}
    ids = {name: list(qs.values_list("pk", flat=True)) for name, qs in querysets.items()}
    counts = {name: len(pks) for name, pks in ids.items()}
    models = {qs.model: ids[name] for name, qs in querysets.items()}
    counts["history_rows"] = sum(m.history.filter(id__in=pks).count() for m, pks in models.items() if pks)
    if dry_run or not counts["sessions"]:
        return counts
    with transaction.atomic(), pgtrigger.ignore("committee.Decision:decision_append_only"):
        Decision.objects.filter(pk__in=ids["decisions"], corrects__isnull=False).update(corrects=None)
        for model, pks in models.items():
            model.objects.filter(pk__in=pks).delete()
        # Then the history rows, the deletion records simple_history just wrote included.
        for model, pks in models.items():
            model.history.filter(id__in=pks).delete()
    return counts


# --- Access right (RGPD art. 15) ---------------------------------------------------------------

# The models exported by export(): what the committee examined and decided about the person's
# demands, the offers made and the allocation records. The members' votes stay out (each member's
# ranking and comment is the deliberation; the decision carries its reasons).
EXPORTED = ("candidature", "decision", "offer", "allocation")


def export(person) -> dict:
    from applications.privacy import person_applications

    from .models import Allocation, Candidature, Decision, Offer

    ids = list(person_applications(person).values_list("pk", flat=True))
    return {
        "candidature": Candidature.objects.filter(application_id__in=ids),
        "decision": Decision.objects.filter(candidature__application_id__in=ids),
        "offer": Offer.objects.filter(candidature__application_id__in=ids),
        "allocation": Allocation.objects.filter(offer__candidature__application_id__in=ids),
    }
