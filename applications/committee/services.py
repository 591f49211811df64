"""The write path of the committee (STYLE.md habit 1): agenda, sessions, votes, decisions, offers.

Every function is keyword-only, owns its transaction, raises CommitteeError with a French
message when a rule refuses the action, and moves applications only through
applications.services.application_transition.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from applications.models import ApplicationStatus, CancellationReason, Relationship
from applications.services import ApplicationError, application_transition
from tenancies.legal_dates import legal_deadline
from tenancies.models import (
    CURRENT_LEASE_STATUSES,
    Dwelling,
    DwellingStatus,
    Household,
    Lease,
    LeaseStatus,
    Person,
    PersonRole,
)
from tenancies.services import LeaseError, lease_create

from . import matching
from .models import (
    ATTRIBUTING,
    OFFER_TRANSITIONS,
    REASONS_REQUIRED,
    SESSION_TRANSITIONS,
    AgendaItem,
    Allocation,
    Candidature,
    Decision,
    DecisionKind,
    ExceptionReason,
    FirstQuartileThreshold,
    Offer,
    OfferStatus,
    RefusalReason,
    Session,
    SessionMember,
    SessionStatus,
    Vote,
    VotingRight,
)

S = ApplicationStatus
MIN_CANDIDATES = 3  # CCH L441-2: at least three candidates per dwelling, save the two exceptions
# Statuses from which a demand can be put forward for a dwelling; REFUSED goes back to ACTIVE first.
SELECTABLE = (S.ACTIVE, S.RENEWAL_DUE, S.UNDER_REVIEW, S.REFUSED)
ROLE_FROM_RELATIONSHIP = {
    Relationship.APPLICANT: PersonRole.TITULAIRE,
    Relationship.CO_APPLICANT: PersonRole.COTITULAIRE,
    Relationship.SPOUSE: PersonRole.COTITULAIRE,
    Relationship.CHILD: PersonRole.ENFANT,
    Relationship.RELATIVE: PersonRole.ASCENDANT,
    Relationship.OTHER: PersonRole.AUTRE,
}


class CommitteeError(Exception):
    """A committee rule refused the action; the message is French and shown to the user."""


def _move(application, to_status, *, on, by, reason="", cancellation_reason=""):
    try:
        application_transition(
            application=application,
            to_status=to_status,
            on=on,
            by=by,
            reason=reason,
            cancellation_reason=cancellation_reason,
        )
    except ApplicationError as exc:
        raise CommitteeError(f"Demande {application.number} : {exc}") from exc


# --- Sessions ---------------------------------------------------------------------------------


def session_create(
    *, agency, held_on: date, opens_at, closes_at, quorum: int, place: str = "", president=None, by=None
):
    """A new session in preparation. The president, when given, sits with a deliberative vote."""
    if closes_at <= opens_at:
        raise CommitteeError("La clôture des votes doit suivre leur ouverture.")
    if quorum < 1:
        raise CommitteeError("Le quorum doit être d'au moins un membre à voix délibérative.")
    with transaction.atomic():
        session = Session.objects.create(
            agency=agency,
            held_on=held_on,
            place=place,
            opens_at=opens_at,
            closes_at=closes_at,
            quorum=quorum,
            president=president,
            created_by=by,
        )
        if president is not None:
            member_add(session=session, user=president, voting_right=VotingRight.DELIBERATIVE, capacity="Président(e)")
    return session


def member_add(*, session, user, voting_right: str, capacity: str = "") -> SessionMember:
    if session.status == SessionStatus.SIGNED:
        raise CommitteeError("Le procès-verbal est signé : la composition ne peut plus changer.")
    member, created = SessionMember.objects.get_or_create(
        session=session, user=user, defaults={"voting_right": voting_right, "capacity": capacity}
    )
    if not created and (member.voting_right != voting_right or (capacity and member.capacity != capacity)):
        member.voting_right = voting_right
        member.capacity = capacity or member.capacity
        member.save()
    return member


def member_set_presence(*, member: SessionMember, present: bool) -> SessionMember:
    if member.session.status == SessionStatus.SIGNED:
        raise CommitteeError("Le procès-verbal est signé : les présences ne peuvent plus changer.")
    member.present = present
    member.save(update_fields=["present"])
    return member


def deliberative_present(session) -> int:
    """Deliberative members present: marked present by the secretariat, or having voted (remote)."""
    return (
        session.members.filter(voting_right=VotingRight.DELIBERATIVE)
        .filter(Q(present=True) | Q(votes__item__session=session))
        .distinct()
        .count()
    )


def quorum_reached(session) -> bool:
    return deliberative_present(session) >= session.quorum


def session_transition(*, session, to_status: str, by=None, now=None) -> Session:
    """Open (candidates become "presented"), close (votes end), or sign the minutes (decisions take
    effect: non-attributed demands go back to active, inadmissible ones are radiated, the best
    attributed candidate of each dwelling gets the offer)."""
    now = now or timezone.now()
    with transaction.atomic():
        session = Session.objects.select_for_update().get(pk=session.pk)
        if to_status not in SESSION_TRANSITIONS[session.status]:
            raise CommitteeError(
                f"Une séance « {session.get_status_display()} » ne peut pas passer au statut "
                f"« {SessionStatus(to_status).label} »."
            )
        today = timezone.localdate(now)
        if to_status == SessionStatus.OPEN:
            _check_ready(session)
            for candidature in Candidature.objects.filter(item__session=session).select_related("application"):
                if candidature.application.status == S.UNDER_REVIEW:
                    _move(candidature.application, S.PRESENTED, on=today, by=by, reason=f"Présentée : {session}")
        elif to_status == SessionStatus.SIGNED:
            _apply_decisions(session, by=by, on=today)
            session.signed_at = now
            session.signed_by = by
        session.status = to_status
        session.save()
    return session


def _check_ready(session) -> None:
    if session.president_id is None:
        raise CommitteeError("Désignez le ou la président(e) de séance avant d'ouvrir la séance.")
    deliberative = session.members.filter(voting_right=VotingRight.DELIBERATIVE).count()
    if deliberative < session.quorum:
        raise CommitteeError(
            f"La séance compte {deliberative} membre(s) à voix délibérative pour un quorum de {session.quorum}."
        )
    if not session.items.exists():
        raise CommitteeError("L'ordre du jour est vide : ajoutez au moins un logement.")


# --- Agenda -----------------------------------------------------------------------------------


def agenda_add(
    *,
    session,
    dwelling: Dwelling,
    applications: list,
    by=None,
    on: date,
    exception_reason: str = "",
    exception_note: str = "",
) -> AgendaItem:
    """Put `dwelling` on the session's agenda with `applications` ranked in the given order; the
    demands go under review (presented at once when the session is already open).

    CCH L441-2: at least three candidates, fewer only for an insufficient number of candidates
    (with a written justification) or a household designated DALO by the préfet."""
    applications = list(applications)
    if not applications:
        raise CommitteeError("Sélectionnez au moins une demande.")
    if len({a.pk for a in applications}) != len(applications):
        raise CommitteeError("Une même demande est sélectionnée deux fois.")
    if session.status not in (SessionStatus.PREPARATION, SessionStatus.OPEN):
        raise CommitteeError("Cette séance n'accepte plus de logements à son ordre du jour.")
    if session.agency_id != dwelling.building.estate.agency_id:
        raise CommitteeError("Le logement n'appartient pas à l'agence de cette séance.")
    if dwelling.status != DwellingStatus.VACANT:
        raise CommitteeError("Seul un logement vacant peut être présenté en commission.")
    if len(applications) < MIN_CANDIDATES:
        if exception_reason == ExceptionReason.INSUFFICIENT:
            if not exception_note.strip():
                raise CommitteeError("Justifiez l'insuffisance du nombre de candidats.")
        elif exception_reason == ExceptionReason.DALO:
            if not any(a.dalo for a in applications):
                raise CommitteeError("Aucun des candidats n'est désigné au titre du DALO.")
        else:
            raise CommitteeError(
                f"Au moins {MIN_CANDIDATES} candidats sont requis par logement (CCH L441-2) : "
                "indiquez le motif légal (insuffisance de candidats ou désignation DALO)."
            )
    else:
        exception_reason, exception_note = "", ""
    cost = matching.dwelling_cost(dwelling)
    with transaction.atomic():
        Dwelling.objects.select_for_update().filter(pk=dwelling.pk).first()
        if AgendaItem.objects.filter(session=session, dwelling=dwelling).exists():
            raise CommitteeError("Ce logement est déjà à l'ordre du jour de cette séance.")
        position = (session.items.order_by("-position").values_list("position", flat=True).first() or 0) + 1
        item = AgendaItem.objects.create(
            session=session,
            dwelling=dwelling,
            position=position,
            exception_reason=exception_reason,
            exception_note=exception_note.strip(),
            created_by=by,
        )
        figures = matching.figures_for(applications, dwelling, cost, on=on)
        for rank, application in enumerate(applications, start=1):
            application.refresh_from_db()
            if application.status not in SELECTABLE:
                raise CommitteeError(
                    f"La demande {application.number} ({application.get_status_display()}) ne peut pas être présentée."
                )
            if application.status == S.REFUSED:
                _move(application, S.ACTIVE, on=on, by=by, reason="Nouvelle candidature")
            if application.status != S.UNDER_REVIEW:
                _move(application, S.UNDER_REVIEW, on=on, by=by, reason=f"Candidat pour le logement {dwelling}")
            if session.status == SessionStatus.OPEN:
                _move(application, S.PRESENTED, on=on, by=by, reason=f"Présentée : {session}")
            f = figures[application.pk]
            Candidature.objects.create(
                item=item,
                application=application,
                rank=rank,
                monthly_resources=f.monthly_resources,
                housing_cost=f.housing_cost,
                apl_estimate=f.apl_estimate,
                effort_rate=f.effort_rate,
                daily_rest=f.daily_rest,
                consumption_units=f.units,
                flags=f.flags,
                selected_by=by,
            )
    return item


def candidature_set_apl(*, candidature: Candidature, amount: Decimal | None, on: date) -> Candidature:
    """Replace the estimated housing benefit by a known amount (None: back to the estimate), and
    recompute the effort rate and reste à vivre."""
    from . import solvency as solv

    if candidature.item.session.status == SessionStatus.SIGNED:
        raise CommitteeError("Le procès-verbal est signé : les chiffres du dossier sont figés.")
    if amount is not None and amount < 0:
        raise CommitteeError("Le montant d'APL ne peut pas être négatif.")
    candidature.apl_override = amount
    apl = candidature.apl
    candidature.effort_rate = solv.effort_rate(
        rent=candidature.housing_cost, annexes=0, charges=0, apl=apl, monthly_resources=candidature.monthly_resources
    )
    candidature.daily_rest = solv.daily_rest_per_unit(
        monthly_resources=candidature.monthly_resources,
        net_housing_cost=candidature.housing_cost - apl,
        units=candidature.consumption_units,
    )
    thresholds = solv.thresholds_on(on)
    flags = []
    if candidature.effort_rate is None:
        flags.append("no_resources")
    elif thresholds.max_effort_rate is not None and candidature.effort_rate > thresholds.max_effort_rate:
        flags.append("effort_rate")
    if thresholds.min_daily_rest is not None and candidature.daily_rest < thresholds.min_daily_rest:
        flags.append("daily_rest")
    candidature.flags = flags
    candidature.save()
    return candidature


# --- Votes ------------------------------------------------------------------------------------


def vote_cast(
    *, item: AgendaItem, user, ranking: list[int], non_attribution: bool, comment: str = "", now=None
) -> Vote:
    """Record (or change) `user`'s vote on the dwelling until the session closes."""
    now = now or timezone.now()
    session = Session.objects.get(pk=item.session_id)
    member = SessionMember.objects.filter(session=session, user=user).first()
    if member is None:
        raise CommitteeError("Vous ne siégez pas à cette séance.")
    if session.status in (SessionStatus.CLOSED, SessionStatus.SIGNED) or now >= session.closes_at:
        raise CommitteeError("La séance est close : le vote n'est plus possible.")
    if session.status != SessionStatus.OPEN or now < session.opens_at:
        raise CommitteeError("Le vote n'est pas encore ouvert pour cette séance.")
    ids = set(item.candidatures.values_list("id", flat=True))
    if non_attribution:
        ranking = []
    else:
        if not ranking:
            raise CommitteeError("Classez au moins un candidat, ou votez la non-attribution.")
        if len(set(ranking)) != len(ranking):
            raise CommitteeError("Un candidat ne peut occuper qu'un rang.")
        if not set(ranking) <= ids:
            raise CommitteeError("Le classement contient un candidat qui n'est pas présenté pour ce logement.")
    with transaction.atomic():
        vote = Vote.objects.select_for_update().filter(item=item, member=member).first() or Vote(
            item=item, member=member
        )
        vote.ranking = list(ranking)
        vote.non_attribution = non_attribution
        vote.comment = comment[:500]
        vote.save()
    return vote


