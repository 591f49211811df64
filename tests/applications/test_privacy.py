from datetime import date

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from applications import privacy
from applications.models import Application, ApplicationDocument, ApplicationPerson, DocumentType
from applications.services import application_cancel

from .factories import make_application, make_grid, person

pytestmark = pytest.mark.django_db


def test_purge_deletes_demands_radiated_more_than_a_year_ago_with_files_and_history(world, agent):
    old = make_application(world["A"].agency, people=[person(last="Ancien")])
    document = ApplicationDocument(
        application=old,
        document_type=DocumentType.objects.get(code="identite"),
        content_kind="pdf",
        size=8,
        original_name="cni.pdf",
        uploaded_by=agent,
    )
    document.file.save("applications/test/purge.pdf", ContentFile(b"%PDF-1.4"), save=False)
    document.save()
    application_cancel(application=old, reason="renunciation", on=date(2025, 1, 10))
    recent = make_application(world["A"].agency, people=[person(last="Recent")])
    application_cancel(application=recent, reason="renunciation", on=date(2026, 1, 10))
    kept = make_application(world["A"].agency, people=[person(last="Active")])

    assert privacy.purge(as_of=date(2026, 3, 1), dry_run=True)["applications"] == 1
    assert Application.objects.count() == 3
    counts = privacy.purge(as_of=date(2026, 3, 1), dry_run=False)
    assert counts == {"applications": 1, "people": 1, "incomes": 0, "documents": 1, "renewal_notices": 0}
    assert set(Application.objects.values_list("pk", flat=True)) == {recent.pk, kept.pk}
    assert not ApplicationPerson.history.filter(last_name="Ancien").exists()
    assert not Application.history.filter(id=old.pk).exists()
    assert privacy.purge(as_of=date(2026, 3, 1), dry_run=False)["applications"] == 0  # idempotent


def test_detail_page_query_count_does_not_grow_with_the_household(client, world, agent, django_assert_max_num_queries):
    make_grid(world["A"].agency, valid_from=date(2020, 1, 1))
    big = [person(tax_income=None)] + [
        person("child", "MARTIN", f"Enfant{i}", date(2010 + i, 1, 1), dependant=True) for i in range(5)
    ]
    app = make_application(world["A"].agency, people=big, communes=[world["A"].commune])
    client.force_login(agent)
    with django_assert_max_num_queries(40):
        assert client.get(reverse("applications:application_detail", args=[app.pk])).status_code == 200
