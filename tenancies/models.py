"""The housing stock and the tenancy: the ground floor every other app builds on."""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal
from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from .roles import ALL_AGENCIES_ROLES, Role

MONEY = {"max_digits": 12, "decimal_places": 2}


def normalize_search(text: str) -> str:
    """Upper-case, accent-free, single-spaced: the form names are stored and searched in."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.upper().replace("-", " ").replace("'", " ").split())


class AgencyScopedQuerySet(models.QuerySet):
    """A queryset that knows the path from its model to the agency that manages it."""

    agency_lookup = "agency"

    def for_user(self, user):
        """Rows the user may see: all for direction and administrators, their agencies' otherwise."""
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        if user.sees_all_agencies:
            return self
        return self.filter(**{f"{self.agency_lookup}__in": user.agency_ids})


# --- Territory -------------------------------------------------------------------------------


class Agency(models.Model):
    code = models.CharField("code", max_length=10, unique=True)
    name = models.CharField("nom", max_length=120)
    address = models.CharField("adresse", max_length=255, blank=True)
    phone = models.CharField("téléphone", max_length=20, blank=True)

    class Meta:
        verbose_name = "agence"
        ordering = ["name"]

    def __str__(self):
        return self.name


class User(AbstractUser):
    """A staff member. Roles are auth groups named after `Role` values; agencies are their territory."""

    agencies = models.ManyToManyField(Agency, blank=True, related_name="staff", verbose_name="agences")

    # Who changed a role or a territory, and when (issue 8); never the password hash.
    history = HistoricalRecords(excluded_fields=["password", "last_login"], m2m_fields=["groups", "agencies"])

    class Meta:
        verbose_name = "utilisateur"

    @cached_property
    def roles(self) -> frozenset[str]:
        if not self.is_active:
            return frozenset()
        names = frozenset(self.groups.values_list("name", flat=True))
        return names & frozenset(Role.values)

    @cached_property
    def agency_ids(self) -> list[int]:
        return list(self.agencies.values_list("id", flat=True))

    @property
    def sees_all_agencies(self) -> bool:
        return self.is_superuser or bool(self.roles & ALL_AGENCIES_ROLES)

    @property
    def role_labels(self) -> list[str]:
        return [Role(r).label for r in sorted(self.roles)]


# --- Stock -----------------------------------------------------------------------------------


class CeilingZone(models.TextChoices):
    PARIS_LIMITROPHES = "paris_limitrophes", "Paris et communes limitrophes"
    ILE_DE_FRANCE = "idf_hors_paris", "Île-de-France hors Paris et communes limitrophes"
    AUTRES_REGIONS = "autres_regions", "Autres régions"


class AplZone(models.TextChoices):
    I = "I", "Zone I"  # noqa: E741
    II = "II", "Zone II"
    III = "III", "Zone III"


class Commune(models.Model):
    """A commune and the zonings that hang on it (resource ceilings, APL, tense zone)."""

    insee_code = models.CharField("code INSEE", max_length=5, unique=True)
    name = models.CharField("nom", max_length=120)
    postcode = models.CharField("code postal", max_length=5)
    ceiling_zone = models.CharField("zone des plafonds de ressources", max_length=20, choices=CeilingZone.choices)
    apl_zone = models.CharField("zone APL", max_length=3, choices=AplZone.choices)
    # Zone tendue (loi 89 art. 17): 1-month notice, triennial occupancy review.
    tense_zone = models.BooleanField("zone tendue", default=False)

    class Meta:
        verbose_name = "commune"
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.postcode})"


class EstateQuerySet(AgencyScopedQuerySet):
    agency_lookup = "agency"


