"""Route declarations for tests/test_url_access.py, one module per area.

Each module defines ROUTES: {url name: Route(...)}. A route names the object kind it needs
(an attribute of a world territory, or a key its module's `make_objects(territory)` returns),
the method used for the checks, the role whose agency-A holder must get PERMITTED_STATUS, and
whether the object is territory-scoped (404 for agency B) or all-agency (403 for other roles).
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


def load():
    routes, makers = {}, []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        routes.update(module.ROUTES)
        if hasattr(module, "make_objects"):
            makers.append(module.make_objects)
    return routes, makers
