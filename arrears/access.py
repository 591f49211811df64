"""Permission-checked lookups for arrears objects (the only place that knows the rules)."""

from django.shortcuts import get_object_or_404

from tenancies.access import require_perm

from .models import ArrearsCase

VIEW_CASES = "arrears.view_cases"
WORK_CASES = "arrears.work_cases"
REPORT_CAF = "arrears.report_caf"
APPROVE = "arrears.approve"

CASE_RELATED = (
    "account",
    "lease__household__agency",
    "lease__dwelling__building__estate__commune",
    "lease__dwelling__building__estate__agency",
)


def visible_cases(user):
    require_perm(user, VIEW_CASES)
    return ArrearsCase.objects.for_user(user)


def get_case_for_user(user, pk, *, perm: str = VIEW_CASES) -> ArrearsCase:
    """403 without the role permission, 404 for a case of another agency."""
    require_perm(user, VIEW_CASES)
    require_perm(user, perm)
    return get_object_or_404(ArrearsCase.objects.for_user(user).select_related(*CASE_RELATED), pk=pk)
