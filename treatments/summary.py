"""The session summary: one set of data for the print view, the PDF and the booklet."""

import threading

from django.conf import settings
from django.contrib.staticfiles import finders
from django.db.models import Count, F, Prefetch, Q, QuerySet, Window, prefetch_related_objects
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from PIL import ImageFile
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from clinic.i18n import in_patient_language
from treatments.models import (
    BodyRegion,
    Injection,
    InjectionLot,
    SideEffect,
    StoredRecord,
    TreatmentSession,
)
from treatments.services.sessions import totals

SUMMARY_CSS = "css/summary.css"
RECORD = "treatments/includes/summary_record.html"

# Imported with the views (a second or so), not on the first signature. Importing
# WeasyPrint turned this on for the whole process: uploads need it off.
ImageFile.LOAD_TRUNCATED_IMAGES = False


def _record_prefetches() -> list:
    """What the signed record's part of the summary shows (summary_record.html)."""
    return [
        Prefetch(
            "injections",
            queryset=Injection.objects.select_related("region").order_by("region__sort_order"),
        ),
        # What was recorded (names, lots, amounts) lives on the rows themselves.
        Prefetch(
            "injections__lots",
            # The compound for its off-label mark (a join, not a query).
            queryset=InjectionLot.objects.select_related("compound").order_by("compound_name"),
        ),
        "acknowledgements__acknowledged_by",
    ]


def _paper_prefetches(*, follow_ups: bool) -> list:
    """What a summary shows besides the record, and (follow_ups) the session page's
    follow-ups with it: paper (the print view, the booklet) shows none."""
    prefetches: list = ["amendments__author"]
    if follow_ups:
        prefetches.append(
            Prefetch(
                "side_effects",
                queryset=SideEffect.objects.with_attention().select_related("reviewed_by"),
            )
        )
    return prefetches


def _prefetches() -> list:
    return _record_prefetches() + _paper_prefetches(follow_ups=False)  # the PDF: paper


def _with_heading(sessions: QuerySet) -> QuerySet:
    return sessions.select_related(
        "patient",
        "location__jurisdiction",
        "practitioner",
        "signed_by",
        "treatment_map__indication",
    )


def with_summary_data(sessions: QuerySet) -> QuerySet:
    """Everything the summary shows, in a fixed number of queries however many zones."""
    return _with_heading(sessions).prefetch_related(*_prefetches())


def with_paper_data(sessions: QuerySet, *, follow_ups: bool = False) -> QuerySet:
    """What a summary shows around the record's part, which records_of gives; with
    `follow_ups`, the session's follow-ups as well (the session page)."""
    return _with_heading(sessions).prefetch_related(*_paper_prefetches(follow_ups=follow_ups))


def record_context(session: TreatmentSession) -> dict:
    """What the signed record's part of the summary draws (summary_record.html)."""
    injections = list(session.injections.all())
    volume, points, per_compound = totals(injections)
    return {
        "session": session,
        "injections": injections,
        "total_volume": volume,
        "total_points": points,
        "per_compound": per_compound,
        # What changed after the treatment, as acknowledged at signing (signed sessions).
        "acknowledgements": list(session.acknowledgements.all()),
        "treated_codes": [injection.region.code for injection in injections],
        "views_used": {injection.region.view for injection in injections},
        "expected_effects": [
            (label, SideEffect.EXPECTED_COURSE[kind][1])
            for kind, label in SideEffect.Kind.choices
            if kind != SideEffect.Kind.OTHER
        ],
    }


def summary(
    session: TreatmentSession, *, session_number: int | None = None, record: str | None = None
) -> dict:
    """The summary's context (summary_body.html). With `record` (records_of), the
    record's part as drawn already; without, everything to draw it."""
    context = {
        "session": session,
        "session_number": session_number,
        "patient": session.patient,
        "amendments": list(session.amendments.all()),
    }
    return context | ({"record": record} if record is not None else record_context(session))


