"""The write paths of arrears: cases and their ladder, plans, partners, litigation, write-offs.

Every function takes the business date explicitly (`on`, `as_of`), owns its transaction, refuses
bad input with ArrearsError (a French message, optionally for one form field) before writing
anything, and records what it did on the case's timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Sum

from billing.ledger import NewEntry, post_entries
from billing.models import Account, ChargeRegularisation, EntryKind, LedgerEntry, RegularisationLine, RentNotice
from billing.yearly import instalment_plan
from tenancies.formatting import format_euros, to_cents
from tenancies.legal_dates import Period, deadline, legal_period
from tenancies.models import CommandementDelay
from tenancies.roles import Role

from .detection import ladder_on, outstanding_items, refresh_priority, rule_on, waiting_period_end
from .models import (
    CASE_TRANSITIONS,
    LITIGATION_ORDER,
    LIVE_PLAN_STATUSES,
    PLAN_TRANSITIONS,
    ZERO,
    AmicableStepDone,
    ArrearsCase,
    CafOutcome,
    CafReport,
    CaseEvent,
    CaseStatus,
    CaseTransition,
    CcapexReferral,
    EventKind,
    FslApplication,
    FslDecision,
    LitigationKind,
    LitigationStep,
    PlanInstalment,
    PlanStatus,
    RepaymentPlan,
    WriteOff,
    WriteOffStatus,
    truce_bounds,
)


class ArrearsError(Exception):
    """A refused arrears action (French message); `field` names the form field at fault."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


def _d(day: date) -> str:
    return day.strftime("%d/%m/%Y")


# --- Case state machine and timeline ---------------------------------------------------------


def case_transition(*, case: ArrearsCase, to_status: str, on: date, by=None, reason: str = "") -> None:
    if to_status == case.status:
        return
    if to_status not in CASE_TRANSITIONS[case.status]:
        raise ArrearsError(
            f"Un dossier « {case.get_status_display()} » ne peut pas passer à « {CaseStatus(to_status).label} »."
        )
    CaseTransition.objects.create(case=case, from_status=case.status, to_status=to_status, on=on, by=by, reason=reason)
    case.status = to_status
    if to_status == CaseStatus.CLOSED:
        case.closed_on = on


def add_event(*, case: ArrearsCase, kind: str, on: date, text: str, by=None, document: str = "") -> CaseEvent:
    return CaseEvent.objects.create(case=case, kind=kind, on=on, text=text, by=by, document=document)


def _save(case: ArrearsCase, on: date) -> None:
    case.save()
    refresh_priority(as_of=on, case_ids=[case.pk])


def _lock(case: ArrearsCase) -> ArrearsCase:
    return ArrearsCase.objects.select_for_update().select_related("lease", "account").get(pk=case.pk)


def _refuse_closed_or_suspended(case: ArrearsCase) -> None:
    if case.status == CaseStatus.CLOSED:
        raise ArrearsError("Ce dossier est soldé : aucune action n'est possible.")
    if case.status == CaseStatus.SUSPENDED:
        raise ArrearsError(
            f"Procédure suspendue depuis le {_d(case.suspended_on)} (dossier de surendettement) : "
            "aucune relance ni acte ne peut être engagé."
        )


def note_add(*, case: ArrearsCase, kind: str, on: date, text: str, today: date, by=None) -> CaseEvent:
    if kind not in (EventKind.CALL, EventKind.VISIT, EventKind.NOTE):
        raise ArrearsError("Type d'échange inconnu.", field="kind")
    if on > today:
        raise ArrearsError("La date ne peut pas être dans le futur.", field="on")
    if not text.strip():
        raise ArrearsError("Saisissez le contenu de l'échange.", field="text")
    return add_event(case=case, kind=kind, on=on, text=text.strip(), by=by)


def current_debt(case: ArrearsCase) -> Decimal:
    return Account.objects.get(pk=case.account_id).balance


# --- The amicable ladder ---------------------------------------------------------------------


def _set_next(case: ArrearsCase, action: str, when: date | None) -> None:
    case.next_action = action[:150]
    case.next_deadline = when


def _after_ladder(case: ArrearsCase, on: date) -> None:
    """Point the case at its next rung, or at the litigation handover when the ladder is done."""
    ladder = ladder_on(case.opened_on)
    following = [s for s in ladder if s.position == case.ladder_position + 1]
    if following:
        step = following[0]
        _set_next(case, f"{step.label} — {step.task}", on + timedelta(days=step.delay_days))
    else:
        _set_next(case, "Proposer un plan d'apurement ou demander le passage au contentieux", on)


