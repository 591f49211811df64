"""Headless Chromium (Debian's package) driven by Playwright; never `playwright install`."""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls stay sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def page(chromium):
    context = chromium.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
