"""Routes of the bank and CAF imports and of the accounting export (billing/urls_imports.py)."""

import hashlib
from datetime import date
from decimal import Decimal

from billing.models import BankStatement, BankStatementLine, CafStatement, CafStatementLine, ImportLineStatus

from . import Route

QUITTANCEMENT = "charge_quittancement"
APL = "agent_apl"

ROUTES = {
    # Bank statements span every agency: the permission is the only rule (other roles get 403).
    "billing:imports": Route(role=QUITTANCEMENT, all_agencies=True),
    "billing:bank_statement_detail": Route("bank_statement", role=QUITTANCEMENT, all_agencies=True),
    "billing:bank_line_queue": Route(role=QUITTANCEMENT, all_agencies=True),
    "billing:bank_line_resolve": Route("bank_line", method="post", role=QUITTANCEMENT, all_agencies=True),
    # A CAF statement spans agencies; a line matched to a lease belongs to the lease's agency.
    "billing:caf_imports": Route(role=APL, all_agencies=True),
    "billing:caf_statement_detail": Route("caf_statement", role=APL, all_agencies=True),
    "billing:caf_line_resolve": Route("caf_line", method="post", role=APL),
    # The export is scoped to the user's agencies by its content, not by an object.
    "billing:accounting_export_form": Route(role=QUITTANCEMENT, all_agencies=True),
    "billing:accounting_export": Route(role=QUITTANCEMENT, all_agencies=True),
}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make_objects(territory):
    """A bank statement with an unmatched line and a CAF statement with a difference on the lease.

    Idempotent: the access tests call makers once per URL they build.
    """
    code = territory.agency.code
    bank, _ = BankStatement.objects.get_or_create(
        sha256=_sha(f"routes-bank-{code}"), defaults={"filename": f"releve-{code}.csv", "line_count": 1}
    )
    bank_line, _ = BankStatementLine.objects.get_or_create(
        statement=bank,
        line_no=2,
        defaults={
            "booked_on": date(2026, 11, 20),
            "amount": Decimal("50.00"),
            "label": "VIR SANS REFERENCE",
            "status": ImportLineStatus.UNMATCHED,
        },
    )
    caf, _ = CafStatement.objects.get_or_create(
        sha256=_sha(f"routes-caf-{code}"),
        defaults={"filename": f"caf-{code}.csv", "period": date(2026, 11, 1), "line_count": 1},
    )
    caf_line, _ = CafStatementLine.objects.get_or_create(
        statement=caf,
        line_no=2,
        defaults={
            "allocataire_number": "1234567",
            "tenant_reference": territory.lease.number,
            "period": date(2026, 11, 1),
            "apl_amount": Decimal("120.00"),
            "lease": territory.lease,
            "expected_apl": Decimal("100.00"),
            "status": ImportLineStatus.DIFFERENCE,
        },
    )
    return {"bank_statement": bank, "bank_line": bank_line, "caf_statement": caf, "caf_line": caf_line}
