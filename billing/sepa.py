"""SEPA direct debit: mandates, the collection file (pain.008.001.02) and the bank's rejections.

Write paths: `register_mandate`, `collect_direct_debits`, `import_rejections` (and `reject_debit`, one
line of an import). Booking rules and the rejection file format: docs/sepa.md.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from schwifty import BIC, IBAN
from schwifty import exceptions as iban_errors
from sepaxml import SepaDD
from sepaxml.validation import ValidationError as SepaXmlValidationError

from .ledger import LedgerError, NewEntry, post_entries, reverse_entry
from .models import (
    ZERO,
    Account,
    DirectDebit,
    DirectDebitRun,
    DirectDebitStatus,
    EntryKind,
    LedgerEntry,
    PaymentAllocation,
    PaymentMethod,
    SepaMandate,
)
from .services import PaymentError, record_payment

SCHEMA = "pain.008.001.02"

# EPC SDD Core rulebook: a collection reaches the debtor's bank at most 14 calendar days before its due date.
MAX_DAYS_AHEAD = 14
# Namespace of the transaction-level advisory lock that serialises collections of one due date.
COLLECTION_LOCK_NAMESPACE = 0x5E9A

# Characters the EPC allows in references (mandate id, end-to-end id), spaces excluded.
REFERENCE_PATTERN = re.compile(r"[A-Za-z0-9/?:().,'+-]{1,35}")

# ISO 20022 reason codes of R-transactions commonly returned by French banks.
REJECT_REASONS = {
    "AC01": "Identifiant de compte (IBAN) incorrect",
    "AC04": "Compte clôturé",
    "AC06": "Compte bloqué",
    "AC13": "Type de compte du débiteur non valide",
    "AG01": "Opération interdite sur ce type de compte",
    "AG02": "Code opération incorrect",
    "AM04": "Provision insuffisante",
    "AM05": "Opération en double",
    "BE05": "Identifiant du créancier incorrect",
    "CNOR": "Banque du créancier non joignable",
    "DNOR": "Banque du débiteur non joignable",
    "FF01": "Format de fichier incorrect",
    "MD01": "Absence de mandat",
    "MD02": "Données du mandat manquantes ou incorrectes",
    "MD06": "Remboursement demandé par le débiteur",
    "MD07": "Débiteur décédé",
    "MS02": "Refus du débiteur",
    "MS03": "Motif non communiqué par la banque",
    "RC01": "BIC incorrect",
    "RR01": "Identification du compte ou du débiteur manquante",
    "RR02": "Nom ou adresse du débiteur manquant",
    "RR03": "Nom ou adresse du créancier manquant",
    "RR04": "Motif réglementaire",
    "SL01": "Service spécifique de la banque du débiteur",
}
REJECT_COLUMNS = ("end_to_end_id", "code_motif", "date_rejet")
REJECT_FEE_LABEL = "Frais de rejet de prélèvement"
REJECT_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")
CODE_PATTERN = re.compile(r"[A-Z0-9]{4}")


class SepaError(Exception):
    """A refused SEPA operation (French message); `field` names the form field it concerns, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class RejectFileError(SepaError):
    """A rejection file refused whole: `errors` lists every problem found, with its line number."""

    def __init__(self, errors: list[str]):
        super().__init__("Fichier refusé, aucun rejet n'a été enregistré.", field="file")
        self.errors = errors


# --- Configuration ----------------------------------------------------------------------------


def reject_fee() -> Decimal:
    fee = Decimal(str(settings.SEPA_REJECT_FEE))
    if fee < 0 or fee != fee.quantize(Decimal("0.01")):
        raise SepaError(f"Configuration SEPA invalide : frais de rejet « {fee} ».")
    return fee


def creditor_id_is_valid(value: str) -> bool:
    """The ICS check digits (EPC262-08): ISO 7064 mod 97-10 over the national id, country code and digits,
    the 3-character creditor business code left out."""
    match = re.fullmatch(r"([A-Z]{2})(\d{2})([A-Z0-9]{3})([A-Z0-9]{1,28})", value)
    if not match:
        return False
    country, digits, _, national = match.groups()
    number = "".join(str(int(char, 36)) for char in national + country + digits)
    return int(number) % 97 == 1


