"""Yearly operations: the 1 January rent revision, the charge regularisation, the SLS.

Each operation is first computed into a preview (rows with status "preview", recomputed at will),
shown to the chargé du quittancement, then applied once, in one transaction. Applying twice is
refused. Rules, formulas and rounding are described in docs/yearly-operations.md.

- Rent revision (DOMAIN.md §3.2.3, CCH L353-9-3 / L442-1): new rent = old rent × (1 + voted rate),
  rounded to the cent half away from zero (E3.3: 480,00 € at +1,04 % → 484,99 €; at +3,26 % →
  495,65 €, which truncation would make 495,64 €), never above the convention's maximum.
- Charge regularisation (§3.2.4, loi 89 art. 23): actual cost shared by weight × days of occupation
  over Σ(weight × days of the year) of every dwelling of the building, minus the provisions billed.
- SLS (§3.2.7, CCH L441-3 and following): surveys, threshold, CDPR × SLR × area, 30 % cap.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from dateutil.relativedelta import relativedelta
from django.apps import apps as global_apps
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from tenancies.formatting import format_euros, to_cents
from tenancies.models import (
    CURRENT_LEASE_STATUSES,
    ChargeType,
    Dwelling,
    Financing,
    Lease,
    LeaseStatus,
    ResourceCeiling,
)

from .batch import due_date
from .ledger import NewEntry, ensure_accounts, post_entries
from .models import (
    ZERO,
    Account,
    AllocationKey,
    ChargeCost,
    ChargeRegularisation,
    EntryKind,
    IrlIndex,
    LedgerEntry,
    RegularisationLine,
    RentNotice,
    RentNoticeLine,
    RentRevision,
    RentRevisionLine,
    SlsCharge,
    SlsReferenceRent,
    SlsScale,
    SlsSurvey,
    SlsSurveyStatus,
    YearlyStatus,
)

BILLING_DATA = Path(__file__).resolve().parent / "data"
PERCENT = Decimal("0.01")
HUNDRED = Decimal("100")
EXCLUDED_LEASE_STATUSES = (LeaseStatus.DRAFT, LeaseStatus.CANCELLED)


class YearlyError(Exception):
    """A refused yearly operation. The message is French; `field` names the form field it is about."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


def percent_label(rate: Decimal) -> str:
    """0.0104 -> "+1,04 %" (up to 4 decimals of percent, trailing zeros dropped below 2)."""
    pct = (rate * HUNDRED).quantize(Decimal("0.0001")).normalize()
    if pct == pct.to_integral() or -pct.as_tuple().exponent < 2:
        pct = pct.quantize(PERCENT)
    sign = "+" if rate > 0 else ""
    return f"{sign}{pct}".replace(".", ",") + "\xa0%"


def number_fr(value: Decimal) -> str:
    """Decimal("21.58") -> "21,58"; Decimal("2.610000") -> "2,61" (trailing zeros dropped)."""
    text = f"{value.normalize():f}" if value == value.to_integral() else f"{value.normalize()}"
    return text.replace(".", ",")


