"""Pages of the bank and CAF statement imports, and the accounting export."""

from django.contrib import messages
from django.db.models import Count, Q
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenancies.access import require_perm
from tenancies.formatting import format_euros
from tenancies.paging import paginate

from . import imports
from .access import (
    EXPORT_ACCOUNTING,
    IMPORT_BANK,
    IMPORT_CAF,
    get_bank_line_for_user,
    get_bank_statement_for_user,
    get_caf_line_for_user,
    get_caf_statement_for_user,
)
from .forms_imports import AccountingExportForm, BankLineResolveForm, CafLineResolveForm, StatementUploadForm
from .models import BankStatement, BankStatementLine, CafStatement, ImportLineStatus, LedgerEntry

PENDING_CAF = (ImportLineStatus.DIFFERENCE, ImportLineStatus.UNMATCHED)
CAF_ERRORS_KEY = "caf_import_report"
MAX_REPORTED = 200


def _next_url(request, default: str) -> str:
    url = request.POST.get("next", "")
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return url
    return default


def _with_forms(lines, form_class, **kwargs):
    """Give each line its own resolve form (distinct HTML ids on a page of many forms)."""
    for line in lines:
        line.form = form_class(auto_id=f"id_l{line.pk}_%s", line=line, **kwargs)
    return lines


# --- Bank statements ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def bank_imports(request):
    require_perm(request.user, IMPORT_BANK)
    form = StatementUploadForm(
        request.POST or None,
        request.FILES or None,
        label="Relevé bancaire (CSV)",
        help_text="Colonnes date;montant;libellé;référence, séparées par des points-virgules, en UTF-8.",
    )
    if request.method == "POST" and form.is_valid():
        try:
            result = imports.import_bank_statement(
                filename=form.cleaned_data["file"].name,
                content=form.cleaned_data["content"],
                today=timezone.localdate(),
                by=request.user,
            )
        except imports.ImportRefused as exc:
            form.add_error("file", f"Fichier refusé. {exc}")
        else:
            statement = result.statement
            if result.created:
                pending = statement.line_count - statement.matched_count
                messages.success(
                    request,
                    f"Relevé importé : {statement.line_count} ligne(s), {statement.matched_count} paiement(s) "
                    f"enregistré(s), {pending} ligne(s) à traiter.",
                )
            else:
                messages.info(
                    request,
                    f"Ce fichier a déjà été importé le {timezone.localtime(statement.imported_at):%d/%m/%Y} : "
                    "rien n'a été modifié.",
                )
            return redirect("billing:bank_statement_detail", pk=statement.pk)
    statements = (
        BankStatement.objects.select_related("imported_by")
        .annotate(pending=Count("lines", filter=Q(lines__status=ImportLineStatus.UNMATCHED)))
        .order_by("-imported_at", "-id")
    )
    context = {
        "form": form,
        "page": paginate(request, statements),
        "pending_count": BankStatementLine.objects.filter(status=ImportLineStatus.UNMATCHED).count(),
        "can_export": request.user.has_perm(EXPORT_ACCOUNTING),
    }
    return render(request, "billing/imports/bank_index.html", context, status=400 if form.errors else 200)


@require_GET
def bank_statement_detail(request, pk):
    statement = get_bank_statement_for_user(request.user, pk)
    counts = dict(statement.lines.values_list("status").annotate(n=Count("id")).order_by())
    lines = statement.lines.select_related("account__lease", "payment").order_by("line_no")
    status = request.GET.get("statut", "")
    if status in ImportLineStatus.values:
        lines = lines.filter(status=status)
    else:
        status = ""
    page = paginate(request, lines, per_page=50)
    _with_forms(
        [line for line in page.items if line.status == ImportLineStatus.UNMATCHED],
        BankLineResolveForm,
        user=request.user,
    )
    statuses = [(value, label, counts.get(value, 0)) for value, label in ImportLineStatus.choices if value in counts]
    context = {"statement": statement, "page": page, "statuses": statuses, "status": status}
    return render(request, "billing/imports/bank_statement_detail.html", context)


@require_GET
def bank_line_queue(request):
    require_perm(request.user, IMPORT_BANK)
    lines = (
        BankStatementLine.objects.filter(status=ImportLineStatus.UNMATCHED)
        .select_related("statement")
        .order_by("booked_on", "statement_id", "line_no")
    )
    page = paginate(request, lines)
    _with_forms(page.items, BankLineResolveForm, user=request.user)
    return render(request, "billing/imports/bank_queue.html", {"page": page})


@require_POST
def bank_line_resolve(request, pk):
    line = get_bank_line_for_user(request.user, pk)
    form = BankLineResolveForm(request.POST, user=request.user, line=line)
    today = timezone.localdate()
    if form.is_valid():
        try:
            if form.action == "attach":
                account = form.cleaned_data["account"]
                payment = imports.attach_bank_line(line=line, account=account, today=today, by=request.user)
                messages.success(
                    request,
                    f"Ligne {line.line_no} rattachée au bail {account.lease.number} : "
                    f"paiement de {format_euros(payment.amount)} enregistré.",
                )
            else:
                imports.ignore_bank_line(line=line, note=form.cleaned_data["note"], today=today, by=request.user)
                messages.success(request, f"Ligne {line.line_no} ignorée.")
        except imports.LineError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect(_next_url(request, reverse("billing:bank_line_queue")))
    context = {"line": line, "form": form, "next": _next_url(request, reverse("billing:bank_line_queue"))}
    return render(request, "billing/imports/bank_line_resolve.html", context, status=400)


