"""SEPA direct debit: mandates, collections (pain.008.001.02) and the bank's rejections."""

import threading
import time
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sepaxml
import xmlschema
from django.db import connection, connections
from django.urls import reverse

from billing import sepa
from billing.batch import start_run
from billing.ledger import reconcile
from billing.models import (
    Account,
    DirectDebit,
    DirectDebitRun,
    DirectDebitStatus,
    EntryKind,
    LedgerEntry,
    PaymentAllocation,
    SepaMandate,
)
from billing.sepa import (
    RejectFileError,
    SepaError,
    collect_direct_debits,
    creditor,
    creditor_id_is_valid,
    default_rum,
    import_rejections,
    register_mandate,
)
from billing.services import open_notices

DATA = Path(__file__).parent / "data" / "sepa"
XSD = Path(sepaxml.__file__).parent / "schemas" / "pain.008.001.02.xsd"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}

IBAN = "FR7630006000011234567890189"
SIGNED = date(2026, 11, 2)
BEFORE_DUE = date(2026, 11, 25)  # the day the file is made
DUE = date(2026, 12, 5)
AFTER_REJECT = date(2026, 12, 10)


def _register(account, **kw):
    values = {
        "rum": default_rum(account),
        "signed_on": SIGNED,
        "debtor_name": "Hélène Durandal",
        "iban": IBAN,
        "bic": "AGRIFRPP",
        "today": BEFORE_DUE,
    }
    values.update(kw)
    return register_mandate(account=account, **values)


def _file(name: str, debit=None) -> bytes:
    text = (DATA / name).read_text()
    return text.replace("{e2e}", debit.end_to_end_id if debit else "X").encode()


@pytest.fixture
def mandate(world):
    return _register(world["A"].account)


@pytest.fixture
def collected(world, mandate, biller):
    """Agency A's account (297,05 € due) collected for the 5 December 2026 due date."""
    run = collect_direct_debits(due_on=DUE, today=BEFORE_DUE, by=biller)
    return run.debits.select_related("payment", "mandate").get()


# --- Mandates ---------------------------------------------------------------------------------


def test_mandate_is_stored_normalised_and_starts_first(world):
    account = world["A"].account
    mandate = _register(account, iban=" fr76 3000 6000 0112 3456 7890 189 ", bic="agrifrpp")
    assert mandate.rum == f"LOC-{account.lease.number}-1"
    assert (mandate.iban, mandate.bic) == (IBAN, "AGRIFRPP")
    assert mandate.sequence == "FRST" and mandate.revoked_on is None
    assert default_rum(account) == f"LOC-{account.lease.number}-2"


def test_blank_bic_is_taken_from_the_iban(world):
    assert _register(world["A"].account, bic="").bic == "AGRIFRPPXXX"


def test_a_new_mandate_revokes_the_active_one(world):
    account = world["A"].account
    first = _register(account)
    second = _register(account, rum="LOC-PAPIER-0042", iban="FR1420041010050500013M02606", bic="PSSTFRPPPAR")
    first.refresh_from_db()
    assert first.revoked_on == BEFORE_DUE
    assert list(account.mandates.filter(revoked_on__isnull=True)) == [second]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"iban": "FR7630006000011234567890188"}, "iban", "IBAN invalide : clé de contrôle incorrecte."),
        ({"iban": "FR76300060000112345678901"}, "iban", "IBAN invalide : longueur incorrecte pour ce pays."),
        ({"iban": "FR76 3000 6000 01!2"}, "iban", "IBAN invalide : caractères ou structure non valides."),
        ({"bic": "AGRIFRP"}, "bic", "BIC invalide"),
        ({"signed_on": date(2026, 11, 26)}, "signed_on", "dans le futur"),
        ({"rum": "LOC 1"}, "rum", "RUM invalide"),
        ({"debtor_name": "  "}, "debtor_name", "titulaire"),
    ],
)
def test_bad_mandates_are_refused_in_french(world, changes, field, message):
    with pytest.raises(SepaError, match=message) as caught:
        _register(world["A"].account, **changes)
    assert caught.value.field == field
    assert not SepaMandate.objects.exists()