def _lock(name: str) -> None:
    """A transaction-scoped advisory lock: one apply of a given operation at a time."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])


# === 1. Rent revision on 1 January ==============================================================


@dataclass(frozen=True)
class RevisionCap:
    irl_reference: IrlIndex  # 2nd quarter of N-2
    irl_new: IrlIndex  # 2nd quarter of N-1
    rate: Decimal  # the published annual variation, e.g. Decimal("0.0104")


def revision_cap(effective_on: date) -> RevisionCap:
    """The cap of the revision at `effective_on` (a 1 January): the IRL variation T2 N-1 / T2 N-2.

    The variation is taken as INSEE publishes it, in percent rounded to two decimals (146,68 /
    145,17 → +1,04 %), the figure boards vote on. Raises YearlyError when an index is missing.
    """
    if (effective_on.month, effective_on.day) != (1, 1):
        raise YearlyError(
            "La révision des loyers prend effet au 1er janvier : saisissez une date au 01/01.", field="effective_on"
        )
    year = effective_on.year
    indexes = {(i.year, i.quarter): i for i in IrlIndex.objects.filter(year__in=[year - 2, year - 1], quarter=2)}
    missing = [f"T2 {y}" for y in (year - 2, year - 1) if (y, 2) not in indexes]
    if missing:
        raise YearlyError(
            f"Indice de référence des loyers manquant ({' et '.join(missing)}) : la révision au "
            f"{effective_on:%d/%m/%Y} est plafonnée par la variation de l'IRL du 2e trimestre {year - 1} sur un an. "
            "Saisissez la valeur publiée par l'INSEE avant de calculer l'aperçu.",
            field="effective_on",
        )
    reference, new = indexes[(year - 2, 2)], indexes[(year - 1, 2)]
    pct = ((new.value / reference.value - 1) * HUNDRED).quantize(PERCENT, rounding=ROUND_HALF_UP)
    return RevisionCap(irl_reference=reference, irl_new=new, rate=pct / HUNDRED)


def revised_rent(old_rent: Decimal, rate: Decimal, max_rent: Decimal) -> tuple[Decimal, bool]:
    """(new rent, capped by the convention): old × (1 + rate) to the cent, half away from zero."""
    new_rent = to_cents(old_rent * (1 + rate))
    if new_rent > max_rent:
        return max_rent, True
    return new_rent, False


def _check_rate(rate: Decimal, cap: RevisionCap, effective_on: date) -> None:
    if rate < 0:
        raise YearlyError("Le taux voté ne peut pas être négatif.", field="rate")
    if rate.as_tuple().exponent < -6:
        raise YearlyError("Le taux voté a au plus quatre décimales en pourcentage (ex. 1,0400).", field="rate")
    if rate > cap.rate:
        raise YearlyError(
            f"Le taux voté ({percent_label(rate)}) dépasse la variation annuelle de l'IRL du 2e trimestre "
            f"{effective_on.year - 1} ({percent_label(cap.rate)}, {number_fr(cap.irl_new.value)} / "
            f"{number_fr(cap.irl_reference.value)}) : "
            "la hausse au 1er janvier est plafonnée à cette variation (CCH L353-9-3).",
            field="rate",
        )


@transaction.atomic
def revision_preview(*, effective_on: date, rate: Decimal | None = None, by=None) -> RentRevision:
    """Compute (or recompute) the preview of the revision at `effective_on` for every lease active
    that day. `rate` defaults to the cap. Raises YearlyError if the IRL is missing, the rate is
    above the cap, or the revision of that date was already applied."""
    cap = revision_cap(effective_on)
    rate = cap.rate if rate is None else rate
    _check_rate(rate, cap, effective_on)
    try:
        with transaction.atomic():
            revision, created = RentRevision.objects.get_or_create(
                effective_on=effective_on,
                defaults={"irl_reference": cap.irl_reference, "irl_new": cap.irl_new, "rate": rate, "created_by": by},
            )
    except IntegrityError:  # another preview of the same date was created in between
        created = False
    revision = RentRevision.objects.select_for_update().get(effective_on=effective_on)
    if revision.status == YearlyStatus.APPLIED:
        raise YearlyError(
            f"La révision au {effective_on:%d/%m/%Y} a déjà été appliquée le "
            f"{timezone.localtime(revision.applied_at):%d/%m/%Y} : elle ne peut plus être recalculée.",
            field="effective_on",
        )
    if not created:
        revision.irl_reference, revision.irl_new, revision.rate, revision.created_by = (
            cap.irl_reference,
            cap.irl_new,
            rate,
            by,
        )
        revision.save(update_fields=["irl_reference", "irl_new", "rate", "created_by"])
        revision.lines.all().delete()
    RentRevisionLine.objects.bulk_create(_revision_lines(revision), batch_size=2000)
    return revision


def _revision_rows(effective_on: date):
    return (
        Lease.objects.active_on(effective_on)
        .order_by("id")
        .values_list("id", "rent", "dwelling__max_rent_per_m2", "dwelling__living_area")
    )


def _revision_lines(revision: RentRevision):
    for lease_id, rent, max_per_m2, area in _revision_rows(revision.effective_on).iterator(chunk_size=2000):
        new_rent, capped = revised_rent(rent, revision.rate, (max_per_m2 * area).quantize(PERCENT))
        yield RentRevisionLine(
            revision=revision, lease_id=lease_id, old_rent=rent, new_rent=new_rent, capped_by_convention=capped
        )


def revision_totals(revision: RentRevision) -> dict:
    return revision.lines.aggregate(
        count=Count("id"),
        capped=Count("id", filter=Q(capped_by_convention=True)),
        old_total=Sum("old_rent", default=ZERO),
        new_total=Sum("new_rent", default=ZERO),
    )


def revision_late_notices(revision: RentRevision) -> int:
    """Notices already issued for months from the effective date on (billed at the old rent)."""
    return RentNotice.objects.filter(
        period__gte=revision.effective_on, lease_id__in=revision.lines.values("lease_id")
    ).count()


@transaction.atomic
def revision_apply(*, revision: RentRevision, by=None) -> int:
    """Set each lease's rent (and its dwelling's current rent) to the previewed new rent, in one
    transaction; returns the number of leases revised. History rows record the change.

    Refused (YearlyError) when already applied, or when leases or rents changed since the preview
    (recompute the preview first): what is applied is exactly what was shown."""
    revision = RentRevision.objects.select_for_update().get(pk=revision.pk)
    if revision.status == YearlyStatus.APPLIED:
        raise YearlyError(
            f"Cette révision a déjà été appliquée le {timezone.localtime(revision.applied_at):%d/%m/%Y à %H:%M}."
        )
    lines = {
        lease_id: (old, new) for lease_id, old, new in revision.lines.values_list("lease_id", "old_rent", "new_rent")
    }
    if not lines:
        raise YearlyError("Aucun bail à réviser dans cet aperçu.")
    leases = list(
        Lease.objects.select_for_update(of=("self",)).filter(id__in=lines).select_related("dwelling").order_by("id")
    )
    current = {lease_id: rent for lease_id, rent, *_ in _revision_rows(revision.effective_on)}
    changed = set(current) ^ set(lines)
    changed |= {lease.pk for lease in leases if lease.rent != lines[lease.pk][0]}
    if changed:
        raise YearlyError(
            f"{len(changed)} bail(s) ou loyer(s) ont changé depuis le calcul de l'aperçu : recalculez l'aperçu, "
            "vérifiez-le, puis appliquez."
        )
    reason = f"Révision des loyers au {revision.effective_on:%d/%m/%Y} ({percent_label(revision.rate)})"
    dwellings = []
    for lease in leases:
        lease.rent = lines[lease.pk][1]
        # The dwelling's rent is the one of its current lease (copied into the next lease).
        if lease.status in CURRENT_LEASE_STATUSES:
            lease.dwelling.rent = lease.rent
            dwellings.append(lease.dwelling)
    bulk_update_with_history(
        leases, Lease, ["rent"], batch_size=1000, default_user=by, default_change_reason=reason[:100]
    )
    if dwellings:
        bulk_update_with_history(
            dwellings, Dwelling, ["rent"], batch_size=1000, default_user=by, default_change_reason=reason[:100]
        )
    revision.status = YearlyStatus.APPLIED
    revision.applied_at = timezone.now()
    revision.applied_by = by
    revision.save(update_fields=["status", "applied_at", "applied_by"])
    return len(leases)


# === 2. Charge regularisation per building and year ==============================================


def year_bounds(year: int) -> tuple[date, date, int]:
    first, last = date(year, 1, 1), date(year, 12, 31)
    return first, last, (last - first).days + 1


def occupied_days(starts_on: date, ends_on: date | None, year: int) -> int:
    """Days of `year` covered by a lease, both ends included (as the monthly prorata counts them)."""
    first, last, _ = year_bounds(year)
    start, end = max(first, starts_on), min(last, ends_on) if ends_on else last
    return max((end - start).days + 1, 0)


def allocation_weight(key: str, *, living_area: Decimal, tantiemes: int | None) -> Decimal:
    if key == AllocationKey.LIVING_AREA:
        return Decimal(living_area)
    if key == AllocationKey.TANTIEMES:
        return Decimal(tantiemes or 0)
    return Decimal(1)


def charge_share(cost: Decimal, weight: Decimal, days: int, total_weight_days: Decimal) -> Decimal:
    """cost × weight × days ÷ Σ(weight × days of the year), to the cent half away from zero."""
    if not total_weight_days:
        return ZERO
    return to_cents(cost * weight * days / total_weight_days)


@transaction.atomic
def regularisation_create(*, building, year: int, today: date, by=None) -> ChargeRegularisation:
    """Open the regularisation of `building` for `year` (a closed year), empty of costs."""
    if year >= today.year:
        raise YearlyError(
            f"L'exercice {year} n'est pas clos : la régularisation porte sur une année terminée.", field="year"
        )
    if ChargeRegularisation.objects.filter(building=building, year=year).exists():
        raise YearlyError(f"La régularisation {year} de ce bâtiment existe déjà.", field="year")
    try:
        with transaction.atomic():
            return ChargeRegularisation.objects.create(building=building, year=year, created_by=by)
    except IntegrityError:
        raise YearlyError(f"La régularisation {year} de ce bâtiment existe déjà.", field="year") from None


def _editable(regularisation: ChargeRegularisation) -> ChargeRegularisation:
    locked = ChargeRegularisation.objects.select_for_update().get(pk=regularisation.pk)
    if locked.status == YearlyStatus.APPLIED:
        raise YearlyError("Cette régularisation a déjà été appliquée : elle ne peut plus être modifiée.")
    return locked


@transaction.atomic
def regularisation_set_cost(
    *, regularisation: ChargeRegularisation, charge_type: ChargeType, actual_amount: Decimal, allocation_key: str
) -> ChargeCost:
    """Record (or replace) the actual cost of one charge type; the preview is then recomputed."""
    regularisation = _editable(regularisation)
    if actual_amount < 0:
        raise YearlyError("La dépense réelle ne peut pas être négative.", field="actual_amount")
    if allocation_key not in AllocationKey.values:
        raise YearlyError("Clé de répartition inconnue.", field="allocation_key")
    cost, _ = ChargeCost.objects.update_or_create(
        regularisation=regularisation,
        charge_type=charge_type,
        defaults={"actual_amount": actual_amount, "allocation_key": allocation_key},
    )
    regularisation.lines.all().delete()  # the preview no longer matches the costs
    return cost


@transaction.atomic
def regularisation_remove_cost(*, regularisation: ChargeRegularisation, charge_type_id: int) -> None:
    regularisation = _editable(regularisation)
    regularisation.costs.filter(charge_type_id=charge_type_id).delete()
    regularisation.lines.all().delete()  # the preview no longer matches the costs


@dataclass
class _ComputedLine:
    lease_id: int
    charge_type_id: int
    days_occupied: int
    actual_share: Decimal
    provisions_billed: Decimal

    @property
    def balance(self) -> Decimal:
        return self.actual_share - self.provisions_billed

    def key(self):
        return (self.lease_id, self.charge_type_id, self.days_occupied, self.actual_share, self.provisions_billed)


def _names(items: list[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" et {len(items) - limit} autre(s)" if len(items) > limit else "")


def _compute_regularisation(regularisation: ChargeRegularisation) -> list[_ComputedLine]:
    """The lines of the regularisation, from its costs, the building's dwellings and leases, and the
    provisions on the year's notices. Raises YearlyError on missing data (French, listing it)."""
    year = regularisation.year
    first, last, days_in_year = year_bounds(year)
    costs = list(regularisation.costs.select_related("charge_type").order_by("charge_type__position", "charge_type_id"))
    if not costs:
        raise YearlyError("Saisissez au moins une dépense réelle avant de calculer l'aperçu.")
    dwellings = {
        pk: (reference, area, tantiemes)
        for pk, reference, area, tantiemes in Dwelling.objects.filter(building_id=regularisation.building_id)
        .order_by("reference")
        .values_list("id", "reference", "living_area", "tantiemes")
    }
    if any(c.allocation_key == AllocationKey.TANTIEMES for c in costs):
        missing = [ref for ref, _, tantiemes in dwellings.values() if not tantiemes]
        if missing:
            raise YearlyError(
                f"Clé « tantièmes » : tantièmes non renseignés pour {len(missing)} logement(s) du bâtiment "
                f"({_names(missing)}). Renseignez-les ou choisissez une autre clé."
            )
    leases = list(
        Lease.objects.filter(dwelling_id__in=dwellings, starts_on__lte=last)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=first))
        .exclude(status__in=EXCLUDED_LEASE_STATUSES)
        .order_by("dwelling__reference", "starts_on", "id")
        .values_list("id", "dwelling_id", "starts_on", "ends_on")
    )
    provisions: dict[tuple[int, int | None], Decimal] = {
        (lease_id, type_id): total
        for lease_id, type_id, total in RentNoticeLine.objects.filter(
            kind=EntryKind.CHARGE,
            notice__lease_id__in=[lease[0] for lease in leases],
            notice__period__gte=first,
            notice__period__lte=last,
        )
        .values("notice__lease_id", "charge_type_id")
        .annotate(total=Sum("amount"))
        .values_list("notice__lease_id", "charge_type_id", "total")
    }
    costed = {c.charge_type_id for c in costs}
    uncosted = sorted({type_id for (_, type_id), total in provisions.items() if type_id not in costed and total})
    if uncosted:
        labels = dict(ChargeType.objects.filter(id__in=[t for t in uncosted if t]).values_list("id", "label"))
        names = [labels.get(t, "sans type") for t in uncosted]
        raise YearlyError(
            f"Des provisions ont été appelées en {year} pour {_names(names)} sans dépense réelle saisie : "
            "saisissez la dépense (0 s'il n'y en a pas eu) pour que ces provisions soient régularisées."
        )
    lines = []
    for cost in costs:
        # Every dwelling of the building counts for the whole year: the share of vacant periods is
        # the landlord's, never spread over the tenants present.
        weights = {
            pk: allocation_weight(cost.allocation_key, living_area=area, tantiemes=tantiemes)
            for pk, (_, area, tantiemes) in dwellings.items()
        }
        total_weight_days = sum(weights.values(), Decimal(0)) * days_in_year
        for lease_id, dwelling_id, starts_on, ends_on in leases:
            days = occupied_days(starts_on, ends_on, year)
            lines.append(
                _ComputedLine(
                    lease_id=lease_id,
                    charge_type_id=cost.charge_type_id,
                    days_occupied=days,
                    actual_share=charge_share(cost.actual_amount, weights[dwelling_id], days, total_weight_days),
                    provisions_billed=provisions.get((lease_id, cost.charge_type_id), ZERO),
                )
            )
    return lines


