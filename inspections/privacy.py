"""Personal data held by the inspections app (issue 8), and its retention purge.

Field categories: "identity", "contact", "financial", "social", "health", "identifier", "free_text".
"""

from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta

PERSONAL_DATA = {
    # The EDL: the tenant's signatory and drawn signature, the new address given at exit.
    "inspection": {
        "fields": {
            "tenant_signatory": "identity",
            "tenant_signature": "identity",
            "new_address": "contact",
            "pdf": "free_text",
        },
        "retention": "tenant_file",
    },
    "room": {"fields": {"comment": "free_text"}, "retention": "tenant_file"},
    "element": {"fields": {"comment": "free_text", "entry_comment": "free_text"}, "retention": "tenant_file"},
    # Photos of the tenant's home (may show belongings or people).
    "photo": {
        "history": "audit_record",
        "fields": {"image": "free_text", "thumbnail": "free_text"},
        "retention": "tenant_file",
    },
    "addendum": {"fields": {"text": "free_text"}, "retention": "tenant_file"},
    # The reason of a reduced notice may reveal health, job loss or RSA/AAH.
    "notice": {"fields": {"reason": "social", "received_on": "social"}, "retention": "tenant_file"},
    "settlement": {
        "fields": {
            "deposit": "financial",
            "provision": "financial",
            "balance_after": "financial",
            "penalty": "financial",
            "refund_amount": "financial",
            "new_address_known": "contact",
        },
        "retention": "tenant_file",
    },
    "settlementline": {
        "fields": {"label": "free_text", "amount": "financial", "override_reason": "free_text"},
        "retention": "tenant_file",
    },
}
NO_PERSONAL_DATA = {"vetusterule", "repairprice", "inspectiontransition", "keyhandover"}

# Tenant file: kept 3 years after full settlement (loi 89 art. 7-1 prescription), DOMAIN.md §5.1.
TENANT_FILE_YEARS = 3


def purge(*, as_of: date, dry_run: bool) -> dict[str, int]:
    """Anonymise the EDLs and notices of leases whose settlement was closed more than 3 years ago:
    signatures, photos and PDFs deleted, new address, signatory, comments and remarks blanked, the
    notice reason reset. Amounts stay (the ledger keeps them under the accounting retention)."""
    from .models import Addendum, Element, Inspection, Notice, Photo, Room, Settlement, SettlementStatus

    limit = as_of - relativedelta(years=TENANT_FILE_YEARS)
    lease_ids = list(
        Settlement.objects.filter(status=SettlementStatus.REFUNDED, refund_paid_on__lt=limit).values_list(
            "lease_id", flat=True
        )
    )
    inspections = Inspection.objects.filter(lease_id__in=lease_ids).exclude(tenant_signatory="", new_address="")
    photos = Photo.objects.filter(room__inspection__lease_id__in=lease_ids)
    counts = {
        "inspection": inspections.count(),
        "photo": photos.count(),
        "addendum": Addendum.objects.filter(inspection__lease_id__in=lease_ids).exclude(text="").count(),
        "notice": Notice.objects.filter(lease_id__in=lease_ids).exclude(reason="standard").count(),
    }
    if dry_run:
        return counts
    for photo in photos:
        photo.image.delete(save=False)
        photo.thumbnail.delete(save=False)
    photos.delete()
    for inspection in inspections:
        for field in (inspection.tenant_signature, inspection.agent_signature, inspection.pdf):
            if field:
                field.delete(save=False)
    inspections.update(tenant_signatory="", new_address="", tenant_signature="", agent_signature="", pdf="")
    Room.objects.filter(inspection__lease_id__in=lease_ids).update(comment="")
    Element.objects.filter(room__inspection__lease_id__in=lease_ids).update(comment="", entry_comment="")
    Addendum.objects.filter(inspection__lease_id__in=lease_ids).update(text="")
    Notice.objects.filter(lease_id__in=lease_ids).update(reason="standard")
    return counts
