# The typo search's keys on both sides (symmetric deletion): each word of a name is
# stored with its key (its letters, sorted) and, from four letters, each key less one
# letter; a typed word looks up the same. The same words are one slip apart as with
# 0004's keys, but a nine-letter word now looks up 10 keys instead of about 270, which
# had made the index lookups, the recheck of every candidate and the planning of a
# full-name search cost more than its ranking (patients/search.py).

import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.db import migrations, models

import patients.models

# Words are split as mesochart_name_keys() splits them (0004), and as
# patients/search.py splits the typed words.
SLIP_KEYS = r"""
CREATE FUNCTION mesochart_slip_keys(text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN ARRAY(
    SELECT DISTINCT key FROM (
        SELECT string_agg(letter.text, '' ORDER BY letter.text COLLATE "C") AS key
        FROM regexp_split_to_table($1, '[^0-9a-z]+') WITH ORDINALITY AS word(text, n)
        CROSS JOIN LATERAL generate_series(
            0, CASE WHEN length(word.text) >= 4 THEN length(word.text) ELSE 0 END
        ) AS left_out(position)
        CROSS JOIN LATERAL regexp_split_to_table(word.text, '') WITH ORDINALITY
            AS letter(text, position)
        WHERE word.text <> '' AND letter.position <> left_out.position
        GROUP BY word.n, left_out.position
    ) AS keys
    ORDER BY key
);
"""


def name_keys(function):
    return models.GeneratedField(
        db_persist=True,
        expression=function(
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
    )


INDEX = django.contrib.postgres.indexes.GinIndex(
    fields=["name_keys"], name="patient_name_keys_stored"
)


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0012_patient_sort_columns"),
    ]

    operations = [
        migrations.RunSQL(SLIP_KEYS, reverse_sql="DROP FUNCTION mesochart_slip_keys(text);"),
        # PostgreSQL recomputes a generated column only when its row is written: the
        # column is dropped and added again (one rewrite of the table, no history rows).
        migrations.RemoveIndex(model_name="patient", name="patient_name_keys_stored"),
        migrations.RemoveField(model_name="patient", name="name_keys"),
        migrations.AddField(
            model_name="patient", name="name_keys", field=name_keys(patients.models.SlipKeys)
        ),
        migrations.AddIndex(model_name="patient", index=INDEX),
        migrations.RunSQL("ANALYZE patients_patient;", reverse_sql=migrations.RunSQL.noop),
    ]