@transaction.atomic
def regularisation_compute(*, regularisation: ChargeRegularisation) -> int:
    """Recompute the preview lines (RegularisationLine) from the costs; returns their count.
    Raises YearlyError on missing data (nothing changes then)."""
    regularisation = _editable(regularisation)
    lines = _compute_regularisation(regularisation)
    regularisation.lines.all().delete()
    RegularisationLine.objects.bulk_create(
        RegularisationLine(regularisation=regularisation, balance=line.balance, **vars(line)) for line in lines
    )
    return len(lines)


def regularisation_totals(regularisation: ChargeRegularisation) -> dict:
    per_lease = list(
        regularisation.lines.values("lease_id").annotate(balance=Sum("balance")).values_list("balance", flat=True)
    )
    sums = regularisation.lines.aggregate(
        share=Sum("actual_share", default=ZERO), provisions=Sum("provisions_billed", default=ZERO)
    )
    costs = regularisation.costs.aggregate(total=Sum("actual_amount", default=ZERO))["total"]
    return {
        "lease_count": len(per_lease),
        "cost_total": costs,
        "share_total": sums["share"],
        "landlord_share": costs - sums["share"],
        "provisions_total": sums["provisions"],
        "debit_total": sum((b for b in per_lease if b > 0), ZERO),
        "credit_total": -sum((b for b in per_lease if b < 0), ZERO),
        "debit_count": sum(1 for b in per_lease if b > 0),
        "credit_count": sum(1 for b in per_lease if b < 0),
    }


