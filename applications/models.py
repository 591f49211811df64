"""Housing applications (demandes de logement et de mutation), DOMAIN.md §1.

One Application is one demand in the SNE; a mutation is the same object with kind=transfer and a
link to the current lease. Its status moves only through
applications.services.application_transition(), which refuses moves not in TRANSITIONS and writes
an ApplicationTransition row in the same transaction.

Several columns are denormalised on purpose (household_size, category, reference_income,
monthly_income, score): they are what the list, the matching of a vacant dwelling and the
committee filter and sort on, over tens of thousands of rows. They are written only by the
applications services (after every change of the household, the resources or the cotation grid).
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from tenancies.models import MONEY, Agency, AgencyScopedQuerySet, Commune, Contingent, Lease, Typology, User


class ApplicationKind(models.TextChoices):
    NEW = "new", "Demande de logement"
    TRANSFER = "transfer", "Demande de mutation"


class ApplicationStatus(models.TextChoices):
    REGISTERED = "registered", "Enregistrée"
    ACTIVE = "active", "Active"
    RENEWAL_DUE = "renewal_due", "À renouveler"
    UNDER_REVIEW = "under_review", "En instruction"
    PRESENTED = "presented", "Présentée en CALEOL"
    OFFER_SENT = "offer_sent", "Proposition envoyée"
    ACCEPTED = "accepted", "Proposition acceptée (attribuée)"
    REFUSED = "refused", "Proposition refusée"
    LEASE_SIGNED = "lease_signed", "Bail signé"
    CANCELLED = "cancelled", "Radiée"


S = ApplicationStatus
# The only legal moves (DOMAIN.md §1.1). A refused offer, a non-attribution or a candidate not
# reached in the ranking sends the demand back to ACTIVE; it keeps its seniority.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.REGISTERED: frozenset({S.ACTIVE, S.CANCELLED}),
    S.ACTIVE: frozenset({S.RENEWAL_DUE, S.UNDER_REVIEW, S.CANCELLED}),
    S.RENEWAL_DUE: frozenset({S.ACTIVE, S.UNDER_REVIEW, S.CANCELLED}),
    S.UNDER_REVIEW: frozenset({S.PRESENTED, S.ACTIVE, S.RENEWAL_DUE, S.CANCELLED}),
    S.PRESENTED: frozenset({S.OFFER_SENT, S.ACTIVE, S.RENEWAL_DUE, S.CANCELLED}),
    S.OFFER_SENT: frozenset({S.ACCEPTED, S.REFUSED, S.CANCELLED}),
    S.ACCEPTED: frozenset({S.LEASE_SIGNED, S.ACTIVE, S.CANCELLED}),
    S.REFUSED: frozenset({S.ACTIVE, S.RENEWAL_DUE, S.CANCELLED}),
    S.LEASE_SIGNED: frozenset({S.CANCELLED}),
    S.CANCELLED: frozenset(),
}

# Demands that are alive in the SNE (counted as "active" in lists, duplicates, dashboards).
OPEN_STATUSES = (
    S.REGISTERED,
    S.ACTIVE,
    S.RENEWAL_DUE,
    S.UNDER_REVIEW,
    S.PRESENTED,
    S.OFFER_SENT,
    S.ACCEPTED,
    S.REFUSED,
)
# Demands that may be matched to a vacant dwelling.
MATCHABLE_STATUSES = (S.ACTIVE, S.RENEWAL_DUE, S.UNDER_REVIEW, S.REFUSED)


class CancellationReason(models.TextChoices):
    """Radiation causes (CCH R441-2-8)."""

    ATTRIBUTION = "attribution", "Attribution d'un logement (bail signé)"
    RENUNCIATION = "renunciation", "Renonciation du demandeur"
    NOT_RENEWED = "not_renewed", "Non-renouvellement dans le délai"
    INADMISSIBLE = "inadmissible", "Irrecevabilité décidée par la CALEOL"
    UNREACHABLE = "unreachable", "Demandeur injoignable après mise en demeure"
    DUPLICATE = "duplicate", "Doublon d'une autre demande"


class HousingSituation(models.TextChoices):
    SOCIAL_TENANT = "social_tenant", "Locataire du parc social"
    PRIVATE_TENANT = "private_tenant", "Locataire du parc privé"
    HOSTED = "hosted", "Hébergé(e) chez des tiers ou de la famille"
    TEMPORARY = "temporary", "Hébergement temporaire, foyer ou résidence sociale"
    HOMELESS = "homeless", "Sans logement ou habitat de fortune"
    OWNER = "owner", "Propriétaire occupant"
    STUDENT = "student", "Logement étudiant"
    OTHER = "other", "Autre situation"


class RequestReason(models.TextChoices):
    """Reasons of the request (CERFA 14069 "motifs de la demande")."""

    NO_HOUSING = "no_housing", "Sans logement ou hébergé"
    TOO_SMALL = "too_small", "Logement trop petit"
    TOO_BIG = "too_big", "Logement trop grand"
    TOO_EXPENSIVE = "too_expensive", "Logement trop cher"
    UNFIT = "unfit", "Logement indigne, insalubre ou non décent"
    DISABILITY = "disability", "Handicap ou perte d'autonomie"
    EVICTION = "eviction", "Procédure d'expulsion"
    SEPARATION = "separation", "Divorce, séparation"
    VIOLENCE = "violence", "Violences familiales"
    WORK = "work", "Rapprochement du lieu de travail"
    FAMILY = "family", "Rapprochement familial"
    HEALTH = "health", "Raisons de santé"
    DEMOLITION = "demolition", "Démolition ou vente du logement"
    OTHER = "other", "Autre motif"


class IncomeBasis(models.TextChoices):
    """Which resources are compared with the ceilings (CCH R441-1; arrêté du 29 juillet 1987)."""

    TAX_N2 = "tax_n2", "Revenu fiscal de référence N-2"
    TAX_N1 = "tax_n1", "Revenus de l'année N-1 (baisse d'au moins 10 %)"
    LAST_12_MONTHS = "last_12_months", "Revenus des 12 derniers mois (baisse d'au moins 10 %)"


class PriorityCriterion(models.Model):
    """A priority public of CCH L441-1 (a reference table: the list changes with the law)."""

    code = models.CharField("code", max_length=40, unique=True)
    label = models.CharField("libellé", max_length=255)
    legal_reference = models.CharField("référence", max_length=60, blank=True)
    valid_from = models.DateField("en vigueur le")
    valid_until = models.DateField("jusqu'au", null=True, blank=True)
    position = models.PositiveSmallIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "critère de priorité"
        verbose_name_plural = "critères de priorité"
        ordering = ["position", "code"]

    def __str__(self):
        return self.label


class DocumentType(models.Model):
    """A supporting document of the national list (arrêté du 22 décembre 2020 modifié)."""

    code = models.CharField("code", max_length=40, unique=True)
    label = models.CharField("libellé", max_length=255)
    category = models.CharField("rubrique", max_length=80)
    valid_from = models.DateField("en vigueur le")
    valid_until = models.DateField("jusqu'au", null=True, blank=True)
    position = models.PositiveSmallIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "type de pièce justificative"
        verbose_name_plural = "types de pièces justificatives"
        ordering = ["position", "code"]

    def __str__(self):
        return self.label


class ApplicationQuerySet(AgencyScopedQuerySet):
    agency_lookup = "agency"

    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def matchable(self):
        return self.filter(status__in=MATCHABLE_STATUSES)


class Application(models.Model):
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="applications", verbose_name="agence")
    kind = models.CharField("nature", max_length=10, choices=ApplicationKind.choices, default=ApplicationKind.NEW)
    # The SNE number is opaque (CNIL): stored as given, never parsed. The local number is ours.
    national_number = models.CharField("numéro unique national", max_length=40, blank=True)
    local_number = models.CharField("numéro local", max_length=20, unique=True)
    status = models.CharField(
        "statut", max_length=14, choices=ApplicationStatus.choices, default=ApplicationStatus.REGISTERED
    )
    first_registered_on = models.DateField("date de première inscription")  # drives seniority
    last_renewed_on = models.DateField("dernier renouvellement", null=True, blank=True)
    expires_on = models.DateField("date d'expiration")
    cancelled_on = models.DateField("radiée le", null=True, blank=True)
    cancellation_reason = models.CharField(
        "motif de radiation", max_length=14, choices=CancellationReason.choices, blank=True
    )
    current_lease = models.ForeignKey(
        Lease,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transfer_applications",
        verbose_name="bail actuel (mutation)",
    )

    # Current housing and reasons.
    housing_situation = models.CharField("situation de logement actuelle", max_length=16, choices=HousingSituation)
    current_rent = models.DecimalField("loyer actuel", null=True, blank=True, **MONEY)
    reasons = ArrayField(
        models.CharField(max_length=16, choices=RequestReason.choices), verbose_name="motifs", default=list
    )

    # Wishes.
    wished_communes = models.ManyToManyField(Commune, blank=True, related_name="+", verbose_name="communes souhaitées")
    wished_typologies = ArrayField(
        models.CharField(max_length=2, choices=Typology.choices), verbose_name="typologies souhaitées", default=list
    )
    max_floor = models.SmallIntegerField("étage maximum", null=True, blank=True)
    needs_elevator = models.BooleanField("ascenseur nécessaire", default=False)
    needs_accessible = models.BooleanField("logement accessible ou adapté nécessaire", default=False)
    max_rent = models.DecimalField("loyer maximum charges comprises", null=True, blank=True, **MONEY)

    # Priorities.
    dalo = models.BooleanField("désigné(e) par le préfet au titre du DALO", default=False)
    dalo_designated_on = models.DateField("date de désignation DALO", null=True, blank=True)
    priority_criteria = models.ManyToManyField(
        PriorityCriterion, blank=True, related_name="applications", verbose_name="critères de priorité (L441-1)"
    )
    reservataire = models.CharField(
        "proposé(e) par le réservataire", max_length=16, choices=Contingent.choices, blank=True
    )

    # Resources: the 10 % income-drop rule lets recent resources replace the RFR N-2.
    income_basis = models.CharField(
        "ressources retenues", max_length=16, choices=IncomeBasis.choices, default=IncomeBasis.TAX_N2
    )
    recent_income = models.DecimalField("revenus récents (N-1 ou 12 derniers mois)", null=True, blank=True, **MONEY)

    # Denormalised by applications.services (see the module docstring).
    household_size = models.PositiveSmallIntegerField("personnes au foyer", default=1)
    category = models.PositiveSmallIntegerField("catégorie de ménage", default=1)
    reference_income = models.DecimalField("ressources annuelles retenues", default=0, **MONEY)
    monthly_income = models.DecimalField("ressources mensuelles actuelles", default=0, **MONEY)
    score = models.IntegerField("cotation", default=0, db_index=True)
    score_computed_at = models.DateTimeField("cotation calculée le", null=True, blank=True)
    duplicate_suspected = models.BooleanField("doublon possible", default=False)

    # Never shown to the committee (issue 4: only what the decision needs).
    social_notes = models.TextField("notes sociales", blank=True)

    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    objects = ApplicationQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at", "score_computed_at"])

    class Meta:
        verbose_name = "demande de logement"
        verbose_name_plural = "demandes de logement"
        indexes = [
            models.Index(fields=["agency", "status", "-score", "first_registered_on"], name="application_rank"),
            models.Index(fields=["status", "expires_on"], name="application_expiry"),
            models.Index(fields=["national_number"], name="application_national_number"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=ApplicationKind.NEW) | Q(current_lease__isnull=False),
                name="transfer_has_current_lease",
            ),
            models.CheckConstraint(
                condition=~Q(status=ApplicationStatus.CANCELLED) | ~Q(cancellation_reason=""),
                name="cancelled_has_reason",
            ),
        ]

    def __str__(self):
        return f"Demande {self.number}"

    def get_absolute_url(self):
        return reverse("applications:application_detail", args=[self.pk])

    @property
    def number(self) -> str:
        return self.national_number or self.local_number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def reason_labels(self) -> list[str]:
        return [RequestReason(r).label for r in self.reasons if r in RequestReason.values]


class Relationship(models.TextChoices):
    APPLICANT = "applicant", "Demandeur"
    SPOUSE = "spouse", "Conjoint(e), concubin(e) ou partenaire de PACS"
    CO_APPLICANT = "co_applicant", "Co-demandeur"
    CHILD = "child", "Enfant"
    RELATIVE = "relative", "Autre parent"
    OTHER = "other", "Autre personne"


class ApplicationPersonQuerySet(AgencyScopedQuerySet):
    agency_lookup = "application__agency"


class ApplicationPerson(models.Model):
    """A person who will live in the dwelling (L442-12 "personnes vivant au foyer")."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="people")
    relationship = models.CharField("lien", max_length=12, choices=Relationship.choices)
    last_name = models.CharField("nom", max_length=100)
    first_name = models.CharField("prénom", max_length=100)
    birth_date = models.DateField("date de naissance")
    dependant = models.BooleanField("à charge", default=False)
    # Carte mobilité inclusion mention "invalidité": moves the household one category up.
    disability_card = models.BooleanField("carte mobilité inclusion « invalidité »", default=False)
    tax_income = models.DecimalField("revenu fiscal de référence N-2", null=True, blank=True, **MONEY)
    tax_year = models.PositiveSmallIntegerField("année des revenus", null=True, blank=True)
    phone = models.CharField("téléphone", max_length=20, blank=True)
    email = models.EmailField("courriel", blank=True)
    position = models.PositiveSmallIntegerField("ordre", default=0)
    search_name = models.TextField(editable=False, default="", db_collation="C")

    objects = ApplicationPersonQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "membre du foyer"
        verbose_name_plural = "membres du foyer"
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["search_name", "birth_date"], name="application_person_identity")]

    def __str__(self):
        return self.full_name

    def save(self, *args, **kwargs):
        from tenancies.models import normalize_search

        self.search_name = normalize_search(f"{self.last_name} {self.first_name}")
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name.upper()}"