@transaction.atomic
def ladder_send(*, case: ArrearsCase, position: int, on: date, today: date, by=None) -> AmicableStepDone:
    """Send the letter of rung `position`: refused when a rung is skipped, sent too early, the case
    is closed, suspended, under a running plan or in litigation."""
    case = _lock(case)
    _refuse_closed_or_suspended(case)
    if case.status == CaseStatus.LITIGATION:
        raise ArrearsError("Le dossier est au contentieux : la phase amiable est terminée.")
    if case.status == CaseStatus.PLAN:
        raise ArrearsError("Un plan d'apurement est en cours : pas de relance tant qu'il est respecté.")
    if on > today:
        raise ArrearsError("La date d'envoi ne peut pas être dans le futur.", field="on")
    ladder = {s.position: s for s in ladder_on(case.opened_on)}
    if position not in ladder:
        raise ArrearsError("Étape amiable inconnue.")
    expected = case.ladder_position + 1
    if position > expected:
        raise ArrearsError(
            f"Étape sautée : « {ladder[expected].label} » doit être envoyée avant « {ladder[position].label} »."
        )
    if position < expected:
        raise ArrearsError(f"« {ladder[position].label} » a déjà été envoyée.")
    step = ladder[position]
    previous = case.ladder.order_by("-position").first()
    start = previous.done_on if previous else case.opened_on
    earliest = start + timedelta(days=step.delay_days)
    if on < earliest:
        after = f"après « {previous.step.label} »" if previous else "après l'ouverture du dossier"
        raise ArrearsError(
            f"« {step.label} » ne peut partir avant le {_d(earliest)} ({step.delay_days} jours {after}).",
            field="on",
        )
    if on < start:
        raise ArrearsError("La date d'envoi précède l'étape précédente.", field="on")
    done = AmicableStepDone.objects.create(
        case=case, step=step, position=position, done_on=on, debt=current_debt(case), by=by
    )
    case.ladder_position = position
    _after_ladder(case, on)
    add_event(
        case=case,
        kind=EventKind.LETTER,
        on=on,
        text=f"{step.label} envoyée ({format_euros(done.debt)}).",
        by=by,
        document=f"lettre-{done.pk}",
    )
    _save(case, on)
    return done


# --- Repayment plans -------------------------------------------------------------------------


def regularisation_still_scheduled(account: Account, as_of: date) -> tuple[Decimal, list[tuple[date, Decimal]]]:
    """Charge regularisation instalments (billing.yearly) of this account still to come after
    `as_of`: they are already spread, so a repayment plan must not take them again."""
    lease = account.lease
    regs = ChargeRegularisation.objects.filter(status="applied", spread_months__gt=1, lines__lease=lease).distinct()
    remaining: list[tuple[date, Decimal]] = []
    for reg in regs:
        balance = (
            RegularisationLine.objects.filter(regularisation=reg, lease=lease).aggregate(total=Sum("balance"))["total"]
            or ZERO
        )
        if balance <= 0 or reg.applied_at is None:
            continue
        for due_on, amount in instalment_plan(balance, reg.spread_months, reg.applied_at.date()):
            if due_on > as_of:
                remaining.append((due_on, amount))
    remaining.sort()
    return sum((a for _, a in remaining), ZERO), remaining


def monthly_rent(case: ArrearsCase) -> Decimal:
    notice = RentNotice.objects.filter(lease_id=case.lease_id).order_by("-period").first()
    return notice.amount_due if notice else ZERO


def plan_schedule(
    *, debt: Decimal, instalment: Decimal, first_due_on: date, months: int, amounts: list[Decimal] | None = None
) -> list[tuple[date, Decimal]]:
    """Equal instalments, the last one taking the remainder; or the amounts typed by hand, which
    must add up to the debt to the cent."""
    if amounts:
        if len(amounts) != months:
            raise ArrearsError(
                f"L'échéancier saisi compte {len(amounts)} échéance(s) pour une durée de {months} mois.",
                field="schedule",
            )
        if any(a <= 0 for a in amounts):
            raise ArrearsError("Chaque échéance doit être supérieure à zéro.", field="schedule")
        total = sum(amounts, ZERO)
        if total != debt:
            raise ArrearsError(
                f"Les échéances totalisent {format_euros(total)} au lieu de la dette de {format_euros(debt)} "
                f"(écart {format_euros(debt - total)}).",
                field="schedule",
            )
        values = amounts
    else:
        last = debt - instalment * (months - 1)
        if last <= 0:
            raise ArrearsError(
                f"{months} mensualités de {format_euros(instalment)} dépassent la dette de {format_euros(debt)} : "
                "réduisez la durée ou la mensualité.",
                field="months",
            )
        if last > instalment:
            raise ArrearsError(
                f"{months} mensualités de {format_euros(instalment)} ne couvrent pas la dette de "
                f"{format_euros(debt)} (il manque {format_euros(last - instalment)}) : "
                "augmentez la durée ou la mensualité.",
                field="monthly_instalment",
            )
        values = [instalment] * (months - 1) + [last]
    return [(first_due_on + relativedelta(months=k), amount) for k, amount in enumerate(values)]


