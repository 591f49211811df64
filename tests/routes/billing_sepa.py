from datetime import date

from billing.models import DirectDebitRun

from . import Route

QUITTANCEMENT = "charge_quittancement"

ROUTES = {
    "billing:account_mandates": Route("account"),
    "billing:mandate_create": Route("account"),
    "billing:sepa_index": Route(role=QUITTANCEMENT, all_agencies=True),
    "billing:sepa_rejects": Route(role=QUITTANCEMENT, all_agencies=True),
    "billing:sepa_run_detail": Route("sepa_run", role=QUITTANCEMENT, all_agencies=True),
    "billing:sepa_run_xml": Route("sepa_run", role=QUITTANCEMENT, all_agencies=True),
}


def make_objects(territory):
    # Called for every route lookup: a bare collection row, made once per territory, that leaves the
    # world's balances and allocations untouched (other routes' expectations depend on them).
    run, _ = DirectDebitRun.objects.get_or_create(
        message_id=f"ROUTES-{territory.agency.code}",
        defaults={"due_on": date(2026, 12, 5), "xml": "<?xml version='1.0'?><Document/>"},
    )
    return {"sepa_run": run}
