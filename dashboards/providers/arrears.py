"""Arrears: overdue by age bucket, cases by status, plans kept or broken, CAF reports overdue,
cases opened and closed, write-offs.

Read-only on the arrears app's models. Today's situation (the ageing snapshot, open cases, plans,
CAF reports) has no history: it is a live component, photographed each refresh for the current
month; flows (cases opened or closed, write-offs posted) are dated and rebuilt for any month.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.db.models import Count, F, Sum
from django.db.models.functions import TruncMonth
from django.urls import reverse

from arrears.models import ArrearsCase, ArrearsSnapshot, CafReport, CaseStatus, PlanStatus, RepaymentPlan
from billing.models import EntryKind, LedgerEntry

from ..periods import month_end
from ..registry import Chart, Figure, Provider, in_agencies, register
from ..values import ratio

ACCOUNT_AGENCY = "account__lease__dwelling__building__estate__agency"
CASE_AGENCY = "lease__dwelling__building__estate__agency"
BUCKETS = ("bucket_0_30", "bucket_31_60", "bucket_61_90", "bucket_over_90")
OPEN = (CaseStatus.AMICABLE, CaseStatus.PLAN, CaseStatus.LITIGATION, CaseStatus.SUSPENDED)
PLAN_STATES = (PlanStatus.ACTIVE, PlanStatus.LATE, PlanStatus.BROKEN, PlanStatus.COMPLETED)


class ArrearsProvider(Provider):
    def compute(self, *, months: list[date], as_of: date):
        live_month = as_of.replace(day=1)
        first, last = months[0], months[-1]
        if live_month in months:
            sums = {b: Sum(b) for b in ("overdue", *BUCKETS)}
            for row in ArrearsSnapshot.objects.values(ag=F(ACCOUNT_AGENCY)).annotate(n=Count("pk"), **sums):
                for key in ("overdue", *BUCKETS):
                    yield row["ag"], live_month, key, row[key] or 0, row["n"] if key == "overdue" else 0
            cases = ArrearsCase.objects.filter(status__in=OPEN).values(ag=F(CASE_AGENCY), s=F("status"))
            for row in cases.annotate(n=Count("pk")):
                yield row["ag"], live_month, f"cases_{row['s']}", row["n"], row["n"]
            plans = RepaymentPlan.objects.filter(status__in=PLAN_STATES)
            for row in plans.values(ag=F(f"case__{CASE_AGENCY}"), s=F("status")).annotate(n=Count("pk")):
                yield row["ag"], live_month, f"plans_{row['s']}", row["n"], row["n"]
            overdue_reports = CafReport.objects.filter(sent_on__isnull=True, due_by__lt=as_of)
            for row in overdue_reports.values(ag=F(f"case__{CASE_AGENCY}")).annotate(n=Count("pk")):
                yield row["ag"], live_month, "caf_overdue", row["n"], row["n"]
        end = min(as_of, month_end(last))
        for field, key in (("opened_on", "cases_opened"), ("closed_on", "cases_closed")):
            rows = (
                ArrearsCase.objects.filter(**{f"{field}__gte": first, f"{field}__lte": end})
                .values(ag=F(CASE_AGENCY), m=TruncMonth(field))
                .annotate(n=Count("pk"))
            )
            for row in rows:
                yield row["ag"], row["m"], key, row["n"], row["n"]
        write_offs = (
            LedgerEntry.objects.filter(kind=EntryKind.WRITE_OFF, posted_on__gte=first, posted_on__lte=end)
            .values(ag=F("account__lease__dwelling__building__estate__agency"), m=TruncMonth("posted_on"))
            .annotate(total=Sum(F("credit") - F("debit")), n=Count("pk"))
        )
        for row in write_offs:
            yield row["ag"], row["m"], "written_off", row["total"], row["n"]

    def figures(self):
        def cases_url(ctx, **params):
            return reverse("arrears:queue") + ("?" + _query(ctx, **params))

        labels = {
            "bucket_0_30": "Échu impayé de 0 à 30 jours",
            "bucket_31_60": "de 31 à 60 jours",
            "bucket_61_90": "de 61 à 90 jours",
            "bucket_over_90": "de plus de 90 jours",
        }
        figures = [
            Figure(
                "arrears.overdue",
                "Échu impayé (photo de fin de mois)",
                "euros",
                lambda v: v.stock("overdue"),
                lambda ctx: cases_url(ctx),
                "dossiers d'impayés ouverts aujourd'hui",
            )
        ]
        for bucket in BUCKETS:
            figures.append(
                Figure(f"arrears.{bucket}", labels[bucket], "euros", (lambda b: lambda v: v.stock(b))(bucket))
            )
        status_labels = {
            "amicable": "Dossiers en pré-contentieux",
            "plan": "Dossiers en plan d'apurement",
            "litigation": "Dossiers au contentieux",
            "suspended": "Dossiers suspendus (surendettement)",
        }
        for status, label in status_labels.items():
            figures.append(
                Figure(
                    f"arrears.cases_{status}",
                    label,
                    "count",
                    (lambda s: lambda v: v.stock(f"cases_{s}"))(status),
                    (lambda s: lambda ctx: cases_url(ctx, status=s))(status),
                    "dossiers à ce jour",
                )
            )
        figures += [
            Figure(
                "arrears.cases_opened", "Dossiers ouverts dans la période", "count", lambda v: v.flow("cases_opened")
            ),
            Figure(
                "arrears.cases_closed", "Dossiers soldés dans la période", "count", lambda v: v.flow("cases_closed")
            ),
            Figure("arrears.plans_kept", "Plans respectés (en cours)", "count", lambda v: v.stock("plans_active")),
            Figure("arrears.plans_late", "Plans en retard", "count", lambda v: v.stock("plans_late")),
            Figure("arrears.plans_broken", "Plans rompus", "count", lambda v: v.stock("plans_broken")),
            Figure(
                "arrears.plans_kept_rate",
                "Part des plans respectés",
                "percent",
                lambda v: ratio(
                    v.stock("plans_active"),
                    _sum(v.stock("plans_active"), v.stock("plans_late"), v.stock("plans_broken")),
                ),
                help="Plans en cours respectés ÷ (respectés + en retard + rompus).",
            ),
            Figure("arrears.caf_overdue", "Signalements CAF en retard", "count", lambda v: v.stock("caf_overdue")),
            Figure(
                "arrears.written_off",
                "Admissions en non-valeur",
                "euros",
                lambda v: v.flow("written_off"),
                lambda ctx: ctx.detail_url("arrears.written_off"),
            ),
        ]
        return figures

    def charts(self):
        return [Chart("arrears_buckets", "Échu impayé par ancienneté (€)", BUCKETS_CODES, "bar")]

    def drilldowns(self):
        from .billing import ENTRY_COLUMNS

        def written_off(agency_ids, period):
            return (
                LedgerEntry.objects.filter(
                    **in_agencies("account__lease__dwelling__building__estate__agency", agency_ids),
                    kind=EntryKind.WRITE_OFF,
                    posted_on__gte=period.start,
                    posted_on__lte=period.end,
                )
                .select_related("account__lease")
                .order_by("posted_on", "id")
            )

        return {"arrears.written_off": ("Admissions en non-valeur", written_off, ENTRY_COLUMNS)}


BUCKETS_CODES = tuple(f"arrears.{b}" for b in BUCKETS)


def _sum(*values):
    return None if any(v is None for v in values) else sum(values)


def _query(ctx, **params):
    query = {k: v for k, v in {"agency": ctx.agency_id or "", **params}.items() if v}
    return urlencode(query)


register(
    ArrearsProvider(
        slug="arrears",
        title="Impayés et contentieux",
        order=60,
        window="ledger",
        components={
            "overdue": "stock",
            **dict.fromkeys(BUCKETS, "stock"),
            **{f"cases_{s}": "stock" for s in ("amicable", "plan", "litigation", "suspended")},
            **{f"plans_{s}": "stock" for s in ("active", "late", "broken", "completed")},
            "caf_overdue": "stock",
            "cases_opened": "flow",
            "cases_closed": "flow",
            "written_off": "flow",
        },
        live=frozenset(
            {"overdue", *BUCKETS, "caf_overdue"}
            | {f"cases_{s}" for s in ("amicable", "plan", "litigation", "suspended")}
            | {f"plans_{s}" for s in ("active", "late", "broken", "completed")}
        ),
    )
)
