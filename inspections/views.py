"""Move-in and move-out pages. Thin: permission-checked lookup -> form -> service -> render.

The EDL pages are made for a 10-inch tablet in portrait: one room per page, saved on its own by an
htmx POST (a lost connection loses at most the room being edited), large touch targets.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.documents import pdf_response
from billing.ledger import account_for
from tenancies.access import require_perm
from tenancies.formatting import format_euros, to_cents
from tenancies.models import Agency, LeaseStatus, User
from tenancies.paging import paginate
from tenancies.uploads import file_response

from . import access, pdf, services
from .access import APPROVE_SETTLEMENTS, EDIT_INSPECTIONS, MANAGE_MOVES, VIEW
from .forms import (
    AddendumForm,
    DecisionForm,
    DetailsForm,
    ItemForm,
    LeaseSignForm,
    MoveInForm,
    NoticeForm,
    ProvisionForm,
    RefundForm,
    ReleaseForm,
    RepairForm,
    ScheduleForm,
    SignForm,
)
from .models import (
    Condition,
    Element,
    Inspection,
    InspectionKind,
    InspectionStatus,
    LineKind,
    Notice,
    Settlement,
    SettlementLine,
    SettlementStatus,
)
from .services import MoveError

# --- Lists for the team ----------------------------------------------------------------------


def _agencies(request):
    user = request.user
    return Agency.objects.all() if user.sees_all_agencies else Agency.objects.filter(pk__in=user.agency_ids)


def _agency_agent_filters(request):
    """(agency id or None, agent id or None, agencies, agents) from the query string."""
    agencies = list(_agencies(request).order_by("name"))
    agency_ids = {a.pk for a in agencies}
    try:
        agency = int(request.GET.get("agence") or 0) or None
    except ValueError:
        agency = None
    if agency not in agency_ids:
        agency = None
    agents = User.objects.filter(is_active=True, groups__name="agent_edl")
    agents = agents.filter(agencies__in=[agency] if agency else agency_ids).distinct().order_by("last_name", "username")
    agents = list(agents)
    try:
        agent = int(request.GET.get("agent") or 0) or None
    except ValueError:
        agent = None
    if agent not in {a.pk for a in agents}:
        agent = None
    return agency, agent, agencies, agents


def _parse_day(text: str | None, default: date) -> date:
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        return default


DAY_NAMES = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
KIND_LABELS = dict(InspectionKind.choices)
STATUS_LABELS = dict(InspectionStatus.choices)
SCHEDULE_PAGE = 100


@require_GET
def schedule(request):
    """The agents' schedule of visits and EDLs, by day or by week, filtered by agency and agent.

    Rows are read as values and formatted here: a week of a whole agency is hundreds of rows, and
    model instances, {% url %} and |date per row cost more than the query (bench/inspections.py)."""
    require_perm(request.user, VIEW)
    today = timezone.localdate()
    day = _parse_day(request.GET.get("jour"), today)
    week = request.GET.get("vue") == "semaine"
    start = day - timedelta(days=day.weekday()) if week else day
    end = start + timedelta(days=7 if week else 1)
    agency, agent, agencies, agents = _agency_agent_filters(request)
    tz = timezone.get_current_timezone()
    qs = (
        Inspection.objects.for_user(request.user)
        .filter(
            scheduled_at__gte=timezone.make_aware(datetime.combine(start, time.min), tz),
            scheduled_at__lt=timezone.make_aware(datetime.combine(end, time.min), tz),
        )
        .exclude(status=InspectionStatus.CANCELLED)
        .order_by("scheduled_at", "id")
    )
    if agency:
        qs = qs.filter(agency=agency)
    if agent:
        qs = qs.filter(agent=agent)
    # Page through ids on the inspection table alone (agency, agent, status and date are its own
    # columns), then read the joined columns of the ≤ 100 rows shown.
    page = paginate(request, qs.values_list("pk", flat=True), per_page=SCHEDULE_PAGE)
    found = {
        r["pk"]: r
        for r in Inspection.objects.filter(pk__in=page.items).values(
            "pk",
            "scheduled_at",
            "kind",
            "status",
            "lease__household_id",
            "lease__dwelling__reference",
            "lease__dwelling__building__address",
            "agent__first_name",
            "agent__last_name",
            "agent__username",
        )
    }
    base = reverse("inspections:inspection_detail", args=[0])[: -len("0/")]
    rows = []
    for r in (found[pk] for pk in page.items):
        when = timezone.localtime(r["scheduled_at"], tz)
        rows.append(
            {
                "url": f"{base}{r['pk']}/",
                "when": f"{DAY_NAMES[when.weekday()]} {when:%d/%m %H:%M}",
                "kind": KIND_LABELS.get(r["kind"], r["kind"]),
                "status": STATUS_LABELS.get(r["status"], r["status"]),
                "household": r["lease__household_id"],
                "dwelling": r["lease__dwelling__reference"],
                "address": r["lease__dwelling__building__address"],
                "agent": f"{r['agent__first_name']} {r['agent__last_name']}".strip() or r["agent__username"],
            }
        )
    return render(
        request,
        "inspections/schedule.html",
        {
            "rows": rows,
            "page": page,
            "day": day,
            "start": start,
            "end": end - timedelta(days=1),
            "week": week,
            "previous": (start - timedelta(days=7 if week else 1)).isoformat(),
            "next": end.isoformat(),
            "agencies": agencies,
            "agents": agents,
            "agency": agency,
            "agent": agent,
        },
    )


@require_GET
def awaiting_signature(request):
    require_perm(request.user, VIEW)
    agency, agent, agencies, agents = _agency_agent_filters(request)
    qs = (
        Inspection.objects.for_user(request.user)
        .with_place()
        .open()
        .exclude(kind=InspectionKind.PRE_VISIT)
        .filter(scheduled_at__lt=timezone.now() + timedelta(days=1))
        .annotate(
            rooms_total=Count("rooms", distinct=True),
            rooms_saved=Count("rooms", filter=Q(rooms__saved_at__isnull=False), distinct=True),
        )
        .order_by("scheduled_at", "id")
    )
    if agency:
        qs = qs.filter(agency=agency)
    if agent:
        qs = qs.filter(agent=agent)
    return render(
        request,
        "inspections/awaiting_signature.html",
        {"page": paginate(request, qs), "agencies": agencies, "agents": agents, "agency": agency, "agent": agent},
    )


@require_GET
def settlement_list(request):
    """Settlements not refunded yet, the nearest deadline first, with the days left."""
    require_perm(request.user, VIEW)
    agency, _agent, agencies, _agents = _agency_agent_filters(request)
    today = timezone.localdate()
    qs = (
        Settlement.objects.for_user(request.user)
        .outstanding()
        .select_related("lease__dwelling__building__estate__agency", "lease__household")
        .prefetch_related("lease__household__people")
        .order_by("deadline", "id")
    )
    if agency:
        qs = qs.filter(lease__dwelling__building__estate__agency=agency)
    page = paginate(request, qs)
    for s in page.items:
        s.days_left = (s.deadline - today).days
    return render(request, "inspections/settlement_list.html", {"page": page, "agencies": agencies, "agency": agency})


# --- Move-in ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def move_in_new(request):
    """« Nouvelle entrée »: a draft lease for a vacant dwelling and a household."""
    require_perm(request.user, MANAGE_MOVES)
    form = MoveInForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            lease = services.move_in_create(
                dwelling=form.cleaned_data["dwelling"],
                household=form.cleaned_data["household"],
                starts_on=form.cleaned_data["starts_on"],
                by=request.user,
            )
        except MoveError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Bail {lease.number} créé en projet.")
            return redirect("inspections:move_in", pk=lease.pk)
    return render(request, "inspections/move_in_new.html", {"form": form}, status=400 if form.errors else 200)


def _schedule_form(request, lease, kinds):
    return ScheduleForm(
        request.POST if request.POST.get("action") == "schedule" else None,
        agency_id=lease.dwelling.building.estate.agency_id,
        kinds=kinds,
        initial={"day": timezone.localdate() + timedelta(days=1), "hour": "09:00"},
        prefix="rdv",
    )


def _schedule(request, lease, form) -> Inspection | None:
    if not form.is_valid():
        return None
    try:
        inspection = services.inspection_schedule(
            lease=lease,
            kind=form.cleaned_data["kind"],
            scheduled_at=form.scheduled_at,
            agent=form.cleaned_data["agent"],
            by=request.user,
        )
    except MoveError as exc:
        form.add_error(None, str(exc))
        return None
    messages.success(
        request,
        f"{inspection.get_kind_display()} prévu le {timezone.localtime(inspection.scheduled_at):%d/%m/%Y à %H:%M}.",
    )
    return inspection


@require_http_methods(["GET", "POST"])
def move_in(request, pk):
    """A draft lease on its way in: contract PDF, signature with the deposit call, the entry EDL."""
    lease = access.get_lease_for_user(request.user, pk)
    can_manage = request.user.has_perm(MANAGE_MOVES)
    sign_form = LeaseSignForm(
        request.POST if request.POST.get("action") == "sign" else None, initial={"signed_on": timezone.localdate()}
    )
    schedule_form = _schedule_form(request, lease, {InspectionKind.ENTRY})
    if request.method == "POST":
        require_perm(request.user, MANAGE_MOVES)
        action = request.POST.get("action")
        if action == "sign" and sign_form.is_valid():
            try:
                services.lease_sign(
                    lease=lease,
                    signed_on=sign_form.cleaned_data["signed_on"],
                    by=request.user,
                    today=timezone.localdate(),
                )
            except MoveError as exc:
                sign_form.add_error(None, str(exc))
            else:
                messages.success(request, f"Bail signé ; dépôt de garantie de {format_euros(lease.deposit)} appelé.")
                return redirect("inspections:move_in", pk=lease.pk)
        elif action == "schedule" and _schedule(request, lease, schedule_form):
            return redirect("inspections:move_in", pk=lease.pk)
    entry = lease.inspections.filter(kind=InspectionKind.ENTRY).exclude(status=InspectionStatus.CANCELLED).first()
    deposit_entry = None
    if lease.status != LeaseStatus.DRAFT:
        deposit_entry = account_for(lease).entries.filter(kind="deposit").first()
    context = {
        "lease": lease,
        "entry": entry,
        "deposit_entry": deposit_entry,
        "sign_form": sign_form,
        "schedule_form": schedule_form,
        "can_manage": can_manage,
        "annexes": lease_annex_documents(lease),
    }
    return render(request, "inspections/move_in.html", context, status=400 if request.method == "POST" else 200)


def lease_annex_documents(lease) -> list[str]:
    """The documents annexed to the lease (loi 89 art. 3 and 3-3), for the contract's list."""
    built = lease.dwelling.building.estate.built_year
    docs = [
        "Diagnostic de performance énergétique (DPE)",
        "État des risques et pollutions (ERP)",
        "État de l'installation intérieure d'électricité (installation de plus de 15 ans)",
        "État de l'installation intérieure de gaz (installation de plus de 15 ans)",
        "Notice d'information sur les droits et obligations des locataires et des bailleurs",
        "État des lieux d'entrée",
        "Règlement intérieur de la résidence",
    ]
    if built is None or built < 1949:
        docs.insert(2, "Constat de risque d'exposition au plomb (CREP, immeuble d'avant 1949)")
    return docs


