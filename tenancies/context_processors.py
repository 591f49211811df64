from django.urls import reverse

from .roles import NAVIGATION


def navigation(request):
    """The header links the current user's roles can use."""
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {"nav_links": []}
    links = [(label, reverse(name)) for label, name, perm in NAVIGATION if user.has_perm(perm)]
    return {"nav_links": links}
