"""Arrears pages: the chargé's work queue, the case page with its timeline and actions, documents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from billing.models import Payment
from tenancies.audit import log_read
from tenancies.filters import filtered
from tenancies.formatting import format_euros
from tenancies.paging import paginate

from . import access, documents, forms, services
from .detection import ladder_on
from .models import (
    LITIGATION_ORDER,
    ArrearsCase,
    ArrearsSnapshot,
    CafReport,
    CaseStatus,
    FslApplication,
    LitigationKind,
    RepaymentPlan,
    WriteOff,
)


@require_GET
def queue(request):
    cases = access.visible_cases(request.user)
    filterset = filtered(request, forms.QueueFilter, cases)
    qs = filterset.qs
    if not (filterset.is_bound and filterset.form.is_valid() and filterset.form.cleaned_data.get("status")):
        qs = qs.exclude(status=CaseStatus.CLOSED)
    qs = (
        qs.select_related("account__arrears", "agency", "lease__household")
        .prefetch_related("lease__household__people")
        .order_by("-priority", "id")
    )
    return render(
        request,
        "arrears/queue.html",
        {"filter": filterset, "page": paginate(request, qs), "today": timezone.localdate()},
    )


@dataclass
class TimelineItem:
    on: date
    kind: str
    text: str
    by: str = ""
    document: str = ""


def _timeline(case: ArrearsCase) -> list[TimelineItem]:
    items = [
        TimelineItem(e.on, e.get_kind_display(), e.text, e.by.get_full_name() if e.by else "", e.document)
        for e in case.events.select_related("by")
    ]
    since = case.opened_on - timedelta(days=62)
    for p in Payment.objects.filter(account_id=case.account_id, received_on__gte=since).order_by("-received_on"):
        items.append(TimelineItem(p.received_on, "Paiement", f"{p.get_method_display()} de {format_euros(p.amount)}"))
    items.sort(key=lambda i: i.on, reverse=True)
    return items


def _ladder(case: ArrearsCase):
    done = {d.position: d for d in case.ladder.all()}
    rows = []
    previous_on = case.opened_on
    for step in ladder_on(case.opened_on):
        d = done.get(step.position)
        earliest = previous_on + timedelta(days=step.delay_days)
        rows.append({"step": step, "done": d, "earliest": None if d else earliest})
        if d:
            previous_on = d.done_on
    return rows


def _litigation_rows(case: ArrearsCase):
    done = {s.kind: s for s in case.litigation_steps.all()}
    nxt = services.litigation_next(case) if case.in_litigation else None
    rows = []
    for kind in LITIGATION_ORDER:
        row = {"kind": kind, "label": LitigationKind(kind).label, "step": done.get(kind), "earliest": None}
        if kind == nxt and nxt:
            plan = services.step_constraints(case, kind)
            row["earliest"], row["reason"] = plan.earliest, plan.earliest_reason
        rows.append(row)
    return rows, nxt


def _forms(case: ArrearsCase, today: date, bound: dict | None = None) -> dict:
    initial = {"on": today, "done_on": today}
    account = case.account
    scheduled, _ = services.regularisation_still_scheduled(account, today)
    nxt = services.litigation_next(case) if case.in_litigation else None
    initials = {
        "note": (forms.NoteForm, initial),
        "plan": (
            forms.PlanForm,
            {"debt": account.balance - scheduled, "first_due_on": today + timedelta(days=30), "months": 12},
        ),
        "fsl_apply": (forms.FslApplyForm, initial),
        "ccapex": (forms.DateForm, initial),
        "handover_request": (forms.DateForm, initial),
        "handover_approve": (forms.DateForm, initial),
        "litigation": (forms.LitigationForm, {**initial, "kind": nxt}),
        "suspend": (forms.SuspendForm, initial),
        "resume": (forms.DateForm, initial),
        "writeoff_request": (forms.WriteOffRequestForm, initial),
    }
    # One id prefix per form: several forms of the page share field names.
    built = {name: cls(initial=values, auto_id=f"id_{name}_%s") for name, (cls, values) in initials.items()}
    if bound:
        built.update(bound)
    return built


def _case_context(request, case: ArrearsCase, bound: dict | None = None) -> dict:
    today = timezone.localdate()
    user = request.user
    litigation, next_kind = _litigation_rows(case)
    return {
        "case": case,
        "lease": case.lease,
        "household": case.lease.household,
        "snapshot": ArrearsSnapshot.objects.filter(account_id=case.account_id).first(),
        "balance": case.account.balance,
        "ladder": _ladder(case),
        "plans": case.plans.prefetch_related("instalments"),
        "caf_reports": case.caf_reports.all(),
        "fsl": case.fsl_applications.all(),
        "ccapex": case.ccapex_referrals.all(),
        "assignation_earliest": services.assignation_earliest(case),
        "litigation": litigation,
        "next_kind": next_kind,
        "write_offs": case.write_offs.select_related("requested_by", "decided_by"),
        "timeline": _timeline(case),
        "forms": _forms(case, today, bound),
        "today": today,
        "can_work": user.has_perm(access.WORK_CASES),
        "can_caf": user.has_perm(access.REPORT_CAF),
        "can_approve": user.has_perm(access.APPROVE),
        "other_cases": ArrearsCase.objects.filter(account_id=case.account_id).exclude(pk=case.pk),
    }


@require_GET
def case_detail(request, pk):
    case = access.get_case_for_user(request.user, pk)
    if case.in_litigation:
        log_read(request.user, case, purpose="dossier contentieux")
    return render(request, "arrears/case_detail.html", _case_context(request, case))


# --- Actions ---------------------------------------------------------------------------------


def _child(model, case, pk):
    obj = model.objects.filter(case=case, pk=pk).first()
    if obj is None:
        raise Http404
    return obj


def _note(case, data, user, today):
    services.note_add(case=case, kind=data["kind"], on=data["on"], text=data["text"], today=today, by=user)
    return "Échange enregistré."


def _ladder_send(case, data, user, today):
    done = services.ladder_send(case=case, position=data["position"], on=data["on"], today=today, by=user)
    return f"« {done.step.label} » enregistrée : le courrier est prêt."


def _plan(case, data, user, today):
    plan = services.plan_propose(
        case=case,
        debt=data["debt"],
        monthly_instalment=data["monthly_instalment"],
        first_due_on=data["first_due_on"],
        months=data["months"],
        amounts=data["schedule"],
        on=today,
        by=user,
    )
    return f"Plan d'apurement proposé ({plan.months} mois)."


def _plan_sign(case, data, user, today):
    services.plan_sign(plan=_child(RepaymentPlan, case, data["plan"]), signed_on=data["on"], today=today, by=user)
    return "Plan d'apurement signé."


def _plan_caf(case, data, user, today):
    services.plan_send_to_caf(plan=_child(RepaymentPlan, case, data["plan"]), on=data["on"], today=today, by=user)
    return "Plan transmis à la CAF."


def _caf_send(case, data, user, today):
    services.caf_report_send(report=_child(CafReport, case, data["report"]), sent_on=data["on"], today=today, by=user)
    return "Signalement CAF enregistré."


def _caf_outcome(case, data, user, today):
    report = _child(CafReport, case, data["report"])
    services.caf_outcome(report=report, outcome=data["outcome"], on=data["on"], today=today, by=user)
    return "Décision de la CAF enregistrée."


def _fsl_apply(case, data, user, today):
    services.fsl_apply(case=case, applied_on=data["on"], amount=data["amount"], today=today, by=user)
    return "Demande FSL enregistrée."


def _fsl_decide(case, data, user, today):
    services.fsl_decide(
        application=_child(FslApplication, case, data["application"]),
        decision=data["decision"],
        on=data["on"],
        amount=data["amount"],
        today=today,
        by=user,
    )
    return "Décision FSL enregistrée."


def _ccapex(case, data, user, today):
    services.ccapex_refer(case=case, on=data["on"], today=today, by=user)
    return "Saisine de la CCAPEX enregistrée."


def _handover_request(case, data, user, today):
    services.handover_request(case=case, on=data["on"], today=today, by=user)
    return "Passage au contentieux demandé au responsable d'agence."


def _handover_approve(case, data, user, today):
    services.handover_approve(case=case, on=data["on"], today=today, by=user)
    return "Passage au contentieux approuvé."


def _litigation(case, data, user, today):
    step = services.litigation_record(
        case=case,
        kind=data["kind"],
        done_on=data["done_on"],
        today=today,
        by=user,
        cost=data["cost"] or 0,
        prefet_notified_on=data["prefet_notified_on"],
        termination=data["termination"],
        payment_delay_months=data["payment_delay_months"] or 0,
        judgment_amount=data["judgment_amount"],
    )
    return f"{step.get_kind_display()} enregistré." + (f" {step.deadline_label}." if step.deadline_label else "")


def _suspend(case, data, user, today):
    services.suspend(case=case, on=data["on"], reason=data["reason"], today=today, by=user)
    return "Procédure suspendue (surendettement)."


def _resume(case, data, user, today):
    services.resume(case=case, on=data["on"], today=today, by=user)
    return "La procédure reprend."


def _writeoff_request(case, data, user, today):
    services.write_off_request(
        case=case, amount=data["amount"], reason=data["reason"], on=data["on"], today=today, by=user
    )
    return "Admission en non-valeur demandée."


def _writeoff_decide(case, data, user, today):
    wo = services.write_off_decide(
        write_off=_child(WriteOff, case, data["write_off"]),
        approve=data["decision"] == "approve",
        on=data["on"],
        today=today,
        by=user,
    )
    return f"Admission en non-valeur {wo.get_status_display().lower()}."


# action -> (form, permission, handler)
ACTIONS = {
    "note": (forms.NoteForm, access.WORK_CASES, _note),
    "ladder": (forms.LadderForm, access.WORK_CASES, _ladder_send),
    "plan": (forms.PlanForm, access.WORK_CASES, _plan),
    "plan_sign": (forms.PlanDateForm, access.WORK_CASES, _plan_sign),
    "plan_caf": (forms.PlanDateForm, access.REPORT_CAF, _plan_caf),
    "caf_send": (forms.CafSendForm, access.REPORT_CAF, _caf_send),
    "caf_outcome": (forms.CafOutcomeForm, access.REPORT_CAF, _caf_outcome),
    "fsl_apply": (forms.FslApplyForm, access.WORK_CASES, _fsl_apply),
    "fsl_decide": (forms.FslDecideForm, access.WORK_CASES, _fsl_decide),
    "ccapex": (forms.DateForm, access.WORK_CASES, _ccapex),
    "handover_request": (forms.DateForm, access.WORK_CASES, _handover_request),
    "handover_approve": (forms.DateForm, access.APPROVE, _handover_approve),
    "litigation": (forms.LitigationForm, access.WORK_CASES, _litigation),
    "suspend": (forms.SuspendForm, access.WORK_CASES, _suspend),
    "resume": (forms.DateForm, access.WORK_CASES, _resume),
    "writeoff_request": (forms.WriteOffRequestForm, access.WORK_CASES, _writeoff_request),
    "writeoff_decide": (forms.WriteOffDecideForm, access.APPROVE, _writeoff_decide),
}


@require_POST
def case_action(request, pk, action):
    if action not in ACTIONS:
        raise Http404
    form_class, perm, handler = ACTIONS[action]
    case = access.get_case_for_user(request.user, pk, perm=perm)
    form = form_class(request.POST, auto_id=f"id_{action}_%s")
    if form.is_valid():
        try:
            message = handler(case, form.cleaned_data, request.user, timezone.localdate())
        except services.ArrearsError as exc:
            if exc.field and exc.field in form.fields and not form.fields[exc.field].widget.is_hidden:
                form.add_error(exc.field, str(exc))
            else:
                form.add_error(None, str(exc))
        else:
            messages.success(request, message)
            return redirect(case)
    messages.error(request, "L'action n'a pas été enregistrée : corrigez les erreurs signalées.")
    case.refresh_from_db()
    context = _case_context(request, case, bound={action: form})
    context["failed_action"] = action
    return render(request, "arrears/case_detail.html", context, status=400)


# --- Documents -------------------------------------------------------------------------------


@require_GET
def case_document(request, pk, doc):
    case = access.get_case_for_user(request.user, pk)
    try:
        pdf, filename = documents.render_case_document(case, doc, today=timezone.localdate())
    except documents.UnknownDocument:
        raise Http404 from None
    except PermissionError:
        raise PermissionDenied from None
    if doc.startswith("acte") or doc == "decompte":
        log_read(request.user, case, purpose=f"document {doc}")
    return documents.pdf_response(pdf, filename)
