"""Personal data held by the inspections app (issue 8), and its retention purge.

Field categories: "identity", "contact", "financial", "social", "health", "identifier", "free_text".
"""

from __future__ import annotations

from datetime import date

PERSONAL_DATA = {
    # The EDL: the tenant's signatory and drawn signature, the new address given at exit.
    "inspection": {
        "subject": "lease__household__people",
        "fields": {
            "tenant_signatory": "identity",
            "tenant_signature": "identity",
            "new_address": "contact",
            "pdf": "free_text",
        },
        "retention": "tenant_file",
    },
    "room": {
        "subject": "inspection__lease__household__people",
        "fields": {"comment": "free_text"},
        "retention": "tenant_file",
    },
    "element": {
        "subject": "room__inspection__lease__household__people",
        "fields": {"comment": "free_text", "entry_comment": "free_text"},
        "retention": "tenant_file",
    },
    # Photos of the tenant's home (may show belongings or people).
    "photo": {
        "subject": "room__inspection__lease__household__people",
        "history": "audit_record",
        "fields": {"image": "free_text", "thumbnail": "free_text"},
        "retention": "tenant_file",
    },
    "addendum": {
        "subject": "inspection__lease__household__people",
        "fields": {"text": "free_text"},
        "retention": "tenant_file",
    },
    # The reason of a reduced notice may reveal health, job loss or RSA/AAH.
    "notice": {
        "subject": "lease__household__people",
        "fields": {"reason": "social", "received_on": "social"},
        "retention": "tenant_file",
    },
    "settlement": {
        "subject": "lease__household__people",
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
        "subject": "settlement__lease__household__people",
        "fields": {"label": "free_text", "amount": "financial", "override_reason": "free_text"},
        "retention": "tenant_file",
    },
}
NO_PERSONAL_DATA = {"vetusterule", "repairprice", "inspectiontransition", "keyhandover"}

# Tenant file: kept 3 years after full settlement (loi 89 art. 7-1 prescription), DOMAIN.md §5.1;
# the term is the dated LegalDelay row of the "tenant_file" class (tenancies.privacy.RETENTION_DELAYS).


def _limit(as_of: date) -> date:
    from tenancies.privacy import retention_limit

    return retention_limit("tenant_file", as_of)


def holds(*, household_ids, as_of: date) -> dict[int, str]:
    """A move-out still being settled (draft, awaiting approval), or settled within the term
    (posted or refunded less than 3 years ago), keeps the household's file."""
    from django.db.models import Q

    from .models import Settlement, SettlementStatus

    limit = _limit(as_of)
    live = Q(status__in=[SettlementStatus.DRAFT, SettlementStatus.PENDING_APPROVAL])
    recent = Q(status=SettlementStatus.POSTED, posted_on__gte=limit) | Q(
        status=SettlementStatus.REFUNDED, refund_paid_on__gte=limit
    )
    rows = Settlement.objects.filter(live | recent, lease__household_id__in=household_ids).values_list(
        "lease__household_id", flat=True
    )
    return dict.fromkeys(rows, "décompte de sortie en cours ou soldé depuis moins de 3 ans")


def expired_lease_ids(as_of: date) -> list[int]:
    """Leases whose file is past the term: deposit refunded before the limit, or any lease of a
    household past the limitation period that no app holds (tenancies.privacy.expired_households)."""
    from tenancies.models import Lease
    from tenancies.privacy import expired_households

    from .models import Settlement, SettlementStatus

    refunded = Settlement.objects.filter(status=SettlementStatus.REFUNDED, refund_paid_on__lt=_limit(as_of))
    ids = set(refunded.values_list("lease_id", flat=True))
    ids |= set(Lease.objects.filter(household_id__in=expired_households(as_of)).values_list("pk", flat=True))
    return sorted(ids)


def purge(*, as_of: date, dry_run: bool) -> dict[str, int]:
    """Anonymise the EDLs and notices of the leases past their term (expired_lease_ids): photos
    deleted, signatures and PDFs deleted, new address, signatory, comments and remarks blanked, the
    notice reason reset, the history rows of those records deleted (they keep the old values).
    Amounts stay (the ledger keeps them under the accounting retention). Each count is the number
    of records changed; files are deleted once the transaction commits. Idempotent."""
    from django.db import transaction
    from django.db.models import Q

    from .models import Addendum, Element, Inspection, Notice, Photo, Room

    lease_ids = expired_lease_ids(as_of)
    edls = Inspection.objects.filter(lease_id__in=lease_ids)
    inspections = edls.filter(
        ~Q(tenant_signatory="") | ~Q(new_address="") | ~Q(tenant_signature="") | ~Q(agent_signature="") | ~Q(pdf="")
    )
    photos = Photo.objects.filter(room__inspection__in=edls)
    rooms = Room.objects.filter(inspection__in=edls)
    elements = Element.objects.filter(room__inspection__in=edls)
    addenda = Addendum.objects.filter(inspection__in=edls)
    notices = Notice.objects.filter(lease_id__in=lease_ids)
    histories = [
        Inspection.history.filter(lease_id__in=lease_ids),
        Room.history.filter(inspection__lease_id__in=lease_ids),
        Element.history.filter(room__inspection__lease_id__in=lease_ids),
        Addendum.history.filter(inspection__lease_id__in=lease_ids),
        Notice.history.filter(lease_id__in=lease_ids),
    ]
    counts = {
        "inspection": inspections.count(),
        "room": rooms.exclude(comment="").count(),
        "element": elements.filter(~Q(comment="") | ~Q(entry_comment="")).count(),
        "photo": photos.count(),
        "addendum": addenda.exclude(text="").count(),
        "notice": notices.exclude(reason="standard").count(),
        "history_rows": sum(h.count() for h in histories),
    }
    if dry_run or not any(counts.values()):
        return counts
    files = [f for photo in photos for f in (photo.image, photo.thumbnail) if f]
    files += [f for edl in inspections for f in (edl.tenant_signature, edl.agent_signature, edl.pdf) if f]
    with transaction.atomic():
        photos.delete()
        inspections.update(tenant_signatory="", new_address="", tenant_signature="", agent_signature="", pdf="")
        rooms.exclude(comment="").update(comment="")
        elements.filter(~Q(comment="") | ~Q(entry_comment="")).update(comment="", entry_comment="")
        addenda.exclude(text="").update(text="")
        notices.exclude(reason="standard").update(reason="standard")
        for history in histories:
            history.delete()
        transaction.on_commit(lambda: [f.delete(save=False) for f in files])
    return counts
