# The session list's order (-performed_at, -id) without a sort of every session: see the
# comment on TreatmentSession.Meta.indexes.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0010_amendment_pdf"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="treatmentsession",
            index=models.Index(fields=["performed_at", "id"], name="session_performed_idx"),
        ),
    ]
