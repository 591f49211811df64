"""Personal data of housing applications (issue 8 registry, DOMAIN.md §5.1).

Retention "application": until radiation + 1 year (SNE rule), then the demand, its household, its
documents and letters, its history rows are deleted by purge()."""

from __future__ import annotations

from datetime import date

PERSONAL_DATA = {
    "application": {
        "fields": {
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

RETENTION_YEARS = 1


def purge(*, as_of: date, dry_run: bool) -> dict[str, int]:
    """Delete the demands radiated more than a year before `as_of`, with their people, incomes,
    documents (files included), letters and history rows. Idempotent."""
    from dateutil.relativedelta import relativedelta
    from django.db import transaction

    from .models import Application, ApplicationDocument, ApplicationPerson, Income, RenewalNotice

    limit = as_of - relativedelta(years=RETENTION_YEARS)
    expired = Application.objects.filter(status="cancelled", cancelled_on__lt=limit)
    ids = list(expired.values_list("pk", flat=True))
    documents = ApplicationDocument.objects.filter(application_id__in=ids)
    notices = RenewalNotice.objects.filter(application_id__in=ids)
    people = ApplicationPerson.objects.filter(application_id__in=ids)
    counts = {
        "applications": len(ids),
        "people": people.count(),
        "documents": documents.count(),
        "renewal_notices": notices.count(),
    }
    if dry_run or not ids:
        return counts
    files = [d.file for d in documents] + [n.file for n in notices]
    person_ids = list(people.values_list("pk", flat=True))
    with transaction.atomic():
        # Rows first (simple_history records their deletion), then every history row about them.
        expired.delete()
        Income.history.filter(person_id__in=person_ids).delete()
        ApplicationDocument.history.filter(application_id__in=ids).delete()
        ApplicationPerson.history.filter(application_id__in=ids).delete()
        Application.history.filter(id__in=ids).delete()
        transaction.on_commit(lambda: [f.delete(save=False) for f in files if f])
    return counts
