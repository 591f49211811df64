from django.db import migrations


def load(apps, schema_editor):
    from arrears.reference import load_parameters

    load_parameters(apps)


class Migration(migrations.Migration):
    dependencies = [("arrears", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
