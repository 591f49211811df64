from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from applications.models import Application, ApplicationDocument, DuplicateDismissal
from applications.services import duplicate_resolve

from .factories import make_application, person

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_same_person_in_two_open_applications_flags_both_and_resolution(world, agent):
    agency = world["A"].agency
    first = make_application(agency, people=[person(last="Lefèvre", first="Anaïs")])
    second = make_application(agency, people=[person(last="LEFEVRE", first="anais")])  # accents, case
    other = make_application(agency, people=[person(last="LEFEVRE", first="Anais", born=date(1991, 5, 4))])
    first.refresh_from_db()
    assert first.duplicate_suspected and Application.objects.get(pk=second.pk).duplicate_suspected
    assert not Application.objects.get(pk=other.pk).duplicate_suspected

    duplicate_resolve(keep=first, other=second, action="dismiss", by=agent)
    assert DuplicateDismissal.objects.count() == 1
    assert not Application.objects.filter(duplicate_suspected=True).exists()

    third = make_application(agency, people=[person(last="Lefevre", first="Anaïs")])
    assert Application.objects.filter(duplicate_suspected=True).count() == 3
    duplicate_resolve(keep=first, other=third, action="cancel", by=agent)
    third.refresh_from_db()
    assert (third.status, third.cancellation_reason) == ("cancelled", "duplicate")
    assert not Application.objects.filter(duplicate_suspected=True).exists()


def test_duplicate_page_lists_the_pair(client, world, agent):
    agency = world["A"].agency
    make_application(agency, people=[person(last="Roux", first="Lina")])
    make_application(agency, people=[person(last="ROUX", first="Lina")])
    client.force_login(agent)
    response = client.get(reverse("applications:duplicate_list"))
    assert response.status_code == 200
    assert "Lina ROUX" in response.content.decode()


def _upload(client, app, content, name, doc="identite"):
    from applications.models import DocumentType

    return client.post(
        reverse("applications:document_upload", args=[app.pk]),
        {
            "document_type": DocumentType.objects.get(code=doc).pk if doc else 999999,
            "file": SimpleUploadedFile(name, content),
        },
    )


def test_document_checked_by_content_and_served_through_the_permission_checked_view(client, world, agent):
    app = make_application(world["A"].agency)
    client.force_login(agent)
    response = _upload(client, app, PDF, "piece.pdf")
    assert response.status_code == 302
    document = ApplicationDocument.objects.get()
    assert document.content_kind == "pdf" and document.file.name.startswith("applications/")
    assert "piece" not in document.file.name
    served = client.get(reverse("applications:document_download", args=[document.pk]))
    assert served.status_code == 200 and b"".join(served.streaming_content) == PDF
    assert served["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("content", "name", "doc", "message"),
    [
        (b"MZ\x90\x00 not a pdf", "faux.pdf", "identite", "Type de fichier refusé"),
        (b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024 + 10), "gros.pdf", "identite", "taille maximale"),
        (PDF, "piece.pdf", None, "liste nationale"),
    ],
)
def test_bad_documents_are_refused_in_french_and_nothing_saved(client, world, agent, content, name, doc, message):
    app = make_application(world["A"].agency)
    client.force_login(agent)
    response = _upload(client, app, content, name, doc)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ApplicationDocument.objects.exists()


def test_other_agency_and_wrong_roles_are_refused(client, world, other_agency_agent, committee_member, inspector):
    app = make_application(world["A"].agency)
    url = reverse("applications:application_detail", args=[app.pk])
    client.force_login(other_agency_agent)
    assert client.get(url).status_code == 404
    for user in (committee_member, inspector):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.get(reverse("applications:application_list")).status_code == 403