@transaction.atomic
def plan_propose(
    *,
    case: ArrearsCase,
    debt: Decimal,
    monthly_instalment: Decimal,
    first_due_on: date,
    months: int,
    on: date,
    amounts: list[Decimal] | None = None,
    by=None,
) -> RepaymentPlan:
    """Propose a plan d'apurement. The debt is what is owed now minus the charge regularisation
    instalments still to come (already spread by billing); refused when it does not match, when the
    instalments do not add up to it, or beyond the maximum duration."""
    case = _lock(case)
    _refuse_closed_or_suspended(case)
    rule = rule_on(on)
    if case.plans.filter(status__in=LIVE_PLAN_STATUSES).exists():
        raise ArrearsError("Un plan d'apurement est déjà proposé ou en cours sur ce dossier.")
    debt, monthly_instalment = to_cents(debt), to_cents(monthly_instalment)
    if debt <= 0:
        raise ArrearsError("La dette doit être supérieure à zéro.", field="debt")
    if monthly_instalment <= 0:
        raise ArrearsError("La mensualité doit être supérieure à zéro.", field="monthly_instalment")
    if not 1 <= months <= rule.plan_max_months:
        raise ArrearsError(f"La durée d'un plan est comprise entre 1 et {rule.plan_max_months} mois.", field="months")
    if first_due_on < on:
        raise ArrearsError("La première échéance ne peut pas précéder la proposition.", field="first_due_on")
    account = Account.objects.select_related("lease").get(pk=case.account_id)
    scheduled, _ = regularisation_still_scheduled(account, on)
    expected = account.balance - scheduled
    if debt != expected:
        detail = (
            f" (solde {format_euros(account.balance)} moins {format_euros(scheduled)} de régularisation de charges "
            "déjà étalée)"
            if scheduled
            else ""
        )
        raise ArrearsError(
            f"La dette du plan doit être la dette actuelle : {format_euros(expected)}{detail}.", field="debt"
        )
    schedule = plan_schedule(
        debt=debt, instalment=monthly_instalment, first_due_on=first_due_on, months=months, amounts=amounts
    )
    plan = RepaymentPlan.objects.create(
        case=case,
        debt=debt,
        monthly_instalment=monthly_instalment,
        first_due_on=first_due_on,
        months=months,
        monthly_rent=monthly_rent(case),
        scheduled_elsewhere=scheduled,
        proposed_on=on,
        created_by=by,
    )
    PlanInstalment.objects.bulk_create(
        [PlanInstalment(plan=plan, number=k, due_on=d, amount=a) for k, (d, a) in enumerate(schedule, start=1)]
    )
    add_event(
        case=case,
        kind=EventKind.PLAN,
        on=on,
        text=f"Plan d'apurement proposé : {format_euros(debt)} en {months} mensualité(s) "
        f"de {format_euros(monthly_instalment)} à partir du {_d(first_due_on)}.",
        by=by,
        document=f"plan-{plan.pk}",
    )
    _set_next(case, "Faire signer le plan d'apurement", on + timedelta(days=15))
    _save(case, on)
    return plan


def _plan_to(plan: RepaymentPlan, to_status: str) -> None:
    if to_status not in PLAN_TRANSITIONS[plan.status]:
        raise ArrearsError(
            f"Un plan « {plan.get_status_display()} » ne peut pas passer à « {PlanStatus(to_status).label} »."
        )
    plan.status = to_status


@transaction.atomic
def plan_sign(*, plan: RepaymentPlan, signed_on: date, today: date, by=None) -> RepaymentPlan:
    plan = RepaymentPlan.objects.select_for_update().get(pk=plan.pk)
    case = _lock(plan.case)
    _refuse_closed_or_suspended(case)
    if signed_on > today:
        raise ArrearsError("La date de signature ne peut pas être dans le futur.", field="signed_on")
    if signed_on < plan.proposed_on:
        raise ArrearsError("La signature ne peut pas précéder la proposition.", field="signed_on")
    _plan_to(plan, PlanStatus.ACTIVE)
    plan.signed_on = signed_on
    plan.save()
    if case.status != CaseStatus.PLAN:
        case_transition(case=case, to_status=CaseStatus.PLAN, on=signed_on, by=by, reason="Plan d'apurement signé")
    add_event(case=case, kind=EventKind.PLAN, on=signed_on, text="Plan d'apurement signé par le locataire.", by=by)
    first = plan.instalments.first()
    _set_next(case, "Contrôler le paiement de la mensualité du plan", first.due_on if first else None)
    _save(case, signed_on)
    return plan


@dataclass
class PlanCheck:
    plan: RepaymentPlan
    required: Decimal
    paid: Decimal
    shortfall: Decimal
    missed: int
    status: str


def _paid_since(account_id: int, start: date, as_of: date) -> Decimal:
    """Payments received in [start, as_of], net of the bounced ones."""
    rows = LedgerEntry.objects.filter(account_id=account_id, posted_on__gte=start, posted_on__lte=as_of)
    credits = rows.filter(kind=EntryKind.PAYMENT).aggregate(t=Sum("credit"))["t"] or ZERO
    bounced = rows.filter(kind=EntryKind.REVERSAL, payment__isnull=False).aggregate(t=Sum("debit"))["t"] or ZERO
    return credits - bounced


def plan_evaluate(plan: RepaymentPlan, as_of: date) -> PlanCheck:
    """What the tenant should have paid since signing (current rent due since then + instalments
    due) against what was paid: kept, late (one instalment missing) or broken (`plan_missed_to_break`)."""
    rule = rule_on(as_of)
    start = plan.signed_on
    rents = (
        # Notices issued after the proposal are the current rent; earlier ones are in the debt.
        RentNotice.objects.filter(
            lease_id=plan.case.lease_id, issued_on__gt=plan.proposed_on, due_on__lte=as_of
        ).aggregate(t=Sum("amount_due"))["t"]
        or ZERO
    )
    instalments = list(plan.instalments.all())
    due_instalments = [i for i in instalments if i.due_on <= as_of]
    required = rents + sum((i.amount for i in due_instalments), ZERO)
    paid = _paid_since(plan.case.account_id, start, as_of)
    shortfall = max(required - paid, ZERO)
    missed = int((shortfall / plan.monthly_instalment).to_integral_value(rounding="ROUND_CEILING")) if shortfall else 0
    if missed >= rule.plan_missed_to_break:
        status = PlanStatus.BROKEN
    elif missed:
        status = PlanStatus.LATE
    elif len(due_instalments) == len(instalments):
        status = PlanStatus.COMPLETED
    else:
        status = PlanStatus.ACTIVE
    return PlanCheck(plan, required, paid, shortfall, missed, status)