class IncomeSource(models.TextChoices):
    SALARY = "salary", "Salaires et traitements"
    UNEMPLOYMENT = "unemployment", "Allocations chômage"
    PENSION = "pension", "Pensions et retraites"
    RSA = "rsa", "RSA"
    AAH = "aah", "Allocation aux adultes handicapés"
    FAMILY = "family", "Prestations familiales"
    ALIMONY = "alimony", "Pension alimentaire reçue"
    SELF_EMPLOYED = "self_employed", "Revenus d'activité indépendante"
    STUDENT = "student", "Bourse d'études"
    OTHER = "other", "Autres revenus"


class Income(models.Model):
    """A current monthly income of a person, by source."""

    person = models.ForeignKey(ApplicationPerson, on_delete=models.CASCADE, related_name="incomes")
    source = models.CharField("nature", max_length=14, choices=IncomeSource.choices)
    monthly_amount = models.DecimalField("montant mensuel", **MONEY)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "ressource mensuelle"
        verbose_name_plural = "ressources mensuelles"

    def __str__(self):
        return f"{self.get_source_display()} : {self.monthly_amount}"


class ApplicationDocumentQuerySet(AgencyScopedQuerySet):
    agency_lookup = "application__agency"


class ApplicationDocument(models.Model):
    """A supporting document, stored privately under a generated name (tenancies.uploads)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="documents")
    document_type = models.ForeignKey(DocumentType, on_delete=models.PROTECT, verbose_name="type de pièce")
    person = models.ForeignKey(
        ApplicationPerson, on_delete=models.SET_NULL, null=True, blank=True, related_name="documents"
    )
    file = models.FileField("fichier", upload_to="applications/", max_length=200)
    content_kind = models.CharField("format", max_length=4)  # pdf, jpeg, png (read from the bytes)
    size = models.PositiveIntegerField("taille (octets)")
    original_name = models.CharField("nom d'origine", max_length=200)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField("déposée le", auto_now_add=True)

    objects = ApplicationDocumentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "pièce justificative"
        verbose_name_plural = "pièces justificatives"
        ordering = ["-uploaded_at"]

    def __str__(self):
        return f"{self.document_type} ({self.original_name})"


class ApplicationTransition(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField("de", max_length=14, choices=ApplicationStatus.choices, blank=True)
    to_status = models.CharField("vers", max_length=14, choices=ApplicationStatus.choices)
    at = models.DateTimeField("le", auto_now_add=True)
    on = models.DateField("date d'effet")
    by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="par")
    reason = models.CharField("motif", max_length=255, blank=True)

    class Meta:
        verbose_name = "changement de statut de la demande"
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.from_status or '-'} -> {self.to_status}"


# --- Cotation (DOMAIN.md §1.2.5) -------------------------------------------------------------


class CotationRule(models.TextChoices):
    """The computable rules a grid criterion may use (the grid itself is data)."""

    SENIORITY_MONTH = "seniority_month", "Ancienneté : points par mois complet depuis la première inscription"
    DALO = "dalo", "Désignation DALO par le préfet"
    PRIORITY = "priority", "Critère de priorité L441-1 (paramètre : code du critère)"
    ANY_PRIORITY = "any_priority", "Au moins un critère de priorité L441-1"
    HOUSING_SITUATION = "housing_situation", "Situation de logement actuelle (paramètre : code de la situation)"
    REASON = "reason", "Motif de la demande (paramètre : code du motif)"
    DISABILITY = "disability", "Une personne du foyer titulaire de la CMI invalidité"
    HOUSEHOLD_MIN = "household_min", "Foyer d'au moins N personnes (paramètre : N)"
    INCOME_BELOW = "income_below", "Ressources annuelles retenues inférieures à un montant (paramètre : €)"
    TRANSFER = "transfer", "Demande de mutation"


# Rules whose parameter is required, and what it is.
RULE_PARAMETERS = {
    CotationRule.PRIORITY: "code du critère de priorité",
    CotationRule.HOUSING_SITUATION: "code de la situation de logement",
    CotationRule.REASON: "code du motif",
    CotationRule.HOUSEHOLD_MIN: "nombre de personnes",
    CotationRule.INCOME_BELOW: "montant annuel en euros",
}


class CotationGridQuerySet(AgencyScopedQuerySet):
    agency_lookup = "agency"

    def in_force(self, on):
        return self.filter(valid_from__lte=on).filter(Q(valid_until__isnull=True) | Q(valid_until__gt=on))


class CotationGrid(models.Model):
    """One version of an agency's points grid. A new version is a new row; the previous one gets
    its valid_until set to the new one's valid_from, never edited otherwise."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="cotation_grids", verbose_name="agence")
    version = models.PositiveIntegerField("version")
    valid_from = models.DateField("en vigueur le")
    valid_until = models.DateField("jusqu'au (exclu)", null=True, blank=True)
    note = models.CharField("motif de la version", max_length=255, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField("créée le", auto_now_add=True)

    objects = CotationGridQuerySet.as_manager()

    class Meta:
        verbose_name = "grille de cotation"
        verbose_name_plural = "grilles de cotation"
        ordering = ["agency", "-version"]
        constraints = [models.UniqueConstraint(fields=["agency", "version"], name="cotation_grid_version")]

    def __str__(self):
        return f"Grille de cotation {self.agency} v{self.version}"

    def get_absolute_url(self):
        return reverse("applications:grid_detail", args=[self.pk])


class CotationCriterion(models.Model):
    grid = models.ForeignKey(CotationGrid, on_delete=models.CASCADE, related_name="criteria")
    code = models.CharField("code", max_length=40)
    label = models.CharField("libellé", max_length=200)
    rule = models.CharField("règle de calcul", max_length=20, choices=CotationRule.choices)
    parameter = models.CharField("paramètre", max_length=40, blank=True)
    points = models.IntegerField("points")
    cap = models.IntegerField("plafond de points", null=True, blank=True)  # for per-month rules
    position = models.PositiveSmallIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "critère de cotation"
        verbose_name_plural = "critères de cotation"
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["grid", "code"], name="cotation_criterion_code")]

    def __str__(self):
        return self.label


