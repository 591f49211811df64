"""The tenant ledger, rent notices, billing runs, payments and the dated figures they use."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q, Sum
from django.urls import reverse

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
        indexes = [models.Index(fields=["account", "posted_on", "id"], name="entry_account_date")]
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
