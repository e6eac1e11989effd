from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.access import (
    CHANGE_CLINICAL,
    CHANGE_DEMOGRAPHICS,
    VIEW_CLINICAL,
    VIEW_DEMOGRAPHICS,
    requires,
)
from clinic.audit import record_access, record_list_access
from clinic.i18n import patient_language
from clinic.models import AccessLog
from clinic.paging import OffsetPage
from patients.access import get_patient_for
from patients.charts import chart_measurements, measurement_trends
from patients.forms import (
    ArchiveForm,
    ConsentForm,
    MeasurementForm,
    PatientForm,
    PatientSearchForm,
    PhotoForm,
    WithdrawConsentForm,
)
from patients.history import record_changes
from patients.models import ALERT_FIELDS, Consent, ConsentKind, Measurement, Patient, Photo
from patients.record import CHART_SECTIONS
from patients.search import matching_ids, search_patients
from patients.services import (
    StaleEdit,
    add_photo,
    archive_patient,
    consent_statuses,
    has_consent,
    record_consent,
    record_measurement,
    restore_patient,
    save_patient,
    withdraw_consent,
)

PAGE_SIZE = 25
CHART_PHOTOS = 12
SEARCH_LIMIT = 200
LIST_COLUMNS = [
    "id",
    "chart_number",
    "first_name",
    "last_name",
    "date_of_birth",
    "phone",
    "phototype",
    "archived",
    # for the alert badge (Patient.alerts reads each of these)
    *ALERT_FIELDS,
]


@require_GET
@requires(VIEW_DEMOGRAPHICS)
def patient_list(request: HttpRequest) -> HttpResponse:
    form = PatientSearchForm(request.GET)
    form.is_valid()  # an invalid sort is dropped, never used
    data = form.cleaned_data
    term = data.get("q", "")
    found = {
        "include_archived": data.get("archived", False),
        "sort": data.get("sort"),
        "limit": SEARCH_LIMIT + 1,
    }
    with transaction.atomic():
        if term:
            # The matches' ids in order (never more than anyone would read), paged in
            # memory; only the page's patients are loaded.
            matches = matching_ids(term, **found)
            truncated = len(matches) > SEARCH_LIMIT
            page = Paginator(matches[:SEARCH_LIMIT], PAGE_SIZE).get_page(request.GET.get("page"))
            shown = Patient.objects.only(*LIST_COLUMNS).in_bulk(page.object_list)
            rows = [shown[pk] for pk in page.object_list]
        else:
            truncated = False
            patients = search_patients(term, **found).only(*LIST_COLUMNS)
            page = OffsetPage.of(patients, request.GET.get("page"), PAGE_SIZE)
            rows = list(page.object_list)
    record_list_access(request, rows)  # names, birth dates and the alert badges
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    return render(
        request,
        "patients/patient_list.html",
        {
            "form": form,
            "page": page,
            "patients": rows,
            "query": query.urlencode(),
            "sort_query": sort_query.urlencode(),
            # Browsing without a search is in name order: say so on the header.
            "sort": data.get("sort") or ("" if term else "name"),
            "truncated": truncated,
            "search_limit": SEARCH_LIMIT,
        },
    )


@require_http_methods(["GET", "POST"])
@requires(CHANGE_DEMOGRAPHICS)
def patient_create(request: HttpRequest) -> HttpResponse:
    clinical = request.user.has_perm(CHANGE_CLINICAL)
    form = PatientForm(request.POST or None, clinical=clinical)
    if request.method == "POST" and form.is_valid():
        patient = save_patient(
            patient=form.save(commit=False), fields=list(form.fields), expected_version=None
        )
        messages.success(
            request,
            gettext("%(name)s was added as %(chart)s.")
            % {"name": patient.full_name, "chart": patient.chart_number},
        )
        return redirect(patient)
    return render(request, "patients/patient_form.html", {"form": form, "patient": None})


@require_http_methods(["GET", "POST"])
def patient_edit(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for(request, pk, CHANGE_DEMOGRAPHICS)
    clinical = request.user.has_perm(CHANGE_CLINICAL)
    form = PatientForm(request.POST or None, instance=patient, clinical=clinical)
    conflict = None
    if request.method == "POST" and form.is_valid():
        fields = [name for name in form.fields if name != "version"]
        try:
            save_patient(
                patient=form.save(commit=False),
                fields=fields,
                expected_version=form.cleaned_data.get("version"),
            )
        except StaleEdit as stale:
            conflict = _form_labels(stale.changed, form)
            # Keep what this user typed; the next save knowingly replaces the newer version.
            data = request.POST.copy()
            data["version"] = stale.current.version
            form = PatientForm(data, instance=stale.current, clinical=clinical)
            form.is_valid()
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, gettext("Patient record saved."))
            return redirect(patient)
    # Shown (first or again with errors): the form holds the whole record.
    record_access(request, patient=patient, action=AccessLog.Action.VIEW)
    return render(
        request,
        "patients/patient_form.html",
        {"form": form, "patient": patient, "conflict": conflict},
    )


