from django.db import migrations


def load(apps, schema_editor):
    from inspections.reference import load as load_tables

    load_tables(apps.get_model("inspections", "VetusteRule"), apps.get_model("inspections", "RepairPrice"))


class Migration(migrations.Migration):
    dependencies = [("inspections", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
