import re
from datetime import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.access import (
    RECORD_INJECTIONS,
    VIEW_CLINICAL,
    VIEW_SESSION_LIST,
    requires,
)
from clinic.audit import record_access, record_list_access
from clinic.concurrency import StaleEdit
from clinic.forms import formset_problems, problems_of, refill
from clinic.i18n import in_patient_language, render_for_patient
from clinic.models import AccessLog, Location
from clinic.numbers import int_or_none
from clinic.paging import OffsetPage
from patients.access import get_patient_for
from patients.models import ConsentKind
from patients.services import has_consent
from treatments.access import get_session_for
from treatments.forms.sessions import (
    AmendmentForm,
    ApplyToRowsForm,
    ResolveForm,
    ReviewForm,
    SessionForm,
    SideEffectForm,
    default_needle_everywhere,
    injection_formset,
    injection_row,
    posted_rows,
)
from treatments.models import (
    SideEffect,
    TreatmentMap,
    TreatmentSession,
)
from treatments.services.sessions import (
    add_amendment,
    add_side_effect,
    resolve_side_effect,
    review_side_effect,
    save_session,
    sign_session,
    signing_problems,
)
from treatments.services.signature import changes_since_treatment
from treatments.summary import (
    number_in_plan,
    records_of,
    render_amended_pdf,
    render_pdf,
    store_records,
    summary,
    with_number_in_plan,
    with_paper_data,
    with_summary_data,
)


@require_GET
@requires(VIEW_SESSION_LIST)
def session_list(request: HttpRequest) -> HttpResponse:
    """Date, patient, practitioner and status: no clinical detail (assistants see it)."""
    sessions = TreatmentSession.objects.select_related(
        "patient", "practitioner", "location"
    ).order_by("-performed_at", "-id")
    if request.GET.get("status") in TreatmentSession.Status.values:
        sessions = sessions.filter(status=request.GET["status"])
    # No COUNT(*): over every session of the clinic it grows with the data.
    page = OffsetPage.of(sessions, request.GET.get("page"), 25)
    rows = page.object_list
    record_list_access(request, [session.patient for session in rows])
    return render(
        request,
        "treatments/session_list.html",
        {
            "page": page,
            "sessions": rows,
            "status": request.GET.get("status"),
            "query": f"status={request.GET['status']}" if "status" in request.GET else "",
        },
    )


@require_http_methods(["GET", "POST"])
def session_new(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for(request, pk, RECORD_INJECTIONS)
    maps = list(TreatmentMap.objects.for_patient(patient).filter(status="active"))
    chosen = next((m for m in maps if str(m.pk) == request.GET.get("map", "")), None)
    if chosen is None and len(maps) == 1:
        chosen = maps[0]
    if chosen is None:
        record_access(request, patient=patient, action=AccessLog.Action.VIEW)
        return render(
            request, "treatments/session_choose_map.html", {"patient": patient, "maps": maps}
        )
    session = TreatmentSession(
        patient=patient, treatment_map=chosen, practitioner=request.user, location=chosen.location
    )
    return _edit(
        request,
        session,
        initial={
            "location": chosen.location,
            "performed_at": timezone.localtime().replace(second=0, microsecond=0),
        },
    )


@require_http_methods(["GET", "POST"])
def session_edit(request: HttpRequest, pk: int) -> HttpResponse:
    session = get_session_for(request, pk, RECORD_INJECTIONS)
    if session.is_signed:
        messages.error(request, gettext("This session is signed and can no longer be edited."))
        return redirect(session)
    return _edit(request, session)


# The session form's bulk buttons without JavaScript: the page again, filled, unsaved.
APPLY = {"ticked", "all", "needle"}


def _edit(request: HttpRequest, session: TreatmentSession, initial=None) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    applying = data.get("apply", "") if data is not None and data.get("apply") in APPLY else ""
    if applying:
        form = SessionForm(instance=session, initial=initial)
        refill(form, data)
        formset = injection_formset(
            session=session, moment=_typed_moment(form), shown=posted_rows(data)
        )
        apply_form = ApplyToRowsForm(data, formset=formset)
        if applying == "needle":
            if session.needle_rule is not None:
                default_needle_everywhere(formset, session.needle_rule)
        else:
            apply_form.fill(formset, applying)
        return _show(request, session, form, formset, apply_form)
    form = SessionForm(data, instance=session, initial=initial)
    # The session form first: the rows offer the lots usable on its date and are
    # checked against its date and location.
    valid = data is not None and form.is_valid()
    formset = injection_formset(session=session, data=data, moment=_session_moment(form))
    conflict = None
    # Every stage runs, whatever the one before found: one save reports every problem.
    if data is not None and all([valid, formset.is_valid(), formset.check_with(form.instance)]):
        try:
            saved = save_session(
                session=form.save(commit=False),
                injections=[f.planned() for f in formset.treated_forms()],
                expected_version=form.cleaned_data.get("version"),
            )
        except StaleEdit as stale:
            conflict = stale.changed
            fresh = request.POST.copy()
            fresh["version"] = stale.current.version
            form = SessionForm(fresh, instance=stale.current)
            form.is_valid()
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, gettext("Session saved as a draft."))
            return redirect(saved)
    apply_form = ApplyToRowsForm(formset=formset)
    return _show(request, session, form, formset, apply_form, conflict=conflict)


