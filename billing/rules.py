"""Billing permissions and navigation, registered into the role matrix of tenancies.roles."""

from tenancies.roles import AGENCY_STAFF, Role, register

register(
    {
        # The tenant account, notices, receipts and statements.
        "billing.view_accounts": AGENCY_STAFF,
        # Record a payment on an account.
        "billing.record_payments": frozenset(
            {
                Role.CHARGE_QUITTANCEMENT,
                Role.CHARGE_CLIENTELE,
                Role.CHARGE_PRECONTENTIEUX,
                Role.RESPONSABLE_AGENCE,
                Role.ADMINISTRATEUR,
            }
        ),
        # Launch and follow the monthly billing runs (all agencies at once).
        "billing.run_billing": frozenset({Role.CHARGE_QUITTANCEMENT, Role.DIRECTION, Role.ADMINISTRATEUR}),
    },
    navigation=[("Quittancement", "billing:run_list", "billing.run_billing")],
)