@never_cache
@require_GET
def lease_contract(request, pk):
    lease = access.get_lease_for_user(request.user, pk)
    context = {
        "lease": lease,
        "dwelling": lease.dwelling,
        "people": [p for p in lease.household.people.all() if p.is_cotenant] or list(lease.household.people.all()),
        "charges": list(lease.charges.select_related("charge_type")),
        "annex_lines": list(lease.lease_annexes.select_related("annex")),
        "documents": lease_annex_documents(lease),
    }
    return pdf_response(pdf.render_document("lease_contract", context), f"bail-{lease.number}.pdf")


# --- Move-out --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def move_out(request, pk):
    """The way out: the notice, the visite conseil, the exit EDL, the settlement."""
    lease = access.get_lease_for_user(request.user, pk)
    notice = Notice.objects.filter(lease=lease).first()
    notice_form = NoticeForm(
        request.POST if request.POST.get("action") == "notice" else None,
        initial={"received_on": timezone.localdate()},
        prefix="conge",
    )
    schedule_form = _schedule_form(request, lease, {InspectionKind.PRE_VISIT, InspectionKind.EXIT})
    if request.method == "POST":
        require_perm(request.user, MANAGE_MOVES)
        action = request.POST.get("action")
        if action == "notice" and notice_form.is_valid():
            try:
                notice = services.notice_record(
                    lease=lease,
                    received_on=notice_form.cleaned_data["received_on"],
                    reason=notice_form.cleaned_data["reason"],
                    by=request.user,
                    today=timezone.localdate(),
                )
            except MoveError as exc:
                notice_form.add_error(None, str(exc))
            else:
                messages.success(request, f"Congé enregistré : fin du préavis le {notice.ends_on:%d/%m/%Y}.")
                return redirect("inspections:move_out", pk=lease.pk)
        elif action == "schedule" and _schedule(request, lease, schedule_form):
            return redirect("inspections:move_out", pk=lease.pk)
    inspections = list(lease.inspections.select_related("agent").order_by("scheduled_at"))
    settlement = Settlement.objects.filter(lease=lease).first()
    return render(
        request,
        "inspections/move_out.html",
        {
            "lease": lease,
            "notice": notice,
            "notice_form": notice_form,
            "schedule_form": schedule_form,
            "inspections": inspections,
            "settlement": settlement,
            "can_manage": request.user.has_perm(MANAGE_MOVES),
        },
        status=400 if request.method == "POST" else 200,
    )


