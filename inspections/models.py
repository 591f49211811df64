"""Move-ins and move-outs: états des lieux room by room, the tenant's notice, the deposit settlement.

Dated reference data (the vétusté grid and the repair price schedule) live here too: a change of
grid or of prices is a new row with a later `valid_from`, never an edit.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from tenancies.models import MONEY, Agency, AgencyScopedQuerySet, Lease

ZERO = Decimal("0.00")
LEASE_AGENCY = "lease__dwelling__building__estate__agency"


# --- Dated reference data --------------------------------------------------------------------


class VetusteRule(models.Model):
    """One line of the grille de vétusté (décret 2016-382 art. 4; accord collectif, loi 86-1290).

    Loaded from inspections/data/vetuste_example_grid.csv (an illustrative consumer-association
    grid, DOMAIN.md §2.2.3): replace it with the grid of the landlord's local collective agreement.
    """

    element_type = models.CharField("type d'élément", max_length=40)
    label = models.CharField("libellé", max_length=120)
    valid_from = models.DateField("en vigueur le")
    lifetime_years = models.PositiveSmallIntegerField("durée de vie (ans)")
    franchise_years = models.PositiveSmallIntegerField("franchise (ans)")
    yearly_abatement_pct = models.DecimalField("abattement annuel (%)", max_digits=5, decimal_places=2)
    residual_share_pct = models.DecimalField(
        "part résiduelle à la charge du locataire (%)", max_digits=5, decimal_places=2
    )
    source = models.CharField("source", max_length=200, blank=True)

    class Meta:
        verbose_name = "ligne de la grille de vétusté"
        verbose_name_plural = "grille de vétusté"
        ordering = ["element_type", "-valid_from"]
        constraints = [models.UniqueConstraint(fields=["element_type", "valid_from"], name="vetuste_rule_unique")]

    def __str__(self):
        return self.label


class RepairPrice(models.Model):
    """A line of the bordereau d'indemnités forfaitaires (dated). The demo rows are example prices."""

    code = models.CharField("code", max_length=40)
    label = models.CharField("libellé", max_length=160)
    element_type = models.CharField("type d'élément (vétusté)", max_length=40, blank=True)
    unit = models.CharField("unité", max_length=20, default="forfait")
    unit_price = models.DecimalField("prix unitaire TTC", **MONEY)
    valid_from = models.DateField("en vigueur le")

    class Meta:
        verbose_name = "prix du bordereau"
        verbose_name_plural = "bordereau des réparations"
        ordering = ["label", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["code", "valid_from"], name="repair_price_unique"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="repair_price_positive"),
        ]

    def __str__(self):
        return f"{self.label} ({self.unit_price} € / {self.unit})"


# --- États des lieux -------------------------------------------------------------------------


class InspectionKind(models.TextChoices):
    ENTRY = "entry", "État des lieux d'entrée"
    PRE_VISIT = "pre_visit", "Visite conseil"
    EXIT = "exit", "État des lieux de sortie"


class InspectionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Planifié"
    IN_PROGRESS = "in_progress", "En cours"
    SIGNED = "signed", "Signé"
    CANCELLED = "cancelled", "Annulé"


INSPECTION_TRANSITIONS: dict[str, frozenset[str]] = {
    InspectionStatus.SCHEDULED: frozenset({InspectionStatus.IN_PROGRESS, InspectionStatus.CANCELLED}),
    InspectionStatus.IN_PROGRESS: frozenset({InspectionStatus.SIGNED, InspectionStatus.CANCELLED}),
    InspectionStatus.SIGNED: frozenset(),
    InspectionStatus.CANCELLED: frozenset(),
}


class Condition(models.TextChoices):
    NEW = "new", "Neuf"
    GOOD = "good", "Bon état"
    FAIR = "fair", "Usure normale"
    POOR = "poor", "Mauvais état"


CONDITION_RANK = {Condition.NEW: 0, Condition.GOOD: 1, Condition.FAIR: 2, Condition.POOR: 3}


class InspectionQuerySet(AgencyScopedQuerySet):
    # Denormalised agency (the lease's, copied at creation): the schedule of a whole agency filters
    # and sorts on this table alone instead of joining lease, dwelling, building and estate.
    agency_lookup = "agency"

    def open(self):
        return self.filter(status__in=[InspectionStatus.SCHEDULED, InspectionStatus.IN_PROGRESS])

    def with_place(self):
        return self.select_related("lease__dwelling__building__estate__agency", "lease__household", "agent")


