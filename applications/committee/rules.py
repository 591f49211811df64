"""Committee permissions and navigation, registered into the role matrix of tenancies.roles.

Object rules sit in applications.committee.access: a member reads only the sessions they sit
on, within the reading window; only the session's president records decisions.
"""

from tenancies.roles import AGENCY_STAFF, Role, register

PREPARE = "committee.prepare"
MANAGE = "committee.manage_sessions"
PRESIDE = "committee.preside"
SIT = "committee.sit"
OFFERS = "committee.manage_offers"

PREPARERS = frozenset({Role.CHARGE_CLIENTELE, Role.RESPONSABLE_AGENCE, Role.DIRECTION, Role.ADMINISTRATEUR})

register(
    {
        # Match a vacant dwelling, create sessions, put dwellings and candidates on the agenda,
        # read the sessions of one's agencies (direction: all) and their documents.
        PREPARE: PREPARERS,
        # Compose a session (members, presence), open, close it and sign the minutes.
        MANAGE: frozenset({Role.RESPONSABLE_AGENCE, Role.DIRECTION, Role.ADMINISTRATEUR}),
        # Record decisions: additionally, the user must be the session's president.
        PRESIDE: frozenset({Role.MEMBRE_COMMISSION}) | AGENCY_STAFF,
        # The members' pages: additionally, the user must sit on the session.
        SIT: frozenset({Role.MEMBRE_COMMISSION}) | AGENCY_STAFF,
        # Offer follow-up: receipt, acceptance (draft lease), refusal.
        OFFERS: frozenset({Role.CHARGE_CLIENTELE, Role.RESPONSABLE_AGENCE, Role.ADMINISTRATEUR}),
    },
    navigation=[
        ("Commission", "Séances de CALEOL", "committee:session_list", PREPARE),
        ("Commission", "Propositions de logement", "committee:offer_list", OFFERS),
        ("Commission", "Mes séances", "committee:my_sessions", SIT),
    ],
)