def creditor() -> dict:
    """The landlord's creditor identity, checked: SepaError when the configuration is wrong."""
    raw = settings.SEPA_CREDITOR
    try:
        config = {
            "name": raw["name"].strip(),
            "iban": IBAN(raw["iban"]).compact,
            "bic": BIC(raw["bic"]).compact,
            "creditor_id": raw["creditor_id"].replace(" ", "").upper(),
        }
    except (KeyError, iban_errors.SchwiftyException) as exc:
        raise SepaError(f"Configuration SEPA du créancier invalide (SEPA_CREDITOR) : {exc}.") from exc
    if not config["name"]:
        raise SepaError("Configuration SEPA du créancier invalide (SEPA_CREDITOR) : nom manquant.")
    if not creditor_id_is_valid(config["creditor_id"]):
        raise SepaError(
            f"Configuration SEPA du créancier invalide (SEPA_CREDITOR) : identifiant créancier "
            f"« {config['creditor_id']} » incorrect."
        )
    return config


# --- Mandates ---------------------------------------------------------------------------------

_IBAN_MESSAGES = {
    iban_errors.InvalidChecksumDigits: "clé de contrôle incorrecte",
    iban_errors.InvalidBBANChecksum: "clé RIB incorrecte",
    iban_errors.InvalidLength: "longueur incorrecte pour ce pays",
    iban_errors.InvalidCountryCode: "code pays inconnu",
    iban_errors.InvalidStructure: "caractères ou structure non valides",
    iban_errors.InvalidBankCode: "code banque inconnu",
    iban_errors.InvalidBranchCode: "code guichet incorrect",
    iban_errors.InvalidAccountCode: "numéro de compte incorrect",
}


def _reason(exc: Exception, messages: dict) -> str:
    for kind, message in messages.items():
        if isinstance(exc, kind):
            return message
    return "format non reconnu"


def normalise_iban(value: str) -> str:
    """The IBAN in compact upper case; SepaError "IBAN invalide : …" otherwise."""
    text = (value or "").strip()
    if not text:
        raise SepaError("IBAN invalide : saisissez l'IBAN du compte à prélever.", field="iban")
    try:
        iban = IBAN(text, validate_bban=True)
    except iban_errors.SchwiftyException as exc:
        raise SepaError(f"IBAN invalide : {_reason(exc, _IBAN_MESSAGES)}.", field="iban") from exc
    if not iban.in_sepa_zone:
        raise SepaError("IBAN invalide : ce pays n'appartient pas à la zone SEPA.", field="iban")
    return iban.compact


def normalise_bic(value: str, *, iban: str | None = None) -> str:
    """The BIC in compact upper case; when left blank, the one of the IBAN's bank (known registries)."""
    text = (value or "").strip()
    if not text:
        found = IBAN(iban).bic if iban else None
        if found is None:
            raise SepaError("BIC introuvable pour cet IBAN : saisissez-le.", field="bic")
        return found.compact
    try:
        return BIC(text).compact
    except iban_errors.SchwiftyException as exc:
        reason = "longueur incorrecte (8 ou 11 caractères)" if isinstance(exc, iban_errors.InvalidLength) else None
        reason = reason or ("code pays inconnu" if isinstance(exc, iban_errors.InvalidCountryCode) else None)
        raise SepaError(f"BIC invalide : {reason or 'format non reconnu'}.", field="bic") from exc


def check_rum(value: str) -> str:
    rum = (value or "").strip()
    if not REFERENCE_PATTERN.fullmatch(rum):
        raise SepaError(
            "RUM invalide : 35 caractères au plus, lettres, chiffres et / - ? : ( ) . , ' + seulement.", field="rum"
        )
    return rum


def _reference_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9/?:().,'+-]", "-", text)


def default_rum(account: Account) -> str:
    """LOC-<lease number>-<n>, n the account's next mandate number not yet used."""
    prefix = f"LOC-{_reference_part(account.lease.number)}-"
    n = account.mandates.count() + 1
    while SepaMandate.objects.filter(rum=f"{prefix}{n}").exists():
        n += 1
    return f"{prefix}{n}"


def active_mandate(account: Account) -> SepaMandate | None:
    return account.mandates.filter(revoked_on__isnull=True).order_by("-signed_on", "-pk").first()


