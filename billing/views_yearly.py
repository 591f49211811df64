"""Pages of the yearly operations: rent revision, charge regularisation, SLS; their letters as PDF.

The operation pages span every agency (permission billing.yearly_operations, 403 otherwise) and
show no tenant names. Letters are per lease: loaded through Lease.objects.for_user, so another
agency's letter is a 404. Views are thin: form -> billing.yearly service -> redirect.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.db.models import Count, F, Max, Q, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenancies.access import require_perm
from tenancies.formatting import format_euros
from tenancies.models import Dwelling, Lease
from tenancies.paging import paginate

from . import yearly
from .access import (
    LEASE_PRINT_RELATED,
    YEARLY_OPERATIONS,
    get_regularisation_for_user,
    get_revision_for_user,
    get_revision_line_for_user,
    get_survey_for_user,
)
from .documents import Sheet, _ascii_name, message_response, pdf_response
from .forms_yearly import (
    ChargeCostForm,
    RegularisationApplyForm,
    RegularisationForm,
    RevisionForm,
    SlsSurveyForm,
)
from .models import (
    AllocationKey,
    ChargeRegularisation,
    IrlIndex,
    RentRevision,
    SlsSurvey,
    SlsSurveyStatus,
    YearlyStatus,
)
from .pdf import render_pdf

# --- Permission-checked lookups ----------------------------------------------------------------


def _require(user) -> None:
    require_perm(user, YEARLY_OPERATIONS)


def _visible_leases(user):
    return Lease.objects.for_user(user)


def _printable_lease(user, pk) -> Lease:
    """A lease of the user's agencies (404 otherwise), loaded for a letter's head."""
    qs = _visible_leases(user).select_related(*LEASE_PRINT_RELATED).prefetch_related("household__people")
    return get_object_or_404(qs, pk=pk)


def _letter_agencies(user) -> set[int] | None:
    """Agencies whose letters the user may open (None: all)."""
    return None if user.sees_all_agencies else set(user.agency_ids)


def _field(form, exc: yearly.YearlyError, mapping: dict[str, str] | None = None) -> None:
    name = (mapping or {}).get(exc.field, exc.field)
    form.add_error(name if name in form.fields else None, str(exc))


# --- Entry page ---------------------------------------------------------------------------------


@require_GET
def yearly_index(request):
    _require(request.user)
    today = timezone.localdate()
    revisions = list(
        RentRevision.objects.select_related("applied_by")
        .annotate(line_count=Count("lines"))
        .order_by("-effective_on")[:10]
    )
    for revision in revisions:
        revision.rate_label = yearly.percent_label(revision.rate)
    regularisations = ChargeRegularisation.objects.select_related("building__estate").order_by(
        "-year", "building__estate__name", "building__name"
    )
    sls_years = list(
        SlsSurvey.objects.values("year")
        .annotate(
            count=Count("id"),
            sent=Count("id", filter=Q(status=SlsSurveyStatus.SENT)),
            due=Count("id", filter=Q(monthly_sls__gt=0)),
            total=Sum("monthly_sls"),
        )
        .order_by("-year")[:10]
    )
    for row in sls_years:
        row["applied"] = yearly.sls_is_applied(row["year"])
    return render(
        request,
        "billing/yearly/index.html",
        {
            "revisions": revisions,
            "page": paginate(request, regularisations, per_page=15),
            "sls_years": sls_years,
            "current_year": today.year,
        },
    )


# --- 1. Rent revision ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def revision_new(request):
    _require(request.user)
    today = timezone.localdate()
    form = RevisionForm(request.POST or None, today=today)
    if request.method == "POST" and form.is_valid():
        try:
            revision = yearly.revision_preview(
                effective_on=form.cleaned_data["effective_on"], rate=form.rate, by=request.user
            )
        except yearly.YearlyError as exc:
            _field(form, exc, {"rate": "rate_pct"})
        else:
            messages.success(request, f"Aperçu de la révision au {revision.effective_on:%d/%m/%Y} calculé.")
            return redirect("billing:revision_detail", pk=revision.pk)
    caps = []
    for year in (today.year, today.year + 1):
        try:
            cap = yearly.revision_cap(yearly.year_bounds(year)[0])
        except yearly.YearlyError:
            caps.append((year, None, ""))
        else:
            caps.append((year, cap, yearly.percent_label(cap.rate)))
    context = {"form": form, "indexes": IrlIndex.objects.filter(quarter=2).order_by("-year")[:6], "caps": caps}
    return render(request, "billing/yearly/revision_form.html", context, status=400 if form.errors else 200)


@require_GET
def revision_detail(request, pk):
    _require(request.user)
    revision = get_revision_for_user(request.user, pk)
    lines = (
        revision.lines.select_related("lease__dwelling__building__estate__agency")
        .annotate(increase=F("new_rent") - F("old_rent"))
        .order_by("lease__dwelling__reference", "lease_id")
    )
    capped_only = request.GET.get("plafonnes") == "1"
    if capped_only:
        lines = lines.filter(capped_by_convention=True)
    context = {
        "revision": revision,
        "totals": yearly.revision_totals(revision),
        "page": paginate(request, lines),
        "capped_only": capped_only,
        "letter_agencies": _letter_agencies(request.user),
        "late_notices": yearly.revision_late_notices(revision) if revision.status == YearlyStatus.PREVIEW else 0,
        "rate_label": yearly.percent_label(revision.rate),
        "crumb": f"Révision au {revision.effective_on:%d/%m/%Y}",
    }
    return render(request, "billing/yearly/revision_detail.html", context)


@require_POST
def revision_apply(request, pk):
    _require(request.user)
    revision = get_revision_for_user(request.user, pk)
    try:
        count = yearly.revision_apply(revision=revision, by=request.user)
    except yearly.YearlyError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"Révision appliquée : {count} loyer(s) mis à jour au {revision.effective_on:%d/%m/%Y}."
        )
    return redirect("billing:revision_detail", pk=revision.pk)


@never_cache
@require_GET
def revision_letter(request, pk):
    line = get_revision_line_for_user(request.user, pk)
    lease = _printable_lease(request.user, line.lease_id)
    revision = line.revision
    context = {
        "sheet": Sheet.for_lease(lease),
        "line": line,
        "revision": revision,
        "rate_label": yearly.percent_label(revision.rate),
        "increase": line.new_rent - line.old_rent,
        "max_rent": lease.dwelling.max_rent,
        "issued_on": timezone.localdate(),
    }
    pdf = render_pdf("billing/pdf/revision_letter.html", context)
    return pdf_response(pdf, _ascii_name("revision-loyer", f"{revision.effective_on:%Y}", lease.number))


# --- 2. Charge regularisation -------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def regularisation_new(request):
    _require(request.user)
    today = timezone.localdate()
    form = RegularisationForm(request.POST or None, today=today)
    if request.method == "POST" and form.is_valid():
        try:
            regularisation = yearly.regularisation_create(
                building=form.cleaned_data["building"], year=form.cleaned_data["year"], today=today, by=request.user
            )
        except yearly.YearlyError as exc:
            _field(form, exc)
        else:
            messages.success(request, "Régularisation créée : saisissez les dépenses réelles de l'exercice.")
            return redirect("billing:regularisation_detail", pk=regularisation.pk)
    return render(
        request, "billing/yearly/regularisation_form.html", {"form": form}, status=400 if form.errors else 200
    )


@require_http_methods(["GET", "POST"])
def regularisation_detail(request, pk):
    """The costs (added, replaced, removed here), the preview per lease and the apply form."""
    _require(request.user)
    regularisation = get_regularisation_for_user(request.user, pk)
    today = timezone.localdate()
    cost_form = ChargeCostForm(request.POST if request.POST.get("action") == "cost" else None)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "cost":
                if not cost_form.is_valid():
                    raise _InvalidForm
                data = cost_form.cleaned_data
                yearly.regularisation_set_cost(
                    regularisation=regularisation,
                    charge_type=data["charge_type"],
                    actual_amount=data["actual_amount"],
                    allocation_key=data["allocation_key"],
                )
                message = f"Dépense « {data['charge_type']} » enregistrée."
            elif action == "remove":
                yearly.regularisation_remove_cost(
                    regularisation=regularisation, charge_type_id=_int(request.POST.get("charge_type"))
                )
                message = "Dépense retirée."
            elif action == "compute":
                message = None
            else:
                raise yearly.YearlyError("Action inconnue.")
            count = yearly.regularisation_compute(regularisation=regularisation)
        except _InvalidForm:
            pass
        except yearly.YearlyError as exc:
            if action == "cost" and exc.field:
                _field(cost_form, exc)
            else:
                messages.error(request, str(exc))
                return redirect("billing:regularisation_detail", pk=regularisation.pk)
        else:
            messages.success(request, (message + " " if message else "") + f"Aperçu recalculé : {count} ligne(s).")
            return redirect("billing:regularisation_detail", pk=regularisation.pk)
    per_lease = (
        regularisation.lines.values(
            "lease_id", "lease__number", "lease__dwelling__reference", "lease__dwelling__building__estate__agency_id"
        )
        .annotate(
            days=Max("days_occupied"),
            share=Sum("actual_share"),
            provisions=Sum("provisions_billed"),
            balance=Sum("balance"),
        )
        .order_by("lease__dwelling__reference", "lease_id")
    )
    context = {
        "regularisation": regularisation,
        "costs": regularisation.costs.select_related("charge_type").order_by("charge_type__position"),
        "cost_form": cost_form,
        "apply_form": RegularisationApplyForm(),
        "totals": yearly.regularisation_totals(regularisation),
        "page": paginate(request, per_lease),
        "letter_agencies": _letter_agencies(request.user),
        "late": yearly.regularisation_is_late(regularisation, today),
        "crumb": f"Régularisation {regularisation.year} — {regularisation.building}",
    }
    return render(
        request, "billing/yearly/regularisation_detail.html", context, status=400 if cost_form.errors else 200
    )


class _InvalidForm(Exception):
    pass


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise yearly.YearlyError("Type de charge inconnu.") from None


@require_POST
def regularisation_apply(request, pk):
    _require(request.user)
    regularisation = get_regularisation_for_user(request.user, pk)
    form = RegularisationApplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Étalement invalide : choisissez entre 1 et 12 mois.")
        return redirect("billing:regularisation_detail", pk=regularisation.pk)
    try:
        entries = yearly.regularisation_apply(
            regularisation=regularisation,
            today=timezone.localdate(),
            spread_months=form.cleaned_data["spread_months"],
            by=request.user,
        )
    except yearly.YearlyError as exc:
        messages.error(request, str(exc))
    else:
        total = sum((e.debit - e.credit for e in entries), Decimal("0.00"))
        messages.success(
            request, f"Régularisation appliquée : {len(entries)} écriture(s), solde net {format_euros(total)}."
        )
    return redirect("billing:regularisation_detail", pk=regularisation.pk)


def _statement_rows(regularisation: ChargeRegularisation, lease: Lease) -> list[dict]:
    lines = {
        line.charge_type_id: line for line in regularisation.lines.filter(lease=lease).select_related("charge_type")
    }
    if not lines:
        raise Http404
    dwellings = Dwelling.objects.filter(building_id=regularisation.building_id).aggregate(
        area=Sum("living_area"), count=Count("id"), tantiemes=Sum("tantiemes")
    )
    totals = {
        AllocationKey.LIVING_AREA: dwellings["area"],
        AllocationKey.EQUAL: dwellings["count"],
        AllocationKey.TANTIEMES: dwellings["tantiemes"],
    }
    dwelling = lease.dwelling
    rows = []
    for cost in regularisation.costs.select_related("charge_type").order_by("charge_type__position"):
        line = lines.get(cost.charge_type_id)
        if line is None:
            continue
        rows.append(
            {
                "cost": cost,
                "line": line,
                "key_label": AllocationKey(cost.allocation_key).label,
                "weight": yearly.allocation_weight(
                    cost.allocation_key, living_area=dwelling.living_area, tantiemes=dwelling.tantiemes
                ),
                "total_weight": totals[cost.allocation_key],
            }
        )
    return rows


@never_cache
@require_GET
def regularisation_statement(request, pk, lease_pk):
    _require(request.user)
    lease = _printable_lease(request.user, lease_pk)
    regularisation = get_regularisation_for_user(request.user, pk)
    rows = _statement_rows(regularisation, lease)
    balance = sum((r["line"].balance for r in rows), Decimal("0.00"))
    applied_on = timezone.localtime(regularisation.applied_at).date() if regularisation.applied_at else None
    first, last, days_in_year = yearly.year_bounds(regularisation.year)
    context = {
        "occupied_from": max(first, lease.starts_on),
        "occupied_to": min(last, lease.ends_on) if lease.ends_on else last,
        "sheet": Sheet.for_lease(lease),
        "regularisation": regularisation,
        "rows": rows,
        "days": rows[0]["line"].days_occupied,
        "days_in_year": days_in_year,
        "share_total": sum((r["line"].actual_share for r in rows), Decimal("0.00")),
        "provisions_total": sum((r["line"].provisions_billed for r in rows), Decimal("0.00")),
        "balance": balance,
        "abs_balance": abs(balance),
        "applied_on": applied_on,
        "plan": yearly.instalment_plan(balance, regularisation.spread_months, applied_on) if applied_on else [],
        "issued_on": timezone.localdate(),
    }
    pdf = render_pdf("billing/pdf/regularisation_statement.html", context)
    return pdf_response(pdf, _ascii_name("regularisation-charges", regularisation.year, lease.number))


# --- 3. SLS ----------------------------------------------------------------------------------------


@require_GET
def sls_campaign(request, year):
    _require(request.user)
    surveys = SlsSurvey.objects.filter(year=year).select_related("lease__dwelling__building__estate__agency")
    status = request.GET.get("statut", "")
    if status in SlsSurveyStatus.values:
        surveys = surveys.filter(status=status)
    elif status == "du":
        surveys = surveys.filter(monthly_sls__gt=0)
    elif status == "erreur":
        surveys = surveys.exclude(status=SlsSurveyStatus.SENT).filter(monthly_sls__isnull=True)
    else:
        status = ""
    starts_on, ends_on = yearly.sls_charge_period(year)
    context = {
        "year": year,
        "totals": yearly.sls_totals(year),
        "applied": yearly.sls_is_applied(year),
        "page": paginate(request, surveys.order_by("lease__dwelling__reference", "id")),
        "status": status,
        "statuses": [("", "Toutes"), *SlsSurveyStatus.choices, ("du", "SLS dû"), ("erreur", "Calcul impossible")],
        "letter_agencies": _letter_agencies(request.user),
        "starts_on": starts_on,
        "ends_on": ends_on,
        "fee": yearly.SLS_NO_ANSWER_FEE,
        "crumb": f"Enquête SLS {year}",
    }
    return render(request, "billing/yearly/sls_campaign.html", context)


def _sls_action(request, year, action, success):
    _require(request.user)
    try:
        result = action()
    except yearly.YearlyError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success(result))
    return redirect("billing:sls_campaign", year=year)


@require_POST
def sls_open(request, year):
    today = timezone.localdate()
    return _sls_action(
        request,
        year,
        lambda: yearly.sls_open_survey(year=year, sent_on=today),
        lambda n: f"Enquête SLS {year} ouverte : {n} questionnaire(s) créé(s), envoyés le {today:%d/%m/%Y}.",
    )


@require_POST
def sls_close(request, year):
    return _sls_action(
        request,
        year,
        lambda: yearly.sls_close_survey(year=year),
        lambda n: f"Enquête clôturée : {n} ménage(s) sans réponse passent au SLS forfaitaire provisoire.",
    )


@require_POST
def sls_recompute(request, year):
    return _sls_action(
        request, year, lambda: yearly.sls_recompute(year=year), lambda n: f"{n} enquête(s) recalculée(s)."
    )


@require_POST
def sls_apply(request, year):
    today = timezone.localdate()
    return _sls_action(
        request,
        year,
        lambda: yearly.sls_apply(year=year, today=today, by=request.user),
        lambda r: f"SLS {year + 1} créés pour {r[0]} ménage(s) ; {r[1]} frais de dossier portés au compte.",
    )


@require_http_methods(["GET", "POST"])
def sls_survey_edit(request, pk):
    survey = get_survey_for_user(request.user, pk)
    initial = {
        "answer": SlsSurveyForm.NO_ANSWER if survey.status == SlsSurveyStatus.NO_ANSWER else SlsSurveyForm.ANSWERED,
        "answered_on": survey.answered_on or timezone.localdate(),
        "household_resources": survey.household_resources,
        "household_category": survey.household_category,
        "apl_beneficiary": survey.apl_beneficiary,
    }
    form = SlsSurveyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            survey = yearly.sls_record_answer(
                survey=survey,
                answered=data["answer"] == SlsSurveyForm.ANSWERED,
                answered_on=data["answered_on"],
                resources=data["household_resources"],
                category=data["household_category"],
                apl_beneficiary=data["apl_beneficiary"],
            )
        except yearly.YearlyError as exc:
            _field(form, exc)
        else:
            level = messages.WARNING if survey.monthly_sls is None else messages.SUCCESS
            messages.add_message(request, level, f"Enquête du bail {survey.lease.number} enregistrée : {survey.reason}")
            return redirect("billing:sls_survey_edit", pk=survey.pk)
    context = {"survey": survey, "lease": survey.lease, "form": form, "applied": yearly.sls_is_applied(survey.year)}
    return render(request, "billing/yearly/sls_survey_form.html", context, status=400 if form.errors else 200)


@never_cache
@require_GET
def sls_letter(request, pk):
    survey = get_survey_for_user(request.user, pk)
    lease = _printable_lease(request.user, survey.lease_id)
    back_url = reverse("billing:sls_survey_edit", args=[survey.pk])
    if not survey.monthly_sls or survey.monthly_sls <= 0:
        return message_response(
            request,
            title="Pas de SLS",
            message="Aucun supplément de loyer de solidarité n'est dû par ce ménage : pas de notification à envoyer.",
            status=409,
            back_url=back_url,
        )
    try:
        result = yearly.survey_result(survey)
    except yearly.YearlyError as exc:
        result = None
        error = str(exc)
    else:
        error = "" if result.monthly_sls == survey.monthly_sls else "Les barèmes ont changé depuis le calcul."
    if error:
        return message_response(
            request,
            title="SLS à recalculer",
            message=f"{error} Recalculez l'enquête avant d'imprimer la notification.",
            status=409,
            back_url=back_url,
        )
    starts_on, ends_on = yearly.sls_charge_period(survey.year)
    slr = yearly.reference_rent(lease.dwelling.building.estate.commune.ceiling_zone, starts_on)
    context = {
        "sheet": Sheet.for_lease(lease),
        "survey": survey,
        "slr_placeholder": "FICTIVE" in slr.source.upper(),
        "result": result,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "applied": yearly.sls_is_applied(survey.year),
        "living_area": lease.dwelling.living_area,
        "fee": format_euros(result.fee or yearly.SLS_NO_ANSWER_FEE),
        "issued_on": timezone.localdate(),
    }
    pdf = render_pdf("billing/yearly/sls_letter_pdf.html", context)
    return pdf_response(pdf, _ascii_name("sls", survey.year, lease.number))