def tally(item: AgendaItem) -> dict:
    """Deliberative votes on the dwelling: first choices per candidature, non-attribution count,
    average rank. Consultative opinions are counted apart."""
    result = {"first": {}, "non_attribution": 0, "votes": 0, "opinions": 0, "mean_rank": {}}
    ranks: dict[int, list[int]] = {}
    for vote in item.votes.select_related("member"):
        if vote.member.voting_right != VotingRight.DELIBERATIVE:
            result["opinions"] += 1
            continue
        result["votes"] += 1
        if vote.non_attribution:
            result["non_attribution"] += 1
            continue
        result["first"][vote.ranking[0]] = result["first"].get(vote.ranking[0], 0) + 1
        for position, cid in enumerate(vote.ranking, start=1):
            ranks.setdefault(cid, []).append(position)
    result["mean_rank"] = {cid: Decimal(sum(r)) / len(r) for cid, r in ranks.items()}
    return result


# --- Decisions --------------------------------------------------------------------------------


def decision_record(
    *,
    candidature: Candidature,
    kind: str,
    by,
    rank: int | None = None,
    condition: str = "",
    condition_deadline: date | None = None,
    reasons: str = "",
    correction: bool = False,
    on: date | None = None,
) -> Decision:
    """Record the committee's decision on a candidature (one of the five of CCH R441-3).

    Only the session's president records, only with the quorum, from the opening of the session;
    once the minutes are signed a decision is immutable and only a correction (a new decision
    superseding it, with its reasons) can be recorded."""
    session = Session.objects.get(pk=candidature.item.session_id)
    if kind not in DecisionKind.values:
        raise CommitteeError("Décision inconnue.")
    if by is None or by.pk != session.president_id:
        raise CommitteeError("Seul(e) le ou la président(e) de séance enregistre les décisions.")
    if session.status == SessionStatus.PREPARATION:
        raise CommitteeError("La séance n'est pas encore ouverte.")
    if session.status == SessionStatus.SIGNED and not correction:
        raise CommitteeError(
            "Le procès-verbal est signé : la décision ne peut plus être modifiée. "
            "Enregistrez une décision rectificative."
        )
    if not quorum_reached(session):
        raise CommitteeError(
            f"Quorum non atteint ({deliberative_present(session)} membre(s) à voix délibérative présent(s) "
            f"pour {session.quorum} requis) : aucune décision ne peut être enregistrée."
        )
    reasons = reasons.strip()
    condition = condition.strip()
    if kind in REASONS_REQUIRED and not reasons:
        raise CommitteeError("Les motifs sont obligatoires pour un refus ou une irrecevabilité (CCH L441-2-2).")
    if kind == DecisionKind.RANKED and not rank:
        raise CommitteeError("Indiquez le rang d'attribution.")
    if kind == DecisionKind.CONDITIONAL and (not condition or condition_deadline is None):
        raise CommitteeError("Indiquez la pièce attendue et la date limite de la condition suspensive.")
    if correction and not reasons:
        raise CommitteeError("Motivez la décision rectificative.")
    if kind == DecisionKind.ATTRIBUTION:
        rank = 1
    elif kind != DecisionKind.RANKED:
        rank = None
    if kind != DecisionKind.CONDITIONAL:
        condition, condition_deadline = "", None
    with transaction.atomic():
        Candidature.objects.select_for_update().filter(pk=candidature.pk).first()
        previous = candidature.decisions.order_by("-id").first()
        if correction and previous is None:
            raise CommitteeError("Aucune décision à rectifier.")
        decision = Decision.objects.create(
            candidature=candidature,
            kind=kind,
            rank=rank,
            condition=condition,
            condition_deadline=condition_deadline,
            reasons=reasons,
            corrects=previous,
            decided_by=by,
        )
        if session.status == SessionStatus.SIGNED:
            _apply_one(candidature, decision, by=by, on=on or timezone.localdate())
    candidature._current_decision = decision
    return decision


