"""Route declarations for tests/test_url_access.py, one module per area.

Each module defines ROUTES: {url name: Route(...)}. A route names the object kind it needs
(an attribute of a world territory, or a key its module's `make_objects(territory)` returns),
the method used for the checks, the role whose agency-A holder must get PERMITTED_STATUS, and
whether the object is territory-scoped (404 for agency B) or all-agency (403 for other roles).
The access matrix (role x view x method -> allowed) is derived from these declarations and
tenancies.roles.PERMISSION_ROLES by tests/security/test_access_matrix.py.
"""

import importlib
import pkgutil
from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    kind: str | None = None
    method: str = "get"
    role: str = "charge_clientele"
    status: int = 200  # what the permitted role gets on GET
    all_agencies: bool = False  # objects spanning agencies: other roles get 403, not 404
    # The permission gating the view, for the access matrix (tests/security/test_access_matrix.py).
    # Optional: when left out, the matrix test finds it by watching which permission the view
    # checks; declare it only for views gated by something else than one rules permission.
    perm: str | None = None


def load():
    routes, makers = {}, []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        routes.update(module.ROUTES)
        if hasattr(module, "make_objects"):
            makers.append(module.make_objects)
    return routes, makers


def makers_by_route() -> dict:
    """URL name -> the make_objects of the module declaring it (absent when it has none), so that a
    test builds only its own area's objects instead of every area's."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "make_objects"):
            found.update(dict.fromkeys(module.ROUTES, module.make_objects))
    return found
