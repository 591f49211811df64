"""Personal data (RGPD, issue 8): the registry, the retention job, the access-right export, the log mask.

Every local app declares its models in `<app>/privacy.py` (plain data, see docs/operations.md):

    PERSONAL_DATA = {"person": {"fields": {"last_name": "identity"}, "retention": "tenant_file",
                                "subject": "pk", "history": "simple_history"}}
    NO_PERSONAL_DATA = {"agency"}
    def purge(*, as_of, dry_run) -> dict[str, int]: ...          # optional: the app's retention job
    def holds(*, household_ids, as_of) -> dict[int, str]: ...     # optional: households to keep, why

- "fields": field name -> category (CATEGORIES).
- "retention": a key of RETENTION_CLASSES.
- "subject" (optional): the lookup from the model to a tenancies.Person id ("pk" on Person,
  "household__people" on Lease…); the access-right export takes every row it finds through it.
  An app whose records reach a person otherwise declares `export(person)` -> {model name:
  queryset} and the names in EXPORTED.
- "label", "labels", "choices" (optional): the French title of the model's section, French field
  labels, and TextChoices (dotted path) for codes stored without choices, in the readable export.
- "history" (optional): how changes are audited when the model has no simple_history
  (`HistoricalRecords()`, detected by itself) and no append-only trigger (detected by itself):
  "audit_record" (the row is itself a dated, signed record: a DateTimeField and a user foreign key),
  "derived:<app.model>" (written with, and only from, that audited model),
  "pending_simple_history" (HistoricalRecords() still to be added to the model by the lead;
  accepted for tenancies and billing only, see tests/reliability/test_registry.py).

This module is imported by the logging configuration: no model import at module level.
"""

from __future__ import annotations

import importlib
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time

CATEGORIES = {"identity", "contact", "financial", "social", "health", "identifier", "free_text"}

# Retention classes (DOMAIN.md §5.1): what the term runs from, how long, what happens then.
RETENTION_CLASSES = {
    "application": "jusqu'à la radiation de la demande + 1 an, puis suppression",
    "caleol": "séance de la commission + 3 ans, puis suppression",
    "tenant_file": "fin du bail + 3 ans (prescription, loi 89 art. 7-1) après solde nul, puis anonymisation",
    "accounting": "10 ans (pièces comptables), puis suppression",
    "litigation": "10 ans après l'exécution de la décision, puis suppression",
    "survey": "3 ans, puis suppression",
    "access_log": "12 mois, puis suppression",
    "staff_account": "durée des fonctions de l'agent, compte désactivé à son départ",
}

# The length of each term is a dated row of tenancies/data/legal_delays.csv (LegalDelay), read for
# the day of the run: a change of rule is a new row, never a code change. staff_account has no
# term (the account is deactivated when the agent leaves).
RETENTION_DELAYS = {
    "application": "retention_application",
    "caleol": "retention_caleol",
    "tenant_file": "prescription",
    "accounting": "retention_accounting",
    "litigation": "retention_litigation",
    "survey": "retention_survey",
    "access_log": "retention_access_log",
}

ANONYMISED = "Anonymisé"
log = logging.getLogger(__name__)
# A pass of one app can release another app's hold (a purged case no longer holds its household):
# the job repeats its passes until one changes nothing, at most this many times.
MAX_PASSES = 5


# --- The tenancies declarations ------------------------------------------------------------------

PERSONAL_DATA = {
    "user": {
        "fields": {"username": "identity", "first_name": "identity", "last_name": "identity", "email": "contact"},
        "retention": "staff_account",
    },
    "person": {
        "fields": {
            "civility": "identity",
            "last_name": "identity",
            "first_name": "identity",
            "birth_date": "identity",
            "search_name": "identity",
            "role": "social",
            "phone": "contact",
            "email": "contact",
            "address": "contact",
            "postcode": "contact",
            "city": "contact",
        },
        "retention": "tenant_file",
        "subject": "pk",
        "labels": {"search_name": "nom de recherche"},
    },
    "lease": {
        "fields": {
            "number": "identifier",
            "starts_on": "social",
            "ends_on": "social",
            "status": "social",
            "rent": "financial",
            "deposit": "financial",
            "payment_method": "financial",
        },
        "retention": "tenant_file",
        "subject": "household__people",
    },
    "leasetransition": {
        "fields": {"from_status": "social", "to_status": "social", "at": "social", "reason": "free_text"},
        "retention": "tenant_file",
        "subject": "lease__household__people",
        "history": "audit_record",
    },
    "readlog": {
        # Which staff member opened which record: no tenant data in it (record type and id only).
        "fields": {"user": "identity", "at": "identity"},
        "retention": "access_log",
        "history": "audit_record",
    },
}

