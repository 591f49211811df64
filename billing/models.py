"""The tenant ledger, rent notices, billing runs, payments and the dated figures they use."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q, Sum
from django.urls import reverse
from simple_history.models import HistoricalRecords

from tenancies.models import MONEY, AgencyScopedQuerySet, AplZone, ChargeType, Lease

ZERO = Decimal("0.00")


class EntryKind(models.TextChoices):
    RENT = "rent", "Loyer"
    ANNEX_RENT = "annex_rent", "Loyer annexe"
    CHARGE = "charge", "Provision pour charges"
    SLS = "sls", "Supplément de loyer de solidarité"
    RLS = "rls", "Réduction de loyer de solidarité"
    APL = "apl", "APL versée par la CAF"
    PAYMENT = "payment", "Paiement"
    DEPOSIT = "deposit", "Dépôt de garantie"
    REPAIRS = "repairs", "Réparations locatives"
    REGULARISATION = "regularisation", "Régularisation de charges"
    FEE = "fee", "Frais"
    # Move-out (issue 5) and arrears (issue 6).
    DEPOSIT_RETURN = "deposit_return", "Imputation du dépôt de garantie"
    REFUND = "refund", "Remboursement au locataire"
    PENALTY = "penalty", "Majoration pour restitution tardive"
    PROCEDURE = "procedure", "Frais de procédure"
    WRITE_OFF = "write_off", "Admission en non-valeur"
    ADJUSTMENT = "adjustment", "Ajustement manuel"
    REVERSAL = "reversal", "Contre-passation"


# Kinds that are rent "en principal" on a quittance (loi 89 art. 21 splits rent and charges).
RENT_KINDS = frozenset({EntryKind.RENT, EntryKind.ANNEX_RENT, EntryKind.SLS, EntryKind.RLS})


class AccountQuerySet(AgencyScopedQuerySet):
    agency_lookup = "lease__dwelling__building__estate__agency"


class Account(models.Model):
    """A lease's tenant account. `balance` caches Σ(debit − credit) of its entries.

    The cache is only written by billing.ledger.post_entries, under a row lock, in the same
    transaction as the entries; `manage.py reconcile_ledger` checks it against the entries.
    A positive balance is owed by the tenant.
    """

    lease = models.OneToOneField(Lease, on_delete=models.PROTECT, related_name="account", verbose_name="bail")
    balance = models.DecimalField("solde", default=ZERO, **MONEY)
    # Set by a direct-debit rejection or a broken plan; read by the arrears team.
    flagged_for_arrears = models.BooleanField("signalé au recouvrement", default=False)

    objects = AccountQuerySet.as_manager()

    class Meta:
        verbose_name = "compte locataire"

    def __str__(self):
        return f"Compte du bail {self.lease.number}"


class LedgerEntryQuerySet(AgencyScopedQuerySet):
    agency_lookup = "account__lease__dwelling__building__estate__agency"

    def balance(self) -> Decimal:
        totals = self.aggregate(d=Sum("debit", default=ZERO), c=Sum("credit", default=ZERO))
        return totals["d"] - totals["c"]


class LedgerEntry(models.Model):
    """One posted movement on an account. Never updated nor deleted: the database refuses it."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    posted_on = models.DateField("date")
    period = models.DateField("période", null=True, blank=True)  # first day of the billed month
    kind = models.CharField("nature", max_length=16, choices=EntryKind.choices)
    label = models.CharField("libellé", max_length=255)
    debit = models.DecimalField("débit", default=ZERO, **MONEY)
    credit = models.DecimalField("crédit", default=ZERO, **MONEY)
    charge_type = models.ForeignKey(ChargeType, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    notice = models.ForeignKey("RentNotice", on_delete=models.PROTECT, null=True, blank=True, related_name="entries")
    payment = models.ForeignKey("Payment", on_delete=models.PROTECT, null=True, blank=True, related_name="entries")
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        verbose_name = "écriture"
        ordering = ["posted_on", "id"]
        indexes = [
            models.Index(fields=["account", "posted_on", "id"], name="entry_account_date"),
            models.Index(fields=["posted_on"], name="entry_posted_on"),  # accounting export by period
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(debit__gt=0) & Q(credit=0)) | (Q(debit=0) & Q(credit__gt=0)),
                name="entry_debit_xor_credit",
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="ledger_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            )
        ]

    def __str__(self):
        return f"{self.posted_on} {self.label} {self.debit or -self.credit}"

    @property
    def amount(self) -> Decimal:
        """Signed amount: positive when the tenant owes it."""
        return self.debit - self.credit