def register_mandate(
    *, account: Account, rum: str, signed_on: date, debtor_name: str, iban: str, bic: str = "", today: date
) -> SepaMandate:
    """Register the account's SEPA mandate; the account's active mandate, if any, is revoked today.

    One transaction with the account row locked (one active mandate per account). IBAN and BIC are
    checked and stored in compact upper case; a blank BIC is taken from the IBAN's bank.
    Raises SepaError (with the field concerned) on a used or malformed RUM, a signature in the future,
    a missing name, a bad IBAN or BIC.
    """
    rum = check_rum(rum)
    if signed_on > today:
        raise SepaError("La date de signature ne peut pas être dans le futur.", field="signed_on")
    debtor_name = (debtor_name or "").strip()
    if not debtor_name:
        raise SepaError("Saisissez le nom du titulaire du compte.", field="debtor_name")
    if len(debtor_name) > 70:
        raise SepaError("Le nom du titulaire est limité à 70 caractères.", field="debtor_name")
    iban = normalise_iban(iban)
    bic = normalise_bic(bic, iban=iban)
    used = SepaError(f"La RUM « {rum} » est déjà utilisée par un autre mandat.", field="rum")
    if SepaMandate.objects.filter(rum=rum).exists():
        raise used
    try:
        with transaction.atomic():
            locked = Account.objects.select_for_update().get(pk=account.pk)
            SepaMandate.objects.filter(account=locked, revoked_on__isnull=True).update(revoked_on=today)
            return SepaMandate.objects.create(
                account=locked, rum=rum, signed_on=signed_on, debtor_name=debtor_name, iban=iban, bic=bic
            )
    except IntegrityError:
        # Two registrations of the same RUM at once: the unique index let one through.
        raise used from None


# --- Collection -------------------------------------------------------------------------------


def check_due_date(due_on: date, today: date) -> None:
    if due_on <= today:
        raise SepaError("La date d'échéance doit être postérieure à aujourd'hui.", field="due_on")
    latest = today + timedelta(days=MAX_DAYS_AHEAD)
    if due_on > latest:
        raise SepaError(
            f"Une remise se fait au plus {MAX_DAYS_AHEAD} jours avant l'échéance : au plus tard le {latest:%d/%m/%Y}.",
            field="due_on",
        )


def collectable_mandates():
    """Active mandates whose account owes money: what a collection made now would debit."""
    return SepaMandate.objects.filter(revoked_on__isnull=True, account__balance__gt=0)


def end_to_end_id(mandate: SepaMandate, due_on: date) -> str:
    # One collection per due date and one debit per account in it: unique, and readable on the bank's listings.
    return f"LOC-{due_on:%Y%m%d}-{_reference_part(mandate.account.lease.number)}"[:35]