@transaction.atomic
def plan_check(*, plan: RepaymentPlan, as_of: date) -> PlanCheck:
    """Monthly check of one signed plan; a broken plan sends the case to its next step."""
    plan = RepaymentPlan.objects.select_for_update().select_related("case").get(pk=plan.pk)
    result = plan_evaluate(plan, as_of)
    due_instalments = sum((i.amount for i in plan.instalments.all() if i.due_on <= as_of), ZERO)
    # What was paid beyond the current rent goes to the instalments, oldest first.
    covered = result.paid - (result.required - due_instalments)
    for instalment in plan.instalments.all():
        paid = instalment.due_on <= as_of and covered >= instalment.amount
        if paid:
            covered -= instalment.amount
        if instalment.paid != paid:
            instalment.paid = paid
            instalment.save(update_fields=["paid"])
    plan.checked_on = as_of
    plan.shortfall = result.shortfall
    previous = plan.status
    if result.status != previous:
        _plan_to(plan, result.status)
    plan.save()
    if result.status == previous:
        return result
    case = _lock(plan.case)
    labels = {
        PlanStatus.ACTIVE: "Plan d'apurement de nouveau à jour.",
        PlanStatus.LATE: f"Plan d'apurement en retard : {format_euros(result.shortfall)} manquent.",
        PlanStatus.BROKEN: f"Plan d'apurement rompu : {result.missed} mensualité(s) manquée(s), "
        f"{format_euros(result.shortfall)} de retard.",
        PlanStatus.COMPLETED: "Plan d'apurement honoré jusqu'à sa dernière échéance.",
    }
    add_event(case=case, kind=EventKind.PLAN, on=as_of, text=labels[result.status])
    if result.status == PlanStatus.BROKEN:
        Account.objects.filter(pk=case.account_id).update(flagged_for_arrears=True)
        if case.status == CaseStatus.PLAN:
            target = CaseStatus.LITIGATION if case.in_litigation else CaseStatus.AMICABLE
            case_transition(case=case, to_status=target, on=as_of, reason="Plan d'apurement rompu")
        if case.in_litigation:
            _set_next(case, "Plan rompu : reprendre la procédure contentieuse", as_of)
        else:
            _after_ladder(case, as_of)
            case.next_deadline = as_of  # the next step is due now
    elif result.status == PlanStatus.COMPLETED and case.status == CaseStatus.PLAN:
        case_transition(case=case, to_status=CaseStatus.AMICABLE, on=as_of, reason="Plan d'apurement honoré")
        _set_next(case, "Vérifier le solde du compte", as_of)
    elif result.status == PlanStatus.LATE:
        _set_next(case, "Relancer le locataire sur la mensualité du plan", as_of)
    _save(case, as_of)
    return result


def check_plans(*, as_of: date) -> dict[str, int]:
    counts: dict[str, int] = {}
    for plan in RepaymentPlan.objects.filter(status__in=(PlanStatus.ACTIVE, PlanStatus.LATE)).order_by("pk"):
        result = plan_check(plan=plan, as_of=as_of)
        counts[result.status] = counts.get(result.status, 0) + 1
    return counts


@transaction.atomic
def plan_send_to_caf(*, plan: RepaymentPlan, on: date, today: date, by=None) -> RepaymentPlan:
    plan = RepaymentPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.signed_on is None:
        raise ArrearsError("Seul un plan signé peut être transmis à la CAF.")
    if on > today or on < plan.signed_on:
        raise ArrearsError("Date de transmission invalide (après la signature, pas dans le futur).", field="on")
    plan.sent_to_caf_on = on
    plan.save()
    add_event(case=plan.case, kind=EventKind.PARTNER, on=on, text="Plan d'apurement transmis à la CAF.", by=by)
    return plan


# --- Partners --------------------------------------------------------------------------------


def caf_report_deadline(reached_on: date) -> date:
    """R824-4: report within 2 months of the day the impayé was constituted. A time limit for an
    administrative report, not a procedural délai: no shift to the next working day."""
    return deadline(reached_on, legal_period("caf_report", on=reached_on), working_day=False)


@transaction.atomic
def caf_report_send(*, report: CafReport, sent_on: date, today: date, by=None) -> CafReport:
    """Record the report to the CAF; it also counts as the CCAPEX referral (DOMAIN §4.2.1)."""
    report = CafReport.objects.select_for_update().get(pk=report.pk)
    case = _lock(report.case)
    if report.sent_on:
        raise ArrearsError(f"Ce signalement a déjà été envoyé le {_d(report.sent_on)}.")
    if sent_on > today:
        raise ArrearsError("La date d'envoi ne peut pas être dans le futur.", field="sent_on")
    if sent_on < report.reached_on:
        raise ArrearsError("Le signalement ne peut pas précéder la constitution de l'impayé.", field="sent_on")
    report.sent_on, report.sent_by = sent_on, by
    report.save()
    late = sent_on > report.due_by
    add_event(
        case=case,
        kind=EventKind.PARTNER,
        on=sent_on,
        text=f"Impayé signalé à la CAF ({format_euros(report.debt)})"
        + (f", après la date limite du {_d(report.due_by)}." if late else "."),
        by=by,
        document=f"caf-{report.pk}",
    )
    if not case.ccapex_referrals.exists():
        CcapexReferral.objects.create(case=case, referred_on=sent_on, via_caf_report=True, created_by=by)
    if case.next_action.startswith("Signaler"):
        _after_ladder(case, sent_on) if case.status == CaseStatus.AMICABLE else _set_next(case, "", None)
    _save(case, sent_on)
    return report


