# The typo search's name keys, stored: mesochart_name_keys() ran for every candidate row,
# up to four times (two typed words, in the index recheck and again in the filter), about
# 20 us a call: most of a surname-with-a-typo search over 100,000 patients.

import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.db import migrations, models

import patients.models


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0005_free_text_fields"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="patient",
            name="patient_name_keys",
        ),
        migrations.AddField(
            model_name="patient",
            name="name_keys",
            field=models.GeneratedField(
                db_persist=True,
                expression=patients.models.NameKeys(
                    patients.models.Unaccent(
                        django.db.models.functions.text.Lower(
                            django.db.models.functions.text.Concat(
                                models.F("first_name"),
                                models.Value(" "),
                                models.F("last_name"),
                                output_field=models.TextField(),
                            )
                        )
                    )
                ),
                output_field=django.contrib.postgres.fields.ArrayField(
                    base_field=models.TextField(), size=None
                ),
            ),
        ),
        migrations.AddIndex(
            model_name="patient",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["name_keys"], name="patient_name_keys_stored"
            ),
        ),
        # Statistics for the new column (see 0004): the planner's guess of a key lookup.
        migrations.RunSQL("ANALYZE patients_patient;", reverse_sql=migrations.RunSQL.noop),
    ]
