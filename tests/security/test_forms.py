"""No mass assignment: ModelForms declare their fields; extra posted fields are ignored.

RELIABILITY.md AC-6. Figures: ModelForms scanned, forbidden declarations (0), tampered fields
persisted (0).
"""

import importlib
import pkgutil
from decimal import Decimal

import pytest
from django import forms
from django.apps import apps
from django.conf import settings
from django.urls import reverse

from billing.models import Payment
from tenancies.models import LeaseStatus

PROJECT_APPS = [
    c
    for c in apps.get_app_configs()
    if str(c.path).startswith(str(settings.BASE_DIR)) and "site-packages" not in str(c.path)
]


def _import_project_modules():
    for config in PROJECT_APPS:
        module = importlib.import_module(config.name)
        if not hasattr(module, "__path__"):
            continue
        for info in pkgutil.walk_packages(module.__path__, prefix=f"{config.name}."):
            if ".migrations" in info.name or ".management" in info.name or info.name.endswith(".tests"):
                continue
            importlib.import_module(info.name)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _project_model_forms():
    _import_project_modules()
    prefixes = tuple(f"{c.name}." for c in PROJECT_APPS)
    return sorted(
        {f for f in _subclasses(forms.ModelForm) if f.__module__.startswith(prefixes)},
        key=lambda f: f"{f.__module__}.{f.__qualname__}",
    )


def test_every_model_form_lists_its_fields():
    problems = []
    model_forms = _project_model_forms()
    for form in model_forms:
        meta = getattr(form, "Meta", None)
        if meta is None or getattr(meta, "model", None) is None:
            continue  # an abstract base
        label = f"{form.__module__}.{form.__qualname__}"
        fields = getattr(meta, "fields", None)
        if fields == forms.ALL_FIELDS or not isinstance(fields, list | tuple):
            problems.append(f"{label}: Meta.fields must be an explicit list (not {fields!r})")
        if getattr(meta, "exclude", None):
            problems.append(f"{label}: Meta.exclude is forbidden (list the fields instead)")
    print(f"\nFIGURE forms: {len(model_forms)} ModelForms scanned, {len(problems)} forbidden declarations")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_extra_fields_on_a_payment_are_ignored(client, world, agent, other_agency_agent):
    a, b = world["A"], world["B"]
    client.force_login(agent)
    before = Payment.objects.count()
    response = client.post(
        reverse("billing:payment_create", args=[a.account.pk]),
        {
            "amount": "12,30",
            "received_on": "20/11/2026",
            "method": "cheque",
            "reference": "CHQ 1",
            "token": "tampered-form-1",
            # Tampering: another account, another agency, a status, an author, an id.
            "account": b.account.pk,
            "account_id": b.account.pk,
            "agency": b.agency.pk,
            "status": "cancelled",
            "created_by": other_agency_agent.pk,
            "id": 999999,
        },
    )
    assert response.status_code == 302
    assert Payment.objects.count() == before + 1
    payment = Payment.objects.latest("id")
    assert payment.account_id == a.account.pk
    assert payment.amount == Decimal("12.30")
    assert payment.created_by_id == agent.pk
    assert payment.pk != 999999
    assert not Payment.objects.filter(account=b.account, reference="CHQ 1").exists()


@pytest.mark.django_db
def test_extra_fields_on_a_lease_transition_are_ignored(client, world, agent):
    a, b = world["A"], world["B"]
    client.force_login(agent)
    response = client.post(
        reverse("tenancies:lease_transition", args=[a.lease.pk]),
        {
            "to_status": LeaseStatus.NOTICE_GIVEN,
            "on": "20/11/2026",
            "reason": "Congé reçu",
            "lease": b.lease.pk,
            "dwelling": b.dwelling.pk,
            "household": b.household.pk,
            "agency": b.agency.pk,
            "rent": "1",
        },
    )
    assert response.status_code in (302, 400)
    b.lease.refresh_from_db()
    b.dwelling.refresh_from_db()
    assert b.lease.status == LeaseStatus.ACTIVE
    a.lease.refresh_from_db()
    assert a.lease.dwelling_id == a.dwelling.pk and a.lease.household_id == a.household.pk
    a.dwelling.refresh_from_db()
    assert a.dwelling.rent == Decimal("412.50")
