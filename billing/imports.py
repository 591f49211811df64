"""Bank and CAF statement imports, their hand resolution, and the accounting export of the ledger.

File formats: docs/bank-statement.md and docs/caf-statement.md (CSV, `;`, UTF-8, a header row).
A file (same SHA-256) is imported once; importing it again changes nothing.

- A bank statement is all or nothing: its credits become payments, and a half-imported
  statement could not be told from a complete one, so one bad line refuses the whole file.
- A CAF statement records no money (the CAF's transfer arrives on the bank statement): each
  valid line is compared with the APL expected on the notices and imported; malformed lines are
  reported with their number and left out.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q

from tenancies.formatting import format_euros
from tenancies.models import Lease

from .models import (
    ZERO,
    Account,
    BankStatement,
    BankStatementLine,
    BenefitSource,
    CafStatement,
    CafStatementLine,
    EntryKind,
    HousingBenefit,
    ImportLineStatus,
    Payment,
    PaymentMethod,
)
from .services import PaymentError, record_payment

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("10000000000")  # the money fields hold 12 digits, 2 of them decimals
# Our lease numbers (tenancies.services.next_lease_numbers): "B" and 8 digits, e.g. B00001077.
LEASE_NUMBER = re.compile(r"(?<![A-Z0-9])B\d{8}(?![0-9])", re.IGNORECASE)
AMOUNT = re.compile(r"[+-]?\d+(?:,\d{1,2})?")
DAY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
MONTH = re.compile(r"(\d{4})-(\d{2})")

BANK_COLUMNS = ("date", "montant", "libelle", "reference")
BANK_HEADER = "date;montant;libellé;référence"
CAF_COLUMNS = (
    "numero_allocataire",
    "reference_locataire",
    "periode",
    "montant_apl",
    "montant_rls",
    "rappel",
    "indu",
)
CAF_HEADER = "numero_allocataire;reference_locataire;periode;montant_apl;montant_rls;rappel;indu"


class ImportRefused(Exception):
    """A file refused as a whole (French message); `details` lists the line errors, if any."""

    def __init__(self, message: str, details: list[str] | None = None):
        super().__init__(message)
        self.details = details or []


class LineError(Exception):
    """A refused hand resolution of an imported line (French message)."""


# --- Line statuses ----------------------------------------------------------------------------

# Lines are created matched, unmatched or difference by the import; people move them on.
LINE_TRANSITIONS: dict[str, frozenset[str]] = {
    ImportLineStatus.UNMATCHED: frozenset({ImportLineStatus.RESOLVED, ImportLineStatus.IGNORED}),
    ImportLineStatus.DIFFERENCE: frozenset({ImportLineStatus.RESOLVED}),
}


def _check_move(line, to_status: str) -> None:
    if to_status not in LINE_TRANSITIONS.get(line.status, ()):
        current = ImportLineStatus(line.status).label.lower()
        if line.status in LINE_TRANSITIONS:
            raise LineError(f"Action impossible sur une ligne « {current} ».")
        raise LineError(f"La ligne {line.line_no} est déjà traitée (« {current} ») : rien à faire.")


def _signed(text: str, by, today: date) -> str:
    """A note that says who resolved the line and when (the lines have no history table)."""
    who = (by.get_full_name() or by.username) if by is not None else "le système"
    return f"{text} — {who}, le {today:%d/%m/%Y}"[:255]


# --- Reading the CSV files --------------------------------------------------------------------


def _normalise(name: str) -> str:
    """ "Référence locataire" -> "reference_locataire": headers compare without case nor accents."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


@dataclass
class RawRow:
    line_no: int
    values: dict[str, str] | None  # None when the line is malformed
    problem: str = ""


