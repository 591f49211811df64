"""Arrears: per-account ageing snapshots, cases and their amicable ladder, repayment plans,
partners (CAF, FSL, CCAPEX), litigation steps and write-offs. Parameters are dated rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from billing.models import Account
from tenancies.models import MONEY, AgencyScopedQuerySet, Lease

ZERO = Decimal("0.00")
USER = settings.AUTH_USER_MODEL


# --- Dated parameters ------------------------------------------------------------------------


class ArrearsRule(models.Model):
    """The detection rule and the thresholds in force from `valid_from` (loaded by a data migration)."""

    valid_from = models.DateField("en vigueur le", unique=True)
    # An amount due on the 5th is "in arrears" from the day after the detection day of its month.
    detection_day = models.PositiveSmallIntegerField("impayé constaté après le … du mois", default=10)
    open_threshold = models.DecimalField("montant d'ouverture d'un dossier", **MONEY)
    # R824-1: impayé for the CAF when the debt reaches 2 × the monthly net rent and charges.
    caf_threshold_months = models.DecimalField("seuil CAF (mois de loyer net)", max_digits=4, decimal_places=2)
    # A plan is broken when this many instalments (or more) are missing; one missing is "late".
    plan_missed_to_break = models.PositiveSmallIntegerField("échéances manquées pour rompre un plan", default=2)
    plan_max_months = models.PositiveSmallIntegerField("durée maximale d'un plan (mois)", default=36)
    # Above this amount a write-off needs the direction, below the responsable d'agence.
    write_off_direction_threshold = models.DecimalField("admission en non-valeur : seuil direction", **MONEY)
    # CPCE L412-6: no eviction from 1 November to 31 March.
    truce_start_month = models.PositiveSmallIntegerField(default=11)
    truce_start_day = models.PositiveSmallIntegerField(default=1)
    truce_end_month = models.PositiveSmallIntegerField(default=3)
    truce_end_day = models.PositiveSmallIntegerField(default=31)
    source = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = "règle de détection des impayés"
        ordering = ["-valid_from"]

    def __str__(self):
        return f"Règle impayés du {self.valid_from:%d/%m/%Y}"


class LadderStep(models.Model):
    """One rung of the amicable ladder, with its delay after the previous rung (or the opening)."""

    valid_from = models.DateField("en vigueur le")
    position = models.PositiveSmallIntegerField("rang")
    code = models.SlugField(max_length=30)
    label = models.CharField("étape", max_length=100)
    delay_days = models.PositiveSmallIntegerField("délai après l'étape précédente (jours)")
    letter_title = models.CharField("titre du courrier", max_length=150)
    letter_text = models.TextField("texte du courrier")
    task = models.CharField("tâche du chargé", max_length=150)

    class Meta:
        verbose_name = "étape amiable"
        ordering = ["valid_from", "position"]
        constraints = [models.UniqueConstraint(fields=["valid_from", "position"], name="ladder_step_unique")]

    def __str__(self):
        return f"{self.position}. {self.label}"


# --- Snapshot --------------------------------------------------------------------------------


class ArrearsSnapshot(models.Model):
    """What one account owes, by age, on the day of the last detection (rewritten every day)."""

    account = models.OneToOneField(Account, on_delete=models.CASCADE, primary_key=True, related_name="arrears")
    as_of = models.DateField("au")
    balance = models.DecimalField("solde", **MONEY)
    overdue = models.DecimalField("échu impayé", **MONEY)
    in_arrears = models.DecimalField("impayé constaté", **MONEY)
    bucket_0_30 = models.DecimalField("0 à 30 jours", **MONEY)
    bucket_31_60 = models.DecimalField("31 à 60 jours", **MONEY)
    bucket_61_90 = models.DecimalField("61 à 90 jours", **MONEY)
    bucket_over_90 = models.DecimalField("plus de 90 jours", **MONEY)
    monthly_due = models.DecimalField("échéance mensuelle nette", **MONEY)
    months_unpaid = models.DecimalField("mois impayés", max_digits=6, decimal_places=1)
    oldest_due_on = models.DateField("plus ancienne échéance impayée", null=True)
    case_threshold_on = models.DateField("seuil d'ouverture atteint le", null=True)
    caf_threshold = models.DecimalField("seuil CAF", null=True, **MONEY)
    caf_threshold_on = models.DateField("seuil CAF atteint le", null=True)
    apl = models.BooleanField("APL en tiers payant", default=False)

    class Meta:
        verbose_name = "situation d'impayé"

    def __str__(self):
        return f"Impayé du compte {self.account_id} au {self.as_of}"


# --- Cases -----------------------------------------------------------------------------------


class CaseStatus(models.TextChoices):
    AMICABLE = "amicable", "Pré-contentieux"
    PLAN = "plan", "Plan d'apurement en cours"
    LITIGATION = "litigation", "Contentieux"
    SUSPENDED = "suspended", "Suspendu (surendettement)"
    CLOSED = "closed", "Soldé"


OPEN_STATUSES = (CaseStatus.AMICABLE, CaseStatus.PLAN, CaseStatus.LITIGATION, CaseStatus.SUSPENDED)

CASE_TRANSITIONS: dict[str, frozenset[str]] = {
    CaseStatus.AMICABLE: frozenset({CaseStatus.PLAN, CaseStatus.LITIGATION, CaseStatus.SUSPENDED, CaseStatus.CLOSED}),
    CaseStatus.PLAN: frozenset({CaseStatus.AMICABLE, CaseStatus.LITIGATION, CaseStatus.SUSPENDED, CaseStatus.CLOSED}),
    CaseStatus.LITIGATION: frozenset({CaseStatus.PLAN, CaseStatus.SUSPENDED, CaseStatus.CLOSED}),
    CaseStatus.SUSPENDED: frozenset({CaseStatus.AMICABLE, CaseStatus.LITIGATION, CaseStatus.PLAN, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset({CaseStatus.AMICABLE}),  # reopened when arrears return
}


class CaseQuerySet(AgencyScopedQuerySet):
    # The agency is copied on the case so that the work queue filters and sorts on one table.
    agency_lookup = "agency"

    def open(self):
        return self.filter(status__in=OPEN_STATUSES)


class ArrearsCase(models.Model):
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="arrears_cases")
    lease = models.ForeignKey(Lease, on_delete=models.PROTECT, related_name="arrears_cases", verbose_name="bail")
    agency = models.ForeignKey(
        "tenancies.Agency", on_delete=models.PROTECT, related_name="+", verbose_name="agence", null=True
    )
    status = models.CharField("statut", max_length=12, choices=CaseStatus.choices, default=CaseStatus.AMICABLE)
    opened_on = models.DateField("ouvert le")
    closed_on = models.DateField("soldé le", null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField("réouvertures", default=0)
    debt_at_opening = models.DecimalField("dette à l'ouverture", **MONEY)
    ladder_position = models.PositiveSmallIntegerField("dernière étape amiable", default=0)
    next_action = models.CharField("prochaine action", max_length=150, blank=True)
    next_deadline = models.DateField("échéance de la prochaine action", null=True, blank=True)
    priority = models.IntegerField("priorité", default=0)
    suspended_on = models.DateField("suspendu le", null=True, blank=True)
    # Litigation handover: requested by the chargé, approved by the responsable d'agence.
    handover_requested_on = models.DateField(null=True, blank=True)
    handover_requested_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    handover_approved_on = models.DateField(null=True, blank=True)
    handover_approved_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    objects = CaseQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "dossier d'impayé"
        verbose_name_plural = "dossiers d'impayé"
        constraints = [
            # One open case per account at a time; closed ones stay for the record.
            models.UniqueConstraint(
                fields=["account"], condition=~Q(status="closed"), name="one_open_case_per_account"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-priority", "id"], name="case_queue"),
            models.Index(fields=["agency", "status", "-priority", "id"], name="case_agency_queue"),
            # The default work queue (open cases, by priority): read in index order, stopped at one page.
            models.Index(
                fields=["agency", "-priority", "id"], name="case_open_agency_queue", condition=~Q(status="closed")
            ),
            models.Index(fields=["-priority", "id"], name="case_open_queue", condition=~Q(status="closed")),
            models.Index(fields=["account", "-opened_on"], name="case_account"),
        ]

    def __str__(self):
        return f"Dossier d'impayé n° {self.pk}"

    def save(self, *args, **kwargs):
        if self.agency_id is None:
            self.agency_id = (
                Lease.objects.filter(pk=self.lease_id)
                .values_list("dwelling__building__estate__agency", flat=True)
                .get()
            )
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("arrears:case_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status != CaseStatus.CLOSED

    @property
    def in_litigation(self) -> bool:
        return self.handover_approved_on is not None


class CaseTransition(models.Model):
    """History of a case's status: from, to, who, when, why."""

    case = models.ForeignKey(ArrearsCase, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    on = models.DateField()
    reason = models.CharField(max_length=255, blank=True)
    by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.from_status or '—'} → {self.to_status}"


