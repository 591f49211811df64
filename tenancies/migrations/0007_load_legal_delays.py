from django.db import migrations


def load(apps, schema_editor):
    from tenancies.reference_delays import load_legal_delays

    load_legal_delays(apps)


class Migration(migrations.Migration):
    dependencies = [("tenancies", "0006_legal_delays_read_log")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