def regularisation_label(regularisation: ChargeRegularisation) -> str:
    return f"Régularisation des charges {regularisation.year} — {regularisation.building}"


def regularisation_is_late(regularisation: ChargeRegularisation, today: date) -> bool:
    """E3.7: made after the end of the year following the charges' year → 12 instalments on request."""
    return today > date(regularisation.year + 1, 12, 31)


def instalment_plan(balance: Decimal, months: int, applied_on: date) -> list[tuple[date, Decimal]]:
    """How a debit spread over `months` is called: one instalment with each of the next monthly
    notices (due on their due date), equal to the cent, the last one taking the remainder."""
    if months <= 1 or balance <= 0:
        return []
    amount = (balance / months).quantize(PERCENT, rounding=ROUND_HALF_UP)
    first_period = applied_on.replace(day=1) + relativedelta(months=1)
    plan = [(due_date(first_period + relativedelta(months=k)), amount) for k in range(months - 1)]
    plan.append((due_date(first_period + relativedelta(months=months - 1)), balance - amount * (months - 1)))
    return plan


@transaction.atomic
def regularisation_apply(
    *, regularisation: ChargeRegularisation, today: date, spread_months: int = 1, by=None
) -> list[LedgerEntry]:
    """Post one ledger entry per lease (kind regularisation: debit when the tenant owes, credit
    otherwise) for the previewed balance, and mark the regularisation applied, in one transaction.

    A debit spread over `spread_months` (2 to 12) is still posted in full now: the plan (one
    instalment with each of the next notices) is recorded on the regularisation and printed on
    the statement. Refused when already applied, or when the figures changed since the preview."""
    regularisation = ChargeRegularisation.objects.select_for_update().get(pk=regularisation.pk)
    if regularisation.status == YearlyStatus.APPLIED:
        raise YearlyError(
            f"Cette régularisation a déjà été appliquée le {timezone.localtime(regularisation.applied_at):%d/%m/%Y}."
        )
    if not 1 <= spread_months <= 12:
        raise YearlyError("L'étalement est compris entre 1 (pas d'étalement) et 12 mois.", field="spread_months")
    stored = list(regularisation.lines.order_by("lease_id", "charge_type_id"))
    fresh = sorted(_compute_regularisation(regularisation), key=lambda line: (line.lease_id, line.charge_type_id))
    stored_keys = [(s.lease_id, s.charge_type_id, s.days_occupied, s.actual_share, s.provisions_billed) for s in stored]
    if not stored or stored_keys != [line.key() for line in fresh]:
        raise YearlyError(
            "Les dépenses, les occupations ou les provisions ont changé depuis le calcul de l'aperçu : "
            "recalculez l'aperçu, vérifiez-le, puis appliquez."
        )
    balances: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line in stored:
        balances[line.lease_id] += line.balance
    ensure_accounts(balances)
    accounts = Account.objects.in_bulk(list(balances), field_name="lease_id")
    label = regularisation_label(regularisation)
    created = []
    for lease_id in sorted(balances):
        amount = balances[lease_id]
        if amount == 0:
            continue
        suffix = f" (étalement accordé sur {spread_months} mois)" if amount > 0 and spread_months > 1 else ""
        entry = NewEntry(posted_on=today, kind=EntryKind.REGULARISATION, label=label + suffix, amount=amount)
        created += post_entries(account=accounts[lease_id], entries=[entry], by=by)
    regularisation.status = YearlyStatus.APPLIED
    regularisation.applied_at = timezone.now()
    regularisation.spread_months = spread_months
    regularisation.save(update_fields=["status", "applied_at", "spread_months"])
    return created


