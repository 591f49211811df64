"""Legal quotas, contingent targets and first-quartile thresholds from the CSVs; the free-text
refusal reasons of past offers become the structured reason "other" (the text stays as detail),
offers that expired without an answer "no_answer"."""

from django.db import migrations


def load(apps, schema_editor):
    from applications.committee.reference import ensure_allocation_parameters

    ensure_allocation_parameters(apps)
    offer = apps.get_model("committee", "Offer")
    offer.objects.filter(status="expired", refusal_kind="").update(refusal_kind="no_answer")
    offer.objects.filter(status="refused", refusal_kind="").update(refusal_kind="other")


class Migration(migrations.Migration):
    dependencies = [("committee", "0003_allocations")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