NO_PERSONAL_DATA = {
    "agency",
    "commune",
    "estate",
    "building",
    "chargetype",
    "dwelling",
    "dwellingcharge",
    "annex",
    "household",  # an agency and a creation date; its people are declared on Person
    "leasecharge",  # contract terms copied from the dwelling's charges
    "leaseannex",
    "resourceceiling",
    "legaldelay",
}


# --- The registry across apps --------------------------------------------------------------------


@dataclass(frozen=True)
class AppDeclaration:
    label: str  # the app label ("committee")
    module: object  # its privacy module, or None when it has none


def local_app_configs():
    """The project's own apps (under BASE_DIR, not in the virtualenv), in INSTALLED_APPS order."""
    from django.apps import apps
    from django.conf import settings

    base = str(settings.BASE_DIR)
    return [
        cfg
        for cfg in apps.get_app_configs()
        if str(cfg.path).startswith(base) and ".venv" not in str(cfg.path) and "site-packages" not in str(cfg.path)
    ]


def declarations() -> list[AppDeclaration]:
    """Every local app with its `privacy` module (None when the app has none)."""
    found = []
    for cfg in local_app_configs():
        try:
            module = importlib.import_module(f"{cfg.name}.privacy")
        except ModuleNotFoundError as exc:
            if exc.name != f"{cfg.name}.privacy":
                raise
            module = None
        found.append(AppDeclaration(cfg.label, module))
    return found


def concrete_models(app_label: str):
    """The app's concrete models, simple_history's Historical* ones left out."""
    from django.apps import apps

    return [
        model
        for model in apps.get_app_config(app_label).get_models()
        if not model._meta.abstract and not model._meta.proxy and not is_historical(model)
    ]


def is_historical(model) -> bool:
    """A simple_history Historical* model (it carries the audited model as `instance_type`)."""
    return hasattr(model, "instance_type") and hasattr(model, "history_id")


def has_simple_history(model) -> bool:
    from simple_history.models import registered_models

    return registered_models.get(model._meta.db_table) is model


def has_append_only_trigger(model) -> bool:
    """A django-pgtrigger Protect trigger refusing both UPDATE and DELETE on the model's table."""
    try:
        import pgtrigger
    except ImportError:  # pragma: no cover
        return False
    for trigger in getattr(model._meta, "triggers", []):
        if isinstance(trigger, pgtrigger.Protect):
            operations = str(trigger.operation).upper()
            if "UPDATE" in operations and "DELETE" in operations:
                return True
    return False


def personal_models():
    """[(model, declaration dict)] of every local app's PERSONAL_DATA entries."""
    from django.apps import apps

    found = []
    for decl in declarations():
        if decl.module is None:
            continue
        for name, spec in getattr(decl.module, "PERSONAL_DATA", {}).items():
            found.append((apps.get_model(decl.label, name), spec))
    return found


# --- Retention -----------------------------------------------------------------------------------


def _aware(day: date) -> datetime:
    from django.utils import timezone

    return timezone.make_aware(datetime.combine(day, time.min))


def retention_limit(retention_class: str, as_of: date) -> date:
    """`as_of` minus the term of `retention_class` in force on `as_of` (RETENTION_DELAYS): a record
    whose term started on or before this day is past it (each app states < or <= in its purge)."""
    from tenancies.legal_dates import legal_period

    return legal_period(RETENTION_DELAYS[retention_class], on=as_of).before(as_of)


def tenant_file_limit(as_of: date) -> date:
    """Leases ended on or before this day are past the limitation period (prescription)."""
    return retention_limit("tenant_file", as_of)


def retention_holds(household_ids, *, as_of: date) -> dict[int, str]:
    """{household id: reason} of the households another app still needs (open balance, case…)."""
    held: dict[int, str] = {}
    for decl in declarations():
        hook = getattr(decl.module, "holds", None) if decl.module else None
        if hook is not None:
            for household_id, reason in hook(household_ids=list(household_ids), as_of=as_of).items():
                held.setdefault(household_id, f"{decl.label}: {reason}")
    return held