def test_a_used_rum_is_refused_and_the_active_mandate_kept(world, mandate):
    with pytest.raises(SepaError, match="déjà utilisée"):
        _register(world["B"].account, rum=mandate.rum)
    mandate.refresh_from_db()
    assert mandate.revoked_on is None and SepaMandate.objects.count() == 1


# --- Collection -------------------------------------------------------------------------------


def test_collection_debits_the_balance_and_books_it_on_the_due_date(world, collected, biller):
    account = world["A"].account
    account.refresh_from_db()
    assert (collected.amount, collected.sequence, collected.status) == (Decimal("297.05"), "FRST", "collected")
    assert collected.end_to_end_id == f"LOC-20261205-{account.lease.number}"
    payment = collected.payment
    assert (payment.amount, payment.received_on, payment.method) == (Decimal("297.05"), DUE, "direct_debit")
    assert account.balance == Decimal("0.00") and open_notices(account) == []
    collected.mandate.refresh_from_db()
    assert collected.mandate.first_collected_on == DUE and collected.mandate.sequence == "RCUR"
    run = collected.run
    assert (run.count, run.total, run.created_by) == (1, Decimal("297.05"), biller)
    assert not DirectDebit.objects.filter(mandate__account=world["B"].account).exists()  # no mandate in B
    assert reconcile() == []


def test_the_file_is_a_valid_pain_008(world, collected):
    run = collected.run
    xmlschema.XMLSchema(XSD).validate(run.xml)
    root = ET.fromstring(run.xml.encode())  # noqa: S314 - the file we just produced
    assert root.findtext(".//p:GrpHdr/p:MsgId", namespaces=NS) == run.message_id
    assert root.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=NS) == "297.05"
    info = root.find(".//p:PmtInf", NS)
    assert info.findtext("p:PmtTpInf/p:SeqTp", namespaces=NS) == "FRST"
    assert info.findtext("p:PmtTpInf/p:LclInstrm/p:Cd", namespaces=NS) == "CORE"
    assert info.findtext("p:ReqdColltnDt", namespaces=NS) == "2026-12-05"
    assert info.findtext("p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id", namespaces=NS) == creditor()["creditor_id"]
    tx = info.find("p:DrctDbtTxInf", NS)
    assert tx.findtext("p:InstdAmt", namespaces=NS) == "297.05"
    assert tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS) == collected.end_to_end_id
    assert tx.findtext(".//p:MndtId", namespaces=NS) == collected.mandate.rum
    assert tx.findtext(".//p:DtOfSgntr", namespaces=NS) == "2026-11-02"
    assert tx.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == IBAN
    assert tx.findtext(".//p:DbtrAgt//p:BIC", namespaces=NS) == "AGRIFRPP"
    assert "297.05" in run.xml and collected.mandate.rum in run.xml and IBAN in run.xml