# === 3. SLS — supplément de loyer de solidarité ==================================================

SLS_THRESHOLD_PCT = Decimal("20")  # CCH L441-3: due from 20 % above the ceiling
SLS_EFFORT_CAP = Decimal("0.30")  # CCH L441-4: rent + SLS ≤ 30 % of the household's resources
SLS_NO_ANSWER_FEE = Decimal("25.00")  # CCH L441-9: frais de dossier when the survey is not answered
PLS_FACTOR = Decimal("1.3")  # arrêté du 29 juillet 1987 art. 1: PLS ceilings = PLUS × 1,30
SLS_SURVEY_STATUSES = (LeaseStatus.ACTIVE, LeaseStatus.NOTICE_GIVEN)
HOUSEHOLD_CATEGORIES = [str(n) for n in range(1, 11)]  # 7 and more: category 6 + one per extra person


def sls_charge_period(year: int) -> tuple[date, date]:
    """The SLS from the survey of `year` is charged over the next calendar year."""
    return date(year + 1, 1, 1), date(year + 1, 12, 31)


def sls_reason_prefix(year: int) -> str:
    return f"Enquête SLS {year}"


def sls_fee_label(year: int) -> str:
    return f"Frais de dossier — enquête SLS {year} sans réponse (CCH L441-9)"


def household_ceiling(*, financing: str, zone: str, category: str, on: date) -> tuple[Decimal, date]:
    """The annual resource ceiling (RFR) for the dwelling's financing, the zone and the household
    category, from the most recent table in force on `on`: (amount, valid_from).

    PLS without its own rows: PLUS × 1,3, rounded to the euro. Categories above 6 add the
    per-person increment ("+"). Raises YearlyError when the table lacks the cell."""
    table_financing, factor = financing, Decimal(1)
    if financing == Financing.PLS and not ResourceCeiling.objects.filter(financing=Financing.PLS).exists():
        table_financing, factor = Financing.PLUS, PLS_FACTOR
    valid_from = (
        ResourceCeiling.objects.filter(financing=table_financing, zone=zone, valid_from__lte=on)
        .order_by("-valid_from")
        .values_list("valid_from", flat=True)
        .first()
    )
    label = f"{financing} ({zone.replace('_', ' ')})"
    if valid_from is None:
        raise YearlyError(f"Aucun plafond de ressources {label} en vigueur au {on:%d/%m/%Y}.")
    cells = dict(
        ResourceCeiling.objects.filter(financing=table_financing, zone=zone, valid_from=valid_from).values_list(
            "category", "amount"
        )
    )
    number = int(category)
    base_category, extra = (str(number), 0) if number <= 6 else ("6", number - 6)
    if base_category not in cells or (extra and "+" not in cells):
        raise YearlyError(
            f"Plafond de ressources {label} du {valid_from:%d/%m/%Y} non chargé pour la catégorie {category} : "
            "chargez l'annexe officielle de l'arrêté."
        )
    amount = cells[base_category] + extra * cells.get("+", ZERO)
    if factor != 1:
        amount = (amount * factor).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return amount, valid_from


@dataclass(frozen=True)
class ScaleBand:
    excess_from: Decimal
    excess_to: Decimal | None
    base: Decimal
    per_point: Decimal

    def coefficient(self, excess: Decimal) -> Decimal:
        return self.base + self.per_point * (excess - self.excess_from)

    @property
    def top(self) -> Decimal | None:
        return None if self.excess_to is None else self.coefficient(self.excess_to)