def expired_households(as_of: date) -> list[int]:
    """Households whose every lease is over (ended or cancelled) since the limitation period, and
    which no app holds: their people are anonymised."""
    from django.db.models import Max, Q
    from django.db.models.functions import Coalesce

    from tenancies.models import Household, LeaseStatus

    over = (LeaseStatus.ENDED, LeaseStatus.CANCELLED)
    candidates = list(
        Household.objects.annotate(last_day=Max(Coalesce("leases__ends_on", "leases__starts_on")))
        .filter(leases__isnull=False, last_day__lte=tenant_file_limit(as_of))
        .exclude(Q(leases__status__in=[s for s in LeaseStatus.values if s not in over]))
        .values_list("id", flat=True)
        .distinct()
    )
    held = retention_holds(candidates, as_of=as_of)
    return sorted(set(candidates) - set(held))


def holds(*, household_ids, as_of) -> dict[int, str]:  # noqa: ARG001 - the registry's hook signature
    return {}


def purge(*, as_of: date, dry_run: bool) -> dict[str, int]:
    """tenancies' own retention: former tenants anonymised, read-log and login-log rows deleted."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    from tenancies.models import LeaseTransition, Person, ReadLog

    expired = expired_households(as_of)
    people = Person.objects.filter(household_id__in=expired).exclude(last_name=ANONYMISED)
    # The reason of a lease's status change is free text (a death, a departure…).
    transitions = LeaseTransition.objects.filter(lease__household_id__in=expired).exclude(reason="")
    person_ids = list(people.values_list("id", flat=True))
    history = Person.history.model.objects.filter(id__in=person_ids)
    log_limit = _aware(retention_limit("access_log", as_of))
    old_logs = {
        "readlog_deleted": ReadLog.objects.filter(at__lt=log_limit),
        "axes_accesslog_deleted": AccessLog.objects.filter(attempt_time__lt=log_limit),
        "axes_failurelog_deleted": AccessFailureLog.objects.filter(attempt_time__lt=log_limit),
        "axes_attempt_deleted": AccessAttempt.objects.filter(attempt_time__lt=log_limit),
    }
    report = {
        "person_anonymised": len(person_ids),
        "person_history_deleted": history.count(),
        "leasetransition_reason_blanked": transitions.count(),
    }
    if dry_run:
        return report | {key: qs.count() for key, qs in old_logs.items()}
    # update(): no history row is written with the old values; the old history rows go.
    history.delete()
    Person.objects.filter(id__in=person_ids).update(
        civility="",
        last_name=ANONYMISED,
        first_name="",
        birth_date=None,
        phone="",
        email="",
        address="",
        postcode="",
        city="",
        search_name=ANONYMISED.lower(),
    )
    transitions.update(reason="")
    for key, qs in old_logs.items():
        report[key] = qs.delete()[0]
    return report


def _purge_pass(as_of: date, dry_run: bool) -> dict[str, dict[str, int]]:
    report: dict[str, dict[str, int]] = {}
    for decl in sorted(declarations(), key=lambda d: d.label != "tenancies"):
        hook = getattr(decl.module, "purge", None) if decl.module else None
        if hook is not None:
            report[decl.label] = dict(hook(as_of=as_of, dry_run=dry_run))
    return report


def run_retention(*, as_of: date | None = None, dry_run: bool = False) -> dict[str, dict[str, int]]:
    """Every app's purge(), tenancies first, in one transaction; {app label: {what: count}}.

    Passes are repeated until one changes nothing (a purge may release another app's hold: a
    litigation file deleted lets its former tenant be anonymised), and the counts are summed.
    A dry run makes the same passes for real and rolls the transaction back, so its report is the
    exact report of the real run and nothing is changed (file deletions wait for the commit).
    Idempotent: a second run the same day changes nothing (every count 0)."""
    from django.db import transaction
    from django.utils import timezone

    as_of = as_of or timezone.localdate()
    report: dict[str, dict[str, int]] = {}
    with transaction.atomic():
        for _ in range(MAX_PASSES):
            counts = _purge_pass(as_of, dry_run=False)
            for label, figures in counts.items():
                totals = report.setdefault(label, {})
                for key, count in figures.items():
                    totals[key] = totals.get(key, 0) + count
            if not any(count for figures in counts.values() for count in figures.values()):
                break
        if dry_run:
            transaction.set_rollback(True)
    log.info("retention job as of %s (dry run: %s): %s", as_of, dry_run, report)
    return report


def format_report(report: dict[str, dict[str, int]]) -> str:
    lines = []
    for label, counts in report.items():
        for key, count in counts.items():
            lines.append(f"{label:14} {key:36} {count:>8}")
    lines.append(f"{'total':14} {'':36} {sum(sum(c.values()) for c in report.values()):>8}")
    return "\n".join(lines)


# --- Access right (RGPD art. 15) -----------------------------------------------------------------


def get_person_for_user(user, pk, *, perm: str = "tenancies.manage_leases"):
    """The permission-checked lookup of a person (403 without the permission, 404 outside the territory)."""
    from django.shortcuts import get_object_or_404

    from tenancies.access import visible
    from tenancies.models import Person

    return get_object_or_404(visible(Person, user, perm).select_related("household__agency"), pk=pk)


def _value(obj, field_name: str, choices=None):
    field = obj._meta.get_field(field_name)
    if field.is_relation:
        related = getattr(obj, field_name)
        return None if related is None else str(related)
    value = getattr(obj, field.attname)
    display = getattr(obj, f"get_{field_name}_display", None)
    if field.choices and display is not None:
        return display()
    if choices is not None and value:  # a code stored without choices on the field: its label
        return dict(choices.choices).get(value, value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


def section_title(model, spec: dict) -> str:
    """The spec's "label", else the model's plural when the model states it, else its singular
    (Django's default plural only appends an "s": "plan d'apurements")."""
    if spec.get("label"):
        return spec["label"]
    options = model._meta.original_attrs
    if "verbose_name_plural" in options:
        return str(model._meta.verbose_name_plural)
    return str(model._meta.verbose_name)


def untitled(model, spec: dict) -> list[str]:
    """What the readable export would print in English (Django's defaults from the code names):
    the model title when neither the spec nor the model gives one, field labels likewise."""
    missing = []
    if not spec.get("label") and "verbose_name" not in model._meta.original_attrs:
        missing.append(model._meta.label_lower)
    labels = spec.get("labels", {})
    for name in spec["fields"]:
        field = model._meta.get_field(name)
        if name not in labels and str(field.verbose_name) == name.replace("_", " "):
            missing.append(f"{model._meta.label_lower}.{name}")
    return missing


def _section(model, spec: dict, rows) -> dict:
    """One export section: the declared fields of every row (labels: the spec's "labels", else the
    fields' verbose names; title: the spec's "label", else the model's verbose name)."""
    from django.utils.module_loading import import_string

    fields = list(spec["fields"])
    labels = spec.get("labels", {})
    choices = {name: import_string(path) for name, path in spec.get("choices", {}).items()}
    return {
        "model": model._meta.label_lower,
        "label": section_title(model, spec),
        "retention": spec["retention"],
        "retention_label": RETENTION_CLASSES[spec["retention"]],
        "fields": fields,
        "field_labels": [labels.get(f) or str(model._meta.get_field(f).verbose_name) for f in fields],
        "rows": [{"id": row.pk, **{f: _value(row, f, choices.get(f)) for f in fields}} for row in rows],
    }


def export_person(person) -> dict:
    """Everything the registry knows about `person`: {"person": …, "sections": [{model, rows}]}.

    A model declared with a "subject" lookup gives every row reached through it; an app whose
    records reach the person otherwise (an applicant is not a tenancies Person) declares
    `export(person) -> {model name: queryset}` in its privacy module, and each queryset is
    exported with that model's declared fields."""
    from django.apps import apps
    from django.utils import timezone

    sections = []
    for model, spec in personal_models():
        subject = spec.get("subject")
        if not subject:
            continue
        rows = model._default_manager.filter(**{subject: person.pk}).distinct().order_by("pk")
        sections.append(_section(model, spec, rows))
    for decl in declarations():
        hook = getattr(decl.module, "export", None) if decl.module else None
        if hook is None:
            continue
        for name, rows in hook(person).items():
            spec = decl.module.PERSONAL_DATA[name]
            sections.append(_section(apps.get_model(decl.label, name), spec, rows.distinct().order_by("pk")))
    return {
        "format": "locatif.person-export/1",
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "person": {"id": person.pk, "name": f"{person.first_name} {person.last_name}".strip()},
        "sections": sections,
    }


def exported_models() -> set[str]:
    """Labels ("app.model") of the models the access-right export covers: a "subject", or an app's
    export hook (the names its PERSONAL_DATA lists in EXPORTED)."""
    found = {model._meta.label_lower for model, spec in personal_models() if spec.get("subject")}
    for decl in declarations():
        if decl.module is not None and getattr(decl.module, "export", None) is not None:
            found |= {f"{decl.label}.{name}" for name in getattr(decl.module, "EXPORTED", ())}
    return found


def export_person_pdf(person, export: dict | None = None) -> bytes:
    """The readable copy of export_person(): one table of (field, value) per record."""
    from django.apps import apps
    from django.utils import timezone

    from billing.pdf import render_pdf

    export = export or export_person(person)
    sections = []
    for section in export["sections"]:
        model = apps.get_model(section["model"])
        money = {f for f in section["fields"] if getattr(model._meta.get_field(f), "decimal_places", None) == 2}
        items = [
            [
                (label, _printable(row[field], money=field in money))
                for field, label in zip(section["fields"], section["field_labels"], strict=True)
            ]
            for row in section["rows"]
        ]
        sections.append({**section, "items": items})
    context = {"export": export, "sections": sections, "generated_at": timezone.now()}
    return render_pdf("tenancies/person_export.pdf.html", context)


def _printable(value, *, money: bool = False):
    if money and value is not None:
        from decimal import Decimal

        from tenancies.formatting import format_euros

        return format_euros(Decimal(value))
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return date.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            return value
    return value


# --- Logs never carry a password, an IBAN or a social-security number ----------------------------

# An IBAN: country, check digits, 11 to 30 alphanumerics, spaces allowed every 4 characters.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b")
# A French NIR: sex, year, month, department (2A/2B), commune, order, then an optional key.
_NIR = re.compile(
    r"\b[12][ .]?\d{2}[ .]?(?:0[1-9]|1[0-2]|[2-9]\d)[ .]?(?:\d{2}|2[AB])[ .]?\d{3}[ .]?\d{3}(?:[ .]?\d{2})?\b"
)
# key=value, key: value, 'key': 'value' and "key": "value" for secret-bearing keys.
_MASKED_KEYS = (
    r"(?:password\d?|passwd|mot_de_passe|secret|token|otp_token|csrfmiddlewaretoken|sessionid|api_key|iban|nir)"
)
_MASKED_PAIR = re.compile(
    rf"""(?P<key>['"]?[\w-]*{_MASKED_KEYS}['"]?\s*[:=]\s*)(?P<quote>\[?['"]?)(?P<value>[^'"\s,&}}\]]+)""",
    re.IGNORECASE,
)
MASK = "[masqué]"


def mask_sensitive(text: str) -> str:
    """`text` with passwords and tokens (key=value forms), IBANs and NIRs replaced by MASK."""
    if not text:
        return text
    text = _MASKED_PAIR.sub(lambda m: f"{m['key']}{m['quote']}{MASK}", text)
    text = _IBAN.sub(MASK, text)
    return _NIR.sub(MASK, text)


class MaskSensitiveData(logging.Filter):
    """Logging filter (installed on every handler by settings.LOGGING and the Celery worker):
    rewrites the record's message and traceback with mask_sensitive()."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not lose the record
            message = str(record.msg)
        masked = mask_sensitive(message)
        if masked != message or record.args:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_sensitive(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_sensitive(record.stack_info)
        return True


def install_log_mask(handlers) -> None:
    """Add the mask to handlers that lack it (the Celery worker's own handlers)."""
    for handler in handlers:
        if not any(isinstance(f, MaskSensitiveData) for f in handler.filters):
            handler.addFilter(MaskSensitiveData())


__all__ = [
    "CATEGORIES",
    "RETENTION_CLASSES",
    "MaskSensitiveData",
    "declarations",
    "export_person",
    "mask_sensitive",
    "run_retention",
]


def personal_models_by_label() -> list[tuple[str, dict]]:
    """[(\"app.model\", declaration)] of every PERSONAL_DATA entry."""
    return [(model._meta.label_lower, spec) for model, spec in personal_models()]
