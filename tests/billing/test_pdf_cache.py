"""Avis, quittances and reçus are kept in the cache under a digest of their content: a reprint of the
same document is not rendered again, a document whose content changed is."""

import pytest
import weasyprint
from django.urls import reverse

from tests.billing.test_documents import november_notice, pdf_text


@pytest.fixture
def locmem_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pdf"}}
    from django.core.cache import cache

    cache.clear()
    yield cache
    cache.clear()


@pytest.fixture
def renders(monkeypatch):
    """How many times WeasyPrint was asked for a document."""
    calls = []
    real = weasyprint.HTML

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(weasyprint, "HTML", counting)
    return calls


def test_a_reprinted_avis_comes_from_the_cache_and_a_changed_one_is_rendered(
    client, agent, world, django_capture_on_commit_callbacks, locmem_cache, renders
):
    notice = november_notice(world, django_capture_on_commit_callbacks)
    client.force_login(agent)
    url = reverse("billing:notice_pdf", args=[notice.pk])

    first = client.get(url)
    again = client.get(url)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content and len(renders) == 1
    assert notice.lease.number in pdf_text(again)

    person = world["A"].person
    person.last_name = "Nouveaunom"
    person.save()
    renamed = client.get(url)
    assert len(renders) == 2 and "NOUVEAUNOM" in pdf_text(renamed)


def test_without_a_cache_every_print_is_rendered(client, agent, world, django_capture_on_commit_callbacks, renders):
    notice = november_notice(world, django_capture_on_commit_callbacks)
    client.force_login(agent)
    url = reverse("billing:notice_pdf", args=[notice.pk])
    assert client.get(url).content and client.get(url).content
    assert len(renders) == 2