def current_decisions(candidatures) -> dict[int, Decision]:
    """{candidature id: latest decision} in one query."""
    result = {}
    for d in Decision.objects.filter(candidature__in=candidatures).order_by("candidature_id", "-id"):
        result.setdefault(d.candidature_id, d)
    return result


def _attribution_order(candidature, decision) -> tuple:
    return (0 if decision.kind == DecisionKind.ATTRIBUTION else 1, decision.rank or 99, candidature.rank)


def _apply_one(candidature, decision, *, by, on):
    """Effect of a decision on the demand (at signature, or a correction after it)."""
    application = candidature.application
    application.refresh_from_db()
    if application.status != S.PRESENTED:
        return
    if decision.kind == DecisionKind.NON_ATTRIBUTION:
        _move(application, S.ACTIVE, on=on, by=by, reason="Non-attribution par la CALEOL")
    elif decision.kind == DecisionKind.INADMISSIBLE:
        _move(
            application,
            S.CANCELLED,
            on=on,
            by=by,
            reason="Irrecevabilité décidée par la CALEOL",
            cancellation_reason=CancellationReason.INADMISSIBLE,
        )


def _apply_decisions(session, *, by, on):
    candidatures = list(Candidature.objects.filter(item__session=session).select_related("application", "item"))
    decisions = current_decisions(candidatures)
    missing = [c for c in candidatures if c.pk not in decisions]
    if missing:
        raise CommitteeError(f"{len(missing)} candidature(s) sans décision : le procès-verbal ne peut pas être signé.")
    for c in candidatures:
        _apply_one(c, decisions[c.pk], by=by, on=on)
    for item in session.items.all():
        offer_next(item=item, on=on, by=by)


