"""Figure providers: one module per block of the dashboards (stock, billing, …).

A provider declares the additive monthly components it computes from its app's raw records
(`compute`, run by the refresh), and the figures it derives from them (`figures`), each with its
unit and the link to the records behind it. Adding a block is writing one module in
`dashboards/providers/` that subclasses `Provider` and calls `register()`.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

_PROVIDERS: dict[str, Provider] = {}
_loaded = False


@dataclass(frozen=True)
class Figure:
    """A figure shown on the dashboard, derived from summed components.

    `value(v)` receives a `Values` accessor over one scope and one period; `link(ctx)` returns
    the URL of the list behind it (`ctx` has `agency_id`, `period`), `link_note` says when that
    list is only the nearest one (no filter for the period).
    """

    code: str
    label: str
    unit: str  # "count", "euros", "percent", "days"
    value: Callable
    link: Callable | None = None
    link_note: str = ""
    help: str = ""


@dataclass(frozen=True)
class Chart:
    """A monthly series chart: figure codes plotted over the twelve months ending with the period."""

    code: str
    title: str
    figures: tuple[str, ...]
    type: str = "bar"  # "bar" or "line"; a figure code ending in ":line" is drawn as a line


@dataclass
class Provider:
    slug: str = ""
    title: str = ""
    order: int = 100
    # Component key -> "flow" (summed over months) or "stock" (read at the period's last month).
    components: dict[str, str] = field(default_factory=dict)
    # What an incremental refresh recomputes: "recent" (the last RECENT_MONTHS months) or "ledger"
    # (from the earliest month touched by the ledger entries written since the last refresh).
    window: str = "recent"
    # For a "ledger" provider: the kinds of ledger entries its figures read. After a billing run
    # (`refresh_after_billing`) it is recomputed only when a new entry has one of them; empty: any kind.
    ledger_kinds: frozenset = frozenset()
    # Stock components that only exist today (no history to rebuild them from, e.g. open cases by
    # status): computed for the refresh's month only; earlier months keep what their last refresh
    # of that month stored (the nightly one of the month's last day is its end-of-month photo).
    live: frozenset = frozenset()
    # Histogram components: key prefix -> "flow" or "stock"; the keys are the prefix and a whole
    # number (a bucket: months waited, days vacant…). Only non-zero buckets are stored (sparse), so a
    # median over any period and set of agencies is read exactly from the summed buckets
    # (`Values.histogram`). A prefix listed in `live` is photographed like a live component.
    sparse: dict[str, str] = field(default_factory=dict)

    def compute(self, *, months: list[date], as_of: date) -> Iterable[tuple[int, date, str, Decimal, int]]:
        """Rows (agency_id, month, key, value, rows_scanned) for these months; 0 values may be left out."""
        raise NotImplementedError

    def figures(self) -> list[Figure]:
        raise NotImplementedError

    def charts(self) -> list[Chart]:
        return []

    def drilldowns(self) -> dict:
        """Figure code -> Drilldown for the records that have no list page elsewhere."""
        return {}


def in_agencies(lookup: str, agency_ids: list[int] | None) -> dict:
    """Filter kwargs restricting a drill-down to these agencies; none when `agency_ids` is None (every
    agency, for a user who sees them all: the planner then skips the joins up to the agency)."""
    return {} if agency_ids is None else {f"{lookup}__in": agency_ids}


def register(provider: Provider) -> Provider:
    _PROVIDERS[provider.slug] = provider
    return provider


def providers() -> list[Provider]:
    global _loaded
    if not _loaded:
        from . import providers as package

        for info in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{info.name}")
        _loaded = True
    return sorted(_PROVIDERS.values(), key=lambda p: (p.order, p.slug))


def component_kinds() -> dict[str, str]:
    kinds = {}
    for provider in providers():
        kinds.update(provider.components)
    return kinds