def _show(request, session, form, formset, apply_form, conflict=None) -> HttpResponse:
    """The session form (first, again with errors, or filled by a bulk button), with the
    patient's alerts: its view is logged."""
    record_access(
        request,
        patient=session.patient,
        action=AccessLog.Action.VIEW,
        subject=session.treatment_map,
    )
    needle_off = [f for f in formset.forms if f.needle_off]
    return render(
        request,
        "treatments/session_form.html",
        {
            "form": form,
            "formset": formset,
            "apply_form": apply_form,
            "needle": session.needle_rule,
            "needle_off": len(needle_off),
            "session": session,
            "patient": session.patient,
            "conflict": conflict,
            "problems": problems_of(form, where=gettext("Session"), anchor="session-form")
            + problems_of(apply_form, where=gettext("Apply to several zones"), anchor="apply")
            + formset_problems(formset, where=_row_name, anchor="zone"),
            "consent_on_file": has_consent(
                session.patient, ConsentKind.TREATMENT, at=session.performed_at
            ),
        },
    )


def _row_name(form) -> str:
    return form.zone.region.shown_label() if form.zone else gettext("Zone")


def _session_moment(form: SessionForm) -> datetime | None:
    """When the session took place, as entered (or saved); None before one is known."""
    return (form.cleaned_data.get("performed_at") if form.is_bound else None) or (
        form.initial.get("performed_at") or form.instance.performed_at
    )


def _typed_moment(form: SessionForm) -> datetime | None:
    """When the session took place, as typed in an unbound form shown again."""
    try:
        return form.fields["performed_at"].clean(form.initial.get("performed_at"))
    except ValidationError:
        return form.instance.performed_at


@require_GET
@requires(RECORD_INJECTIONS)
def injection_lots(request: HttpRequest) -> HttpResponse:
    """One injection row's lot fields and formulary note for the mixture just chosen,
    drawn as the session form draws them (the form's script swaps them in). Catalogue
    data only: no patient's."""
    prefix = request.GET.get("prefix", "")
    if not re.fullmatch(r"form-\d{1,3}", prefix):
        raise Http404("Unknown row.")
    location = Location.objects.active().filter(pk=int_or_none(request.GET.get("location")))
    # The session's date and time as typed (datetime-local), or a date alone.
    try:
        moment = datetime.fromisoformat(request.GET.get("date", "")[:16])
    except ValueError:
        moment = None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    form = injection_row(
        prefix=prefix,
        formula=request.GET.get("formula", ""),
        lots={k: v for k, v in request.GET.items() if re.fullmatch(r"lot_\d+", k) and v},
        location=location.select_related("jurisdiction").first(),
        moment=moment,
    )
    return render(request, "treatments/includes/injection_lots.html", {"f": form})


@require_GET
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, pk, AmendmentForm())


def _render_detail(request: HttpRequest, pk: int, amendment_form: AmendmentForm) -> HttpResponse:
    session = get_session_for(
        request,
        pk,
        VIEW_CLINICAL,
        queryset=with_paper_data(TreatmentSession.objects.all(), follow_ups=True),
    )
    record_access(request, patient=session.patient, action=AccessLog.Action.VIEW, subject=session)
    return render(
        request,
        "treatments/session_detail.html",
        {
            **summary(session, record=records_of([session])[session.pk]),
            "amendment_form": amendment_form,
            # A draft says what changed since the treatment; signing will ask about it.
            "changes": [] if session.is_signed else changes_since_treatment(session),
            # A refused amendment: the page again, its errors summed up at the top (as on
            # the session form), status 200 like every other form shown again.
            "problems": problems_of(
                amendment_form, where=gettext("Amendment"), anchor="amendment-form"
            ),
        },
    )