class EventKind(models.TextChoices):
    LETTER = "letter", "Courrier"
    CALL = "call", "Appel"
    VISIT = "visit", "Visite"
    NOTE = "note", "Note"
    PLAN = "plan", "Plan d'apurement"
    PARTNER = "partner", "Partenaire"
    LITIGATION = "litigation", "Contentieux"
    SYSTEM = "system", "Détection"


class CaseEvent(models.Model):
    """One line of a case's timeline (payments come from the ledger)."""

    case = models.ForeignKey(ArrearsCase, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField("type", max_length=12, choices=EventKind.choices)
    on = models.DateField("date")
    text = models.TextField("contenu")
    document = models.CharField(max_length=40, blank=True)  # a case document code, see documents.py
    by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-on", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} du {self.on}"


class AmicableStepDone(models.Model):
    """A ladder rung carried out on a case, with the letter's amounts frozen."""

    case = models.ForeignKey(ArrearsCase, on_delete=models.CASCADE, related_name="ladder")
    step = models.ForeignKey(LadderStep, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()
    done_on = models.DateField("envoyée le")
    debt = models.DecimalField("dette", **MONEY)
    by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    history = HistoricalRecords()

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["case", "position"], name="ladder_done_unique")]

    def __str__(self):
        return f"{self.step.label} le {self.done_on}"

    @property
    def doc_code(self) -> str:
        return f"lettre-{self.pk}"


