"""Write paths of move-ins and move-outs. Views, tasks and commands call these; nothing else writes.

Every function is keyword-only, owns its transaction and raises MoveError with a French message on
refused input, leaving nothing half-saved.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from billing.batch import load_terms
from billing.calc import bill_lease, month_label
from billing.ledger import NewEntry, account_for, post_entries
from billing.models import EntryKind, RentNoticeLine
from tenancies.formatting import format_euros, to_cents
from tenancies.legal_dates import deadline, legal_period
from tenancies.models import Dwelling, DwellingStatus, Lease, LeaseStatus
from tenancies.roles import Role
from tenancies.services import LeaseError, lease_create, lease_transition
from tenancies.uploads import MB, check_upload, clean_image, generated_name

from . import calc, checklists
from .models import (
    INSPECTION_TRANSITIONS,
    SETTLEMENT_TRANSITIONS,
    ZERO,
    Addendum,
    Condition,
    Element,
    Inspection,
    InspectionKind,
    InspectionStatus,
    InspectionTransition,
    KeyHandover,
    KeyKind,
    LineKind,
    Notice,
    NoticeReason,
    Photo,
    RepairPrice,
    Room,
    Settlement,
    SettlementLine,
    SettlementStatus,
    VetusteRule,
)

PHOTO_MAX_BYTES = 10 * MB
SIGNATURE_MAX_BYTES = 1 * MB
# Refunds above this amount need the responsable d'agence (four-eyes); settings may override it.
DEFAULT_APPROVAL_THRESHOLD = Decimal("1500.00")
BILLED_KINDS = (EntryKind.RENT, EntryKind.ANNEX_RENT, EntryKind.CHARGE)


class MoveError(Exception):
    """A refused move-in / move-out action; the message is French and shown to the user."""


def approval_threshold() -> Decimal:
    return Decimal(str(getattr(settings, "INSPECTIONS_REFUND_APPROVAL_THRESHOLD", DEFAULT_APPROVAL_THRESHOLD)))


# --- Move-in ---------------------------------------------------------------------------------


def move_in_create(*, dwelling: Dwelling, household, starts_on: date, by) -> Lease:
    """A draft lease for a vacant dwelling and a household of the same agency (tenancies.lease_create)."""
    if household.agency_id != dwelling.building.estate.agency_id:
        raise MoveError("Le ménage et le logement doivent dépendre de la même agence.")
    if dwelling.status not in (DwellingStatus.VACANT, DwellingStatus.RESERVED):
        raise MoveError(f"Le logement {dwelling.reference} n'est pas vacant ({dwelling.get_status_display().lower()}).")
    try:
        return lease_create(dwelling=dwelling, household=household, starts_on=starts_on, by=by)
    except LeaseError as exc:
        raise MoveError(str(exc)) from exc


@transaction.atomic
def lease_sign(*, lease: Lease, signed_on: date, by, today: date) -> Lease:
    """Sign a draft lease and call the deposit (one month of rent excluding charges) on the ledger."""
    if lease.status != LeaseStatus.DRAFT:
        raise MoveError("Seul un bail en projet peut être signé.")
    if signed_on > today:
        raise MoveError("La date de signature ne peut pas être dans le futur.")
    if signed_on > lease.starts_on:
        raise MoveError("Le bail doit être signé au plus tard à sa date d'effet.")
    try:
        lease = lease_transition(lease=lease, to_status=LeaseStatus.SIGNED, on=signed_on, by=by, reason="Signature")
    except LeaseError as exc:
        raise MoveError(str(exc)) from exc
    if lease.deposit > 0:
        post_entries(
            account=account_for(lease),
            entries=[
                NewEntry(
                    posted_on=signed_on,
                    kind=EntryKind.DEPOSIT,
                    label=f"Dépôt de garantie (bail {lease.number})",
                    amount=lease.deposit,
                )
            ],
            by=by,
        )
    return lease


# --- Inspections -----------------------------------------------------------------------------


def _transition(inspection: Inspection, to_status: str, by, reason: str = "") -> None:
    if to_status not in INSPECTION_TRANSITIONS[inspection.status]:
        raise MoveError(
            f"Un état des lieux « {inspection.get_status_display()} » ne peut pas passer au statut "
            f"« {InspectionStatus(to_status).label} »."
        )
    InspectionTransition.objects.create(
        inspection=inspection, from_status=inspection.status, to_status=to_status, by=by, reason=reason
    )
    inspection.status = to_status


def _build_rooms(inspection: Inspection, source: Inspection | None, first_letting: date) -> None:
    """Rooms and elements from the signed entry EDL (exit, visite conseil) or the typology template."""
    elements = []
    if source is not None:
        for room in source.rooms.prefetch_related("elements").order_by("position"):
            new_room = Room.objects.create(inspection=inspection, position=room.position, name=room.name)
            for e in room.elements.all():
                elements.append(
                    Element(
                        room=new_room,
                        position=e.position,
                        category=e.category,
                        label=e.label,
                        element_type=e.element_type,
                        entry_condition=e.condition,
                        entry_comment=e.comment,
                        renewed_on=e.renewed_on,
                    )
                )
    else:
        for position, (name, items) in enumerate(checklists.rooms_for(inspection.lease.dwelling.typology), 1):
            room = Room.objects.create(inspection=inspection, position=position, name=name)
            for n, (category, label, element_type) in enumerate(items, 1):
                elements.append(
                    Element(
                        room=room,
                        position=n,
                        category=category,
                        label=label,
                        element_type=element_type,
                        renewed_on=first_letting,
                    )
                )
    Element.objects.bulk_create(elements)


@transaction.atomic
def inspection_schedule(*, lease: Lease, kind: str, scheduled_at: datetime, agent, by) -> Inspection:
    """Book an EDL (or a visite conseil) with an agent d'état des lieux of the lease's agency.

    The exit EDL and the visite conseil start pre-filled with the signed entry EDL's rooms and
    elements (entry condition beside the exit one); without an entry EDL they start from the
    typology's checklist and the comparison says so."""
    lease = Lease.objects.select_for_update().select_related("dwelling__building__estate").get(pk=lease.pk)
    if kind not in InspectionKind.values:
        raise MoveError("Type d'état des lieux inconnu.")
    agency_id = lease.dwelling.building.estate.agency_id
    if Role.AGENT_EDL not in agent.roles or (not agent.sees_all_agencies and agency_id not in agent.agency_ids):
        raise MoveError("L'agent choisi n'est pas agent d'état des lieux de l'agence du logement.")
    if kind == InspectionKind.ENTRY and lease.status not in (LeaseStatus.DRAFT, LeaseStatus.SIGNED):
        raise MoveError("L'état des lieux d'entrée se prévoit sur un bail en projet ou signé.")
    if kind != InspectionKind.ENTRY and lease.status not in (LeaseStatus.ACTIVE, LeaseStatus.NOTICE_GIVEN):
        raise MoveError("La sortie se prévoit sur un bail en cours.")
    live = lease.inspections.exclude(status=InspectionStatus.CANCELLED)
    if kind != InspectionKind.PRE_VISIT and live.filter(kind=kind).exists():
        raise MoveError("Cet état des lieux est déjà prévu pour ce bail.")
    entry = None
    if kind != InspectionKind.ENTRY:
        entry = live.filter(kind=InspectionKind.ENTRY, status=InspectionStatus.SIGNED).first()
    inspection = Inspection.objects.create(
        lease=lease, agency_id=agency_id, kind=kind, scheduled_at=scheduled_at, agent=agent, entry=entry
    )
    InspectionTransition.objects.create(inspection=inspection, to_status=InspectionStatus.SCHEDULED, by=by)
    _build_rooms(inspection, entry, lease.starts_on)
    return inspection


