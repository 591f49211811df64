"""Personal data held by the arrears app (issue 8). Arrears files are litigation records once a
case went to court, tenant-file records otherwise; the ledger side is accounting."""

# "subject": the lookup to the tenant (tenancies.Person) used by the access-right export;
# "label"/"labels": French titles where the model or its fields have no verbose name.
CASE = "case__lease__household__people"

PERSONAL_DATA = {
    "arrearssnapshot": {
        "subject": "account__lease__household__people",
        "history": "derived:billing.account",
        "fields": {"as_of": "financial", "balance": "financial", "overdue": "financial", "in_arrears": "financial"},
        "retention": "tenant_file",
    },
    "arrearscase": {
        "subject": "lease__household__people",
        "fields": {
            "status": "financial",
            "opened_on": "financial",
            "closed_on": "financial",
            "debt_at_opening": "financial",
            "next_action": "free_text",
            "suspended_on": "social",
        },
        "retention": "litigation",
    },
    "casetransition": {
        "subject": CASE,
        "label": "changements de statut des dossiers d'impayé",
        # Status codes stored without choices on the field: printed with the case statuses' labels.
        "choices": {"from_status": "arrears.models.CaseStatus", "to_status": "arrears.models.CaseStatus"},
        "labels": {"from_status": "de", "to_status": "vers", "on": "date", "reason": "motif"},
        "history": "audit_record",
        "fields": {"from_status": "social", "to_status": "social", "on": "social", "reason": "free_text"},
        "retention": "litigation",
    },
    "caseevent": {
        "subject": CASE,
        "label": "événements des dossiers d'impayé",
        "fields": {"kind": "social", "on": "social", "text": "free_text"},
        "retention": "litigation",
    },
    "amicablestepdone": {
        "subject": CASE,
        "label": "courriers de relance amiable",
        "labels": {"step": "étape"},
        "fields": {"step": "social", "done_on": "social", "debt": "financial"},
        "retention": "tenant_file",
    },
    "repaymentplan": {
        "subject": CASE,
        "fields": {
            "status": "financial",
            "debt": "financial",
            "monthly_instalment": "financial",
            "monthly_rent": "financial",
            "first_due_on": "financial",
            "months": "financial",
            "signed_on": "financial",
        },
        "retention": "tenant_file",
    },
    "planinstalment": {
        "subject": "plan__case__lease__household__people",
        "label": "échéances des plans d'apurement",
        "history": "derived:arrears.repaymentplan",
        "fields": {"number": "financial", "due_on": "financial", "amount": "financial", "paid": "financial"},
        "retention": "tenant_file",
    },
    "cafreport": {
        "subject": CASE,
        "fields": {"debt": "financial", "reached_on": "financial", "sent_on": "social", "outcome": "social"},
        "retention": "tenant_file",
    },
    "fslapplication": {
        "subject": CASE,
        "fields": {
            "applied_on": "financial",
            "requested_amount": "financial",
            "granted_amount": "financial",
            "decision": "social",
        },
        "retention": "tenant_file",
    },
    "ccapexreferral": {"subject": CASE, "fields": {"referred_on": "social"}, "retention": "litigation"},
    "litigationstep": {
        "subject": CASE,
        "fields": {
            "kind": "social",
            "done_on": "social",
            "deadline": "social",
            "debt": "financial",
            "judgment_amount": "financial",
            "termination": "social",
        },
        "retention": "litigation",
    },
    "writeoff": {
        "subject": CASE,
        "labels": {"status": "statut", "decided_on": "décidée le"},
        "fields": {"amount": "financial", "reason": "free_text", "status": "financial", "decided_on": "financial"},
        "retention": "accounting",
    },
}
NO_PERSONAL_DATA = {"arrearsrule", "ladderstep"}


# --- Retention (DOMAIN.md §5.1 and §4.2.7) ---------------------------------------------------
#
# A case is past its term once it is closed (soldé: nothing owed) and its closing day is before
#   - the "tenant_file" limit (prescription, 3 years: every action on the lease is time-barred) for
#     a case that stayed amicable,
#   - the "litigation" limit (10 years: an enforceable judgment, CPCE L111-4) for a case handed to
#     litigation.
# Its timeline, letters (ladder rungs), plans and instalments, partner files (CAF, FSL, CCAPEX),
# litigation steps and transitions are then deleted with every history row about them. A case with
# a write-off is an accounting record (the write-off is a ledger credit): the case and its
# write-offs are kept, anonymised (next action and write-off reason blanked, case history deleted,
# write-off history reasons blanked), until the "accounting" term (10 years after the decision);
# then they are deleted too. Terms are dated LegalDelay rows (tenancies.privacy.RETENTION_DELAYS).


