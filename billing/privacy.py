"""Personal data of billing (issue 8): classification, retention, holds and purge.

The format is described in tenancies/privacy.py. Accounting records (notices, ledger entries,
payments, collection files) are kept 10 years and are append-only: nothing here deletes them.
"""

from __future__ import annotations

TENANT = "account__lease__household__people"

PERSONAL_DATA = {
    "account": {
        "fields": {"balance": "financial", "flagged_for_arrears": "financial"},
        "retention": "tenant_file",
        "subject": "lease__household__people",
        "history": "derived:billing.ledgerentry",  # the balance caches Σ of its append-only entries
    },
    "ledgerentry": {  # append-only: a database trigger refuses UPDATE and DELETE
        "fields": {"posted_on": "financial", "label": "free_text", "debit": "financial", "credit": "financial"},
        "retention": "accounting",
        "subject": TENANT,
    },
    "rentnotice": {  # frozen by a database trigger
        "fields": {
            "period": "financial",
            "rent_amount": "financial",
            "charges_amount": "financial",
            "apl_amount": "financial",
            "amount_due": "financial",
        },
        "retention": "accounting",
        "subject": "lease__household__people",
    },
    "rentnoticeline": {
        "label": "lignes des avis d'échéance",
        "labels": {"label": "libellé", "amount": "montant"},
        "fields": {"label": "free_text", "amount": "financial"},
        "retention": "accounting",
        "subject": "notice__lease__household__people",
        "history": "derived:billing.rentnotice",
    },
    "payment": {
        "fields": {"received_on": "financial", "amount": "financial", "method": "financial", "reference": "free_text"},
        "retention": "accounting",
        "subject": TENANT,
        "history": "audit_record",  # created_at + created_by; corrections are reversing entries
    },
    "paymentallocation": {
        "label": "affectations des paiements",
        "labels": {"amount": "montant affecté"},
        "fields": {"amount": "financial"},
        "retention": "accounting",
        "subject": "payment__account__lease__household__people",
        "history": "derived:billing.payment",
    },
    "housingbenefit": {
        "fields": {
            "apl_amount": "financial",
            "rls_amount": "financial",
            "allocataire_number": "identifier",
            "valid_from": "financial",
            "valid_to": "financial",
        },
        "retention": "tenant_file",
        "subject": "lease__household__people",
    },
    "slscharge": {
        "fields": {"monthly_amount": "financial", "reason": "free_text"},
        "retention": "tenant_file",
        "subject": "lease__household__people",
    },
    "bankstatementline": {
        "fields": {"label": "free_text", "reference": "free_text", "amount": "financial", "note": "free_text"},
        "retention": "accounting",
    },
    "cafstatementline": {
        "fields": {
            "allocataire_number": "identifier",
            "tenant_reference": "identifier",
            "apl_amount": "financial",
            "rls_amount": "financial",
            "note": "free_text",
        },
        "label": "lignes des relevés CAF",
        "labels": {"note": "observation"},
        "retention": "accounting",
        "subject": "lease__household__people",
    },
    "sepamandate": {
        "fields": {"rum": "identifier", "debtor_name": "identity", "iban": "financial", "bic": "financial"},
        "retention": "tenant_file",
        "subject": TENANT,
    },
    "directdebitrun": {
        "fields": {"xml": "financial"},  # the pain.008 file names debtors and their IBANs
        "retention": "accounting",
        "history": "audit_record",
    },
    "directdebit": {
        "fields": {"amount": "financial", "reject_code": "financial"},
        "labels": {"amount": "montant"},
        "retention": "accounting",
        "subject": "mandate__account__lease__household__people",
    },
    "rentrevisionline": {
        "fields": {"old_rent": "financial", "new_rent": "financial"},
        "label": "révisions de loyer",
        "labels": {"old_rent": "ancien loyer", "new_rent": "nouveau loyer"},
        "retention": "tenant_file",
        "subject": "lease__household__people",
    },
    "regularisationline": {
        "fields": {"actual_share": "financial", "provisions_billed": "financial", "balance": "financial"},
        "label": "régularisations de charges",
        "retention": "tenant_file",
        "subject": "lease__household__people",
    },
    "slssurvey": {
        "fields": {
            "household_resources": "financial",
            "household_category": "social",
            "apl_beneficiary": "social",
            "excess_pct": "financial",
            "monthly_sls": "financial",
            "reason": "free_text",
        },
        "retention": "survey",
        "subject": "lease__household__people",
    },
}

NO_PERSONAL_DATA = {
    "rlsamount",
    "rlsceiling",
    "irlindex",
    "billingrun",  # totals per agency, no tenant
    "billingchunk",  # lease ids to bill
    "billingfailure",  # why a lease could not be billed (contract data, no person)
    "bankstatement",  # file name and checksum
    "cafstatement",
    "rentrevision",
    "chargeregularisation",
    "chargecost",
    "slsscale",
    "slsreferencerent",
}


def holds(*, household_ids, as_of) -> dict[int, str]:  # noqa: ARG001 - the registry's hook signature
    """A household whose account is not settled keeps its file (the debt must stay provable)."""
    from .models import Account

    rows = (
        Account.objects.filter(lease__household_id__in=household_ids)
        .exclude(balance=0)
        .values_list("lease__household_id", flat=True)
    )
    return dict.fromkeys(rows, "compte non soldé")


def purge(*, as_of, dry_run: bool) -> dict[str, int]:
    """The SEPA mandates of former tenants past their term lose the debtor's name and IBAN (the
    collection files already sent stay, as accounting records), their housing benefits the CAF
    file number. SLS surveys sent before the
    "survey" term (3 years: the current and previous survey serve the two-year rule) are deleted
    with their history rows; the SLS charges they set stay with the lease."""
    from django.db import transaction

    from tenancies.privacy import ANONYMISED, expired_households, retention_limit

    from .models import HousingBenefit, SepaMandate, SlsSurvey

    expired = expired_households(as_of)
    mandates = SepaMandate.objects.filter(account__lease__household_id__in=expired).exclude(debtor_name=ANONYMISED)
    # The CAF file number of a former tenant's benefits (the amounts stay), in the history too.
    benefits = HousingBenefit.objects.filter(lease__household_id__in=expired)
    benefit_ids = list(benefits.values_list("pk", flat=True))
    numbered = HousingBenefit.objects.filter(pk__in=benefit_ids).exclude(allocataire_number="")
    numbered_history = HousingBenefit.history.filter(id__in=benefit_ids).exclude(allocataire_number="")
    surveys = list(SlsSurvey.objects.filter(sent_on__lt=retention_limit("survey", as_of)).values_list("pk", flat=True))
    history = SlsSurvey.history.filter(id__in=surveys)
    counts = {
        "sepamandate_anonymised": mandates.count(),
        "housingbenefit_number_blanked": numbered.count(),
        "housingbenefit_history_blanked": numbered_history.count(),
        "slssurvey_deleted": len(surveys),
        "slssurvey_history_deleted": history.count(),
    }
    if dry_run or not any(counts.values()):
        return counts
    with transaction.atomic():
        mandates.update(debtor_name=ANONYMISED, iban="", bic="")
        numbered_history.update(allocataire_number="")
        numbered.update(allocataire_number="")
        SlsSurvey.objects.filter(pk__in=surveys).delete()
        history.delete()  # the deletion records just written included
    return counts