def collect_direct_debits(*, due_on: date, today: date, by=None) -> DirectDebitRun:
    """Debit every account with an active mandate and a positive balance, for `due_on`; returns the run.

    Each debit takes the account's balance (what is due), is booked at once as a direct-debit payment
    received on the due date (docs/sepa.md), and goes into the pain.008.001.02 file stored on the run,
    validated against the XSD. The first debit of a mandate is FRST, the next ones RCUR.
    All in one transaction, the accounts locked. Raises SepaError when the due date is not within the
    next 14 days, was already collected, when nothing is to be collected or the configuration is wrong.
    """
    check_due_date(due_on, today)
    config = creditor()
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Two biller clicks at once must not both pass the "already collected" check below.
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [COLLECTION_LOCK_NAMESPACE, due_on.toordinal()])
        if DirectDebitRun.objects.filter(due_on=due_on).exists():
            raise SepaError(
                f"L'échéance du {due_on:%d/%m/%Y} a déjà été prélevée : une échéance ne se prélève qu'une fois.",
                field="due_on",
            )
        account_ids = list(collectable_mandates().values_list("account_id", flat=True))
        # Locked in id order; the balances read now are those the debits take.
        accounts = {
            a.pk: a
            for a in Account.objects.select_for_update().filter(pk__in=account_ids, balance__gt=0).order_by("pk")
        }
        mandates = []
        for mandate in (
            SepaMandate.objects.filter(account_id__in=accounts, revoked_on__isnull=True)
            .select_related("account__lease")
            .order_by("account_id", "-signed_on", "-pk")
        ):
            if not mandates or mandates[-1].account_id != mandate.account_id:  # the latest one per account
                mandates.append(mandate)
        if not mandates:
            raise SepaError("Aucun compte à prélever : aucun mandat actif sur un compte débiteur.", field="due_on")

        sdd = SepaDD(
            {
                "name": config["name"],
                "IBAN": config["iban"],
                "BIC": config["bic"],
                "batch": True,
                "creditor_id": config["creditor_id"],
                "currency": "EUR",
                "instrument": "CORE",
            },
            schema=SCHEMA,
        )
        run = DirectDebitRun.objects.create(due_on=due_on, message_id=sdd.msg_id, created_by=by, xml="")
        total = ZERO
        for mandate in mandates:
            account = accounts[mandate.account_id]
            amount = account.balance
            e2e = end_to_end_id(mandate, due_on)
            try:
                # The landlord books a direct debit as received on its due date, when the file is made:
                # record_payment refuses future dates, so "today" is the due date for this booking only.
                payment = record_payment(
                    account=account,
                    amount=amount,
                    received_on=due_on,
                    method=PaymentMethod.DIRECT_DEBIT,
                    today=due_on,
                    reference=e2e,
                    by=by,
                )
            except PaymentError as exc:
                raise SepaError(f"Bail {account.lease.number} : {exc}") from exc
            DirectDebit.objects.create(
                run=run, mandate=mandate, amount=amount, sequence=mandate.sequence, end_to_end_id=e2e, payment=payment
            )
            sdd.add_payment(
                {
                    "name": mandate.debtor_name,
                    "IBAN": mandate.iban,
                    "BIC": mandate.bic,
                    "amount": int(amount * 100),  # cents; the amount has two decimals
                    "type": mandate.sequence,
                    "collection_date": due_on,
                    "mandate_id": mandate.rum,
                    "mandate_date": mandate.signed_on,
                    "description": f"Loyer et charges bail {account.lease.number} echeance du {due_on:%d/%m/%Y}",
                    "endtoend_id": e2e,
                }
            )
            if mandate.first_collected_on is None:
                mandate.first_collected_on = due_on
                mandate.save(update_fields=["first_collected_on"])
            total += amount
        try:
            run.xml = sdd.export(validate=True).decode()
        except SepaXmlValidationError as exc:
            raise SepaError("Le fichier de prélèvement produit n'est pas conforme au schéma pain.008.001.02.") from exc
        run.count = len(mandates)
        run.total = total
        run.save(update_fields=["xml", "count", "total"])
    return run


# --- Rejections (R-transactions) --------------------------------------------------------------


def reject_reason(code: str) -> str:
    return REJECT_REASONS.get(code, "Motif non répertorié")


@dataclass(frozen=True)
class RejectLine:
    line_no: int
    end_to_end_id: str
    code: str
    rejected_on: date


@dataclass
class RejectReport:
    applied: list[tuple[int, DirectDebit]] = field(default_factory=list)
    already: list[tuple[int, DirectDebit]] = field(default_factory=list)
    unknown: list[tuple[int, str]] = field(default_factory=list)


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")  # spreadsheet exports on Windows


def _parse_day(text: str) -> date | None:
    for fmt in REJECT_DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time zone
        except ValueError:
            continue
    return None


def parse_rejections(content: bytes, *, today: date) -> list[RejectLine]:
    """The lines of a rejection file (docs/sepa.md); RejectFileError listing every bad line otherwise."""
    reader = csv.reader(io.StringIO(_decode(content)), delimiter=";")
    header = next(reader, None)
    columns = tuple((name or "").strip().lower() for name in header or ())
    if columns != REJECT_COLUMNS:
        raise RejectFileError(
            [f"Ligne 1 : colonnes attendues « {';'.join(REJECT_COLUMNS)} », trouvées « {';'.join(columns)} »."]
        )
    lines, errors = [], []
    for row in reader:
        line_no = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(REJECT_COLUMNS):
            errors.append(f"Ligne {line_no} : {len(row)} colonne(s) au lieu de {len(REJECT_COLUMNS)}.")
            continue
        e2e, code, day = (cell.strip() for cell in row)
        code = code.upper()
        rejected_on = _parse_day(day)
        problems = []
        if not e2e or len(e2e) > 35:
            problems.append("référence de bout en bout (end_to_end_id) manquante ou trop longue")
        if not CODE_PATTERN.fullmatch(code):
            problems.append(f"code motif « {code} » invalide (4 lettres ou chiffres, par exemple AM04)")
        if rejected_on is None:
            problems.append(f"date de rejet « {day} » invalide (jj/mm/aaaa)")
        elif rejected_on > today:
            problems.append(f"date de rejet {rejected_on:%d/%m/%Y} dans le futur")
        if problems:
            errors.append(f"Ligne {line_no} : " + " ; ".join(problems) + ".")
        else:
            lines.append(RejectLine(line_no, e2e, code, rejected_on))
    if errors:
        raise RejectFileError(errors)
    if not lines:
        raise RejectFileError(["Le fichier ne contient aucune ligne de rejet."])
    return lines