# --- Offers -----------------------------------------------------------------------------------


def attributed_in_order(item) -> list[Candidature]:
    candidatures = list(item.candidatures.select_related("application"))
    decisions = current_decisions(candidatures)
    attributed = [c for c in candidatures if c.pk in decisions and decisions[c.pk].kind in ATTRIBUTING]
    return sorted(attributed, key=lambda c: _attribution_order(c, decisions[c.pk]))


def offer_next(*, item: AgendaItem, on: date, by=None) -> Offer | None:
    """Send the offer to the best-ranked attributed candidate who has not had one yet, unless an
    offer on this dwelling is pending or accepted. None when the ranking is exhausted."""
    if Offer.objects.filter(
        candidature__item=item, status__in=[OfferStatus.SENT, OfferStatus.ACCEPTED, OfferStatus.COMPLETED]
    ).exists():
        return None
    for candidature in attributed_in_order(item):
        if hasattr_offer(candidature):
            continue
        if candidature.application.status != S.PRESENTED:
            continue
        return offer_send(candidature=candidature, sent_on=on, by=by)
    return None


def hasattr_offer(candidature) -> bool:
    return Offer.objects.filter(candidature=candidature).exists()


def offer_send(*, candidature: Candidature, sent_on: date, received_on: date | None = None, by=None) -> Offer:
    """The written offer; the response deadline counts from its receipt (CCH R441-10: at least
    10 days, the day of receipt not counted, moved to the next working day)."""
    received_on = received_on or sent_on
    with transaction.atomic():
        _move(
            candidature.application,
            S.OFFER_SENT,
            on=sent_on,
            by=by,
            reason=f"Proposition : {candidature.item.dwelling}",
        )
        return Offer.objects.create(
            candidature=candidature,
            sent_on=sent_on,
            received_on=received_on,
            deadline=legal_deadline("offer_response", received_on),
            created_by=by,
        )


