"""Arrears: overdue by age bucket, cases by status, by step of the amicable ladder and of
litigation, plans kept or broken, CAF reports overdue, cases opened and closed, write-offs.

Read-only on the arrears app's models. Today's situation (the ageing snapshot, open cases and their
steps, plans, CAF reports) has no history: it is a live component, photographed each refresh for the
current month; flows (cases opened or closed, write-offs posted) are dated and rebuilt for any month.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Count, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Least, TruncMonth

from arrears.models import (
    ArrearsCase,
    ArrearsSnapshot,
    CafReport,
    CaseStatus,
    LitigationKind,
    LitigationStep,
    PlanStatus,
    RepaymentPlan,
)
from billing.models import EntryKind, LedgerEntry

from ..drilldown import flow_end, refresh_as_of
from ..periods import month_end
from ..registry import Chart, Figure, Provider, in_agencies, register
from ..values import ratio

ACCOUNT_AGENCY = "account__lease__dwelling__building__estate__agency"
CASE_AGENCY = "lease__dwelling__building__estate__agency"
BUCKETS = ("bucket_0_30", "bucket_31_60", "bucket_61_90", "bucket_over_90")
OPEN = (CaseStatus.AMICABLE, CaseStatus.PLAN, CaseStatus.LITIGATION, CaseStatus.SUSPENDED)
PLAN_STATES = (PlanStatus.ACTIVE, PlanStatus.LATE, PlanStatus.BROKEN, PlanStatus.COMPLETED)
# Rungs of the amicable ladder, as the work queue filters them (`ArrearsCase.ladder_position`: the
# last rung sent, 0 before the first); a position beyond the last counts with the last.
LADDER = {0: "aucune relance", 1: "relance 1", 2: "relance 2", 3: "mise en demeure", 4: "conseillère"}
LAST_RUNG = max(LADDER)
# Litigation: the last step recorded (`LitigationStep`, highest position), "none" before the first.
LITIGATION = {"none": "aucune étape encore", **{k.value: k.label for k in LitigationKind}}
LIVE_NOTE = "la situation à la date du calcul (d'un mois passé ne reste qu'une photo, sans détail)"


def last_litigation_step() -> Subquery:
    """The kind of a case's last litigation step (None before the first)."""
    steps = LitigationStep.objects.filter(case=OuterRef("pk")).order_by("-position", "-id")
    return Subquery(steps.values("kind")[:1])


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
            amicable = ArrearsCase.objects.filter(status=CaseStatus.AMICABLE).annotate(
                rung=Least("ladder_position", Value(LAST_RUNG))
            )
            for row in amicable.values(ag=F(CASE_AGENCY), r=F("rung")).annotate(n=Count("pk")):
                yield row["ag"], live_month, f"ladder_{row['r']}", row["n"], 0
            litigation = ArrearsCase.objects.filter(status=CaseStatus.LITIGATION).annotate(step=last_litigation_step())
            for row in litigation.values(ag=F(CASE_AGENCY), k=F("step")).annotate(n=Count("pk")):
                yield row["ag"], live_month, f"litigation_{row['k'] or 'none'}", row["n"], 0
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
            .values(ag=F(ACCOUNT_AGENCY), m=TruncMonth("posted_on"))
            .annotate(total=Sum(F("credit") - F("debit")), n=Count("pk"))
        )
        for row in write_offs:
            yield row["ag"], row["m"], "written_off", row["total"], row["n"]

    def figures(self):
        def detail(code):
            return lambda ctx: ctx.detail_url(code)

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
                detail("arrears.overdue"),
                LIVE_NOTE,
            )
        ]
        for bucket in BUCKETS:
            figures.append(
                Figure(
                    f"arrears.{bucket}",
                    labels[bucket],
                    "euros",
                    (lambda b: lambda v: v.stock(b))(bucket),
                    detail(f"arrears.{bucket}"),
                    LIVE_NOTE,
                )
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
                    detail(f"arrears.cases_{status}"),
                    LIVE_NOTE,
                )
            )
        for rung, label in LADDER.items():
            figures.append(
                Figure(
                    f"arrears.ladder_{rung}",
                    f"Pré-contentieux, dernière étape : {label}",
                    "count",
                    (lambda r: lambda v: v.stock(f"ladder_{r}"))(rung),
                    detail(f"arrears.ladder_{rung}"),
                    LIVE_NOTE,
                )
            )
        for kind, label in LITIGATION.items():
            figures.append(
                Figure(
                    f"arrears.litigation_{kind}",
                    f"Contentieux, dernière étape : {label[:1].lower()}{label[1:]}",
                    "count",
                    (lambda k: lambda v: v.stock(f"litigation_{k}"))(kind),
                    detail(f"arrears.litigation_{kind}"),
                    LIVE_NOTE,
                )
            )
        figures += [
            Figure(
                "arrears.cases_opened",
                "Dossiers ouverts dans la période",
                "count",
                lambda v: v.flow("cases_opened"),
                detail("arrears.cases_opened"),
            ),
            Figure(
                "arrears.cases_closed",
                "Dossiers soldés dans la période",
                "count",
                lambda v: v.flow("cases_closed"),
                detail("arrears.cases_closed"),
            ),
            Figure(
                "arrears.plans_kept",
                "Plans respectés (en cours)",
                "count",
                lambda v: v.stock("plans_active"),
                detail("arrears.plans_active"),
                LIVE_NOTE,
            ),
            Figure(
                "arrears.plans_late",
                "Plans en retard",
                "count",
                lambda v: v.stock("plans_late"),
                detail("arrears.plans_late"),
                LIVE_NOTE,
            ),
            Figure(
                "arrears.plans_broken",
                "Plans rompus",
                "count",
                lambda v: v.stock("plans_broken"),
                detail("arrears.plans_broken"),
                LIVE_NOTE,
            ),
            Figure(
                "arrears.plans_kept_rate",
                "Part des plans respectés",
                "percent",
                lambda v: ratio(
                    v.stock("plans_active"),
                    _sum(v.stock("plans_active"), v.stock("plans_late"), v.stock("plans_broken")),
                ),
                detail("arrears.plans"),
                LIVE_NOTE,
                "Plans en cours respectés ÷ (respectés + en retard + rompus).",
            ),
            Figure(
                "arrears.caf_overdue",
                "Signalements CAF en retard",
                "count",
                lambda v: v.stock("caf_overdue"),
                detail("arrears.caf_overdue"),
                LIVE_NOTE,
            ),
            Figure(
                "arrears.written_off",
                "Admissions en non-valeur",
                "euros",
                lambda v: v.flow("written_off"),
                detail("arrears.written_off"),
            ),
        ]
        return figures

    def charts(self):
        return [Chart("arrears_buckets", "Échu impayé par ancienneté (€)", BUCKETS_CODES, "bar")]

    def drilldowns(self):
        from .billing import ENTRY_COLUMNS

        def snapshots(field):
            def query(agency_ids, period):
                return (
                    ArrearsSnapshot.objects.filter(**in_agencies(ACCOUNT_AGENCY, agency_ids), **{f"{field}__gt": 0})
                    .select_related("account__lease")
                    .order_by(f"-{field}", "account_id")
                )

            return query

        def cases(**filters):
            def query(agency_ids, period):
                return (
                    ArrearsCase.objects.filter(**in_agencies(CASE_AGENCY, agency_ids), **filters)
                    .select_related("lease")
                    .order_by("-priority", "id")
                )

            return query

        def litigation(kind):
            def query(agency_ids, period):
                qs = ArrearsCase.objects.filter(**in_agencies(CASE_AGENCY, agency_ids), status=CaseStatus.LITIGATION)
                qs = qs.annotate(step=last_litigation_step())
                qs = qs.filter(step__isnull=True) if kind == "none" else qs.filter(step=kind)
                return qs.select_related("lease").order_by("-priority", "id")

            return query

        def dated(field):
            def query(agency_ids, period):
                return (
                    ArrearsCase.objects.filter(
                        **in_agencies(CASE_AGENCY, agency_ids),
                        **{f"{field}__gte": period.start, f"{field}__lte": flow_end(period, refresh_as_of())},
                    )
                    .select_related("lease")
                    .order_by(field, "id")
                )

            return query

        def plans(statuses):
            def query(agency_ids, period):
                return (
                    RepaymentPlan.objects.filter(**in_agencies(f"case__{CASE_AGENCY}", agency_ids), status__in=statuses)
                    .select_related("case__lease")
                    .order_by("status", "first_due_on", "id")
                )

            return query

        def caf_overdue(agency_ids, period):
            return (
                CafReport.objects.filter(
                    **in_agencies(f"case__{CASE_AGENCY}", agency_ids), sent_on__isnull=True, due_by__lt=refresh_as_of()
                )
                .select_related("case__lease")
                .order_by("due_by", "id")
            )

        def written_off(agency_ids, period):
            return (
                LedgerEntry.objects.filter(
                    **in_agencies(ACCOUNT_AGENCY, agency_ids),
                    kind=EntryKind.WRITE_OFF,
                    posted_on__gte=period.start,
                    posted_on__lte=flow_end(period, refresh_as_of()),
                )
                .select_related("account__lease")
                .order_by("posted_on", "id")
            )

        today = " — situation à la date du calcul"
        found = {
            "arrears.overdue": (f"Comptes en échu impayé{today}", snapshots("overdue"), SNAPSHOT_COLUMNS),
            **{
                f"arrears.{b}": (
                    f"Comptes en échu impayé ({BUCKET_DAYS[b]}){today}",
                    snapshots(b),
                    SNAPSHOT_COLUMNS,
                )
                for b in BUCKETS
            },
            **{
                f"arrears.cases_{s}": (f"Dossiers « {CaseStatus(s).label} »{today}", cases(status=s), CASE_COLUMNS)
                for s in OPEN
            },
            **{
                f"arrears.ladder_{r}": (
                    f"Dossiers en pré-contentieux, dernière étape : {label}{today}",
                    cases(status=CaseStatus.AMICABLE, **_rung(r)),
                    CASE_COLUMNS,
                )
                for r, label in LADDER.items()
            },
            **{
                f"arrears.litigation_{k}": (
                    f"Dossiers au contentieux, dernière étape : {label}{today}",
                    litigation(k),
                    CASE_COLUMNS,
                )
                for k, label in LITIGATION.items()
            },
            "arrears.cases_opened": ("Dossiers ouverts dans la période", dated("opened_on"), CASE_COLUMNS),
            "arrears.cases_closed": ("Dossiers soldés dans la période", dated("closed_on"), CASE_COLUMNS),
            **{
                f"arrears.plans_{s}": (f"Plans « {PlanStatus(s).label} »{today}", plans([s]), PLAN_COLUMNS)
                for s in (PlanStatus.ACTIVE, PlanStatus.LATE, PlanStatus.BROKEN)
            },
            "arrears.plans": (
                f"Plans respectés, en retard ou rompus{today}",
                plans([PlanStatus.ACTIVE, PlanStatus.LATE, PlanStatus.BROKEN]),
                PLAN_COLUMNS,
            ),
            "arrears.caf_overdue": (f"Signalements CAF en retard{today}", caf_overdue, CAF_COLUMNS),
            "arrears.written_off": ("Admissions en non-valeur", written_off, ENTRY_COLUMNS),
        }
        return found


