"""Personal data of housing applications (issue 8 registry, DOMAIN.md §5.1).

Retention "application": until radiation + 1 year (SNE rule), then the demand, its household, its
documents and letters, its history rows are deleted by purge()."""

from __future__ import annotations

from datetime import date

PERSONAL_DATA = {
    "application": {
        "fields": {
            "status": "social",
            "national_number": "identifier",
            "local_number": "identifier",
            "housing_situation": "social",
            "current_rent": "financial",
            "reasons": "social",
            "dalo": "social",
            "dalo_designated_on": "social",
            "income_basis": "financial",
            "recent_income": "financial",
            "reference_income": "financial",
            "monthly_income": "financial",
            "household_size": "social",
            "category": "social",
            "needs_accessible": "health",
            "score": "social",
            "social_notes": "free_text",
            "cancellation_reason": "social",
        },
        "retention": "application",
    },
    "applicationperson": {
        "fields": {
            "last_name": "identity",
            "first_name": "identity",
            "birth_date": "identity",
            "search_name": "identity",
            "relationship": "social",
            "dependant": "social",
            "disability_card": "health",
            "tax_income": "financial",
            "phone": "contact",
            "email": "contact",
        },
        "labels": {"search_name": "nom de recherche"},
        "retention": "application",
    },
    "income": {"fields": {"source": "financial", "monthly_amount": "financial"}, "retention": "application"},
    "applicationdocument": {
        "fields": {"file": "identity", "original_name": "free_text", "document_type": "social"},
        "retention": "application",
    },
    "applicationtransition": {
        "fields": {"from_status": "social", "to_status": "social", "reason": "free_text"},
        "retention": "application",
        "history": "audit_record",
    },
    "scorechange": {
        "fields": {"old_score": "social", "new_score": "social", "cause": "free_text"},
        "labels": {"cause": "cause du changement"},
        "retention": "application",
        "history": "derived:applications.application",
    },
    "renewalnotice": {
        "fields": {"file": "identity", "expires_on": "social"},
        "retention": "application",
        "history": "derived:applications.application",
    },
}

NO_PERSONAL_DATA = {
    "prioritycriterion",
    "documenttype",
    "cotationgrid",
    "cotationcriterion",
    "duplicatedismissal",  # two application ids and the staff member who compared them
}


def purge(*, as_of: date, dry_run: bool) -> dict[str, int]:
    """Delete the demands radiated more than the "application" term before `as_of` (1 year, SNE
    rule: a dated LegalDelay row), with their people, incomes, documents (files included), letters
    and history rows. A demand still on the agenda of a CALEOL session within the "caleol" term
    waits for the committee's purge (its candidature protects it). Idempotent."""
    from django.db import transaction

    from tenancies.privacy import retention_limit

    from .models import Application, ApplicationDocument, ApplicationPerson, Income, RenewalNotice

    limit = retention_limit("application", as_of)
    expired = Application.objects.filter(status="cancelled", cancelled_on__lt=limit, candidatures__isnull=True)
    ids = list(expired.values_list("pk", flat=True))
    documents = ApplicationDocument.objects.filter(application_id__in=ids)
    notices = RenewalNotice.objects.filter(application_id__in=ids)
    people = ApplicationPerson.objects.filter(application_id__in=ids)
    person_ids = list(people.values_list("pk", flat=True))
    counts = {
        "applications": len(ids),
        "people": len(person_ids),
        "incomes": Income.objects.filter(person_id__in=person_ids).count(),
        "documents": documents.count(),
        "renewal_notices": notices.count(),
    }
    if dry_run or not ids:
        return counts
    files = [d.file for d in documents] + [n.file for n in notices]
    with transaction.atomic():
        # Rows first (simple_history records their deletion), then every history row about them.
        Application.objects.filter(pk__in=ids).delete()
        Income.history.filter(person_id__in=person_ids).delete()
        ApplicationDocument.history.filter(application_id__in=ids).delete()
        ApplicationPerson.history.filter(application_id__in=ids).delete()
        Application.history.filter(id__in=ids).delete()
        transaction.on_commit(lambda: [f.delete(save=False) for f in files if f])
    return counts


# --- Access right (RGPD art. 15) ---------------------------------------------------------------

# The models exported by export() (tenancies.privacy.exported_models).
EXPORTED = (
    "application",
    "applicationperson",
    "income",
    "applicationdocument",
    "applicationtransition",
    "scorechange",
    "renewalnotice",
)


def person_applications(person):
    """The demands about a tenancies Person: one of its people has the person's name and birth
    date (a demand filed with the household's agency: the export stays within the agency that
    answers the request), it is the household's transfer demand (current lease), or it led to one
    of the household's leases (an accepted offer)."""
    from django.db.models import Q

    from .models import Application

    reached = Q(current_lease__household_id=person.household_id) | Q(
        candidatures__offer__lease__household_id=person.household_id
    )
    if person.birth_date:
        same = Application.objects.filter(
            agency_id=person.household.agency_id,
            people__search_name=person.search_name,
            people__birth_date=person.birth_date,
        ).values("pk")
        reached |= Q(pk__in=same)
    return Application.objects.filter(reached).distinct()


def export(person) -> dict:
    """{model name: rows} of the person's demands: the demand, its household members and their
    incomes, the list of its documents (type and name, not the files), its status changes, score
    changes and renewal letters."""
    from .models import (
        ApplicationDocument,
        ApplicationPerson,
        ApplicationTransition,
        Income,
        RenewalNotice,
        ScoreChange,
    )

    ids = list(person_applications(person).values_list("pk", flat=True))
    return {
        "application": person_applications(person).model.objects.filter(pk__in=ids),
        "applicationperson": ApplicationPerson.objects.filter(application_id__in=ids),
        "income": Income.objects.filter(person__application_id__in=ids),
        "applicationdocument": ApplicationDocument.objects.filter(application_id__in=ids),
        "applicationtransition": ApplicationTransition.objects.filter(application_id__in=ids),
        "scorechange": ScoreChange.objects.filter(application_id__in=ids),
        "renewalnotice": RenewalNotice.objects.filter(application_id__in=ids),
    }
