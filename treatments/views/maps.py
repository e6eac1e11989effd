from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.access import CHANGE_CLINICAL, VIEW_CLINICAL
from clinic.audit import record_access
from clinic.concurrency import StaleEdit
from clinic.forms import formset_problems, problems_of
from clinic.models import AccessLog
from clinic.numbers import int_or_none
from patients.access import get_patient_for
from patients.models import Phototype
from treatments.access import get_map_for
from treatments.forms.maps import MapForm, zone_forms
from treatments.models import BodyRegion, FormulaIngredient, MapZone, NeedleRule
from treatments.services.maps import align_needles, create_map, plan_zones, set_status


@require_http_methods(["GET", "POST"])
def map_new(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for(request, pk, CHANGE_CLINICAL)
    form = MapForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            treatment_map = create_map(
                treatment_map=form.save(commit=False),
                patient=patient,
                regions=list(form.cleaned_data["regions"]),
                needle=NeedleRule.objects.for_patient(patient),
                user=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, gettext("Map saved. Now plan each zone."))
            return redirect("treatments:map_plan", pk=treatment_map.pk)
    selected = form["regions"].value() or []
    # Shown (first or again with errors): the patient's phototype and needle.
    record_access(request, patient=patient, action=AccessLog.Action.VIEW)
    return render(
        request,
        "treatments/map_new.html",
        {
            "form": form,
            "patient": patient,
            "regions": BodyRegion.objects.active(),
            "selected": [str(code) for code in selected],
        },
    )


@require_http_methods(["GET", "POST"])
def map_plan(request: HttpRequest, pk: int) -> HttpResponse:
    treatment_map = get_map_for(request, pk, CHANGE_CLINICAL)
    # "Apply to the ticked (or all) zones" without JavaScript: the page again, filled.
    applying = request.POST.get("apply", "") if request.POST.get("apply") in APPLY else ""
    formset, apply_form = zone_forms(
        treatment_map=treatment_map, data=request.POST or None, applying=applying
    )
    if request.method == "POST" and not applying and formset.is_valid():
        try:
            plan_zones(
                treatment_map=treatment_map,
                zones=[form.save(commit=False) for form in formset.forms],
                expected_version=int_or_none(request.POST.get("version")),
            )
        except StaleEdit:
            messages.error(
                request,
                gettext(
                    "Someone else saved this plan while you were editing it; nothing of yours "
                    "was saved. Here is their version: check it and enter your changes again."
                ),
            )
            return redirect("treatments:map_plan", pk=treatment_map.pk)
        except ValidationError as error:  # the catalogue changed since the fields were checked
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, gettext("Zone plans saved."))
            return redirect(treatment_map)
    # Shown (first or again with errors): the plan holds the patient's baseline measurements.
    record_access(
        request, patient=treatment_map.patient, action=AccessLog.Action.VIEW, subject=treatment_map
    )
    return render(
        request,
        "treatments/map_plan.html",
        {
            "map": treatment_map,
            "formset": formset,
            "apply_form": apply_form,
            "needle": treatment_map.needle_rule,
            # Kept from the page first shown, so that a concurrent save is still noticed.
            "version": int_or_none(request.POST.get("version")) or treatment_map.version,
            "problems": problems_of(
                apply_form, where=gettext("Apply to several zones"), anchor="apply"
            )
            + formset_problems(formset, where=_zone_name, anchor="zone"),
        },
    )


APPLY = {"ticked", "all"}


def _zone_name(form) -> str:
    return form.instance.region.shown_label() if form.instance.region_id else gettext("Zone")


@require_GET
def map_detail(request: HttpRequest, pk: int) -> HttpResponse:
    treatment_map = get_map_for(request, pk, VIEW_CLINICAL)
    zones = list(
        MapZone.objects.filter(treatment_map=treatment_map)
        .select_related("region", "baseline", "formula")
        .prefetch_related(
            Prefetch(
                "formula__ingredients",
                queryset=FormulaIngredient.objects.select_related("compound"),
            )
        )
        .order_by("region__sort_order")
    )
    for zone in zones:
        # One map for all the zones: its needle rule (the patient's) is looked up once.
        zone.treatment_map = treatment_map
    record_access(
        request, patient=treatment_map.patient, action=AccessLog.Action.VIEW, subject=treatment_map
    )
    return render(
        request,
        "treatments/map_detail.html",
        {
            "map": treatment_map,
            "patient": treatment_map.patient,
            "zones": zones,
            # The whole diagram, with this map's zones highlighted.
            "regions": list(BodyRegion.objects.all()),
            "selected": [zone.region.code for zone in zones],
            "views_used": {zone.region.view for zone in zones},
            "needle": treatment_map.needle_rule,
            # Zones left off the patient's default needle (a phototype changed since).
            "off_default": [zone for zone in zones if zone.needle_off_default()],
            "phototype": Phototype(treatment_map.patient.phototype).name
            if treatment_map.patient.phototype
            else "",
        },
    )


@require_POST
def map_needles(request: HttpRequest, pk: int) -> HttpResponse:
    """Every zone off the patient's default needle at once: the default, or one reason."""
    treatment_map = get_map_for(request, pk, CHANGE_CLINICAL)
    keep = request.POST.get("action") == "keep"
    reason = request.POST.get("reason", "") if keep else ""
    if keep and not reason.strip():
        messages.error(request, gettext("Give the reason for keeping these needles."))
        return redirect(treatment_map)
    try:
        changed = align_needles(
            treatment_map=treatment_map,
            reason=reason,
            expected_version=int_or_none(request.POST.get("version")),
        )
    except StaleEdit:
        messages.error(
            request, gettext("The map changed while you were looking at it; check it again.")
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            ngettext("%(count)s zone updated.", "%(count)s zones updated.", len(changed))
            % {"count": len(changed)},
        )
    return redirect(treatment_map)


@require_POST
def map_status(request: HttpRequest, pk: int) -> HttpResponse:
    treatment_map = get_map_for(request, pk, CHANGE_CLINICAL)
    try:
        updated = set_status(
            treatment_map=treatment_map,
            status=request.POST.get("status", ""),
            expected_version=int_or_none(request.POST.get("version")),
        )
    except StaleEdit:
        messages.error(
            request, gettext("The map changed while you were looking at it; check it again.")
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(
            request,
            gettext("Map marked %(status)s.") % {"status": updated.get_status_display().lower()},
        )
    return redirect(treatment_map)
