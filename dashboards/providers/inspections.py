"""Move-outs: exit EDLs done and pending, days from key return to deposit settlement, share settled
within the legal deadline, late-refund penalties.

Read-only on the inspections app's models. Done EDLs and settlements are dated (rebuilt for any
month); pending EDLs and open settlements are live (photographed each refresh for its month).
"""

from __future__ import annotations

from datetime import date

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncMonth

from inspections.models import Inspection, InspectionKind, InspectionStatus, Settlement, SettlementStatus

from ..drilldown import flow_end, refresh_as_of
from ..periods import month_end
from ..registry import Figure, Provider, in_agencies, register
from ..values import ratio

AGENCY = "lease__dwelling__building__estate__agency"


class InspectionsProvider(Provider):
    def compute(self, *, months: list[date], as_of: date):
        first, end = months[0], min(as_of, month_end(months[-1]))
        live_month = as_of.replace(day=1)
        exits = Inspection.objects.filter(kind=InspectionKind.EXIT)
        done = (
            exits.filter(status=InspectionStatus.SIGNED, signed_at__date__gte=first, signed_at__date__lte=end)
            .values(ag=F(AGENCY), m=TruncMonth("signed_at__date"))
            .annotate(n=Count("pk"))
        )
        for row in done:
            yield row["ag"], row["m"], "exit_done", row["n"], row["n"]
        refunded = (
            Settlement.objects.filter(refund_paid_on__gte=first, refund_paid_on__lte=end)
            .values(ag=F(AGENCY), m=TruncMonth("refund_paid_on"))
            .annotate(
                n=Count("pk"),
                days=Sum(F("refund_paid_on") - F("keys_returned_on")),
                in_time=Count("pk", filter=Q(refund_paid_on__lte=F("deadline"))),
                penalties=Sum("penalty"),
            )
        )
        for row in refunded:
            days = row["days"]
            yield row["ag"], row["m"], "settled", row["n"], row["n"]
            yield row["ag"], row["m"], "settle_days", days.days if hasattr(days, "days") else days, 0
            yield row["ag"], row["m"], "settled_in_time", row["in_time"], 0
            yield row["ag"], row["m"], "penalties", row["penalties"], 0
        if live_month in months:
            pending = exits.filter(status__in=PENDING)
            for row in pending.values(ag=F(AGENCY)).annotate(n=Count("pk")):
                yield row["ag"], live_month, "exit_pending", row["n"], row["n"]
            open_settlements = Settlement.objects.exclude(status=SettlementStatus.REFUNDED)
            rows = open_settlements.values(ag=F(AGENCY)).annotate(
                n=Count("pk"), late=Count("pk", filter=Q(deadline__lt=as_of))
            )
            for row in rows:
                yield row["ag"], live_month, "settlements_open", row["n"], row["n"]
                yield row["ag"], live_month, "settlements_late", row["late"], 0

    def figures(self):
        def detail(code):
            return lambda ctx: ctx.detail_url(code)

        return [
            Figure(
                "inspections.exit_done",
                "États des lieux de sortie signés",
                "count",
                lambda v: v.flow("exit_done"),
                detail("inspections.exit_done"),
            ),
            Figure(
                "inspections.exit_pending",
                "États des lieux de sortie à faire (photo de fin de mois)",
                "count",
                lambda v: v.stock("exit_pending"),
                detail("inspections.exit_pending"),
                LIVE_NOTE,
            ),
            Figure(
                "inspections.settled",
                "Dépôts restitués / soldés",
                "count",
                lambda v: v.flow("settled"),
                detail("inspections.settled"),
            ),
            Figure(
                "inspections.settle_days",
                "Délai moyen de la remise des clés au solde (jours)",
                "days",
                lambda v: ratio(v.flow("settle_days"), v.flow("settled"), scale=1),
                detail("inspections.settled"),
            ),
            Figure(
                "inspections.in_time_rate",
                "Part soldée dans le délai légal",
                "percent",
                lambda v: ratio(v.flow("settled_in_time"), v.flow("settled")),
                detail("inspections.settled"),
                help="Dépôts remboursés au plus tard à la date limite ÷ dépôts remboursés.",
            ),
            Figure(
                "inspections.penalties",
                "Majorations pour restitution tardive",
                "euros",
                lambda v: v.flow("penalties"),
                detail("inspections.penalties"),
            ),
            Figure(
                "inspections.settlements_late",
                "Décomptes en retard (photo de fin de mois)",
                "count",
                lambda v: v.stock("settlements_late"),
                detail("inspections.settlements_late"),
                LIVE_NOTE,
            ),
        ]

    def drilldowns(self):
        def done(agency_ids, period):
            return (
                Inspection.objects.filter(
                    **in_agencies(AGENCY, agency_ids),
                    kind=InspectionKind.EXIT,
                    status=InspectionStatus.SIGNED,
                    signed_at__date__gte=period.start,
                    signed_at__date__lte=flow_end(period, refresh_as_of()),
                )
                .select_related("lease__dwelling")
                .order_by("signed_at", "id")
            )

        def pending(agency_ids, period):
            return (
                Inspection.objects.filter(
                    **in_agencies(AGENCY, agency_ids), kind=InspectionKind.EXIT, status__in=PENDING
                )
                .select_related("lease__dwelling")
                .order_by("scheduled_at", "id")
            )

        def refunded(penalised=False):
            def query(agency_ids, period):
                qs = Settlement.objects.filter(
                    **in_agencies(AGENCY, agency_ids),
                    refund_paid_on__gte=period.start,
                    refund_paid_on__lte=flow_end(period, refresh_as_of()),
                )
                if penalised:
                    qs = qs.filter(penalty__gt=0)
                return qs.select_related("lease__dwelling").order_by("refund_paid_on", "id")

            return query

        def late(agency_ids, period):
            return (
                Settlement.objects.filter(**in_agencies(AGENCY, agency_ids), deadline__lt=refresh_as_of())
                .exclude(status=SettlementStatus.REFUNDED)
                .select_related("lease__dwelling")
                .order_by("deadline", "id")
            )

        columns = [
            ("EDL", "pk", "link"),
            ("Bail", "lease.number", ""),
            ("Logement", "lease.dwelling.reference", ""),
            ("Rendez-vous", "scheduled_at", "datetime"),
            ("Statut", "get_status_display", ""),
            ("Signé le", "signed_at", "datetime"),
        ]
        settlement_columns = [
            ("Décompte", "pk", "link"),
            ("Bail", "lease.number", ""),
            ("Logement", "lease.dwelling.reference", ""),
            ("Statut", "get_status_display", ""),
            ("Remise des clés", "keys_returned_on", "date"),
            ("Date limite", "deadline", "date"),
            ("Remboursé le", "refund_paid_on", "date"),
            ("Majoration", "penalty", "euros"),
            ("Montant remboursé", "refund_amount", "euros"),
        ]
        today = " — situation à la date du calcul"
        return {
            "inspections.exit_done": ("États des lieux de sortie signés", done, columns),
            "inspections.exit_pending": (f"États des lieux de sortie à faire{today}", pending, columns),
            "inspections.settled": ("Dépôts de garantie restitués dans la période", refunded(), settlement_columns),
            "inspections.penalties": (
                "Restitutions tardives majorées dans la période",
                refunded(penalised=True),
                settlement_columns,
            ),
            "inspections.settlements_late": (f"Décomptes en retard{today}", late, settlement_columns),
        }


# Live figures have no history row by row: their list is today's situation, the photo's for the
# month of the refresh.
LIVE_NOTE = "la situation à la date du calcul (d'un mois passé ne reste qu'une photo, sans détail)"
PENDING = [InspectionStatus.SCHEDULED, InspectionStatus.IN_PROGRESS]


register(
    InspectionsProvider(
        slug="inspections",
        title="Sorties et dépôts de garantie",
        order=40,
        components={
            "exit_done": "flow",
            "exit_pending": "stock",
            "settled": "flow",
            "settle_days": "flow",
            "settled_in_time": "flow",
            "penalties": "flow",
            "settlements_open": "stock",
            "settlements_late": "stock",
        },
        live=frozenset({"exit_pending", "settlements_open", "settlements_late"}),
    )
)
