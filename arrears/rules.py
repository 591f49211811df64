"""Arrears permissions and navigation, registered into the role matrix of tenancies.roles."""

from tenancies.roles import Role, register

register(
    {
        # The work queue, the cases and their documents (read).
        "arrears.view_cases": frozenset(
            {
                Role.CHARGE_PRECONTENTIEUX,
                Role.RESPONSABLE_AGENCE,
                Role.AGENT_APL,
                Role.CHARGE_CLIENTELE,
                Role.DIRECTION,
                Role.ADMINISTRATEUR,
            }
        ),
        # Work a case: letters, calls, visits, plans, FSL, CCAPEX, litigation steps, write-off requests.
        "arrears.work_cases": frozenset({Role.CHARGE_PRECONTENTIEUX, Role.RESPONSABLE_AGENCE, Role.ADMINISTRATEUR}),
        # Report impayés to the CAF, send it the plans, record its decisions.
        "arrears.report_caf": frozenset({Role.AGENT_APL, Role.CHARGE_PRECONTENTIEUX, Role.ADMINISTRATEUR}),
        # Approve the litigation handover and decide write-offs.
        "arrears.approve": frozenset({Role.RESPONSABLE_AGENCE, Role.DIRECTION, Role.ADMINISTRATEUR}),
    },
    navigation=[
        ("Impayés", "Dossiers d'impayés", "arrears:queue", "arrears.view_cases"),
    ],
)
