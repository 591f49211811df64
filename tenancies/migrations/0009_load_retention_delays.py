from django.db import migrations


def load(apps, schema_editor):
    # The retention terms of the personal-data registry (tenancies.privacy.RETENTION_DELAYS) are
    # rows of tenancies/data/legal_delays.csv, like every other legal delay.
    from tenancies.reference_delays import load_legal_delays

    load_legal_delays(apps)


class Migration(migrations.Migration):
    dependencies = [("tenancies", "0008_history_on_people_and_money")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
