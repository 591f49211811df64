"""Inspections panels for pages of lower apps (fiche locataire, bail), without an upward import."""

from django import template
from django.utils import timezone

from inspections.access import MANAGE_MOVES, VIEW
from inspections.models import Inspection, InspectionStatus, Notice, Settlement

register = template.Library()


@register.inclusion_tag("inspections/_panel.html", takes_context=True)
def inspections_panel(context, household):
    """EDLs, notice and settlement of a household the page has already access-checked."""
    user = context["request"].user
    if not user.has_perm(VIEW):
        return {"allowed": False}
    inspections = list(
        Inspection.objects.filter(lease__household=household)
        .exclude(status=InspectionStatus.CANCELLED)
        .select_related("lease")
        .order_by("-scheduled_at")[:6]
    )
    notices = list(Notice.objects.filter(lease__household=household).select_related("lease").order_by("-received_on"))
    settlements = list(Settlement.objects.filter(lease__household=household).select_related("lease").order_by("-id"))
    today = timezone.localdate()
    for s in settlements:
        s.days_left = (s.deadline - today).days
    return {"allowed": True, "inspections": inspections, "notices": notices, "settlements": settlements}


@register.inclusion_tag("inspections/_lease_links.html", takes_context=True)
def move_links(context, lease):
    """Links from the lease page to its move-in / notice / move-out pages."""
    user = context["request"].user
    return {"lease": lease, "allowed": user.has_perm(VIEW), "can_manage": user.has_perm(MANAGE_MOVES)}