@never_cache
@require_GET
def notice_letter(request, pk):
    notice = access.get_notice_for_user(request.user, pk)
    lease = notice.lease
    context = {
        "notice": notice,
        "lease": lease,
        "dwelling": lease.dwelling,
        "people": list(lease.household.people.all()),
    }
    return pdf_response(pdf.render_document("notice_ack", context), f"accuse-conge-{lease.number}.pdf")


# --- The EDL on a tablet ---------------------------------------------------------------------


def _rooms(inspection):
    return list(
        inspection.rooms.annotate(
            rated=Count("elements", filter=~Q(elements__condition=""), distinct=True),
            total=Count("elements", distinct=True),
            photo_count=Count("photos", distinct=True),
        ).order_by("position")
    )


def _details_initial(inspection):
    initial = {
        "water_index": inspection.water_index,
        "electricity_index": inspection.electricity_index,
        "gas_index": inspection.gas_index,
        "new_address": inspection.new_address,
    }
    for key in inspection.keys.all():
        initial[f"key_{key.kind}"] = key.count
        initial[f"key_{key.kind}_purpose"] = key.purpose
    return initial


@require_http_methods(["GET", "POST"])
def inspection_detail(request, pk):
    """The EDL's home on the tablet: rooms to go through, meters and keys, signature, addenda."""
    inspection = access.get_inspection_for_user(request.user, pk)
    details = DetailsForm(
        request.POST if request.POST.get("action") == "details" else None, initial=_details_initial(inspection)
    )
    addendum_form = AddendumForm(
        request.POST if request.POST.get("action") == "addendum" else None,
        initial={"received_on": timezone.localdate()},
        prefix="complement",
    )
    if request.method == "POST":
        require_perm(request.user, EDIT_INSPECTIONS)
        action = request.POST.get("action")
        try:
            if action == "details" and details.is_valid():
                data = details.cleaned_data
                services.inspection_save_details(
                    inspection=inspection,
                    meters={k: data.get(k) for k in ("water_index", "electricity_index", "gas_index")},
                    keys=details.keys(),
                    new_address=data.get("new_address") or "",
                    by=request.user,
                )
                if request.htmx:
                    return render(
                        request,
                        "inspections/_details.html",
                        {"inspection": inspection, "details": details, "saved": True},
                    )
                messages.success(request, "Relevés et clés enregistrés.")
                return redirect(inspection)
            if action == "addendum" and addendum_form.is_valid():
                services.addendum_add(
                    inspection=inspection,
                    received_on=addendum_form.cleaned_data["received_on"],
                    text=addendum_form.cleaned_data["text"],
                    by=request.user,
                    today=timezone.localdate(),
                )
                messages.success(request, "Remarques du locataire jointes en complément de l'état des lieux.")
                return redirect(inspection)
            if action == "cancel":
                services.inspection_cancel(inspection=inspection, by=request.user, reason="Annulé depuis la page")
                messages.info(request, "Rendez-vous annulé.")
                return redirect(inspection)
        except MoveError as exc:
            (details if action == "details" else addendum_form).add_error(None, str(exc))
        if request.htmx and action == "details":
            return render(
                request, "inspections/_details.html", {"inspection": inspection, "details": details}, status=400
            )
    rooms = _rooms(inspection)
    return render(
        request,
        "inspections/inspection_detail.html",
        {
            "inspection": inspection,
            "lease": inspection.lease,
            "rooms": rooms,
            "details": details,
            "addendum_form": addendum_form,
            "addenda": list(inspection.addenda.order_by("received_on", "id")),
            "remarks_deadline": services.remarks_deadline(inspection),
            "missing": [] if inspection.is_frozen else services.missing_items(inspection),
            "can_edit": request.user.has_perm(EDIT_INSPECTIONS) and not inspection.is_frozen,
            "can_add_remarks": request.user.has_perm(EDIT_INSPECTIONS),
        },
        status=400 if request.method == "POST" else 200,
    )