class Estate(models.Model):
    """A programme / résidence."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="estates", verbose_name="agence")
    code = models.CharField("code", max_length=20, unique=True)
    name = models.CharField("nom", max_length=120)
    commune = models.ForeignKey(Commune, on_delete=models.PROTECT, related_name="estates", verbose_name="commune")
    # Quartier prioritaire de la politique de la ville: SLS exemption, allocation quotas.
    qpv = models.BooleanField("en QPV", default=False)
    built_year = models.PositiveSmallIntegerField("année de construction", null=True, blank=True)

    objects = EstateQuerySet.as_manager()

    class Meta:
        verbose_name = "résidence"
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("tenancies:estate_detail", args=[self.pk])

    @property
    def ceiling_zone(self):
        return self.commune.ceiling_zone

    @property
    def apl_zone(self):
        return self.commune.apl_zone

    @property
    def tense_zone(self):
        return self.commune.tense_zone


class BuildingQuerySet(AgencyScopedQuerySet):
    agency_lookup = "estate__agency"


class Building(models.Model):
    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="buildings", verbose_name="résidence")
    name = models.CharField("bâtiment", max_length=60)
    address = models.CharField("adresse", max_length=255)
    entrance = models.CharField("entrée", max_length=20, blank=True)
    floors = models.PositiveSmallIntegerField("nombre d'étages", default=0)
    has_elevator = models.BooleanField("ascenseur", default=False)

    objects = BuildingQuerySet.as_manager()

    class Meta:
        verbose_name = "bâtiment"
        ordering = ["estate__name", "name"]

    def __str__(self):
        return f"{self.estate.name} – {self.name}"

    def get_absolute_url(self):
        return reverse("tenancies:building_detail", args=[self.pk])


class Typology(models.TextChoices):
    T1 = "T1", "T1"
    T2 = "T2", "T2"
    T3 = "T3", "T3"
    T4 = "T4", "T4"
    T5 = "T5", "T5"
    T6 = "T6", "T6"


class Financing(models.TextChoices):
    PLAI = "PLAI", "PLAI"
    PLUS = "PLUS", "PLUS"
    PLS = "PLS", "PLS"
    PLI = "PLI", "PLI"


class DwellingStatus(models.TextChoices):
    VACANT = "vacant", "Vacant"
    RESERVED = "reserved", "Réservé"
    LET = "let", "Loué"
    WORKS = "works", "Indisponible (travaux)"


class Accessibility(models.TextChoices):
    STANDARD = "standard", "Non adapté"
    ACCESSIBLE = "accessible", "Accessible PMR"
    ADAPTED = "adapted", "Adapté fauteuil roulant"


class Contingent(models.TextChoices):
    PREFET = "prefet", "Préfet"
    ACTION_LOGEMENT = "action_logement", "Action Logement"
    COLLECTIVITE = "collectivite", "Collectivité"
    BAILLEUR = "bailleur", "Bailleur"


class ChargeType(models.Model):
    """A kind of recoverable charge (décret 82-955) with its monthly provision."""

    code = models.CharField("code", max_length=30, unique=True)
    label = models.CharField("libellé", max_length=120)
    position = models.PositiveSmallIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "type de charge"
        verbose_name_plural = "types de charges"
        ordering = ["position", "code"]

    def __str__(self):
        return self.label


class DwellingQuerySet(AgencyScopedQuerySet):
    agency_lookup = "building__estate__agency"

    def with_place(self):
        return self.select_related("building__estate__commune", "building__estate__agency")


class Dwelling(models.Model):
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="dwellings", verbose_name="bâtiment")
    # Upper-case code: "C" order is the same, and the unique index then also serves LIKE 'SA-%'.
    reference = models.CharField("référence", max_length=30, unique=True, db_collation="C")
    typology = models.CharField("typologie", max_length=2, choices=Typology.choices)
    floor = models.SmallIntegerField("étage", default=0)
    door = models.CharField("porte", max_length=10, blank=True)
    living_area = models.DecimalField(
        "surface habitable (m²)", max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("9"))]
    )
    financing = models.CharField("financement", max_length=4, choices=Financing.choices)
    max_rent_per_m2 = models.DecimalField("loyer maximum de la convention (€/m²)", max_digits=8, decimal_places=2)
    rent = models.DecimalField("loyer actuel hors charges", **MONEY)
    status = models.CharField("statut", max_length=10, choices=DwellingStatus.choices, default=DwellingStatus.VACANT)
    accessibility = models.CharField(
        "accessibilité", max_length=12, choices=Accessibility.choices, default=Accessibility.STANDARD
    )
    contingent = models.CharField(
        "contingent de réservation", max_length=20, choices=Contingent.choices, default=Contingent.BAILLEUR
    )
    # Share of the building's common costs (allocation key "tantièmes" of charge regularisation).
    tantiemes = models.PositiveIntegerField("tantièmes", null=True, blank=True)

    objects = DwellingQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "logement"
        ordering = ["reference"]
        indexes = [
            models.Index(fields=["status", "reference"], name="dwelling_status_ref"),
            models.Index(fields=["typology", "reference"], name="dwelling_typology_ref"),
            models.Index(fields=["financing", "reference"], name="dwelling_financing_ref"),
            GinIndex(OpClass("reference", name="gin_trgm_ops"), name="dwelling_reference_trgm"),
        ]

    def __str__(self):
        return self.reference

    def get_absolute_url(self):
        return reverse("tenancies:dwelling_detail", args=[self.pk])

    @property
    def max_rent(self) -> Decimal:
        """The convention's ceiling for this dwelling: €/m² × living area, to the cent."""
        return (self.max_rent_per_m2 * self.living_area).quantize(Decimal("0.01"))

    @property
    def floor_label(self) -> str:
        return "RDC" if self.floor == 0 else f"{self.floor}e"


