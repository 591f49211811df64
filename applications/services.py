"""The write path of housing applications (STYLE.md habit 1).

Every change of the household, the resources, the wishes or the priorities goes through
application_register / application_update, which end with refresh_application(): the denormalised
columns (household_size, category, reference_income, monthly_income), the score and the duplicate
flags are recomputed in the same transaction. The committee (applications.committee) relies on
those columns being right.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from tenancies.legal_dates import legal_period
from tenancies.models import CURRENT_LEASE_STATUSES, Lease
from tenancies.uploads import EXTENSIONS, generated_name

from . import cotation
from .eligibility import Member, age_on, household_category, income_drop_allowed
from .models import (
    OPEN_STATUSES,
    TRANSITIONS,
    Application,
    ApplicationDocument,
    ApplicationKind,
    ApplicationPerson,
    ApplicationStatus,
    ApplicationTransition,
    CancellationReason,
    CotationCriterion,
    CotationGrid,
    DocumentType,
    DuplicateDismissal,
    Income,
    IncomeBasis,
    Relationship,
    RenewalNotice,
)

ZERO = Decimal("0.00")
COUPLE = (Relationship.APPLICANT, Relationship.SPOUSE)
PARENTS = (Relationship.APPLICANT, Relationship.SPOUSE, Relationship.CO_APPLICANT)


class ApplicationError(Exception):
    """A business rule refused the action; the message is French and shown to the user."""


def application_transition(
    *, application: Application, to_status: str, on: date, by=None, reason: str = "", cancellation_reason: str = ""
) -> Application:
    """Move the application to `to_status` if TRANSITIONS allows it, and record the move.

    Raises ApplicationError for an illegal move or a radiation without its reason."""
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if to_status not in TRANSITIONS[locked.status]:
            raise ApplicationError(
                f"Une demande « {locked.get_status_display()} » ne peut pas passer au statut "
                f"« {ApplicationStatus(to_status).label} »."
            )
        if to_status == ApplicationStatus.CANCELLED:
            if not cancellation_reason:
                raise ApplicationError("Indiquez le motif de radiation.")
            locked.cancellation_reason = cancellation_reason
            locked.cancelled_on = on
        previous = locked.status
        locked.status = to_status
        locked.save()
        ApplicationTransition.objects.create(
            application=locked, from_status=previous, to_status=to_status, on=on, by=by, reason=reason[:255]
        )
        if to_status == ApplicationStatus.CANCELLED:
            refresh_duplicate_flags(ids=[locked.pk])
    application.refresh_from_db()
    return application


# --- Dates and numbers -----------------------------------------------------------------------


def validity_end(start: date) -> date:
    """Expiry of a demand registered or renewed on `start` (CCH R441-2-7, legal delay
    `application_validity`): a substantive period, not moved to a working day."""
    return legal_period("application_validity", on=start).after(start)


def renewal_notice_latest(expires_on: date) -> date:
    """The last day the renewal notice may leave (at least `renewal_notice` before expiry)."""
    return legal_period("renewal_notice", on=expires_on).before(expires_on)


def next_local_number(on: date) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('applications_local_number_seq')")
        (n,) = cursor.fetchone()
    return f"L{on:%Y}-{n:07d}"


# --- Household and resources -----------------------------------------------------------------


@dataclass
class PersonData:
    relationship: str
    last_name: str
    first_name: str
    birth_date: date
    dependant: bool = False
    disability_card: bool = False
    tax_income: Decimal | None = None
    tax_year: int | None = None
    phone: str = ""
    email: str = ""
    id: int | None = None  # an existing ApplicationPerson (update)
    incomes: list[tuple[str, Decimal]] = field(default_factory=list)  # (source, monthly amount)


def check_household(people: list[PersonData], *, as_of: date) -> None:
    """Refuse an inconsistent household (French message): no applicant, a birth date in the
    future, a child born before a parent."""
    if not people:
        raise ApplicationError("Le foyer doit compter au moins une personne : le demandeur.")
    applicants = [p for p in people if p.relationship == Relationship.APPLICANT]
    if len(applicants) != 1:
        raise ApplicationError("Le foyer doit compter exactement un demandeur.")
    for p in people:
        if p.birth_date > as_of:
            raise ApplicationError(f"La date de naissance de {p.first_name} {p.last_name} est dans le futur.")
    parents = [p for p in people if p.relationship in PARENTS]
    for child in (p for p in people if p.relationship == Relationship.CHILD):
        for parent in parents:
            if child.birth_date <= parent.birth_date:
                raise ApplicationError(
                    f"Foyer incohérent : l'enfant {child.first_name} {child.last_name} est plus âgé(e) que "
                    f"{parent.first_name} {parent.last_name} ({Relationship(parent.relationship).label.lower()})."
                )


def members_of(people) -> list[Member]:
    return [
        Member(
            birth_date=p.birth_date,
            is_couple_member=p.relationship in COUPLE,
            dependant=p.dependant,
            disability_card=p.disability_card,
        )
        for p in people
    ]


def tax_income_total(people) -> Decimal:
    return sum((p.tax_income or ZERO for p in people), ZERO)


def retained_income(tax_total: Decimal, income_basis: str, recent_income: Decimal | None) -> Decimal:
    """Annual resources compared with the ceilings: RFR N-2, or the recent resources when the
    basis asks for them and they are at least 10 % lower (DOMAIN.md E1.3)."""
    if income_basis != IncomeBasis.TAX_N2 and income_drop_allowed(tax_total, recent_income):
        return recent_income
    return tax_total


def check_income_basis(tax_total: Decimal, income_basis: str, recent_income: Decimal | None) -> None:
    if income_basis == IncomeBasis.TAX_N2:
        return
    if recent_income is None:
        raise ApplicationError("Indiquez les revenus récents (N-1 ou 12 derniers mois) pour les retenir.")
    if not income_drop_allowed(tax_total, recent_income):
        raise ApplicationError(
            "Les revenus récents ne peuvent être retenus que s'ils sont inférieurs d'au moins 10 % au revenu "
            f"fiscal de référence N-2 ({tax_total:.2f} €).".replace(".", ",")
        )


@transaction.atomic
def refresh_application(application: Application, *, as_of: date | None = None, cause: str = "") -> Application:
    """Recompute the denormalised columns, the score and the duplicate flags of one application."""
    as_of = as_of or timezone.localdate()
    application = Application.objects.select_for_update().get(pk=application.pk)
    people = list(application.people.prefetch_related("incomes"))
    tax_total = tax_income_total(people)
    application.household_size = max(len(people), 1)
    application.category = household_category(members_of(people), as_of=as_of)
    application.reference_income = retained_income(tax_total, application.income_basis, application.recent_income)
    application.monthly_income = sum((i.monthly_amount for p in people for i in p.incomes.all()), ZERO)
    application.save(update_fields=["household_size", "category", "reference_income", "monthly_income", "updated_at"])
    cotation.rescore(ids=[application.pk], as_of=as_of, cause=cause or "Modification de la demande")
    refresh_duplicate_flags(ids=[application.pk])
    application.refresh_from_db()
    return application


# --- Registration and edits ------------------------------------------------------------------

APPLICATION_FIELDS = (
    "kind",
    "national_number",
    "first_registered_on",
    "housing_situation",
    "current_rent",
    "reasons",
    "wished_typologies",
    "max_floor",
    "needs_elevator",
    "needs_accessible",
    "max_rent",
    "dalo",
    "dalo_designated_on",
    "reservataire",
    "income_basis",
    "recent_income",
    "social_notes",
)


def _check_application(*, agency, data: dict, people: list[PersonData], as_of: date) -> Lease | None:
    check_household(people, as_of=as_of)
    if data.get("first_registered_on") and data["first_registered_on"] > as_of:
        raise ApplicationError("La date de première inscription ne peut pas être dans le futur.")
    basis = data.get("income_basis", IncomeBasis.TAX_N2)
    check_income_basis(tax_income_total(people), basis, data.get("recent_income"))
    if data.get("dalo") and not data.get("dalo_designated_on"):
        raise ApplicationError("Indiquez la date de désignation DALO.")
    lease = data.get("current_lease")
    if data.get("kind") == ApplicationKind.TRANSFER:
        if lease is None:
            raise ApplicationError("Une demande de mutation doit indiquer le bail actuel du demandeur.")
        if lease.dwelling.building.estate.agency_id != agency.pk or lease.status not in CURRENT_LEASE_STATUSES:
            raise ApplicationError("Le bail actuel doit être un bail en cours de l'agence.")
        return lease
    return None


def _save_people(application: Application, people: list[PersonData]) -> None:
    existing = {p.pk: p for p in application.people.all()}
    keep = set()
    for position, data in enumerate(people):
        person = existing.get(data.id) if data.id else None
        if person is None:
            person = ApplicationPerson(application=application)
        for name in (
            "relationship",
            "last_name",
            "first_name",
            "birth_date",
            "dependant",
            "disability_card",
            "tax_income",
            "tax_year",
            "phone",
            "email",
        ):
            setattr(person, name, getattr(data, name))
        person.last_name = person.last_name.strip()
        person.first_name = person.first_name.strip()
        person.position = position
        person.save()
        keep.add(person.pk)
        person.incomes.all().delete()
        Income.objects.bulk_create(
            [Income(person=person, source=source, monthly_amount=amount) for source, amount in data.incomes]
        )
    for pk, person in existing.items():
        if pk not in keep:
            person.delete()


@transaction.atomic
def application_register(
    *,
    agency,
    data: dict,
    people: list[PersonData],
    wished_communes=(),
    priority_criteria=(),
    by=None,
    on: date | None = None,
) -> Application:
    """Register a demand: number, dates (expiry = first registration + legal validity), household,
    incomes, wishes, priorities; status registered then active; denormalised columns and score.
    Raises ApplicationError (nothing saved) on an inconsistent household or income basis."""
    on = on or timezone.localdate()
    lease = _check_application(agency=agency, data=data, people=people, as_of=on)
    first = data.get("first_registered_on") or on
    application = Application(agency=agency, current_lease=lease, created_by=by)
    for name in APPLICATION_FIELDS:
        if name in data:
            setattr(application, name, data[name])
    application.first_registered_on = first
    application.local_number = next_local_number(on)
    application.expires_on = validity_end(first)
    # A demand registered a while ago (imported) is valid from its last anniversary.
    while application.expires_on <= on:
        application.last_renewed_on = application.expires_on
        application.expires_on = validity_end(application.expires_on)
    application.status = ApplicationStatus.REGISTERED
    application.save()
    ApplicationTransition.objects.create(
        application=application,
        from_status="",
        to_status=ApplicationStatus.REGISTERED,
        on=on,
        by=by,
        reason="Enregistrement de la demande",
    )
    application.wished_communes.set(wished_communes)
    application.priority_criteria.set(priority_criteria)
    _save_people(application, people)
    application_transition(
        application=application,
        to_status=ApplicationStatus.ACTIVE,
        on=on,
        by=by,
        reason=f"Demande valide jusqu'au {application.expires_on:%d/%m/%Y}",
    )
    return refresh_application(application, as_of=on, cause="Enregistrement de la demande")


@transaction.atomic
def application_update(
    *,
    application: Application,
    data: dict,
    people: list[PersonData],
    wished_communes=(),
    priority_criteria=(),
    by=None,
    on: date | None = None,
) -> Application:
    """Update an open demand (household, resources, wishes, priorities); seniority and number kept."""
    on = on or timezone.localdate()
    application = Application.objects.select_for_update().get(pk=application.pk)
    if not application.is_open:
        raise ApplicationError("Une demande radiée ne peut plus être modifiée.")
    if data.get("first_registered_on") and data["first_registered_on"] != application.first_registered_on:
        raise ApplicationError("La date de première inscription ne se modifie pas : elle fonde l'ancienneté.")
    data = {**data, "first_registered_on": application.first_registered_on}
    lease = _check_application(agency=application.agency, data=data, people=people, as_of=on)
    for name in APPLICATION_FIELDS:
        if name in data and name != "first_registered_on":
            setattr(application, name, data[name])
    application.current_lease = lease
    application.save()
    application.wished_communes.set(wished_communes)
    application.priority_criteria.set(priority_criteria)
    _save_people(application, people)
    return refresh_application(application, as_of=on, cause="Modification de la demande")


def application_cancel(*, application: Application, reason: str, note: str = "", by=None, on: date | None = None):
    """Radiate the demand with one of the R441-2-8 causes."""
    if reason not in CancellationReason.values:
        raise ApplicationError("Motif de radiation inconnu.")
    on = on or timezone.localdate()
    label = CancellationReason(reason).label
    return application_transition(
        application=application,
        to_status=ApplicationStatus.CANCELLED,
        on=on,
        by=by,
        reason=f"{label}{' : ' + note if note else ''}",
        cancellation_reason=reason,
    )


@transaction.atomic
def application_renew(*, application: Application, on: date | None = None, by=None) -> Application:
    """Renew the demand (CCH R441-2-7): seniority kept, new expiry = renewal day + legal validity;
    a demand awaiting renewal becomes active again."""
    on = on or timezone.localdate()
    application = Application.objects.select_for_update().get(pk=application.pk)
    if not application.is_open:
        raise ApplicationError(
            "Une demande radiée ne peut pas être renouvelée : une nouvelle demande (nouveau numéro, sans "
            "l'ancienneté) est nécessaire."
        )
    if on > application.expires_on:
        raise ApplicationError(
            f"La demande a expiré le {application.expires_on:%d/%m/%Y} : elle ne peut plus être renouvelée."
        )
    application.last_renewed_on = on
    application.expires_on = validity_end(on)
    application.save(update_fields=["last_renewed_on", "expires_on", "updated_at"])
    reason = f"Renouvellement : valide jusqu'au {application.expires_on:%d/%m/%Y}"
    if application.status == ApplicationStatus.RENEWAL_DUE:
        application_transition(application=application, to_status=ApplicationStatus.ACTIVE, on=on, by=by, reason=reason)
    else:
        ApplicationTransition.objects.create(
            application=application,
            from_status=application.status,
            to_status=application.status,
            on=on,
            by=by,
            reason=reason,
        )
    application.refresh_from_db()
    return application


# --- Supporting documents --------------------------------------------------------------------


def document_add(
    *, application: Application, document_type: DocumentType, uploaded, kind: str, by, person=None, on=None
) -> ApplicationDocument:
    """Store a supporting document of the national list under a generated name. `kind` is the
    content type read from the bytes (tenancies.uploads.check_upload)."""
    on = on or timezone.localdate()
    if document_type.valid_from > on or (document_type.valid_until and document_type.valid_until <= on):
        raise ApplicationError("Cette pièce ne figure pas dans la liste nationale en vigueur.")
    if person is not None and person.application_id != application.pk:
        raise ApplicationError("Cette personne ne fait pas partie du foyer de la demande.")
    uploaded.seek(0)
    content = ContentFile(uploaded.read())
    with transaction.atomic():
        document = ApplicationDocument(
            application=application,
            document_type=document_type,
            person=person,
            content_kind=kind,
            size=content.size,
            original_name=(getattr(uploaded, "name", "") or "piece")[-200:],
            uploaded_by=by,
        )
        document.file.save(generated_name("applications", EXTENSIONS[kind]), content, save=False)
        document.save()
    return document


# --- Duplicates ------------------------------------------------------------------------------

# Pairs of open applications sharing a person (same normalised "NOM PRENOM" and birth date),
# minus the pairs declared "not a duplicate".
_PAIRS_SQL = """
    SELECT DISTINCT LEAST(p1.application_id, p2.application_id) AS first_id,
                    GREATEST(p1.application_id, p2.application_id) AS second_id
    FROM applications_applicationperson p1
    JOIN applications_applicationperson p2
      ON p2.search_name = p1.search_name AND p2.birth_date = p1.birth_date
     AND p2.application_id <> p1.application_id
    JOIN applications_application a1 ON a1.id = p1.application_id AND a1.status = ANY(%(open)s)
    JOIN applications_application a2 ON a2.id = p2.application_id AND a2.status = ANY(%(open)s)
    WHERE {where}
      AND NOT EXISTS (SELECT 1 FROM applications_duplicatedismissal d
                      WHERE d.first_id = LEAST(p1.application_id, p2.application_id)
                        AND d.second_id = GREATEST(p1.application_id, p2.application_id))
