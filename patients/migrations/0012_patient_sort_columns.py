# The name order of every list, stored: sort_last and sort_first are the folded names
# (case and accents ignored) that patient_name_order indexes. The search ranked a common
# surname's 1,659 holders by mesochart_unaccent(lower(...)) computed on each, about 10 ms
# of a 30 ms search at 100,000 patients (patients/search.py).

import django.db.models.functions.text
from django.db import migrations, models

import patients.models


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0011_patient_identity_validators"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="patient",
            options={
                "ordering": ["sort_last", "sort_first", "id"],
                "verbose_name": "patient",
                "verbose_name_plural": "patients",
            },
        ),
        migrations.RemoveIndex(
            model_name="patient",
            name="patient_name_order",
        ),
        migrations.AddField(
            model_name="patient",
            name="sort_first",
            field=models.GeneratedField(
                db_persist=True,
                expression=patients.models.Unaccent(
                    django.db.models.functions.text.Lower("first_name")
                ),
                output_field=models.TextField(),
            ),
        ),
        migrations.AddField(
            model_name="patient",
            name="sort_last",
            field=models.GeneratedField(
                db_persist=True,
                expression=patients.models.Unaccent(
                    django.db.models.functions.text.Lower("last_name")
                ),
                output_field=models.TextField(),
            ),
        ),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(fields=["sort_last", "sort_first", "id"], name="patient_name_order"),
        ),
    ]