def read_csv(content: bytes, columns: tuple[str, ...], header_text: str) -> list[RawRow]:
    """The data rows of a `;`-separated UTF-8 file whose header names exactly `columns`.

    Line numbers are the file's (the header is line 1). Raises ImportRefused when the file
    cannot be read or its header is wrong; a row with a wrong number of fields is returned with
    its problem.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused(
            "Le fichier n'est pas encodé en UTF-8 : enregistrez-le au format « CSV UTF-8 (point-virgule) »."
        ) from None
    if not text.strip():
        raise ImportRefused("Le fichier est vide.")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    rows: list[RawRow] = []
    try:
        header = next(reader)
        names = [_normalise(h) for h in header]
        if len(header) == 1 and ("," in header[0] or "\t" in header[0]):
            raise ImportRefused(
                f"Ligne 1 : les colonnes doivent être séparées par des points-virgules (;). Attendu : {header_text}."
            )
        missing = [c for c in columns if c not in names]
        unexpected = [h.strip() or "(vide)" for h, n in zip(header, names, strict=True) if n not in columns]
        if missing or unexpected or len(set(names)) != len(names):
            detail = []
            if missing:
                detail.append(f"manquante(s) : {', '.join(missing)}")
            if unexpected:
                detail.append(f"inattendue(s) : {', '.join(unexpected)}")
            if not detail:
                detail.append("colonne en double")
            raise ImportRefused(
                f"Ligne 1 : colonnes incorrectes ({' ; '.join(detail)}). En-tête attendu : {header_text}."
            )
        for fields in reader:
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(names):
                problem = f"{len(fields)} champ(s) au lieu de {len(names)}"
                rows.append(RawRow(reader.line_num, None, problem))
            else:
                rows.append(RawRow(reader.line_num, {n: f.strip() for n, f in zip(names, fields, strict=True)}))
    except csv.Error as exc:
        raise ImportRefused(f"Ligne {reader.line_num} : fichier CSV illisible ({exc}).") from None
    if not rows:
        raise ImportRefused("Le fichier ne contient aucune ligne après l'en-tête.")
    return rows


def parse_amount(text: str) -> Decimal:
    """ "1 234,56" -> Decimal("1234.56"); "-45" -> Decimal("-45.00"). ValueError otherwise."""
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", text).removesuffix("€")
    if not AMOUNT.fullmatch(cleaned):
        raise ValueError(text)
    return Decimal(cleaned.replace(",", ".")).quantize(CENT)


def parse_day(text: str) -> date:
    """ "31/10/2026" -> date(2026, 10, 31). ValueError otherwise."""
    match = DAY.fullmatch(text)
    if not match:
        raise ValueError(text)
    day, month, year = (int(g) for g in match.groups())
    return date(year, month, day)


def parse_month(text: str) -> date:
    """ "2026-11" -> date(2026, 11, 1). ValueError otherwise."""
    match = MONTH.fullmatch(text)
    if not match:
        raise ValueError(text)
    return date(int(match[1]), int(match[2]), 1)


def lease_numbers_in(*texts: str) -> list[str]:
    """The distinct lease numbers cited in these texts, in order of appearance."""
    found: list[str] = []
    for text in texts:
        for number in LEASE_NUMBER.findall(text or ""):
            if number.upper() not in found:
                found.append(number.upper())
    return found


# --- Bank statements ---------------------------------------------------------------------------


@dataclass
class BankRow:
    line_no: int
    booked_on: date
    amount: Decimal
    label: str
    reference: str


def _parse_bank_row(raw: RawRow, today: date) -> BankRow:
    if raw.values is None:
        raise ImportRefused(f"Ligne {raw.line_no} : {raw.problem}. Rien n'a été importé.")
    values = raw.values
    problems = []
    booked_on = amount = None
    try:
        booked_on = parse_day(values["date"])
        if booked_on > today:
            problems.append(f"date du {booked_on:%d/%m/%Y} postérieure à aujourd'hui")
    except ValueError:
        problems.append(f"date « {values['date']} » invalide : attendu JJ/MM/AAAA")
    try:
        amount = parse_amount(values["montant"])
        if amount == 0:
            problems.append("montant nul")
        elif abs(amount) >= MAX_AMOUNT:
            problems.append(f"montant « {values['montant']} » hors limites")
    except ValueError:
        problems.append(f"montant « {values['montant']} » invalide : attendu par exemple 1 234,56 ou -45,00")
    if not values["libelle"]:
        problems.append("libellé manquant")
    elif len(values["libelle"]) > 255:
        problems.append(f"libellé trop long ({len(values['libelle'])} caractères, 255 au plus)")
    if len(values["reference"]) > 100:
        problems.append(f"référence trop longue ({len(values['reference'])} caractères, 100 au plus)")
    if problems:
        raise ImportRefused(f"Ligne {raw.line_no} : {' ; '.join(problems)}. Rien n'a été importé.")
    return BankRow(raw.line_no, booked_on, amount, values["libelle"], values["reference"])


def bank_payment_key(sha256: str, line_no: int) -> str:
    """The payment's idempotency key for a statement line: one payment per line, ever."""
    return f"bank:{sha256[:32]}:{line_no}"


