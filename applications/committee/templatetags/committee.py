"""Committee template filters and the dwelling-page panel (an inclusion tag: tenancies never
imports the committee)."""

from decimal import Decimal

from django import template

from ..solvency import FLAG_LABELS

register = template.Library()


@register.filter
def percent(value):
    """Decimal("23.75") -> "23,75 %"."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(value):.2f}".replace(".", ",") + "\xa0%"


@register.filter
def decimal_fr(value):
    if value is None or value == "":
        return "—"
    return f"{Decimal(value):.2f}".replace(".", ",")


@register.filter
def flag_labels(flags):
    return [FLAG_LABELS.get(f, f) for f in flags or []]


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key)


@register.inclusion_tag("committee/_dwelling_panel.html", takes_context=True)
def committee_dwelling_panel(context, dwelling):
    from ..rules import PREPARE

    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "dwelling": dwelling,
        "can_match": bool(user and user.has_perm(PREPARE)),
        "vacant": dwelling.status == "vacant",
    }
