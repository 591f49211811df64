from django.urls import reverse

from .roles import NAVIGATION


def navigation(request):
    """The header menus the current user's roles can use: [(menu, [(label, url), …]), …]."""
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {"nav_menus": [], "nav_links": []}
    menus: dict[str, list[tuple[str, str]]] = {}
    for menu, label, name, perm in NAVIGATION:
        if user.has_perm(perm):
            menus.setdefault(menu, []).append((label, reverse(name)))
    links = [link for entries in menus.values() for link in entries]
    return {"nav_menus": list(menus.items()), "nav_links": links}
