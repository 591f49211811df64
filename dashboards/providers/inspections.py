"""Move-outs: exit EDLs done and pending, days from key return to deposit settlement, share settled
within the legal deadline, late-refund penalties.

Read-only on the inspections app's models. Done EDLs and settlements are dated (rebuilt for any
month); pending EDLs and open settlements are live (photographed each refresh for its month).
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncMonth
from django.urls import reverse

from inspections.models import Inspection, InspectionKind, InspectionStatus, Settlement, SettlementStatus

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
            pending = exits.filter(status__in=[InspectionStatus.SCHEDULED, InspectionStatus.IN_PROGRESS])
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
        def settlements(ctx):
            query = urlencode({"agence": ctx.agency_id} if ctx.agency_id else {})
            return reverse("inspections:settlement_list") + ("?" + query if query else "")

        note = "décomptes à ce jour (la liste n'a pas de filtre par date)"
        return [
            Figure(
                "inspections.exit_done",
                "États des lieux de sortie signés",
                "count",
                lambda v: v.flow("exit_done"),
                lambda ctx: ctx.detail_url("inspections.exit_done"),
            ),
            Figure(
                "inspections.exit_pending",
                "États des lieux de sortie à faire (photo de fin de mois)",
                "count",
                lambda v: v.stock("exit_pending"),
                lambda ctx: reverse("inspections:schedule"),
                "planning des visites (sans filtre de statut)",
            ),
            Figure(
                "inspections.settled",
                "Dépôts restitués / soldés",
                "count",
                lambda v: v.flow("settled"),
                settlements,
                note,
            ),
            Figure(
                "inspections.settle_days",
                "Délai moyen de la remise des clés au solde (jours)",
                "days",
                lambda v: ratio(v.flow("settle_days"), v.flow("settled"), scale=1),
                settlements,
                note,
            ),
            Figure(
                "inspections.in_time_rate",
                "Part soldée dans le délai légal",
                "percent",
                lambda v: ratio(v.flow("settled_in_time"), v.flow("settled")),
                settlements,
                note,
                "Dépôts remboursés au plus tard à la date limite ÷ dépôts remboursés.",
            ),
            Figure(
                "inspections.penalties",
                "Majorations pour restitution tardive",
                "euros",
                lambda v: v.flow("penalties"),
                settlements,
                note,
            ),
            Figure(
                "inspections.settlements_late",
                "Décomptes en retard (photo de fin de mois)",
                "count",
                lambda v: v.stock("settlements_late"),
                settlements,
                note,
            ),
        ]

    def drilldowns(self):
        def done(agency_ids, period):
            return (
                Inspection.objects.filter(
                    **in_agencies("lease__dwelling__building__estate__agency", agency_ids),
                    kind=InspectionKind.EXIT,
                    status=InspectionStatus.SIGNED,
                    signed_at__date__gte=period.start,
                    signed_at__date__lte=period.end,
                )
                .select_related("lease__dwelling")
                .order_by("signed_at", "id")
            )

        columns = [
            ("EDL", "pk", "link"),
            ("Bail", "lease.number", ""),
            ("Logement", "lease.dwelling.reference", ""),
            ("Signé le", "signed_at", "datetime"),
        ]
        return {"inspections.exit_done": ("États des lieux de sortie signés", done, columns)}


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
