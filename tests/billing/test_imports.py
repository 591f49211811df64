"""Bank and CAF statement imports, their hand resolution, and the accounting export."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from billing.batch import start_run
from billing.imports import (
    ImportRefused,
    LineError,
    attach_bank_line,
    ignore_bank_line,
    import_bank_statement,
    import_caf_statement,
    update_expected_apl,
)
from billing.ledger import reconcile
from billing.models import (
    BankStatement,
    BankStatementLine,
    BenefitSource,
    CafStatement,
    CafStatementLine,
    HousingBenefit,
    ImportLineStatus,
    Payment,
    PaymentAllocation,
    RentNotice,
)
from tenancies import services
from tenancies.roles import Role
from tests.factories import DwellingFactory, HouseholdFactory, UserFactory

DAY = date(2026, 11, 25)
NOW = "2026-11-25 10:00:00+01:00"
NOVEMBER, DECEMBER = date(2026, 11, 1), date(2026, 12, 1)
BANK_HEADER = "date;montant;libellé;référence"
CAF_HEADER = "numero_allocataire;reference_locataire;periode;montant_apl;montant_rls;rappel;indu"


def _csv(header, *lines) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode()


def _file(content: bytes, name: str):
    return SimpleUploadedFile(name, content, content_type="text/csv")


@pytest.fixture
def apl_agent(world):
    """An agent de gestion APL of agency A."""
    return UserFactory(username="apl.a", roles=[Role.AGENT_APL], agencies_list=[world["A"].agency])


def _nothing_saved(payments_before: int):
    assert BankStatement.objects.count() == 0
    assert BankStatementLine.objects.count() == 0
    assert Payment.objects.count() == payments_before
    assert reconcile() == []


# --- Bank statements: matching -----------------------------------------------------------------


def test_credits_citing_a_lease_become_transfers_settling_the_oldest_notice_first(
    world, biller, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        start_run(period=DECEMBER, today=DAY)  # A now owes 297,05 € on November and 497,05 € on December
    a, b = world["A"], world["B"]
    content = _csv(
        BANK_HEADER,
        f"21/11/2026;400,00;VIR SEPA DURANDAL LOYER;{a.lease.number}",
        f"22/11/2026;50,00;VIREMENT LOYER {b.lease.number.lower()} ZYXCANARI;",
    )
    result = import_bank_statement(filename="releve-nov.csv", content=content, today=DAY, by=biller)

    assert result.created
    statement = result.statement
    assert (statement.line_count, statement.matched_count, statement.imported_by) == (2, 2, biller)
    first, second = statement.lines.order_by("line_no")
    assert (first.line_no, first.status, first.account, first.note) == (
        2,
        ImportLineStatus.MATCHED,
        a.account,
        f"Bail {a.lease.number}",
    )
    payment = first.payment
    assert (payment.account, payment.amount, payment.received_on, payment.method, payment.reference) == (
        a.account,
        Decimal("400.00"),
        date(2026, 11, 21),
        "transfer",
        a.lease.number,
    )
    assert payment.idempotency_key == f"bank:{statement.sha256[:32]}:2"
    allocations = [(al.notice.period, al.amount) for al in payment.allocations.order_by("notice__period")]
    assert allocations == [(NOVEMBER, Decimal("297.05")), (DECEMBER, Decimal("102.95"))]
    a.account.refresh_from_db()
    assert a.account.balance == Decimal("394.10")  # 2 × 497,05 − 200,00 − 400,00
    # The bank import works across agencies: B's lease number in the label is found too.
    assert (second.status, second.account, second.payment.amount) == (
        ImportLineStatus.MATCHED,
        b.account,
        Decimal("50.00"),
    )
    assert second.payment.reference == f"VIREMENT LOYER {b.lease.number.lower()} ZYXCANARI"
    assert [(al.notice_id, al.amount) for al in second.payment.allocations.all()] == [(b.notice.pk, Decimal("50.00"))]
    assert reconcile() == []


def test_lines_without_a_usable_lease_wait_in_the_unmatched_queue(world, biller):
    a = world["A"]
    dwelling = DwellingFactory(building=a.building, reference="AAA-LGT-0002", rent=Decimal("380.00"))
    draft = services.lease_create(dwelling=dwelling, household=HouseholdFactory(agency=a.agency), starts_on=DECEMBER)
    content = _csv(
        BANK_HEADER,
        "22/11/2026;-12,50;FRAIS TENUE DE COMPTE;",
        "23/11/2026;100,00;VIR MME INCONNUE;REF 778",
        "23/11/2026;60,00;VIR LOYER;B99999999",
        f"24/11/2026;70,00;VIR LOYER;{draft.number}",
        f"24/11/2026;-497,05;REJET VIREMENT {a.lease.number};",
        f"24/11/2026;1 234,56;VIR {a.lease.number} ET {world['B'].lease.number};",
    )
    before = Payment.objects.count()
    statement = import_bank_statement(filename="releve.csv", content=content, today=DAY, by=biller).statement

    lines = list(statement.lines.order_by("line_no").values_list("line_no", "amount", "status", "account", "note"))
    unmatched = ImportLineStatus.UNMATCHED
    assert lines == [
        (2, Decimal("-12.50"), unmatched, None, "Aucun numéro de bail dans la référence ni le libellé"),
        (3, Decimal("100.00"), unmatched, None, "Aucun numéro de bail dans la référence ni le libellé"),
        (4, Decimal("60.00"), unmatched, None, "Bail B99999999 inconnu"),
        (5, Decimal("70.00"), unmatched, None, f"Le bail {draft.number} n'a pas de compte locataire"),
        (6, Decimal("-497.05"), unmatched, None, f"Débit : à traiter à la main (bail {a.lease.number} cité)"),
        (7, Decimal("1234.56"), unmatched, None, f"Plusieurs baux cités ({a.lease.number}, {world['B'].lease.number})"),
    ]
    assert statement.matched_count == 0
    assert Payment.objects.count() == before


def test_queue_page_lists_unmatched_lines_of_every_statement(
    client, world, biller, time_machine, django_assert_max_num_queries
):
    time_machine.move_to(NOW)
    import_bank_statement(
        filename="r1.csv",
        content=_csv(
            BANK_HEADER, "22/11/2026;-12,50;FRAIS TENUE DE COMPTE;", f"22/11/2026;10,00;VIR;{world['A'].lease.number}"
        ),
        today=DAY,
    )
    import_bank_statement(filename="r2.csv", content=_csv(BANK_HEADER, "23/11/2026;1 100,00;VIR INCONNU;X1"), today=DAY)
    client.force_login(biller)
    with django_assert_max_num_queries(12):
        body = client.get(reverse("billing:bank_line_queue")).content.decode()
    assert "FRAIS TENUE DE COMPTE" in body and "-12,50\xa0€" in body and "22/11/2026" in body
    assert "VIR INCONNU" in body and "1\xa0100,00\xa0€" in body and "r2.csv" in body
    assert "10,00\xa0€" not in body  # the matched line is not in the queue
    assert 'name="action" value="attach"' in body


def test_index_and_statement_pages(client, world, biller, time_machine, django_assert_max_num_queries):
    time_machine.move_to(NOW)
    a = world["A"]
    statement = import_bank_statement(
        filename="releve-nov.csv",
        content=_csv(BANK_HEADER, f"21/11/2026;297,05;VIR;{a.lease.number}", "22/11/2026;-12,50;FRAIS;"),
        today=DAY,
    ).statement
    client.force_login(biller)
    with django_assert_max_num_queries(12):
        index = client.get(reverse("billing:imports")).content.decode()
    assert "releve-nov.csv" in index and "Lignes à traiter (toutes agences)" in index
    url = reverse("billing:bank_statement_detail", args=[statement.pk])
    with django_assert_max_num_queries(14):
        body = client.get(url).content.decode()
    assert "297,05\xa0€" in body and "21/11/2026" in body and f"Bail {a.lease.number}" in body
    assert "Rapprochée" in body and "À traiter" in body
    filtered = client.get(url, {"statut": "unmatched"}).content.decode()
    assert "FRAIS" in filtered and "297,05\xa0€" not in filtered


# --- Bank statements: hand resolution ------------------------------------------------------------


def _unmatched_line(world, line="23/11/2026;100,00;VIR MME INCONNUE;REF 778"):
    statement = import_bank_statement(filename="releve.csv", content=_csv(BANK_HEADER, line), today=DAY).statement
    return statement.lines.get()


def test_resolving_a_line_by_hand_records_the_payment_once(client, world, biller, time_machine):
    time_machine.move_to(NOW)
    a = world["A"]
    line = _unmatched_line(world)
    client.force_login(biller)
    url = reverse("billing:bank_line_resolve", args=[line.pk])
    queue = reverse("billing:bank_line_queue")
    response = client.post(url, {"action": "attach", "lease_number": a.lease.number.lower(), "next": queue})
    assert response.status_code == 302 and response["Location"] == queue

    line.refresh_from_db()
    assert (line.status, line.account) == (ImportLineStatus.RESOLVED, a.account)
    assert line.note.startswith(f"Rattachée au bail {a.lease.number} — Camille Agent, le 25/11/2026")
    assert (line.payment.amount, line.payment.method, line.payment.received_on) == (
        Decimal("100.00"),
        "transfer",
        date(2026, 11, 23),
    )
    assert [(al.notice_id, al.amount) for al in line.payment.allocations.all()] == [(a.notice.pk, Decimal("100.00"))]
    a.account.refresh_from_db()
    assert a.account.balance == Decimal("197.05")

    again = client.post(url, {"action": "attach", "lease_number": a.lease.number})
    assert again.status_code == 400 and "déjà traitée" in again.content.decode()
    assert Payment.objects.filter(account=a.account).count() == 2  # the world's and this one
    assert reconcile() == []


def test_a_line_is_ignored_with_a_reason(client, world, biller, time_machine):
    time_machine.move_to(NOW)
    line = _unmatched_line(world, "22/11/2026;-12,50;FRAIS TENUE DE COMPTE;")
    client.force_login(biller)
    url = reverse("billing:bank_line_resolve", args=[line.pk])
    response = client.post(url, {"action": "ignore", "note": "  "})
    assert response.status_code == 400 and "Indiquez pourquoi la ligne est ignorée." in response.content.decode()
    line.refresh_from_db()
    assert line.status == ImportLineStatus.UNMATCHED

    assert client.post(url, {"action": "ignore", "note": "Frais bancaires"}).status_code == 302
    line.refresh_from_db()
    assert line.status == ImportLineStatus.IGNORED and line.note.startswith("Frais bancaires — ")


@pytest.mark.parametrize(
    ("line", "lease", "error"),
    [
        ("22/11/2026;-12,50;FRAIS;", "A", "Un débit ne devient pas un paiement"),
        ("23/11/2026;100,00;VIR;", "B", "Aucun compte locataire pour le bail"),  # agency B: not the biller's
        ("23/11/2026;100,00;VIR;", "", "Indiquez le n° du bail à créditer."),
    ],
)
def test_refused_hand_resolutions_save_nothing(client, world, biller, time_machine, line, lease, error):
    time_machine.move_to(NOW)
    bank_line = _unmatched_line(world, line)
    client.force_login(biller)
    number = world[lease].lease.number if lease else ""
    before = Payment.objects.count()
    response = client.post(
        reverse("billing:bank_line_resolve", args=[bank_line.pk]), {"action": "attach", "lease_number": number}
    )
    assert response.status_code == 400
    assert error in response.content.decode()
    bank_line.refresh_from_db()
    assert bank_line.status == ImportLineStatus.UNMATCHED and bank_line.payment is None
    assert Payment.objects.count() == before


def test_the_services_refuse_illegal_moves(world):
    debit = _unmatched_line(world, "22/11/2026;-12,50;FRAIS;")
    with pytest.raises(LineError, match="Un débit ne devient pas un paiement"):
        attach_bank_line(line=debit, account=world["A"].account, today=DAY)
    with pytest.raises(LineError, match="Indiquez pourquoi"):
        ignore_bank_line(line=debit, note=" ", today=DAY)
    ignore_bank_line(line=debit, note="Frais", today=DAY)
    with pytest.raises(LineError, match="déjà traitée"):
        ignore_bank_line(line=debit, note="Frais", today=DAY)
    assert debit.status == ImportLineStatus.IGNORED and debit.note == "Frais — le système, le 25/11/2026"


# --- Bank statements: refused files and re-imports ---------------------------------------------------


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("date;montant;libellé", "Ligne 1 : colonnes incorrectes (manquante(s) : reference)"),
        ("date;montant;libellé;référence;solde", "inattendue(s) : solde"),
        ("date,montant,libellé,référence", "séparées par des points-virgules"),
    ],
)
def test_a_file_with_wrong_columns_is_refused(client, world, biller, time_machine, header, message):
    time_machine.move_to(NOW)
    client.force_login(biller)
    before = Payment.objects.count()
    content = _csv(header, f"21/11/2026;297,05;VIR;{world['A'].lease.number}")
    with pytest.raises(ImportRefused, match=message.replace("(", r"\(").replace(")", r"\)")):
        import_bank_statement(filename="r.csv", content=content, today=DAY)
    response = client.post(reverse("billing:imports"), {"file": _file(content, "r.csv")})
    assert response.status_code == 400
    assert "Fichier refusé" in response.content.decode()
    _nothing_saved(before)


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("22/11/2026;12.50;VIR;", "Ligne 3 : montant « 12.50 » invalide : attendu par exemple 1 234,56 ou -45,00"),
        ("31/02/2026;12,50;VIR;", "Ligne 3 : date « 31/02/2026 » invalide : attendu JJ/MM/AAAA"),
        ("26/11/2026;12,50;VIR;", "Ligne 3 : date du 26/11/2026 postérieure à aujourd'hui"),
        ("22/11/2026;0,00;VIR;", "Ligne 3 : montant nul"),
        ("22/11/2026;12345678901,00;VIR;", "Ligne 3 : montant « 12345678901,00 » hors limites"),
        ("22/11/2026;12,50;;", "Ligne 3 : libellé manquant"),
        ("22/11/2026;12,50;VIR", "Ligne 3 : 3 champ(s) au lieu de 4"),
    ],
)
def test_one_bad_line_refuses_the_whole_file_with_its_number(world, bad_line, message):
    a = world["A"]
    before = Payment.objects.count()
    content = _csv(BANK_HEADER, f"21/11/2026;297,05;VIR;{a.lease.number}", bad_line)
    with pytest.raises(ImportRefused) as refused:
        import_bank_statement(filename="r.csv", content=content, today=DAY)
    assert str(refused.value).startswith(message)
    assert str(refused.value).endswith("Rien n'a été importé.")
    _nothing_saved(before)
    a.account.refresh_from_db()
    assert a.account.balance == Decimal("297.05")


def test_a_file_not_in_utf8_is_refused(world):
    content = _csv(BANK_HEADER, "21/11/2026;12,50;VIR ÉCHÉANCE;").decode().encode("latin-1")
    with pytest.raises(ImportRefused, match="UTF-8"):
        import_bank_statement(filename="r.csv", content=content, today=DAY)


def test_reimporting_the_same_file_changes_nothing(client, world, biller, time_machine):
    time_machine.move_to(NOW)
    a = world["A"]
    content = "\ufeff".encode() + _csv(BANK_HEADER, f"21/11/2026;297,05;VIR;{a.lease.number}", "22/11/2026;-1,00;X;")
    client.force_login(biller)
    first = client.post(reverse("billing:imports"), {"file": _file(content, "releve.csv")})
    statement = BankStatement.objects.get()
    assert first.status_code == 302 and first["Location"] == reverse(
        "billing:bank_statement_detail", args=[statement.pk]
    )
    payments = Payment.objects.count()

    again = client.post(reverse("billing:imports"), {"file": _file(content, "copie.csv")}, follow=True)
    assert "Ce fichier a déjà été importé le 25/11/2026 : rien n&#x27;a été modifié." in again.content.decode()
    assert BankStatement.objects.count() == 1 and BankStatementLine.objects.count() == 2
    assert Payment.objects.count() == payments
    result = import_bank_statement(filename="x.csv", content=content, today=DAY)
    assert (result.created, result.statement.pk) == (False, statement.pk)
    a.account.refresh_from_db()
    assert a.account.balance == Decimal("0.00")


# --- CAF statements -------------------------------------------------------------------------------


@pytest.fixture
def benefits(world):
    return {
        code: HousingBenefit.objects.create(
            lease=world[code].lease,
            valid_from=date(2026, 1, 1),
            apl_amount=apl,
            rls_amount=Decimal("34.83"),
            source=BenefitSource.CAF,
            allocataire_number=number,
        )
        for code, apl, number in (("A", Decimal("230.00"), "1234567"), ("B", Decimal("150.00"), "7654321"))
    }


def _caf_file(world):
    a, b = world["A"].lease.number, world["B"].lease.number
    return _csv(
        CAF_HEADER,
        f"1234567;{a};2026-11;230,00;34,83;;",
        f"7654321;{b};2026-11;180,00;34,83;0,00;0,00",
        "5555555;B99999999;2026-11;120,00;34,83;;",
        f"1234567;{a};2026-11;abc;34,83;;",
        f"1234567;{a};2026-10;230,00;34,83;25,00;",
    )


def test_caf_lines_are_compared_with_the_expected_apl_and_bad_lines_reported(world, benefits, apl_agent):
    result = import_caf_statement(filename="caf-2026-11.csv", content=_caf_file(world), by=apl_agent)

    statement = result.statement
    assert result.created
    assert result.errors == ["Ligne 5 : montant APL « abc » invalide : attendu par exemple 230,50."]
    assert (statement.period, statement.line_count, statement.matched_count, statement.error_count) == (
        NOVEMBER,
        4,
        1,
        1,
    )
    lines = {line.line_no: line for line in statement.lines.all()}
    assert sorted(lines) == [2, 3, 4, 6]
    matched, difference, unmatched, recall = lines[2], lines[3], lines[4], lines[6]
    assert (matched.status, matched.lease, matched.expected_apl, matched.note) == (
        ImportLineStatus.MATCHED,
        world["A"].lease,
        Decimal("230.00"),
        "",
    )
    assert (difference.status, difference.expected_apl) == (ImportLineStatus.DIFFERENCE, Decimal("150.00"))
    assert difference.note == "APL versée 180,00\xa0€ au lieu de 150,00\xa0€ attendus (écart +30,00\xa0€)"
    assert (unmatched.status, unmatched.lease, unmatched.note) == (
        ImportLineStatus.UNMATCHED,
        None,
        "Référence locataire « B99999999 » inconnue",
    )
    assert (recall.status, recall.period, recall.recall_amount) == (
        ImportLineStatus.DIFFERENCE,
        date(2026, 10, 1),
        Decimal("25.00"),
    )
    assert recall.note == "Rappel de 25,00\xa0€ sur des mois antérieurs"


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("1234567;{a};2026-13;230,00;;;", "période « 2026-13 » invalide : attendu AAAA-MM (par exemple 2026-11)"),
        (";{a};2026-11;230,00;;;", "n° allocataire manquant"),
        ("1234567;;2026-11;;;;", "référence locataire manquante ; montant APL manquant"),
        ("1234567;{a};2026-11;230,00;;-5,00;", "rappel négatif : les montants de l'état sont positifs"),
        ("1234567;{a};2026-11;230,00", "4 champ(s) au lieu de 7"),
    ],
)
def test_each_malformed_caf_line_is_reported_with_its_number(world, benefits, line, error):
    a = world["A"].lease.number
    content = _csv(CAF_HEADER, f"1234567;{a};2026-11;230,00;34,83;;", line.format(a=a))
    result = import_caf_statement(filename="caf.csv", content=content)
    assert result.errors == [f"Ligne 3 : {error}."]
    assert result.statement.line_count == 1 and result.statement.error_count == 1


def test_a_caf_file_without_any_valid_line_is_refused(world):
    content = _csv(CAF_HEADER, "1234567;B00000001;2026-11;abc;;;")
    with pytest.raises(ImportRefused, match="Aucune ligne valide") as refused:
        import_caf_statement(filename="caf.csv", content=content)
    assert refused.value.details == ["Ligne 2 : montant APL « abc » invalide : attendu par exemple 230,50."]
    with pytest.raises(ImportRefused, match="colonnes incorrectes"):
        import_caf_statement(filename="caf.csv", content=_csv("allocataire;periode", "1;2026-11"))
    assert not CafStatement.objects.exists()


def test_caf_page_lists_the_errors_of_a_refused_file(client, world, apl_agent, django_assert_max_num_queries):
    client.force_login(apl_agent)
    content = _csv(CAF_HEADER, "1234567;B00000001;2026-11;abc;;;", "1234567;B00000001;2026-1;100,00;;;")
    response = client.post(reverse("billing:caf_imports"), {"file": _file(content, "caf.csv")})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Fichier refusé. Aucune ligne valide : rien n&#x27;a été importé." in body
    assert "Ligne 2 : montant APL « abc » invalide" in body and "Ligne 3 : période « 2026-1 » invalide" in body
    assert not CafStatement.objects.exists()
    with django_assert_max_num_queries(10):
        assert client.get(reverse("billing:caf_imports")).status_code == 200


def test_reimporting_the_same_caf_file_changes_nothing(world, benefits):
    content = _caf_file(world)
    first = import_caf_statement(filename="caf.csv", content=content)
    again = import_caf_statement(filename="caf-copie.csv", content=content)
    assert (again.created, again.statement.pk, again.errors) == (False, first.statement.pk, [])
    assert CafStatement.objects.count() == 1 and CafStatementLine.objects.count() == 4


def test_a_corrected_file_imports_only_the_new_lines(world, benefits):
    a = world["A"].lease.number
    import_caf_statement(filename="caf.csv", content=_caf_file(world))
    corrected = _csv(CAF_HEADER, f"1234567;{a};2026-11;230,00;34,83;;", f"1234567;{a};2026-11;231,00;34,83;;")
    result = import_caf_statement(filename="caf-correctif.csv", content=corrected)
    assert result.skipped == ["Ligne 2 : déjà importée avec le fichier « caf.csv »."]
    assert [line.line_no for line in result.statement.lines.all()] == [3]


def test_update_expected_apl_closes_the_benefit_and_feeds_the_next_notices(
    client, world, benefits, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to(NOW)
    statement = import_caf_statement(filename="caf.csv", content=_caf_file(world)).statement
    line = statement.lines.get(line_no=3)  # B: 180,00 € paid, 150,00 € expected
    apl_b = UserFactory(username="apl.b", roles=[Role.AGENT_APL], agencies_list=[world["B"].agency])
    client.force_login(apl_b)
    response = client.post(reverse("billing:caf_line_resolve", args=[line.pk]), {"action": "update_apl"})
    assert response.status_code == 302
    assert response["Location"] == reverse("billing:caf_statement_detail", args=[statement.pk])

    old = benefits["B"]
    old.refresh_from_db()
    assert old.valid_to == date(2026, 10, 31)
    new = HousingBenefit.objects.covering(NOVEMBER).get(lease=world["B"].lease)
    assert (new.valid_from, new.valid_to, new.apl_amount, new.rls_amount, new.source, new.allocataire_number) == (
        NOVEMBER,
        None,
        Decimal("180.00"),
        Decimal("34.83"),
        BenefitSource.CAF,
        "7654321",
    )
    line.refresh_from_db()
    assert line.status == ImportLineStatus.RESOLVED
    assert line.note.startswith("APL attendue mise à jour dès 11/2026 : 150,00\xa0€ → 180,00\xa0€")
    with django_capture_on_commit_callbacks(execute=True):
        start_run(period=DECEMBER, today=DAY)
    assert RentNotice.objects.get(lease=world["B"].lease, period=DECEMBER).apl_amount == Decimal("180.00")
    with pytest.raises(LineError, match="déjà traitée"):
        update_expected_apl(line=line, today=DAY)


def test_update_expected_apl_is_refused_on_a_line_without_a_gap(world, benefits):
    statement = import_caf_statement(filename="caf.csv", content=_caf_file(world)).statement
    with pytest.raises(LineError, match="déjà traitée"):
        update_expected_apl(line=statement.lines.get(line_no=2), today=DAY)
    with pytest.raises(LineError, match="Seule une ligne en écart"):
        update_expected_apl(line=statement.lines.get(line_no=4), today=DAY)
    assert HousingBenefit.objects.count() == 2


def test_update_expected_apl_keeps_a_later_benefit(world, benefits):
    later = HousingBenefit.objects.create(
        lease=world["B"].lease, valid_from=date(2027, 1, 1), apl_amount=Decimal("160.00"), source=BenefitSource.CAF
    )
    benefits["B"].valid_to = date(2026, 12, 31)
    benefits["B"].save()
    statement = import_caf_statement(filename="caf.csv", content=_caf_file(world)).statement
    new = update_expected_apl(line=statement.lines.get(line_no=3), today=DAY)
    assert (new.valid_from, new.valid_to) == (NOVEMBER, date(2026, 12, 31))
    later.refresh_from_db()
    assert later.valid_from == date(2027, 1, 1)


def test_update_expected_apl_corrects_in_place_a_benefit_starting_that_month(world, benefits):
    benefits["B"].valid_to = date(2026, 10, 31)
    benefits["B"].save()
    november = HousingBenefit.objects.create(
        lease=world["B"].lease, valid_from=NOVEMBER, apl_amount=Decimal("150.00"), source=BenefitSource.LANDLORD
    )
    statement = import_caf_statement(filename="caf.csv", content=_caf_file(world)).statement
    benefit = update_expected_apl(line=statement.lines.get(line_no=3), today=DAY)
    assert benefit.pk == november.pk
    assert (benefit.valid_from, benefit.apl_amount, benefit.source) == (NOVEMBER, Decimal("180.00"), BenefitSource.CAF)
    assert HousingBenefit.objects.filter(lease=world["B"].lease).count() == 2


def test_caf_upload_page_reports_bad_lines_and_shows_only_the_agencys_lines(
    client, world, benefits, apl_agent, time_machine, django_assert_max_num_queries
):
    time_machine.move_to(NOW)
    client.force_login(apl_agent)
    response = client.post(reverse("billing:caf_imports"), {"file": _file(_caf_file(world), "caf-2026-11.csv")})
    statement = CafStatement.objects.get()
    detail = reverse("billing:caf_statement_detail", args=[statement.pk])
    assert response.status_code == 302 and response["Location"] == detail

    with django_assert_max_num_queries(16):
        body = client.get(detail).content.decode()
    assert "État CAF de novembre 2026" in body and "25/11/2026" in body
    assert "Ligne 5 : montant APL « abc » invalide" in body
    assert "B99999999" in body  # unmatched: no agency yet, every APL agent sees it
    assert "25,00\xa0€" in body  # A's rappel
    assert world["B"].lease.number not in body  # B's difference belongs to agency B
    assert "Mettre à jour l'APL attendue" in body
    assert "Ligne 5" not in client.get(detail).content.decode()  # the report is shown once

    b_line = statement.lines.get(line_no=3)
    response = client.post(reverse("billing:caf_line_resolve", args=[b_line.pk]), {"action": "update_apl"})
    assert response.status_code == 404
    b_line.refresh_from_db()
    assert b_line.status == ImportLineStatus.DIFFERENCE
    index = client.get(reverse("billing:caf_imports")).content.decode()
    assert "11/2026" in index and "caf-2026-11.csv" in index


def test_marking_a_caf_line_treated_needs_a_note(client, world, benefits, apl_agent, time_machine):
    time_machine.move_to(NOW)
    statement = import_caf_statement(filename="caf.csv", content=_caf_file(world)).statement
    line = statement.lines.get(line_no=4)
    client.force_login(apl_agent)
    url = reverse("billing:caf_line_resolve", args=[line.pk])
    response = client.post(url, {"action": "treat", "note": ""})
    assert response.status_code == 400
    assert "Indiquez ce qui a été fait pour traiter la ligne." in response.content.decode()
    assert client.post(url, {"action": "treat", "note": "Référence erronée signalée à la CAF"}).status_code == 302
    line.refresh_from_db()
    assert line.status == ImportLineStatus.RESOLVED
    assert line.note.startswith("Référence erronée signalée à la CAF — Camille Agent, le 25/11/2026")


# --- Accounting export ----------------------------------------------------------------------------


def _export(client, **params):
    response = client.get(reverse("billing:accounting_export"), params)
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_export_writes_balanced_lines_by_journal(client, world, biller):
    client.force_login(biller)
    rows = _export(client, du="01/11/2026", au="30/11/2026")
    assert rows[0] == [
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
    a = world["A"].lease.number
    lines = [row[:8] for row in rows[1:]]
    assert ["VT", "706100", "", "20/11/2026", "Loyer novembre 2026", "0,00", "412,50", a] in lines
    assert ["VT", "411000", a, "20/11/2026", "Loyer novembre 2026", "412,50", "0,00", a] in lines
    assert ["VT", "708300", "", "20/11/2026", "Provision chauffage collectif", "0,00", "61,15", a] in lines
    assert ["BQ", "512000", "", "20/11/2026", "Paiement — Virement", "200,00", "0,00", a] in lines
    assert ["BQ", "411000", a, "20/11/2026", "Paiement — Virement", "0,00", "200,00", a] in lines
    debit = sum(Decimal(row[5].replace(",", ".")) for row in lines)
    credit = sum(Decimal(row[6].replace(",", ".")) for row in lines)
    assert debit == credit == Decimal("697.05")  # 497,05 billed + 200,00 paid
    assert world["B"].lease.number not in "".join(";".join(row) for row in rows)


def test_export_of_the_direction_covers_every_agency(client, world, manager):
    client.force_login(manager)
    rows = _export(client, du="2026-11-01", au="2026-11-30")
    leases = {row[7] for row in rows[1:]}
    assert leases == {world["A"].lease.number, world["B"].lease.number}


def test_export_defaults_to_the_previous_month(client, world, biller, time_machine):
    time_machine.move_to("2026-12-05 10:00:00+01:00")
    client.force_login(biller)
    assert len(_export(client)) == 1 + 2 * 4  # header; rent, 2 charges and a payment, two lines each
    time_machine.move_to("2027-01-05 10:00:00+01:00")
    client.force_login(biller)  # the session of December has expired
    assert len(_export(client)) == 1  # December: nothing posted


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"du": "32/11/2026", "au": "30/11/2026"}, "Saisissez une date au format jj/mm/aaaa (ou aaaa-mm-jj)."),
        ({"du": "30/11/2026", "au": "01/11/2026"}, "La date de fin doit être postérieure ou égale à la date de début."),
        ({"du": "01/11/2026"}, "Indiquez les deux dates, ou aucune pour le mois précédent."),
    ],
)
def test_export_refuses_bad_dates_in_french(client, world, biller, params, error):
    client.force_login(biller)
    response = client.get(reverse("billing:accounting_export"), params)
    assert response.status_code == 400
    assert error.replace("'", "&#x27;") in response.content.decode()


def test_export_form_page_proposes_the_previous_month(client, world, biller, time_machine):
    time_machine.move_to(NOW)
    client.force_login(biller)
    body = client.get(reverse("billing:accounting_export_form")).content.decode()
    assert 'value="01/10/2026"' in body and 'value="31/10/2026"' in body


# --- Refusals -------------------------------------------------------------------------------------


def test_the_charge_de_clientele_cannot_use_imports_nor_export(client, world, agent):
    client.force_login(agent)
    a = world["A"]
    bank_line = _unmatched_line(world)
    caf = import_caf_statement(
        filename="caf.csv", content=_csv(CAF_HEADER, f"1;{a.lease.number};2026-11;100,00;;;")
    ).statement
    for name, args in [
        ("billing:imports", []),
        ("billing:bank_line_queue", []),
        ("billing:bank_statement_detail", [bank_line.statement_id]),
        ("billing:caf_imports", []),
        ("billing:caf_statement_detail", [caf.pk]),
        ("billing:accounting_export", []),
        ("billing:accounting_export_form", []),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 403, name
    before = Payment.objects.count()
    content = _csv(BANK_HEADER, f"21/11/2026;297,05;VIR;{a.lease.number}")
    assert client.post(reverse("billing:imports"), {"file": _file(content, "r.csv")}).status_code == 403
    response = client.post(
        reverse("billing:bank_line_resolve", args=[bank_line.pk]), {"action": "attach", "lease_number": a.lease.number}
    )
    assert response.status_code == 403
    line = caf.lines.get()
    response = client.post(reverse("billing:caf_line_resolve", args=[line.pk]), {"action": "update_apl"})
    assert response.status_code == 403
    assert Payment.objects.count() == before and BankStatement.objects.count() == 1


def test_each_import_belongs_to_its_role(client, world, biller, apl_agent):
    client.force_login(biller)
    assert client.get(reverse("billing:caf_imports")).status_code == 403
    client.force_login(apl_agent)
    assert client.get(reverse("billing:imports")).status_code == 403
    assert client.get(reverse("billing:accounting_export")).status_code == 403


def test_paymentallocation_untouched_by_refused_upload(client, world, biller, time_machine):
    time_machine.move_to(NOW)
    client.force_login(biller)
    allocations = PaymentAllocation.objects.count()
    content = _csv(BANK_HEADER, f"21/11/2026;297,05;VIR;{world['A'].lease.number}", "22/11/2026;abc;VIR;")
    response = client.post(reverse("billing:imports"), {"file": _file(content, "r.csv")})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Ligne 3 : montant « abc » invalide" in body and "Rien n&#x27;a été importé." in body
    assert PaymentAllocation.objects.count() == allocations