# --- Repayment plans -------------------------------------------------------------------------


class PlanStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposé"
    ACTIVE = "active", "En cours, respecté"
    LATE = "late", "En retard"
    BROKEN = "broken", "Rompu"
    COMPLETED = "completed", "Soldé"
    CANCELLED = "cancelled", "Abandonné"


PLAN_TRANSITIONS: dict[str, frozenset[str]] = {
    PlanStatus.PROPOSED: frozenset({PlanStatus.ACTIVE, PlanStatus.CANCELLED}),
    PlanStatus.ACTIVE: frozenset({PlanStatus.LATE, PlanStatus.BROKEN, PlanStatus.COMPLETED, PlanStatus.CANCELLED}),
    PlanStatus.LATE: frozenset({PlanStatus.ACTIVE, PlanStatus.BROKEN, PlanStatus.COMPLETED, PlanStatus.CANCELLED}),
    PlanStatus.BROKEN: frozenset(),
    PlanStatus.COMPLETED: frozenset(),
    PlanStatus.CANCELLED: frozenset(),
}
LIVE_PLAN_STATUSES = (PlanStatus.PROPOSED, PlanStatus.ACTIVE, PlanStatus.LATE)


class RepaymentPlan(models.Model):
    """Plan d'apurement: the debt repaid by monthly instalments on top of the current rent."""

    case = models.ForeignKey(ArrearsCase, on_delete=models.PROTECT, related_name="plans")
    status = models.CharField("statut", max_length=10, choices=PlanStatus.choices, default=PlanStatus.PROPOSED)
    debt = models.DecimalField("dette", **MONEY)
    monthly_instalment = models.DecimalField("mensualité", **MONEY)
    first_due_on = models.DateField("première échéance")
    months = models.PositiveSmallIntegerField("durée (mois)")
    monthly_rent = models.DecimalField("loyer courant", **MONEY)
    # Regularisation instalments (billing.yearly) still to come on the account, left out of the debt.
    scheduled_elsewhere = models.DecimalField("étalement de régularisation en cours", default=ZERO, **MONEY)
    proposed_on = models.DateField("proposé le")
    signed_on = models.DateField("signé le", null=True, blank=True)
    sent_to_caf_on = models.DateField("transmis à la CAF le", null=True, blank=True)
    checked_on = models.DateField("dernier contrôle", null=True, blank=True)
    shortfall = models.DecimalField("retard au dernier contrôle", default=ZERO, **MONEY)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "plan d'apurement"
        ordering = ["-proposed_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(debt__gt=0) & Q(monthly_instalment__gt=0), name="plan_positive"),
        ]

    def __str__(self):
        return f"Plan d'apurement n° {self.pk}"

    @property
    def doc_code(self) -> str:
        return f"plan-{self.pk}"


