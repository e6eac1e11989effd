# The search finds a patient despite a slip: two letters swapped, one dropped, added or
# mistyped ("nidaye", "amlie"). pg_trgm alone misses these in short names (a swap breaks
# most of a short word's trigrams), so each word of a name also gets a key: its letters,
# sorted. The search looks up the keys one slip away from each typed word through a GIN
# index, then measures the edit distance (fuzzystrmatch's levenshtein_less_equal). See patients/search.py.

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import CreateExtension
from django.db import migrations

import patients.models

# Words are split on anything but a lower-case ASCII letter or digit: search_name is
# folded already, and patients/search.py splits the typed words the same way.
NAME_KEYS = r"""
CREATE FUNCTION mesochart_name_keys(text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN ARRAY(
    SELECT string_agg(letter, '' ORDER BY letter COLLATE "C")
    FROM regexp_split_to_table($1, '[^0-9a-z]+') WITH ORDINALITY AS word(text, n),
         LATERAL regexp_split_to_table(word.text, '') AS letter
    WHERE word.text <> ''
    GROUP BY word.n
    ORDER BY word.n
);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0003_clinical_rules_once"),
    ]

    operations = [
        # A trusted extension (PostgreSQL 13+): the database's owner may create it.
        CreateExtension("fuzzystrmatch"),
        migrations.RunSQL(NAME_KEYS, reverse_sql="DROP FUNCTION mesochart_name_keys(text);"),
        migrations.AddIndex(
            model_name="patient",
            index=django.contrib.postgres.indexes.GinIndex(
                patients.models.NameKeys("search_name"), name="patient_name_keys"
            ),
        ),
        # Statistics of the new index's expression: without them the planner guessed
        # that a slip lookup matches half the patients and scanned them all (5.7 s
        # instead of 0.07 s for a full name over 100,000 patients).
        migrations.RunSQL("ANALYZE patients_patient;", reverse_sql=migrations.RunSQL.noop),
    ]
