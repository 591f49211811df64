"""Dashboard pages: the blocks, their exports (CSV, XLSX), the monthly PDF, and the drill-down lists."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from billing.documents import pdf_response
from billing.pdf import render_pdf
from tenancies.access import require_perm
from tenancies.paging import paginate

from . import exports
from .periods import KINDS, Period
from .registry import providers
from .rules import VIEW
from .selectors import Selection, agencies_for, build_blocks, cache_key, cached, last_refresh


def _selection(request, *, kind: str | None = None) -> Selection:
    """The period and agency asked in the query string; bad values fall back with a message."""
    require_perm(request.user, VIEW)
    agencies = list(agencies_for(request.user))
    kind = kind or request.GET.get("periode") or "month"
    if kind not in KINDS:
        messages.warning(request, f"Période « {kind} » inconnue : mois affiché.")
        kind = "month"
    raw = request.GET.get("date", "")
    day = timezone.localdate()
    if raw:
        try:
            day = date.fromisoformat(f"{raw}-01")
        except ValueError:
            messages.warning(request, f"Date « {raw} » invalide (attendu AAAA-MM) : mois en cours affiché.")
    agency = None
    raw_agency = request.GET.get("agence", "")
    if raw_agency:
        agency = next((a for a in agencies if str(a.pk) == raw_agency), None)
        if agency is None:
            messages.warning(request, "Agence inconnue ou hors de votre périmètre : toutes vos agences affichées.")
    return Selection(Period.containing(kind, day), agencies, agency)


@never_cache
@require_GET
def index(request):
    selection = _selection(request)
    period = selection.period
    refresh = last_refresh()  # read before the figures: a cached page is never older than its key
    context = {
        "selection": selection,
        "period": period,
        "previous_query": Selection(period.previous(), selection.agencies, selection.agency).query(),
        "next_query": Selection(period.next(), selection.agencies, selection.agency).query(),
        "kinds": [(k, label) for k, (label, _n) in KINDS.items()],
        "refresh": refresh,
        "missing_blocks": missing_blocks(),
    }

    def blocks_html():
        # The blocks are the page's cost (figures of six providers × the agencies, rendered):
        # computed once per refresh, period and scope, then served from the cache.
        blocks = build_blocks(selection)
        context["blocks"] = blocks
        return render_to_string("dashboards/_blocks.html", {"selection": selection, "period": period, "blocks": blocks})

    key = cache_key("blocks", refresh, selection) if refresh else None
    context["blocks_html"] = cached(key, blocks_html)
    return render(request, "dashboards/index.html", context)


# Blocks of issue 7 that have no provider yet; shown as such on the page.
PLANNED_BLOCKS = {
    "applications": "Demandes et attributions",
    "committee": "Commission d'attribution (CALEOL)",
    "inspections": "Sorties et dépôts de garantie",
    "arrears": "Impayés et contentieux",
}


def missing_blocks() -> list[str]:
    present = {p.slug for p in providers()}
    return [title for slug, title in PLANNED_BLOCKS.items() if slug not in present]


@never_cache
@require_GET
def export(request):
    selection = _selection(request)
    table = request.GET.get("table") or providers()[0].slug
    fmt = request.GET.get("format", "csv")
    slug, _, part = table.partition(":")
    if slug not in {p.slug for p in providers()} or part not in ("", "agences") or fmt not in ("csv", "xlsx"):
        raise Http404("Tableau inconnu.")

    def body():
        blocks = {b.slug: b for b in build_blocks(selection, with_charts=False)}
        title, headers, rows = exports.table(blocks[slug], selection, by_agency=part == "agences")
        return exports.to_xlsx(title, headers, rows) if fmt == "xlsx" else exports.to_csv(headers, rows)

    refresh = last_refresh()
    content = cached(cache_key("export", refresh, selection, table, fmt) if refresh else None, body)
    name = f"tableau-de-bord-{slug}{'-agences' if part else ''}-{selection.period.param}"
    content_type = exports.XLSX_TYPE if fmt == "xlsx" else "text/csv; charset=utf-8"
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@never_cache
@require_GET
def monthly_pdf(request):
    selection = _selection(request, kind="month")
    refresh = last_refresh()

    def pdf():
        context = {
            "selection": selection,
            "period": selection.period,
            "blocks": build_blocks(selection, with_charts=False),
            "refresh": refresh,
            "missing_blocks": missing_blocks(),
        }
        return render_pdf("dashboards/pdf/monthly.html", context)

    content = cached(cache_key("pdf", refresh, selection) if refresh else None, pdf)
    return pdf_response(content, f"tableau-de-bord-{selection.period.param}.pdf")


@never_cache
@require_GET
def detail(request):
    """The records behind a figure that no other list can filter (by period and agency)."""
    selection = _selection(request)
    code = request.GET.get("figure", "")
    for provider in providers():
        found = provider.drilldowns().get(code)
        if found:
            break
    else:
        raise Http404("Chiffre inconnu.")
    title, query, columns = found
    everything = selection.agency is None and request.user.sees_all_agencies
    page = paginate(request, query(None if everything else selection.agency_ids, selection.period))
    rows = [[exports.cell(item, attr, kind) for _label, attr, kind in columns] for item in page.items]
    return render(
        request,
        "dashboards/detail.html",
        {
            "selection": selection,
            "title": title,
            "headers": [label for label, _a, _k in columns],
            "rows": rows,
            "page": page,
            "back_query": selection.query(),
        },
    )