def sls_scale(on: date) -> list[ScaleBand]:
    """The CDPR bands (SlsScale) of the most recent barème in force on `on`."""
    valid_from = (
        SlsScale.objects.filter(valid_from__lte=on).order_by("-valid_from").values_list("valid_from", flat=True).first()
    )
    if valid_from is None:
        raise YearlyError(f"Aucun barème du SLS (coefficient CDPR) en vigueur au {on:%d/%m/%Y}.")
    return [
        ScaleBand(b.excess_from_pct, b.excess_to_pct, b.coefficient_base, b.coefficient_per_point)
        for b in SlsScale.objects.filter(valid_from=valid_from).order_by("excess_from_pct")
    ]


def reference_rent(zone: str, on: date) -> SlsReferenceRent:
    slr = SlsReferenceRent.objects.filter(zone=zone, valid_from__lte=on).order_by("-valid_from").first()
    if slr is None:
        raise YearlyError(f"Aucun supplément de loyer de référence pour la zone {zone} au {on:%d/%m/%Y}.")
    return slr


def max_coefficient(bands: list[ScaleBand]) -> Decimal:
    """The CDPR at the top of the loaded barème (used for the flat SLS of a household that did not answer)."""
    tops = [b.top for b in bands if b.top is not None]
    if not tops or any(b.top is None for b in bands):
        raise YearlyError("Le barème du SLS chargé n'a pas de maximum : le SLS forfaitaire ne peut pas être calculé.")
    return max(tops)


def coefficient_for(excess: Decimal, bands: list[ScaleBand]) -> tuple[Decimal, bool]:
    """(CDPR, beyond the loaded barème) for an excess in percent (≥ 20)."""
    for band in bands:
        if excess >= band.excess_from and (band.excess_to is None or excess <= band.excess_to):
            return band.coefficient(excess), False
    if bands and excess > max(b.excess_to or excess for b in bands):
        return max_coefficient(bands), True
    raise YearlyError(f"Aucune tranche du barème du SLS pour un dépassement de {number_fr(excess)} %.")


@dataclass
class SlsResult:
    monthly_sls: Decimal | None  # None: not computable (see reason)
    excess_pct: Decimal | None = None
    reason: str = ""
    fee: Decimal = ZERO
    ceiling: Decimal | None = None
    ceiling_valid_from: date | None = None
    threshold: Decimal | None = None
    coefficient: Decimal | None = None
    slr: Decimal | None = None
    uncapped: Decimal | None = None
    effort_cap: Decimal | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def due(self) -> bool:
        return bool(self.monthly_sls and self.monthly_sls > 0)


def compute_sls(
    *,
    year: int,
    status: str,
    resources: Decimal | None,
    category: str,
    apl_beneficiary: bool,
    financing: str,
    qpv: bool,
    zone: str,
    living_area: Decimal,
    rent: Decimal,
) -> SlsResult:
    """The SLS of one household from its survey of `year` (charged over year + 1).

    Exempt: PLI dwellings, QPV estates, APL beneficiaries. No answer: the flat maximum (CDPR at the
    top of the barème, no 30 % cap since resources are unknown) plus the 25 € fee. Otherwise due
    when resources ≥ ceiling × 1,2; monthly SLS = area × CDPR(excess) × SLR(zone), to the cent,
    capped so that rent + SLS ≤ 30 % of resources ÷ 12. Raises YearlyError on missing tables."""
    if financing == Financing.PLI:
        return SlsResult(ZERO, reason="Exonéré : logement PLI (hors champ du SLS).")
    if qpv:
        return SlsResult(ZERO, reason="Exonéré : résidence en quartier prioritaire de la politique de la ville.")
    if apl_beneficiary:
        return SlsResult(ZERO, reason="Exonéré : ménage bénéficiaire de l'APL.")
    if status == SlsSurveyStatus.SENT:
        return SlsResult(None, reason="En attente de réponse.")
    starts_on, _ = sls_charge_period(year)
    bands = sls_scale(starts_on)
    slr = reference_rent(zone, starts_on)
    if status == SlsSurveyStatus.NO_ANSWER:
        coefficient = max_coefficient(bands)
        amount = to_cents(living_area * coefficient * slr.eur_per_m2)
        return SlsResult(
            amount,
            reason=f"Sans réponse à l'enquête : SLS forfaitaire maximal provisoire (CDPR {number_fr(coefficient)}) "
            f"et {format_euros(SLS_NO_ANSWER_FEE)} de frais de dossier.",
            fee=SLS_NO_ANSWER_FEE,
            coefficient=coefficient,
            slr=slr.eur_per_m2,
            uncapped=amount,
        )
    if resources is None or not category:
        raise YearlyError("Ressources et catégorie de ménage sont obligatoires pour une enquête répondue.")
    ceiling, valid_from = household_ceiling(financing=financing, zone=zone, category=category, on=date(year, 1, 1))
    threshold = to_cents(ceiling * (1 + SLS_THRESHOLD_PCT / HUNDRED))
    excess = ((resources / ceiling - 1) * HUNDRED).quantize(PERCENT, rounding=ROUND_HALF_UP)
    result = SlsResult(ZERO, excess_pct=excess, ceiling=ceiling, ceiling_valid_from=valid_from, threshold=threshold)
    if valid_from.year != year:
        result.warnings.append(f"plafond du {valid_from:%d/%m/%Y} (celui de {year} n'est pas chargé)")
    if resources < threshold:
        result.reason = f"Non dû : dépassement de {number_fr(excess)} % du plafond, inférieur à 20 %."
        return result
    coefficient, beyond = coefficient_for(excess, bands)
    if beyond:
        result.warnings.append(
            f"dépassement au-delà du barème chargé : CDPR plafonné à {number_fr(coefficient)}, à vérifier"
        )
    uncapped = to_cents(living_area * coefficient * slr.eur_per_m2)
    effort_cap = max(to_cents(resources * SLS_EFFORT_CAP / 12) - rent, ZERO)
    amount = min(uncapped, effort_cap)
    result.monthly_sls, result.coefficient, result.slr = amount, coefficient, slr.eur_per_m2
    result.uncapped, result.effort_cap = uncapped, effort_cap
    if amount < uncapped:
        result.reason = (
            f"Dû : dépassement de {number_fr(excess)} % ; SLS ramené de {format_euros(uncapped)} "
            f"à {format_euros(amount)} (loyer + SLS ≤ 30 % des ressources)."
        )
    else:
        result.reason = f"Dû : dépassement de {number_fr(excess)} % (CDPR {number_fr(coefficient)})."
    if result.warnings:
        result.reason += " Attention : " + " ; ".join(result.warnings) + "."
    return result


