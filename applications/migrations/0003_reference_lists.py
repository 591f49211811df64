"""Load the national list of supporting documents (arrêté du 22 décembre 2020 modifié) and the
priority publics of CCH L441-1 from applications/data/*.csv; create the local number sequence."""

from django.db import migrations


def load(apps, schema_editor):
    from applications.reference import ensure_reference_data

    ensure_reference_data(apps)


class Migration(migrations.Migration):
    dependencies = [("applications", "0002_cotation_renewals_duplicates")]

    operations = [
        migrations.RunPython(load, migrations.RunPython.noop),
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS applications_local_number_seq",
            "DROP SEQUENCE IF EXISTS applications_local_number_seq",
        ),
    ]