def _rung(rung: int) -> dict:
    return {"ladder_position__gte": rung} if rung == LAST_RUNG else {"ladder_position": rung}


BUCKET_DAYS = {
    "bucket_0_30": "0 à 30 jours",
    "bucket_31_60": "31 à 60 jours",
    "bucket_61_90": "61 à 90 jours",
    "bucket_over_90": "plus de 90 jours",
}
BUCKETS_CODES = tuple(f"arrears.{b}" for b in BUCKETS)
SNAPSHOT_COLUMNS = [
    ("Bail", "account.lease.number", "account"),
    ("Échu impayé", "overdue", "euros"),
    ("0 à 30 j", "bucket_0_30", "euros"),
    ("31 à 60 j", "bucket_31_60", "euros"),
    ("61 à 90 j", "bucket_61_90", "euros"),
    ("Plus de 90 j", "bucket_over_90", "euros"),
    ("Au", "as_of", "date"),
]
CASE_COLUMNS = [
    ("Dossier", "pk", "link"),
    ("Bail", "lease.number", ""),
    ("Phase", "get_status_display", ""),
    ("Étape amiable", "ladder_position", ""),
    ("Ouvert le", "opened_on", "date"),
    ("Soldé le", "closed_on", "date"),
    ("Dette à l'ouverture", "debt_at_opening", "euros"),
]
PLAN_COLUMNS = [
    ("Dossier", "case.pk", ""),
    ("Bail", "case.lease.number", ""),
    ("Statut", "get_status_display", ""),
    ("Dette", "debt", "euros"),
    ("Mensualité", "monthly_instalment", "euros"),
    ("Première échéance", "first_due_on", "date"),
]
CAF_COLUMNS = [
    ("Dossier", "case.pk", ""),
    ("Bail", "case.lease.number", ""),
    ("Seuil atteint le", "reached_on", "date"),
    ("À signaler au plus tard le", "due_by", "date"),
    ("Dette", "debt", "euros"),
]


def _sum(*values):
    return None if any(v is None for v in values) else sum(values)


LIVE = (
    {"overdue", *BUCKETS, "caf_overdue"}
    | {f"cases_{s}" for s in ("amicable", "plan", "litigation", "suspended")}
    | {f"plans_{s}" for s in ("active", "late", "broken", "completed")}
    | {f"ladder_{r}" for r in LADDER}
    | {f"litigation_{k}" for k in LITIGATION}
)

register(
    ArrearsProvider(
        slug="arrears",
        title="Impayés et contentieux",
        order=60,
        window="ledger",
        # Of the ledger it reads only the write-offs: the ageing snapshot, the cases, plans and CAF
        # reports are the arrears app's own records, which a billing run does not change.
        ledger_kinds=frozenset({EntryKind.WRITE_OFF}),
        components={
            **dict.fromkeys(sorted(LIVE), "stock"),
            "cases_opened": "flow",
            "cases_closed": "flow",
            "written_off": "flow",
        },
        live=frozenset(LIVE),
    )
)