def offer_set_received(*, offer: Offer, received_on: date) -> Offer:
    """The actual receipt (or first presentation) date: the deadline runs from it."""
    if offer.status != OfferStatus.SENT:
        raise CommitteeError("Cette proposition a déjà reçu une réponse.")
    if received_on < offer.sent_on:
        raise CommitteeError("La réception ne peut pas précéder l'envoi.")
    offer.received_on = received_on
    offer.deadline = legal_deadline("offer_response", received_on)
    offer.save(update_fields=["received_on", "deadline"])
    return offer


def _offer_move(offer, to_status):
    if to_status not in OFFER_TRANSITIONS[offer.status]:
        raise CommitteeError(
            f"Une proposition « {offer.get_status_display()} » ne peut pas passer au statut "
            f"« {OfferStatus(to_status).label} »."
        )
    offer.status = to_status


def household_from_application(application, agency) -> Household:
    """The future tenants in tenancies: one household, a person per member of the demand."""
    household = Household.objects.create(agency=agency)
    for p in application.people.all():
        Person.objects.create(
            household=household,
            last_name=p.last_name,
            first_name=p.first_name,
            birth_date=p.birth_date,
            role=ROLE_FROM_RELATIONSHIP.get(p.relationship, PersonRole.AUTRE),
            phone=p.phone,
            email=p.email,
        )
    return household


