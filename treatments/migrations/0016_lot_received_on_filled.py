"""Every lot gets a received date: the session form and the session service refuse a lot
for a session before its delivery, so none may be left without one.

A lot without one is taken as received on the earliest of: the day it was entered in
the catalogue (its history's first event), the day of the first session that used it,
and today. That never refuses a use already recorded.
"""

from django.db import migrations
from django.db.models import Min
from django.utils import timezone


def fill_received_on(apps, schema_editor):
    CompoundLot = apps.get_model("treatments", "CompoundLot")
    CompoundLotEvent = apps.get_model("treatments", "CompoundLotEvent")
    InjectionLot = apps.get_model("treatments", "InjectionLot")
    today = timezone.localdate()
    for lot in CompoundLot.objects.filter(received_on__isnull=True).iterator():
        moments = [
            CompoundLotEvent.objects.filter(pgh_obj_id=lot.pk).aggregate(m=Min("pgh_created_at"))[
                "m"
            ],
            InjectionLot.objects.filter(lot_id=lot.pk).aggregate(
                m=Min("injection__session__performed_at")
            )["m"],
        ]
        days = [timezone.localtime(moment).date() for moment in moments if moment is not None]
        lot.received_on = min([today, *days])
        lot.save(update_fields=["received_on"])


class Migration(migrations.Migration):
    dependencies = [("treatments", "0015_bodyregion_label_fr")]

    operations = [migrations.RunPython(fill_received_on, migrations.RunPython.noop)]