def _survey_queryset():
    return SlsSurvey.objects.select_related(
        "lease__dwelling__building__estate__commune", "lease__dwelling__building__estate__agency"
    )


def survey_result(survey: SlsSurvey) -> SlsResult:
    lease = survey.lease
    dwelling = lease.dwelling
    estate = dwelling.building.estate
    return compute_sls(
        year=survey.year,
        status=survey.status,
        resources=survey.household_resources,
        category=survey.household_category,
        apl_beneficiary=survey.apl_beneficiary,
        financing=dwelling.financing,
        qpv=estate.qpv,
        zone=estate.commune.ceiling_zone,
        living_area=dwelling.living_area,
        rent=lease.rent,
    )


def _store_result(survey: SlsSurvey) -> SlsSurvey:
    try:
        result = survey_result(survey)
    except YearlyError as exc:
        survey.excess_pct, survey.monthly_sls, survey.reason = None, None, f"Calcul impossible : {exc}"[:255]
    else:
        survey.excess_pct, survey.monthly_sls, survey.reason = (
            result.excess_pct,
            result.monthly_sls,
            result.reason[:255],
        )
    return survey


def sls_is_applied(year: int) -> bool:
    starts_on, _ = sls_charge_period(year)
    return (
        SlsCharge.objects.filter(valid_from=starts_on, reason__startswith=sls_reason_prefix(year)).exists()
        or LedgerEntry.objects.filter(kind=EntryKind.FEE, label=sls_fee_label(year)).exists()
    )


def _refuse_if_applied(year: int) -> None:
    if sls_is_applied(year):
        raise YearlyError(f"L'enquête SLS {year} a déjà été appliquée : les SLS de {year + 1} sont créés.")


@transaction.atomic
def sls_open_survey(*, year: int, sent_on: date) -> int:
    """Create the survey of `year` (status "sent") for every lease current on `sent_on` that has
    none yet; returns how many were created."""
    _lock(f"billing.sls:{year}")
    _refuse_if_applied(year)
    if sent_on.year != year:
        raise YearlyError(f"L'enquête {year} est envoyée en {year}.", field="year")
    lease_ids = list(
        Lease.objects.active_on(sent_on)
        .filter(status__in=SLS_SURVEY_STATUSES)
        .order_by("id")
        .values_list("id", flat=True)
    )
    already = set(SlsSurvey.objects.filter(year=year).values_list("lease_id", flat=True))
    surveys = [SlsSurvey(lease_id=pk, year=year, sent_on=sent_on) for pk in lease_ids if pk not in already]
    created = SlsSurvey.objects.bulk_create(surveys, batch_size=2000, ignore_conflicts=True)
    return len(created)


@transaction.atomic
def sls_record_answer(
    *,
    survey: SlsSurvey,
    answered: bool,
    answered_on: date | None = None,
    resources: Decimal | None = None,
    category: str = "",
    apl_beneficiary: bool = False,
) -> SlsSurvey:
    """Record a household's answer (or its absence) and compute its SLS on the survey."""
    _lock(f"billing.sls:{survey.year}")
    _refuse_if_applied(survey.year)
    survey = _survey_queryset().select_for_update(of=("self",)).get(pk=survey.pk)
    if answered:
        if answered_on is None:
            raise YearlyError("Indiquez la date de réponse.", field="answered_on")
        if resources is None or resources < 0:
            raise YearlyError("Indiquez le revenu fiscal de référence du ménage.", field="household_resources")
        if category not in HOUSEHOLD_CATEGORIES:
            raise YearlyError("Catégorie de ménage inconnue.", field="household_category")
        survey.status, survey.answered_on = SlsSurveyStatus.ANSWERED, answered_on
        survey.household_resources, survey.household_category = resources, category
    else:
        survey.status, survey.answered_on = SlsSurveyStatus.NO_ANSWER, None
        survey.household_resources, survey.household_category = None, ""
    survey.apl_beneficiary = apl_beneficiary
    _store_result(survey)
    survey.save()
    return survey


@transaction.atomic
def sls_close_survey(*, year: int) -> int:
    """End the answer period: surveys still "sent" become "no answer" (flat SLS + fee); returns their count."""
    _lock(f"billing.sls:{year}")
    _refuse_if_applied(year)
    surveys = list(_survey_queryset().filter(year=year, status=SlsSurveyStatus.SENT))
    for survey in surveys:
        survey.status = SlsSurveyStatus.NO_ANSWER
        _store_result(survey)
    SlsSurvey.objects.bulk_update(surveys, ["status", "excess_pct", "monthly_sls", "reason"], batch_size=1000)
    return len(surveys)