def _bank_match(row: BankRow, accounts_by_number: dict[str, int | None]) -> tuple[int | None, str]:
    """(account id, note) for a line: an account only for a credit citing one lease that has one."""
    numbers = lease_numbers_in(row.reference, row.label)
    if len(numbers) > 1:
        return None, f"Plusieurs baux cités ({', '.join(numbers)})"
    if not numbers:
        return None, "Aucun numéro de bail dans la référence ni le libellé"
    number = numbers[0]
    if row.amount < 0:
        return None, f"Débit : à traiter à la main (bail {number} cité)"
    if number not in accounts_by_number:
        return None, f"Bail {number} inconnu"
    if accounts_by_number[number] is None:
        return None, f"Le bail {number} n'a pas de compte locataire"
    return accounts_by_number[number], f"Bail {number}"


@dataclass
class BankImport:
    statement: BankStatement
    created: bool


def import_bank_statement(*, filename: str, content: bytes, today: date, by=None) -> BankImport:
    """Import a bank statement: each credit citing a lease becomes a transfer on its account.

    Payments go through record_payment (oldest notices settled first) with an idempotency key
    per line; the other lines wait in the unmatched queue. One transaction: ImportRefused (with
    the line number) leaves nothing saved. A file already imported returns its statement with
    created=False.
    """
    sha256 = hashlib.sha256(content).hexdigest()
    existing = BankStatement.objects.filter(sha256=sha256).first()
    if existing is not None:
        return BankImport(existing, created=False)
    rows = [_parse_bank_row(raw, today) for raw in read_csv(content, BANK_COLUMNS, BANK_HEADER)]
    cited = {number for row in rows for number in lease_numbers_in(row.reference, row.label)}
    accounts_by_number = dict(Lease.objects.filter(number__in=cited).values_list("number", "account__id"))
    accounts = Account.objects.in_bulk([pk for pk in accounts_by_number.values() if pk])
    try:
        with transaction.atomic():
            # Inserted first: a concurrent import of the same file waits on the unique index here.
            statement = BankStatement.objects.create(
                filename=filename[:255], sha256=sha256, imported_by=by, line_count=len(rows)
            )
            lines = []
            for row in rows:
                line = BankStatementLine(
                    statement=statement,
                    line_no=row.line_no,
                    booked_on=row.booked_on,
                    amount=row.amount,
                    label=row.label,
                    reference=row.reference,
                    status=ImportLineStatus.UNMATCHED,
                )
                account_id, line.note = _bank_match(row, accounts_by_number)
                if account_id is not None:
                    try:
                        line.payment = record_payment(
                            account=accounts[account_id],
                            amount=row.amount,
                            received_on=row.booked_on,
                            method=PaymentMethod.TRANSFER,
                            today=today,
                            reference=(row.reference or row.label)[:100],
                            idempotency_key=bank_payment_key(sha256, row.line_no),
                            by=by,
                        )
                    except PaymentError as exc:
                        raise ImportRefused(f"Ligne {row.line_no} : {exc} Rien n'a été importé.") from exc
                    line.account_id = account_id
                    line.status = ImportLineStatus.MATCHED
                lines.append(line)
            BankStatementLine.objects.bulk_create(lines)
            statement.matched_count = sum(1 for line in lines if line.status == ImportLineStatus.MATCHED)
            statement.save(update_fields=["matched_count"])
    except IntegrityError:
        existing = BankStatement.objects.filter(sha256=sha256).first()
        if existing is None:
            raise
        return BankImport(existing, created=False)
    return BankImport(statement, created=True)


