"""Billing documents as PDF: avis d'échéance, quittance, reçu, relevé de compte, a run's avis per agency.

Every view loads its object through billing.access (404 outside the user's agencies, 403 for a
role without the permission) and renders through billing.pdf.render_pdf. The avis of a whole
run are printed per agency by a Celery task (billing.document_tasks) into one stored file that
the view then serves: the monthly batch itself renders no PDF.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

from dateutil.relativedelta import relativedelta
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, transaction
from django.db.models import Q, Sum
from django.http import FileResponse, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from tenancies.models import Agency, Lease

from .access import (
    get_account_for_user,
    get_agency_for_user,
    get_notice_for_user,
    get_payment_for_user,
    get_run_for_user,
)
from .calc import month_bounds, month_label
from .models import (
    ZERO,
    Account,
    BillingRun,
    EntryKind,
    LedgerEntry,
    Payment,
    PaymentAllocation,
    RentNotice,
    RunStatus,
)
from .pdf import render_pdf

PDF_TEMPLATES = {
    "avis": "billing/pdf/avis.html",
    "quittance": "billing/pdf/quittance.html",
    "recu": "billing/pdf/recu.html",
    "releve": "billing/pdf/releve.html",
}
MESSAGE_TEMPLATE = "billing/pdf/message.html"

# What each kind of line is, in a word, in the "Nature" column of the avis.
NATURE = {
    EntryKind.RENT: "Loyer",
    EntryKind.ANNEX_RENT: "Loyer annexe",
    EntryKind.SLS: "Supplément de loyer",
    EntryKind.RLS: "Réduction de loyer",
    EntryKind.CHARGE: "Charges",
}
# The quittance splits "loyer" and "charges" (loi 89 art. 21); RLS and SLS belong to the rent.
QUITTANCE_RENT_KINDS = frozenset({EntryKind.RENT, EntryKind.ANNEX_RENT, EntryKind.SLS, EntryKind.RLS})
QUITTANCE_CHARGE_KINDS = frozenset({EntryKind.CHARGE})

NOTICE_RELATED = (
    "lease__household__agency",
    "lease__dwelling__building__estate__commune",
    "lease__dwelling__building__estate__agency",
)
NOTICE_PREFETCH = ("lines", "lease__household__people")


# --- What the documents show -------------------------------------------------------------------


def dwelling_address_lines(dwelling) -> list[str]:
    """Postal lines of a dwelling (NF Z10-011 order): door and floor, building, street, postcode CITY."""
    building = dwelling.building
    commune = building.estate.commune
    complement = []
    if dwelling.door:
        complement.append(f"Porte {dwelling.door}")
    complement.append("Rez-de-chaussée" if dwelling.floor == 0 else f"{dwelling.floor_label} étage")
    name = building.name.strip()
    if name:
        complement.append(name if name.lower().startswith("bât") else f"Bât. {name}")
    if building.entrance:
        complement.append(building.entrance)
    return [", ".join(complement), building.address, f"{commune.postcode} {commune.name.upper()}"]


@dataclass
class Sheet:
    """The head of one document: who it is for, where they live, which agency to call."""

    lease: object
    names: str
    tenant_count: int
    address_lines: list[str]
    agency: Agency | None

    @property
    def dwelling(self):
        return self.lease.dwelling

    @classmethod
    def for_lease(cls, lease) -> Sheet:
        people = list(lease.household.people.all())
        holders = [p for p in people if p.is_cotenant] or people[:1]
        return cls(
            lease=lease,
            names=lease.household.display_name,
            tenant_count=len(holders) or 1,
            address_lines=dwelling_address_lines(lease.dwelling),
            agency=lease.dwelling.building.estate.agency,
        )


@dataclass
class DocumentLine:
    label: str
    amount: Decimal
    kind: str

    @property
    def nature(self) -> str:
        return NATURE.get(self.kind) or EntryKind(self.kind).label


@dataclass
class NoticeSheet(Sheet):
    notice: RentNotice | None = None
    period_label: str = ""
    covered_from: date | None = None
    covered_to: date | None = None
    lines: list[DocumentLine] = field(default_factory=list)  # every line but the APL, in position order

    @classmethod
    def for_notice(cls, notice: RentNotice) -> NoticeSheet:
        head = Sheet.for_lease(notice.lease)
        first, last, _ = month_bounds(notice.period)
        lease = notice.lease
        return cls(
            **vars(head),
            notice=notice,
            period_label=month_label(notice.period),
            covered_from=max(first, lease.starts_on),
            covered_to=min(last, lease.ends_on) if lease.ends_on else last,
            lines=[
                DocumentLine(line.label, line.amount, line.kind)
                for line in sorted(notice.lines.all(), key=lambda line: line.position)
                if line.kind != EntryKind.APL
            ],
        )

    @property
    def rent_lines(self) -> list[DocumentLine]:
        return [line for line in self.lines if line.kind in QUITTANCE_RENT_KINDS]

    @property
    def charge_lines(self) -> list[DocumentLine]:
        return [line for line in self.lines if line.kind in QUITTANCE_CHARGE_KINDS]


def notices_for_print(queryset):
    return queryset.select_related(*NOTICE_RELATED).prefetch_related(*NOTICE_PREFETCH)


def _printable_lease(lease_id) -> Lease:
    return (
        Lease.objects.select_related(*(path.removeprefix("lease__") for path in NOTICE_RELATED))
        .prefetch_related("household__people")
        .get(pk=lease_id)
    )


# --- File names --------------------------------------------------------------------------------


def _ascii_name(*parts) -> str:
    text = "-".join(str(p) for p in parts if p not in (None, ""))
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:150] + ".pdf"


def pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def message_response(request, *, title: str, message: str, status: int, level: str = "warning", **extra):
    context = {"title": title, "message": message, "level": level, **extra}
    return render(request, MESSAGE_TEMPLATE, context, status=status)


# --- Avis, quittance, reçu ---------------------------------------------------------------------


def _printable_notice(user, pk) -> RentNotice:
    notice = get_notice_for_user(user, pk)
    return notices_for_print(RentNotice.objects.filter(pk=notice.pk)).get()


def render_notices(notices, *, cache: bool = False) -> bytes:
    """One PDF printing these notices (already loaded with notices_for_print), one per page."""
    return render_pdf(PDF_TEMPLATES["avis"], {"sheets": [NoticeSheet.for_notice(n) for n in notices]}, cache=cache)


@never_cache
@require_GET
def notice_pdf(request, pk):
    notice = _printable_notice(request.user, pk)
    # An issued avis is reprinted as it is: kept in the cache under a digest of its content (billing.pdf).
    pdf = render_notices([notice], cache=True)
    return pdf_response(pdf, _ascii_name("avis", f"{notice.period:%Y-%m}", notice.lease.number))


@never_cache
@require_GET
def quittance_pdf(request, pk):
    notice = _printable_notice(request.user, pk)
    allocations = list(
        notice.allocations.select_related("payment").order_by("payment__received_on", "payment_id", "pk")
    )
    paid = sum((a.amount for a in allocations), ZERO)
    if paid < notice.amount_due:
        # Loi 89 art. 21: a partial payment gets a receipt, never a quittance.
        return message_response(
            request,
            title="Quittance impossible",
            message="Cette échéance n'est pas entièrement réglée : seul un reçu peut être délivré.",
            status=409,
            back_url=reverse("billing:account_detail", args=[notice.account_id]),
        )
    payments: dict[int, dict] = {}
    for allocation in allocations:
        payment = allocation.payment
        row = payments.setdefault(
            payment.pk,
            {"received_on": payment.received_on, "method_label": payment.get_method_display(), "amount": ZERO},
        )
        row["amount"] += allocation.amount
    context = {
        "sheet": NoticeSheet.for_notice(notice),
        "payments": list(payments.values()),
        "tenant_paid": notice.amount_due if notice.amount_due > 0 else ZERO,
        "issued_on": timezone.localdate(),
    }
    pdf = render_pdf(PDF_TEMPLATES["quittance"], context, cache=True)
    return pdf_response(pdf, _ascii_name("quittance", f"{notice.period:%Y-%m}", notice.lease.number))


def _settled_before(payment: Payment, notice_ids) -> dict[int, Decimal]:
    """Per notice, what this payment and the ones recorded before it have settled."""
    up_to_this_one = Q(payment__received_on__lt=payment.received_on) | Q(
        payment__received_on=payment.received_on, payment_id__lte=payment.pk
    )
    rows = (
        PaymentAllocation.objects.filter(up_to_this_one, notice_id__in=notice_ids)
        .values("notice_id")
        .annotate(total=Sum("amount"))
        .values_list("notice_id", "total")
    )
    return dict(rows)


@never_cache
@require_GET
def receipt_pdf(request, pk):
    payment = get_payment_for_user(request.user, pk)
    if payment.entries.filter(reversed_by__isnull=False).exists():
        # A bounced or cancelled payment settled nothing: no receipt may be issued for it.
        return message_response(
            request,
            title="Reçu impossible",
            message="Ce paiement a été rejeté ou annulé (écriture contre-passée) : aucun reçu ne peut être délivré.",
            status=409,
            back_url=reverse("billing:account_detail", args=[payment.account_id]),
        )
    lease = _printable_lease(payment.account.lease_id)
    allocations = list(payment.allocations.select_related("notice").order_by("notice__period", "pk"))
    settled = _settled_before(payment, [a.notice_id for a in allocations])
    rows = [
        {
            "notice": a.notice,
            "period_label": month_label(a.notice.period),
            "amount": a.amount,
            "remaining": max(a.notice.amount_due - settled.get(a.notice_id, ZERO), ZERO),
        }
        for a in allocations
    ]
    context = {
        "sheet": Sheet.for_lease(lease),
        "payment": payment,
        "allocations": rows,
        "unallocated": payment.amount - sum((a.amount for a in allocations), ZERO),
        "issued_on": timezone.localdate(),
    }
    pdf = render_pdf(PDF_TEMPLATES["recu"], context, cache=True)
    return pdf_response(pdf, _ascii_name("recu", payment.pk, f"{payment.received_on:%Y-%m-%d}", lease.number))


# --- Relevé de compte --------------------------------------------------------------------------

DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")


def parse_day(text: str | None) -> date | None:
    """ "31/12/2026" or "2026-12-31" -> date; None when empty or invalid."""
    text = (text or "").strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time zone
        except ValueError:
            continue
    return None


def statement_range(params, today: date) -> tuple[date, date]:
    """(du, au) from the query string; by default the 12 months up to today. Bad dates fall back."""
    date_to = parse_day(params.get("au")) or today
    date_from = parse_day(params.get("du")) or (date_to - relativedelta(months=12) + relativedelta(days=1))
    if date_from > date_to:
        date_from, date_to = date_to, date_from
    return date_from, date_to


def statement_context(account: Account, date_from: date, date_to: date) -> dict:
    """Opening balance before `date_from`, the entries of the range with a running balance, closing."""
    entries = LedgerEntry.objects.filter(account=account)
    opening = entries.filter(posted_on__lt=date_from).balance()
    rows, balance, total_debit, total_credit = [], opening, ZERO, ZERO
    for entry in entries.filter(posted_on__gte=date_from, posted_on__lte=date_to).order_by("posted_on", "id"):
        balance += entry.debit - entry.credit
        total_debit += entry.debit
        total_credit += entry.credit
        rows.append({"entry": entry, "balance": balance})
    return {
        "date_from": date_from,
        "date_to": date_to,
        "opening_balance": opening,
        "rows": rows,
        "total_debit": total_debit,
        "total_credit": total_credit,
        "closing_balance": balance,
    }


@never_cache
@require_GET
def statement_pdf(request, pk):
    account = get_account_for_user(request.user, pk)
    lease = _printable_lease(account.lease_id)
    today = timezone.localdate()
    date_from, date_to = statement_range(request.GET, today)
    context = {"sheet": Sheet.for_lease(lease), "issued_on": today, **statement_context(account, date_from, date_to)}
    pdf = render_pdf(PDF_TEMPLATES["releve"], context)
    return pdf_response(pdf, _ascii_name("releve", lease.number, f"{date_from:%Y%m%d}", f"{date_to:%Y%m%d}"))


# --- A run's avis, per agency ------------------------------------------------------------------

# Notices per WeasyPrint document: layout costs about 1 MB of memory per page until the PDF is
# written, so a large agency is printed in parts of this size, stored, then put together.
PART_SIZE = 200


def run_agency_pdf_name(run_id: int, agency_id: int) -> str:
    """Where the task stores the run's PDF for one agency (private media, never under static)."""
    return f"billing/runs/{int(run_id)}/agency-{int(agency_id)}.pdf"


