"""Dashboards permission and header link, registered into the role matrix of tenancies.roles."""

from tenancies.roles import Role, register

VIEW = "dashboards.view"

register(
    # Responsables d'agence see their agencies' figures; direction and administrators all agencies.
    {VIEW: frozenset({Role.RESPONSABLE_AGENCE, Role.DIRECTION, Role.ADMINISTRATEUR})},
    navigation=[("Tableaux de bord", "Tableaux de bord", "dashboards:index", VIEW)],
)