def attach_bank_line(*, line: BankStatementLine, account: Account, today: date, by=None) -> Payment:
    """Resolve an unmatched credit by hand: record it as a transfer on `account`.

    The payment is allocated like any other (oldest notices first) and carries the line's
    idempotency key, so the line can never pay twice. Raises LineError.
    """
    with transaction.atomic():
        locked = BankStatementLine.objects.select_for_update().select_related("statement").get(pk=line.pk)
        _check_move(locked, ImportLineStatus.RESOLVED)
        if locked.amount <= 0:
            raise LineError("Un débit ne devient pas un paiement : ignorez la ligne en indiquant pourquoi.")
        try:
            payment = record_payment(
                account=account,
                amount=locked.amount,
                received_on=locked.booked_on,
                method=PaymentMethod.TRANSFER,
                today=today,
                reference=(locked.reference or locked.label)[:100],
                idempotency_key=bank_payment_key(locked.statement.sha256, locked.line_no),
                by=by,
            )
        except PaymentError as exc:
            raise LineError(str(exc)) from exc
        locked.status = ImportLineStatus.RESOLVED
        locked.account = account
        locked.payment = payment
        locked.note = _signed(f"Rattachée au bail {account.lease.number}", by, today)
        locked.save(update_fields=["status", "account", "payment", "note"])
    line.refresh_from_db()
    return payment


def ignore_bank_line(*, line: BankStatementLine, note: str, today: date, by=None) -> None:
    """Set an unmatched line aside (bank fees, a transfer returned…) with the reason. Raises LineError."""
    note = note.strip()
    if not note:
        raise LineError("Indiquez pourquoi la ligne est ignorée.")
    with transaction.atomic():
        locked = BankStatementLine.objects.select_for_update().get(pk=line.pk)
        _check_move(locked, ImportLineStatus.IGNORED)
        locked.status = ImportLineStatus.IGNORED
        locked.note = _signed(note, by, today)
        locked.save(update_fields=["status", "note"])
    line.refresh_from_db()


# --- CAF tiers-payant statements ----------------------------------------------------------------


@dataclass
class CafRow:
    line_no: int
    allocataire_number: str
    tenant_reference: str
    period: date
    apl_amount: Decimal
    rls_amount: Decimal
    recall_amount: Decimal
    overpayment_amount: Decimal

    @property
    def key(self) -> tuple:
        return (
            self.tenant_reference,
            self.period,
            self.allocataire_number,
            self.apl_amount,
            self.rls_amount,
            self.recall_amount,
            self.overpayment_amount,
        )


CAF_AMOUNTS = (
    ("montant_apl", "montant APL", True),
    ("montant_rls", "montant RLS", False),
    ("rappel", "rappel", False),
    ("indu", "indu", False),
)


def _parse_caf_row(raw: RawRow) -> CafRow:
    """A valid CAF line, or ValueError with the French problems of the line."""
    if raw.values is None:
        raise ValueError(raw.problem)
    values = raw.values
    problems = []
    allocataire = values["numero_allocataire"]
    reference = values["reference_locataire"].upper()
    if not allocataire:
        problems.append("n° allocataire manquant")
    elif len(allocataire) > 20:
        problems.append("n° allocataire trop long (20 caractères au plus)")
    if not reference:
        problems.append("référence locataire manquante")
    elif len(reference) > 30:
        problems.append("référence locataire trop longue (30 caractères au plus)")
    period = None
    if not values["periode"]:
        problems.append("période manquante")
    else:
        try:
            period = parse_month(values["periode"])
        except ValueError:
            problems.append(f"période « {values['periode']} » invalide : attendu AAAA-MM (par exemple 2026-11)")
    amounts = {}
    for column, label, required in CAF_AMOUNTS:
        text = values[column]
        if not text:
            if required:
                problems.append(f"{label} manquant")
            amounts[column] = ZERO
            continue
        try:
            amounts[column] = parse_amount(text)
        except ValueError:
            problems.append(f"{label} « {text} » invalide : attendu par exemple 230,50")
            continue
        if amounts[column] < 0:
            problems.append(f"{label} négatif : les montants de l'état sont positifs")
        elif amounts[column] >= MAX_AMOUNT:
            problems.append(f"{label} « {text} » hors limites")
    if problems:
        raise ValueError(" ; ".join(problems))
    return CafRow(
        raw.line_no,
        allocataire,
        reference,
        period,
        amounts["montant_apl"],
        amounts["montant_rls"],
        amounts["rappel"],
        amounts["indu"],
    )


