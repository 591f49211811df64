"""Lease number sequence, the staff role groups and the recoverable charge types."""

from django.db import migrations


def forwards(apps, schema_editor):
    from tenancies.reference import ensure_reference_data

    ensure_reference_data(apps)


class Migration(migrations.Migration):
    dependencies = [("tenancies", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS tenancies_lease_number_seq START 1",
            "DROP SEQUENCE IF EXISTS tenancies_lease_number_seq",
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