class PlanInstalment(models.Model):
    plan = models.ForeignKey(RepaymentPlan, on_delete=models.CASCADE, related_name="instalments")
    number = models.PositiveSmallIntegerField("n°")
    due_on = models.DateField("échéance")
    amount = models.DecimalField("montant", **MONEY)
    paid = models.BooleanField("honorée", default=False)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="instalment_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="instalment_positive"),
        ]

    def __str__(self):
        return f"{self.number} — {self.due_on}: {self.amount}"


# --- Partners --------------------------------------------------------------------------------


class CafOutcome(models.TextChoices):
    PENDING = "pending", "En attente"
    KEPT = "kept", "APL maintenue"
    SUSPENDED = "suspended", "APL suspendue"


class CafReport(models.Model):
    """The impayé constituted for the CAF (R824-1) and its report, due within 2 months (R824-4)."""

    case = models.ForeignKey(ArrearsCase, on_delete=models.PROTECT, related_name="caf_reports")
    threshold = models.DecimalField("seuil (2 × loyer net)", **MONEY)
    reached_on = models.DateField("seuil atteint le")
    due_by = models.DateField("à signaler au plus tard le")
    debt = models.DecimalField("dette constatée", **MONEY)
    sent_on = models.DateField("signalé le", null=True, blank=True)
    sent_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    outcome = models.CharField("décision", max_length=10, choices=CafOutcome.choices, default=CafOutcome.PENDING)
    outcome_on = models.DateField("décision le", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "signalement CAF"
        ordering = ["-reached_on"]

    def __str__(self):
        return f"Signalement CAF du dossier {self.case_id}"

    @property
    def doc_code(self) -> str:
        return f"caf-{self.pk}"


class FslDecision(models.TextChoices):
    PENDING = "pending", "En attente"
    GRANTED = "granted", "Accordé"
    REFUSED = "refused", "Refusé"


class FslApplication(models.Model):
    case = models.ForeignKey(ArrearsCase, on_delete=models.PROTECT, related_name="fsl_applications")
    applied_on = models.DateField("déposé le")
    requested_amount = models.DecimalField("montant demandé", **MONEY)
    decision = models.CharField("décision", max_length=10, choices=FslDecision.choices, default=FslDecision.PENDING)
    decided_on = models.DateField("décision le", null=True, blank=True)
    granted_amount = models.DecimalField("montant accordé", null=True, blank=True, **MONEY)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "demande FSL"
        ordering = ["-applied_on"]

    def __str__(self):
        return f"FSL du {self.applied_on}"


class CcapexReferral(models.Model):
    """Saisine de la CCAPEX (loi 89 art. 24 II); a report to the CAF counts as one."""

    case = models.ForeignKey(ArrearsCase, on_delete=models.PROTECT, related_name="ccapex_referrals")
    referred_on = models.DateField("saisie le")
    via_caf_report = models.BooleanField("par le signalement CAF", default=False)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "saisine CCAPEX"
        ordering = ["referred_on"]

    def __str__(self):
        return f"CCAPEX du {self.referred_on}"


# --- Litigation ------------------------------------------------------------------------------


class LitigationKind(models.TextChoices):
    COMMANDEMENT_PAYER = "commandement_payer", "Commandement de payer"
    ASSIGNATION = "assignation", "Assignation"
    HEARING = "hearing", "Audience"
    JUDGMENT = "judgment", "Jugement"
    COMMANDEMENT_QUITTER = "commandement_quitter", "Commandement de quitter les lieux"
    CONCOURS = "concours", "Demande de concours de la force publique"
    EVICTION = "eviction", "Expulsion"


LITIGATION_ORDER = list(LitigationKind.values)


class LitigationStep(models.Model):
    case = models.ForeignKey(ArrearsCase, on_delete=models.PROTECT, related_name="litigation_steps")
    kind = models.CharField("étape", max_length=24, choices=LitigationKind.choices)
    position = models.PositiveSmallIntegerField()
    done_on = models.DateField("date")
    deadline = models.DateField("échéance légale", null=True, blank=True)
    deadline_label = models.CharField(max_length=150, blank=True)
    prefet_notified_on = models.DateField("notifiée au préfet le", null=True, blank=True)
    termination = models.BooleanField("résiliation prononcée", default=False)
    payment_delay_months = models.PositiveSmallIntegerField("délais de paiement (mois)", default=0)
    judgment_amount = models.DecimalField("condamnation", null=True, blank=True, **MONEY)
    cost = models.DecimalField("frais de procédure", default=ZERO, **MONEY)
    debt = models.DecimalField("dette à la date", **MONEY)
    by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "étape contentieuse"
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["case", "kind"], name="litigation_step_unique")]

    def __str__(self):
        return f"{self.get_kind_display()} du {self.done_on}"

    @property
    def doc_code(self) -> str:
        return f"acte-{self.pk}"