def _room_context(room, *, saved=False, error=None, partial=False):
    """The room's form context; the htmx partial needs neither the other rooms nor the photos."""
    inspection = room.inspection
    context = {
        "room": room,
        "inspection": inspection,
        "has_entry": inspection.entry_id is not None,
        "elements": list(room.elements.order_by("position")),
        "conditions": Condition.choices,
        "saved": saved,
        "error": error,
        "frozen": inspection.is_frozen,
    }
    if partial:
        return context
    rooms = list(inspection.rooms.order_by("position").values_list("pk", "position", "name"))
    index = next(i for i, r in enumerate(rooms) if r[0] == room.pk)
    context.update(
        photos=list(room.photos.order_by("id")),
        previous_room=rooms[index - 1] if index > 0 else None,
        next_room=rooms[index + 1] if index + 1 < len(rooms) else None,
        position=index + 1,
        room_count=len(rooms),
    )
    return context


def _posted_room(post) -> tuple[dict[int, str], dict[int, str]]:
    """{element id: condition}, {element id: comment} from the room form's field names."""
    conditions, comments = {}, {}
    for key, value in post.items():
        prefix, _, pk = key.partition("-")
        if pk.isdigit():
            if prefix == "condition":
                conditions[int(pk)] = value
            elif prefix == "comment":
                comments[int(pk)] = value
    return conditions, comments


