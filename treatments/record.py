"""What treatments adds to a patient's pages (patients/record.py): the chart's maps,
needle, sessions and follow-ups needing attention, and the rows the history follows."""

from django.db.models import Count
from django.http import HttpRequest

from clinic.paging import OffsetPage
from patients.models import Patient
from patients.record import add_chart_section, add_history
from treatments.models import NeedleRule, SideEffect, TreatmentMap, TreatmentSession

CHART_SESSIONS = 10


def chart_section(request: HttpRequest, patient: Patient) -> dict:
    return {
        "needle": NeedleRule.objects.for_patient(patient),
        "maps": list(
            TreatmentMap.objects.for_patient(patient)
            .select_related("indication", "location")
            .annotate(zone_count=Count("zones"))
        ),
        # The latest sessions at a glance, older ones a page at a time: a history of
        # hundreds of sessions would otherwise fill the chart (and its query).
        "sessions": OffsetPage.of(
            TreatmentSession.objects.for_patient(patient).select_related("location"),
            request.GET.get("sessions"),
            CHART_SESSIONS,
        ),
        "flagged": list(
            SideEffect.objects.needing_attention()
            .filter(session__patient=patient)
            .select_related("session")
            .order_by("-onset")
        ),
    }


def register() -> None:
    """Called by TreatmentsConfig.ready()."""
    add_chart_section("treatments", chart_section)
    add_history(
        # A zone points at its map, an injection or a follow-up at its session, a lot used
        # at its injection: each level's events are found by what they reference.
        levels=[
            ("treatments.TreatmentMap", "patient"),
            ("treatments.TreatmentSession", "patient"),
            ("treatments.Injection", "session__patient"),
        ],
        named={
            "treatments.BodyRegion": lambda region: region.shown_label(),
            "treatments.Indication": lambda indication: indication.shown_label(),
            "treatments.Formula": lambda formula: formula.name,
            "treatments.Compound": lambda compound: compound.name,
            "treatments.CompoundLot": lambda lot: lot.lot_number,
        },
        # An injection keeps the region's English label as recorded.
        snapshots={"region_label": "region_id"},
    )
