"""Stock and tenancy pages. Thin: permission-checked lookup -> form -> service -> render."""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.db.models import Count, Prefetch, Q, prefetch_related_objects
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from . import access
from .filters import DwellingFilter, EstateFilter, HouseholdFilter, LeaseFilter, filtered
from .forms import LeaseTransitionForm, SearchForm
from .models import (
    CURRENT_LEASE_STATUSES,
    Dwelling,
    DwellingStatus,
    Estate,
    Household,
    Lease,
    LeaseStatus,
    Person,
    normalize_search,
)
from .paging import paginate
from .services import LeaseError, lease_transition

SEARCH_LIMIT = 10


@login_not_required
@require_GET
def health(request):
    """Liveness and database check for the load balancer and docker-compose."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_GET
def home(request):
    user = request.user
    context = {"status_counts": None}
    if user.has_perm(access.BROWSE_STOCK):
        rows = (
            Dwelling.objects.for_user(user)
            .order_by()
            .values("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
        counts = dict(rows)
        context["status_counts"] = [(s.label, s.value, counts.get(s.value, 0)) for s in DwellingStatus]
        context["dwelling_total"] = sum(counts.values())
    return render(request, "tenancies/home.html", context)


# --- Stock -----------------------------------------------------------------------------------


@require_GET
def estate_list(request):
    qs = access.visible(Estate, request.user, access.BROWSE_STOCK).select_related("commune", "agency")
    filterset = filtered(request, EstateFilter, qs)
    qs = filterset.qs.annotate(dwelling_count=Count("buildings__dwellings")).order_by("name")
    return render(request, "tenancies/estate_list.html", {"filter": filterset, "page": paginate(request, qs)})


@require_GET
def estate_detail(request, pk):
    estate = access.get_estate_for_user(request.user, pk)
    buildings = estate.buildings.annotate(
        dwelling_count=Count("dwellings"),
        let_count=Count("dwellings", filter=Q(dwellings__status=DwellingStatus.LET)),
    ).order_by("name")
    annexes = estate.annexes.order_by("reference")
    return render(
        request,
        "tenancies/estate_detail.html",
        {"estate": estate, "buildings": buildings, "annex_count": annexes.count()},
    )


@require_GET
def building_detail(request, pk):
    building = access.get_building_for_user(request.user, pk)
    dwellings = building.dwellings.order_by("floor", "reference")
    return render(
        request, "tenancies/building_detail.html", {"building": building, "page": paginate(request, dwellings)}
    )


@require_GET
def dwelling_list(request):
    qs = access.visible(Dwelling, request.user, access.BROWSE_STOCK).with_place()
    filterset = filtered(request, DwellingFilter, qs)
    page = paginate(request, filterset.qs.order_by("reference"))
    estate_id = filterset.form.cleaned_data.get("estate") if filterset.is_bound and filterset.is_valid() else None
    estate = Estate.objects.for_user(request.user).filter(pk=estate_id).first() if estate_id else None
    return render(request, "tenancies/dwelling_list.html", {"filter": filterset, "page": page, "estate": estate})


@require_GET
def dwelling_detail(request, pk):
    user = request.user
    dwelling = access.get_dwelling_for_user(user, pk)
    charges = dwelling.charges.select_related("charge_type").order_by("charge_type__position")
    leases = []
    if user.has_perm(access.BROWSE_TENANTS):
        leases = list(
            dwelling.leases.select_related("household").prefetch_related("household__people").order_by("-starts_on")
        )
    current = next((lease for lease in leases if lease.status in CURRENT_LEASE_STATUSES), None)
    return render(
        request,
        "tenancies/dwelling_detail.html",
        {
            "dwelling": dwelling,
            "charges": charges,
            "charges_total": sum((c.monthly_amount for c in charges), Decimal("0.00")),
            "current_lease": current,
            "past_leases": [lease for lease in leases if lease is not current],
            "can_see_tenants": user.has_perm(access.BROWSE_TENANTS),
        },
    )


# --- Households and leases -------------------------------------------------------------------


def _people_prefetch():
    return Prefetch("people", queryset=Person.objects.order_by("id"))


@require_GET
def household_list(request):
    qs = access.visible(Household, request.user, access.BROWSE_TENANTS).select_related("agency")
    filterset = filtered(request, HouseholdFilter, qs)
    page = paginate(request, filterset.qs.order_by("-id"))
    prefetch_related_objects(page.items, _people_prefetch())
    return render(request, "tenancies/household_list.html", {"filter": filterset, "page": page})


@require_GET
def household_detail(request, pk):
    household = access.get_household_for_user(request.user, pk)
    people = list(household.people.order_by("id"))
    household._prefetched_objects_cache = {"people": people}
    leases = list(household.leases.select_related("dwelling__building__estate__commune").order_by("-starts_on"))
    current = [lease for lease in leases if lease.status in (*CURRENT_LEASE_STATUSES, LeaseStatus.DRAFT)]
    contacts = [p for p in people if p.phone or p.email]
    return render(
        request,
        "tenancies/household_detail.html",
        {
            "household": household,
            "people": people,
            "current_leases": current,
            "past_leases": [lease for lease in leases if lease not in current],
            "contacts": contacts,
        },
    )


@require_GET
def lease_list(request):
    qs = (
        access.visible(Lease, request.user, access.BROWSE_TENANTS)
        .select_related("dwelling__building__estate", "household")
        .prefetch_related(_household_people_prefetch())
    )
    filterset = filtered(request, LeaseFilter, qs)
    page = paginate(request, filterset.qs.order_by("number"))
    return render(request, "tenancies/lease_list.html", {"filter": filterset, "page": page})


def _household_people_prefetch():
    return Prefetch("household__people", queryset=Person.objects.order_by("id"))


@require_GET
def lease_detail(request, pk):
    user = request.user
    lease = access.get_lease_for_user(user, pk)
    lease = (
        Lease.objects.filter(pk=lease.pk)
        .select_related("dwelling__building__estate__commune", "household")
        .prefetch_related(
            _household_people_prefetch(), "charges__charge_type", "lease_annexes__annex", "transitions__by"
        )
        .get()
    )
    can_manage = user.has_perm(access.MANAGE_LEASES)
    form = LeaseTransitionForm(lease=lease) if can_manage and lease.allowed_transitions else None
    return render(request, "tenancies/lease_detail.html", {"lease": lease, "form": form})


@require_POST
def lease_transition_view(request, pk):
    lease = access.get_lease_for_user(request.user, pk, write=True)
    form = LeaseTransitionForm(request.POST, lease=lease)
    if form.is_valid():
        try:
            lease_transition(
                lease=lease,
                to_status=form.cleaned_data["to_status"],
                on=form.cleaned_data["on"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except LeaseError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Le statut du bail a été mis à jour.")
            return redirect(lease)
    lease = (
        Lease.objects.filter(pk=lease.pk)
        .select_related("dwelling__building__estate__commune", "household")
        .prefetch_related(
            _household_people_prefetch(), "charges__charge_type", "lease_annexes__annex", "transitions__by"
        )
        .get()
    )
    return render(request, "tenancies/lease_detail.html", {"lease": lease, "form": form}, status=400)


# --- Search ----------------------------------------------------------------------------------


@require_GET
def search(request):
    """Find a household by a person's name, a dwelling by reference, a lease by number."""
    user = request.user
    form = SearchForm(request.GET or None)
    results = {"households": [], "dwellings": [], "leases": []}
    query = ""
    if form.is_valid():
        query = form.cleaned_data["q"]
        needle = normalize_search(query)
        code = query.strip().upper().replace(" ", "")  # references and numbers keep their hyphens
        if user.has_perm(access.BROWSE_TENANTS):
            people = Person.objects.for_user(user)
            # The start of "NOM PRENOM" first: a range scan of person_search_name in name order that
            # stops after 50 rows, whatever the number of namesakes.
            prefix = people.filter(search_name__startswith=needle).order_by("search_name")
            ordered = list(dict.fromkeys(prefix.values_list("household_id", flat=True)[:50]))
            if len(ordered) < SEARCH_LIMIT:
                # Then every word anywhere (first name, second part of a compound name): trigram index.
                contains = people
                for token in needle.split():
                    contains = contains.filter(search_name__contains=token)
                more = contains.order_by("search_name").values_list("household_id", flat=True)[:50]
                ordered = list(dict.fromkeys([*ordered, *more]))
            ordered = ordered[:SEARCH_LIMIT]
            households = Household.objects.filter(pk__in=ordered).select_related("agency")
            households = households.prefetch_related(
                _people_prefetch(),
                Prefetch(
                    "leases",
                    queryset=Lease.objects.current().select_related("dwelling__building__estate__commune"),
                    to_attr="current_leases",
                ),
            )
            by_id = {h.pk: h for h in households}
            results["households"] = [by_id[i] for i in ordered if i in by_id]
            results["leases"] = list(
                Lease.objects.for_user(user)
                .filter(number__startswith=code)
                .select_related("dwelling", "household")
                .prefetch_related(_household_people_prefetch())
                .order_by("number")[:SEARCH_LIMIT]
            )
        if user.has_perm(access.BROWSE_STOCK):
            dwellings = Dwelling.objects.for_user(user).with_place().order_by("reference")
            # A reference is typed from its start: the unique index (collation "C") answers it.
            results["dwellings"] = list(dwellings.filter(reference__startswith=code)[:SEARCH_LIMIT])
            if not results["dwellings"] and any(c.isdigit() or c == "-" for c in code):
                results["dwellings"] = list(dwellings.filter(reference__contains=code)[:SEARCH_LIMIT])
        total = sum(len(v) for v in results.values())
        if total == 1 and request.GET.get("go") != "0":
            only = next(v[0] for v in results.values() if v)
            return redirect(only)
    elif form.is_bound:
        for error in form.errors.get("q", []):
            messages.warning(request, error)
    return render(request, "tenancies/search.html", {"form": form, "query": query, "results": results})