def _expired_cases(as_of):
    from django.db.models import Q

    from tenancies.privacy import retention_limit

    from .models import ArrearsCase, CaseStatus

    amicable = Q(handover_approved_on__isnull=True, closed_on__lte=retention_limit("tenant_file", as_of))
    litigation = Q(handover_approved_on__isnull=False, closed_on__lte=retention_limit("litigation", as_of))
    return ArrearsCase.objects.filter(amicable | litigation, status=CaseStatus.CLOSED)


def holds(*, household_ids, as_of) -> dict[int, str]:
    """A household keeps its file while one of its cases is open, or closed within its term."""
    from .models import ArrearsCase

    rows = (
        ArrearsCase.objects.filter(lease__household_id__in=household_ids)
        .exclude(pk__in=_expired_cases(as_of).values("pk"))
        .values_list("lease__household_id", flat=True)
    )
    return dict.fromkeys(rows, "dossier d'impayé ouvert ou soldé depuis moins que sa durée de conservation")


def purge(*, as_of, dry_run: bool) -> dict[str, int]:
    """Delete (or, for write-offs within the accounting term, anonymise) the cases past their term,
    and the ageing snapshots of former tenants past the limitation period. Each count is the number
    of rows deleted or changed. Idempotent."""
    from django.db import transaction
    from django.db.models import Exists, OuterRef, Q

    from tenancies.privacy import ANONYMISED, expired_households, retention_limit

    from .models import (
        AmicableStepDone,
        ArrearsCase,
        ArrearsSnapshot,
        CafReport,
        CaseEvent,
        CaseTransition,
        CcapexReferral,
        FslApplication,
        LitigationStep,
        PlanInstalment,
        RepaymentPlan,
        WriteOff,
    )

    accounting_limit = retention_limit("accounting", as_of)
    expired = _expired_cases(as_of)
    recent_write_off = WriteOff.objects.filter(case=OuterRef("pk")).filter(
        Q(decided_on__isnull=True, requested_on__gt=accounting_limit) | Q(decided_on__gt=accounting_limit)
    )
    kept = expired.filter(Exists(recent_write_off))  # accounting records: anonymised shells
    case_ids = list(expired.values_list("pk", flat=True))
    kept_ids = list(kept.values_list("pk", flat=True))
    deleted_ids = sorted(set(case_ids) - set(kept_ids))
    plans = RepaymentPlan.objects.filter(case_id__in=case_ids)
    children = {
        "events": CaseEvent.objects.filter(case_id__in=case_ids),
        "letters": AmicableStepDone.objects.filter(case_id__in=case_ids),
        "instalments": PlanInstalment.objects.filter(plan__in=plans),
        "plans": plans,
        "caf_reports": CafReport.objects.filter(case_id__in=case_ids),
        "fsl_applications": FslApplication.objects.filter(case_id__in=case_ids),
        "ccapex_referrals": CcapexReferral.objects.filter(case_id__in=case_ids),
        "litigation_steps": LitigationStep.objects.filter(case_id__in=case_ids),
        "transitions": CaseTransition.objects.filter(case_id__in=case_ids),
        "write_offs": WriteOff.objects.filter(case_id__in=deleted_ids),
        "cases": ArrearsCase.objects.filter(pk__in=deleted_ids),
    }
    ids = {name: list(qs.values_list("pk", flat=True)) for name, qs in children.items()}
    audited = {qs.model: ids[name] for name, qs in children.items() if hasattr(qs.model, "history")}
    shells = ArrearsCase.objects.filter(pk__in=kept_ids)
    write_offs_kept = WriteOff.objects.filter(case_id__in=kept_ids)
    snapshots = ArrearsSnapshot.objects.filter(account__lease__household_id__in=expired_households(as_of))
    counts = {f"{name}_deleted": len(pks) for name, pks in ids.items()}
    counts |= {
        "history_rows_deleted": sum(model.history.filter(id__in=pks).count() for model, pks in audited.items())
        + ArrearsCase.history.filter(id__in=kept_ids).count(),
        "cases_anonymised": shells.exclude(next_action="").count(),
        "write_offs_anonymised": write_offs_kept.exclude(reason=ANONYMISED).count(),
        "write_off_history_anonymised": WriteOff.history.filter(case_id__in=kept_ids)
        .exclude(reason=ANONYMISED)
        .count(),
        "snapshots_deleted": snapshots.count(),
    }
    if dry_run or not any(counts.values()):
        return counts
    with transaction.atomic():
        for name, qs in children.items():  # children first: they PROTECT their case
            qs.model.objects.filter(pk__in=ids[name]).delete()
        # Then the history rows, the deletion records simple_history just wrote included.
        for model, pks in audited.items():
            model.history.filter(id__in=pks).delete()
        ArrearsCase.history.filter(id__in=kept_ids).delete()
        shells.exclude(next_action="").update(next_action="")
        write_offs_kept.exclude(reason=ANONYMISED).update(reason=ANONYMISED)
        WriteOff.history.filter(case_id__in=kept_ids).exclude(reason=ANONYMISED).update(reason=ANONYMISED)
        snapshots.delete()
    return counts