class Inspection(models.Model):
    """An état des lieux (entry or exit) or a visite conseil, for one lease."""

    lease = models.ForeignKey(Lease, on_delete=models.PROTECT, related_name="inspections", verbose_name="bail")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name="agence")
    kind = models.CharField("type", max_length=10, choices=InspectionKind.choices)
    status = models.CharField(
        "statut", max_length=12, choices=InspectionStatus.choices, default=InspectionStatus.SCHEDULED
    )
    scheduled_at = models.DateTimeField("rendez-vous")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="inspections", verbose_name="agent"
    )
    entry = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="EDL d'entrée"
    )
    water_index = models.DecimalField("index eau (m³)", max_digits=10, decimal_places=1, null=True, blank=True)
    electricity_index = models.DecimalField(
        "index électricité (kWh)", max_digits=10, decimal_places=0, null=True, blank=True
    )
    gas_index = models.DecimalField("index gaz (m³)", max_digits=10, decimal_places=1, null=True, blank=True)
    new_address = models.CharField("nouvelle adresse du locataire", max_length=255, blank=True)
    signed_at = models.DateTimeField("signé le", null=True, blank=True)
    tenant_signatory = models.CharField("signataire pour le locataire", max_length=160, blank=True)
    tenant_signature = models.FileField("signature du locataire", blank=True)
    agent_signature = models.FileField("signature de l'agent", blank=True)
    pdf = models.FileField("PDF", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = InspectionQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["pdf"])

    class Meta:
        verbose_name = "état des lieux"
        verbose_name_plural = "états des lieux"
        ordering = ["-scheduled_at"]
        indexes = [
            models.Index(fields=["scheduled_at"], name="inspection_scheduled"),
            models.Index(fields=["agency", "scheduled_at"], name="inspection_agency_scheduled"),
            models.Index(fields=["agent", "scheduled_at"], name="inspection_agent_scheduled"),
            models.Index(fields=["status", "scheduled_at"], name="inspection_status_scheduled"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["lease", "kind"],
                condition=~Q(status="cancelled") & ~Q(kind="pre_visit"),
                name="one_live_inspection_per_kind",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} — bail {self.lease.number}"

    def get_absolute_url(self):
        return reverse("inspections:inspection_detail", args=[self.pk])

    @property
    def is_frozen(self) -> bool:
        return self.status in (InspectionStatus.SIGNED, InspectionStatus.CANCELLED)

    @property
    def is_exit(self) -> bool:
        return self.kind == InspectionKind.EXIT

    @property
    def signed_on(self):
        from django.utils import timezone

        return timezone.localdate(self.signed_at) if self.signed_at else None


class InspectionTransition(models.Model):
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField("de", max_length=12, blank=True)
    to_status = models.CharField("vers", max_length=12)
    at = models.DateTimeField("le", auto_now_add=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reason = models.CharField("motif", max_length=255, blank=True)

    class Meta:
        verbose_name = "changement de statut d'un état des lieux"
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.from_status or '-'} -> {self.to_status}"


class Room(models.Model):
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="rooms")
    position = models.PositiveSmallIntegerField("ordre")
    name = models.CharField("pièce", max_length=80)
    comment = models.TextField("observations", blank=True)
    saved_at = models.DateTimeField("enregistrée le", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "pièce"
        ordering = ["inspection", "position"]
        constraints = [models.UniqueConstraint(fields=["inspection", "position"], name="room_position_unique")]

    def __str__(self):
        return self.name


class ElementCategory(models.TextChoices):
    FLOOR = "floor", "Sol"
    WALLS = "walls", "Murs"
    CEILING = "ceiling", "Plafond"
    JOINERY = "joinery", "Menuiseries"
    EQUIPMENT = "equipment", "Équipement"


class Element(models.Model):
    """One checked element of a room: its condition now and, on an exit, at entry."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="elements")
    position = models.PositiveSmallIntegerField("ordre")
    category = models.CharField("catégorie", max_length=10, choices=ElementCategory.choices)
    label = models.CharField("élément", max_length=120)
    element_type = models.CharField("type (grille de vétusté)", max_length=40, blank=True)
    condition = models.CharField("état", max_length=6, choices=Condition.choices, blank=True)
    comment = models.CharField("observations", max_length=500, blank=True)
    # Exit EDL only: copied from the entry EDL when the exit starts.
    entry_condition = models.CharField("état à l'entrée", max_length=6, choices=Condition.choices, blank=True)
    entry_comment = models.CharField("observations à l'entrée", max_length=500, blank=True)
    # Start of the vétusté: first letting, or the element's last renewal by the landlord.
    renewed_on = models.DateField("dernière rénovation", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "élément"
        ordering = ["room", "position"]

    def __str__(self):
        return self.label

    @property
    def degraded(self) -> bool:
        """Poor at exit while not poor at entry (or no entry EDL: the tenant is presumed to have
        received it in good condition, C. civ. 1731). Normal wear (usure normale) never counts."""
        if self.condition != Condition.POOR:
            return False
        return self.entry_condition != Condition.POOR


class Photo(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="photos")
    element = models.ForeignKey(Element, on_delete=models.SET_NULL, null=True, blank=True, related_name="photos")
    image = models.FileField("photo")
    thumbnail = models.FileField("vignette")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "photo"
        ordering = ["room", "id"]

    def __str__(self):
        return f"Photo {self.pk} ({self.room})"


class KeyKind(models.TextChoices):
    DOOR = "door", "Clé de la porte d'entrée"
    MAILBOX = "mailbox", "Clé de boîte aux lettres"
    BADGE = "badge", "Badge / vigik des parties communes"
    REMOTE = "remote", "Télécommande de parking"
    CELLAR = "cellar", "Clé de cave"
    OTHER = "other", "Autre"


class KeyHandover(models.Model):
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="keys")
    kind = models.CharField("type", max_length=10, choices=KeyKind.choices)
    count = models.PositiveSmallIntegerField("nombre")
    purpose = models.CharField("usage", max_length=120, blank=True)

    class Meta:
        verbose_name = "clé ou dispositif d'accès"
        ordering = ["inspection", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} × {self.count}"


class Addendum(models.Model):
    """A remark of the tenant on a signed entry EDL (within 10 days): added, never an edit."""

    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="addenda")
    received_on = models.DateField("reçu le")
    text = models.TextField("remarques du locataire")
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "complément du locataire"
        ordering = ["inspection", "received_on", "id"]

    def __str__(self):
        return f"Complément reçu le {self.received_on:%d/%m/%Y}"


# --- Notice (congé) --------------------------------------------------------------------------


class NoticeReason(models.TextChoices):
    STANDARD = "standard", "Cas général (3 mois)"
    TENSE_ZONE = "tense_zone", "Logement en zone tendue"
    FIRST_JOB = "first_job", "Premier emploi"
    TRANSFER = "transfer", "Mutation professionnelle"
    JOB_LOSS = "job_loss", "Perte d'emploi"
    NEW_JOB = "new_job", "Nouvel emploi après une perte d'emploi"
    HEALTH = "health", "Raison de santé"
    RSA_AAH = "rsa_aah", "Bénéficiaire du RSA ou de l'AAH"
    SOCIAL_HOUSING = "social_housing", "Attribution d'un logement social"
    INTERNAL_TRANSFER = "internal_transfer", "Mutation vers un logement du même bailleur"


class NoticeQuerySet(AgencyScopedQuerySet):
    agency_lookup = LEASE_AGENCY


class Notice(models.Model):
    """The tenant's notice (congé, loi 89 art. 15): it runs from its receipt."""

    lease = models.OneToOneField(Lease, on_delete=models.PROTECT, related_name="notice", verbose_name="bail")
    received_on = models.DateField("reçu le")
    reason = models.CharField("motif", max_length=20, choices=NoticeReason.choices)
    delay_code = models.CharField("délai légal appliqué", max_length=40)
    period_label = models.CharField("durée du préavis", max_length=40)
    ends_on = models.DateField("fin du préavis")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = NoticeQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "congé du locataire"
        verbose_name_plural = "congés des locataires"

    def __str__(self):
        return f"Congé du bail {self.lease.number}"


# --- Deposit settlement ----------------------------------------------------------------------


class SettlementStatus(models.TextChoices):
    DRAFT = "draft", "En préparation"
    PENDING_APPROVAL = "pending", "À valider (responsable d'agence)"
    POSTED = "posted", "Arrêté et comptabilisé"
    REFUNDED = "refunded", "Dépôt restitué / soldé"


SETTLEMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    SettlementStatus.DRAFT: frozenset({SettlementStatus.PENDING_APPROVAL, SettlementStatus.POSTED}),
    SettlementStatus.PENDING_APPROVAL: frozenset({SettlementStatus.DRAFT, SettlementStatus.POSTED}),
    SettlementStatus.POSTED: frozenset({SettlementStatus.REFUNDED}),
    SettlementStatus.REFUNDED: frozenset(),
}


