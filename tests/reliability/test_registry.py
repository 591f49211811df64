"""Data classification registry (RELIABILITY.md DP-1, AT-1): every model of every local app is
declared in its app's privacy.py, every declared field exists, and every model holding personal
or financial data has a history (simple_history, an append-only trigger, or a declared equivalent)."""

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models

from tenancies import privacy

DECLARATIONS = privacy.declarations()
# Models that still wait for `history = HistoricalRecords()` (and its migration, by the lead) may be
# declared "pending_simple_history" in these apps only; anywhere else the app adds the history itself.
PENDING_ALLOWED = {"tenancies", "billing"}


def _ids(decls):
    return [d.label for d in decls]


def test_every_local_app_is_seen():
    labels = set(_ids(DECLARATIONS))
    assert {"tenancies", "billing"} <= labels
    for expected in ("applications", "committee", "inspections", "arrears", "dashboards"):
        if apps.is_installed(apps.get_app_config(expected).name):
            assert expected in labels


@pytest.mark.parametrize("decl", DECLARATIONS, ids=_ids(DECLARATIONS))
def test_every_model_is_declared_once(decl):
    names = {m._meta.model_name for m in privacy.concrete_models(decl.label)}
    if not names:
        return  # an app without models needs no declaration yet
    assert decl.module is not None, f"{decl.label} has models {sorted(names)} but no privacy.py"
    personal = set(getattr(decl.module, "PERSONAL_DATA", {}))
    other = set(getattr(decl.module, "NO_PERSONAL_DATA", set()))
    assert not personal & other, f"{decl.label}: declared in both sets: {sorted(personal & other)}"
    assert sorted(names - personal - other) == [], f"{decl.label}: models not declared in privacy.py"
    assert sorted((personal | other) - names) == [], f"{decl.label}: declared models that do not exist"


@pytest.mark.parametrize("decl", DECLARATIONS, ids=_ids(DECLARATIONS))
def test_declared_fields_exist_with_known_categories(decl):
    for name, spec in getattr(decl.module, "PERSONAL_DATA", {}).items() if decl.module else ():
        model = apps.get_model(decl.label, name)
        assert spec.get("retention") in privacy.RETENTION_CLASSES, (name, spec.get("retention"))
        assert spec.get("fields"), f"{decl.label}.{name}: personal data declared without fields"
        for field_name, category in spec["fields"].items():
            model._meta.get_field(field_name)  # FieldDoesNotExist otherwise
            assert category in privacy.CATEGORIES, (name, field_name, category)
        if spec.get("subject"):
            # The lookup reaches tenancies.Person: the export can follow it.
            from tenancies.models import Person

            str(model._default_manager.filter(**{spec["subject"]: 0}).query)  # FieldError otherwise
            target = model if spec["subject"] == "pk" else None
            if target is None:
                path = spec["subject"].split("__")
                target = model
                for part in path:
                    target = target._meta.get_field(part).related_model
            assert target is Person, f"{decl.label}.{name}: subject {spec['subject']!r} does not reach Person"


def _history_problem(decl_label, model, spec) -> str | None:
    if privacy.has_simple_history(model) or privacy.has_append_only_trigger(model):
        if spec.get("history") == "pending_simple_history":
            return "has its history now: drop 'pending_simple_history' from privacy.py"
        return None
    mechanism = spec.get("history")
    if mechanism is None:
        return "holds personal or financial data but has no history (add `history = HistoricalRecords()`)"
    if mechanism == "audit_record":
        fields = model._meta.concrete_fields
        dated = any(isinstance(f, models.DateTimeField) for f in fields)
        signed = any(f.is_relation and f.related_model is get_user_model() for f in fields)
        return None if dated and signed else "audit_record needs a DateTimeField and a user foreign key"
    if mechanism.startswith("derived:"):
        source = apps.get_model(mechanism.split(":", 1)[1])
        covered = privacy.has_simple_history(source) or privacy.has_append_only_trigger(source)
        related = any(f.is_relation and f.related_model is source for f in model._meta.get_fields())
        if not related:
            return f"derived from {source._meta.label_lower}, which it is not related to"
        source_spec = dict(privacy.personal_models_by_label()).get(source._meta.label_lower, {})
        if covered:
            return None
        if source_spec.get("history", "").startswith(("audit_record", "derived:")):
            # A chain (a snapshot derived from an account derived from the ledger): the source's own check.
            problem = _history_problem(source._meta.app_label, source, source_spec)
            return None if problem is None else f"derived from {source._meta.label_lower}: {problem}"
        return f"derived from {source._meta.label_lower}, which has no history"
    if mechanism == "pending_simple_history":
        return None if decl_label in PENDING_ALLOWED else "pending_simple_history is for tenancies and billing only"
    return f"unknown history mechanism {mechanism!r}"


def test_models_holding_personal_or_financial_data_have_history():
    problems = []
    for decl in DECLARATIONS:
        for name, spec in getattr(decl.module, "PERSONAL_DATA", {}).items() if decl.module else ():
            problem = _history_problem(decl.label, apps.get_model(decl.label, name), spec)
            if problem:
                problems.append(f"{decl.label}.{name}: {problem}")
    assert problems == []


def test_pending_history_list():
    """The list the lead turns into HistoricalRecords() + migrations (printed with -s)."""
    pending = sorted(
        f"{model._meta.label}"
        for model, spec in privacy.personal_models()
        if spec.get("history") == "pending_simple_history"
    )
    print("models waiting for HistoricalRecords():", ", ".join(pending))
    assert all(label.split(".")[0] in {"tenancies", "billing"} for label in pending)


def test_every_app_with_records_about_tenants_feeds_the_export_and_the_retention_job():
    """The access-right export reaches each app that holds personal data (a "subject" lookup or an
    export() hook), and each such app has a purge() hook; an export hook's EXPORTED names are its
    own declared models. The readable export prints French titles only (no English default)."""
    exported = privacy.exported_models()
    for decl in privacy.declarations():
        personal = getattr(decl.module, "PERSONAL_DATA", {}) if decl.module else {}
        if not personal:
            continue
        assert any(label.startswith(f"{decl.label}.") for label in exported), f"{decl.label}: nothing exported"
        assert callable(getattr(decl.module, "purge", None)), f"{decl.label}: no purge() hook"
        for name in getattr(decl.module, "EXPORTED", ()):
            assert name in personal, f"{decl.label}.{name} exported but not declared"
    untitled = [
        missing
        for model, spec in privacy.personal_models()
        if model._meta.label_lower in exported
        for missing in privacy.untitled(model, spec)
    ]
    assert untitled == [], 'give these a French label in the registry ("label" / "labels"): ' + ", ".join(untitled)