class DwellingCharge(models.Model):
    """The current monthly charge provision of a dwelling, per charge type."""

    dwelling = models.ForeignKey(Dwelling, on_delete=models.CASCADE, related_name="charges")
    charge_type = models.ForeignKey(ChargeType, on_delete=models.PROTECT, verbose_name="type de charge")
    monthly_amount = models.DecimalField("provision mensuelle", **MONEY)

    class Meta:
        verbose_name = "provision de charges du logement"
        constraints = [models.UniqueConstraint(fields=["dwelling", "charge_type"], name="dwelling_charge_unique")]

    def __str__(self):
        return f"{self.charge_type}: {self.monthly_amount} €"


class AnnexKind(models.TextChoices):
    PARKING = "parking", "Place de parking"
    GARAGE = "garage", "Garage / box"
    CELLAR = "cellar", "Cave"


class AnnexQuerySet(AgencyScopedQuerySet):
    agency_lookup = "estate__agency"


class Annex(models.Model):
    """A parking space, garage or cellar, let with its own rent and attachable to a lease."""

    estate = models.ForeignKey(Estate, on_delete=models.PROTECT, related_name="annexes", verbose_name="résidence")
    reference = models.CharField("référence", max_length=30, unique=True)
    kind = models.CharField("type", max_length=10, choices=AnnexKind.choices)
    rent = models.DecimalField("loyer mensuel", **MONEY)

    objects = AnnexQuerySet.as_manager()

    class Meta:
        verbose_name = "annexe"
        ordering = ["reference"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.reference}"


# --- Households ------------------------------------------------------------------------------


class HouseholdQuerySet(AgencyScopedQuerySet):
    agency_lookup = "agency"


