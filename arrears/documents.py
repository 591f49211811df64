"""Case documents (PDF): ladder letters, repayment plan with its schedule, CAF report, litigation
orders, debt statement. Amounts come from the rows frozen when the action was recorded."""

from __future__ import annotations

from datetime import date

from billing.documents import Sheet, pdf_response  # noqa: F401  (re-exported for the views)
from billing.models import Account
from billing.pdf import render_pdf
from tenancies.models import Lease

from .models import AmicableStepDone, ArrearsCase, CafReport, LitigationKind, LitigationStep, RepaymentPlan
from .services import debt_statement

LITIGATION_TITLES = {
    LitigationKind.COMMANDEMENT_PAYER: "Ordre de mission : commandement de payer",
    LitigationKind.ASSIGNATION: "Ordre de mission : assignation et notification au préfet",
    LitigationKind.HEARING: "Audience : pièces et décompte locatif",
    LitigationKind.JUDGMENT: "Jugement",
    LitigationKind.COMMANDEMENT_QUITTER: "Ordre de mission : commandement de quitter les lieux",
    LitigationKind.CONCOURS: "Demande de concours de la force publique",
    LitigationKind.EVICTION: "Expulsion : procès-verbal et suite du recouvrement",
}


class UnknownDocument(LookupError):
    pass


def _sheet(case: ArrearsCase) -> Sheet:
    lease = (
        Lease.objects.select_related(
            "household__agency", "dwelling__building__estate__commune", "dwelling__building__estate__agency"
        )
        .prefetch_related("household__people")
        .get(pk=case.lease_id)
    )
    return Sheet.for_lease(lease)


def _split(doc: str) -> tuple[str, int | None]:
    name, _, number = doc.partition("-")
    if not number:
        return name, None
    if not number.isdigit():
        raise UnknownDocument(doc)
    return name, int(number)


def render_case_document(case: ArrearsCase, doc: str, *, today: date) -> tuple[bytes, str]:
    name, number = _split(doc)
    context = {"case": case, "sheet": _sheet(case), "issued_on": today}
    if name == "lettre" and number:
        done = AmicableStepDone.objects.select_related("step").filter(case=case, pk=number).first()
        if done is None:
            raise UnknownDocument(doc)
        context.update(done=done, step=done.step, issued_on=done.done_on)
        context["items"] = debt_statement(Account.objects.get(pk=case.account_id), done.done_on)
        return render_pdf("arrears/pdf/letter.html", context), f"relance-{case.pk}-{done.position}.pdf"
    if name == "plan" and number:
        plan = RepaymentPlan.objects.filter(case=case, pk=number).prefetch_related("instalments").first()
        if plan is None:
            raise UnknownDocument(doc)
        context.update(plan=plan, instalments=list(plan.instalments.all()), issued_on=plan.proposed_on)
        return render_pdf("arrears/pdf/plan.html", context), f"plan-apurement-{case.pk}-{plan.pk}.pdf"
    if name == "caf" and number:
        report = CafReport.objects.filter(case=case, pk=number).first()
        if report is None:
            raise UnknownDocument(doc)
        context.update(report=report, issued_on=report.sent_on or today)
        context["benefit"] = case.lease.benefits.order_by("-valid_from").first()
        return render_pdf("arrears/pdf/caf_report.html", context), f"signalement-caf-{case.pk}.pdf"
    if name == "acte" and number:
        step = LitigationStep.objects.filter(case=case, pk=number).first()
        if step is None:
            raise UnknownDocument(doc)
        context.update(step=step, title=LITIGATION_TITLES[step.kind], issued_on=step.done_on)
        context["items"] = debt_statement(Account.objects.get(pk=case.account_id), min(step.done_on, today))
        context["total"] = sum((i.owed for i in context["items"]), 0)
        return render_pdf("arrears/pdf/litigation.html", context), f"{step.kind}-{case.pk}.pdf"
    if name == "decompte" and number is None:
        items = debt_statement(Account.objects.get(pk=case.account_id), today)
        context.update(items=items, total=sum((i.owed for i in items), 0), barred=[i for i in items if i.barred])
        return render_pdf("arrears/pdf/statement.html", context), f"decompte-{case.pk}.pdf"
    raise UnknownDocument(doc)