@transaction.atomic
def caf_outcome(*, report: CafReport, outcome: str, on: date, today: date, by=None) -> CafReport:
    report = CafReport.objects.select_for_update().get(pk=report.pk)
    if report.sent_on is None:
        raise ArrearsError("Le signalement n'a pas encore été envoyé à la CAF.")
    if outcome not in (CafOutcome.KEPT, CafOutcome.SUSPENDED):
        raise ArrearsError("Décision inconnue.", field="outcome")
    if on > today or on < report.sent_on:
        raise ArrearsError("La date de décision doit suivre le signalement et ne pas être dans le futur.", field="on")
    report.outcome, report.outcome_on = outcome, on
    report.save()
    add_event(
        case=report.case, kind=EventKind.PARTNER, on=on, text=f"Décision CAF : {CafOutcome(outcome).label}.", by=by
    )
    return report


@transaction.atomic
def fsl_apply(*, case: ArrearsCase, applied_on: date, amount: Decimal, today: date, by=None) -> FslApplication:
    case = _lock(case)
    if case.status == CaseStatus.CLOSED:
        raise ArrearsError("Ce dossier est soldé.")
    if applied_on > today:
        raise ArrearsError("La date de dépôt ne peut pas être dans le futur.", field="applied_on")
    if amount <= 0:
        raise ArrearsError("Le montant demandé doit être supérieur à zéro.", field="amount")
    if case.fsl_applications.filter(decision=FslDecision.PENDING).exists():
        raise ArrearsError("Une demande FSL est déjà en attente de décision.")
    app = FslApplication.objects.create(case=case, applied_on=applied_on, requested_amount=amount, created_by=by)
    add_event(
        case=case, kind=EventKind.PARTNER, on=applied_on, text=f"Demande FSL déposée ({format_euros(amount)}).", by=by
    )
    return app


@transaction.atomic
def fsl_decide(
    *, application: FslApplication, decision: str, on: date, today: date, amount: Decimal | None = None, by=None
) -> FslApplication:
    app = FslApplication.objects.select_for_update().get(pk=application.pk)
    if app.decision != FslDecision.PENDING:
        raise ArrearsError("Cette demande FSL a déjà reçu sa décision.")
    if on > today or on < app.applied_on:
        raise ArrearsError("La date de décision doit suivre le dépôt et ne pas être dans le futur.", field="on")
    if decision == FslDecision.GRANTED:
        if not amount or amount <= 0:
            raise ArrearsError("Saisissez le montant accordé.", field="amount")
        app.granted_amount = amount
        text = f"FSL accordé : {format_euros(amount)}."
    elif decision == FslDecision.REFUSED:
        text = "FSL refusé."
    else:
        raise ArrearsError("Décision inconnue.", field="decision")
    app.decision, app.decided_on = decision, on
    app.save()
    add_event(case=app.case, kind=EventKind.PARTNER, on=on, text=text, by=by)
    return app


@transaction.atomic
def ccapex_refer(*, case: ArrearsCase, on: date, today: date, by=None) -> CcapexReferral:
    case = _lock(case)
    _refuse_closed_or_suspended(case)
    if on > today:
        raise ArrearsError("La date de saisine ne peut pas être dans le futur.", field="on")
    referral = CcapexReferral.objects.create(case=case, referred_on=on, created_by=by)
    earliest = assignation_earliest(case)
    add_event(
        case=case,
        kind=EventKind.PARTNER,
        on=on,
        text=f"CCAPEX saisie : pas d'assignation avant le {_d(earliest)}.",
        by=by,
    )
    return referral


def assignation_earliest(case: ArrearsCase) -> date | None:
    """Loi 89 art. 24 II: no assignation before 2 months after the first CCAPEX referral."""
    referral = case.ccapex_referrals.order_by("referred_on").first()
    if referral is None:
        return None
    return waiting_period_end(referral.referred_on, legal_period("ccapex_before_assignation", on=referral.referred_on))


# --- Litigation ------------------------------------------------------------------------------


@transaction.atomic
def handover_request(*, case: ArrearsCase, on: date, today: date, by=None) -> ArrearsCase:
    case = _lock(case)
    _refuse_closed_or_suspended(case)
    if case.handover_requested_on:
        raise ArrearsError("Le passage au contentieux est déjà demandé.")
    if on > today:
        raise ArrearsError("La date ne peut pas être dans le futur.", field="on")
    if case.plans.filter(status__in=(PlanStatus.ACTIVE, PlanStatus.LATE)).exists():
        raise ArrearsError("Un plan d'apurement est en cours : il doit être rompu ou soldé avant le contentieux.")
    last = max((s.position for s in ladder_on(case.opened_on)), default=0)
    if case.ladder_position < last:
        raise ArrearsError(
            "Étape sautée : la phase amiable n'est pas terminée (toutes les relances ne sont pas envoyées)."
        )
    case.handover_requested_on, case.handover_requested_by = on, by
    _set_next(case, "Approbation du passage au contentieux par le responsable d'agence", on)
    add_event(case=case, kind=EventKind.LITIGATION, on=on, text="Passage au contentieux demandé.", by=by)
    _save(case, on)
    return case


