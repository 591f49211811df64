"""CALEOL: sessions held, dwellings examined, the five decisions, offers refused.

Read-only on the committee app's models; every figure is a dated flow (session date, decision
date, answer date). A decision corrected later counts once, as corrected. Not computed (see
docs/dashboards.md): the refusal reasons (free text) and the days from vacancy to signed lease.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Count, F
from django.db.models.functions import TruncMonth
from django.urls import reverse

from applications.committee.models import AgendaItem, Decision, DecisionKind, Offer, OfferStatus, Session, SessionStatus

from ..periods import month_end
from ..registry import Chart, Figure, Provider, register
from ..values import ratio

HELD = (SessionStatus.CLOSED, SessionStatus.SIGNED)
KINDS = [k.value for k in DecisionKind]


class CommitteeProvider(Provider):
    def compute(self, *, months: list[date], as_of: date):
        first, end = months[0], min(as_of, month_end(months[-1]))
        sessions = Session.objects.filter(status__in=HELD, held_on__gte=first, held_on__lte=end)
        for row in sessions.values(ag=F("agency"), m=TruncMonth("held_on")).annotate(n=Count("pk")):
            yield row["ag"], row["m"], "sessions", row["n"], row["n"]
        items = AgendaItem.objects.filter(
            session__status__in=HELD, session__held_on__gte=first, session__held_on__lte=end
        )
        for row in items.values(ag=F("session__agency"), m=TruncMonth("session__held_on")).annotate(n=Count("pk")):
            yield row["ag"], row["m"], "examined", row["n"], row["n"]
        decisions = Decision.objects.filter(
            decided_at__date__gte=first, decided_at__date__lte=end, corrections__isnull=True
        )
        rows = decisions.values(
            agency=F("candidature__item__session__agency"), m=TruncMonth("decided_at__date"), k=F("kind")
        ).annotate(n=Count("pk"))
        for row in rows:
            yield row["ag"], row["m"], f"decision_{row['k']}", row["n"], row["n"]
        answered = Offer.objects.filter(answered_on__gte=first, answered_on__lte=end)
        rows = answered.values(
            agency=F("candidature__item__session__agency"), m=TruncMonth("answered_on"), s=F("status")
        ).annotate(n=Count("pk"))
        for row in rows:
            key = "offers_refused" if row["s"] in (OfferStatus.REFUSED, OfferStatus.EXPIRED) else "offers_accepted"
            yield row["ag"], row["m"], key, row["n"], row["n"]

    def figures(self):
        def sessions(ctx):
            return reverse("committee:session_list")

        note = "liste des séances (sans filtre de date)"
        figures = [
            Figure("committee.sessions", "Séances tenues", "count", lambda v: v.flow("sessions"), sessions, note),
            Figure("committee.examined", "Logements examinés", "count", lambda v: v.flow("examined"), sessions, note),
        ]
        for kind in DecisionKind:
            figures.append(
                Figure(
                    f"committee.decision_{kind.value}",
                    f"Décisions : {kind.label.lower()}",
                    "count",
                    (lambda k: lambda v: v.flow(f"decision_{k}"))(kind.value),
                    sessions,
                    note,
                )
            )
        figures += [
            Figure(
                "committee.offers_refused",
                "Propositions refusées ou sans réponse",
                "count",
                lambda v: v.flow("offers_refused"),
                sessions,
                note,
            ),
            Figure(
                "committee.refusal_rate",
                "Taux de refus des propositions",
                "percent",
                lambda v: ratio(v.flow("offers_refused"), _add(v.flow("offers_refused"), v.flow("offers_accepted"))),
            ),
        ]
        return figures

    def charts(self):
        return [
            Chart(
                "committee_decisions",
                "Décisions de la CALEOL par mois",
                tuple(f"committee.decision_{k}" for k in KINDS),
            )
        ]


def _add(a, b):
    return None if a is None or b is None else a + b


register(
    CommitteeProvider(
        slug="committee",
        title="Commission d'attribution (CALEOL)",
        order=30,
        components={
            "sessions": "flow",
            "examined": "flow",
            **{f"decision_{k}": "flow" for k in KINDS},
            "offers_refused": "flow",
            "offers_accepted": "flow",
        },
    )
)