@require_http_methods(["GET", "POST"])
def room_edit(request, pk):
    """One room on the tablet. POST (htmx) saves this room only and answers the room's form."""
    room = access.get_room_for_user(request.user, pk)
    if request.method == "POST":
        require_perm(request.user, EDIT_INSPECTIONS)
        conditions, comments = _posted_room(request.POST)
        try:
            services.room_save(
                room=room,
                conditions=conditions,
                comments=comments,
                comment=request.POST.get("room_comment", ""),
                by=request.user,
            )
        except MoveError as exc:
            if request.htmx:
                return render(
                    request,
                    "inspections/_room_form.html",
                    _room_context(room, error=str(exc), partial=True),
                    status=400,
                )
            return render(request, "inspections/room.html", _room_context(room, error=str(exc)), status=400)
        if not request.htmx:
            messages.success(request, f"Pièce « {room.name} » enregistrée.")
            return redirect("inspections:room_edit", pk=room.pk)
        return render(request, "inspections/_room_form.html", _room_context(room, saved=True, partial=True))
    return render(request, "inspections/room.html", _room_context(room))


@require_POST
def photo_upload(request, pk):
    room = access.get_room_for_user(request.user, pk, perm=EDIT_INSPECTIONS)
    error = None
    element = None
    element_id = request.POST.get("element")
    if element_id:
        element = Element.objects.filter(room=room, pk=element_id).first()
    uploaded = request.FILES.get("photo")
    if uploaded is None:
        error = "Choisissez ou prenez une photo."
    else:
        try:
            services.photo_add(room=room, uploaded=uploaded, element=element, by=request.user)
        except MoveError as exc:
            error = str(exc)
    context = _room_context(room)
    context["photo_error"] = error
    if request.htmx:
        return render(request, "inspections/_photos.html", context, status=400 if error else 200)
    if error:
        messages.error(request, error)
    return redirect("inspections:room_edit", pk=room.pk)


