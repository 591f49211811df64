"""Application pages. Thin: permission-checked lookup -> form -> service -> render."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.pdf import render_pdf
from tenancies.audit import log_read
from tenancies.filters import filtered
from tenancies.paging import paginate
from tenancies.uploads import EXTENSIONS, file_response

from . import access, cotation
from .eligibility import category_label, eligibility_report
from .filters import ApplicationFilter
from .forms import (
    ApplicationForm,
    CancelForm,
    DocumentForm,
    GridForm,
    criterion_formset,
    income_formset,
    people_data,
    person_formset,
)
from .models import Application, ApplicationPerson, CotationGrid, Relationship
from .rules import EDIT_GRIDS, MANAGE_APPLICATIONS
from .services import (
    ApplicationError,
    application_cancel,
    application_register,
    application_renew,
    application_update,
    document_add,
    duplicate_pairs,
    duplicate_resolve,
    grid_create_version,
)

CREATE_PEOPLE_ROWS = 4
CREATE_INCOME_ROWS = 4


def _applicants_prefetch():
    return Prefetch(
        "people",
        queryset=ApplicationPerson.objects.filter(relationship=Relationship.APPLICANT),
        to_attr="applicants",
    )


@require_GET
def application_list(request):
    qs = access.visible_applications(request.user).select_related("agency")
    filterset = filtered(request, ApplicationFilter, qs)
    page = paginate(request, filterset.qs.order_by("-score", "first_registered_on", "id"))
    from django.db.models import prefetch_related_objects

    prefetch_related_objects(page.items, _applicants_prefetch())
    return render(
        request,
        "applications/application_list.html",
        {"filter": filterset, "page": page, "can_manage": request.user.has_perm(MANAGE_APPLICATIONS)},
    )


def _detail_context(request, application, *, document_form=None, cancel_form=None):
    user = request.user
    today = timezone.localdate()
    application = (
        Application.objects.filter(pk=application.pk)
        .select_related("agency", "current_lease__dwelling", "created_by")
        .prefetch_related(
            Prefetch("people", queryset=ApplicationPerson.objects.prefetch_related("incomes")),
            "wished_communes",
            "priority_criteria",
            "documents__document_type",
            "documents__person",
            "transitions__by",
            "renewal_notices",
        )
        .get()
    )
    can_manage = user.has_perm(MANAGE_APPLICATIONS) and application.is_open
    twins = []
    if application.duplicate_suspected:
        other_ids = {b if a == application.pk else a for a, b in duplicate_pairs([application.pk])}
        visible = {a.pk: a for a in access.visible_applications(user).filter(pk__in=other_ids)}
        twins = [(pk, visible.get(pk)) for pk in sorted(other_ids)]
    return {
        "application": application,
        "people": application.people.all(),
        "category_label": category_label(application.category),
        "eligibility": eligibility_report(application, on=today),
        "breakdown": cotation.score_breakdown(application, as_of=today),
        "position": cotation.position(application),
        "score_changes": application.score_changes.all()[:20],
        "twins": twins,
        "can_manage": can_manage,
        "document_form": document_form or (DocumentForm(application=application) if can_manage else None),
        "cancel_form": cancel_form or (CancelForm() if can_manage else None),
        "today": today,
    }


@require_GET
def application_detail(request, pk):
    application = access.get_application_for_user(request.user, pk)
    log_read(request.user, application, purpose="dossier de demande")
    return render(request, "applications/application_detail.html", _detail_context(request, application))


def _form_page(request, *, application=None):
    user = request.user
    today = timezone.localdate()
    data = request.POST if request.method == "POST" else None
    if application is None:
        form = ApplicationForm(data, user=user, today=today)
        people = person_formset(data, extra=CREATE_PEOPLE_ROWS, today=today)
        incomes = income_formset(data, extra=CREATE_INCOME_ROWS)
    else:
        form = ApplicationForm(data, user=user, application=application, today=today, initial=_initial(application))
        existing = list(application.people.prefetch_related("incomes"))
        people = person_formset(data, initial=[_person_initial(p) for p in existing], extra=2, today=today)
        incomes = income_formset(
            data,
            initial=[
                {"person": str(i + 1), "source": inc.source, "monthly_amount": inc.monthly_amount}
                for i, p in enumerate(existing)
                for inc in p.incomes.all()
            ],
            extra=2,
        )
    if request.method == "POST":
        valid = all([form.is_valid(), people.is_valid(), incomes.is_valid()])
        if valid:
            members, errors = people_data(people, incomes)
            for error in errors:
                form.add_error(None, error)
            if not errors:
                cleaned = dict(form.cleaned_data)
                communes = cleaned.pop("wished_communes")
                criteria = cleaned.pop("priority_criteria")
                try:
                    if application is None:
                        application = application_register(
                            agency=cleaned["agency"],
                            data=cleaned,
                            people=members,
                            wished_communes=communes,
                            priority_criteria=criteria,
                            by=user,
                            on=today,
                        )
                        messages.success(request, f"Demande {application.number} enregistrée.")
                    else:
                        cleaned.pop("first_registered_on", None)
                        application = application_update(
                            application=application,
                            data=cleaned,
                            people=members,
                            wished_communes=communes,
                            priority_criteria=criteria,
                            by=user,
                            on=today,
                        )
                        messages.success(request, "Demande mise à jour.")
                except ApplicationError as exc:
                    form.add_error(None, str(exc))
                else:
                    report = eligibility_report(application, on=today)
                    if report.above_every_ceiling:
                        messages.warning(
                            request,
                            "Les ressources du foyer dépassent tous les plafonds connus : la demande est enregistrée "
                            "mais n'est éligible à aucun financement.",
                        )
                    return redirect(application)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "applications/application_form.html",
        {"form": form, "people": people, "incomes": incomes, "application": application},
        status=status,
    )


def _initial(application):
    return {
        "kind": application.kind,
        "national_number": application.national_number,
        "first_registered_on": application.first_registered_on,
        "lease_number": application.current_lease.number if application.current_lease_id else "",
        "housing_situation": application.housing_situation,
        "current_rent": application.current_rent,
        "reasons": application.reasons,
        "wished_communes": list(application.wished_communes.all()),
        "wished_typologies": application.wished_typologies,
        "max_floor": application.max_floor,
        "needs_elevator": application.needs_elevator,
        "needs_accessible": application.needs_accessible,
        "max_rent": application.max_rent,
        "dalo": application.dalo,
        "dalo_designated_on": application.dalo_designated_on,
        "priority_criteria": list(application.priority_criteria.all()),
        "reservataire": application.reservataire,
        "income_basis": application.income_basis,
        "recent_income": application.recent_income,
        "social_notes": application.social_notes,
    }


def _person_initial(p):
    return {
        "id": p.pk,
        "relationship": p.relationship,
        "last_name": p.last_name,
        "first_name": p.first_name,
        "birth_date": p.birth_date,
        "dependant": p.dependant,
        "disability_card": p.disability_card,
        "tax_income": p.tax_income,
        "tax_year": p.tax_year,
        "phone": p.phone,
        "email": p.email,
    }


@require_http_methods(["GET", "POST"])
def application_create(request):
    access.require_perm(request.user, MANAGE_APPLICATIONS)
    return _form_page(request)


@require_http_methods(["GET", "POST"])
def application_edit(request, pk):
    application = access.get_application_for_user(request.user, pk, write=True)
    if not application.is_open:
        messages.warning(request, "Une demande radiée ne peut plus être modifiée.")
        return redirect(application)
    return _form_page(request, application=application)


@require_POST
def application_cancel_view(request, pk):
    application = access.get_application_for_user(request.user, pk, write=True)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            application_cancel(
                application=application,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                by=request.user,
            )
        except ApplicationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "La demande est radiée.")
        return redirect(application)
    context = _detail_context(request, application, cancel_form=form)
    return render(request, "applications/application_detail.html", context, status=400)


@require_POST
def application_renew_view(request, pk):
    application = access.get_application_for_user(request.user, pk, write=True)
    try:
        application = application_renew(application=application, by=request.user)
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"Demande renouvelée jusqu'au {application.expires_on:%d/%m/%Y} (ancienneté conservée)."
        )
    return redirect(application)


def _pdf(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _applicant(application):
    return application.people.filter(relationship=Relationship.APPLICANT).first()


@never_cache
@require_GET
def renewal_certificate_pdf(request, pk):
    """Attestation de renouvellement (or d'enregistrement when never renewed)."""
    application = access.get_application_for_user(request.user, pk)
    pdf = render_pdf(
        "applications/pdf/certificate.html",
        {"application": application, "applicant": _applicant(application), "today": timezone.localdate()},
    )
    return _pdf(pdf, f"attestation-{application.number}.pdf")


@never_cache
@require_GET
def renewal_notice_pdf(request, pk):
    notice = access.get_renewal_notice_for_user(request.user, pk)
    return file_response(notice.file, filename=f"avis-renouvellement-{notice.application.number}.pdf", inline=True)


@require_POST
def document_upload(request, pk):
    application = access.get_application_for_user(request.user, pk, write=True)
    if not application.is_open:
        messages.warning(request, "Une demande radiée ne reçoit plus de pièces.")
        return redirect(application)
    form = DocumentForm(request.POST, request.FILES, application=application)
    if form.is_valid():
        uploaded = form.cleaned_data["file"]
        try:
            document_add(
                application=application,
                document_type=form.cleaned_data["document_type"],
                person=form.cleaned_data["person"],
                uploaded=uploaded,
                kind=uploaded.detected_kind,
                by=request.user,
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Pièce justificative ajoutée.")
            return redirect(f"{application.get_absolute_url()}#pieces")
    context = _detail_context(request, application, document_form=form)
    return render(request, "applications/application_detail.html", context, status=400)


@never_cache
@require_GET
def document_download(request, pk):
    document = access.get_document_for_user(request.user, pk)
    log_read(request.user, document, purpose="pièce justificative")
    name = f"{document.document_type.code}-{document.application.number}.{EXTENSIONS[document.content_kind]}"
    return file_response(document.file, filename=name, inline=document.content_kind == "pdf")


# --- Duplicates ------------------------------------------------------------------------------


@require_GET
def duplicate_list(request):
    access.require_perm(request.user, MANAGE_APPLICATIONS)
    mine = access.visible_applications(request.user).filter(duplicate_suspected=True).open()
    ids = list(mine.values_list("pk", flat=True)[:500])
    pairs = sorted(set(duplicate_pairs(ids)))
    wanted = {i for pair in pairs for i in pair}
    rows = {
        a.pk: a
        for a in access.visible_applications(request.user)
        .filter(pk__in=wanted)
        .select_related("agency")
        .prefetch_related("people")
    }
    shown = []
    for first, second in pairs:
        a, b = rows.get(first), rows.get(second)
        if a is None and b is None:
            continue
        common = []
        if a is not None and b is not None:
            keys_b = {(p.search_name, p.birth_date) for p in b.people.all()}
            common = [p for p in a.people.all() if (p.search_name, p.birth_date) in keys_b]
        shown.append({"first": a, "second": b, "first_id": first, "second_id": second, "common": common})
    return render(request, "applications/duplicate_list.html", {"pairs": shown})


@require_POST
def duplicate_resolve_view(request, pk, other_pk):
    keep = access.get_application_for_user(request.user, pk, write=True)
    other = access.get_application_for_user(request.user, other_pk, write=True)
    action = request.POST.get("action", "")
    try:
        duplicate_resolve(keep=keep, other=other, action=action, by=request.user)
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        if action == "cancel":
            messages.success(request, f"Demande {other.number} radiée comme doublon de {keep.number}.")
        else:
            messages.success(request, f"Demandes {keep.number} et {other.number} marquées comme distinctes.")
    return redirect("applications:duplicate_list")


# --- Cotation grids --------------------------------------------------------------------------


@require_GET
def grid_list(request):
    from tenancies.models import Agency

    access.require_perm(request.user, "applications.view_applications")
    user = request.user
    agencies = Agency.objects.all() if user.sees_all_agencies else Agency.objects.filter(pk__in=user.agency_ids)
    today = timezone.localdate()
    grids = CotationGrid.objects.for_user(user).select_related("agency").order_by("agency__name", "-version")
    in_force = {g.agency_id: g.pk for g in CotationGrid.objects.for_user(user).in_force(today)}
    return render(
        request,
        "applications/grid_list.html",
        {
            "agencies": agencies,
            "grids": grids,
            "in_force": in_force,
            "can_edit": user.has_perm(EDIT_GRIDS),
        },
    )


@require_GET
def grid_detail(request, pk):
    grid = access.get_grid_for_user(request.user, pk)
    return render(
        request,
        "applications/grid_detail.html",
        {"grid": grid, "criteria": grid.criteria.all(), "can_edit": request.user.has_perm(EDIT_GRIDS)},
    )


@require_http_methods(["GET", "POST"])
def grid_create(request, agency_pk):
    agency = access.get_agency_for_grid_edit(request.user, agency_pk)
    today = timezone.localdate()
    current = cotation.grid_in_force(agency.pk, today) or CotationGrid.objects.filter(agency=agency).first()
    initial = [
        {"code": c.code, "label": c.label, "rule": c.rule, "parameter": c.parameter, "points": c.points, "cap": c.cap}
        for c in (current.criteria.all() if current else [])
    ]
    data = request.POST if request.method == "POST" else None
    form = GridForm(data, initial={"valid_from": today})
    criteria = criterion_formset(data, initial=initial)
    if request.method == "POST" and form.is_valid() and criteria.is_valid():
        rows = [f.criterion() for f in criteria.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        try:
            grid = grid_create_version(
                agency=agency,
                valid_from=form.cleaned_data["valid_from"],
                criteria=rows,
                note=form.cleaned_data["note"],
                by=request.user,
                today=today,
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Version {grid.version} de la grille publiée.")
            return redirect(grid)
    return render(
        request,
        "applications/grid_form.html",
        {"form": form, "criteria": criteria, "agency": agency, "current": current},
        status=400 if request.method == "POST" else 200,
    )
