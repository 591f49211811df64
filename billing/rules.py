"""Billing permissions and navigation, registered into the role matrix of tenancies.roles."""

from tenancies.roles import AGENCY_STAFF, Role, register

QUITTANCEMENT = frozenset({Role.CHARGE_QUITTANCEMENT, Role.ADMINISTRATEUR})

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
        "billing.run_billing": QUITTANCEMENT | {Role.DIRECTION},
        # Import bank statements and resolve their unmatched lines.
        "billing.import_bank": QUITTANCEMENT,
        # Import the CAF tiers-payant statement and review its differences.
        "billing.import_caf": frozenset({Role.AGENT_APL, Role.ADMINISTRATEUR}),
        # Register SEPA mandates on an account.
        "billing.manage_mandates": QUITTANCEMENT | {Role.CHARGE_CLIENTELE},
        # Produce direct-debit collections and import their rejections.
        "billing.collect_direct_debits": QUITTANCEMENT,
        # Rent revision, charge regularisation, SLS: preview, then apply.
        "billing.yearly_operations": QUITTANCEMENT,
        # The accounting export of the ledger.
        "billing.export_accounting": QUITTANCEMENT | {Role.DIRECTION},
    },
    navigation=[
        ("Quittancement", "Quittancement mensuel", "billing:run_list", "billing.run_billing"),
        ("Quittancement", "Relevés bancaires", "billing:imports", "billing.import_bank"),
        ("Quittancement", "Prélèvements", "billing:sepa_index", "billing.collect_direct_debits"),
        ("Quittancement", "États CAF", "billing:caf_imports", "billing.import_caf"),
        ("Quittancement", "Opérations annuelles", "billing:yearly_index", "billing.yearly_operations"),
        ("Quittancement", "Export comptable", "billing:accounting_export_form", "billing.export_accounting"),
    ],
)
