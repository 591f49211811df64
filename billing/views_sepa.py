"""SEPA pages: an account's mandates, the collections by due date and the import of rejections."""

from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from tenancies.access import require_perm
from tenancies.formatting import format_euros
from tenancies.paging import paginate

from . import sepa
from .access import (
    COLLECT_DIRECT_DEBITS,
    get_direct_debit_run_for_user,
    get_mandate_account_for_user,
)
from .forms_sepa import CollectionForm, MandateForm, RejectFileForm
from .models import ZERO, DirectDebit, DirectDebitRun, DirectDebitStatus


def _with_reject_labels(debits):
    for debit in debits:
        debit.reject_label = sepa.reject_reason(debit.reject_code) if debit.reject_code else ""
    return debits


@require_GET
def account_mandates(request, pk):
    account = get_mandate_account_for_user(request.user, pk)
    mandates = list(account.mandates.order_by("-signed_on", "-pk"))
    debits = _with_reject_labels(
        list(
            DirectDebit.objects.filter(mandate__account=account)
            .select_related("run", "mandate")
            .order_by("-run__due_on", "-pk")[:24]
        )
    )
    return render(
        request,
        "billing/sepa/account_mandates.html",
        {"account": account, "lease": account.lease, "mandates": mandates, "debits": debits},
    )


@require_http_methods(["GET", "POST"])
def mandate_create(request, pk):
    account = get_mandate_account_for_user(request.user, pk)
    today = timezone.localdate()
    initial = {
        "rum": sepa.default_rum(account),
        "signed_on": today,
        "debtor_name": account.lease.household.display_name[:70],
    }
    form = MandateForm(request.POST or None, initial=initial, today=today)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            mandate = sepa.register_mandate(account=account, today=today, **data)
        except sepa.SepaError as exc:
            form.add_error(exc.field, str(exc))
        else:
            messages.success(request, f"Mandat {mandate.rum} enregistré : il sera utilisé aux prochaines remises.")
            return redirect("billing:account_mandates", pk=account.pk)
    status = 400 if form.is_bound else 200
    context = {"account": account, "form": form, "active": sepa.active_mandate(account)}
    return render(request, "billing/sepa/mandate_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
def sepa_index(request):
    require_perm(request.user, COLLECT_DIRECT_DEBITS)
    today = timezone.localdate()
    form = CollectionForm(request.POST or None, today=today)
    if request.method == "POST" and form.is_valid():
        try:
            run = sepa.collect_direct_debits(due_on=form.cleaned_data["due_on"], today=today, by=request.user)
        except sepa.SepaError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(
                request,
                f"Remise du {run.due_on:%d/%m/%Y} créée : {run.count} prélèvement{'s' if run.count > 1 else ''}, "
                f"{format_euros(run.total)}. Téléchargez le fichier et déposez-le à la banque.",
            )
            return redirect("billing:sepa_run_detail", pk=run.pk)
    pending = sepa.collectable_mandates().aggregate(
        count=Count("account", distinct=True), total=Sum("account__balance", default=ZERO)
    )
    runs = DirectDebitRun.objects.select_related("created_by").annotate(
        rejected=Count("debits", filter=Q(debits__status=DirectDebitStatus.REJECTED))
    )
    context = {
        "form": form,
        "page": paginate(request, runs.order_by("-due_on", "-pk")),
        "pending_count": pending["count"],
        "pending_total": pending["total"],
    }
    return render(request, "billing/sepa/index.html", context, status=400 if form.is_bound else 200)


@require_GET
def sepa_run_detail(request, pk):
    run = get_direct_debit_run_for_user(request.user, pk)
    debits = run.debits.select_related("mandate__account__lease").order_by("mandate__account__lease__number", "pk")
    page = paginate(request, debits)
    _with_reject_labels(page.items)
    summary = run.debits.aggregate(
        first=Count("pk", filter=Q(sequence="FRST")),
        recurring=Count("pk", filter=Q(sequence="RCUR")),
        rejected=Count("pk", filter=Q(status=DirectDebitStatus.REJECTED)),
        rejected_total=Sum("amount", filter=Q(status=DirectDebitStatus.REJECTED), default=ZERO),
    )
    return render(request, "billing/sepa/run_detail.html", {"run": run, "page": page, **summary})


@never_cache
@require_GET
def sepa_run_xml(request, pk):
    run = get_direct_debit_run_for_user(request.user, pk)
    response = HttpResponse(run.xml, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="prelevements-{run.due_on:%Y-%m-%d}-{run.pk}.xml"'
    return response


@require_http_methods(["GET", "POST"])
def sepa_rejects(request):
    require_perm(request.user, COLLECT_DIRECT_DEBITS)
    form = RejectFileForm(request.POST or None, request.FILES or None)
    context = {"form": form, "reasons": sorted(sepa.REJECT_REASONS.items())}
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                report = sepa.import_rejections(
                    content=form.cleaned_data["file"], today=timezone.localdate(), by=request.user
                )
            except sepa.RejectFileError as exc:
                context["file_errors"] = exc.errors
            else:
                status = 200
                context["report"] = report
                for _, debit in report.applied:
                    debit.reject_label = sepa.reject_reason(debit.reject_code)
                context["applied_total"] = sum((debit.amount for _, debit in report.applied), ZERO)
    return render(request, "billing/sepa/rejects.html", context, status=status)
