"""Personal data held by the arrears app (issue 8). Arrears files are litigation records once a
case went to court, tenant-file records otherwise; the ledger side is accounting."""

PERSONAL_DATA = {
    "arrearssnapshot": {
        "history": "derived:billing.account",
        "fields": {"balance": "financial", "overdue": "financial", "in_arrears": "financial"},
        "retention": "tenant_file",
    },
    "arrearscase": {
        "fields": {"debt_at_opening": "financial", "next_action": "free_text", "suspended_on": "social"},
        "retention": "litigation",
    },
    "casetransition": {"history": "audit_record", "fields": {"reason": "free_text"}, "retention": "litigation"},
    "caseevent": {"fields": {"text": "free_text"}, "retention": "litigation"},
    "amicablestepdone": {"fields": {"debt": "financial"}, "retention": "tenant_file"},
    "repaymentplan": {
        "fields": {"debt": "financial", "monthly_instalment": "financial", "monthly_rent": "financial"},
        "retention": "tenant_file",
    },
    "planinstalment": {
        "history": "derived:arrears.repaymentplan",
        "fields": {"amount": "financial"},
        "retention": "tenant_file",
    },
    "cafreport": {"fields": {"debt": "financial", "outcome": "social"}, "retention": "tenant_file"},
    "fslapplication": {
        "fields": {"requested_amount": "financial", "granted_amount": "financial", "decision": "social"},
        "retention": "tenant_file",
    },
    "ccapexreferral": {"fields": {"referred_on": "social"}, "retention": "litigation"},
    "litigationstep": {
        "fields": {"debt": "financial", "judgment_amount": "financial", "termination": "social"},
        "retention": "litigation",
    },
    "writeoff": {"fields": {"amount": "financial", "reason": "free_text"}, "retention": "accounting"},
}
NO_PERSONAL_DATA = {"arrearsrule", "ladderstep"}