class WriteOffStatus(models.TextChoices):
    REQUESTED = "requested", "Demandée"
    APPROVED = "approved", "Approuvée"
    REFUSED = "refused", "Refusée"


class WriteOff(models.Model):
    """Admission en non-valeur: requested by one person, approved by another (four eyes)."""

    case = models.ForeignKey(ArrearsCase, on_delete=models.PROTECT, related_name="write_offs")
    amount = models.DecimalField("montant", **MONEY)
    reason = models.CharField("motif", max_length=255)
    status = models.CharField(max_length=10, choices=WriteOffStatus.choices, default=WriteOffStatus.REQUESTED)
    requested_on = models.DateField()
    requested_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    decided_on = models.DateField(null=True, blank=True)
    decided_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    entry_id = models.BigIntegerField(null=True, blank=True)  # the WRITE_OFF ledger entry

    history = HistoricalRecords()

    class Meta:
        verbose_name = "admission en non-valeur"
        ordering = ["-requested_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="write_off_positive")]

    def __str__(self):
        return f"Non-valeur {self.amount} ({self.get_status_display()})"


def truce_bounds(rule: ArrearsRule, day: date) -> tuple[date, date] | None:
    """The winter truce period containing `day`, or None."""
    start_this = date(day.year, rule.truce_start_month, rule.truce_start_day)
    end_this = date(day.year, rule.truce_end_month, rule.truce_end_day)
    if day >= start_this:
        return start_this, date(day.year + 1, rule.truce_end_month, rule.truce_end_day)
    if day <= end_this:
        return date(day.year - 1, rule.truce_start_month, rule.truce_start_day), end_this
    return None