def _compare_with_expected(line: CafStatementLine, benefit: HousingBenefit | None) -> None:
    """Set the line's expected APL, status and note from the benefit expected for its period."""
    line.expected_apl = benefit.apl_amount if benefit is not None else None
    expected = line.expected_apl if line.expected_apl is not None else ZERO
    gaps = []
    if line.apl_amount != expected:
        if benefit is None:
            gaps.append(f"APL versée {format_euros(line.apl_amount)} alors qu'aucune aide n'est attendue ce mois-là")
        else:
            gap = line.apl_amount - expected
            sign = "+" if gap > 0 else "−"
            gaps.append(
                f"APL versée {format_euros(line.apl_amount)} au lieu de {format_euros(expected)} attendus "
                f"(écart {sign}{format_euros(abs(gap))})"
            )
    if benefit is not None and line.rls_amount != benefit.rls_amount:
        gaps.append(f"RLS {format_euros(line.rls_amount)} au lieu de {format_euros(benefit.rls_amount)}")
    if line.recall_amount:
        gaps.append(f"rappel de {format_euros(line.recall_amount)} sur des mois antérieurs")
    if line.overpayment_amount:
        gaps.append(f"indu de {format_euros(line.overpayment_amount)} retenu par la CAF")
    if gaps:
        text = " ; ".join(gaps)
        line.status = ImportLineStatus.DIFFERENCE
        line.note = (text[0].upper() + text[1:])[:255]
    else:
        line.status = ImportLineStatus.MATCHED
        line.note = ""


def _benefits_covering(lease_ids: set[int], periods: set[date]) -> dict[tuple[int, date], HousingBenefit]:
    """{(lease id, period): the benefit covering the period's first day}, one query per period."""
    found = {}
    for period in periods:
        for benefit in (
            HousingBenefit.objects.covering(period).filter(lease_id__in=lease_ids).order_by("lease_id", "-valid_from")
        ):
            found.setdefault((benefit.lease_id, period), benefit)
    return found


@dataclass
class CafImport:
    statement: CafStatement
    created: bool
    errors: list[str] = field(default_factory=list)  # malformed lines, left out
    skipped: list[str] = field(default_factory=list)  # lines already imported with another file


def import_caf_statement(*, filename: str, content: bytes, by=None) -> CafImport:
    """Import a CAF tiers-payant statement and compare each line with the expected APL.

    Matched by the tenant reference (our lease number); a line whose APL or RLS differs from the
    HousingBenefit covering its period, or that carries a rappel or an indu, is a difference with
    a note; an unknown reference is unmatched. Malformed lines are reported in `errors` and the
    others imported; a line identical to one imported from another file is skipped. Raises
    ImportRefused on an unreadable file or when no line is valid. Records no money.
    """
    sha256 = hashlib.sha256(content).hexdigest()
    existing = CafStatement.objects.filter(sha256=sha256).first()
    if existing is not None:
        return CafImport(existing, created=False)
    rows, errors = [], []
    for raw in read_csv(content, CAF_COLUMNS, CAF_HEADER):
        try:
            rows.append(_parse_caf_row(raw))
        except ValueError as exc:
            errors.append(f"Ligne {raw.line_no} : {exc}.")
    if not rows:
        raise ImportRefused("Aucune ligne valide : rien n'a été importé.", details=errors)
    counts = Counter(row.period for row in rows)
    # The statement's month: the most frequent period of its lines (rappels cite earlier months).
    period = max(counts, key=lambda p: (counts[p], p))
    already = CafStatementLine.objects.filter(
        tenant_reference__in={r.tenant_reference for r in rows}, period__in=set(counts)
    ).values_list(
        "tenant_reference",
        "period",
        "allocataire_number",
        "apl_amount",
        "rls_amount",
        "recall_amount",
        "overpayment_amount",
        "statement__filename",
    )
    previous = {tuple(values[:-1]): values[-1] for values in already}
    leases = dict(Lease.objects.filter(number__in={r.tenant_reference for r in rows}).values_list("number", "id"))
    benefits = _benefits_covering(set(leases.values()), set(counts))
    skipped = []
    try:
        with transaction.atomic():
            statement = CafStatement.objects.create(
                period=period, filename=filename[:255], sha256=sha256, imported_by=by, error_count=len(errors)
            )
            lines = []
            for row in rows:
                if row.key in previous:
                    skipped.append(f"Ligne {row.line_no} : déjà importée avec le fichier « {previous[row.key]} ».")
                    continue
                line = CafStatementLine(
                    statement=statement,
                    line_no=row.line_no,
                    allocataire_number=row.allocataire_number,
                    tenant_reference=row.tenant_reference,
                    period=row.period,
                    apl_amount=row.apl_amount,
                    rls_amount=row.rls_amount,
                    recall_amount=row.recall_amount,
                    overpayment_amount=row.overpayment_amount,
                    lease_id=leases.get(row.tenant_reference),
                )
                if line.lease_id is None:
                    line.status = ImportLineStatus.UNMATCHED
                    line.note = f"Référence locataire « {row.tenant_reference} » inconnue"
                else:
                    _compare_with_expected(line, benefits.get((line.lease_id, row.period)))
                lines.append(line)
            CafStatementLine.objects.bulk_create(lines)
            statement.line_count = len(lines)
            statement.matched_count = sum(1 for line in lines if line.status == ImportLineStatus.MATCHED)
            statement.save(update_fields=["line_count", "matched_count"])
    except IntegrityError:
        existing = CafStatement.objects.filter(sha256=sha256).first()
        if existing is None:
            raise
        return CafImport(existing, created=False)
    return CafImport(statement, created=True, errors=errors, skipped=skipped)


