"""Default matching parameters (applications/committee/reference.py)."""

from django.db import migrations


def load(apps, schema_editor):
    from applications.committee.reference import ensure_parameters

    ensure_parameters(apps)


class Migration(migrations.Migration):
    dependencies = [("committee", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