def _editable(inspection: Inspection) -> None:
    if inspection.is_frozen:
        raise MoveError("Cet état des lieux est signé : il ne peut plus être modifié (un complément reste possible).")


def _started(inspection: Inspection, by) -> None:
    if inspection.status == InspectionStatus.SCHEDULED:
        _transition(inspection, InspectionStatus.IN_PROGRESS, by)
        inspection.save(update_fields=["status"])


@transaction.atomic
def room_save(*, room: Room, conditions: dict[int, str], comments: dict[int, str], comment: str, by) -> Room:
    """Save one room as the agent goes: each element's condition and comment, the room's remarks."""
    inspection = Inspection.objects.select_for_update().get(pk=room.inspection_id)
    _editable(inspection)
    elements = list(room.elements.all())
    for element in elements:
        condition = conditions.get(element.pk, "")
        if condition and condition not in Condition.values:
            raise MoveError(f"État inconnu pour « {element.label} ».")
        element.condition = condition
        element.comment = (comments.get(element.pk) or "").strip()[:500]
    Element.objects.bulk_update(elements, ["condition", "comment"])
    room.comment = comment.strip()
    room.saved_at = timezone.now()
    room.save(update_fields=["comment", "saved_at"])
    _started(inspection, by)
    return room


@transaction.atomic
def photo_add(*, room: Room, uploaded, by, element: Element | None = None) -> Photo:
    """A photo from the tablet: checked by content and size, re-encoded (EXIF stripped, downscaled)."""
    inspection = Inspection.objects.select_for_update().get(pk=room.inspection_id)
    _editable(inspection)
    try:
        check_upload(uploaded, kinds=("jpeg", "png"), max_bytes=PHOTO_MAX_BYTES)
        image = clean_image(uploaded)
        thumbnail = clean_image(image, max_side=480, quality=70)
    except ValidationError as exc:
        raise MoveError(" ".join(exc.messages)) from exc
    if element is not None and element.room_id != room.pk:
        raise MoveError("Cet élément n'appartient pas à cette pièce.")
    photo = Photo(room=room, element=element, uploaded_by=by)
    photo.image.save(generated_name("edl", "jpg"), image, save=False)
    photo.thumbnail.save(generated_name("edl", "jpg"), thumbnail, save=False)
    photo.save()
    _started(inspection, by)
    return photo


