import django.db.models.deletion
from django.db import migrations, models


def backfill(apps, schema_editor):
    Inspection = apps.get_model("inspections", "Inspection")
    for inspection in Inspection.objects.select_related("lease__dwelling__building__estate"):
        inspection.agency_id = inspection.lease.dwelling.building.estate.agency_id
        inspection.save(update_fields=["agency"])


class Migration(migrations.Migration):
    dependencies = [
        ("inspections", "0002_reference_data"),
        ("tenancies", "0007_load_legal_delays"),
    ]

    operations = [
        migrations.AddField(
            model_name="inspection",
            name="agency",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="tenancies.agency",
                verbose_name="agence",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="inspection",
            name="agency",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="tenancies.agency",
                verbose_name="agence",
            ),
        ),
        migrations.AddField(
            model_name="historicalinspection",
            name="agency",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="tenancies.agency",
                verbose_name="agence",
            ),
        ),
        migrations.AddIndex(
            model_name="inspection",
            index=models.Index(fields=["agency", "scheduled_at"], name="inspection_agency_scheduled"),
        ),
    ]
