from django.db import migrations


def forwards(apps, schema_editor):
    # The zone code follows the dated resource-ceiling tables ("idf_hors_paris").
    apps.get_model("tenancies", "Commune").objects.filter(ceiling_zone="ile_de_france").update(
        ceiling_zone="idf_hors_paris"
    )


class Migration(migrations.Migration):
    dependencies = [("tenancies", "0003_dwelling_tantiemes_historicaldwelling_tantiemes_and_more")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