"""


def duplicate_pairs(ids: list[int] | None = None) -> list[tuple[int, int]]:
    params = {"open": list(OPEN_STATUSES)}
    where = "TRUE"
    if ids is not None:
        where = "p1.application_id = ANY(%(ids)s)"
        params["ids"] = list(ids)
    with connection.cursor() as cursor:
        cursor.execute(_PAIRS_SQL.format(where=where), params)  # lint: allow raw-sql-format - fixed fragments
        return cursor.fetchall()


def refresh_duplicate_flags(*, ids: list[int] | None = None) -> int:
    """Set duplicate_suspected on the applications `ids` (all when None), their counterparts and
    the ones flagged before (a renamed person clears the flag of its former twin)."""
    pairs = duplicate_pairs(ids)
    flagged = {i for pair in pairs for i in pair}
    if ids is None:
        scope = None
    else:
        previously = set(Application.objects.filter(duplicate_suspected=True).values_list("pk", flat=True))
        scope = set(ids) | flagged | previously
        # Re-check the previously flagged ones against everything.
        flagged |= {i for pair in duplicate_pairs(list(previously - set(ids))) for i in pair} if previously else set()
    qs = Application.objects.all() if scope is None else Application.objects.filter(pk__in=scope)
    changed = qs.filter(duplicate_suspected=True).exclude(pk__in=flagged).update(duplicate_suspected=False)
    changed += qs.filter(duplicate_suspected=False, pk__in=flagged).update(duplicate_suspected=True)
    return changed


@transaction.atomic
def duplicate_resolve(*, keep: Application, other: Application, action: str, by, on: date | None = None) -> None:
    """Resolve a suspected duplicate: "cancel" radiates `other` as a duplicate of `keep`;
    "dismiss" records that the two are different demands."""
    if (keep.pk, other.pk) not in {(a, b) for a, b in duplicate_pairs([keep.pk])} | {
        (b, a) for a, b in duplicate_pairs([keep.pk])
    }:
        raise ApplicationError("Ces deux demandes ne sont pas signalées comme doublons.")
    if action == "cancel":
        application_cancel(
            application=other,
            reason=CancellationReason.DUPLICATE,
            note=f"doublon de la demande {keep.number}",
            by=by,
            on=on,
        )
    elif action == "dismiss":
        first, second = sorted((keep.pk, other.pk))
        DuplicateDismissal.objects.get_or_create(first_id=first, second_id=second, defaults={"by": by})
    else:
        raise ApplicationError("Action inconnue.")
    refresh_duplicate_flags(ids=[keep.pk, other.pk])


# --- Cotation grids --------------------------------------------------------------------------


@dataclass
class CriterionData:
    code: str
    label: str
    rule: str
    points: int
    parameter: str = ""
    cap: int | None = None


@transaction.atomic
def grid_create_version(
    *, agency, valid_from: date, criteria: list[CriterionData], note: str = "", by=None, today: date | None = None
) -> CotationGrid:
    """A new version of the agency's grid, in force from `valid_from` (never before today, never
    before the version in force); the current open-ended version ends that day. The open
    applications of the agency are rescored at once when the version is already in force."""
    from .models import RULE_PARAMETERS, CotationRule

    today = today or timezone.localdate()
    if valid_from < today:
        raise ApplicationError("Une nouvelle grille ne peut pas entrer en vigueur dans le passé.")
    if not criteria:
        raise ApplicationError("La grille doit comporter au moins un critère.")
    codes = [c.code for c in criteria]
    if len(set(codes)) != len(codes):
        raise ApplicationError("Deux critères de la grille ont le même code.")
    for c in criteria:
        if c.rule not in CotationRule.values:
            raise ApplicationError(f"Règle de calcul inconnue pour le critère « {c.label} ».")
        if c.rule in RULE_PARAMETERS and not c.parameter:
            raise ApplicationError(f"Le critère « {c.label} » demande un paramètre ({RULE_PARAMETERS[c.rule]}).")
    grids = CotationGrid.objects.select_for_update().filter(agency=agency)
    latest = grids.order_by("-version").first()
    if latest and latest.valid_from >= valid_from:
        raise ApplicationError(
            f"La nouvelle version doit entrer en vigueur après la version {latest.version} "
            f"({latest.valid_from:%d/%m/%Y})."
        )
    grids.filter(valid_until__isnull=True).update(valid_until=valid_from)
    grid = CotationGrid.objects.create(
        agency=agency, version=(latest.version + 1) if latest else 1, valid_from=valid_from, note=note, created_by=by
    )
    CotationCriterion.objects.bulk_create(
        [
            CotationCriterion(
                grid=grid,
                code=c.code,
                label=c.label,
                rule=c.rule,
                parameter=c.parameter,
                points=c.points,
                cap=c.cap,
                position=i,
            )
            for i, c in enumerate(criteria)
        ]
    )
    if valid_from <= today:
        cotation.rescore(
            agency_id=agency.pk, as_of=today, cause=f"Nouvelle grille de cotation (version {grid.version})"
        )
    return grid


# --- Renewals (daily job) --------------------------------------------------------------------

# Notices leave this many days before the legal latest date (expiry − renewal_notice), so a missed
# day or a slow post still leaves the applicant at least the legal month.
NOTICE_LEAD_DAYS = 15
# Statuses moved to "renewal due" by the notice; a demand in instruction or before the committee
# gets its notice but keeps its status (the committee's work is not interrupted).
NOTICE_MOVES = (ApplicationStatus.ACTIVE, ApplicationStatus.REFUSED)
NOTICE_STATUSES = (
    ApplicationStatus.ACTIVE,
    ApplicationStatus.REFUSED,
    ApplicationStatus.UNDER_REVIEW,
    ApplicationStatus.PRESENTED,
    ApplicationStatus.RENEWAL_DUE,
)


@dataclass
class RenewalRun:
    notices: int = 0
    cancelled: int = 0
    late_notices: int = 0
    rescored: int = 0


def renewal_due_on(expires_on: date) -> date:
    """First day the daily job sends the notice for a demand expiring on `expires_on`."""
    from datetime import timedelta

    return renewal_notice_latest(expires_on) - timedelta(days=NOTICE_LEAD_DAYS)


def renewals_run(*, as_of: date | None = None, by=None) -> RenewalRun:
    """The daily renewal job (CCH R441-2-7): notice letters for the demands whose notice is due
    (one stored PDF each, status → renewal due), radiation (not renewed) of the demands past their
    expiry still awaiting renewal, then the daily recompute of the scores (seniority). Idempotent."""
    from datetime import timedelta

    from billing.pdf import render_pdf

    as_of = as_of or timezone.localdate()
    result = RenewalRun()
    # The notice period is dated data: read it once for the horizon (it is one month today).
    notice_length = legal_period("renewal_notice", on=as_of).after(as_of) - as_of
    horizon = as_of + timedelta(days=NOTICE_LEAD_DAYS + 3) + notice_length
    candidates = (
        Application.objects.filter(status__in=NOTICE_STATUSES, expires_on__gt=as_of, expires_on__lte=horizon)
        .exclude(renewal_notices__expires_on=F("expires_on"))
        .select_related("agency")
        .prefetch_related("people")
        .order_by("pk")
    )
    for application in candidates:
        if renewal_due_on(application.expires_on) > as_of:
            continue
        latest = renewal_notice_latest(application.expires_on)
        with transaction.atomic():
            pdf = render_pdf(
                "applications/pdf/renewal_notice.html",
                {
                    "application": application,
                    "applicant": next((p for p in application.people.all() if p.relationship == "applicant"), None),
                    "today": as_of,
                },
            )
            notice = RenewalNotice(
                application=application, expires_on=application.expires_on, latest_send_on=latest, produced_on=as_of
            )
            notice.file.save(generated_name("applications/renewal", "pdf"), ContentFile(pdf), save=False)
            notice.save()
            if application.status in NOTICE_MOVES:
                application_transition(
                    application=application,
                    to_status=ApplicationStatus.RENEWAL_DUE,
                    on=as_of,
                    by=by,
                    reason=f"Avis de renouvellement : expiration le {application.expires_on:%d/%m/%Y}",
                )
        result.notices += 1
        result.late_notices += latest < as_of
    expired = Application.objects.filter(status=ApplicationStatus.RENEWAL_DUE, expires_on__lt=as_of).order_by("pk")
    for application in expired:
        application_cancel(
            application=application,
            reason=CancellationReason.NOT_RENEWED,
            note=f"expirée le {application.expires_on:%d/%m/%Y}",
            by=by,
            on=as_of,
        )
        result.cancelled += 1
    # A grid version published in advance comes into force today: its own cause in the score history.
    for grid in CotationGrid.objects.filter(valid_from=as_of).order_by("agency_id"):
        result.rescored += cotation.rescore(
            agency_id=grid.agency_id,
            as_of=as_of,
            cause=f"Entrée en vigueur de la grille de cotation (version {grid.version})",
        )
    result.rescored += cotation.rescore_all(as_of=as_of, cause="Recalcul quotidien (ancienneté)")
    return result


def age_of(person, on: date) -> int:
    return age_on(person.birth_date, on)