@transaction.atomic
def handover_approve(*, case: ArrearsCase, on: date, today: date, by) -> ArrearsCase:
    """The responsable d'agence approves the handover (not the person who asked for it)."""
    case = _lock(case)
    _refuse_closed_or_suspended(case)
    if not case.handover_requested_on:
        raise ArrearsError("Aucun passage au contentieux n'est demandé sur ce dossier.")
    if case.handover_approved_on:
        raise ArrearsError("Le passage au contentieux est déjà approuvé.")
    if by is not None and by.pk == case.handover_requested_by_id:
        raise ArrearsError("Le passage au contentieux doit être approuvé par une autre personne que le demandeur.")
    if on > today or on < case.handover_requested_on:
        raise ArrearsError("Date d'approbation invalide.", field="on")
    case.handover_approved_on, case.handover_approved_by = on, by
    case_transition(case=case, to_status=CaseStatus.LITIGATION, on=on, by=by, reason="Passage au contentieux approuvé")
    _set_next(case, "Faire délivrer le commandement de payer (ordre de mission au commissaire de justice)", on)
    add_event(case=case, kind=EventKind.LITIGATION, on=on, text="Passage au contentieux approuvé.", by=by)
    _save(case, on)
    return case


def commandement_period(lease, served_on: date) -> Period:
    """The delay stored on the lease: 2 months (pre-29/07/2023 leases stating it) or 6 weeks."""
    if lease.commandement_delay == CommandementDelay.TWO_MONTHS:
        return legal_period("commandement_payer", on=date(2023, 7, 28))
    return legal_period("commandement_payer", on=max(served_on, date(2023, 7, 29)))


def out_of_truce(day: date, on: date | None = None) -> tuple[date, tuple[date, date] | None]:
    """`day`, or the day after the winter truce when `day` falls in it (CPCE L412-6)."""
    rule = rule_on(on or day)
    bounds = truce_bounds(rule, day)
    if bounds is None:
        return day, None
    return bounds[1] + timedelta(days=1), bounds


@dataclass
class StepPlan:
    earliest: date | None
    earliest_reason: str
    deadline: date | None
    deadline_label: str


def _steps(case: ArrearsCase) -> dict[str, LitigationStep]:
    return {s.kind: s for s in case.litigation_steps.all()}


def litigation_next(case: ArrearsCase) -> str | None:
    done = _steps(case)
    for kind in LITIGATION_ORDER:
        if kind not in done:
            return kind
    return None


def step_constraints(case: ArrearsCase, kind: str, *, prefet_notified_on: date | None = None) -> StepPlan:
    """The earliest legal date of step `kind` on this case, given the steps already recorded."""
    done = _steps(case)
    if kind == LitigationKind.ASSIGNATION:
        cmd = done[LitigationKind.COMMANDEMENT_PAYER]
        after_cmd = cmd.deadline + timedelta(days=1)
        ccapex = assignation_earliest(case)
        if ccapex is None:
            return StepPlan(None, "la CCAPEX n'est pas saisie (ni l'impayé signalé à la CAF)", None, "")
        if ccapex > after_cmd:
            return StepPlan(ccapex, "2 mois après la saisine de la CCAPEX", None, "")
        return StepPlan(after_cmd, f"le délai du commandement de payer court jusqu'au {_d(cmd.deadline)}", None, "")
    if kind == LitigationKind.HEARING:
        assignation = done[LitigationKind.ASSIGNATION]
        return StepPlan(
            assignation.deadline,
            f"6 semaines après la notification de l'assignation au préfet le {_d(assignation.prefet_notified_on)}",
            None,
            "",
        )
    if kind == LitigationKind.JUDGMENT:
        return StepPlan(done[LitigationKind.HEARING].done_on, "pas avant l'audience", None, "")
    if kind == LitigationKind.COMMANDEMENT_QUITTER:
        return StepPlan(done[LitigationKind.JUDGMENT].done_on, "pas avant le jugement", None, "")
    if kind == LitigationKind.CONCOURS:
        # The request may be made once the 2 months have run, truce or not (only execution waits).
        cq = done[LitigationKind.COMMANDEMENT_QUITTER]
        period = legal_period("commandement_quitter", on=cq.done_on)
        return StepPlan(
            waiting_period_end(cq.done_on, period),
            f"{period} après le commandement de quitter du {_d(cq.done_on)}",
            None,
            "",
        )
    if kind == LitigationKind.EVICTION:
        concours = done[LitigationKind.CONCOURS]
        return StepPlan(concours.deadline, "délai du commandement de quitter et trêve hivernale", None, "")
    return StepPlan(case.handover_approved_on, "pas avant le passage au contentieux", None, "")