def test_the_next_collection_is_recurring(world, collected, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        start_run(period=date(2026, 12, 1), today=BEFORE_DUE)  # December's notice: 497,05 €
    run = collect_direct_debits(due_on=date(2027, 1, 5), today=date(2026, 12, 28))
    debit = run.debits.get()
    assert (debit.sequence, debit.amount, debit.mandate_id) == ("RCUR", Decimal("497.05"), collected.mandate_id)
    xmlschema.XMLSchema(XSD).validate(run.xml)
    assert "<SeqTp>RCUR</SeqTp>" in run.xml


def test_the_same_due_date_is_collected_once(world, collected):
    _register(world["B"].account)  # even with a new account to debit
    with pytest.raises(SepaError, match="déjà été prélevée"):
        collect_direct_debits(due_on=DUE, today=BEFORE_DUE)
    assert DirectDebitRun.objects.count() == 1 and DirectDebit.objects.count() == 1


@pytest.mark.parametrize(
    ("due_on", "message"),
    [(BEFORE_DUE, "postérieure à aujourd'hui"), (date(2026, 12, 10), "au plus tard le 09/12/2026")],
)
def test_due_date_must_be_within_the_next_fourteen_days(world, mandate, due_on, message):
    with pytest.raises(SepaError, match=message):
        collect_direct_debits(due_on=due_on, today=BEFORE_DUE)
    assert not DirectDebitRun.objects.exists()


def test_nothing_to_collect_creates_no_run(world):
    with pytest.raises(SepaError, match="Aucun compte à prélever"):
        collect_direct_debits(due_on=DUE, today=BEFORE_DUE)
    assert not DirectDebitRun.objects.exists()


def test_a_bad_creditor_configuration_is_refused_and_nothing_saved(world, mandate, settings):
    settings.SEPA_CREDITOR = {**creditor(), "creditor_id": "FR12ZZZ123456"}  # wrong check digits
    with pytest.raises(SepaError, match="identifiant créancier"):
        collect_direct_debits(due_on=DUE, today=BEFORE_DUE)
    assert not DirectDebitRun.objects.exists()
    assert creditor_id_is_valid("FR72ZZZ123456") and not creditor_id_is_valid("FR12ZZZ123456")


def _advisory_lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_collections_of_a_due_date_make_one(world, mandate, monkeypatch):
    """A double click: the second collection waits for the first, then finds the due date collected."""
    locked, release = threading.Event(), threading.Event()
    real = sepa.collectable_mandates

    def held():
        # Inside the first collection's transaction, after its "already collected" check: hold it open.
        if not locked.is_set():
            locked.set()
            assert release.wait(30)
        return real()

    monkeypatch.setattr(sepa, "collectable_mandates", held)
    results: list = [None, None]

    def collect(i: int) -> None:
        try:
            results[i] = collect_direct_debits(due_on=DUE, today=BEFORE_DUE)
        except SepaError as exc:
            results[i] = exc
        finally:
            connections.close_all()

    first = threading.Thread(target=collect, args=(0,))
    first.start()
    assert locked.wait(20)
    second = threading.Thread(target=collect, args=(1,))
    second.start()
    try:
        deadline = time.monotonic() + 20
        while not _advisory_lock_waiters():
            assert time.monotonic() < deadline, "the second collection never waited on the first"
            time.sleep(0.02)
    finally:
        release.set()
        first.join(30)
        second.join(30)
    assert isinstance(results[0], DirectDebitRun)
    assert isinstance(results[1], SepaError) and "déjà été prélevée" in str(results[1])
    assert DirectDebitRun.objects.count() == 1 and DirectDebit.objects.count() == 1


# --- Rejections -------------------------------------------------------------------------------


def test_a_rejection_reverses_the_payment_charges_the_fee_and_flags_the_account(world, collected):
    account = world["A"].account
    payment_entry = LedgerEntry.objects.get(payment=collected.payment, kind=EntryKind.PAYMENT)
    report = import_rejections(content=_file("rejets.csv", collected), today=AFTER_REJECT)
    assert [(line, debit.pk) for line, debit in report.applied] == [(2, collected.pk)]
    account.refresh_from_db()
    assert account.balance == Decimal("303.55")  # 297,05 € back + 6,50 € fee
    assert account.flagged_for_arrears
    collected.refresh_from_db()
    assert (collected.status, collected.reject_code, collected.rejected_on) == ("rejected", "AM04", date(2026, 12, 8))
    reversal = payment_entry.reversed_by
    assert (reversal.posted_on, reversal.debit, reversal.kind) == (date(2026, 12, 8), Decimal("297.05"), "reversal")
    assert "AM04 (Provision insuffisante)" in reversal.label
    fee = account.entries.get(kind=EntryKind.FEE)
    assert (fee.debit, fee.posted_on) == (Decimal("6.50"), reversal.posted_on)
    assert fee.label == "Frais de rejet de prélèvement"
    unchanged = LedgerEntry.objects.get(pk=payment_entry.pk)
    assert (unchanged.credit, unchanged.posted_on) == (Decimal("297.05"), DUE)
    # The bounced money settles nothing: the notice is open again (no quittance for it).
    assert not PaymentAllocation.objects.filter(payment=collected.payment).exists()
    assert open_notices(account) == [world["A"].notice]
    collected.mandate.refresh_from_db()
    assert collected.mandate.sequence == "FRST"  # its first debit never went through
    assert reconcile() == []


def test_importing_the_same_rejection_twice_applies_it_once(world, collected):
    content = _file("rejets.csv", collected)
    import_rejections(content=content, today=AFTER_REJECT)
    entries = LedgerEntry.objects.count()
    report = import_rejections(content=content, today=AFTER_REJECT)
    assert report.applied == [] and [line for line, _ in report.already] == [2]
    assert LedgerEntry.objects.count() == entries
    assert Account.objects.get(pk=world["A"].account.pk).balance == Decimal("303.55")


def test_an_unknown_reference_is_reported_with_its_line_number(world, collected):
    report = import_rejections(content=_file("rejets-reference-inconnue.csv", collected), today=AFTER_REJECT)
    assert report.unknown == [(2, "LOC-20261205-INCONNU")]
    assert [line for line, _ in report.applied] == [3]
    collected.refresh_from_db()
    assert (collected.reject_code, collected.rejected_on) == ("MD06", date(2026, 12, 9))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("mauvaises-colonnes.csv", "Ligne 1 : colonnes attendues « end_to_end_id;code_motif;date_rejet »"),
        ("ligne-invalide.csv", "Ligne 3 : code motif « AM4 » invalide"),
    ],
)
def test_a_malformed_file_is_refused_whole(world, collected, name, message):
    with pytest.raises(RejectFileError) as caught:
        import_rejections(content=_file(name, collected), today=AFTER_REJECT)
    assert any(error.startswith(message) for error in caught.value.errors), caught.value.errors
    collected.refresh_from_db()
    assert collected.status == DirectDebitStatus.COLLECTED
    assert Account.objects.get(pk=world["A"].account.pk).balance == Decimal("0.00")
    assert not LedgerEntry.objects.filter(kind__in=[EntryKind.REVERSAL, EntryKind.FEE]).exists()