def offer_accept(*, offer: Offer, on: date, starts_on: date, by=None) -> Offer:
    """Acceptance: the demand is attributed, a draft lease is created with the dwelling's rent and
    charges (the dwelling becomes reserved), the other candidates of the dwelling go back to active."""
    with transaction.atomic():
        offer = (
            Offer.objects.select_for_update()
            .select_related("candidature__application", "candidature__item")
            .get(pk=offer.pk)
        )
        _offer_move(offer, OfferStatus.ACCEPTED)
        if on > offer.deadline:
            raise CommitteeError(f"Le délai de réponse a expiré le {offer.deadline:%d/%m/%Y} : le silence vaut refus.")
        if starts_on < on:
            raise CommitteeError("La date d'effet du bail ne peut pas précéder l'acceptation.")
        candidature = offer.candidature
        dwelling = Dwelling.objects.select_related("building__estate").get(pk=candidature.item.dwelling_id)
        _move(candidature.application, S.ACCEPTED, on=on, by=by, reason="Proposition acceptée")
        household = household_from_application(candidature.application, dwelling.building.estate.agency)
        try:
            lease = lease_create(dwelling=dwelling, household=household, starts_on=starts_on, by=by, rent=dwelling.rent)
        except LeaseError as exc:
            raise CommitteeError(str(exc)) from exc
        offer.lease = lease
        offer.answered_on = on
        offer.save()
        for other in candidature.item.candidatures.exclude(pk=candidature.pk).select_related("application"):
            if other.application.status == S.PRESENTED:
                _move(other.application, S.ACTIVE, on=on, by=by, reason="Logement attribué à un autre candidat")
    return offer


def offer_refuse(
    *, offer: Offer, on: date, reason: str = "", kind: str = "", by=None, expired: bool = False
) -> Offer | None:
    """Refusal, or silence past the deadline (R441-10: silence vaut refus): the dwelling goes to the
    next ranked candidate. Returns the next offer, if any.

    `kind` is the structured reason (RefusalReason), `reason` its free-text detail; an expired offer's
    reason is "no_answer", a refusal without a known reason "other"."""
    if expired:
        kind = RefusalReason.NO_ANSWER
    elif kind not in RefusalReason.values:
        if kind:
            raise CommitteeError("Motif de refus inconnu.")
        kind = RefusalReason.OTHER
    with transaction.atomic():
        offer = (
            Offer.objects.select_for_update()
            .select_related("candidature__application", "candidature__item")
            .get(pk=offer.pk)
        )
        _offer_move(offer, OfferStatus.EXPIRED if expired else OfferStatus.REFUSED)
        offer.answered_on = None if expired else on
        offer.refusal_kind = kind
        offer.refusal_reason = reason.strip()[:500]
        offer.save()
        why = "Sans réponse dans le délai : vaut refus" if expired else "Proposition refusée"
        _move(offer.candidature.application, S.REFUSED, on=on, by=by, reason=why)
        return offer_next(item=offer.candidature.item, on=on, by=by)


def offers_follow_up(*, as_of: date, by=None) -> dict[str, int]:
    """The daily job: offers past their deadline expire (the next candidate gets the offer); accepted
    offers whose lease is now signed radiate the demand for attribution. Idempotent."""
    counts = {"expired": 0, "next_offers": 0, "leases_signed": 0}
    for offer in Offer.objects.filter(status=OfferStatus.SENT, deadline__lt=as_of).order_by("id"):
        following = offer_refuse(offer=offer, on=as_of, by=by, expired=True)
        counts["expired"] += 1
        counts["next_offers"] += following is not None
    signed = Offer.objects.filter(status=OfferStatus.ACCEPTED, lease__status__in=CURRENT_LEASE_STATUSES)
    for offer in signed.select_related("candidature__application", "lease").order_by("id"):
        with transaction.atomic():
            application = offer.candidature.application
            on = offer.lease.signed_on or as_of
            if application.status == S.ACCEPTED:
                _move(application, S.LEASE_SIGNED, on=on, by=by, reason=f"Bail {offer.lease.number} signé")
            if application.status == S.LEASE_SIGNED:
                _move(
                    application,
                    S.CANCELLED,
                    on=on,
                    by=by,
                    reason="Radiation pour attribution",
                    cancellation_reason=CancellationReason.ATTRIBUTION,
                )
            allocation_record(offer=offer, as_of=as_of)
            offer.status = OfferStatus.COMPLETED
            offer.save(update_fields=["status"])
            counts["leases_signed"] += 1
    # Completed before the allocation record existed: written once, late.
    missing = Offer.objects.filter(status=OfferStatus.COMPLETED, lease__isnull=False, allocation__isnull=True)
    for offer in missing.select_related("lease").order_by("id"):
        allocation_record(offer=offer, as_of=as_of)
    return counts