# --- Dated figures ---------------------------------------------------------------------------


class RlsComposition(models.TextChoices):
    SINGLE = "single", "Personne seule"
    COUPLE = "couple", "Couple sans personne à charge"
    ONE_DEPENDANT = "one_dependant", "Personne seule ou couple avec une personne à charge"
    PER_EXTRA_DEPENDANT = "per_extra_dependant", "Par personne à charge supplémentaire"


class RlsAmount(models.Model):
    """Monthly RLS by APL zone and household composition (arrêté du 27 février 2018 modifié)."""

    valid_from = models.DateField("en vigueur le")
    apl_zone = models.CharField("zone APL", max_length=3, choices=AplZone.choices)
    composition = models.CharField("composition", max_length=24, choices=RlsComposition.choices)
    monthly_amount = models.DecimalField("montant mensuel", **MONEY)
    source = models.CharField("source", max_length=255, blank=True)

    class Meta:
        verbose_name = "montant de RLS"
        verbose_name_plural = "montants de RLS"
        constraints = [
            models.UniqueConstraint(fields=["valid_from", "apl_zone", "composition"], name="rls_amount_unique")
        ]

    def __str__(self):
        return f"RLS {self.apl_zone} {self.composition} {self.valid_from}: {self.monthly_amount}"


class RlsCeiling(models.Model):
    """Monthly resource ceiling under which the RLS applies, by APL zone and composition."""

    valid_from = models.DateField("en vigueur le")
    apl_zone = models.CharField("zone APL", max_length=3, choices=AplZone.choices)
    # "single", "couple", "dependants_1" … "dependants_6", "per_extra_dependant"
    composition = models.CharField("composition", max_length=24)
    monthly_resources = models.DecimalField("ressources mensuelles", **MONEY)
    source = models.CharField("source", max_length=255, blank=True)

    class Meta:
        verbose_name = "plafond de ressources RLS"
        verbose_name_plural = "plafonds de ressources RLS"
        constraints = [
            models.UniqueConstraint(fields=["valid_from", "apl_zone", "composition"], name="rls_ceiling_unique")
        ]

    def __str__(self):
        return f"Plafond RLS {self.apl_zone} {self.composition} {self.valid_from}"


class IrlIndex(models.Model):
    """INSEE rent reference index, by quarter (the 2nd quarter caps the 1 January revision)."""

    year = models.PositiveSmallIntegerField("année")
    quarter = models.PositiveSmallIntegerField("trimestre")
    value = models.DecimalField("valeur", max_digits=8, decimal_places=2)
    source = models.CharField("source", max_length=255, blank=True)

    class Meta:
        verbose_name = "indice de référence des loyers"
        ordering = ["year", "quarter"]
        constraints = [models.UniqueConstraint(fields=["year", "quarter"], name="irl_unique")]

    def __str__(self):
        return f"IRL T{self.quarter} {self.year} = {self.value}"


# --- Housing benefit expected on the notices ---------------------------------------------------


class BenefitSource(models.TextChoices):
    CAF = "caf", "CAF (tiers payant)"
    LANDLORD = "landlord", "Calcul du bailleur"


class BenefitQuerySet(models.QuerySet):
    def covering(self, day: date):
        return self.filter(valid_from__lte=day).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))