@require_http_methods(["GET", "POST"])
def session_sign(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what signing means, what is still missing, and what changed since the
    treatment (each to acknowledge). POST: sign; refused, the page again with why."""
    session = get_session_for(request, pk, RECORD_INJECTIONS)
    if session.is_signed:
        messages.info(request, gettext("This session is already signed."))
        return redirect(session)
    notes: dict[str, str] = {}
    refused: list[str] = []
    if request.method == "POST":
        # A change counts as acknowledged when its box is ticked; its note goes with it.
        notes = {
            key: request.POST.get(f"note:{key}", "") for key in request.POST.getlist("acknowledge")
        }
        try:
            with transaction.atomic():
                signed = sign_session(
                    session=session,
                    user=request.user,
                    render_pdf=render_pdf,
                    expected_version=int_or_none(request.POST.get("version")),
                    acknowledgements=notes,
                )
                # The record's part of the summary, drawn once with the PDF.
                store_records(signed)
        except ValidationError as error:
            refused = error.messages
        else:
            messages.success(
                request,
                gettext("Session signed. It can no longer be changed; corrections are amendments."),
            )
            return redirect(session)
        session.refresh_from_db()
    else:
        record_access(
            request, patient=session.patient, action=AccessLog.Action.VIEW, subject=session
        )
    return render(
        request,
        "treatments/session_sign.html",
        {
            "session": session,
            "patient": session.patient,
            "problems": signing_problems(session),
            "changes": changes_since_treatment(session),
            "notes": notes,
            "refused": refused,
        },
    )


@require_POST
def amendment_new(request: HttpRequest, pk: int) -> HttpResponse:
    session = get_session_for(request, pk, RECORD_INJECTIONS)
    form = AmendmentForm(request.POST)
    if form.is_valid():
        try:
            add_amendment(
                session=session,
                author=request.user,
                render_pdf=render_amended_pdf,
                **form.cleaned_data,
            )
        except ValidationError as error:
            # The rule is the model's or the service's: shown on the form, with the typing.
            form.add_error(None, error)
        else:
            messages.success(request, gettext("Amendment recorded beneath the original."))
            return redirect(session)
    # Show the page again with the errors, keeping what was typed.
    return _render_detail(request, pk, form)


@require_http_methods(["GET", "POST"])
def side_effect_new(request: HttpRequest, pk: int) -> HttpResponse:
    session = get_session_for(request, pk, RECORD_INJECTIONS)
    form = SideEffectForm(request.POST or None, session=session)
    if request.method == "POST" and form.is_valid():
        side_effect = form.save(commit=False)
        side_effect.session = session
        try:
            add_side_effect(side_effect=side_effect, user=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, gettext("Follow-up recorded."))
            return redirect(session)
    record_access(request, patient=session.patient, action=AccessLog.Action.VIEW, subject=session)
    return render(
        request,
        "treatments/side_effect_form.html",
        {"form": form, "session": session, "courses": SideEffect.EXPECTED_COURSE.items()},
    )


@require_POST
def side_effect_resolve(request: HttpRequest, pk: int, effect_pk: int) -> HttpResponse:
    session = get_session_for(request, pk, RECORD_INJECTIONS)
    effect = get_object_or_404(SideEffect, pk=effect_pk, session=session)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Give the date and time it resolved."))
        return redirect(session)
    try:
        resolve_side_effect(side_effect=effect, resolved_at=form.cleaned_data["resolved_at"])
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(
            request, gettext("%(kind)s marked resolved.") % {"kind": effect.get_kind_display()}
        )
    return redirect(session)


@require_POST
def side_effect_review(request: HttpRequest, pk: int, effect_pk: int) -> HttpResponse:
    """A practitioner acknowledges a flagged follow-up, with a note."""
    session = get_session_for(request, pk, RECORD_INJECTIONS)
    effect = get_object_or_404(SideEffect, pk=effect_pk, session=session)
    form = ReviewForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors["note"])
        review_side_effect(side_effect=effect, user=request.user, note=form.cleaned_data["note"])
    except ValidationError as error:
        messages.error(
            request,
            gettext("%(kind)s: %(problem)s")
            % {"kind": effect.get_kind_display(), "problem": error.messages[0]},
        )
    else:
        messages.success(
            request, gettext("%(kind)s marked reviewed.") % {"kind": effect.get_kind_display()}
        )
    # Reviewed from the dashboard: back there (a fixed choice, never a posted URL).
    return redirect("home" if request.POST.get("return_to") == "dashboard" else session)


@require_GET
def session_print(request: HttpRequest, pk: int) -> HttpResponse:
    session = get_session_for(
        request, pk, VIEW_CLINICAL, queryset=with_paper_data(TreatmentSession.objects.all())
    )
    record_access(request, patient=session.patient, action=AccessLog.Action.PRINT, subject=session)
    with in_patient_language(session.patient):
        record = records_of([session])[session.pk]
    return render_for_patient(
        request,
        session.patient,
        "treatments/session_summary.html",
        {
            **summary(session, session_number=number_in_plan(session), record=record),
            "for_pdf": False,
        },
    )


@require_GET
def session_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """A signed session: the PDF stored at signing, byte for byte. A draft: drawn now."""
    # A signed session's file is streamed from one row; only a draft's PDF, drawn now,
    # needs everything the summary prints.
    session = get_session_for(request, pk, VIEW_CLINICAL)
    if not session.is_signed:
        session = get_session_for(
            request, pk, VIEW_CLINICAL, queryset=with_summary_data(TreatmentSession.objects.all())
        )
    record_access(
        request, patient=session.patient, action=AccessLog.Action.DOWNLOAD, subject=session
    )
    name = f"{session.patient.chart_number}-session-{session.pk}.pdf"
    if session.is_signed:
        response = _stored_pdf(session.pdf, session.pdf_sha256)
    else:
        response = HttpResponse(render_pdf(session), content_type="application/pdf")
    return _inline_pdf(response, name)


@require_GET
def session_pdf_amended(request: HttpRequest, pk: int) -> HttpResponse:
    """The PDF stored with the latest amendment: the signed summary and every amendment."""
    session = get_session_for(request, pk, VIEW_CLINICAL)
    latest = session.amendments.order_by("-created_at", "-id").first()
    if latest is None:
        raise Http404("This session has no amendment.")
    if not latest.pdf:  # recorded before summaries as amended were stored
        raise Http404(
            "The latest amendment predates stored summaries as amended: print the session "
            "page for the record with its amendments."
        )
    record_access(
        request, patient=session.patient, action=AccessLog.Action.DOWNLOAD, subject=session
    )
    response = _stored_pdf(latest.pdf, latest.pdf_sha256)
    return _inline_pdf(response, f"{session.patient.chart_number}-session-{session.pk}-amended.pdf")


def _stored_pdf(file, sha256: str) -> FileResponse:
    if not file:  # signed without a stored summary (generated demo data: seed_demo)
        raise Http404("No PDF was stored when this session was signed: print the session page.")
    try:
        handle = file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404("The stored PDF is missing from storage; restore it from backup.") from None
    response = FileResponse(handle, content_type="application/pdf")
    response["X-Content-SHA256"] = sha256
    return response


def _inline_pdf(response: HttpResponse, name: str) -> HttpResponse:
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


BOOKLET_PAGE = 20


@require_GET
def patient_booklet(request: HttpRequest, pk: int) -> HttpResponse:
    """The signed sessions a page at a time, oldest first, each page printable on its own.

    Twenty full summaries make a page of a few hundred kilobytes that draws quickly; the
    whole history of a long-treated patient in one page ran to megabytes and seconds.
    """
    patient = get_patient_for(request, pk, VIEW_CLINICAL)
    # The booklet is handed to the patient: signed records only.
    sessions = with_paper_data(
        with_number_in_plan(
            TreatmentSession.objects.for_patient(patient).filter(
                status=TreatmentSession.Status.SIGNED
            )
        ).order_by("performed_at", "id")
    )
    # Counting one patient's signed sessions is bounded by that patient, not the clinic.
    page = Paginator(sessions, BOOKLET_PAGE).get_page(request.GET.get("page"))
    record_access(request, patient=patient, action=AccessLog.Action.PRINT)
    shown = list(page.object_list)
    with in_patient_language(patient):
        records = records_of(shown)
    return render_for_patient(
        request,
        patient,
        "treatments/booklet.html",
        {
            "patient": patient,
            "page": page,
            "summaries": [
                summary(s, session_number=s.number_in_plan, record=records[s.pk]) for s in shown
            ],
        },
    )
