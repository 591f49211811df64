"""The allocation committee (CALEOL): matching parameters, sessions, agenda, votes, decisions, offers.

DOMAIN.md §1.2.6-1.2.10. A Session holds AgendaItems (one vacant dwelling each) holding ranked
Candidatures (one application each). Members vote per agenda item; the president records one of
the five R441-3 decisions per candidature; decisions are append-only rows (the current one is the
latest for its candidature) so that a correction after the minutes are signed is a new row that
supersedes the old one. Offers follow the attributions in rank order.
"""

from __future__ import annotations

from decimal import Decimal

import pgtrigger
from dateutil.relativedelta import relativedelta
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from applications.models import Application
from tenancies.models import (
    MONEY,
    Agency,
    AgencyScopedQuerySet,
    AplZone,
    Commune,
    Contingent,
    Dwelling,
    Lease,
    Typology,
    User,
)

# Members see a session's case files while it is open and for this long after it closed (issue 4).
MEMBER_ACCESS_AFTER_CLOSE = relativedelta(months=2)


# --- Parameters (dated, configurable) ---------------------------------------------------------


class TypologyOccupancy(models.Model):
    """Which household sizes a typology fits (local attribution policy, configurable)."""

    typology = models.CharField("typologie", max_length=2, choices=Typology.choices, unique=True)
    min_persons = models.PositiveSmallIntegerField("personnes au minimum")
    max_persons = models.PositiveSmallIntegerField("personnes au maximum")

    class Meta:
        verbose_name = "occupation d'une typologie"
        verbose_name_plural = "occupation des typologies"
        ordering = ["typology"]
        constraints = [
            models.CheckConstraint(condition=Q(min_persons__lte=models.F("max_persons")), name="occupancy_range")
        ]

    def __str__(self):
        return f"{self.typology} : {self.min_persons} à {self.max_persons} personnes"


class SolvencyThreshold(models.Model):
    """Attribution-policy thresholds flagging a candidate (no legal maximum: DOMAIN.md §1.2.7)."""

    valid_from = models.DateField("en vigueur le", unique=True)
    max_effort_rate = models.DecimalField("taux d'effort maximum (%)", max_digits=5, decimal_places=2)
    min_daily_rest = models.DecimalField("reste à vivre minimum (€ par jour et par UC)", max_digits=8, decimal_places=2)

    class Meta:
        verbose_name = "seuil de solvabilité"
        verbose_name_plural = "seuils de solvabilité"
        ordering = ["-valid_from"]

    def __str__(self):
        return f"Seuils du {self.valid_from:%d/%m/%Y}"


class AplEstimateScale(models.Model):
    """A deliberately simplified APL scale used only to *estimate* the benefit in the matching.

    estimate = max(0, min(rent, rent_ceiling) + charges_flat - max(min_participation,
    participation_rate × monthly resources)). It is not the CAF computation (no resources
    abatement, no degressivity); the chargé may override the estimate per candidate."""

    valid_from = models.DateField("en vigueur le")
    apl_zone = models.CharField("zone APL", max_length=3, choices=AplZone.choices)
    household_size = models.PositiveSmallIntegerField("personnes au foyer (6 = 6 et plus)")
    rent_ceiling = models.DecimalField("loyer plafond", **MONEY)
    charges_flat = models.DecimalField("forfait charges", **MONEY)
    min_participation = models.DecimalField("participation minimale", **MONEY)
    participation_rate = models.DecimalField("taux de participation", max_digits=5, decimal_places=4)

    class Meta:
        verbose_name = "barème simplifié d'estimation APL"
        verbose_name_plural = "barème simplifié d'estimation APL"
        constraints = [
            models.UniqueConstraint(fields=["valid_from", "apl_zone", "household_size"], name="apl_scale_unique")
        ]

    def __str__(self):
        return f"APL estimée zone {self.apl_zone}, {self.household_size} pers., {self.valid_from:%d/%m/%Y}"