@never_cache
@require_GET
def photo(request, pk):
    photo = access.get_photo_for_user(request.user, pk)
    field = photo.thumbnail if request.GET.get("vignette") else photo.image
    return file_response(field, filename=f"photo-{photo.pk}.jpg", inline=True)


@require_http_methods(["GET", "POST"])
def inspection_sign(request, pk):
    """Both signatures drawn on the screen; once signed the EDL is frozen and becomes a PDF."""
    inspection = access.get_inspection_for_user(request.user, pk)
    if inspection.is_frozen:
        messages.info(request, "Cet état des lieux est déjà signé.")
        return redirect(inspection)
    form = SignForm(request.POST or None)
    if request.method == "POST":
        require_perm(request.user, EDIT_INSPECTIONS)
        if form.is_valid():
            try:
                services.inspection_sign(
                    inspection=inspection,
                    tenant_signature=form.cleaned_data["tenant_signature"],
                    agent_signature=form.cleaned_data["agent_signature"],
                    tenant_signatory=form.cleaned_data["tenant_signatory"],
                    dwelling_to_works=form.cleaned_data["dwelling_to_works"],
                    by=request.user,
                    today=timezone.localdate(),
                )
            except MoveError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"{inspection.get_kind_display()} signé : le document est figé.")
                settlement = Settlement.objects.filter(lease=inspection.lease).first()
                if inspection.kind == InspectionKind.EXIT and settlement:
                    return redirect(settlement)
                return redirect(inspection)
    return render(
        request,
        "inspections/sign.html",
        {"inspection": inspection, "form": form, "missing": services.missing_items(inspection)},
        status=400 if form.errors else 200,
    )


@never_cache
@require_GET
def inspection_pdf(request, pk):
    inspection = access.get_inspection_for_user(request.user, pk)
    if inspection.status == InspectionStatus.SIGNED:
        if not inspection.pdf:
            pdf.store_inspection_pdf(inspection)
        return file_response(
            inspection.pdf, filename=f"edl-{inspection.lease.number}-{inspection.kind}.pdf", inline=True
        )
    return pdf_response(pdf.render_inspection(inspection), f"edl-{inspection.lease.number}-projet.pdf")


@require_GET
def comparison(request, pk):
    """Entry beside exit, element by element, degradations flagged."""
    inspection = access.get_inspection_for_user(request.user, pk)
    if inspection.kind == InspectionKind.ENTRY:
        raise Http404
    rooms = list(inspection.rooms.prefetch_related("elements").order_by("position"))
    degraded = sum(1 for r in rooms for e in r.elements.all() if e.degraded)
    return render(
        request,
        "inspections/comparison.html",
        {"inspection": inspection, "lease": inspection.lease, "rooms": rooms, "degraded": degraded},
    )


