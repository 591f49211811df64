"""Reads of the dashboards: the user's agencies, the snapshot's figures of a scope and period."""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from urllib.parse import urlencode

from django.core.cache import cache
from django.urls import reverse

from tenancies.models import Agency

from .formatting import format_value
from .models import MonthlyFigure, Refresh
from .periods import Period, add_months
from .registry import providers
from .values import Values, diff

CHART_MONTHS = 12
logger = logging.getLogger(__name__)


def agencies_for(user):
    """The agencies whose figures the user may read: all for direction and administrators."""
    qs = Agency.objects.order_by("name")
    return qs if user.sees_all_agencies else qs.filter(id__in=user.agency_ids)


@dataclass
class Selection:
    """What the page shows: a period and either one agency or every agency of the user."""

    period: Period
    agencies: list  # the user's agencies
    agency: Agency | None = None  # None: all of them

    @property
    def agency_ids(self) -> list[int]:
        return [self.agency.pk] if self.agency else [a.pk for a in self.agencies]

    @property
    def agency_id(self) -> int | None:
        return self.agency.pk if self.agency else None

    def params(self, **extra) -> dict:
        params = {"periode": self.period.kind, "date": self.period.param, "agence": self.agency_id or ""}
        params.update(extra)
        return {k: v for k, v in params.items() if v not in ("", None)}

    def query(self, **extra) -> str:
        return urlencode(self.params(**extra))

    @cached_property
    def _detail_base(self) -> str:
        # Every figure of a block links to the drill-down: reverse and encode the selection once.
        return reverse("dashboards:detail") + "?" + self.query()

    def detail_url(self, code: str) -> str:
        return f"{self._detail_base}&{urlencode({'figure': code})}"

    def for_agency(self, agency) -> Selection:
        return Selection(self.period, self.agencies, agency)


@dataclass
class FigureRow:
    code: str
    label: str
    unit: str
    current: Decimal | None
    previous: Decimal | None
    last_year: Decimal | None
    link: str
    link_note: str
    help: str

    @property
    def vs_previous(self):
        return diff(self.current, self.previous)

    @property
    def vs_last_year(self):
        return diff(self.current, self.last_year)

    def display(self, attr: str) -> str:
        signed = attr.startswith("vs_")
        return format_value(getattr(self, attr), self.unit, signed=signed)

    @property
    def current_display(self):
        return self.display("current")

    @property
    def previous_display(self):
        return self.display("previous")

    @property
    def last_year_display(self):
        return self.display("last_year")

    @property
    def vs_previous_display(self):
        return self.display("vs_previous")

    @property
    def vs_last_year_display(self):
        return self.display("vs_last_year")


@dataclass
class Block:
    slug: str
    title: str
    rows: list[FigureRow]
    agency_headers: list = field(default_factory=list)  # [(agency, link-selection)]
    agency_rows: list = field(default_factory=list)  # [(label, unit, [(display, value, link)])]
    charts: list = field(default_factory=list)  # [(chart, data dict)]


def last_refresh() -> Refresh | None:
    return Refresh.objects.order_by("-id").first()


def cache_key(what: str, refresh: Refresh, selection: Selection, *extra) -> str:
    """The cache key of something derived from one refresh's figures for one selection.

    The snapshot only changes when a refresh commits, and each refresh is a new row: a key names the
    refresh (id and time, so that a recreated database never meets an old entry), the period, the
    agency shown and the user's agencies (ids and names, which the per-agency tables print).
    """
    scope = "|".join(f"{a.pk}={a.name}" for a in selection.agencies)
    raw = "\x1f".join(
        str(part)
        for part in (
            refresh.pk,
            refresh.computed_at.isoformat(),
            selection.period.kind,
            selection.period.param,
            selection.agency_id or "",
            scope,
            *extra,
        )
    )
    return f"dashboards:{what}:{hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()}"


def cached(key: str | None, compute):
    """compute(), kept in the cache under `key` (None: not cached); computed when the cache is down."""
    if key is None:
        return compute()
    try:
        hit = cache.get(key)
    except Exception:  # a cache outage must not take the page down: compute it
        logger.warning("dashboards cache unreachable (get)", exc_info=True)
        hit = None
    if hit is not None:
        return hit
    value = compute()
    try:
        cache.set(key, value)
    except Exception:
        logger.warning("dashboards cache unreachable (set)", exc_info=True)
    return value


def needed_months(period: Period) -> list[date]:
    months = set(period.months) | set(period.previous().months) | set(period.last_year().months)
    months |= {add_months(period.last_month, -i) for i in range(CHART_MONTHS)}
    return sorted(months)


def load(agency_ids: list[int], months: list[date]) -> dict[int, dict[date, dict[str, Decimal]]]:
    """One query: {agency_id: {month: {key: value}}}."""
    data: dict = defaultdict(lambda: defaultdict(dict))
    rows = MonthlyFigure.objects.filter(agency_id__in=agency_ids, month__in=months).values_list(
        "agency_id", "month", "key", "value"
    )
    for agency_id, month, key, value in rows:
        data[agency_id][month][key] = value
    return data


def summed(data, agency_ids) -> dict[date, dict[str, Decimal]]:
    total: dict = defaultdict(lambda: defaultdict(Decimal))
    for agency_id in agency_ids:
        for month, values in data.get(agency_id, {}).items():
            for key, value in values.items():
                total[month][key] += value
    return total


def build_blocks(selection: Selection, *, with_agencies: bool = True, with_charts: bool = True) -> list[Block]:
    period = selection.period
    data = load([a.pk for a in selection.agencies], needed_months(period))
    scope = summed(data, selection.agency_ids)

    def values(by_month, p):
        return Values(by_month, p, None)

    by_agency = []
    if with_agencies and not selection.agency and len(selection.agencies) > 1:
        by_agency = [(a, values(summed(data, [a.pk]), period), selection.for_agency(a)) for a in selection.agencies]
    months = [add_months(period.last_month, -i) for i in range(CHART_MONTHS - 1, -1, -1)]
    monthly = {m: values(scope, Period("month", m)) for m in months} if with_charts else {}
    blocks = []
    for provider in providers():
        figures = provider.figures()
        rows = [
            FigureRow(
                f.code,
                f.label,
                f.unit,
                f.value(values(scope, period)),
                f.value(values(scope, period.previous())),
                f.value(values(scope, period.last_year())),
                f.link(selection) if f.link else "",
                f.link_note,
                f.help,
            )
            for f in figures
        ]
        block = Block(provider.slug, provider.title, rows)
        if by_agency:
            block.agency_headers = list(selection.agencies)
            for f in figures:
                cells = []
                for _agency, v, sel in by_agency:
                    value = f.value(v)
                    cells.append((format_value(value, f.unit), value, f.link(sel) if f.link else ""))
                block.agency_rows.append((f.label, f.unit, cells))
        if with_charts:
            by_code = {f.code: f for f in figures}
            for chart in provider.charts():
                datasets = []
                for spec in chart.figures:
                    code, _, kind = spec.partition(":")
                    f = by_code[code]
                    series = [f.value(monthly[m]) for m in months]
                    datasets.append(
                        {
                            "label": f.label,
                            "unit": f.unit,
                            "type": kind or chart.type,
                            "data": [None if x is None else float(x) for x in series],
                        }
                    )
                labels = [f"{m:%m/%Y}" for m in months]
                block.charts.append((chart, {"title": chart.title, "labels": labels, "datasets": datasets}))
        blocks.append(block)
    return blocks
