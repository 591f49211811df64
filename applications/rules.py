"""Application permissions and navigation, registered into the role matrix of tenancies.roles.

Applications hold social and health data (CNIL délibération 2014-124): only the staff who register,
instruct and supervise demands see them. The EDL, APL, quittancement and pré-contentieux agents do
not; committee members see only the committee's own pages (applications.committee).
"""

from tenancies.roles import Role, register

VIEW_APPLICATIONS = "applications.view_applications"
MANAGE_APPLICATIONS = "applications.manage_applications"
EDIT_GRIDS = "applications.edit_cotation_grids"

register(
    {
        # The list, the application file, its documents, eligibility and score.
        VIEW_APPLICATIONS: frozenset(
            {Role.CHARGE_CLIENTELE, Role.RESPONSABLE_AGENCE, Role.DIRECTION, Role.ADMINISTRATEUR}
        ),
        # Register, edit, renew, cancel, upload documents, resolve duplicates.
        MANAGE_APPLICATIONS: frozenset({Role.CHARGE_CLIENTELE, Role.RESPONSABLE_AGENCE, Role.ADMINISTRATEUR}),
        # Publish a new version of an agency's cotation grid.
        EDIT_GRIDS: frozenset({Role.RESPONSABLE_AGENCE, Role.ADMINISTRATEUR}),
    },
    navigation=[
        ("Demandes", "Demandes de logement", "applications:application_list", VIEW_APPLICATIONS),
        ("Demandes", "Nouvelle demande", "applications:application_create", MANAGE_APPLICATIONS),
        ("Demandes", "Doublons à traiter", "applications:duplicate_list", MANAGE_APPLICATIONS),
        ("Demandes", "Grilles de cotation", "applications:grid_list", VIEW_APPLICATIONS),
    ],
)
