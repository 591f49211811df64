"""The one permission-checked lookup per object type.

Every view that loads a stock or tenancy object goes through a getter here: it checks the role
permission (403 when the role may not use the page) and the territory (404 when the object
belongs to an agency the user does not manage, so its existence is not revealed).
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from .models import Building, Dwelling, Estate, Household, Lease

BROWSE_STOCK = "tenancies.browse_stock"
BROWSE_TENANTS = "tenancies.browse_tenants"
MANAGE_LEASES = "tenancies.manage_leases"


def require_perm(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


def visible(model, user, perm: str):
    """The queryset of `model` rows the user may list, after the role check."""
    require_perm(user, perm)
    return model.objects.for_user(user)


def get_estate_for_user(user, pk):
    return get_object_or_404(visible(Estate, user, BROWSE_STOCK).select_related("commune", "agency"), pk=pk)


def get_building_for_user(user, pk):
    return get_object_or_404(
        visible(Building, user, BROWSE_STOCK).select_related("estate__commune", "estate__agency"), pk=pk
    )


def get_dwelling_for_user(user, pk):
    return get_object_or_404(visible(Dwelling, user, BROWSE_STOCK).with_place(), pk=pk)


def get_household_for_user(user, pk):
    return get_object_or_404(visible(Household, user, BROWSE_TENANTS).select_related("agency"), pk=pk)


def get_lease_for_user(user, pk, *, write: bool = False):
    qs = visible(Lease, user, MANAGE_LEASES if write else BROWSE_TENANTS)
    return get_object_or_404(qs.select_related("dwelling__building__estate__commune", "household__agency"), pk=pk)
