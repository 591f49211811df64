"""CALEOL: sessions held, dwellings examined, the five decisions, offers refused and their reasons,
days from vacancy to signed lease.

Read-only on the committee app's models; every figure is a dated flow (session date, decision
date, answer date, lease signature date). A decision corrected later counts once, as corrected.
Refusals by reason: explicit refusals at their answer date, silences (no answer) the day after the
deadline. Days from vacancy to signed lease: from the allocation records (`committee.Allocation`),
average and exact median (a sparse histogram of whole days).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, DateField, ExpressionWrapper, F, Q
from django.db.models.functions import Coalesce, TruncMonth
from django.urls import reverse

from applications.committee.models import (
    AgendaItem,
    Allocation,
    Decision,
    DecisionKind,
    Offer,
    OfferStatus,
    RefusalReason,
    Session,
    SessionStatus,
)

from ..periods import month_end
from ..registry import Chart, Figure, Provider, in_agencies, register
from ..values import median, ratio
from .applications import ALLOCATION_COLUMNS

HELD = (SessionStatus.CLOSED, SessionStatus.SIGNED)
KINDS = [k.value for k in DecisionKind]
REASONS = [(r.value, r.label) for r in RefusalReason]
# The day a refusal counts: its answer, or for a silence the day after the deadline (R441-10).
REFUSED_ON = Coalesce("answered_on", ExpressionWrapper(F("deadline") + timedelta(days=1), output_field=DateField()))


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
            yield row["agency"], row["m"], f"decision_{row['k']}", row["n"], row["n"]
        answered = Offer.objects.filter(answered_on__gte=first, answered_on__lte=end)
        rows = answered.values(
            agency=F("candidature__item__session__agency"), m=TruncMonth("answered_on"), s=F("status")
        ).annotate(n=Count("pk"))
        for row in rows:
            key = "offers_refused" if row["s"] in (OfferStatus.REFUSED, OfferStatus.EXPIRED) else "offers_accepted"
            yield row["agency"], row["m"], key, row["n"], row["n"]
        refused = (
            Offer.objects.filter(status__in=(OfferStatus.REFUSED, OfferStatus.EXPIRED))
            .annotate(day=REFUSED_ON)
            .filter(day__gte=first, day__lte=end)
        )
        rows = refused.values(
            agency=F("candidature__item__session__agency"), m=TruncMonth("day"), k=F("refusal_kind")
        ).annotate(n=Count("pk"))
        for row in rows:
            kind = row["k"] or RefusalReason.OTHER
            yield row["agency"], row["m"], f"refusal_{kind}", row["n"], row["n"]
            yield row["agency"], row["m"], "refusals", row["n"], 0
        allocations = Allocation.objects.filter(
            allocated_on__gte=first, allocated_on__lte=end, vacancy_days__isnull=False
        )
        rows = allocations.values("agency", "vacancy_days", m=TruncMonth("allocated_on")).annotate(n=Count("pk"))
        for row in rows:
            yield row["agency"], row["m"], "vacancy_leases", row["n"], row["n"]
            yield row["agency"], row["m"], "vacancy_days", row["n"] * row["vacancy_days"], 0
            yield row["agency"], row["m"], f"vacancy_d_{row['vacancy_days']}", row["n"], 0

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
            Figure(
                "committee.refusals",
                "Refus de propositions (motif structuré)",
                "count",
                lambda v: v.flow("refusals"),
                _detail("committee.refusals"),
                help="Refus à la date de la réponse ; silences le lendemain de la date limite.",
            ),
        ]
        for code, label in REASONS:
            figures.append(
                Figure(
                    f"committee.refusal_{code}",
                    f"Refus : {label[0].lower()}{label[1:]}",
                    "count",
                    (lambda k: lambda v: v.flow(f"refusal_{k}"))(code),
                    _detail(f"committee.refusal_{code}"),
                )
            )
        figures += [
            Figure(
                "committee.vacancy_days",
                "Délai moyen de la vacance au bail signé (jours)",
                "days",
                lambda v: ratio(v.flow("vacancy_days"), v.flow("vacancy_leases"), scale=1),
                _detail("committee.vacancy_days"),
                help="Jours de la fin du bail précédent (ou de la mise en vacance) à la signature du nouveau bail.",
            ),
            Figure(
                "committee.vacancy_median",
                "Délai médian de la vacance au bail signé (jours)",
                "days",
                lambda v: median(v.histogram("vacancy_d_")),
                _detail("committee.vacancy_days"),
                help="Médiane exacte en jours entiers.",
            ),
        ]
        return figures

    def drilldowns(self):
        def refusals(kind=None):
            def query(agency_ids, period):
                qs = (
                    Offer.objects.filter(
                        **in_agencies("candidature__item__session__agency", agency_ids),
                        status__in=(OfferStatus.REFUSED, OfferStatus.EXPIRED),
                    )
                    .annotate(refused_on=REFUSED_ON)
                    .filter(refused_on__gte=period.start, refused_on__lte=period.end)
                    .select_related("candidature__item__dwelling")
                    .order_by("refused_on", "id")
                )
                if kind == RefusalReason.OTHER:
                    return qs.filter(Q(refusal_kind=kind) | Q(refusal_kind=""))
                return qs.filter(refusal_kind=kind) if kind else qs

            return query

        def vacancy(agency_ids, period):
            return (
                Allocation.objects.filter(
                    **in_agencies("agency", agency_ids),
                    allocated_on__gte=period.start,
                    allocated_on__lte=period.end,
                    vacancy_days__isnull=False,
                )
                .select_related("dwelling")
                .order_by("allocated_on", "id")
            )

        found = {
            "committee.refusals": ("Propositions refusées dans la période", refusals(), OFFER_COLUMNS),
            "committee.vacancy_days": ("Baux signés après vacance dans la période", vacancy, ALLOCATION_COLUMNS),
        }
        for code, label in REASONS:
            found[f"committee.refusal_{code}"] = (f"Refus : {label}", refusals(code), OFFER_COLUMNS)
        return found

    def charts(self):
        return [
            Chart(
                "committee_decisions",
                "Décisions de la CALEOL par mois",
                tuple(f"committee.decision_{k}" for k in KINDS),
            ),
            Chart(
                "committee_refusals",
                "Refus de propositions par motif",
                tuple(f"committee.refusal_{code}" for code, _l in REASONS),
            ),
            Chart(
                "committee_vacancy",
                "De la vacance au bail signé (jours)",
                ("committee.vacancy_days", "committee.vacancy_median:line"),
            ),
        ]


def _detail(code):
    return lambda ctx: ctx.detail_url(code)


OFFER_COLUMNS = [
    ("Refus le", "refused_on", "date"),
    ("Logement", "candidature.item.dwelling.reference", ""),
    ("Candidature", "candidature.pseudonym", ""),
    ("Statut", "get_status_display", ""),
    ("Motif", "get_refusal_kind_display", ""),
    ("Précision", "refusal_reason", ""),
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
            "refusals": "flow",
            **{f"refusal_{code}": "flow" for code, _l in REASONS},
            "vacancy_leases": "flow",
            "vacancy_days": "flow",
        },
        sparse={"vacancy_d_": "flow"},
    )
)