def reject_debit(*, debit: DirectDebit, code: str, rejected_on: date, by=None) -> None:
    """Record the bank's rejection of a collected debit (the caller holds the debit's row lock).

    The payment's ledger entry is reversed (never altered) and its allocations are removed, so the
    notices it settled are open again and get no quittance; the rejection fee is charged and the
    account is flagged for the arrears team. A rejected FRST debit leaves its mandate FRST again.
    """
    if debit.status != DirectDebitStatus.COLLECTED:
        raise SepaError(f"Le prélèvement {debit.end_to_end_id} est déjà rejeté.")
    reason = f"rejet {code} ({reject_reason(code)})"
    # A reject reported before settlement is booked on the due date: the reversal never precedes the payment.
    posted_on = max(rejected_on, debit.run.due_on)
    account = Account.objects.select_for_update().get(pk=debit.mandate.account_id)
    if debit.payment_id:
        entry = LedgerEntry.objects.get(payment_id=debit.payment_id, kind=EntryKind.PAYMENT)
        try:
            reverse_entry(entry=entry, posted_on=posted_on, reason=reason, by=by)
        except LedgerError as exc:
            raise SepaError(f"Prélèvement {debit.end_to_end_id} : {exc}") from exc
        # The allocation says which notices the money settled; the money came back, so it settles none.
        # The ledger keeps the facts (payment, reversal, fee): allocations are not ledger records.
        PaymentAllocation.objects.filter(payment_id=debit.payment_id).delete()
    post_entries(
        account=account,
        entries=[NewEntry(posted_on=posted_on, kind=EntryKind.FEE, label=REJECT_FEE_LABEL, amount=reject_fee())],
        by=by,
    )
    Account.objects.filter(pk=account.pk).update(flagged_for_arrears=True)
    debit.status = DirectDebitStatus.REJECTED
    debit.reject_code = code
    debit.rejected_on = rejected_on
    debit.save(update_fields=["status", "reject_code", "rejected_on"])
    mandate = debit.mandate
    if debit.sequence == "FRST" and not mandate.debits.exclude(status=DirectDebitStatus.REJECTED).exists():
        # The first debit never went through: the next one is a first debit again.
        mandate.first_collected_on = None
        mandate.save(update_fields=["first_collected_on"])


def import_rejections(*, content: bytes, today: date, by=None) -> RejectReport:
    """Apply a rejection file (docs/sepa.md) in one transaction; returns what was done, line by line.

    A malformed file is refused whole (RejectFileError). A debit already rejected is left as it is
    (importing the same file twice changes nothing); an unknown end_to_end_id is reported.
    """
    lines = parse_rejections(content, today=today)
    report = RejectReport()
    with transaction.atomic():
        debits = {
            d.end_to_end_id: d
            for d in DirectDebit.objects.select_for_update(of=("self",))
            .select_related("run", "mandate__account__lease")
            .filter(end_to_end_id__in={line.end_to_end_id for line in lines})
        }
        for line in lines:
            debit = debits.get(line.end_to_end_id)
            if debit is None:
                report.unknown.append((line.line_no, line.end_to_end_id))
            elif debit.status == DirectDebitStatus.REJECTED:
                report.already.append((line.line_no, debit))
            else:
                try:
                    reject_debit(debit=debit, code=line.code, rejected_on=line.rejected_on, by=by)
                except SepaError as exc:
                    raise RejectFileError([f"Ligne {line.line_no} : {exc}"]) from exc
                report.applied.append((line.line_no, debit))
    return report