def caf_lines_for_user(user):
    """CAF lines the user may review: unmatched ones (no lease yet) and those of their agencies' leases."""
    lines = CafStatementLine.objects.all()
    if user.is_authenticated and user.sees_all_agencies:
        return lines
    return lines.filter(Q(lease__isnull=True) | Q(lease__in=Lease.objects.for_user(user)))


def update_expected_apl(*, line: CafStatementLine, today: date, by=None) -> HousingBenefit:
    """Take the CAF's amounts as the expected APL and RLS from the line's period on.

    The benefit covering the period is closed at the end of the previous month and a new one
    (source CAF) starts with the period; it ends where the closed one ended or where a later
    benefit starts. A benefit starting that very month is corrected in place. Notices already
    issued keep their amounts (they are frozen). Raises LineError.
    """
    with transaction.atomic():
        locked = CafStatementLine.objects.select_for_update().get(pk=line.pk)
        _check_move(locked, ImportLineStatus.RESOLVED)
        if locked.status != ImportLineStatus.DIFFERENCE or locked.lease_id is None:
            raise LineError("Seule une ligne en écart, rattachée à un bail, peut mettre à jour l'APL attendue.")
        period = locked.period
        benefits = HousingBenefit.objects.select_for_update().filter(lease_id=locked.lease_id)
        current = benefits.covering(period).order_by("-valid_from").first()
        later = benefits.filter(valid_from__gt=period).order_by("valid_from").first()
        ends = []
        if current is not None and current.valid_to is not None:
            ends.append(current.valid_to)
        if later is not None:
            ends.append(later.valid_from - timedelta(days=1))
        amounts = {
            "apl_amount": locked.apl_amount,
            "rls_amount": locked.rls_amount,
            "source": BenefitSource.CAF,
            "allocataire_number": locked.allocataire_number,
        }
        if current is not None and current.valid_from == period:
            for name, value in amounts.items():
                setattr(current, name, value)
            current.save(update_fields=list(amounts))
            benefit = current
        else:
            if current is not None:
                current.valid_to = period - timedelta(days=1)
                current.save(update_fields=["valid_to"])
            benefit = HousingBenefit.objects.create(
                lease_id=locked.lease_id, valid_from=period, valid_to=min(ends) if ends else None, **amounts
            )
        before = format_euros(locked.expected_apl) if locked.expected_apl is not None else "aucune"
        locked.status = ImportLineStatus.RESOLVED
        locked.note = _signed(
            f"APL attendue mise à jour dès {period:%m/%Y} : {before} → {format_euros(locked.apl_amount)} "
            f"(RLS {format_euros(locked.rls_amount)})",
            by,
            today,
        )
        locked.save(update_fields=["status", "note"])
    line.refresh_from_db()
    return benefit