def test_a_rejection_dated_in_the_future_is_refused(world, collected):
    with pytest.raises(RejectFileError, match="refusé") as caught:
        import_rejections(content=_file("rejets.csv", collected), today=date(2026, 12, 7))
    assert caught.value.errors == ["Ligne 2 : date de rejet 08/12/2026 dans le futur."]


def test_the_rejection_fee_comes_from_the_settings(world, collected, settings):
    settings.SEPA_REJECT_FEE = Decimal("8.00")
    import_rejections(content=_file("rejets.csv", collected), today=AFTER_REJECT)
    assert Account.objects.get(pk=world["A"].account.pk).balance == Decimal("305.05")


# --- Pages ------------------------------------------------------------------------------------


def test_agent_registers_a_mandate_from_the_page(client, world, agent, time_machine):
    time_machine.move_to("2026-11-25 10:00:00+01:00")
    client.force_login(agent)
    account = world["A"].account
    url = reverse("billing:mandate_create", args=[account.pk])
    form = client.get(url).context["form"]
    assert form.initial["rum"] == f"LOC-{account.lease.number}-1"
    data = {"rum": form.initial["rum"], "signed_on": "02/11/2026", "debtor_name": "Hélène Durandal"}
    response = client.post(url, {**data, "iban": "FR76 3000 6000 0112 3456 7890 189", "bic": ""})
    assert response.status_code == 302
    assert response["Location"] == reverse("billing:account_mandates", args=[account.pk])
    mandate = SepaMandate.objects.get(account=account)
    assert (mandate.iban, mandate.bic, mandate.signed_on) == (IBAN, "AGRIFRPPXXX", SIGNED)
    page = client.get(response["Location"]).content.decode()
    assert mandate.rum in page and IBAN in page and "Actif" in page


def test_a_malformed_iban_is_refused_beside_the_field(client, world, agent, time_machine):
    time_machine.move_to("2026-11-25 10:00:00+01:00")
    client.force_login(agent)
    url = reverse("billing:mandate_create", args=[world["A"].account.pk])
    data = {"rum": "LOC-X-1", "signed_on": "02/11/2026", "debtor_name": "Hélène Durandal"}
    response = client.post(url, {**data, "iban": "FR7630006000011234567890188", "bic": ""})
    assert response.status_code == 400
    assert response.context["form"].errors["iban"] == ["IBAN invalide : clé de contrôle incorrecte."]
    assert 'id="error_1_id_iban"' in response.content.decode()
    assert not SepaMandate.objects.exists()


