"""Template filters available in every template (registered as a builtin in settings)."""

from urllib.parse import urlencode

from django import template

from tenancies.formatting import format_euros

register = template.Library()


@register.filter
def euros(value):
    return format_euros(value)


@register.filter
def m2(value):
    if value is None:
        return ""
    return f"{value:.2f}".replace(".", ",") + "\xa0m²"


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters replaced (for pagination links)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        params[key] = value
    return "?" + urlencode(sorted(params.items()))