def _part_name(run_id: int, agency_id: int, index: int) -> str:
    return f"billing/runs/{int(run_id)}/parts/agency-{int(agency_id)}/{index:05d}.pdf"


def run_agency_notices(run_id: int, agency_id: int):
    """The run's notices of one agency, in mail order (estate, dwelling)."""
    return RentNotice.objects.filter(run_id=run_id, lease__dwelling__building__estate__agency_id=agency_id).order_by(
        "lease__dwelling__building__estate__code", "lease__dwelling__reference", "pk"
    )


def _store(name: str, content) -> None:
    """Write a file at `name`, replacing any previous one; readers never see it half written."""
    try:
        target = default_storage.path(name)
    except NotImplementedError:  # a remote storage: no rename, overwrite
        default_storage.delete(name)
        default_storage.save(name, content)
        return
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=os.path.dirname(target), suffix=".part", delete=False) as handle:
        for chunk in content.chunks():
            handle.write(chunk)
    mode = getattr(default_storage, "file_permissions_mode", None)
    if mode is not None:  # as FileSystemStorage.save would (tempfile creates 0600)
        os.chmod(handle.name, mode)
    os.replace(handle.name, target)


@contextmanager
def _run_agency_lock(run_id: int, agency_id: int):
    """A session advisory lock: one worker at a time prints a given run and agency; others skip."""
    digest = hashlib.blake2b(f"billing.run_agency_pdf:{run_id}:{agency_id}".encode(), digest_size=8).digest()
    key = int.from_bytes(digest, "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
            except DatabaseError:
                connection.close()  # closing the session releases its advisory locks


def build_run_agency_pdf(run_id: int, agency_id: int) -> str | None:
    """Print the avis of a finished run for one agency into one stored PDF; returns its storage name.

    Idempotent and resumable: notices are printed by parts of PART_SIZE stored as they finish, so
    a run cut short (time limit, lost worker) resumes at the first missing part. Returns None when
    the run is not finished or another worker holds the job.
    """
    name = run_agency_pdf_name(run_id, agency_id)
    run = BillingRun.objects.filter(pk=run_id).first()
    if run is None or run.status != RunStatus.DONE:
        return None
    with _run_agency_lock(run_id, agency_id) as acquired:
        if not acquired:
            return None
        if default_storage.exists(name):
            return name
        notice_ids = list(run_agency_notices(run_id, agency_id).values_list("pk", flat=True))
        batches = [notice_ids[i : i + PART_SIZE] for i in range(0, len(notice_ids), PART_SIZE)]
        if not batches:
            return None
        if len(batches) == 1:
            _store(name, ContentFile(_render_batch(batches[0])))
            return name
        parts = [_part_name(run_id, agency_id, index) for index in range(len(batches))]
        for part, ids in zip(parts, batches, strict=True):
            if not default_storage.exists(part):
                _store(part, ContentFile(_render_batch(ids)))
        merged = _merged(parts)
        try:
            _store(name, merged)
        finally:
            merged.close()
        for part in parts:
            default_storage.delete(part)
        return name


def _render_batch(notice_ids: list[int]) -> bytes:
    by_id = {n.pk: n for n in notices_for_print(RentNotice.objects.filter(pk__in=notice_ids))}
    return render_notices([by_id[pk] for pk in notice_ids])


def _merged(part_names: list[str]) -> File:
    """The parts put together into one PDF, spooled to disk beyond 20 MB."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for part in part_names:
        with default_storage.open(part, "rb") as handle:
            writer.append(BytesIO(handle.read()))
    spool = tempfile.SpooledTemporaryFile(max_size=20 * 1024 * 1024)  # noqa: SIM115 - closed with the File
    writer.write(spool)
    spool.seek(0)
    return File(spool)


@never_cache
@require_GET
def run_agency_pdf(request, pk, agency_pk):
    run = get_run_for_user(request.user, pk)
    agency = get_agency_for_user(request.user, agency_pk)
    name = run_agency_pdf_name(run.pk, agency.pk)
    if default_storage.exists(name):
        filename = _ascii_name("avis", f"{run.period:%Y-%m}", "agence", agency.code)
        response = FileResponse(default_storage.open(name, "rb"), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{filename}"'
        return response
    back_url = reverse("billing:run_detail", args=[run.pk])
    if run.status != RunStatus.DONE:
        return message_response(
            request,
            title="PDF indisponible",
            message="Le quittancement n'est pas terminé : le PDF de l'agence pourra être préparé à la fin du lot.",
            status=409,
            back_url=back_url,
        )
    if not run_agency_notices(run.pk, agency.pk).exists():
        return message_response(
            request,
            title="Aucun avis",
            message="Ce quittancement n'a émis aucun avis pour cette agence.",
            status=404,
            back_url=back_url,
        )
    from .document_tasks import render_run_agency_pdf

    run_id, agency_id = run.pk, agency.pk
    transaction.on_commit(lambda: render_run_agency_pdf.delay(run_id, agency_id))
    return message_response(
        request,
        title="PDF en préparation",
        message="Le PDF de l'agence est en préparation, rechargez la page dans quelques instants.",
        status=202,
        level="info",
        back_url=back_url,
        refresh_seconds=10,
    )