# --- Settlement ------------------------------------------------------------------------------


def _settlement_context(request, settlement, forms_by_action, line_errors=None):
    lines = list(settlement.lines.select_related("price", "element").order_by("kind", "id"))
    today = timezone.localdate()
    account = account_for(settlement.lease)
    prices = services.price_schedule(settlement.keys_returned_on)
    repair_forms = []
    for line in lines:
        if line.kind == LineKind.REPAIR:
            bound = forms_by_action.get(("price", line.pk))
            repair_forms.append(
                (
                    line,
                    bound
                    or RepairForm(
                        prices=prices,
                        prefix=f"l{line.pk}",
                        initial={
                            "price": line.price_id,
                            "quantity": line.quantity,
                            "renewed_on": line.element.renewed_on if line.element else None,
                        },
                    ),
                )
            )
    user = request.user
    entries = services.settlement_entries(settlement, today) if settlement.status != SettlementStatus.REFUNDED else []
    return {
        "settlement": settlement,
        "lease": settlement.lease,
        "lines": lines,
        "repair_forms": repair_forms,
        "item_form": forms_by_action.get("item") or ItemForm(prefix="item"),
        "provision_form": forms_by_action.get("provision")
        or ProvisionForm(prefix="prov", initial={"provision": settlement.provision}),
        "decision_form": forms_by_action.get("decision") or DecisionForm(prefix="dec"),
        "refund_form": forms_by_action.get("refund") or RefundForm(prefix="refund", initial={"paid_on": today}),
        "release_form": forms_by_action.get("release")
        or ReleaseForm(prefix="rel", initial={"accounts_approved_on": today}),
        "days_left": (settlement.deadline - today).days,
        "today": today,
        "account": account,
        "projected": services.projected_balance(settlement) if settlement.status in ("draft", "pending") else None,
        "preview_entries": entries if settlement.status in ("draft", "pending") else [],
        "ledger": list(
            account.entries.filter(posted_on__gte=settlement.keys_returned_on - timedelta(days=62)).order_by(
                "posted_on", "id"
            )
        ),
        "approval_reasons": services.approval_reasons(settlement)
        if settlement.status == SettlementStatus.DRAFT
        else [],
        "max_provision": to_cents(settlement.deposit * services.calc.MAX_PROVISION_RATE),
        "can_price": user.has_perm(EDIT_INSPECTIONS) or user.has_perm(MANAGE_MOVES),
        "can_manage": user.has_perm(MANAGE_MOVES),
        "can_approve": user.has_perm(APPROVE_SETTLEMENTS)
        and user.pk not in (settlement.prepared_by_id, settlement.submitted_by_id),
        "line_errors": line_errors or {},
    }


