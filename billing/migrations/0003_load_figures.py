from django.db import migrations


def forwards(apps, schema_editor):
    from billing.figures import load_figures

    load_figures(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_slsscale_bankstatement_cafstatement_and_more"),
        ("tenancies", "0003_dwelling_tantiemes_historicaldwelling_tantiemes_and_more"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
