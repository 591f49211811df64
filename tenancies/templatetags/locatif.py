"""Template filters available in every template (registered as a builtin in settings)."""

from urllib.parse import urlencode

from django import template
from django.utils.html import format_html

from tenancies.formatting import format_euros

register = template.Library()


@register.filter
def euros(value):
    return format_euros(value)


_DWELLING_BADGES = {"vacant": "text-bg-danger", "reserved": "text-bg-warning", "let": "text-bg-success"}
_LEASE_BADGES = {
    "active": "text-bg-success",
    "notice_given": "text-bg-warning",
    "draft": "text-bg-info",
    "signed": "text-bg-info",
}


@register.filter
def dwelling_badge(dwelling):
    """The dwelling's status as a coloured badge (a filter: cheaper than an include per row)."""
    css = _DWELLING_BADGES.get(dwelling.status, "text-bg-secondary")
    return format_html('<span class="badge {}">{}</span>', css, dwelling.get_status_display())


@register.filter
def lease_badge(lease):
    css = _LEASE_BADGES.get(lease.status, "text-bg-secondary")
    return format_html('<span class="badge {}">{}</span>', css, lease.get_status_display())


@register.filter
def options(bound_field):
    """A select's (value, label) pairs, fetched once (the template {% for %} would COUNT first)."""
    return [choice for choice in bound_field.field.choices]  # noqa: C416 - list() asks len(): a COUNT query


@register.filter
def m2(value):
    if value is None:
        return ""
    return f"{value:.2f}".replace(".", ",") + "\xa0m²"


@register.filter
def duration(value):
    """A timedelta as "1 h 02 min 05 s", "3 min 20 s" or "0,4 s"."""
    if value is None:
        return ""
    seconds = value.total_seconds()
    if seconds < 60:
        return f"{seconds:.1f}".replace(".", ",") + "\xa0s"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}\xa0h {minutes:02d}\xa0min {secs:02d}\xa0s"
    return f"{minutes}\xa0min {secs:02d}\xa0s"


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters replaced (for pagination links)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        params[key] = value
    return "?" + urlencode(sorted(params.items()))