class HousingBenefit(models.Model):
    """The APL paid to the landlord and the RLS applied for a lease, over a validity period.

    For APL beneficiaries the CAF statement gives both (the APL is already cut by 98 % of the
    RLS); for other tenants the landlord computes the RLS from the dated tables.
    """

    lease = models.ForeignKey(Lease, on_delete=models.PROTECT, related_name="benefits", verbose_name="bail")
    valid_from = models.DateField("à partir du")
    valid_to = models.DateField("jusqu'au", null=True, blank=True)
    apl_amount = models.DecimalField("APL mensuelle (tiers payant)", default=ZERO, **MONEY)
    rls_amount = models.DecimalField("RLS mensuelle", default=ZERO, **MONEY)
    source = models.CharField("origine", max_length=10, choices=BenefitSource.choices)
    allocataire_number = models.CharField("n° allocataire", max_length=20, blank=True)

    objects = BenefitQuerySet.as_manager()

    history = HistoricalRecords()

    class Meta:
        verbose_name = "aide au logement"
        ordering = ["lease", "-valid_from"]
        indexes = [models.Index(fields=["lease", "valid_from"], name="benefit_lease_from")]
        constraints = [
            models.CheckConstraint(condition=Q(apl_amount__gte=0) & Q(rls_amount__gte=0), name="benefit_positive"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")), name="benefit_dates"
            ),
        ]

    def __str__(self):
        return f"Aides du bail {self.lease_id} depuis {self.valid_from}"


class SlsCharge(models.Model):
    """A supplément de loyer de solidarité due monthly over a period (from the annual survey)."""

    lease = models.ForeignKey(Lease, on_delete=models.PROTECT, related_name="sls_charges", verbose_name="bail")
    valid_from = models.DateField("à partir du")
    valid_to = models.DateField("jusqu'au", null=True, blank=True)
    monthly_amount = models.DecimalField("SLS mensuel", **MONEY)
    reason = models.CharField("motif", max_length=255, blank=True)

    objects = BenefitQuerySet.as_manager()

    history = HistoricalRecords()

    class Meta:
        verbose_name = "supplément de loyer de solidarité"
        constraints = [models.CheckConstraint(condition=Q(monthly_amount__gt=0), name="sls_positive")]

    def __str__(self):
        return f"SLS du bail {self.lease_id} depuis {self.valid_from}"


# --- Billing runs and notices ----------------------------------------------------------------


class RunStatus(models.TextChoices):
    RUNNING = "running", "En cours"
    DONE = "done", "Terminé"
    FAILED = "failed", "Échec"


class BillingRun(models.Model):
    """One launch of the monthly billing for a period. At most one runs per period at a time."""

    period = models.DateField("période")
    status = models.CharField("statut", max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    launched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    launched_at = models.DateTimeField("lancé le", auto_now_add=True)
    # The business date of the run: the notices' issue date and the ledger entries' date.
    issued_on = models.DateField("date d'émission")
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)
    lease_count = models.PositiveIntegerField("baux à facturer", default=0)
    chunk_count = models.PositiveIntegerField(default=0)
    notice_count = models.PositiveIntegerField("avis émis", default=0)
    already_billed_count = models.PositiveIntegerField("déjà facturés", default=0)
    failure_count = models.PositiveIntegerField("échecs", default=0)
    total_due = models.DecimalField("total à payer", default=ZERO, **MONEY)
    totals_by_agency = models.JSONField("totaux par agence", default=list, blank=True)

    class Meta:
        verbose_name = "quittancement"
        ordering = ["-launched_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["period"], condition=Q(status="running"), name="one_running_billing_run_per_period"
            )
        ]

    def __str__(self):
        return f"Quittancement {self.period:%m/%Y}"

    def get_absolute_url(self):
        return reverse("billing:run_detail", args=[self.pk])

    @property
    def duration(self):
        return (self.finished_at - self.launched_at) if self.finished_at else None


class BillingChunk(models.Model):
    """A slice of a run's leases, processed in one transaction by one task; done once."""

    run = models.ForeignKey(BillingRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    lease_ids = models.JSONField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="billing_chunk_unique")]

    def __str__(self):
        return f"Lot {self.index} du quittancement {self.run_id}"