class ScoreChange(models.Model):
    """What moved an application's score: one row per change (old, new, cause)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="score_changes")
    at = models.DateTimeField("le")
    old_score = models.IntegerField("ancienne cotation")
    new_score = models.IntegerField("nouvelle cotation")
    cause = models.CharField("cause", max_length=200)

    class Meta:
        verbose_name = "évolution de la cotation"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["application", "-at"], name="score_change_application")]

    def __str__(self):
        return f"{self.old_score} -> {self.new_score} ({self.cause})"


# --- Renewal and duplicates ------------------------------------------------------------------


class RenewalNotice(models.Model):
    """The renewal notice letter (CCH R441-2-7), stored once produced."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="renewal_notices")
    expires_on = models.DateField("date d'expiration annoncée")
    latest_send_on = models.DateField("envoi au plus tard le")
    produced_on = models.DateField("produit le")
    file = models.FileField("courrier", upload_to="applications/", max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "avis de renouvellement"
        ordering = ["-produced_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["application", "expires_on"], name="one_renewal_notice_per_expiry")
        ]

    def __str__(self):
        return f"Avis de renouvellement {self.application_id} ({self.expires_on})"


class DuplicateDismissal(models.Model):
    """Two applications a chargé declared "not a duplicate" (lower id first)."""

    first = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+")
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "faux doublon"
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="duplicate_dismissal_pair"),
            models.CheckConstraint(condition=Q(first__lt=models.F("second")), name="duplicate_dismissal_ordered"),
        ]

    def __str__(self):
        return f"{self.first_id} ≠ {self.second_id}"
