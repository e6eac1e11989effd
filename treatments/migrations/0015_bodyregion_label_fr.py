"""A French label for each body region, filled for the regions shipped by 0002 (where the
clinic has not given one already). Both labels stay editable in the console."""

from django.db import migrations

import clinic.fields

# Right and left are the patient's own sides, as in the English labels.
FRENCH = {
    "arm_right": "Bras droit",
    "arm_left": "Bras gauche",
    "abdomen_upper": "Abdomen au-dessus du nombril",
    "abdomen_lower": "Abdomen sous le nombril",
    "flank_right": "Flanc droit (poignée d'amour)",
    "flank_left": "Flanc gauche (poignée d'amour)",
    "thigh_outer_right": "Cuisse droite, face externe",
    "thigh_front_right": "Cuisse droite, face antérieure",
    "thigh_inner_right": "Cuisse droite, face interne",
    "thigh_inner_left": "Cuisse gauche, face interne",
    "thigh_front_left": "Cuisse gauche, face antérieure",
    "thigh_outer_left": "Cuisse gauche, face externe",
    "knee_right": "Genou droit",
    "knee_left": "Genou gauche",
    "neck_back": "Nuque (douleur)",
    "shoulder_left": "Épaule gauche (douleur)",
    "shoulder_right": "Épaule droite (douleur)",
    "upper_back": "Haut du dos",
    "elbow_left": "Coude gauche (douleur)",
    "elbow_right": "Coude droit (douleur)",
    "lower_back": "Bas du dos",
    "buttock_left": "Fesse gauche",
    "buttock_right": "Fesse droite",
    "thigh_back_left": "Cuisse gauche, face postérieure",
    "thigh_back_right": "Cuisse droite, face postérieure",
    "forehead": "Front",
    "eye_right": "Contour de l'œil droit",
    "eye_left": "Contour de l'œil gauche",
    "cheek_right": "Joue droite",
    "cheek_left": "Joue gauche",
    "nasolabial_right": "Sillon nasogénien droit",
    "nasolabial_left": "Sillon nasogénien gauche",
    "perioral": "Contour de la bouche",
    "jawline_right": "Ligne de la mâchoire, côté droit",
    "jawline_left": "Ligne de la mâchoire, côté gauche",
    "neck_front": "Cou",
    "decollete": "Décolleté",
}


def add_french_labels(apps, schema_editor):
    BodyRegion = apps.get_model("treatments", "BodyRegion")
    for region in BodyRegion.objects.filter(code__in=FRENCH, label_fr=""):
        region.label_fr = FRENCH[region.code]
        region.save(update_fields=["label_fr"])


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0014_side_effect_flag_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="bodyregion",
            name="label_fr",
            field=clinic.fields.FreeCharField(
                blank=True,
                max_length=100,
                verbose_name="French label",
            ),
        ),
        migrations.RunPython(add_french_labels, migrations.RunPython.noop),
    ]