@transaction.atomic
def litigation_record(
    *,
    case: ArrearsCase,
    kind: str,
    done_on: date,
    today: date,
    by=None,
    cost: Decimal = ZERO,
    prefet_notified_on: date | None = None,
    termination: bool = False,
    payment_delay_months: int = 0,
    judgment_amount: Decimal | None = None,
) -> LitigationStep:
    """Record a litigation step in its legal order with its computed deadline; its procedure costs
    post to the ledger in the same transaction. Refused: a skipped step, a date before its legal
    earliest date, an eviction in the winter truce (1 April proposed), a suspended procedure."""
    case = _lock(case)
    _refuse_closed_or_suspended(case)
    if not case.in_litigation:
        raise ArrearsError("Le passage au contentieux n'est pas approuvé par le responsable d'agence.")
    if kind not in LITIGATION_ORDER:
        raise ArrearsError("Étape contentieuse inconnue.", field="kind")
    expected = litigation_next(case)
    if expected is None or LITIGATION_ORDER.index(kind) < LITIGATION_ORDER.index(expected):
        raise ArrearsError(f"« {LitigationKind(kind).label} » est déjà enregistré.", field="kind")
    if kind != expected:
        raise ArrearsError(f"Étape sautée : enregistrez d'abord « {LitigationKind(expected).label} ».", field="kind")
    if kind not in (LitigationKind.HEARING, LitigationKind.EVICTION) and done_on > today:
        raise ArrearsError("La date ne peut pas être dans le futur.", field="done_on")
    cost = to_cents(cost or ZERO)
    if cost < 0:
        raise ArrearsError("Les frais ne peuvent pas être négatifs.", field="cost")
    plan = step_constraints(case, kind)
    if plan.earliest is None:
        raise ArrearsError(f"« {LitigationKind(kind).label} » impossible : {plan.earliest_reason}.", field="done_on")
    if done_on < plan.earliest:
        raise ArrearsError(
            f"« {LitigationKind(kind).label} » ne peut pas être daté avant le {_d(plan.earliest)} "
            f"({plan.earliest_reason}).",
            field="done_on",
        )
    step = LitigationStep(
        case=case, kind=kind, position=LITIGATION_ORDER.index(kind) + 1, done_on=done_on, cost=cost, by=by
    )
    next_action = ""
    if kind == LitigationKind.COMMANDEMENT_PAYER:
        period = commandement_period(case.lease, done_on)
        step.deadline = deadline(done_on, period, working_day=True)
        step.deadline_label = (
            f"Clause résolutoire acquise si la dette n'est pas réglée à la fin du {_d(step.deadline)} ({period})"
        )
        next_action = "Assigner le locataire (après le délai du commandement et 2 mois après la CCAPEX)"
    elif kind == LitigationKind.ASSIGNATION:
        notified = prefet_notified_on or done_on
        if notified < done_on or notified > today:
            raise ArrearsError(
                "La notification au préfet suit l'assignation et n'est pas dans le futur.", field="prefet_notified_on"
            )
        step.prefet_notified_on = notified
        step.deadline = deadline(notified, legal_period("prefet_before_hearing", on=notified), working_day=True)
        step.deadline_label = (
            f"Audience au plus tôt le {_d(step.deadline)} (6 semaines après la notification au préfet)"
        )
        next_action = "Audience : préparer le décompte locatif"
    elif kind == LitigationKind.HEARING:
        next_action = "Enregistrer le jugement"
    elif kind == LitigationKind.JUDGMENT:
        if payment_delay_months > 36:
            raise ArrearsError(
                "Les délais de paiement accordés par le juge ne dépassent pas 3 ans.", field="payment_delay_months"
            )
        if judgment_amount is not None and judgment_amount < 0:
            raise ArrearsError("La condamnation ne peut pas être négative.", field="judgment_amount")
        step.termination, step.payment_delay_months, step.judgment_amount = (
            termination,
            payment_delay_months,
            judgment_amount,
        )
        if payment_delay_months:
            step.deadline = done_on + relativedelta(months=payment_delay_months)
            step.deadline_label = f"Fin des délais de paiement accordés : {_d(step.deadline)}"
        next_action = (
            "Faire délivrer le commandement de quitter les lieux" if termination else "Suivre les délais de paiement"
        )
    elif kind == LitigationKind.COMMANDEMENT_QUITTER:
        judgment = _steps(case)[LitigationKind.JUDGMENT]
        if not judgment.termination:
            raise ArrearsError("Le jugement ne prononce pas la résiliation du bail : pas de commandement de quitter.")
        period = legal_period("commandement_quitter", on=done_on)
        earliest, _ = out_of_truce(waiting_period_end(done_on, period), done_on)
        step.deadline = earliest
        step.deadline_label = (
            f"Expulsion possible au plus tôt le {_d(earliest)} ({period} après le commandement, hors trêve hivernale)"
        )
        next_action = "Demander le concours de la force publique au préfet"
    elif kind == LitigationKind.CONCOURS:
        earliest, _ = out_of_truce(max(done_on, _steps(case)[LitigationKind.COMMANDEMENT_QUITTER].deadline), done_on)
        step.deadline = earliest
        step.deadline_label = f"Expulsion possible au plus tôt le {_d(earliest)} (hors trêve hivernale)"
        next_action = "Fixer la date d'expulsion avec le commissaire de justice"
    elif kind == LitigationKind.EVICTION:
        proposal, bounds = out_of_truce(done_on, done_on)
        if bounds:
            raise ArrearsError(
                f"Le {_d(done_on)} tombe pendant la trêve hivernale (du {_d(bounds[0])} au {_d(bounds[1])}) : "
                f"aucune expulsion n'est possible. Date proposée : {_d(proposal)}.",
                field="done_on",
            )
        next_action = "Récupérer la dette restante (recouvrement après départ)"
    step.debt = current_debt(case)
    step.save()
    if cost:
        account = Account.objects.get(pk=case.account_id)
        label = f"Frais de procédure — {LitigationKind(kind).label} du {_d(done_on)}"
        post_entries(
            account=account,
            entries=[NewEntry(posted_on=min(done_on, today), kind=EntryKind.PROCEDURE, label=label, amount=cost)],
            by=by,
        )
    text = f"{LitigationKind(kind).label} du {_d(done_on)}."
    if step.deadline_label:
        text += f" {step.deadline_label}."
    if cost:
        text += f" Frais de procédure : {format_euros(cost)}."
    add_event(
        case=case, kind=EventKind.LITIGATION, on=min(done_on, today), text=text, by=by, document=f"acte-{step.pk}"
    )
    _set_next(case, next_action, step.deadline or done_on)
    _save(case, min(done_on, today))
    return step


