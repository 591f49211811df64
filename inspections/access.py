"""The one permission-checked lookup per inspections object type (role -> 403, territory -> 404)."""

from django.shortcuts import get_object_or_404

from tenancies.access import require_perm
from tenancies.models import Lease

from .models import Inspection, Notice, Photo, Room, Settlement

VIEW = "inspections.view"
EDIT_INSPECTIONS = "inspections.edit_inspections"
MANAGE_MOVES = "inspections.manage_moves"
APPROVE_SETTLEMENTS = "inspections.approve_settlements"

LEASE_RELATED = ("dwelling__building__estate__commune", "dwelling__building__estate__agency", "household__agency")


def get_lease_for_user(user, pk, *, perm: str = VIEW):
    require_perm(user, perm)
    return get_object_or_404(Lease.objects.for_user(user).select_related(*LEASE_RELATED), pk=pk)


def get_inspection_for_user(user, pk, *, perm: str = VIEW):
    require_perm(user, perm)
    qs = Inspection.objects.for_user(user).select_related("agent", *(f"lease__{r}" for r in LEASE_RELATED))
    return get_object_or_404(qs, pk=pk)


def get_room_for_user(user, pk, *, perm: str = VIEW):
    require_perm(user, perm)
    qs = Room.objects.filter(inspection__in=Inspection.objects.for_user(user)).select_related(
        "inspection__lease__dwelling", "inspection__agent"
    )
    return get_object_or_404(qs, pk=pk)


def get_photo_for_user(user, pk):
    require_perm(user, VIEW)
    qs = Photo.objects.filter(room__inspection__in=Inspection.objects.for_user(user))
    return get_object_or_404(qs, pk=pk)


def get_notice_for_user(user, pk, *, perm: str = VIEW):
    require_perm(user, perm)
    return get_object_or_404(
        Notice.objects.for_user(user).select_related(*(f"lease__{r}" for r in LEASE_RELATED)), pk=pk
    )


def get_settlement_for_user(user, pk, *, perm: str = VIEW):
    require_perm(user, perm)
    qs = Settlement.objects.for_user(user).select_related(
        "prepared_by", "approved_by", "submitted_by", *(f"lease__{r}" for r in LEASE_RELATED)
    )
    return get_object_or_404(qs, pk=pk)