@transaction.atomic
def sls_recompute(*, year: int) -> int:
    """Recompute every answered or unanswered survey of `year` (after a table or rent change)."""
    _lock(f"billing.sls:{year}")
    _refuse_if_applied(year)
    surveys = [_store_result(s) for s in _survey_queryset().filter(year=year).exclude(status=SlsSurveyStatus.SENT)]
    SlsSurvey.objects.bulk_update(surveys, ["excess_pct", "monthly_sls", "reason"], batch_size=1000)
    return len(surveys)


def sls_totals(year: int) -> dict:
    surveys = SlsSurvey.objects.filter(year=year)
    return surveys.aggregate(
        count=Count("id"),
        sent=Count("id", filter=Q(status=SlsSurveyStatus.SENT)),
        answered=Count("id", filter=Q(status=SlsSurveyStatus.ANSWERED)),
        no_answer=Count("id", filter=Q(status=SlsSurveyStatus.NO_ANSWER)),
        due=Count("id", filter=Q(monthly_sls__gt=0)),
        failed=Count("id", filter=~Q(status=SlsSurveyStatus.SENT) & Q(monthly_sls__isnull=True)),
        monthly_total=Sum("monthly_sls", default=ZERO),
    )


@transaction.atomic
def sls_apply(*, year: int, today: date, by=None) -> tuple[int, int]:
    """Create the SlsCharge of every household with an SLS, valid over year + 1 (read by the
    monthly billing run), and post the 25 € fee of each household that did not answer; returns
    (charges, fees). Refused when already applied, when surveys await an answer or could not be
    computed (fix them first: nothing is half-applied)."""
    _lock(f"billing.sls:{year}")
    _refuse_if_applied(year)
    totals = sls_totals(year)
    if not totals["count"]:
        raise YearlyError(f"Aucune enquête SLS {year} : ouvrez l'enquête d'abord.")
    if totals["sent"]:
        raise YearlyError(
            f"{totals['sent']} enquête(s) attendent encore une réponse : saisissez-les ou clôturez l'enquête "
            "(les ménages sans réponse passent au SLS forfaitaire)."
        )
    if totals["failed"]:
        raise YearlyError(
            f"{totals['failed']} enquête(s) n'ont pas pu être calculées : corrigez-les avant d'appliquer."
        )
    starts_on, ends_on = sls_charge_period(year)
    due = list(
        SlsSurvey.objects.filter(year=year, monthly_sls__gt=0)
        .filter(Q(lease__ends_on__isnull=True) | Q(lease__ends_on__gte=starts_on))
        .exclude(lease__status__in=EXCLUDED_LEASE_STATUSES)
        .order_by("lease_id")
    )
    prefix = sls_reason_prefix(year)
    SlsCharge.objects.bulk_create(
        [
            SlsCharge(
                lease_id=s.lease_id,
                valid_from=starts_on,
                valid_to=ends_on,
                monthly_amount=s.monthly_sls,
                reason=f"{prefix} : {s.reason}"[:255],
            )
            for s in due
        ],
        batch_size=2000,
    )
    fee_leases = [s.lease_id for s in due if s.status == SlsSurveyStatus.NO_ANSWER]
    ensure_accounts(fee_leases)
    accounts = Account.objects.in_bulk(fee_leases, field_name="lease_id")
    for lease_id in fee_leases:
        post_entries(
            account=accounts[lease_id],
            entries=[
                NewEntry(posted_on=today, kind=EntryKind.FEE, label=sls_fee_label(year), amount=SLS_NO_ANSWER_FEE)
            ],
            by=by,
        )
    return len(due), len(fee_leases)


# --- The barème, loaded from billing/data/sls_scale.csv by migration 0004 ----------------------


def load_sls_scale(apps=global_apps) -> dict[str, int]:
    """Load the CDPR bands (kind "cdpr") and the SLR per zone (kind "slr") from billing/data/sls_scale.csv.

    Idempotent: rows are keyed by date and band or zone. The `source` column says how sure each
    figure is; the SLR rows are placeholders until the official arrêté is found."""
    Scale = apps.get_model("billing", "SlsScale")
    ReferenceRent = apps.get_model("billing", "SlsReferenceRent")
    counts = {"cdpr": 0, "slr": 0}
    with (BILLING_DATA / "sls_scale.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            valid_from = date.fromisoformat(row["valid_from"])
            if row["kind"] == "cdpr":
                Scale.objects.update_or_create(
                    valid_from=valid_from,
                    excess_from_pct=Decimal(row["excess_from_pct"]),
                    defaults={
                        "excess_to_pct": Decimal(row["excess_to_pct"]) if row["excess_to_pct"] else None,
                        "coefficient_base": Decimal(row["coefficient_base"]),
                        "coefficient_per_point": Decimal(row["coefficient_per_point"]),
                        "source": row["source"],
                    },
                )
            elif row["kind"] == "slr":
                ReferenceRent.objects.update_or_create(
                    valid_from=valid_from,
                    zone=row["zone"],
                    defaults={"eur_per_m2": Decimal(row["eur_per_m2"]), "source": row["source"]},
                )
            else:
                raise ValueError(f"sls_scale.csv: unknown kind {row['kind']!r}")
            counts[row["kind"]] += 1
    return counts