def records_of(sessions: list[TreatmentSession]) -> dict[int, SafeString]:
    """The signed record's part of each session's summary, in the active language.

    A signed session's is drawn once per language and stored (StoredRecord): the rows
    it is drawn from cannot change any more. Stored when signed (store_records); one
    signed earlier, or copied in by seed_demo, is drawn and stored the first time it is
    shown. A draft's is drawn each time. Drawing the record was most of a booklet
    page's time (20 summaries: 85% template rendering, issue 24)."""
    language = get_language()
    records = dict(
        StoredRecord.objects.filter(
            session_id__in=[s.pk for s in sessions if s.is_signed], language=language
        ).values_list("session_id", "html")
    )
    missing = [s for s in sessions if s.pk not in records]
    if missing:
        records |= draw_records(missing)
        StoredRecord.objects.bulk_create(
            [
                StoredRecord(session=s, language=language, html=records[s.pk])
                for s in missing
                if s.is_signed
            ],
            ignore_conflicts=True,  # drawn at the same moment by another request
        )
    # Drawn from our own template, every value escaped there.
    return {pk: mark_safe(html) for pk, html in records.items()}  # noqa: S308  # nosec B308 B703


def draw_records(sessions: list[TreatmentSession]) -> dict[int, str]:
    prefetch_related_objects(sessions, *_record_prefetches())
    regions = list(BodyRegion.objects.all())
    return {
        s.pk: render_to_string(RECORD, {**record_context(s), "regions": regions}) for s in sessions
    }


def store_records(session: TreatmentSession) -> None:
    """Draw and store a session just signed's record in every language of the clinic."""
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            records_of([session])


def render_pdf(session: TreatmentSession, *, regions=None, amendments=None) -> bytes:
    """The summary as an A4 PDF (WeasyPrint), from the same template as the print view.

    With `amendments` (a list, the last possibly not saved yet): the summary as amended,
    marked as such, with exactly those amendments beneath the signed original.
    """
    prefetch_related_objects([session], *_prefetches())
    context = {
        **summary(session, session_number=number_in_plan(session)),
        "regions": regions if regions is not None else list(BodyRegion.objects.all()),
        "for_pdf": True,
    }
    if amendments is not None:
        context |= {"amendments": amendments, "as_amended": True}
    # Drawn in the patient's language, whoever signs it.
    with in_patient_language(session.patient):
        html = render_to_string("treatments/session_summary.html", context)
    font_config, stylesheet = _pdf_setup()
    return HTML(string=html).write_pdf(stylesheets=[stylesheet], font_config=font_config)


_per_thread = threading.local()


def _pdf_setup():
    """WeasyPrint's font configuration and the parsed stylesheet, made once per thread.

    A new font configuration for each PDF made WeasyPrint find and measure the fonts
    again: a third of the time of a 14-zone summary. The PDF is the same byte for byte
    (tests/treatments/test_signing.py). One per thread: Pango's font map is not meant to
    be shared between threads. The template adds no @font-face, which would be added
    to the configuration for good."""
    if not hasattr(_per_thread, "pdf_setup"):
        font_config = FontConfiguration()
        stylesheet = CSS(filename=finders.find(SUMMARY_CSS), font_config=font_config)
        _per_thread.pdf_setup = (font_config, stylesheet)
    return _per_thread.pdf_setup


def render_amended_pdf(session: TreatmentSession, amendments: list) -> bytes:
    """The PDF as amended, stored with each amendment (see add_amendment)."""
    return render_pdf(session, amendments=amendments)


def number_in_plan(session: TreatmentSession) -> int:
    """This session's place in its map's course (1 for the first), drafts aside.

    with_number_in_plan gives the same number to many signed sessions in one query.
    """
    return (
        TreatmentSession.objects.filter(
            treatment_map_id=session.treatment_map_id, performed_at__lte=session.performed_at
        )
        .filter(Q(status=TreatmentSession.Status.SIGNED) | Q(pk=session.pk))
        .count()
    )


def with_number_in_plan(signed: QuerySet) -> QuerySet:
    """Signed sessions annotated with `number_in_plan`, as number_in_plan() counts it.

    A window over the signed sessions of each map, ordered by date: its default frame
    takes in sessions at the same moment too (performed_at <=). Computed before any
    LIMIT/OFFSET, so a page of a booklet is numbered within the whole course.
    """
    return signed.annotate(
        number_in_plan=Window(
            Count("id"), partition_by=[F("treatment_map_id")], order_by=F("performed_at").asc()
        )
    )
