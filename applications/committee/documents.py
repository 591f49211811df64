"""Committee documents (WeasyPrint through billing.pdf.render_pdf) and what the members' pages show.

- Ordre du jour: dwellings with their ranked candidates, pseudonymised, with score, effort rate,
  reste à vivre, réservataire and the legal reason when fewer than three candidates.
- Procès-verbal: one R441-3 decision per candidate with rank, reasons, condition and deadline,
  members present, quorum, corrections.
- Decision letters (L441-2-2): refusal (non-attribution) and inadmissibility with reasons and how
  to appeal; attribution letters refer to the offer.
- Offer letter (R441-10): the dwelling, rent and charges, the response deadline, silence = refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta
from django.db.models import Prefetch
from django.utils import timezone

from applications.eligibility import age_on
from applications.models import ApplicationPerson
from billing.documents import dwelling_address_lines
from billing.pdf import render_pdf

from . import matching, services
from .models import Candidature, DecisionKind, VotingRight


@dataclass
class MemberPerson:
    """What a member sees of a person of the household: relationship, age, disability card.
    Never a name, a phone, an e-mail or a national number."""

    relationship: str
    age: int
    dependant: bool
    disability_card: bool

    @classmethod
    def of(cls, person: ApplicationPerson, today: date) -> MemberPerson:
        return cls(
            person.get_relationship_display(),
            age_on(person.birth_date, today),
            person.dependant,
            person.disability_card,
        )


def default_lease_start(today: date) -> date:
    """The first day of the next month."""
    return (today + relativedelta(months=1)).replace(day=1)


def _items(session):
    items = list(
        session.items.select_related("dwelling__building__estate__commune").prefetch_related(
            Prefetch("candidatures", queryset=Candidature.objects.select_related("application")),
            "dwelling__charges",
        )
    )
    candidatures = [c for item in items for c in item.candidatures.all()]
    decisions = services.current_decisions(candidatures)
    for item in items:
        item.cost = matching.dwelling_cost(item.dwelling)
        for c in item.candidatures.all():
            c._current_decision = decisions.get(c.pk) or False
            c.history_rows = []
    return items, candidatures


def agenda_pdf(session) -> bytes:
    items, _ = _items(session)
    members = list(session.members.select_related("user"))
    return render_pdf(
        "committee/pdf/agenda.html",
        {"session": session, "items": items, "members": members, "issued_on": timezone.localdate()},
    )


def minutes_pdf(session) -> bytes:
    items, candidatures = _items(session)
    from .models import Decision

    corrections = list(
        Decision.objects.filter(candidature__in=candidatures, corrects__isnull=False)
        .select_related("corrects", "candidature")
        .order_by("id")
    )
    members = list(session.members.select_related("user"))
    for item in items:
        item.result = services.tally(item)
    return render_pdf(
        "committee/pdf/minutes.html",
        {
            "session": session,
            "items": items,
            "members": members,
            "deliberative": [m for m in members if m.voting_right == VotingRight.DELIBERATIVE],
            "consultative": [m for m in members if m.voting_right == VotingRight.CONSULTATIVE],
            "present": services.deliberative_present(session),
            "quorum_reached": services.quorum_reached(session),
            "corrections": [d for d in corrections if d.corrects.kind != d.kind or d.reasons],
            "issued_on": timezone.localdate(),
        },
    )


def _recipient(application):
    people = list(application.people.order_by("position", "id"))
    holders = [p for p in people if p.relationship in ("applicant", "spouse", "co_applicant")] or people[:1]
    return " et ".join(p.full_name for p in holders) or f"Demande {application.number}"


def decision_letter_pdf(candidature, decision) -> bytes:
    dwelling = candidature.item.dwelling
    return render_pdf(
        "committee/pdf/decision_letter.html",
        {
            "candidature": candidature,
            "decision": decision,
            "application": candidature.application,
            "session": candidature.item.session,
            "dwelling": dwelling,
            "address_lines": dwelling_address_lines(dwelling),
            "names": _recipient(candidature.application),
            "agency": candidature.item.session.agency,
            "kinds": DecisionKind,
            "issued_on": timezone.localdate(),
        },
    )


def offer_letter_pdf(offer) -> bytes:
    candidature = offer.candidature
    dwelling = candidature.item.dwelling
    cost = matching.dwelling_cost(dwelling)
    return render_pdf(
        "committee/pdf/offer_letter.html",
        {
            "offer": offer,
            "candidature": candidature,
            "decision": services.current_decisions([candidature]).get(candidature.pk),
            "application": candidature.application,
            "dwelling": dwelling,
            "charges": list(dwelling.charges.select_related("charge_type")),
            "cost": cost,
            "address_lines": dwelling_address_lines(dwelling),
            "names": _recipient(candidature.application),
            "agency": candidature.item.session.agency,
            "issued_on": offer.sent_on,
        },
    )
