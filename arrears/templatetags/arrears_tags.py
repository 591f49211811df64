"""Arrears panels for pages of lower apps (the fiche locataire), without an upward import."""

from decimal import Decimal

from django import template

from arrears.access import VIEW_CASES
from arrears.models import ArrearsCase

register = template.Library()


@register.filter
def add_money(value, other):
    return Decimal(value or 0) + Decimal(other or 0)


@register.inclusion_tag("arrears/_household_panel.html", takes_context=True)
def arrears_panel(context, household):
    """The arrears cases of a household the page has already access-checked (former leases too)."""
    user = context["request"].user
    if not user.has_perm(VIEW_CASES):
        return {"allowed": False}
    cases = list(
        ArrearsCase.objects.filter(lease__household=household)
        .select_related("lease", "account__arrears")
        .order_by("-opened_on", "-id")[:5]
    )
    return {"allowed": True, "cases": cases}


@register.filter
def get_form(forms, name):
    """Every error message of the form `name` of the case page (inline forms have no field markup)."""
    form = forms.get(name)
    if form is None or not form.is_bound:
        return []
    errors = list(form.non_field_errors())
    for field, field_errors in form.errors.items():
        if field != "__all__":
            errors += [f"{form.fields[field].label or field} : {e}" for e in field_errors]
    return errors


@register.filter
def who(user):
    """A user's full name, else their login; a dash for nobody (a batch)."""
    if user is None:
        return "—"
    return user.get_full_name() or user.username