class Household(models.Model):
    """A household (ménage): the people living together, managed by one agency."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="households", verbose_name="agence")
    created_at = models.DateTimeField("créé le", auto_now_add=True)

    objects = HouseholdQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "ménage"

    def __str__(self):
        return self.display_name

    def get_absolute_url(self):
        return reverse("tenancies:household_detail", args=[self.pk])

    @property
    def display_name(self) -> str:
        """Names of the tenants (holders first), from the prefetched people when available."""
        people = sorted(self.people.all(), key=lambda p: (p.role_order, p.pk or 0))
        holders = [p for p in people if p.is_cotenant] or people[:1]
        return " et ".join(p.full_name for p in holders) or f"Ménage n° {self.pk}"


class Civility(models.TextChoices):
    MONSIEUR = "M", "M."
    MADAME = "MME", "Mme"
    NONE = "", "—"


class PersonRole(models.TextChoices):
    TITULAIRE = "titulaire", "Titulaire du bail"
    COTITULAIRE = "cotitulaire", "Cotitulaire du bail"
    CONJOINT = "conjoint", "Conjoint(e) non signataire"
    ENFANT = "enfant", "Enfant"
    ASCENDANT = "ascendant", "Ascendant"
    AUTRE = "autre", "Autre occupant"


_ROLE_ORDER = {r: i for i, r in enumerate(PersonRole.values)}


class PersonQuerySet(AgencyScopedQuerySet):
    agency_lookup = "household__agency"


class Person(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="people", verbose_name="ménage")
    civility = models.CharField("civilité", max_length=3, choices=Civility.choices, blank=True)
    last_name = models.CharField("nom", max_length=100)
    first_name = models.CharField("prénom", max_length=100)
    birth_date = models.DateField("date de naissance", null=True, blank=True)
    role = models.CharField("rôle dans le ménage", max_length=12, choices=PersonRole.choices)
    phone = models.CharField("téléphone", max_length=20, blank=True)
    email = models.EmailField("courriel", blank=True)
    address = models.CharField("adresse postale", max_length=255, blank=True)
    postcode = models.CharField("code postal", max_length=5, blank=True)
    city = models.CharField("ville", max_length=120, blank=True)
    # "NOM PRENOM" upper-case without accents; kept in step by save() and the bulk loaders.
    search_name = models.TextField(editable=False, default="", db_collation="C")

    objects = PersonQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "personne"
        ordering = ["household", "id"]
        indexes = [
            GinIndex(OpClass("search_name", name="gin_trgm_ops"), name="person_search_trgm"),
            # LIKE 'DUPONT%' ORDER BY search_name LIMIT 50: needs the "C" collation to use a btree.
            models.Index(fields=["search_name"], name="person_search_name"),
        ]

    def __str__(self):
        return self.full_name

    def save(self, *args, **kwargs):
        self.search_name = self.build_search_name(self.last_name, self.first_name)
        super().save(*args, **kwargs)

    @staticmethod
    def build_search_name(last_name: str, first_name: str) -> str:
        return normalize_search(f"{last_name} {first_name}")

    @property
    def full_name(self) -> str:
        civility = f"{self.get_civility_display()} " if self.civility else ""
        return f"{civility}{self.last_name.upper()} {self.first_name}"

    @property
    def is_cotenant(self) -> bool:
        return self.role in (PersonRole.TITULAIRE, PersonRole.COTITULAIRE)

    @property
    def role_order(self) -> int:
        return _ROLE_ORDER.get(self.role, 99)

    def age_on(self, day: date) -> int | None:
        if not self.birth_date:
            return None
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


# --- Leases ----------------------------------------------------------------------------------


class LeaseStatus(models.TextChoices):
    DRAFT = "draft", "Projet"
    SIGNED = "signed", "Signé"
    ACTIVE = "active", "En cours"
    NOTICE_GIVEN = "notice_given", "Préavis en cours"
    ENDED = "ended", "Terminé"
    CANCELLED = "cancelled", "Abandonné"


# The only legal moves; lease_transition() refuses anything else.
LEASE_TRANSITIONS: dict[str, frozenset[str]] = {
    LeaseStatus.DRAFT: frozenset({LeaseStatus.SIGNED, LeaseStatus.CANCELLED}),
    LeaseStatus.SIGNED: frozenset({LeaseStatus.ACTIVE, LeaseStatus.CANCELLED}),
    LeaseStatus.ACTIVE: frozenset({LeaseStatus.NOTICE_GIVEN, LeaseStatus.ENDED}),
    LeaseStatus.NOTICE_GIVEN: frozenset({LeaseStatus.ACTIVE, LeaseStatus.ENDED}),
    LeaseStatus.ENDED: frozenset(),
    LeaseStatus.CANCELLED: frozenset(),
}

# Leases that hold the dwelling: at most one per dwelling at a time.
CURRENT_LEASE_STATUSES = (LeaseStatus.SIGNED, LeaseStatus.ACTIVE, LeaseStatus.NOTICE_GIVEN)


class PaymentMethod(models.TextChoices):
    TRANSFER = "transfer", "Virement"
    DIRECT_DEBIT = "direct_debit", "Prélèvement SEPA"
    CHEQUE = "cheque", "Chèque"
    TIP = "tip", "TIP / carte bancaire"
    CASH = "cash", "Espèces (mandat cash)"


class CommandementDelay(models.TextChoices):
    """Delay before the clause résolutoire takes effect after a commandement de payer.

    Loi 2023-668 shortened it from 2 months to 6 weeks from 29 July 2023; whether older leases
    keep 2 months is disputed (DOMAIN.md §4.2.4), so the delay is stored per lease.
    """

    SIX_WEEKS = "6_weeks", "6 semaines"
    TWO_MONTHS = "2_months", "2 mois"


class LeaseQuerySet(AgencyScopedQuerySet):
    agency_lookup = "dwelling__building__estate__agency"

    def current(self):
        return self.filter(status__in=CURRENT_LEASE_STATUSES)

    def active_on(self, day: date):
        return (
            self.filter(starts_on__lte=day)
            .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
            .exclude(status__in=[LeaseStatus.DRAFT, LeaseStatus.CANCELLED])
        )


class Lease(models.Model):
    number = models.CharField("numéro de bail", max_length=20, unique=True)
    dwelling = models.ForeignKey(Dwelling, on_delete=models.PROTECT, related_name="leases", verbose_name="logement")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="leases", verbose_name="ménage")
    annexes = models.ManyToManyField(Annex, through="LeaseAnnex", blank=True, related_name="leases")
    status = models.CharField("statut", max_length=12, choices=LeaseStatus.choices, default=LeaseStatus.DRAFT)
    signed_on = models.DateField("signé le", null=True, blank=True)
    starts_on = models.DateField("date d'effet")
    ends_on = models.DateField("date de fin", null=True, blank=True)
    rent = models.DecimalField("loyer mensuel hors charges", **MONEY)
    deposit = models.DecimalField("dépôt de garantie", **MONEY)
    payment_method = models.CharField(
        "mode de paiement", max_length=12, choices=PaymentMethod.choices, default=PaymentMethod.TRANSFER
    )
    commandement_delay = models.CharField(
        "délai du commandement de payer",
        max_length=10,
        choices=CommandementDelay.choices,
        default=CommandementDelay.SIX_WEEKS,
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)

    objects = LeaseQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "bail"
        verbose_name_plural = "baux"
        ordering = ["-starts_on", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["dwelling"],
                condition=Q(status__in=CURRENT_LEASE_STATUSES),
                name="one_current_lease_per_dwelling",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="lease_ends_after_start",
            ),
            models.CheckConstraint(condition=Q(rent__gte=0) & Q(deposit__gte=0), name="lease_amounts_positive"),
        ]
        indexes = [
            models.Index(fields=["household", "-starts_on"], name="lease_household_start"),
            models.Index(fields=["dwelling", "-starts_on"], name="lease_dwelling_start"),
            models.Index(fields=["status", "number"], name="lease_status_number"),
        ]

    def __str__(self):
        return f"Bail {self.number}"

    def get_absolute_url(self):
        return reverse("tenancies:lease_detail", args=[self.pk])

    @property
    def allowed_transitions(self) -> list[str]:
        return [s for s in LeaseStatus.values if s in LEASE_TRANSITIONS[self.status]]

    @property
    def charges_total(self) -> Decimal:
        return sum((c.monthly_amount for c in self.charges.all()), Decimal("0.00"))

    @property
    def annexes_rent_total(self) -> Decimal:
        return sum((a.rent for a in self.lease_annexes.all()), Decimal("0.00"))

    @property
    def total_monthly(self) -> Decimal:
        return self.rent + self.annexes_rent_total + self.charges_total


class LeaseCharge(models.Model):
    """A monthly charge provision written into the lease, per charge type."""

    lease = models.ForeignKey(Lease, on_delete=models.CASCADE, related_name="charges")
    charge_type = models.ForeignKey(ChargeType, on_delete=models.PROTECT, verbose_name="type de charge")
    monthly_amount = models.DecimalField("provision mensuelle", **MONEY)

    class Meta:
        verbose_name = "provision de charges du bail"
        ordering = ["charge_type__position"]
        constraints = [models.UniqueConstraint(fields=["lease", "charge_type"], name="lease_charge_unique")]

    def __str__(self):
        return f"{self.charge_type}: {self.monthly_amount} €"


class LeaseAnnex(models.Model):
    """An annex attached to a lease, with its rent frozen at attachment."""

    lease = models.ForeignKey(Lease, on_delete=models.CASCADE, related_name="lease_annexes")
    annex = models.ForeignKey(Annex, on_delete=models.PROTECT, related_name="lease_annexes", verbose_name="annexe")
    rent = models.DecimalField("loyer mensuel", **MONEY)

    class Meta:
        verbose_name = "annexe du bail"
        constraints = [models.UniqueConstraint(fields=["lease", "annex"], name="lease_annex_unique")]

    def __str__(self):
        return f"{self.annex}: {self.rent} €"


class LeaseTransition(models.Model):
    """One move of a lease's status: who, when, why."""

    lease = models.ForeignKey(Lease, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField("de", max_length=12, choices=LeaseStatus.choices, blank=True)
    to_status = models.CharField("vers", max_length=12, choices=LeaseStatus.choices)
    at = models.DateTimeField("le", auto_now_add=True)
    by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="par")
    reason = models.CharField("motif", max_length=255, blank=True)

    class Meta:
        verbose_name = "changement de statut du bail"
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.from_status or '-'} -> {self.to_status}"


