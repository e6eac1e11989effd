"""Copy what was injected (names, lot numbers, expiry, amounts) onto the session rows,
so later catalogue edits cannot rewrite a record; fill them for rows already there."""

import datetime
from decimal import Decimal

from django.db import migrations, models


def backfill(apps, schema_editor):
    Injection = apps.get_model("treatments", "Injection")
    InjectionLot = apps.get_model("treatments", "InjectionLot")
    FormulaIngredient = apps.get_model("treatments", "FormulaIngredient")
    if not Injection.objects.exists():
        # A new database: nothing to fill. (The owner that migrates is no superuser:
        # the setting below needs GRANT SET ON PARAMETER, see the README.)
        return
    with schema_editor.connection.cursor() as cursor:
        # Signed rows are frozen by a trigger; this one-off copy is not a change of record.
        cursor.execute("SET LOCAL session_replication_role = replica")
    for injection in Injection.objects.select_related("region", "formula"):
        injection.region_label = injection.region.label
        injection.formula_name = injection.formula.name
        injection.save(update_fields=["region_label", "formula_name"])
    for used in InjectionLot.objects.select_related("lot", "compound", "injection"):
        ingredient = FormulaIngredient.objects.filter(
            formula_id=used.injection.formula_id, compound_id=used.compound_id
        ).first()
        used.compound_name = used.compound.name
        used.lot_number = used.lot.lot_number
        used.lot_expiry = used.lot.expiry_date
        used.amount_per_ml = ingredient.amount_per_ml if ingredient else Decimal("0")
        used.amount_unit = ingredient.unit if ingredient else ""
        used.save(
            update_fields=[
                "compound_name",
                "lot_number",
                "lot_expiry",
                "amount_per_ml",
                "amount_unit",
            ]
        )


class Migration(migrations.Migration):
    dependencies = [("treatments", "0004_zones_front_back_face")]

    operations = [
        migrations.AddField(
            "injection", "restricted_acknowledged", models.BooleanField(default=False)
        ),
        migrations.AddField(
            "injection", "restricted_note", models.CharField(blank=True, max_length=300)
        ),
        migrations.AddField(
            "injection",
            "region_label",
            models.CharField(default="", max_length=100),
            preserve_default=False,
        ),
        migrations.AddField(
            "injection",
            "formula_name",
            models.CharField(default="", max_length=120),
            preserve_default=False,
        ),
        migrations.AddField(
            "injectionlot",
            "compound_name",
            models.CharField(default="", max_length=120),
            preserve_default=False,
        ),
        migrations.AddField(
            "injectionlot",
            "lot_number",
            models.CharField(default="", max_length=60),
            preserve_default=False,
        ),
        migrations.AddField(
            "injectionlot",
            "lot_expiry",
            models.DateField(default=datetime.date(1970, 1, 1)),
            preserve_default=False,
        ),
        migrations.AddField(
            "injectionlot",
            "amount_per_ml",
            models.DecimalField(decimal_places=3, default=Decimal("0"), max_digits=10),
            preserve_default=False,
        ),
        migrations.AddField(
            "injectionlot",
            "amount_unit",
            models.CharField(default="", max_length=4),
            preserve_default=False,
        ),
        # The history tables mirror the columns (older history rows stay blank).
        migrations.AddField(
            "injectionevent", "restricted_acknowledged", models.BooleanField(default=False)
        ),
        migrations.AddField(
            "injectionevent", "restricted_note", models.CharField(blank=True, max_length=300)
        ),
        migrations.AddField(
            "injectionevent",
            "region_label",
            models.CharField(default="", max_length=100),
            preserve_default=False,
        ),
        migrations.AddField(
            "injectionevent",
            "formula_name",
            models.CharField(default="", max_length=120),
            preserve_default=False,
        ),
        migrations.AddField(
            "injectionlotevent",
            "compound_name",
            models.CharField(default="", max_length=120),
            preserve_default=False,
        ),
        migrations.AddField(
            "injectionlotevent",
            "lot_number",
            models.CharField(default="", max_length=60),
            preserve_default=False,
        ),
        migrations.AddField(
            "injectionlotevent",
            "lot_expiry",
            models.DateField(default=datetime.date(1970, 1, 1)),
            preserve_default=False,
        ),
        migrations.AddField(
            "injectionlotevent",
            "amount_per_ml",
            models.DecimalField(decimal_places=3, default=Decimal("0"), max_digits=10),
            preserve_default=False,
        ),
        migrations.AddField(
            "injectionlotevent",
            "amount_unit",
            models.CharField(default="", max_length=4),
            preserve_default=False,
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
