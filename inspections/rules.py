"""Inspections permissions and navigation, registered into the role matrix of tenancies.roles."""

from tenancies.roles import AGENCY_STAFF, Role, register

register(
    {
        # Schedules, EDLs, notices and settlements (read).
        "inspections.view": AGENCY_STAFF,
        # Fill in and sign the EDLs, photos, repair costing with the vétusté grid.
        "inspections.edit_inspections": frozenset({Role.AGENT_EDL, Role.RESPONSABLE_AGENCE, Role.ADMINISTRATEUR}),
        # Draft lease, signature and deposit call, appointments, the tenant's notice, the settlement.
        "inspections.manage_moves": frozenset({Role.CHARGE_CLIENTELE, Role.RESPONSABLE_AGENCE, Role.ADMINISTRATEUR}),
        # Four-eyes on large refunds and hand-set deductions.
        "inspections.approve_settlements": frozenset({Role.RESPONSABLE_AGENCE}),
    },
    navigation=[
        ("États des lieux", "Planning des visites", "inspections:schedule", "inspections.view"),
        ("États des lieux", "EDL à signer", "inspections:awaiting_signature", "inspections.view"),
        ("États des lieux", "Décomptes de sortie", "inspections:settlement_list", "inspections.view"),
        ("États des lieux", "Nouvelle entrée", "inspections:move_in_new", "inspections.manage_moves"),
    ],
)
