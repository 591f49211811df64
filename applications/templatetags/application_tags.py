"""Inclusion tags for lower apps' pages (the fiche locataire shows its transfer requests)."""

from django import template

from ..models import Application, ApplicationKind
from ..rules import VIEW_APPLICATIONS

register = template.Library()


@register.inclusion_tag("applications/_transfer_panel.html", takes_context=True)
def transfer_applications(context, household):
    """The household's transfer requests (demandes de mutation), for staff who may see demands."""
    user = context["request"].user
    if not user.has_perm(VIEW_APPLICATIONS):
        return {"visible": False}
    rows = (
        Application.objects.for_user(user)
        .filter(kind=ApplicationKind.TRANSFER, current_lease__household=household)
        .order_by("-first_registered_on")[:10]
    )
    return {"visible": True, "applications": list(rows)}