def test_agent_cannot_reach_another_agency_nor_the_collections(client, world, agent, collected):
    client.force_login(agent)
    other = world["B"].account.pk
    assert client.get(reverse("billing:account_mandates", args=[other])).status_code == 404
    data = {"rum": "LOC-B-1", "signed_on": "02/11/2026", "debtor_name": "Z", "iban": IBAN, "bic": ""}
    assert client.post(reverse("billing:mandate_create", args=[other]), data).status_code == 404
    assert not SepaMandate.objects.filter(account_id=other).exists()
    for url in (
        reverse("billing:sepa_index"),
        reverse("billing:sepa_rejects"),
        reverse("billing:sepa_run_detail", args=[collected.run_id]),
        reverse("billing:sepa_run_xml", args=[collected.run_id]),
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("billing:sepa_index"), {"due_on": "05/01/2027"}).status_code == 403


def test_biller_collects_downloads_and_cannot_collect_twice(
    client, world, biller, mandate, time_machine, django_assert_max_num_queries
):
    time_machine.move_to("2026-11-25 10:00:00+01:00")
    client.force_login(biller)
    _register(world["B"].account)
    index = client.get(reverse("billing:sepa_index")).content.decode()
    assert "594,10\xa0€" in index  # 2 × 297,05 € waiting for a collection
    response = client.post(reverse("billing:sepa_index"), {"due_on": "05/12/2026"})
    run = DirectDebitRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("billing:sepa_run_detail", args=[run.pk])
    with django_assert_max_num_queries(12):
        page = client.get(response["Location"]).content.decode()
    assert "594,10\xa0€" in page and mandate.rum in page and "FRST" in page
    download = client.get(reverse("billing:sepa_run_xml", args=[run.pk]))
    assert download["Content-Disposition"] == f'attachment; filename="prelevements-2026-12-05-{run.pk}.xml"'
    assert download["Content-Type"].startswith("application/xml")
    assert b'<InstdAmt Ccy="EUR">297.05</InstdAmt>' in download.content
    again = client.post(reverse("billing:sepa_index"), {"due_on": "05/12/2026"})
    assert again.status_code == 400 and "déjà été prélevée" in again.content.decode()
    assert DirectDebitRun.objects.count() == 1
    with django_assert_max_num_queries(12):
        assert client.get(reverse("billing:sepa_index")).status_code == 200


def test_biller_imports_rejections_from_the_page(client, world, biller, collected, time_machine):
    time_machine.move_to("2026-12-10 10:00:00+01:00")
    client.force_login(biller)
    url = reverse("billing:sepa_rejects")
    upload = _file("rejets-reference-inconnue.csv", collected)
    response = client.post(url, {"file": _upload("rejets.csv", upload)})
    body = response.content.decode()
    assert response.status_code == 200
    assert "1 rejet enregistré" in body and "Ligne 2 : LOC-20261205-INCONNU ne correspond à aucun prélèvement" in body
    assert "MD06 — Remboursement demandé par le débiteur" in body
    refused = client.post(url, {"file": _upload("autre.csv", _file("mauvaises-colonnes.csv", collected))})
    assert refused.status_code == 400 and "Fichier refusé" in refused.content.decode()
    notice_url = reverse("billing:quittance_pdf", args=[world["A"].notice.pk])
    assert client.get(notice_url).status_code == 409  # the bounced payment settles nothing


def _upload(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_no_receipt_for_a_bounced_payment(client, world, agent, collected):
    import_rejections(content=_file("rejets.csv", collected), today=AFTER_REJECT)
    client.force_login(agent)
    response = client.get(reverse("billing:receipt_pdf", args=[collected.payment.pk]))
    assert response.status_code == 409
    assert "aucun reçu ne peut être délivré" in response.content.decode()
