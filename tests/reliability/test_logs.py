"""Logs never contain a password, an IBAN or a social-security number (RELIABILITY.md AT-4).

Marker values go through the real paths (a failed login, a SEPA mandate form, a view error) and
through careless log calls; every record the configured handlers emit is captured and searched."""

import io
import logging

import pytest
from django.urls import reverse

from tenancies.privacy import MASK, MaskSensitiveData, mask_sensitive

MARK_PASSWORD = "Marqueur-Passe-7731xq"
MARK_IBAN = "FR76 3000 6000 0112 3456 7890 189"  # valid checksum (the SEPA tests' IBAN)
MARK_IBAN_COMPACT = MARK_IBAN.replace(" ", "")
MARK_NIR = "2 85 05 78 006 084 36"
MARK_NIR_COMPACT = MARK_NIR.replace(" ", "")
MARKERS = [MARK_PASSWORD, MARK_IBAN, MARK_IBAN_COMPACT, MARK_NIR, MARK_NIR_COMPACT, "3456 7890", "006 084"]


@pytest.fixture
def emitted():
    """Everything the root logger's configured handlers would write, as text."""
    root = logging.getLogger()
    configured = [h for h in root.handlers if any(isinstance(f, MaskSensitiveData) for f in h.filters)]
    assert configured, "settings.LOGGING installs no MaskSensitiveData filter on the root handlers"
    buffer = io.StringIO()
    capture = logging.StreamHandler(buffer)
    capture.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    for f in configured[0].filters:
        capture.addFilter(f)
    root.addHandler(capture)
    # Everything from INFO up, as in production, on every logger that propagates to the root.
    saved = root.level
    root.setLevel(logging.INFO)
    yield buffer
    root.setLevel(saved)
    root.removeHandler(capture)


def test_markers_never_reach_the_logs(client, world, agent, emitted, time_machine):
    time_machine.move_to("2026-11-25 10:00:00+01:00")
    log = logging.getLogger("locatif.test")

    # A failed login with the marker password (axes and Django log the failure).
    response = client.post(reverse("login"), {"username": agent.username, "password": MARK_PASSWORD})
    assert response.status_code in (200, 403)
    # A SEPA mandate with the marker IBAN, through the page.
    client.force_login(agent)
    url = reverse("billing:mandate_create", args=[world["A"].account.pk])
    data = {"rum": "LOC-MARK-1", "signed_on": "02/11/2026", "debtor_name": "Hélène Durandal", "bic": ""}
    assert client.post(url, {**data, "iban": MARK_IBAN}).status_code == 302
    assert client.post(url, {**data, "rum": "LOC-MARK-2", "iban": MARK_IBAN_COMPACT[:-1] + "0"}).status_code == 400
    # Careless code: values in messages, arguments, dicts and tracebacks.
    log.warning("login failed for %s", {"username": agent.username, "password": MARK_PASSWORD})
    log.info("POST data: password=%s&next=/", MARK_PASSWORD)
    log.info("mandate created with IBAN %s", MARK_IBAN)
    log.info(f"mandate {MARK_IBAN_COMPACT} for NIR {MARK_NIR}")
    log.error("survey answer nir=%s", MARK_NIR_COMPACT)
    try:
        raise ValueError(f"IBAN {MARK_IBAN} refusé pour {MARK_NIR}")
    except ValueError:
        log.exception("collection failed")

    text = emitted.getvalue()
    assert "collection failed" in text and "Traceback" in text
    assert text.count(MASK) >= 8
    assert [m for m in MARKERS if m in text] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("iban=FR7630006000011234567890189", f"iban={MASK}"),
        ("IBAN FR76 3000 6000 0112 3456 7890 189 ok", f"IBAN {MASK} ok"),
        ("'password': 'hunter2hunter2'", f"'password': '{MASK}'"),
        ('{"new_password1": "abc"}', f'{{"new_password1": "{MASK}"}}'),
        ("NIR 1 85 05 78 006 084 36.", f"NIR {MASK}."),
        # Left alone: amounts, dates, lease numbers, phone numbers, periods.
        ("Loyer 412,50 € du 01/11/2026", "Loyer 412,50 € du 01/11/2026"),
        ("bail BAIL-2024-000123 tel 06 11 22 33 44", "bail BAIL-2024-000123 tel 06 11 22 33 44"),
        ("run 42: 1234 notices in 2026-12", "run 42: 1234 notices in 2026-12"),
    ],
)
def test_mask_sensitive(text, expected):
    assert mask_sensitive(text) == expected


def test_celery_worker_handlers_get_the_mask():
    from config.celery import mask_worker_logs

    logger = logging.getLogger("celery.test-worker")
    handler = logging.StreamHandler(io.StringIO())
    logger.addHandler(handler)
    try:
        mask_worker_logs(logger=logger)
        mask_worker_logs(logger=logger)  # idempotent
        assert sum(isinstance(f, MaskSensitiveData) for f in handler.filters) == 1
    finally:
        logger.removeHandler(handler)


def test_every_handler_masks():
    """No logger writes through a handler without the mask (Django's default console and
    mail_admins handlers are replaced; handlers only active with DEBUG on are tolerated)."""
    from django.utils.log import RequireDebugTrue

    loggers = [logging.getLogger()] + [
        logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    unmasked = []
    for logger in loggers:
        for handler in logger.handlers:
            filters = handler.filters
            if any(isinstance(f, (MaskSensitiveData, RequireDebugTrue)) for f in filters):
                continue
            if type(handler).__name__ in (
                "LogCaptureHandler",
                "_LiveLoggingNullHandler",
                "_FileHandler",
                "NullHandler",
            ):
                continue  # pytest's own capture
            unmasked.append(f"{logger.name}: {handler!r}")
    assert unmasked == []


def test_the_read_log_holds_no_personal_data():
    """A ReadLog row says who opened which record, when, in which context: no column for anything
    else, and every call site passes a fixed context (no name, no free text)."""
    import ast
    from pathlib import Path

    from tenancies.models import ReadLog
    from tenancies.privacy import local_app_configs

    assert {f.name for f in ReadLog._meta.concrete_fields} == {
        "id",
        "at",
        "user",
        "record_type",
        "record_id",
        "purpose",
    }
    sites = 0
    paths = {path for cfg in local_app_configs() for path in Path(cfg.path).rglob("*.py")}
    for path in sorted(paths):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "log_read":
                sites += 1
                (purpose,) = [k.value for k in node.keywords if k.arg == "purpose"]
                assert isinstance(purpose, (ast.Constant, ast.JoinedStr)), f"{path}:{node.lineno}"
                if isinstance(purpose, ast.JoinedStr):  # f"document {doc}": a document code only
                    names = {n.id for n in ast.walk(purpose) if isinstance(n, ast.Name)}
                    assert names <= {"doc"}, f"{path}:{node.lineno}: {names}"
    assert sites >= 7