@transaction.atomic
def inspection_save_details(
    *, inspection: Inspection, meters: dict, keys: list[tuple[str, int, str]], new_address: str, by
) -> Inspection:
    """Meter readings, keys and access devices handed over or returned, the tenant's new address."""
    inspection = Inspection.objects.select_for_update().get(pk=inspection.pk)
    _editable(inspection)
    for field in ("water_index", "electricity_index", "gas_index"):
        value = meters.get(field)
        if value is not None and value < 0:
            raise MoveError("Un index de compteur ne peut pas être négatif.")
        setattr(inspection, field, value)
    rows = []
    for kind, count, purpose in keys:
        if kind not in KeyKind.values:
            raise MoveError("Type de clé inconnu.")
        if count < 0:
            raise MoveError("Le nombre de clés ne peut pas être négatif.")
        if count:
            rows.append(KeyHandover(inspection=inspection, kind=kind, count=count, purpose=purpose[:120]))
    inspection.new_address = new_address.strip()[:255]
    inspection.save(update_fields=["water_index", "electricity_index", "gas_index", "new_address"])
    inspection.keys.all().delete()
    KeyHandover.objects.bulk_create(rows)
    _started(inspection, by)
    return inspection


def missing_items(inspection: Inspection) -> list[str]:
    """What still prevents the signature (empty when the EDL is complete)."""
    missing = []
    unrated = Element.objects.filter(room__inspection=inspection, condition="").select_related("room")
    rooms = sorted({e.room.name for e in unrated}, key=lambda n: n)
    if rooms:
        missing.append("état non renseigné dans : " + ", ".join(rooms))
    if inspection.kind != InspectionKind.PRE_VISIT and not inspection.keys.exists():
        missing.append("clés et dispositifs d'accès")
    if inspection.kind != InspectionKind.PRE_VISIT and inspection.electricity_index is None:
        missing.append("relevé du compteur d'électricité")
    return missing


