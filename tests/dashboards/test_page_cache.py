"""The dashboard blocks, exports and monthly PDF are rendered once per refresh, period and scope, then
served from the cache; the next refresh is a new key."""

from datetime import date

import pytest
from django.core.cache import cache
from django.urls import reverse

from dashboards.services import refresh_dashboards
from tests.factories import UserFactory

INDEX = reverse("dashboards:index")
YEAR = {"periode": "year", "date": "2026-11"}


@pytest.fixture
def locmem_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "dash"}}
    cache.clear()
    yield cache
    cache.clear()


@pytest.fixture
def figures(world):
    return refresh_dashboards(as_of=date(2026, 11, 20), full=True)


def blocks_part(html: str) -> str:
    return html[html.index('<section class="card mb-4 dashboard-block"') : html.rindex("</section>")]


def test_blocks_come_from_the_cache_until_the_next_refresh(
    client, manager, world, figures, locmem_cache, django_assert_max_num_queries
):
    client.force_login(manager)
    first = client.get(INDEX, YEAR)
    assert first.status_code == 200 and "blocks" in first.context  # computed
    with django_assert_max_num_queries(8):
        again = client.get(INDEX, YEAR)
    assert "blocks" not in again.context  # from the cache
    assert blocks_part(again.content.decode()) == blocks_part(first.content.decode())
    assert "994,10\xa0€" in again.content.decode()

    month = client.get(INDEX, {"periode": "month", "date": "2026-11"})
    assert "blocks" in month.context  # another period: another key

    refresh_dashboards(as_of=date(2026, 11, 20))
    after_refresh = client.get(INDEX, YEAR)
    assert "blocks" in after_refresh.context  # a new refresh: computed again


def test_the_cache_key_names_the_users_agencies(client, manager, world, figures, locmem_cache):
    client.force_login(manager)
    assert "Agence Zyxcanari" in client.get(INDEX, YEAR).content.decode()
    responsable = UserFactory(username="resp.cache", roles=["responsable_agence"], agencies_list=[world["A"].agency])
    client.force_login(responsable)
    response = client.get(INDEX, YEAR)
    assert "blocks" in response.context and "Zyxcanari" not in response.content.decode()


def test_exports_are_cached_per_table_and_format(client, manager, world, figures, locmem_cache):
    client.force_login(manager)
    url = reverse("dashboards:export")
    csv = client.get(url, {"date": "2026-11", "table": "billing", "format": "csv"})
    xlsx = client.get(url, {"date": "2026-11", "table": "billing", "format": "xlsx"})
    assert csv.content != xlsx.content
    assert client.get(url, {"date": "2026-11", "table": "billing", "format": "csv"}).content == csv.content
    assert "994,10" in csv.content.decode("utf-8-sig")


def test_an_unreachable_cache_computes_the_page(client, manager, world, figures, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    }
    client.force_login(manager)
    response = client.get(INDEX, YEAR)
    assert response.status_code == 200 and "994,10\xa0€" in response.content.decode()