class SettlementQuerySet(AgencyScopedQuerySet):
    agency_lookup = LEASE_AGENCY

    def outstanding(self):
        return self.exclude(status=SettlementStatus.REFUNDED)


class Settlement(models.Model):
    """The décompte de sortie: deposit − justified deductions, and the legal refund deadline."""

    lease = models.OneToOneField(Lease, on_delete=models.PROTECT, related_name="settlement", verbose_name="bail")
    exit_inspection = models.ForeignKey(
        Inspection, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="EDL de sortie"
    )
    status = models.CharField("statut", max_length=10, choices=SettlementStatus.choices, default=SettlementStatus.DRAFT)
    keys_returned_on = models.DateField("remise des clés")
    matches_entry = models.BooleanField("sortie conforme à l'entrée")
    deadline = models.DateField("date limite de restitution")
    deposit = models.DecimalField("dépôt de garantie", **MONEY)
    monthly_rent = models.DecimalField("loyer mensuel hors charges", **MONEY)
    provision = models.DecimalField("provision retenue (arrêté des charges)", default=ZERO, **MONEY)
    new_address_known = models.BooleanField("nouvelle adresse connue", default=False)
    balance_after = models.DecimalField("solde du compte après arrêté", null=True, blank=True, **MONEY)
    refund_paid_on = models.DateField("remboursé le", null=True, blank=True)
    penalty = models.DecimalField("majoration de retard", default=ZERO, **MONEY)
    refund_amount = models.DecimalField("montant remboursé", default=ZERO, **MONEY)
    provision_released_on = models.DateField("provision soldée le", null=True, blank=True)
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approval_note = models.CharField("avis du responsable", max_length=255, blank=True)
    posted_on = models.DateField("comptabilisé le", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SettlementQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "décompte de sortie"
        verbose_name_plural = "décomptes de sortie"
        indexes = [models.Index(fields=["status", "deadline"], name="settlement_status_deadline")]
        constraints = [
            models.CheckConstraint(condition=Q(provision__gte=0), name="settlement_provision_positive"),
        ]

    def __str__(self):
        return f"Décompte de sortie du bail {self.lease.number}"

    def get_absolute_url(self):
        return reverse("inspections:settlement_detail", args=[self.pk])


class LineKind(models.TextChoices):
    REPAIR = "repair", "Réparation locative"
    RENT = "rent", "Loyer et charges jusqu'à la fin du préavis"
    OTHER = "other", "Autre élément"


class SettlementLine(models.Model):
    """A deduction (positive: owed by the tenant) or a credit (negative) of the settlement."""

    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField("nature", max_length=8, choices=LineKind.choices)
    entry_kind = models.CharField("nature de l'écriture", max_length=16, blank=True)  # billing EntryKind
    label = models.CharField("libellé", max_length=255)
    element = models.ForeignKey(Element, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    price = models.ForeignKey(RepairPrice, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    quantity = models.DecimalField("quantité", max_digits=8, decimal_places=2, default=Decimal("1"))
    cost = models.DecimalField("coût de la réparation", default=ZERO, **MONEY)
    age_years = models.PositiveSmallIntegerField("âge (ans)", null=True, blank=True)
    abatement_pct = models.DecimalField("vétusté (%)", max_digits=5, decimal_places=2, default=ZERO)
    amount = models.DecimalField("à la charge du locataire", **MONEY)
    # A hand-set amount instead of the computed one: needs the responsable d'agence.
    overridden = models.BooleanField("montant modifié à la main", default=False)
    override_reason = models.CharField("justification", max_length=255, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "ligne du décompte"
        ordering = ["settlement", "kind", "id"]
        constraints = [models.CheckConstraint(condition=Q(cost__gte=0), name="settlement_line_cost_positive")]

    def __str__(self):
        return f"{self.label}: {self.amount} €"