def _png(data: str, who: str) -> ContentFile:
    """A signature drawn on the canvas, posted as a data URL: a real PNG, not an empty one."""
    prefix = "data:image/png;base64,"
    if not data or not data.startswith(prefix):
        raise MoveError(f"La signature {who} est manquante.")
    try:
        raw = base64.b64decode(data[len(prefix) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MoveError(f"La signature {who} est illisible.") from exc
    content = ContentFile(raw)
    try:
        check_upload(content, kinds=("png",), max_bytes=SIGNATURE_MAX_BYTES)
    except ValidationError as exc:
        raise MoveError(f"La signature {who} est illisible.") from exc
    return content


@transaction.atomic
def inspection_sign(
    *,
    inspection: Inspection,
    tenant_signature: str,
    agent_signature: str,
    tenant_signatory: str,
    by,
    today: date,
    dwelling_to_works: bool = False,
) -> Inspection:
    """Sign and freeze an EDL; its PDF is built on commit.

    Entry: the lease must be signed; it becomes active (keys handed over). Exit: the keys are
    returned today; the lease ends (at the end of the notice when one runs), the dwelling goes back
    to vacant (or unavailable for works) and the settlement is prepared with its legal deadline.
    A visite conseil needs no signature. Raises MoveError on an incomplete EDL."""
    inspection = Inspection.objects.select_for_update().select_related("lease").get(pk=inspection.pk)
    _editable(inspection)
    missing = missing_items(inspection)
    if missing:
        raise MoveError("L'état des lieux est incomplet : " + " ; ".join(missing) + ".")
    lease = inspection.lease
    if inspection.kind == InspectionKind.ENTRY and lease.status != LeaseStatus.SIGNED:
        raise MoveError("Le bail doit être signé avant l'état des lieux d'entrée.")
    if inspection.kind != InspectionKind.PRE_VISIT:
        if not tenant_signatory.strip():
            raise MoveError("Indiquez le nom du signataire pour le locataire.")
        tenant_png = _png(tenant_signature, "du locataire")
        agent_png = _png(agent_signature, "de l'agent")
        inspection.tenant_signature.save(generated_name("edl-signatures", "png"), tenant_png, save=False)
        inspection.agent_signature.save(generated_name("edl-signatures", "png"), agent_png, save=False)
        inspection.tenant_signatory = tenant_signatory.strip()[:160]
    if inspection.status == InspectionStatus.SCHEDULED:
        _transition(inspection, InspectionStatus.IN_PROGRESS, by)
    _transition(inspection, InspectionStatus.SIGNED, by)
    inspection.signed_at = timezone.now()
    inspection.save()

    try:
        if inspection.kind == InspectionKind.ENTRY:
            lease_transition(lease=lease, to_status=LeaseStatus.ACTIVE, by=by, reason="Remise des clés (EDL d'entrée)")
        elif inspection.kind == InspectionKind.EXIT:
            notice = Notice.objects.filter(lease=lease).first()
            ends_on = max(notice.ends_on, today) if notice else today
            lease_transition(
                lease=lease,
                to_status=LeaseStatus.ENDED,
                on=ends_on,
                by=by,
                reason="Restitution des clés (EDL de sortie)",
            )
            if dwelling_to_works:
                dwelling = Dwelling.objects.select_for_update().get(pk=lease.dwelling_id)
                dwelling.status = DwellingStatus.WORKS
                dwelling.save(update_fields=["status"])  # no tenancies service for this move yet
            settlement_prepare(
                lease=Lease.objects.get(pk=lease.pk), exit_inspection=inspection, keys_returned_on=today, by=by
            )
    except LeaseError as exc:
        raise MoveError(str(exc)) from exc

    from .tasks import build_inspection_pdf

    transaction.on_commit(lambda: build_inspection_pdf.delay(inspection.pk))
    return inspection


def remarks_deadline(inspection: Inspection) -> date | None:
    """Last day for the tenant's remarks on the entry EDL (loi 89 art. 3-2: 10 days). A substantive
    period: counted from the signature, no move to the next working day (working_day=False)."""
    if inspection.kind != InspectionKind.ENTRY or not inspection.signed_at:
        return None
    signed_on = inspection.signed_on
    return deadline(signed_on, legal_period("edl_remarks", on=signed_on), working_day=False)


@transaction.atomic
def addendum_add(*, inspection: Inspection, received_on: date, text: str, by, today: date) -> Addendum:
    """The tenant's remarks on a signed entry EDL, within 10 days: an addendum, never an edit."""
    if inspection.kind != InspectionKind.ENTRY or inspection.status != InspectionStatus.SIGNED:
        raise MoveError("Les remarques du locataire se joignent à un état des lieux d'entrée signé.")
    if not text.strip():
        raise MoveError("Saisissez les remarques du locataire.")
    if received_on > today:
        raise MoveError("La date de réception ne peut pas être dans le futur.")
    if received_on < inspection.signed_on:
        raise MoveError("La date de réception ne peut pas précéder la signature de l'état des lieux.")
    last = remarks_deadline(inspection)
    if received_on > last:
        raise MoveError(f"Le délai de 10 jours pour compléter l'état des lieux a expiré le {last:%d/%m/%Y}.")
    addendum = Addendum.objects.create(
        inspection=inspection, received_on=received_on, text=text.strip(), recorded_by=by
    )
    from .tasks import build_inspection_pdf

    transaction.on_commit(lambda: build_inspection_pdf.delay(inspection.pk))
    return addendum


@transaction.atomic
def inspection_cancel(*, inspection: Inspection, by, reason: str = "") -> Inspection:
    inspection = Inspection.objects.select_for_update().get(pk=inspection.pk)
    _transition(inspection, InspectionStatus.CANCELLED, by, reason)
    inspection.save(update_fields=["status"])
    return inspection


# --- Notice ----------------------------------------------------------------------------------


@transaction.atomic
def notice_record(*, lease: Lease, received_on: date, reason: str, by, today: date) -> Notice:
    """Record the tenant's notice: its legal length (3 months, 1 month in a tense zone or for a
    listed reason, 1 month for a move within the landlord's stock) from its receipt, and the end
    date. A substantive period: no move to the next working day (working_day=False)."""
    lease = Lease.objects.select_for_update().select_related("dwelling__building__estate__commune").get(pk=lease.pk)
    if lease.status != LeaseStatus.ACTIVE:
        raise MoveError("Un congé se reçoit sur un bail en cours.")
    if reason not in NoticeReason.values:
        raise MoveError("Motif de congé inconnu.")
    if received_on < lease.starts_on:
        raise MoveError(
            f"La date de réception du congé ne peut pas précéder la date d'effet du bail ({lease.starts_on:%d/%m/%Y})."
        )
    if received_on > today:
        raise MoveError("La date de réception du congé ne peut pas être dans le futur.")
    code, applied = calc.notice_delay_code(reason, tense_zone=lease.dwelling.building.estate.commune.tense_zone)
    period = legal_period(code, on=received_on)
    notice = Notice.objects.create(
        lease=lease,
        received_on=received_on,
        reason=applied,
        delay_code=code,
        period_label=str(period),
        ends_on=deadline(received_on, period, working_day=False),
        created_by=by,
    )
    try:
        lease_transition(
            lease=lease,
            to_status=LeaseStatus.NOTICE_GIVEN,
            by=by,
            reason=f"Congé reçu le {received_on:%d/%m/%Y}, fin du préavis le {notice.ends_on:%d/%m/%Y}",
        )
    except LeaseError as exc:
        raise MoveError(str(exc)) from exc
    return notice


# --- Settlement ------------------------------------------------------------------------------


def refund_deadline(keys_returned_on: date, matches_entry: bool) -> date:
    """Deposit refund deadline (loi 89 art. 22): 1 month from the return of the keys when the exit
    EDL matches the entry, 2 months otherwise. A substantive period: no move to the next working
    day (working_day=False, DOMAIN.md §5.3)."""
    code = "deposit_refund_matching" if matches_entry else "deposit_refund_other"
    return deadline(keys_returned_on, legal_period(code, on=keys_returned_on), working_day=False)


def degraded_elements(exit_inspection: Inspection) -> list[Element]:
    return [
        e
        for e in Element.objects.filter(room__inspection=exit_inspection)
        .select_related("room")
        .order_by("room__position", "position")
        if e.degraded
    ]


def _rent_lines(lease: Lease) -> list[SettlementLine]:
    """Rent and charges owed up to the end of the lease (the end of the notice), prorated by
    billing.calc: months not billed yet are charged; a month billed in full before the end was
    known gets the unoccupied days back. Housing benefits are left to the billing run."""
    if lease.ends_on is None:
        return []
    end_month = lease.ends_on.replace(day=1)
    notices = {n.period: n for n in lease.notices.all()}
    last_billed = max(notices) if notices else None
    first = (last_billed + relativedelta(months=1)) if last_billed else lease.starts_on.replace(day=1)
    lines = []
    months = sorted({p for p in notices if p >= end_month} | _months(first, end_month))
    for period in months:
        terms, failures = load_terms([lease.pk], period)
        if failures or not terms:
            raise MoveError(failures.get(lease.pk, "Conditions du bail introuvables."))
        draft = bill_lease(terms[0], period)
        due = [line for line in (draft.lines if draft else []) if line.kind in BILLED_KINDS]
        if period in notices:
            billed = (
                RentNoticeLine.objects.filter(notice=notices[period], kind__in=BILLED_KINDS).aggregate(
                    total=Sum("amount")
                )["total"]
                or ZERO
            )
            diff = sum((line.amount for line in due), ZERO) - billed
            if diff:
                lines.append(
                    SettlementLine(
                        kind=LineKind.RENT,
                        entry_kind=EntryKind.ADJUSTMENT,
                        label=f"Loyer et charges de {month_label(period)} au prorata (fin le {lease.ends_on:%d/%m/%Y})",
                        amount=diff,
                    )
                )
        else:
            for line in due:
                lines.append(
                    SettlementLine(kind=LineKind.RENT, entry_kind=line.kind, label=line.label, amount=line.amount)
                )
    return lines


def _months(first: date, last: date) -> set[date]:
    out = set()
    while first <= last:
        out.add(first)
        first += relativedelta(months=1)
    return out


@transaction.atomic
def settlement_prepare(*, lease: Lease, exit_inspection: Inspection | None, keys_returned_on: date, by) -> Settlement:
    """The draft décompte after the keys came back: deadline, one repair line per degradation
    (to be priced), rent to the end of the notice."""
    if Settlement.objects.filter(lease=lease).exists():
        raise MoveError("Le décompte de sortie de ce bail existe déjà.")
    entry = exit_inspection.entry if exit_inspection else None
    degraded = degraded_elements(exit_inspection) if exit_inspection else []
    matches = entry is not None and not degraded
    settlement = Settlement.objects.create(
        lease=lease,
        exit_inspection=exit_inspection,
        keys_returned_on=keys_returned_on,
        matches_entry=matches,
        deadline=refund_deadline(keys_returned_on, matches),
        deposit=lease.deposit,
        monthly_rent=lease.rent,
        new_address_known=bool(exit_inspection and exit_inspection.new_address),
        prepared_by=by,
    )
    lines = [
        SettlementLine(
            settlement=settlement,
            kind=LineKind.REPAIR,
            entry_kind=EntryKind.REPAIRS,
            label=f"{e.room.name} — {e.label}",
            element=e,
            amount=ZERO,
        )
        for e in degraded
    ]
    for line in _rent_lines(lease):
        line.settlement = settlement
        lines.append(line)
    SettlementLine.objects.bulk_create(lines)
    return settlement


def _draft(settlement: Settlement) -> Settlement:
    settlement = Settlement.objects.select_for_update().get(pk=settlement.pk)
    if settlement.status != SettlementStatus.DRAFT:
        raise MoveError("Le décompte n'est plus modifiable (transmis ou arrêté).")
    return settlement


def vetuste_rule(element_type: str, on: date) -> VetusteRule | None:
    if not element_type:
        return None
    return VetusteRule.objects.filter(element_type=element_type, valid_from__lte=on).order_by("-valid_from").first()


def price_schedule(on: date):
    """The bordereau lines in force on `on` (latest row per code)."""
    rows = RepairPrice.objects.filter(valid_from__lte=on).order_by("code", "-valid_from").distinct("code")
    return RepairPrice.objects.filter(pk__in=[r.pk for r in rows]).order_by("label")


def _decimal(value, what: str) -> Decimal:
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError) as exc:
        raise MoveError(f"{what} invalide.") from exc


@transaction.atomic
def repair_line_price(
    *,
    line: SettlementLine,
    by,
    price: RepairPrice | None = None,
    quantity: Decimal = Decimal("1"),
    cost: Decimal | None = None,
    renewed_on: date | None = None,
    override_amount: Decimal | None = None,
    override_reason: str = "",
) -> SettlementLine:
    """Price one degradation: cost from the bordereau (unit price × quantity) or typed, the
    tenant's share after vétusté (grid of the element type, from its last renewal to the keys'
    return). A hand-set amount needs a reason and the responsable d'agence's approval."""
    settlement = _draft(line.settlement)
    line = SettlementLine.objects.select_for_update(of=("self",)).select_related("element").get(pk=line.pk)
    if line.kind != LineKind.REPAIR:
        raise MoveError("Seule une réparation se chiffre.")
    quantity = _decimal(quantity, "Quantité")
    if quantity <= 0:
        raise MoveError("La quantité doit être supérieure à zéro.")
    if price is not None:
        if price.valid_from > settlement.keys_returned_on:
            raise MoveError("Ce prix du bordereau n'était pas en vigueur à la remise des clés.")
        cost = to_cents(price.unit_price * quantity)
    if cost is None:
        raise MoveError("Choisissez un prix du bordereau ou saisissez un coût.")
    cost = _decimal(cost, "Coût")
    if cost < 0:
        raise MoveError("Le coût d'une réparation ne peut pas être négatif.")
    element = line.element
    if renewed_on is not None and element is not None:
        if renewed_on > settlement.keys_returned_on:
            raise MoveError("La date de rénovation ne peut pas suivre la remise des clés.")
        element.renewed_on = renewed_on
        element.save(update_fields=["renewed_on"])
    element_type = element.element_type if element else (price.element_type if price else "")
    share = calc.tenant_share(
        cost,
        renewed_on=element.renewed_on if element else None,
        on=settlement.keys_returned_on,
        rule=vetuste_rule(element_type, settlement.keys_returned_on),
    )
    line.price, line.quantity, line.cost = price, quantity, to_cents(cost)
    line.age_years, line.abatement_pct, line.amount = share.age_years, share.abatement_pct, share.amount
    line.overridden, line.override_reason = False, ""
    if override_amount is not None:
        override_amount = _decimal(override_amount, "Montant")
        if override_amount < 0:
            raise MoveError("Le montant à la charge du locataire ne peut pas être négatif.")
        if to_cents(override_amount) != share.amount:
            if not override_reason.strip():
                raise MoveError("Justifiez le montant modifié à la main.")
            line.amount, line.overridden, line.override_reason = (
                to_cents(override_amount),
                True,
                override_reason.strip(),
            )
    line.save()
    return line


@transaction.atomic
def settlement_add_item(*, settlement: Settlement, label: str, amount: Decimal, by) -> SettlementLine:
    """Any other item: a deduction (positive) or an amount owed to the tenant (negative).
    A deduction typed by hand needs the responsable d'agence's approval."""
    settlement = _draft(settlement)
    if not label.strip():
        raise MoveError("Saisissez le libellé de l'élément.")
    amount = to_cents(_decimal(amount, "Montant"))
    if amount == 0:
        raise MoveError("Le montant ne peut pas être nul.")
    return SettlementLine.objects.create(
        settlement=settlement,
        kind=LineKind.OTHER,
        entry_kind=EntryKind.ADJUSTMENT,
        label=label.strip()[:255],
        amount=amount,
        overridden=amount > 0,
    )


@transaction.atomic
def settlement_remove_item(*, line: SettlementLine, by) -> None:
    _draft(line.settlement)
    if line.kind != LineKind.OTHER:
        raise MoveError("Seul un élément ajouté à la main se retire.")
    line.delete()


def is_collective(lease: Lease) -> bool:
    return lease.dwelling.building.dwellings.count() > 1


@transaction.atomic
def settlement_set_provision(*, settlement: Settlement, amount: Decimal, by) -> Settlement:
    """The provision kept until the building's charge accounts are closed: collective buildings
    only, at most 20 % of the deposit (loi 89 art. 22)."""
    settlement = _draft(settlement)
    amount = to_cents(_decimal(amount, "Montant"))
    if amount < 0:
        raise MoveError("La provision ne peut pas être négative.")
    if amount and not is_collective(settlement.lease):
        raise MoveError("Une provision ne se retient que dans un immeuble collectif.")
    limit = to_cents(settlement.deposit * calc.MAX_PROVISION_RATE)
    if amount > limit:
        raise MoveError(f"La provision ne peut pas dépasser 20 % du dépôt de garantie, soit {format_euros(limit)}.")
    settlement.provision = amount
    settlement.save(update_fields=["provision"])
    return settlement


def settlement_entries(settlement: Settlement, on: date) -> list[NewEntry]:
    """The ledger entries the settlement posts: the deposit imputed (less the provision), each
    repair, the rent to the end of the notice, each other item."""
    entries = []
    returned = settlement.deposit - settlement.provision
    if returned:
        entries.append(
            NewEntry(
                posted_on=on,
                kind=EntryKind.DEPOSIT_RETURN,
                label="Dépôt de garantie imputé au décompte de sortie"
                + (f" (provision retenue {format_euros(settlement.provision)})" if settlement.provision else ""),
                amount=-returned,
            )
        )
    for line in settlement.lines.order_by("kind", "id"):
        if line.amount:
            label = line.label
            if line.kind == LineKind.REPAIR:
                label = f"Réparation : {line.label}" + (
                    f" (vétusté {line.abatement_pct:.0f} %)" if line.abatement_pct else ""
                )
            entries.append(
                NewEntry(posted_on=on, kind=line.entry_kind or EntryKind.ADJUSTMENT, label=label, amount=line.amount)
            )
    return entries


def projected_balance(settlement: Settlement) -> Decimal:
    account = account_for(settlement.lease)
    return account.balance + sum((e.amount for e in settlement_entries(settlement, settlement.keys_returned_on)), ZERO)


def approval_reasons(settlement: Settlement) -> list[str]:
    """Why the settlement needs the responsable d'agence (empty: the preparer may post it)."""
    reasons = []
    refund = -projected_balance(settlement)
    if refund > approval_threshold():
        reasons.append(f"remboursement de {format_euros(refund)} au-delà de {format_euros(approval_threshold())}")
    if settlement.lines.filter(overridden=True).exists():
        reasons.append("retenue saisie ou modifiée à la main")
    return reasons


def _refresh_rent_lines(settlement: Settlement) -> None:
    """Recompute the rent lines just before posting: a billing run may have billed a month since."""
    settlement.lines.filter(kind=LineKind.RENT).delete()
    lines = _rent_lines(Lease.objects.get(pk=settlement.lease_id))
    for line in lines:
        line.settlement = settlement
    SettlementLine.objects.bulk_create(lines)


def _settle_status(settlement: Settlement, to_status: str) -> None:
    if to_status not in SETTLEMENT_TRANSITIONS[settlement.status]:
        raise MoveError(
            f"Un décompte « {settlement.get_status_display()} » ne peut pas passer à "
            f"« {SettlementStatus(to_status).label} »."
        )
    settlement.status = to_status


def _post(settlement: Settlement, by, today: date) -> Settlement:
    _settle_status(settlement, SettlementStatus.POSTED)
    account = account_for(settlement.lease)
    post_entries(account=account, entries=settlement_entries(settlement, today), by=by)
    settlement.balance_after = account.balance
    settlement.posted_on = today
    settlement.save()
    return settlement


@transaction.atomic
def settlement_submit(*, settlement: Settlement, by, today: date) -> Settlement:
    """Close the décompte: posted at once, or sent to the responsable d'agence when a large refund
    or a hand-set deduction needs a second person."""
    settlement = _draft(settlement)
    unpriced = settlement.lines.filter(kind=LineKind.REPAIR, cost=0, overridden=False, amount=0)
    if unpriced.exists():
        raise MoveError(
            "Chiffrez chaque dégradation avant d'arrêter le décompte (ou mettez 0 € avec une justification)."
        )
    _refresh_rent_lines(settlement)
    settlement.submitted_by = by
    if approval_reasons(settlement):
        _settle_status(settlement, SettlementStatus.PENDING_APPROVAL)
        settlement.approval_note = ""
        settlement.save()
        return settlement
    return _post(settlement, by, today)


@transaction.atomic
def settlement_decide(*, settlement: Settlement, approve: bool, note: str, by, today: date) -> Settlement:
    """Four-eyes: the responsable d'agence, who neither prepared nor submitted the décompte,
    approves it (it is posted) or refuses it with a reason (back to preparation)."""
    settlement = Settlement.objects.select_for_update().get(pk=settlement.pk)
    if settlement.status != SettlementStatus.PENDING_APPROVAL:
        raise MoveError("Ce décompte n'attend pas de validation.")
    if Role.RESPONSABLE_AGENCE not in by.roles:
        raise MoveError("Seul un responsable d'agence valide un décompte.")
    if by.pk in (settlement.prepared_by_id, settlement.submitted_by_id):
        raise MoveError("La validation doit venir d'une autre personne que celle qui a préparé le décompte.")
    if not approve:
        if not note.strip():
            raise MoveError("Indiquez le motif du refus.")
        _settle_status(settlement, SettlementStatus.DRAFT)
        settlement.approval_note = note.strip()[:255]
        settlement.save()
        return settlement
    settlement.approved_by = by
    settlement.approval_note = note.strip()[:255]
    return _post(settlement, by, today)


@transaction.atomic
def settlement_record_refund(*, settlement: Settlement, paid_on: date, by, today: date) -> Settlement:
    """Pay back what the account owes the tenant, with the late penalty when due (10 % of the
    monthly rent per month started after the deadline; none without a new address). The refund
    entry brings the credit balance to zero. With nothing to refund the settlement is closed."""
    settlement = Settlement.objects.select_for_update().get(pk=settlement.pk)
    if settlement.status != SettlementStatus.POSTED:
        raise MoveError("Le décompte doit être arrêté avant la restitution.")
    if paid_on > today:
        raise MoveError("La date de paiement ne peut pas être dans le futur.")
    if paid_on < settlement.posted_on:
        raise MoveError("La restitution ne peut pas précéder l'arrêté du décompte.")
    account = account_for(settlement.lease)
    refund = -account.balance if account.balance < 0 else ZERO
    penalty = calc.late_penalty(
        monthly_rent=settlement.monthly_rent,
        deadline=settlement.deadline,
        paid_on=paid_on,
        new_address_known=settlement.new_address_known,
        refund=refund,
    )
    entries = []
    if penalty:
        periods = calc.late_periods(settlement.deadline, paid_on)
        entries.append(
            NewEntry(
                posted_on=paid_on,
                kind=EntryKind.PENALTY,
                label=f"Majoration pour restitution tardive ({periods} mois commencé{'s' if periods > 1 else ''})",
                amount=-penalty,
            )
        )
    if refund + penalty > 0:
        entries.append(
            NewEntry(
                posted_on=paid_on,
                kind=EntryKind.REFUND,
                label="Restitution du dépôt de garantie",
                amount=refund + penalty,
            )
        )
    if entries:
        post_entries(account=account, entries=entries, by=by)
    _settle_status(settlement, SettlementStatus.REFUNDED)
    settlement.refund_paid_on = paid_on
    settlement.penalty = penalty
    settlement.refund_amount = refund + penalty
    settlement.save()
    return settlement


@transaction.atomic
def settlement_release_provision(*, settlement: Settlement, accounts_approved_on: date, by, today: date) -> Settlement:
    """The provision kept for the charge accounts comes back to the account once the building's
    accounts are approved (the regularisation itself is billed by the yearly operations)."""
    settlement = Settlement.objects.select_for_update().get(pk=settlement.pk)
    if settlement.status not in (SettlementStatus.POSTED, SettlementStatus.REFUNDED) or not settlement.provision:
        raise MoveError("Aucune provision à solder sur ce décompte.")
    if settlement.provision_released_on:
        raise MoveError("La provision a déjà été soldée.")
    if accounts_approved_on > today:
        raise MoveError("La date d'approbation des comptes ne peut pas être dans le futur.")
    post_entries(
        account=account_for(settlement.lease),
        entries=[
            NewEntry(
                posted_on=today,
                kind=EntryKind.DEPOSIT_RETURN,
                label=f"Provision sur dépôt de garantie soldée (comptes approuvés le {accounts_approved_on:%d/%m/%Y})",
                amount=-settlement.provision,
            )
        ],
        by=by,
    )
    settlement.provision_released_on = today
    settlement.save(update_fields=["provision_released_on"])
    return settlement


# --- Daily job -------------------------------------------------------------------------------


def settlements_coming_due(*, as_of: date, within_days: int = 10):
    """Settlements not yet refunded whose deadline is past or within `within_days` days."""
    limit = as_of + relativedelta(days=within_days)
    return (
        Settlement.objects.outstanding()
        .filter(deadline__lte=limit)
        .select_related("lease__dwelling__building__estate__agency")
        .order_by("deadline", "id")
    )


def remarks_windows_closing(*, as_of: date):
    """Signed entry EDLs whose 10-day remarks window is still open on `as_of`."""
    since = as_of - relativedelta(days=10)
    return [
        i
        for i in Inspection.objects.filter(
            kind=InspectionKind.ENTRY, status=InspectionStatus.SIGNED, signed_at__date__gte=since
        ).select_related("lease")
        if remarks_deadline(i) >= as_of
    ]


def daily_report(*, as_of: date) -> dict:
    due = list(settlements_coming_due(as_of=as_of))
    return {
        "overdue": [s for s in due if s.deadline < as_of],
        "due_soon": [s for s in due if s.deadline >= as_of],
        "remarks_open": remarks_windows_closing(as_of=as_of),
    }


def days_left(settlement: Settlement, as_of: date) -> int:
    return (settlement.deadline - as_of).days


def max_aware(day: date, hour: int = 9) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=hour))