class BillingFailure(models.Model):
    run = models.ForeignKey(BillingRun, on_delete=models.CASCADE, related_name="failures")
    lease = models.ForeignKey(Lease, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField("motif")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "lease"], name="billing_failure_unique")]

    def __str__(self):
        return f"Échec bail {self.lease_id}: {self.reason}"


class RentNoticeQuerySet(AgencyScopedQuerySet):
    agency_lookup = "lease__dwelling__building__estate__agency"


class RentNotice(models.Model):
    """The avis d'échéance of one lease for one month. Lines and totals are frozen at issue."""

    lease = models.ForeignKey(Lease, on_delete=models.PROTECT, related_name="notices", verbose_name="bail")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="notices")
    period = models.DateField("période")
    run = models.ForeignKey(BillingRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="notices")
    issued_on = models.DateField("émis le")
    due_on = models.DateField("échéance")
    days_billed = models.PositiveSmallIntegerField("jours facturés")
    days_in_month = models.PositiveSmallIntegerField("jours du mois")
    rent_amount = models.DecimalField("loyer (annexes et SLS compris, RLS déduite)", **MONEY)
    charges_amount = models.DecimalField("provisions pour charges", **MONEY)
    apl_amount = models.DecimalField("APL versée par la CAF", **MONEY)
    amount_due = models.DecimalField("reste à payer", **MONEY)

    objects = RentNoticeQuerySet.as_manager()

    class Meta:
        verbose_name = "avis d'échéance"
        verbose_name_plural = "avis d'échéance"
        ordering = ["-period"]
        constraints = [models.UniqueConstraint(fields=["lease", "period"], name="one_notice_per_lease_and_period")]
        indexes = [models.Index(fields=["period", "lease"], name="notice_period_lease")]
        triggers = [pgtrigger.Protect(name="notice_frozen", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self):
        return f"Avis {self.period:%m/%Y} du bail {self.lease_id}"

    def get_absolute_url(self):
        return reverse("billing:notice_pdf", args=[self.pk])

    @property
    def total_charged(self) -> Decimal:
        """What the notice asks in all, before the CAF's share."""
        return self.rent_amount + self.charges_amount


class RentNoticeLine(models.Model):
    notice = models.ForeignKey(RentNotice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16, choices=EntryKind.choices)
    label = models.CharField(max_length=255)
    amount = models.DecimalField(**MONEY)  # positive: owed by the tenant; negative: a deduction
    charge_type = models.ForeignKey(ChargeType, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["notice", "position"], name="notice_line_unique")]

    def __str__(self):
        return f"{self.label}: {self.amount}"


# --- Payments --------------------------------------------------------------------------------


class PaymentMethod(models.TextChoices):
    TRANSFER = "transfer", "Virement"
    CHEQUE = "cheque", "Chèque"
    CASH = "cash", "Espèces"
    DIRECT_DEBIT = "direct_debit", "Prélèvement"
    TIP = "tip", "TIP / carte bancaire"
    CAF = "caf", "Versement CAF"


class PaymentQuerySet(AgencyScopedQuerySet):
    agency_lookup = "account__lease__dwelling__building__estate__agency"


class Payment(models.Model):
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="payments")
    received_on = models.DateField("reçu le")
    amount = models.DecimalField("montant", **MONEY)
    method = models.CharField("mode", max_length=12, choices=PaymentMethod.choices)
    reference = models.CharField("référence", max_length=100, blank=True)
    # One-time token carried by the form: a double submission records one payment.
    idempotency_key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = "paiement"
        ordering = ["-received_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payment_positive")]

    def __str__(self):
        return f"Paiement {self.amount} du {self.received_on}"


