from django.db import migrations


def forwards(apps, schema_editor):
    from billing.yearly import load_sls_scale

    load_sls_scale(apps)


class Migration(migrations.Migration):
    """Load the SLS barème (CDPR, unverified) and placeholder SLR values from billing/data/sls_scale.csv."""

    dependencies = [("billing", "0003_load_figures")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