# --- Sessions ---------------------------------------------------------------------------------


class SessionStatus(models.TextChoices):
    PREPARATION = "preparation", "En préparation"
    OPEN = "open", "Ouverte"
    CLOSED = "closed", "Close"
    SIGNED = "signed", "Procès-verbal signé"


SESSION_TRANSITIONS: dict[str, frozenset[str]] = {
    SessionStatus.PREPARATION: frozenset({SessionStatus.OPEN}),
    SessionStatus.OPEN: frozenset({SessionStatus.CLOSED}),
    SessionStatus.CLOSED: frozenset({SessionStatus.SIGNED}),
    SessionStatus.SIGNED: frozenset(),
}


class SessionQuerySet(AgencyScopedQuerySet):
    agency_lookup = "agency"

    def sat_by(self, user):
        """Sessions `user` sits on."""
        return self.filter(members__user=user)

    def member_window(self, now):
        """Sessions whose case files members may read at `now`: open, or closed less than two months ago."""
        return self.filter(opens_at__lte=now, closes_at__gte=now - MEMBER_ACCESS_AFTER_CLOSE).exclude(
            status=SessionStatus.PREPARATION
        )


class Session(models.Model):
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="caleol_sessions", verbose_name="agence")
    held_on = models.DateField("date de la séance")
    place = models.CharField("lieu (vide pour une séance dématérialisée)", max_length=200, blank=True)
    opens_at = models.DateTimeField("ouverture des votes")
    closes_at = models.DateTimeField("clôture des votes")
    quorum = models.PositiveSmallIntegerField("quorum (membres à voix délibérative)", default=3)
    president = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="président(e)"
    )
    status = models.CharField("statut", max_length=12, choices=SessionStatus.choices, default=SessionStatus.PREPARATION)
    signed_at = models.DateTimeField("procès-verbal signé le", null=True, blank=True)
    signed_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField("créée le", auto_now_add=True)

    objects = SessionQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "séance de CALEOL"
        verbose_name_plural = "séances de CALEOL"
        ordering = ["-held_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(closes_at__gt=models.F("opens_at")), name="session_window")]

    def __str__(self):
        return f"CALEOL du {self.held_on:%d/%m/%Y} ({self.agency})"

    def get_absolute_url(self):
        return reverse("committee:session_detail", args=[self.pk])

    @property
    def remote(self) -> bool:
        return not self.place

    def voting_open(self, now=None) -> bool:
        now = now or timezone.now()
        return self.status == SessionStatus.OPEN and self.opens_at <= now < self.closes_at

    def members_may_read(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.status != SessionStatus.PREPARATION
            and self.opens_at <= now
            and now <= self.closes_at + MEMBER_ACCESS_AFTER_CLOSE
        )


class VotingRight(models.TextChoices):
    DELIBERATIVE = "deliberative", "Voix délibérative"
    CONSULTATIVE = "consultative", "Voix consultative"


class SessionMember(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="caleol_seats", verbose_name="membre")
    voting_right = models.CharField("droit de vote", max_length=12, choices=VotingRight.choices)
    capacity = models.CharField("qualité", max_length=120, blank=True)  # "représentant des locataires", "maire"…
    present = models.BooleanField("présent(e)", default=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "membre de la séance"
        verbose_name_plural = "membres de la séance"
        ordering = ["voting_right", "user__last_name", "id"]
        constraints = [models.UniqueConstraint(fields=["session", "user"], name="session_member_unique")]

    def __str__(self):
        return f"{self.user.get_full_name() or self.user.username} ({self.get_voting_right_display()})"

    @property
    def deliberative(self) -> bool:
        return self.voting_right == VotingRight.DELIBERATIVE


class ExceptionReason(models.TextChoices):
    """Fewer than three candidates for a dwelling (CCH L441-2)."""

    NONE = "", "—"
    INSUFFICIENT = "insufficient", "Insuffisance du nombre de candidats"
    DALO = "dalo", "Ménage désigné par le préfet au titre du DALO"


class AgendaItemQuerySet(AgencyScopedQuerySet):
    agency_lookup = "session__agency"


class AgendaItem(models.Model):
    """One vacant dwelling presented at a session, with its ranked candidates."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="items")
    dwelling = models.ForeignKey(
        Dwelling, on_delete=models.PROTECT, related_name="caleol_items", verbose_name="logement"
    )
    position = models.PositiveSmallIntegerField("ordre", default=1)
    exception_reason = models.CharField(
        "motif de moins de trois candidats", max_length=12, choices=ExceptionReason.choices, blank=True
    )
    exception_note = models.CharField("justification", max_length=500, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    objects = AgendaItemQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "logement à l'ordre du jour"
        verbose_name_plural = "logements à l'ordre du jour"
        ordering = ["session", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["session", "dwelling"], name="agenda_dwelling_unique")]

    def __str__(self):
        return f"{self.dwelling} — {self.session}"


class CandidatureQuerySet(AgencyScopedQuerySet):
    agency_lookup = "item__session__agency"


class Candidature(models.Model):
    """An application presented for one dwelling at one session, with its rank and frozen figures."""

    item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="candidatures")
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="candidatures", verbose_name="demande"
    )
    rank = models.PositiveSmallIntegerField("rang proposé")
    # Solvency figures at selection (DOMAIN.md E1.6, E1.7), frozen for the case file and the minutes.
    monthly_resources = models.DecimalField("ressources mensuelles", **MONEY)
    housing_cost = models.DecimalField("loyer + annexes + charges", **MONEY)
    apl_estimate = models.DecimalField("APL estimée (barème simplifié)", **MONEY)
    apl_override = models.DecimalField("APL saisie manuellement", null=True, blank=True, **MONEY)
    effort_rate = models.DecimalField("taux d'effort (%)", max_digits=7, decimal_places=2, null=True, blank=True)
    daily_rest = models.DecimalField("reste à vivre (€/jour/UC)", max_digits=9, decimal_places=2, null=True, blank=True)
    consumption_units = models.DecimalField("unités de consommation", max_digits=5, decimal_places=2)
    flags = ArrayField(models.CharField(max_length=40), verbose_name="alertes", default=list, blank=True)
    selected_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    selected_at = models.DateTimeField("sélectionnée le", auto_now_add=True)

    objects = CandidatureQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "candidature"
        ordering = ["item", "rank", "id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "application"], name="candidature_unique"),
            models.UniqueConstraint(fields=["item", "rank"], name="candidature_rank_unique"),
        ]

    def __str__(self):
        return f"Candidature {self.pseudonym} — {self.item.dwelling}"

    @property
    def pseudonym(self) -> str:
        """What members and the minutes call the candidate: never a name."""
        return f"C-{self.pk:05d}"

    @property
    def apl(self) -> Decimal:
        return self.apl_estimate if self.apl_override is None else self.apl_override

    @property
    def current_decision(self):
        decisions = getattr(self, "_current_decision", None)
        if decisions is None:
            self._current_decision = self.decisions.order_by("-id").first() or False
        return self._current_decision or None


class Vote(models.Model):
    """One member's vote on one dwelling: a ranking of its candidates, or non-attribution."""

    item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="votes")
    member = models.ForeignKey(SessionMember, on_delete=models.PROTECT, related_name="votes")
    ranking = ArrayField(models.BigIntegerField(), verbose_name="classement (candidatures)", default=list, blank=True)
    non_attribution = models.BooleanField("non-attribution", default=False)
    comment = models.CharField("observation", max_length=500, blank=True)
    cast_at = models.DateTimeField("voté le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "vote"
        constraints = [
            models.UniqueConstraint(fields=["item", "member"], name="vote_unique"),
            models.CheckConstraint(
                condition=Q(non_attribution=True, ranking=[]) | Q(non_attribution=False) & ~Q(ranking=[]),
                name="vote_ranking_or_non_attribution",
            ),
        ]

    def __str__(self):
        return f"Vote de {self.member} sur {self.item.dwelling}"


class DecisionKind(models.TextChoices):
    """The five decisions of CCH R441-3."""

    ATTRIBUTION = "attribution", "Attribution"
    RANKED = "ranked", "Attribution par classement"
    CONDITIONAL = "conditional", "Attribution sous condition suspensive"
    NON_ATTRIBUTION = "non_attribution", "Non-attribution"
    INADMISSIBLE = "inadmissible", "Rejet pour irrecevabilité"


ATTRIBUTING = (DecisionKind.ATTRIBUTION, DecisionKind.RANKED, DecisionKind.CONDITIONAL)
# L441-2-2: every refusal and every rejection for inadmissibility is notified with its reasons.
REASONS_REQUIRED = (DecisionKind.NON_ATTRIBUTION, DecisionKind.INADMISSIBLE)


class Decision(models.Model):
    """A decision of the committee on one candidature. Append-only (database trigger): the current
    decision is the latest row; a correction is a new row pointing at the one it corrects."""

    candidature = models.ForeignKey(Candidature, on_delete=models.PROTECT, related_name="decisions")
    kind = models.CharField("décision", max_length=16, choices=DecisionKind.choices)
    rank = models.PositiveSmallIntegerField("rang d'attribution", null=True, blank=True)
    condition = models.CharField("condition suspensive (pièce attendue)", max_length=300, blank=True)
    condition_deadline = models.DateField("date limite de la condition", null=True, blank=True)
    reasons = models.TextField("motifs", blank=True)
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections", verbose_name="rectifie"
    )
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="enregistrée par")
    decided_at = models.DateTimeField("enregistrée le", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "décision de la CALEOL"
        verbose_name_plural = "décisions de la CALEOL"
        ordering = ["candidature", "-id"]
        triggers = [pgtrigger.Protect(name="decision_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.candidature.pseudonym})"

    @property
    def attributes(self) -> bool:
        return self.kind in ATTRIBUTING

    @property
    def label(self) -> str:
        if self.kind == DecisionKind.RANKED and self.rank:
            return f"Attribution par classement, rang {self.rank}"
        return self.get_kind_display()


# --- Offers -----------------------------------------------------------------------------------


class OfferStatus(models.TextChoices):
    SENT = "sent", "Envoyée"
    ACCEPTED = "accepted", "Acceptée"
    REFUSED = "refused", "Refusée"
    EXPIRED = "expired", "Sans réponse (vaut refus)"
    COMPLETED = "completed", "Bail signé"


OFFER_TRANSITIONS: dict[str, frozenset[str]] = {
    OfferStatus.SENT: frozenset({OfferStatus.ACCEPTED, OfferStatus.REFUSED, OfferStatus.EXPIRED}),
    OfferStatus.ACCEPTED: frozenset({OfferStatus.COMPLETED}),
    OfferStatus.REFUSED: frozenset(),
    OfferStatus.EXPIRED: frozenset(),
    OfferStatus.COMPLETED: frozenset(),
}


class RefusalReason(models.TextChoices):
    """Why an offer was refused (structured for the dashboards; the free text stays as detail)."""

    TYPOLOGY = "typology", "Taille ou typologie du logement"
    LOCATION = "location", "Localisation, quartier, environnement"
    COST = "cost", "Loyer ou charges trop élevés"
    FLOOR_ACCESS = "floor_access", "Étage, ascenseur ou accessibilité"
    CONDITION = "condition", "État ou configuration du logement"
    HOUSED_ELSEWHERE = "housed_elsewhere", "Relogé(e) ailleurs entre-temps"
    PERSONAL = "personal", "Raisons personnelles ou familiales"
    NO_ANSWER = "no_answer", "Sans réponse dans le délai (vaut refus)"
    OTHER = "other", "Autre"


class OfferQuerySet(AgencyScopedQuerySet):
    agency_lookup = "candidature__item__session__agency"


class Offer(models.Model):
    """A written offer of the dwelling (CCH R441-10) to an attributed candidate."""

    candidature = models.OneToOneField(Candidature, on_delete=models.PROTECT, related_name="offer")
    status = models.CharField("statut", max_length=10, choices=OfferStatus.choices, default=OfferStatus.SENT)
    sent_on = models.DateField("envoyée le")
    received_on = models.DateField("reçue le")
    deadline = models.DateField("date limite de réponse")
    answered_on = models.DateField("réponse le", null=True, blank=True)
    refusal_kind = models.CharField(
        "motif du refus", max_length=16, choices=RefusalReason.choices, blank=True, db_index=True
    )
    refusal_reason = models.CharField("précision sur le refus", max_length=500, blank=True)
    lease = models.ForeignKey(Lease, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField("créée le", auto_now_add=True)

    objects = OfferQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "proposition de logement"
        verbose_name_plural = "propositions de logement"
        ordering = ["-sent_on", "-id"]
        indexes = [models.Index(fields=["status", "deadline"], name="offer_status_deadline")]

    def __str__(self):
        return f"Proposition {self.candidature.item.dwelling} à {self.candidature.pseudonym}"

    def get_absolute_url(self):
        return reverse("committee:offer_detail", args=[self.pk])


# --- Allocations ------------------------------------------------------------------------------


class AllocationQuerySet(AgencyScopedQuerySet):
    agency_lookup = "agency"


class Allocation(models.Model):
    """One attribution that ended in a signed lease (written once, when the follow-up of offers sees
    the lease of an accepted offer signed). It freezes what the yearly reports and the dashboards
    need: the reservation contingent of the dwelling, QPV, DALO and L441-1 priority, resources per
    consumption unit against the first-quartile threshold, the waiting time and the vacancy."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name="agence")
    dwelling = models.ForeignKey(Dwelling, on_delete=models.PROTECT, related_name="+", verbose_name="logement")
    lease = models.ForeignKey(
        Lease, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="bail"
    )
    application = models.ForeignKey(
        Application, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="demande"
    )
    offer = models.OneToOneField(Offer, on_delete=models.PROTECT, related_name="allocation", verbose_name="proposition")
    allocated_on = models.DateField("date d'attribution (bail signé)")
    contingent = models.CharField("contingent de réservation", max_length=20, choices=Contingent.choices)
    qpv = models.BooleanField("résidence en QPV")
    dalo = models.BooleanField("ménage DALO")
    priority_public = models.BooleanField("public prioritaire L441-1 (critère de la demande)")
    annual_resources = models.DecimalField("ressources annuelles (12 × mensuelles)", **MONEY)
    consumption_units = models.DecimalField("unités de consommation", max_digits=5, decimal_places=2)
    resources_per_unit = models.DecimalField("ressources annuelles par UC", **MONEY)
    quartile_threshold = models.DecimalField("seuil du 1er quartile appliqué", null=True, blank=True, **MONEY)
    first_quartile = models.BooleanField("demandeur du 1er quartile")
    first_registered_on = models.DateField("date de première inscription")
    waiting_days = models.PositiveIntegerField("attente (jours)")
    waiting_months = models.PositiveIntegerField("attente (mois révolus)")
    vacant_since = models.DateField("vacant depuis", null=True, blank=True)
    vacancy_days = models.PositiveIntegerField("jours de vacance jusqu'au bail signé", null=True, blank=True)
    created_at = models.DateTimeField("enregistrée le", auto_now_add=True)

    objects = AllocationQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "attribution"
        ordering = ["-allocated_on", "-id"]
        indexes = [models.Index(fields=["agency", "allocated_on"], name="allocation_agency_date")]

    def __str__(self):
        return f"Attribution {self.dwelling} du {self.allocated_on:%d/%m/%Y}"

    @property
    def priority(self) -> bool:
        """Counts for the L441-1 quota: DALO or another priority public."""
        return self.dalo or self.priority_public

    # Labels of the dashboards' drill-down list.
    @property
    def qpv_label(self) -> str:
        return "oui" if self.qpv else "non"

    @property
    def dalo_label(self) -> str:
        return "oui" if self.dalo else "non"

    @property
    def priority_label(self) -> str:
        return "oui" if self.priority_public else "non"

    @property
    def first_quartile_label(self) -> str:
        if self.quartile_threshold is None:
            return "seuil inconnu"
        return "oui" if self.first_quartile else "non"


class ContingentTarget(models.Model):
    """The target share of a year's attributions for a reservation contingent (conventions with
    the réservataires, flux management): for one agency, or organisation-wide (no agency)."""

    agency = models.ForeignKey(
        Agency, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name="agence"
    )
    contingent = models.CharField("contingent", max_length=20, choices=Contingent.choices)
    year = models.PositiveSmallIntegerField("année")
    target_share = models.DecimalField("part cible des attributions (%)", max_digits=5, decimal_places=2)
    source = models.CharField("source", max_length=200, blank=True)

    class Meta:
        verbose_name = "objectif d'un contingent"
        verbose_name_plural = "objectifs des contingents"
        ordering = ["-year", "contingent"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "contingent", "year"], name="contingent_target_unique", nulls_distinct=False
            )
        ]

    def __str__(self):
        return f"{self.get_contingent_display()} {self.year} : {self.target_share} %"


class QuotaKind(models.TextChoices):
    PRIORITY = "priority", "Attributions aux ménages DALO puis prioritaires, par réservataire"
    FIRST_QUARTILE = "first_quartile", "Attributions hors QPV aux demandeurs du 1er quartile"


class AllocationQuota(models.Model):
    """A legal minimum share of attributions (CCH L441-1), dated: a change of law is a new row."""

    kind = models.CharField("quota", max_length=16, choices=QuotaKind.choices)
    valid_from = models.DateField("en vigueur le")
    share = models.DecimalField("part minimale (%)", max_digits=5, decimal_places=2)
    source = models.CharField("source", max_length=200)

    class Meta:
        verbose_name = "quota légal d'attribution"
        verbose_name_plural = "quotas légaux d'attribution"
        ordering = ["kind", "-valid_from"]
        constraints = [models.UniqueConstraint(fields=["kind", "valid_from"], name="allocation_quota_unique")]

    def __str__(self):
        return f"{self.get_kind_display()} : {self.share} % (depuis le {self.valid_from:%d/%m/%Y})"


class FirstQuartileThreshold(models.Model):
    """The yearly resource threshold (annual resources per consumption unit) under which an applicant
    is in the first quartile of the territory's demand (published per EPCI by the ministry; kept
    here per commune, the territory the models know)."""

    year = models.PositiveSmallIntegerField("année")
    commune = models.ForeignKey(Commune, on_delete=models.CASCADE, related_name="+", verbose_name="commune")
    territory = models.CharField("territoire de publication (EPCI)", max_length=120, blank=True)
    amount = models.DecimalField("seuil annuel par UC", **MONEY)
    demo = models.BooleanField("valeur de démonstration (non officielle)", default=False)
    source = models.CharField("source", max_length=200)

    class Meta:
        verbose_name = "seuil du premier quartile"
        verbose_name_plural = "seuils du premier quartile"
        ordering = ["-year", "commune"]
        constraints = [models.UniqueConstraint(fields=["year", "commune"], name="first_quartile_unique")]

    def __str__(self):
        return f"1er quartile {self.year} {self.commune} : {self.amount} €/UC"
