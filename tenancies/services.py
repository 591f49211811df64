"""Write paths for the stock and the tenancy. Views, commands and other apps call these."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import connection, transaction

from .models import (
    CURRENT_LEASE_STATUSES,
    LEASE_TRANSITIONS,
    CommandementDelay,
    Dwelling,
    DwellingStatus,
    Lease,
    LeaseAnnex,
    LeaseCharge,
    LeaseStatus,
    LeaseTransition,
)

# Loi n° 2023-668 (in force 29 July 2023) shortened the commandement de payer delay to 6 weeks.
KASBARIAN_BERGE_IN_FORCE = date(2023, 7, 29)


class LeaseError(Exception):
    """A refused lease action; the message is French and shown to the user."""


def default_commandement_delay(signed_on: date | None) -> str:
    """2 months for a lease signed before the 2023 law (the prudent reading), 6 weeks after."""
    if signed_on is not None and signed_on < KASBARIAN_BERGE_IN_FORCE:
        return CommandementDelay.TWO_MONTHS
    return CommandementDelay.SIX_WEEKS


def next_lease_numbers(count: int) -> list[str]:
    """Reserve `count` lease numbers from the database sequence (gaps are harmless)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('tenancies_lease_number_seq') FROM generate_series(1, %s)", [count])
        return [f"B{n:08d}" for (n,) in cursor.fetchall()]


@transaction.atomic
def lease_create(
    *,
    dwelling: Dwelling,
    household,
    starts_on: date,
    by=None,
    rent: Decimal | None = None,
    deposit: Decimal | None = None,
    payment_method: str | None = None,
    signed_on: date | None = None,
    annexes=(),
) -> Lease:
    """Create a draft lease on a free dwelling, copying its rent and charge provisions.

    The deposit defaults to one month of rent excluding charges (loi 89 art. 22). The dwelling
    becomes reserved. Raises LeaseError when the dwelling already has a current lease.
    """
    dwelling = Dwelling.objects.select_for_update().get(pk=dwelling.pk)
    if dwelling.leases.filter(status__in=CURRENT_LEASE_STATUSES).exists():
        raise LeaseError("Ce logement a déjà un bail en cours.")
    if dwelling.status == DwellingStatus.WORKS:
        raise LeaseError("Ce logement est indisponible pour travaux.")
    rent = dwelling.rent if rent is None else rent
    lease = Lease.objects.create(
        number=next_lease_numbers(1)[0],
        dwelling=dwelling,
        household=household,
        starts_on=starts_on,
        signed_on=signed_on,
        rent=rent,
        deposit=rent if deposit is None else deposit,
        payment_method=payment_method or Lease._meta.get_field("payment_method").default,
        commandement_delay=default_commandement_delay(signed_on or starts_on),
    )
    LeaseCharge.objects.bulk_create(
        LeaseCharge(lease=lease, charge_type_id=c.charge_type_id, monthly_amount=c.monthly_amount)
        for c in dwelling.charges.all()
    )
    LeaseAnnex.objects.bulk_create(LeaseAnnex(lease=lease, annex=a, rent=a.rent) for a in annexes)
    LeaseTransition.objects.create(lease=lease, from_status="", to_status=LeaseStatus.DRAFT, by=by)
    dwelling.status = DwellingStatus.RESERVED
    dwelling.save(update_fields=["status"])
    return lease


@transaction.atomic
def lease_transition(*, lease: Lease, to_status: str, by=None, reason: str = "", on: date | None = None) -> Lease:
    """Move a lease to `to_status` if LEASE_TRANSITIONS allows it, and record who, when and why.

    `on` is the business date of the move: the signature date when signing, the end date when
    ending. The dwelling follows: let while the lease is current, vacant once it ends.
    Raises LeaseError (French message) on an illegal move or missing date.
    """
    lease = Lease.objects.select_for_update().get(pk=lease.pk)
    if to_status not in LeaseStatus.values:
        raise LeaseError("Statut inconnu.")
    if to_status not in LEASE_TRANSITIONS[lease.status]:
        raise LeaseError(
            f"Un bail « {lease.get_status_display()} » ne peut pas passer au statut « {LeaseStatus(to_status).label} »."
        )
    fields = ["status"]
    if to_status == LeaseStatus.SIGNED:
        if on is None:
            raise LeaseError("La date de signature est obligatoire.")
        lease.signed_on = on
        lease.commandement_delay = default_commandement_delay(on)
        fields += ["signed_on", "commandement_delay"]
    if to_status == LeaseStatus.ENDED:
        end = on or lease.ends_on
        if end is None:
            raise LeaseError("La date de fin est obligatoire.")
        if end < lease.starts_on:
            raise LeaseError("La date de fin ne peut pas précéder la date d'effet.")
        lease.ends_on = end
        fields.append("ends_on")
    if to_status == LeaseStatus.ACTIVE and lease.status == LeaseStatus.NOTICE_GIVEN:
        lease.ends_on = None  # notice withdrawn
        fields.append("ends_on")
    from_status = lease.status
    lease.status = to_status
    lease.save(update_fields=fields)
    LeaseTransition.objects.create(lease=lease, from_status=from_status, to_status=to_status, by=by, reason=reason)

    dwelling_status = {
        LeaseStatus.ACTIVE: DwellingStatus.LET,
        LeaseStatus.ENDED: DwellingStatus.VACANT,
        LeaseStatus.CANCELLED: DwellingStatus.VACANT,
    }.get(to_status)
    if dwelling_status:
        dwelling = lease.dwelling
        dwelling.status = dwelling_status
        dwelling.save(update_fields=["status"])
    return lease