class PaymentAllocation(models.Model):
    """The part of a payment that settles a notice (oldest notices first)."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    notice = models.ForeignKey(RentNotice, on_delete=models.PROTECT, related_name="allocations")
    amount = models.DecimalField(**MONEY)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_positive"),
            models.UniqueConstraint(fields=["payment", "notice"], name="allocation_unique"),
        ]

    def __str__(self):
        return f"{self.amount} sur l'avis {self.notice_id}"


# --- Imports: bank statements and the CAF tiers-payant statement --------------------------------


class ImportLineStatus(models.TextChoices):
    MATCHED = "matched", "Rapprochée"
    UNMATCHED = "unmatched", "À traiter"
    DIFFERENCE = "difference", "Écart à vérifier"
    RESOLVED = "resolved", "Traitée à la main"
    IGNORED = "ignored", "Ignorée"


class BankStatement(models.Model):
    """An imported bank statement file; the same file (same SHA-256) is imported once."""

    filename = models.CharField("fichier", max_length=255)
    sha256 = models.CharField(max_length=64, unique=True)
    imported_at = models.DateTimeField("importé le", auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    line_count = models.PositiveIntegerField(default=0)
    matched_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "relevé bancaire"
        ordering = ["-imported_at"]

    def __str__(self):
        return self.filename


class BankStatementLine(models.Model):
    statement = models.ForeignKey(BankStatement, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField("ligne")
    booked_on = models.DateField("date")
    amount = models.DecimalField("montant", **MONEY)
    label = models.CharField("libellé", max_length=255)
    reference = models.CharField("référence", max_length=100, blank=True)
    status = models.CharField("statut", max_length=10, choices=ImportLineStatus.choices)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.CharField("note", max_length=255, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["statement", "line_no"]
        constraints = [models.UniqueConstraint(fields=["statement", "line_no"], name="bank_line_unique")]

    def __str__(self):
        return f"{self.booked_on} {self.amount} {self.label}"


class CafStatement(models.Model):
    """An imported monthly CAF tiers-payant statement (format: docs/caf-statement.md)."""

    period = models.DateField("période")
    filename = models.CharField("fichier", max_length=255)
    sha256 = models.CharField(max_length=64, unique=True)
    imported_at = models.DateTimeField("importé le", auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    line_count = models.PositiveIntegerField(default=0)
    matched_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "état CAF"
        ordering = ["-imported_at"]

    def __str__(self):
        return self.filename


class CafStatementLine(models.Model):
    statement = models.ForeignKey(CafStatement, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField("ligne")
    allocataire_number = models.CharField("n° allocataire", max_length=20)
    tenant_reference = models.CharField("référence locataire", max_length=30)
    period = models.DateField("période")
    apl_amount = models.DecimalField("APL", **MONEY)
    rls_amount = models.DecimalField("RLS", default=ZERO, **MONEY)
    recall_amount = models.DecimalField("rappel", default=ZERO, **MONEY)
    overpayment_amount = models.DecimalField("indu", default=ZERO, **MONEY)
    lease = models.ForeignKey(Lease, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    expected_apl = models.DecimalField("APL attendue", null=True, blank=True, **MONEY)
    status = models.CharField("statut", max_length=10, choices=ImportLineStatus.choices)
    note = models.CharField("note", max_length=255, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["statement", "line_no"]
        constraints = [models.UniqueConstraint(fields=["statement", "line_no"], name="caf_line_unique")]

    def __str__(self):
        return f"{self.tenant_reference} {self.period} {self.apl_amount}"


# --- SEPA direct debit -------------------------------------------------------------------------


class SepaMandate(models.Model):
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="mandates")
    rum = models.CharField("référence unique de mandat (RUM)", max_length=35, unique=True)
    signed_on = models.DateField("signé le")
    debtor_name = models.CharField("titulaire du compte", max_length=70)
    iban = models.CharField("IBAN", max_length=34)
    bic = models.CharField("BIC", max_length=11)
    # FRST until a first debit has been collected, RCUR afterwards.
    first_collected_on = models.DateField("premier prélèvement le", null=True, blank=True)
    revoked_on = models.DateField("révoqué le", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "mandat de prélèvement SEPA"
        ordering = ["-signed_on"]

    def __str__(self):
        return self.rum

    @property
    def sequence(self) -> str:
        return "RCUR" if self.first_collected_on else "FRST"


class DirectDebitRun(models.Model):
    """A collection for one due date: the pain.008.001.02 file sent to the bank."""

    due_on = models.DateField("date d'échéance")
    message_id = models.CharField(max_length=35, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    xml = models.TextField("fichier pain.008")
    count = models.PositiveIntegerField(default=0)
    total = models.DecimalField(default=ZERO, **MONEY)

    class Meta:
        verbose_name = "remise de prélèvements"
        ordering = ["-due_on"]

    def __str__(self):
        return f"Prélèvements du {self.due_on}"


class DirectDebitStatus(models.TextChoices):
    COLLECTED = "collected", "Prélevé"
    REJECTED = "rejected", "Rejeté"


class DirectDebit(models.Model):
    run = models.ForeignKey(DirectDebitRun, on_delete=models.PROTECT, related_name="debits")
    mandate = models.ForeignKey(SepaMandate, on_delete=models.PROTECT, related_name="debits")
    amount = models.DecimalField(**MONEY)
    sequence = models.CharField(max_length=4)
    end_to_end_id = models.CharField(max_length=35, unique=True)
    payment = models.OneToOneField(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="direct_debit"
    )
    status = models.CharField(max_length=10, choices=DirectDebitStatus.choices, default=DirectDebitStatus.COLLECTED)
    reject_code = models.CharField("code rejet", max_length=4, blank=True)
    rejected_on = models.DateField("rejeté le", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "prélèvement"
        constraints = [models.UniqueConstraint(fields=["run", "mandate"], name="one_debit_per_mandate_per_run")]

    def __str__(self):
        return self.end_to_end_id


# --- Yearly operations -------------------------------------------------------------------------


class YearlyStatus(models.TextChoices):
    PREVIEW = "preview", "Aperçu"
    APPLIED = "applied", "Appliqué"


class RentRevision(models.Model):
    """The 1 January rent revision, capped by the IRL of the 2nd quarter of the previous year."""

    effective_on = models.DateField("date d'effet", unique=True)
    irl_reference = models.ForeignKey(IrlIndex, on_delete=models.PROTECT, related_name="+")
    irl_new = models.ForeignKey(IrlIndex, on_delete=models.PROTECT, related_name="+")
    # The board's increase (≤ the IRL variation), e.g. 0.0104 for +1,04 %.
    rate = models.DecimalField("taux voté", max_digits=8, decimal_places=6)
    status = models.CharField(max_length=10, choices=YearlyStatus.choices, default=YearlyStatus.PREVIEW)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "révision des loyers"

    def __str__(self):
        return f"Révision au {self.effective_on}"


class RentRevisionLine(models.Model):
    revision = models.ForeignKey(RentRevision, on_delete=models.CASCADE, related_name="lines")
    lease = models.ForeignKey(Lease, on_delete=models.PROTECT, related_name="+")
    old_rent = models.DecimalField(**MONEY)
    new_rent = models.DecimalField(**MONEY)
    capped_by_convention = models.BooleanField(default=False)

    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["revision", "lease"], name="revision_line_unique")]

    def __str__(self):
        return f"{self.lease_id}: {self.old_rent} -> {self.new_rent}"


class AllocationKey(models.TextChoices):
    LIVING_AREA = "living_area", "Surface habitable"
    EQUAL = "equal", "Parts égales"
    TANTIEMES = "tantiemes", "Tantièmes"


class ChargeRegularisation(models.Model):
    """The yearly regularisation of recoverable charges of one building."""

    building = models.ForeignKey("tenancies.Building", on_delete=models.PROTECT, related_name="charge_regularisations")
    year = models.PositiveSmallIntegerField("exercice")
    status = models.CharField(max_length=10, choices=YearlyStatus.choices, default=YearlyStatus.PREVIEW)
    spread_months = models.PositiveSmallIntegerField("étalement (mois)", default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "régularisation des charges"
        constraints = [models.UniqueConstraint(fields=["building", "year"], name="one_regularisation_per_year")]

    def __str__(self):
        return f"Régularisation {self.year} — {self.building}"


class ChargeCost(models.Model):
    """The actual cost of one charge type for the building and the year, and how it is shared."""

    regularisation = models.ForeignKey(ChargeRegularisation, on_delete=models.CASCADE, related_name="costs")
    charge_type = models.ForeignKey(ChargeType, on_delete=models.PROTECT, related_name="+")
    actual_amount = models.DecimalField("dépense réelle", **MONEY)
    allocation_key = models.CharField("clé de répartition", max_length=12, choices=AllocationKey.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["regularisation", "charge_type"], name="charge_cost_unique")]

    def __str__(self):
        return f"{self.charge_type}: {self.actual_amount}"


class RegularisationLine(models.Model):
    regularisation = models.ForeignKey(ChargeRegularisation, on_delete=models.CASCADE, related_name="lines")
    lease = models.ForeignKey(Lease, on_delete=models.PROTECT, related_name="+")
    charge_type = models.ForeignKey(ChargeType, on_delete=models.PROTECT, related_name="+")
    days_occupied = models.PositiveSmallIntegerField()
    actual_share = models.DecimalField("quote-part réelle", **MONEY)
    provisions_billed = models.DecimalField("provisions appelées", **MONEY)
    balance = models.DecimalField("solde", **MONEY)  # positive: owed by the tenant

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["regularisation", "lease", "charge_type"], name="regularisation_line_unique"
            )
        ]

    def __str__(self):
        return f"{self.lease_id} {self.charge_type_id}: {self.balance}"


class SlsScale(models.Model):
    """The CDPR coefficient by band of excess over the ceiling (CCH R441-21), dated."""

    valid_from = models.DateField("en vigueur le")
    excess_from_pct = models.DecimalField("dépassement à partir de (%)", max_digits=6, decimal_places=2)
    excess_to_pct = models.DecimalField("jusqu'à (%)", max_digits=6, decimal_places=2, null=True, blank=True)
    coefficient_base = models.DecimalField("coefficient au début de la tranche", max_digits=8, decimal_places=4)
    coefficient_per_point = models.DecimalField("coefficient par point de dépassement", max_digits=8, decimal_places=4)
    source = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = "barème du SLS"

    def __str__(self):
        return f"SLS {self.excess_from_pct} % {self.valid_from}"


class SlsReferenceRent(models.Model):
    """The supplément de loyer de référence (€/m²/month) by ceiling zone, dated."""

    valid_from = models.DateField("en vigueur le")
    zone = models.CharField(max_length=20)
    eur_per_m2 = models.DecimalField("€ par m² et par mois", max_digits=6, decimal_places=2)
    source = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = "supplément de loyer de référence"
        constraints = [models.UniqueConstraint(fields=["valid_from", "zone"], name="slr_unique")]

    def __str__(self):
        return f"SLR {self.zone} {self.valid_from}: {self.eur_per_m2}"


class SlsSurveyStatus(models.TextChoices):
    SENT = "sent", "Envoyée"
    ANSWERED = "answered", "Répondue"
    NO_ANSWER = "no_answer", "Sans réponse"


class SlsSurvey(models.Model):
    """A household's answer to the annual resource survey (CCH L441-9) and the SLS it yields."""

    lease = models.ForeignKey(Lease, on_delete=models.PROTECT, related_name="sls_surveys")
    year = models.PositiveSmallIntegerField("année")
    sent_on = models.DateField("envoyée le")
    status = models.CharField(max_length=10, choices=SlsSurveyStatus.choices, default=SlsSurveyStatus.SENT)
    answered_on = models.DateField("répondue le", null=True, blank=True)
    household_resources = models.DecimalField("revenus fiscaux de référence du ménage", null=True, blank=True, **MONEY)
    household_category = models.CharField("catégorie de ménage", max_length=2, blank=True)
    apl_beneficiary = models.BooleanField("bénéficiaire de l'APL", default=False)
    excess_pct = models.DecimalField("dépassement (%)", max_digits=7, decimal_places=2, null=True, blank=True)
    monthly_sls = models.DecimalField("SLS mensuel", null=True, blank=True, **MONEY)
    reason = models.CharField("motif", max_length=255, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "enquête SLS"
        constraints = [models.UniqueConstraint(fields=["lease", "year"], name="one_sls_survey_per_year")]

    def __str__(self):
        return f"Enquête SLS {self.year} — bail {self.lease_id}"