@transaction.atomic
def suspend(*, case: ArrearsCase, on: date, today: date, reason: str = "", by=None) -> ArrearsCase:
    """A surendettement file (Banque de France) suspends every recovery action."""
    case = _lock(case)
    if case.status in (CaseStatus.CLOSED, CaseStatus.SUSPENDED):
        raise ArrearsError("Ce dossier est déjà soldé ou suspendu.")
    if on > today:
        raise ArrearsError("La date ne peut pas être dans le futur.", field="on")
    case.suspended_on = on
    case_transition(case=case, to_status=CaseStatus.SUSPENDED, on=on, by=by, reason="Surendettement")
    add_event(
        case=case,
        kind=EventKind.NOTE,
        on=on,
        text="Dossier de surendettement recevable : procédure suspendue." + (f" {reason}" if reason else ""),
        by=by,
    )
    _set_next(case, "Suivre la décision de la commission de surendettement", None)
    _save(case, on)
    return case


@transaction.atomic
def resume(*, case: ArrearsCase, on: date, today: date, by=None) -> ArrearsCase:
    case = _lock(case)
    if case.status != CaseStatus.SUSPENDED:
        raise ArrearsError("Ce dossier n'est pas suspendu.")
    if on > today or on < case.suspended_on:
        raise ArrearsError("Date de reprise invalide.", field="on")
    target = CaseStatus.LITIGATION if case.in_litigation else CaseStatus.AMICABLE
    case_transition(case=case, to_status=target, on=on, by=by, reason="Fin de la suspension")
    case.suspended_on = None
    add_event(case=case, kind=EventKind.NOTE, on=on, text="Suspension levée : la procédure reprend.", by=by)
    if case.in_litigation:
        nxt = litigation_next(case)
        _set_next(case, f"Reprendre : {LitigationKind(nxt).label}" if nxt else "", on)
    else:
        _after_ladder(case, on)
    _save(case, on)
    return case


# --- Write-off -------------------------------------------------------------------------------


@transaction.atomic
def write_off_request(*, case: ArrearsCase, amount: Decimal, reason: str, on: date, today: date, by) -> WriteOff:
    case = _lock(case)
    amount = to_cents(amount)
    if amount <= 0:
        raise ArrearsError("Le montant doit être supérieur à zéro.", field="amount")
    balance = current_debt(case)
    if amount > balance:
        raise ArrearsError(f"Le montant dépasse la dette ({format_euros(balance)}).", field="amount")
    if not reason.strip():
        raise ArrearsError("Indiquez le motif de l'admission en non-valeur.", field="reason")
    if on > today:
        raise ArrearsError("La date ne peut pas être dans le futur.", field="on")
    if case.write_offs.filter(status=WriteOffStatus.REQUESTED).exists():
        raise ArrearsError("Une admission en non-valeur attend déjà sa décision.")
    wo = WriteOff.objects.create(case=case, amount=amount, reason=reason.strip(), requested_on=on, requested_by=by)
    add_event(
        case=case,
        kind=EventKind.NOTE,
        on=on,
        text=f"Admission en non-valeur demandée : {format_euros(amount)} ({wo.reason}).",
        by=by,
    )
    return wo


@transaction.atomic
def write_off_decide(*, write_off: WriteOff, approve: bool, on: date, today: date, by) -> WriteOff:
    """Four eyes: the approver is not the requester; above the rule's threshold only the direction
    may approve. An approved write-off credits the account (WRITE_OFF entry)."""
    wo = WriteOff.objects.select_for_update().select_related("case").get(pk=write_off.pk)
    if wo.status != WriteOffStatus.REQUESTED:
        raise ArrearsError("Cette admission en non-valeur a déjà reçu sa décision.")
    if by.pk == wo.requested_by_id:
        raise ArrearsError("Une admission en non-valeur doit être décidée par une autre personne que son demandeur.")
    if on > today or on < wo.requested_on:
        raise ArrearsError("Date de décision invalide.", field="on")
    rule = rule_on(on)
    if (
        approve
        and wo.amount > rule.write_off_direction_threshold
        and not (by.is_superuser or by.roles & {Role.DIRECTION, Role.ADMINISTRATEUR})
    ):
        raise ArrearsError(
            f"Au-delà de {format_euros(rule.write_off_direction_threshold)}, l'admission en non-valeur est "
            "décidée par la direction."
        )
    wo.decided_on, wo.decided_by = on, by
    if approve:
        balance = current_debt(wo.case)
        if wo.amount > balance:
            raise ArrearsError(f"Le montant dépasse désormais la dette ({format_euros(balance)}).")
        wo.status = WriteOffStatus.APPROVED
        (entry,) = post_entries(
            account=Account.objects.get(pk=wo.case.account_id),
            entries=[
                NewEntry(
                    posted_on=on,
                    kind=EntryKind.WRITE_OFF,
                    label=f"Admission en non-valeur — {wo.reason}",
                    amount=-wo.amount,
                )
            ],
            by=by,
        )
        wo.entry_id = entry.pk
    else:
        wo.status = WriteOffStatus.REFUSED
    wo.save()
    add_event(
        case=wo.case,
        kind=EventKind.NOTE,
        on=on,
        text=f"Admission en non-valeur {'approuvée' if approve else 'refusée'} : {format_euros(wo.amount)}.",
        by=by,
    )
    return wo


# --- Debt statement --------------------------------------------------------------------------


def debt_statement(account: Account, as_of: date):
    """Outstanding debts oldest first, each flagged when time-barred (loi 89 art. 7-1: 3 years)."""
    items = outstanding_items(account.pk, as_of)
    for item in items:
        barred_on = deadline(item.due_on, legal_period("prescription", on=item.due_on), working_day=False)
        if as_of > barred_on:
            item.barred_on = barred_on
    return items


def round_half_up(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