def mark_caf_line_treated(*, line: CafStatementLine, note: str, today: date, by=None) -> None:
    """Close a difference or an unmatched line without changing the expected APL. Raises LineError."""
    note = note.strip()
    if not note:
        raise LineError("Indiquez ce qui a été fait pour traiter la ligne.")
    with transaction.atomic():
        locked = CafStatementLine.objects.select_for_update().get(pk=line.pk)
        _check_move(locked, ImportLineStatus.RESOLVED)
        locked.status = ImportLineStatus.RESOLVED
        locked.note = _signed(note, by, today)
        locked.save(update_fields=["status", "note"])
    line.refresh_from_db()


# --- Accounting export -----------------------------------------------------------------------------

# General-ledger accounts of the export, by ledger entry kind: the counterpart of the tenant
# account. Change them here to follow the accountant's chart. Every entry gives two balanced lines:
# the tenant side on TENANT_ACCOUNT with the lease number as auxiliary, and the counterpart.
TENANT_ACCOUNT = "411000"
SUSPENSE_ACCOUNT = "471000"  # compte d'attente, for a kind missing from the mapping
ACCOUNTING_ACCOUNTS: dict[str, str] = {
    EntryKind.RENT: "706100",  # loyers
    EntryKind.ANNEX_RENT: "706200",  # loyers des annexes (parkings, garages, caves)
    EntryKind.SLS: "706300",  # supplément de loyer de solidarité
    EntryKind.RLS: "709100",  # réduction de loyer de solidarité (rabais sur loyers)
    EntryKind.CHARGE: "708300",  # provisions pour charges récupérables
    EntryKind.REGULARISATION: "708300",
    EntryKind.APL: "441100",  # APL à recevoir de la CAF (tiers payant)
    EntryKind.PAYMENT: "512000",  # banque
    EntryKind.DEPOSIT: "165000",  # dépôts de garantie reçus
    EntryKind.REPAIRS: "708800",  # réparations locatives refacturées
    EntryKind.FEE: "708800",
}
SALES_KINDS = frozenset(
    {EntryKind.RENT, EntryKind.ANNEX_RENT, EntryKind.CHARGE, EntryKind.SLS, EntryKind.RLS, EntryKind.APL}
)
EXPORT_HEADER = [
    "Journal",
    "Compte",
    "Compte auxiliaire",
    "Date",
    "Libellé",
    "Débit",
    "Crédit",
    "Référence du bail",
    "N° écriture",
]


def journal_for(kind: str) -> str:
    """VT (ventes) for billing, BQ (banque) for payments, OD (opérations diverses) for the rest."""
    if kind in SALES_KINDS:
        return "VT"
    if kind == EntryKind.PAYMENT:
        return "BQ"
    return "OD"


def _decimal_fr(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def _cell(text: str) -> str:
    """Neutralise a spreadsheet formula (a label copied from a bank reference may start with "=")."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def accounting_lines(entries, *, start: date, end: date) -> Iterator[list[str]]:
    """Two export lines per ledger entry posted from `start` to `end`, read 5 000 rows at a time."""
    rows = (
        entries.filter(posted_on__gte=start, posted_on__lte=end)
        .order_by("posted_on", "id")
        .values_list("id", "posted_on", "kind", "label", "debit", "credit", "account__lease__number", "reverses__kind")
        .iterator(chunk_size=5000)
    )
    for pk, posted_on, kind, label, debit, credit, lease_number, reversed_kind in rows:
        journal = journal_for(kind)
        account_kind = reversed_kind if kind == EntryKind.REVERSAL and reversed_kind else kind
        counterpart = ACCOUNTING_ACCOUNTS.get(account_kind, SUSPENSE_ACCOUNT)
        day, text, ref = f"{posted_on:%d/%m/%Y}", _cell(label), str(pk)
        debit_text, credit_text = _decimal_fr(debit), _decimal_fr(credit)
        yield [journal, TENANT_ACCOUNT, lease_number, day, text, debit_text, credit_text, lease_number, ref]
        yield [journal, counterpart, "", day, text, credit_text, debit_text, lease_number, ref]


def accounting_csv(entries, *, start: date, end: date, lines_per_chunk: int = 2000) -> Iterator[bytes]:
    """The export as UTF-8 CSV chunks (BOM first, for Excel): `;`, decimal comma, dates dd/mm/yyyy."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(EXPORT_HEADER)
    for count, line in enumerate(accounting_lines(entries, start=start, end=end), start=1):
        writer.writerow(line)
        if count % lines_per_chunk == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")
