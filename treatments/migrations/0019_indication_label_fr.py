"""A French label for each indication, filled for the indications shipped by 0002 (where the
clinic has not given one already). Both names stay editable in the console."""

from django.db import migrations

import clinic.fields

FRENCH = {
    "cellulite": "Cellulite",
    "localized_fat": "Dépôts graisseux localisés",
    "weight_loss": "Perte de poids",
    "anti_aging": "Anti-âge",
    "wrinkles_face_lift": "Rides et lifting du visage",
    "chronic_pain": "Douleur chronique",
    "injury_repair": "Réparation des blessures",
}


def add_french_labels(apps, schema_editor):
    Indication = apps.get_model("treatments", "Indication")
    for indication in Indication.objects.filter(code__in=FRENCH, label_fr=""):
        indication.label_fr = FRENCH[indication.code]
        indication.save(update_fields=["label_fr"])


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0018_signature_acknowledgements"),
    ]

    operations = [
        migrations.AddField(
            model_name="indication",
            name="label_fr",
            field=clinic.fields.FreeCharField(
                blank=True,
                max_length=100,
                verbose_name="French label",
            ),
        ),
        migrations.RunPython(add_french_labels, migrations.RunPython.noop),
    ]
