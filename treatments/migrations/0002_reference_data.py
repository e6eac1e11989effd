"""Reference data the clinic works by: body regions, indications, compound categories and
the shipped needle rule (4 mm for phototypes I–IV, 6 mm for V–VI). All editable in the
console afterwards; this migration only adds rows that are missing."""

from django.db import migrations

# (code, label, view, side). "Right" and "left" are the patient's own sides.
REGIONS = [
    # Front of the body
    ("arm_right", "Right upper arm", "front", "right"),
    ("arm_left", "Left upper arm", "front", "left"),
    ("abdomen_upper", "Abdomen above the navel", "front", "midline"),
    ("abdomen_lower", "Abdomen below the navel", "front", "midline"),
    ("flank_right", "Right flank (love handle)", "front", "right"),
    ("flank_left", "Left flank (love handle)", "front", "left"),
    ("thigh_outer_right", "Right thigh, outer side", "front", "right"),
    ("thigh_front_right", "Right thigh, front", "front", "right"),
    ("thigh_inner_right", "Right thigh, inner side", "front", "right"),
    ("thigh_inner_left", "Left thigh, inner side", "front", "left"),
    ("thigh_front_left", "Left thigh, front", "front", "left"),
    ("thigh_outer_left", "Left thigh, outer side", "front", "left"),
    ("knee_right", "Right knee", "front", "right"),
    ("knee_left", "Left knee", "front", "left"),
    # Back of the body
    ("neck_back", "Back of the neck (pain)", "back", "midline"),
    ("shoulder_left", "Left shoulder (pain)", "back", "left"),
    ("shoulder_right", "Right shoulder (pain)", "back", "right"),
    ("upper_back", "Upper back", "back", "midline"),
    ("elbow_left", "Left elbow (pain)", "back", "left"),
    ("elbow_right", "Right elbow (pain)", "back", "right"),
    ("lower_back", "Lower back", "back", "midline"),
    ("buttock_left", "Left buttock", "back", "left"),
    ("buttock_right", "Right buttock", "back", "right"),
    ("thigh_back_left", "Left thigh, back", "back", "left"),
    ("thigh_back_right", "Right thigh, back", "back", "right"),
    # Face and neck
    ("forehead", "Forehead", "face", "midline"),
    ("eye_right", "Around the right eye", "face", "right"),
    ("eye_left", "Around the left eye", "face", "left"),
    ("cheek_right", "Right cheek", "face", "right"),
    ("cheek_left", "Left cheek", "face", "left"),
    ("nasolabial_right", "Right nasolabial fold", "face", "right"),
    ("nasolabial_left", "Left nasolabial fold", "face", "left"),
    ("perioral", "Around the mouth", "face", "midline"),
    ("jawline_right", "Right jawline", "face", "right"),
    ("jawline_left", "Left jawline", "face", "left"),
    ("neck_front", "Neck", "face", "midline"),
    ("decollete", "Décolleté", "face", "midline"),
]

INDICATIONS = [
    ("cellulite", "Cellulite"),
    ("localized_fat", "Localized fat deposits"),
    ("weight_loss", "Weight loss"),
    ("anti_aging", "Anti-aging"),
    ("wrinkles_face_lift", "Wrinkles and face lift"),
    ("chronic_pain", "Chronic pain"),
    ("injury_repair", "Injury repair"),
]

CATEGORIES = [
    ("homeopathic", "Homeopathic"),
    ("pharmaceutical", "Pharmaceutical"),
    ("vitamin", "Vitamin"),
    ("mineral", "Mineral"),
    ("amino_acid", "Amino acid"),
    ("other", "Other"),
]

# phototype -> (needle length mm, gauge)
NEEDLES = {1: (4, 30), 2: (4, 30), 3: (4, 30), 4: (4, 30), 5: (6, 30), 6: (6, 30)}


def load(apps, schema_editor):
    BodyRegion = apps.get_model("treatments", "BodyRegion")
    Indication = apps.get_model("treatments", "Indication")
    CompoundCategory = apps.get_model("treatments", "CompoundCategory")
    NeedleRule = apps.get_model("treatments", "NeedleRule")
    for order, (code, label, view, side) in enumerate(REGIONS):
        BodyRegion.objects.get_or_create(
            code=code, defaults={"label": label, "view": view, "side": side, "sort_order": order}
        )
    for code, name in INDICATIONS:
        Indication.objects.get_or_create(code=code, defaults={"name": name})
    for code, name in CATEGORIES:
        CompoundCategory.objects.get_or_create(code=code, defaults={"name": name})
    for phototype, (length, gauge) in NEEDLES.items():
        NeedleRule.objects.get_or_create(
            phototype=phototype, defaults={"length_mm": length, "gauge": gauge}
        )


class Migration(migrations.Migration):
    dependencies = [("treatments", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