class ResourceCeiling(models.Model):
    """Annual resource ceiling (revenu fiscal de référence, €) by financing, zone and household
    category (arrêté du 29 juillet 1987 modifié). Category "+" is the amount per extra person."""

    valid_from = models.DateField("en vigueur le")
    financing = models.CharField("financement", max_length=4, choices=Financing.choices)
    zone = models.CharField("zone", max_length=20, choices=CeilingZone.choices)
    category = models.CharField("catégorie de ménage", max_length=2)  # "1" … "6", "+"
    amount = models.DecimalField("plafond annuel", **MONEY)
    confidence = models.CharField("fiabilité de la source", max_length=5, blank=True)

    class Meta:
        verbose_name = "plafond de ressources"
        verbose_name_plural = "plafonds de ressources"
        constraints = [
            models.UniqueConstraint(fields=["valid_from", "financing", "zone", "category"], name="ceiling_unique")
        ]

    def __str__(self):
        return f"Plafond {self.financing} {self.zone} cat. {self.category} {self.valid_from}: {self.amount}"


class LegalDelay(models.Model):
    """A dated legal delay (DOMAIN.md §5.4 "DelaisLegaux"): a change of law is a new row.

    Read through tenancies.legal_dates.legal_period(code, on=...)."""

    code = models.CharField("code", max_length=40)
    valid_from = models.DateField("en vigueur le")
    days = models.PositiveSmallIntegerField("jours", default=0)
    weeks = models.PositiveSmallIntegerField("semaines", default=0)
    months = models.PositiveSmallIntegerField("mois", default=0)
    label = models.CharField("libellé", max_length=200)
    source = models.CharField("texte", max_length=200, blank=True)

    class Meta:
        verbose_name = "délai légal"
        verbose_name_plural = "délais légaux"
        constraints = [models.UniqueConstraint(fields=["code", "valid_from"], name="legal_delay_unique")]

    def __str__(self):
        return f"{self.label} ({self.period}, depuis le {self.valid_from:%d/%m/%Y})"

    @property
    def period(self):
        from tenancies.legal_dates import Period

        return Period(days=self.days, weeks=self.weeks, months=self.months)


class ReadLog(models.Model):
    """One row each time a sensitive record (application file, committee case file, litigation
    file) is opened. It holds no personal data: who (the staff account), when, which record."""

    at = models.DateTimeField("le", auto_now_add=True, db_index=True)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="par")
    record_type = models.CharField("type de dossier", max_length=60)  # "app_label.model"
    record_id = models.BigIntegerField("identifiant")
    purpose = models.CharField("contexte", max_length=60, blank=True)  # e.g. "caleol", "fiche"

    class Meta:
        verbose_name = "consultation de dossier"
        verbose_name_plural = "consultations de dossiers"
        indexes = [models.Index(fields=["record_type", "record_id"], name="readlog_record")]

    def __str__(self):
        return f"{self.record_type}#{self.record_id} lu le {self.at:%d/%m/%Y %H:%M}"