def _form_labels(changed: dict, form: PatientForm) -> dict:
    """The conflict's fields named as the form names them (in the reader's language):
    what_changed names them by verbose name, which most patient fields leave implicit."""
    by_verbose_name = {
        str(Patient._meta.get_field(name).verbose_name): field.label
        for name, field in form.fields.items()
        if name != "version"
    }
    return {by_verbose_name.get(label, label): values for label, values in changed.items()}


@require_POST
def patient_archive(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for(request, pk, CHANGE_CLINICAL)
    form = ArchiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("The archive request was incomplete; nothing was changed."))
        return redirect(patient)
    if request.POST.get("restore"):
        restore_patient(patient=patient)
        messages.success(
            request, gettext("%(name)s is active again.") % {"name": patient.full_name}
        )
        return redirect(patient)
    try:
        archive_patient(patient=patient, expected_version=form.cleaned_data["version"])
    except StaleEdit:
        messages.error(
            request,
            gettext("The record changed while you were looking at it; review it and try again."),
        )
    else:
        messages.success(
            request,
            gettext("%(name)s was archived. The record is kept and can be restored.")
            % {"name": patient.full_name},
        )
    return redirect(patient)


@require_GET
def patient_chart(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for(request, pk, VIEW_DEMOGRAPHICS)
    context: dict = {"patient": patient}
    if request.user.has_perm(VIEW_CLINICAL):
        # The sections the apps built on patients add (treatments: maps, sessions, follow-ups).
        for section in CHART_SECTIONS.values():
            context.update(section(request, patient))
        consents, statuses = consent_statuses(patient)
        kept = patient.photos.filter(archived=False)
        # The latest photos; every one stays reachable through its region's comparison.
        photos = list(kept.order_by("-taken_at", "-id")[:CHART_PHOTOS])
        groups = _photo_groups(kept)
        context.update(
            consents=consents,
            consent_statuses=statuses,
            photos=photos,
            photo_groups=[group for group in groups if group[3] > 1],
            all_photo_groups=groups,
            photo_total=sum(group[3] for group in groups),
            trends=measurement_trends(chart_measurements(patient.measurements.all())),
        )
    record_access(request, patient=patient, action=AccessLog.Action.VIEW)
    return render(request, "patients/patient_chart.html", context)


def _photo_groups(photos) -> list[tuple[str, str, str, int]]:
    """(region, view, view label, count) for each region and view, counted in one query."""
    labels = dict(Photo.View.choices)
    rows = photos.order_by().values_list("region", "view").annotate(count=Count("id"))
    return [(region, view, labels.get(view, view), count) for region, view, count in sorted(rows)]


@require_http_methods(["GET", "POST"])
def consent_new(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for(request, pk, CHANGE_CLINICAL)
    form = ConsentForm(
        request.POST or None,
        request.FILES or None,
        instance=Consent(patient=patient),
        kind=request.GET.get("kind"),
    )
    if not form.fields["template"].queryset.exists():
        messages.error(
            request, gettext("No consent wording exists yet: a catalogue administrator adds it.")
        )
    if request.method == "POST" and form.is_valid():
        consent = form.save(commit=False)
        try:
            record_consent(consent=consent, image=form.cleaned_image, user=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, gettext("%(consent)s recorded.") % {"consent": consent.template}
            )
            return redirect(patient)
    record_access(request, patient=patient, action=AccessLog.Action.VIEW)
    # The wording in the patient's language (record_consent notes which one was shown).
    language = patient_language(patient)
    wordings = [(t, t.wording_in(language)) for t in form.fields["template"].queryset]
    return render(
        request,
        "patients/consent_form.html",
        {"form": form, "patient": patient, "wordings": wordings, "patient_language": language},
    )


@require_POST
def consent_withdraw(request: HttpRequest, pk: int, consent_pk: int) -> HttpResponse:
    patient = get_patient_for(request, pk, CHANGE_CLINICAL)
    consent = get_object_or_404(Consent, pk=consent_pk, patient=patient)
    form = WithdrawConsentForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Give the reason for the withdrawal; nothing was changed."))
        return redirect(patient)
    try:
        withdraw_consent(consent=consent, user=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, gettext("The consent is withdrawn; the signed record is kept."))
    return redirect(patient)


@require_GET
def consent_signature(request: HttpRequest, pk: int, consent_pk: int) -> FileResponse:
    patient = get_patient_for(request, pk, VIEW_CLINICAL)
    consent = get_object_or_404(Consent, pk=consent_pk, patient=patient)
    record_access(request, patient=patient, action=AccessLog.Action.DOWNLOAD, subject=consent)
    return _private_file(consent.signature)


@require_http_methods(["GET", "POST"])
def photo_new(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for(request, pk, CHANGE_CLINICAL)
    consented = has_consent(patient, ConsentKind.PHOTOGRAPHY)
    form = PhotoForm(request.POST or None, request.FILES or None, instance=Photo(patient=patient))
    if request.method == "POST" and form.is_valid():
        photo = form.save(commit=False)
        try:
            add_photo(photo=photo, image=form.cleaned_image, user=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, gettext("Photo added."))
            return redirect(patient)
    record_access(request, patient=patient, action=AccessLog.Action.VIEW)
    return render(
        request,
        "patients/photo_form.html",
        {"form": form, "patient": patient, "consented": consented},
    )


@require_GET
def photo_file(request: HttpRequest, pk: int, photo_pk: int, size: str) -> FileResponse:
    patient = get_patient_for(request, pk, VIEW_CLINICAL)
    photo = get_object_or_404(Photo, pk=photo_pk, patient=patient)
    # Every fetch is logged, thumbnails included: they can be requested on their own.
    record_access(request, patient=patient, action=AccessLog.Action.DOWNLOAD, subject=photo)
    return _private_file(photo.image if size == "full" else photo.thumbnail)


@require_GET
def photo_compare(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for(request, pk, VIEW_CLINICAL)
    region, view = request.GET.get("region", ""), request.GET.get("view", "")
    candidates = list(
        patient.photos.filter(region=region, view=view, archived=False).order_by("taken_at", "id")
    )
    if not candidates:
        raise Http404(gettext("No photos of that region and view."))
    by_id = {str(photo.pk): photo for photo in candidates}
    befores = [photo for photo in candidates if photo.phase == Photo.Phase.BEFORE]
    left = by_id.get(request.GET.get("left", "")) or (befores or candidates)[0]
    right = by_id.get(request.GET.get("right", "")) or candidates[-1]
    record_access(request, patient=patient, action=AccessLog.Action.VIEW)
    return render(
        request,
        "patients/photo_compare.html",
        {
            "patient": patient,
            "left": left,
            "right": right,
            "pair": [left, right],
            "days_apart": abs((right.taken_at - left.taken_at).days),
            "candidates": candidates,
        },
    )


@require_GET
def measurements(request: HttpRequest, pk: int) -> HttpResponse:
    """Every measurement of the patient, as trends: what the chart draws in part."""
    patient = get_patient_for(request, pk, VIEW_CLINICAL)
    record_access(request, patient=patient, action=AccessLog.Action.VIEW)
    trends = measurement_trends(list(patient.measurements.order_by("site", "measured_on", "id")))
    return render(request, "patients/measurements.html", {"patient": patient, "trends": trends})


@require_http_methods(["GET", "POST"])
def measurement_new(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for(request, pk, CHANGE_CLINICAL)
    form = MeasurementForm(request.POST or None, instance=Measurement(patient=patient))
    if request.method == "POST" and form.is_valid():
        try:
            measurement = record_measurement(measurement=form.save(commit=False), user=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                gettext("Measurement recorded: %(measurement)s.") % {"measurement": measurement},
            )
            if "another" in request.POST:
                return redirect("patients:measurement_new", pk=patient.pk)
            return redirect(patient)
    # the form lists the sites already measured
    record_access(request, patient=patient, action=AccessLog.Action.VIEW)
    sites = patient.measurements.order_by("site").values_list("site", flat=True).distinct()
    return render(
        request,
        "patients/measurement_form.html",
        {"form": form, "patient": patient, "known_sites": list(sites)},
    )


def _private_file(field) -> FileResponse:
    try:
        handle = field.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404(gettext("The file is missing from storage.")) from None
    response = FileResponse(handle, content_type=_content_type(field.name))
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _content_type(name: str) -> str:
    return "image/png" if name.endswith(".png") else "image/jpeg"


HISTORY_LIMIT = 200


@require_GET
def patient_access(request: HttpRequest, pk: int) -> HttpResponse:
    """Who saw or changed this record: its access-log rows and the history of its rows."""
    patient = get_patient_for(request, pk, VIEW_CLINICAL)  # the changes show clinical values
    page = OffsetPage.of(
        AccessLog.objects.filter(patient_id=patient.pk)
        .select_related("user", "content_type")
        .order_by("-at", "-id"),
        request.GET.get("page"),
        PAGE_SIZE * 2,
    )
    changes = record_changes(patient, limit=HISTORY_LIMIT)
    record_access(request, patient=patient, action=AccessLog.Action.VIEW)
    return render(
        request,
        "patients/patient_access.html",
        {
            "patient": patient,
            "page": page,
            "rows": list(page.object_list),
            "changes": changes,
            "history_limit": HISTORY_LIMIT,
        },
    )