# --- Allocation record ------------------------------------------------------------------------

CENT = Decimal("0.01")


def whole_months(start: date, end: date) -> int:
    """Months completed from `start` to `end`: the day of the month must be reached (15/01 → 14/03 is
    1, → 15/03 is 2; 31/01 → 28/02 is 0); 0 if end < start. The dashboards' SQL uses the same rule."""
    if end < start:
        return 0
    return (end.year - start.year) * 12 + end.month - start.month - (1 if end.day < start.day else 0)


def first_quartile_threshold(commune_id: int, on: date) -> Decimal | None:
    """The first-quartile threshold of the commune for `on`'s year (else the latest earlier year)."""
    row = (
        FirstQuartileThreshold.objects.filter(commune_id=commune_id, year__lte=on.year)
        .order_by("-year")
        .values_list("amount", flat=True)
        .first()
    )
    return row


def vacancy_start(dwelling: Dwelling, lease: Lease, on: date) -> date | None:
    """When the dwelling became vacant before `lease`: the end of its previous lease; without one,
    the date its history last moved it from another status to vacant; None when unknown."""
    previous = (
        Lease.objects.filter(dwelling=dwelling, ends_on__isnull=False, ends_on__lte=on)
        .exclude(pk=lease.pk)
        .exclude(status__in=[LeaseStatus.DRAFT, LeaseStatus.CANCELLED])
        .order_by("-ends_on")
        .values_list("ends_on", flat=True)
        .first()
    )
    if previous:
        return previous
    since = None
    for record in dwelling.history.filter(history_date__date__lte=on).order_by("history_date", "history_id"):
        if record.status in (DwellingStatus.VACANT, DwellingStatus.RESERVED):
            since = since or timezone.localdate(record.history_date)
        else:
            since = None
    return since


def allocation_record(*, offer: Offer, as_of: date) -> Allocation:
    """The allocation record of an accepted offer whose lease is signed. Idempotent: one per offer."""
    existing = Allocation.objects.filter(offer=offer).first()
    if existing is not None:
        return existing
    offer = Offer.objects.select_related(
        "lease__dwelling__building__estate", "candidature__application", "candidature__item__session"
    ).get(pk=offer.pk)
    lease = offer.lease
    if lease is None:
        raise CommitteeError("Cette proposition n'a pas de bail : pas d'attribution à enregistrer.")
    dwelling = lease.dwelling
    estate = dwelling.building.estate
    candidature = offer.candidature
    application = candidature.application
    on = lease.signed_on or as_of
    annual = (candidature.monthly_resources * 12).quantize(CENT, rounding=ROUND_HALF_UP)
    units = candidature.consumption_units
    per_unit = (annual / units).quantize(CENT, rounding=ROUND_HALF_UP) if units else annual
    threshold = first_quartile_threshold(estate.commune_id, on)
    since = vacancy_start(dwelling, lease, on)
    with transaction.atomic():
        allocation, _created = Allocation.objects.get_or_create(
            offer=offer,
            defaults={
                "agency_id": estate.agency_id,
                "dwelling": dwelling,
                "lease": lease,
                "application": application,
                "allocated_on": on,
                "contingent": dwelling.contingent,
                "qpv": estate.qpv,
                "dalo": application.dalo,
                "priority_public": application.priority_criteria.exists(),
                "annual_resources": annual,
                "consumption_units": units,
                "resources_per_unit": per_unit,
                "quartile_threshold": threshold,
                "first_quartile": threshold is not None and per_unit < threshold,
                "first_registered_on": application.first_registered_on,
                "waiting_days": max((on - application.first_registered_on).days, 0),
                "waiting_months": whole_months(application.first_registered_on, on),
                "vacant_since": since,
                "vacancy_days": None if since is None else max((on - since).days, 0),
            },
        )
    return allocation
