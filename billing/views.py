"""Billing pages: the monthly runs, the tenant account and payments."""

import uuid
from decimal import Decimal

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenancies.access import require_perm
from tenancies.formatting import format_euros
from tenancies.models import Agency
from tenancies.paging import paginate

from . import access, batch
from .forms import LaunchRunForm, PaymentForm
from .models import BillingRun, RunStatus
from .services import PaymentError, notices_with_paid, record_payment


@require_http_methods(["GET", "POST"])
def run_list(request):
    require_perm(request.user, access.RUN_BILLING)
    today = timezone.localdate()
    form = LaunchRunForm(request.POST or None, today=today)
    if request.method == "POST" and form.is_valid():
        try:
            run, created = batch.start_run(period=form.cleaned_data["period"], by=request.user, today=today)
        except batch.BillingError as exc:
            form.add_error("period", str(exc))
        else:
            if created:
                messages.success(request, f"Quittancement de {run.period:%m/%Y} lancé.")
            else:
                messages.info(
                    request, f"Un quittancement de {run.period:%m/%Y} est déjà en cours : voici sa progression."
                )
            return redirect(run)
    runs = BillingRun.objects.select_related("launched_by").order_by("-launched_at")
    return render(request, "billing/run_list.html", {"form": form, "page": paginate(request, runs)})


def _run_context(run):
    done, total = batch.run_progress(run)
    percent = 100 if run.status == RunStatus.DONE else (done * 100 // total if total else 0)
    return {"run": run, "chunks_done": done, "chunks_total": total, "percent": percent}


@require_GET
def run_detail(request, pk):
    run = access.get_run_for_user(request.user, pk)
    context = _run_context(run)
    context["failures"] = run.failures.select_related("lease__dwelling").order_by("lease__number")[:200]
    agency_ids = dict(Agency.objects.values_list("name", "id"))
    context["agencies"] = [dict(row, agency_id=agency_ids.get(row["agency"])) for row in run.totals_by_agency]
    context["totals"] = {
        key: sum((Decimal(row[key]) for row in run.totals_by_agency), Decimal("0.00"))
        for key in ("rent", "charges", "apl")
    }
    return render(request, "billing/run_detail.html", context)


@require_GET
def run_progress(request, pk):
    """htmx fragment polled by the run page until the run is done."""
    run = access.get_run_for_user(request.user, pk)
    response = render(request, "billing/_run_progress.html", _run_context(run))
    if run.status != RunStatus.RUNNING and request.htmx:
        response["HX-Refresh"] = "true"  # reload the page once, to show the totals
    return response


@require_POST
def run_resume(request, pk):
    run = access.get_run_for_user(request.user, pk)
    if run.status != RunStatus.RUNNING:
        messages.warning(request, "Ce quittancement est terminé : rien à relancer.")
    else:
        count = batch.resume_run(run)
        messages.info(request, f"{count} lot(s) relancé(s).")
    return redirect(run)


@require_GET
def account_detail(request, pk):
    account = access.get_account_for_user(request.user, pk)
    entries = account.entries.order_by("-posted_on", "-id")
    notices = notices_with_paid(account.notices.all()).order_by("-period")[:12]
    payments = account.payments.order_by("-received_on", "-id")[:12]
    return render(
        request,
        "billing/account_detail.html",
        {
            "account": account,
            "lease": account.lease,
            "page": paginate(request, entries),
            "notices": notices,
            "payments": payments,
            "can_pay": request.user.has_perm(access.RECORD_PAYMENTS),
            "can_manage_mandates": request.user.has_perm("billing.manage_mandates"),
        },
    )


@require_http_methods(["GET", "POST"])
def payment_create(request, pk):
    account = access.get_account_for_user(request.user, pk, write=True)
    today = timezone.localdate()
    form = PaymentForm(request.POST or None, initial={"received_on": today, "token": uuid.uuid4().hex})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment = record_payment(
                account=account,
                amount=data["amount"],
                received_on=data["received_on"],
                method=data["method"],
                reference=data["reference"],
                idempotency_key=data["token"],
                today=today,
                by=request.user,
            )
        except PaymentError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Paiement de {format_euros(payment.amount)} enregistré.")
            return redirect("billing:account_detail", pk=account.pk)
    status = 400 if form.is_bound else 200
    return render(request, "billing/payment_form.html", {"account": account, "form": form}, status=status)