@require_http_methods(["GET", "POST"])
def settlement_detail(request, pk):
    """The décompte de sortie: repairs priced with the vétusté grid, other items, provision,
    submission (four-eyes when needed), refund with the late penalty, the letter."""
    settlement = access.get_settlement_for_user(request.user, pk)
    bound = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        today = timezone.localdate()
        user = request.user
        try:
            if action == "price":
                if not (user.has_perm(EDIT_INSPECTIONS) or user.has_perm(MANAGE_MOVES)):
                    require_perm(user, EDIT_INSPECTIONS)
                line = settlement.lines.filter(pk=request.POST.get("line"), kind=LineKind.REPAIR).first()
                if line is None:
                    raise Http404
                form = RepairForm(
                    request.POST, prices=services.price_schedule(settlement.keys_returned_on), prefix=f"l{line.pk}"
                )
                bound[("price", line.pk)] = form
                if form.is_valid():
                    d = form.cleaned_data
                    services.repair_line_price(
                        line=line,
                        by=user,
                        price=d["price"],
                        quantity=d["quantity"],
                        cost=d["cost"],
                        renewed_on=d["renewed_on"],
                        override_amount=d["override_amount"],
                        override_reason=d["override_reason"],
                    )
                    messages.success(request, f"Réparation « {line.label} » chiffrée.")
                    return redirect(settlement)
            else:
                if action in ("decide_approve", "decide_refuse"):
                    require_perm(user, APPROVE_SETTLEMENTS)
                else:
                    require_perm(user, MANAGE_MOVES)
                form = None
                if action == "item":
                    form = bound["item"] = ItemForm(request.POST, prefix="item")
                    if form.is_valid():
                        services.settlement_add_item(
                            settlement=settlement,
                            label=form.cleaned_data["label"],
                            amount=form.cleaned_data["amount"],
                            by=user,
                        )
                        return redirect(settlement)
                elif action == "remove":
                    line = SettlementLine.objects.filter(settlement=settlement, pk=request.POST.get("line")).first()
                    if line is None:
                        raise Http404
                    services.settlement_remove_item(line=line, by=user)
                    return redirect(settlement)
                elif action == "provision":
                    form = bound["provision"] = ProvisionForm(request.POST, prefix="prov")
                    if form.is_valid():
                        services.settlement_set_provision(
                            settlement=settlement, amount=form.cleaned_data["provision"], by=user
                        )
                        return redirect(settlement)
                elif action == "submit":
                    settlement = services.settlement_submit(settlement=settlement, by=user, today=today)
                    if settlement.status == SettlementStatus.PENDING_APPROVAL:
                        messages.info(request, "Décompte transmis au responsable d'agence pour validation.")
                    else:
                        messages.success(request, "Décompte arrêté et comptabilisé sur le compte du locataire.")
                    return redirect(settlement)
                elif action in ("decide_approve", "decide_refuse"):
                    form = bound["decision"] = DecisionForm(request.POST, prefix="dec")
                    if form.is_valid():
                        approve = action == "decide_approve"
                        services.settlement_decide(
                            settlement=settlement, approve=approve, note=form.cleaned_data["note"], by=user, today=today
                        )
                        messages.success(
                            request,
                            "Décompte validé et comptabilisé." if approve else "Décompte renvoyé en préparation.",
                        )
                        return redirect(settlement)
                elif action == "refund":
                    form = bound["refund"] = RefundForm(request.POST, prefix="refund")
                    if form.is_valid():
                        settlement = services.settlement_record_refund(
                            settlement=settlement, paid_on=form.cleaned_data["paid_on"], by=user, today=today
                        )
                        messages.success(request, "Restitution enregistrée sur le compte du locataire.")
                        return redirect(settlement)
                elif action == "release":
                    form = bound["release"] = ReleaseForm(request.POST, prefix="rel")
                    if form.is_valid():
                        services.settlement_release_provision(
                            settlement=settlement,
                            accounts_approved_on=form.cleaned_data["accounts_approved_on"],
                            by=user,
                            today=today,
                        )
                        return redirect(settlement)
                else:
                    messages.error(request, "Action inconnue.")
        except MoveError as exc:
            messages.error(request, str(exc))
        settlement.refresh_from_db()
    context = _settlement_context(request, settlement, bound)
    return render(
        request, "inspections/settlement_detail.html", context, status=400 if request.method == "POST" else 200
    )


@never_cache
@require_GET
def settlement_letter(request, pk):
    settlement = access.get_settlement_for_user(request.user, pk)
    lease = settlement.lease
    lines = list(settlement.lines.order_by("kind", "id"))
    context = {
        "settlement": settlement,
        "lease": lease,
        "dwelling": lease.dwelling,
        "people": list(lease.household.people.all()),
        "new_address": settlement.exit_inspection.new_address if settlement.exit_inspection else "",
        "lines": lines,
        "account": account_for(lease),
        "entries": list(
            account_for(lease).entries.filter(posted_on__gte=settlement.keys_returned_on).order_by("posted_on", "id")
        ),
    }
    return pdf_response(pdf.render_document("settlement_letter", context), f"decompte-{lease.number}.pdf")