# --- CAF statements -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def caf_imports(request):
    require_perm(request.user, IMPORT_CAF)
    form = StatementUploadForm(
        request.POST or None,
        request.FILES or None,
        label="État CAF tiers payant (CSV)",
        help_text="Colonnes numero_allocataire;reference_locataire;periode;montant_apl;montant_rls;rappel;indu.",
    )
    details = []
    if request.method == "POST" and form.is_valid():
        try:
            result = imports.import_caf_statement(
                filename=form.cleaned_data["file"].name, content=form.cleaned_data["content"], by=request.user
            )
        except imports.ImportRefused as exc:
            form.add_error("file", f"Fichier refusé. {exc}")
            details = exc.details[:MAX_REPORTED]
        else:
            statement = result.statement
            if result.created:
                messages.success(
                    request,
                    f"État CAF de {statement.period:%m/%Y} importé : {statement.line_count} ligne(s), "
                    f"{statement.matched_count} conforme(s), {statement.error_count} ligne(s) en erreur.",
                )
                # The malformed lines are not stored: they are shown once, on the result page.
                request.session[CAF_ERRORS_KEY] = {
                    "statement": statement.pk,
                    "errors": result.errors[:MAX_REPORTED],
                    "more_errors": max(0, len(result.errors) - MAX_REPORTED),
                    "skipped": result.skipped[:MAX_REPORTED],
                }
            else:
                messages.info(
                    request,
                    f"Ce fichier a déjà été importé le {timezone.localtime(statement.imported_at):%d/%m/%Y} : "
                    "rien n'a été modifié.",
                )
            return redirect("billing:caf_statement_detail", pk=statement.pk)
    visible = imports.caf_lines_for_user(request.user).filter(status__in=PENDING_CAF)
    statements = (
        CafStatement.objects.select_related("imported_by")
        .annotate(pending=Count("lines", filter=Q(lines__in=visible)))
        .order_by("-imported_at", "-id")
    )
    context = {"form": form, "details": details, "page": paginate(request, statements)}
    return render(request, "billing/imports/caf_index.html", context, status=400 if form.errors else 200)


@require_GET
def caf_statement_detail(request, pk):
    statement = get_caf_statement_for_user(request.user, pk)
    report = request.session.get(CAF_ERRORS_KEY)
    if report and report.get("statement") == statement.pk:
        del request.session[CAF_ERRORS_KEY]
    else:
        report = None
    lines = imports.caf_lines_for_user(request.user).filter(statement=statement)
    counts = dict(lines.values_list("status").annotate(n=Count("id")).order_by())
    show_all = request.GET.get("toutes") == "1"
    if not show_all:
        lines = lines.filter(status__in=PENDING_CAF)
    page = paginate(request, lines.select_related("lease").order_by("line_no"), per_page=50)
    _with_forms([line for line in page.items if line.status in PENDING_CAF], CafLineResolveForm)
    statuses = [(value, label, counts.get(value, 0)) for value, label in ImportLineStatus.choices if value in counts]
    context = {
        "statement": statement,
        "report": report,
        "page": page,
        "statuses": statuses,
        "show_all": show_all,
        "visible_count": sum(counts.values()),
    }
    return render(request, "billing/imports/caf_statement_detail.html", context)


@require_POST
def caf_line_resolve(request, pk):
    line = get_caf_line_for_user(request.user, pk)
    form = CafLineResolveForm(request.POST, line=line)
    today = timezone.localdate()
    default = reverse("billing:caf_statement_detail", args=[line.statement_id])
    if form.is_valid():
        try:
            if form.action == "update_apl":
                benefit = imports.update_expected_apl(line=line, today=today, by=request.user)
                messages.success(
                    request,
                    f"APL attendue du bail {line.lease.number} : {format_euros(benefit.apl_amount)} "
                    f"à partir du {benefit.valid_from:%d/%m/%Y}.",
                )
            else:
                imports.mark_caf_line_treated(line=line, note=form.cleaned_data["note"], today=today, by=request.user)
                messages.success(request, f"Ligne {line.line_no} marquée comme traitée.")
        except imports.LineError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect(_next_url(request, default))
    context = {"line": line, "form": form, "next": _next_url(request, default)}
    return render(request, "billing/imports/caf_line_resolve.html", context, status=400)


# --- Accounting export ----------------------------------------------------------------------------


@require_GET
def accounting_export_form(request):
    require_perm(request.user, EXPORT_ACCOUNTING)
    form = AccountingExportForm(today=timezone.localdate())
    return render(request, "billing/imports/accounting_export.html", {"form": form})


@require_GET
def accounting_export(request):
    """The ledger entries of a period as CSV, streamed (the file may hold millions of lines)."""
    require_perm(request.user, EXPORT_ACCOUNTING)
    form = AccountingExportForm(request.GET, today=timezone.localdate())
    if not form.is_valid():
        return render(request, "billing/imports/accounting_export.html", {"form": form}, status=400)
    start, end = form.cleaned_data["du"], form.cleaned_data["au"]
    entries = LedgerEntry.objects.for_user(request.user)
    response = StreamingHttpResponse(
        imports.accounting_csv(entries, start=start, end=end), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="ecritures-{start:%Y-%m-%d}-au-{end:%Y-%m-%d}.csv"'
    return response
