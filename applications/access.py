"""The one permission-checked lookup per application object type (403 for a role without the
permission, 404 outside the user's agencies)."""

from django.shortcuts import get_object_or_404

from tenancies.access import require_perm, visible

from .models import Application, ApplicationDocument, CotationGrid, RenewalNotice
from .rules import EDIT_GRIDS, MANAGE_APPLICATIONS, VIEW_APPLICATIONS


def get_application_for_user(user, pk, *, write: bool = False) -> Application:
    qs = visible(Application, user, MANAGE_APPLICATIONS if write else VIEW_APPLICATIONS)
    return get_object_or_404(qs.select_related("agency", "current_lease__dwelling"), pk=pk)


def get_document_for_user(user, pk) -> ApplicationDocument:
    qs = visible(ApplicationDocument, user, VIEW_APPLICATIONS)
    return get_object_or_404(qs.select_related("application", "document_type"), pk=pk)


def get_renewal_notice_for_user(user, pk) -> RenewalNotice:
    require_perm(user, VIEW_APPLICATIONS)
    qs = RenewalNotice.objects.filter(application__in=Application.objects.for_user(user))
    return get_object_or_404(qs.select_related("application"), pk=pk)


def get_grid_for_user(user, pk, *, write: bool = False) -> CotationGrid:
    qs = visible(CotationGrid, user, EDIT_GRIDS if write else VIEW_APPLICATIONS)
    return get_object_or_404(qs.select_related("agency", "created_by"), pk=pk)


def visible_applications(user):
    return visible(Application, user, VIEW_APPLICATIONS)


def get_agency_for_grid_edit(user, pk):
    """An agency whose grid the user may publish (404 outside their agencies)."""
    from django.http import Http404

    from tenancies.models import Agency

    require_perm(user, EDIT_GRIDS)
    if not user.sees_all_agencies and int(pk) not in user.agency_ids:
        raise Http404
    return get_object_or_404(Agency, pk=pk)
