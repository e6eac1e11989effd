from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from clinic.models import AccessLog
from tests.dates import datetime_input, days_from_today, local
from tests.factories import PatientFactory, TreatmentMapFactory
from tests.treatments.session_helpers import create_map, map_post, plan_post
from treatments.diagram import (
    CHOOSER_VIEW_PX,
    TARGET_PX,
    VIEWS,
    all_region_codes,
    extent,
    takes_touch,
)
from treatments.models import BodyRegion, MapZone, NeedleRule, TreatmentMap
from treatments.services import maps as services
from treatments.templatetags.treatments_extras import body_diagram

pytestmark = pytest.mark.django_db


def test_every_region_is_clickable_in_the_diagram_and_a_checkbox(
    client_for, practitioner, map_patient, location
):
    page = client_for(practitioner).get(reverse("treatments:map_new", args=[map_patient.pk]))
    html = page.content.decode()
    codes = set(BodyRegion.objects.values_list("code", flat=True))
    assert len(codes) >= 35
    assert codes == all_region_codes()  # every shipped region has a shape, and no stray shape
    for code in codes:
        # Touchable somewhere: small regions in a close-up, the others where they are drawn.
        assert f'data-region="{code}" tabindex="0"' in html, code
        assert 'role="checkbox"' in html
        assert f'name="regions" value="{code}"' in html, code


def test_a_diagram_drawn_once_is_drawn_anew_for_another_language_label_or_choice():
    """The diagram is kept once drawn (treatments_extras._drawn): each thing it shows is
    part of what it is kept by."""
    regions = list(BodyRegion.objects.filter(code__in=["knee_left", "thigh_outer_right"]))

    def draw(selected=("knee_left",), language="en"):
        with translation.override(language):
            return str(body_diagram(regions, selected=selected, palette="paper"))

    english = draw()
    assert draw() == english
    assert 'class="region selected" data-region="knee_left"' in english
    assert 'data-region="thigh_outer_right"' in english
    # Another choice of zones, another language: another drawing.
    assert 'class="region selected" data-region="thigh_outer_right"' in draw(
        selected=("thigh_outer_right",)
    )
    french = draw(language="fr-ca")
    assert french != english and ">D</text>" in french and ">R</text>" in english
    # A region renamed in the catalogue (escaped like any label).
    knee = next(r for r in regions if r.code == "knee_left")
    knee.label = "Genou <gauche>"
    knee.label_fr = "Genou <gauche>"
    renamed = draw()
    assert "Genou &lt;gauche&gt;" in renamed and "<gauche>" not in renamed


def test_every_region_takes_a_touch_of_44_px_in_some_view():
    """At the width the views have on a 768 px tablet (CHOOSER_VIEW_PX), each region's box
    is 44 px or more across in at least one view: there it takes a touch, elsewhere not."""
    largest: dict[str, float] = {}
    for view in VIEWS:
        viewbox = view.box(interactive=True)
        scale = CHOOSER_VIEW_PX / float(viewbox.split()[2])
        for code, shape in view.regions.items():
            touch = takes_touch(shape, viewbox)
            assert touch == (extent(shape) * scale >= TARGET_PX), (view.key, code)
            if touch:
                largest[code] = max(largest.get(code, 0), extent(shape) * scale)
    assert set(largest) == all_region_codes()
    assert min(largest.values()) >= 44  # TARGET_PX keeps a margin over it


def test_create_a_map_end_to_end(client_for, practitioner, map_patient, location, catalogue):
    client = client_for(practitioner)
    treatment_map = create_map(client, map_patient, location)
    assert treatment_map.patient == map_patient
    assert treatment_map.created_by == practitioner
    assert treatment_map.mapped_standing
    zones = list(treatment_map.zones.select_related("region"))
    assert {z.region.code for z in zones} == {"thigh_outer_right", "thigh_outer_left"}
    # Needle prefilled from the phototype II rule.
    assert all(z.needle_length_mm == Decimal("4") and z.gauge == 30 for z in zones)
    assert not any(z.is_planned for z in zones)

    response = client.post(
        reverse("treatments:map_plan", args=[treatment_map.pk]),
        plan_post(treatment_map, catalogue["permitted"]),
    )
    assert response.status_code == 302
    assert all(z.is_planned for z in treatment_map.zones.all())

    page = client.get(treatment_map.get_absolute_url())
    html = page.content.decode()
    assert "Right thigh, outer side" in html and "Lipolysis A" in html and "2.5 mL" in html
    assert 'class="region selected" data-region="thigh_outer_right"' in html
    assert 'class="region" data-region="thigh_front_right"' in html
    assert "body-view-closeup" not in html  # the close-up is for choosing zones only
    assert AccessLog.objects.filter(action="view", patient_id=map_patient.pk).exists()
    chart = client.get(map_patient.get_absolute_url()).content.decode()
    assert treatment_map.get_absolute_url() in chart and "2 zones" in chart


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"mapped_standing": None},
            "mapped_standing",
            "mapped and measured with the patient standing",
        ),
        ({"regions": []}, "regions", "Choose at least one zone"),
        ({"regions": ["no_such_zone"]}, "regions", "Select a valid choice"),
        (
            {"mapped_at": datetime_input(local(days_from_today(365)))},
            "mapped_at",
            "in the future",
        ),
        ({"planned_sessions": "0"}, "planned_sessions", "greater than or equal to 1"),
        ({"location": ""}, "location", "This field is required"),
    ],
)
def test_map_validation(client_for, practitioner, map_patient, location, changes, field, message):
    response = client_for(practitioner).post(
        reverse("treatments:map_new", args=[map_patient.pk]),
        map_post(location, ["knee_left"], **changes),
    )
    assert response.status_code == 200
    assert any(message in e for e in response.context["form"].errors[field])
    assert not TreatmentMap.objects.exists()


def test_the_standing_attestation_holds_outside_the_form(practitioner, map_patient, location):
    """TreatmentMap.clean() refuses a map not attested as mapped standing: create_map (a
    script, the shell) is refused as the form is, and no map nor zone is written."""
    unattested = TreatmentMapFactory.build(
        patient=map_patient, location=location, mapped_standing=False
    )
    with pytest.raises(ValidationError) as raised:
        services.create_map(
            treatment_map=unattested,
            patient=map_patient,
            regions=list(BodyRegion.objects.filter(code="knee_left")),
            needle=None,
            user=practitioner,
        )
    assert "mapped and measured with the patient standing" in str(
        raised.value.message_dict["mapped_standing"]
    )
    assert not TreatmentMap.objects.exists() and not MapZone.objects.exists()


def test_a_selection_survives_a_validation_error(client_for, practitioner, map_patient, location):
    response = client_for(practitioner).post(
        reverse("treatments:map_new", args=[map_patient.pk]),
        map_post(location, ["knee_left", "forehead"], mapped_standing=None),
    )
    html = response.content.decode()
    assert 'class="region selected" data-region="knee_left"' in html
    assert 'value="forehead" id="zone-forehead" checked' in html


@pytest.mark.parametrize(("phototype", "length"), [(1, 4), (2, 4), (3, 4), (4, 4), (5, 6), (6, 6)])
def test_needle_default_for_each_phototype(client_for, practitioner, location, phototype, length):
    patient = PatientFactory(phototype=phototype)
    treatment_map = create_map(client_for(practitioner), patient, location, ["knee_left"])
    assert treatment_map.zones.get().needle_length_mm == Decimal(length)


def test_needle_rule_is_editable(client_for, practitioner, location):
    NeedleRule.objects.filter(phototype=3).update(length_mm=Decimal("5"), gauge=32)
    patient = PatientFactory(phototype=3)
    zone = create_map(client_for(practitioner), patient, location, ["knee_left"]).zones.get()
    assert (zone.needle_length_mm, zone.gauge) == (Decimal("5"), 32)


def test_overriding_the_needle_needs_a_reason(
    client_for, practitioner, map_patient, location, catalogue
):
    client = client_for(practitioner)
    treatment_map = create_map(client, map_patient, location, ["knee_left"])
    url = reverse("treatments:map_plan", args=[treatment_map.pk])
    refused = client.post(
        url, plan_post(treatment_map, catalogue["permitted"], needle_length_mm="6", depth_mm="5")
    )
    assert refused.status_code == 200
    assert "The default needle for phototype II is 4 mm: give the reason for 6 mm." in (
        refused.content.decode()
    )
    accepted = client.post(
        url,
        plan_post(
            treatment_map,
            catalogue["permitted"],
            needle_length_mm="6",
            depth_mm="5",
            needle_override_reason="Thick fat pad",
        ),
    )
    assert accepted.status_code == 302
    zone = treatment_map.zones.get()
    assert zone.needle_length_mm == Decimal("6") and zone.needle_override_reason == "Thick fat pad"


def test_depth_cannot_exceed_the_needle(client_for, practitioner, map_patient, location, catalogue):
    client = client_for(practitioner)
    treatment_map = create_map(client, map_patient, location, ["knee_left"])
    response = client.post(
        reverse("treatments:map_plan", args=[treatment_map.pk]),
        plan_post(treatment_map, catalogue["permitted"], depth_mm="5"),
    )
    assert "The depth cannot exceed the needle length (4" in response.content.decode()
    assert not treatment_map.zones.get().is_planned


def test_one_bad_zone_saves_no_zone(client_for, practitioner, map_patient, location, catalogue):
    client = client_for(practitioner)
    treatment_map = create_map(client, map_patient, location)
    data = plan_post(treatment_map, catalogue["permitted"])
    data["form-1-planned_volume_ml"] = "0"
    response = client.post(reverse("treatments:map_plan", args=[treatment_map.pk]), data)
    assert response.status_code == 200
    assert not any(zone.is_planned for zone in treatment_map.zones.all())


def test_archived_patient_gets_no_new_map(client_for, practitioner, location):
    patient = PatientFactory(archived=True)
    response = client_for(practitioner).post(
        reverse("treatments:map_new", args=[patient.pk]), map_post(location, ["knee_left"])
    )
    assert response.status_code == 200
    assert "This patient is archived" in response.content.decode()
    assert not TreatmentMap.objects.exists()


@pytest.mark.parametrize("user_fixture", ["assistant", "outsider", "catalogue_admin"])
def test_only_practitioners_map(request, client_for, map_patient, location, user_fixture):
    client = client_for(request.getfixturevalue(user_fixture))
    url = reverse("treatments:map_new", args=[map_patient.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, map_post(location, ["knee_left"])).status_code == 403


def test_status_changes(client_for, practitioner, map_patient, location):
    client = client_for(practitioner)
    treatment_map = create_map(client, map_patient, location, ["knee_left"])
    url = reverse("treatments:map_status", args=[treatment_map.pk])
    client.post(url, {"status": "completed", "version": treatment_map.version})
    treatment_map.refresh_from_db()
    assert treatment_map.status == "completed"
    client.post(url, {"status": "deleted", "version": treatment_map.version})
    treatment_map.refresh_from_db()
    assert treatment_map.status == "completed"
    client.post(url, {"status": "active", "version": treatment_map.version - 1})  # stale
    treatment_map.refresh_from_db()
    assert treatment_map.status == "completed"


def test_a_stale_plan_is_refused(client_for, practitioner, map_patient, location, catalogue):
    client = client_for(practitioner)
    treatment_map = create_map(client, map_patient, location, ["knee_left"])
    url = reverse("treatments:map_plan", args=[treatment_map.pk])
    stale = plan_post(treatment_map, catalogue["permitted"], planned_volume_ml="1")
    client.post(url, plan_post(treatment_map, catalogue["permitted"], planned_volume_ml="3"))
    response = client.post(url, stale, follow=True)
    assert "Someone else saved this plan" in response.content.decode()
    assert treatment_map.zones.get().planned_volume_ml == Decimal("3")


def test_extra_rows_in_a_plan_post_are_not_saved(
    client_for, practitioner, map_patient, location, catalogue
):
    client = client_for(practitioner)
    treatment_map = create_map(client, map_patient, location, ["knee_left"])
    data = plan_post(treatment_map, catalogue["permitted"])
    data["form-TOTAL_FORMS"] = "2"
    response = client.post(reverse("treatments:map_plan", args=[treatment_map.pk]), data)
    assert response.status_code in (200, 302)
    assert treatment_map.zones.count() == 1


def test_map_page_query_count_is_constant(
    client_for, practitioner, map_patient, location, catalogue, django_assert_num_queries
):
    client = client_for(practitioner)
    small = create_map(client, map_patient, location, ["knee_left", "knee_right"])
    client.post(
        reverse("treatments:map_plan", args=[small.pk]),
        plan_post(
            small,
            catalogue["restricted"],
            restricted_acknowledged="on",
            restricted_note="Under 5 mL",
        ),
    )
    codes = list(BodyRegion.objects.values_list("code", flat=True)[:20])
    big = create_map(client, map_patient, location, codes)
    client.post(
        reverse("treatments:map_plan", args=[big.pk]),
        plan_post(
            big, catalogue["restricted"], restricted_acknowledged="on", restricted_note="Under 5 mL"
        ),
    )
    client.get(small.get_absolute_url())
    # Session, user, the second-factor device, permissions (4); the map, its zones with
    # regions, baselines and
    # formulas, the formulas' ingredients with compounds, all regions for the diagram,
    # the needle rule (5); the access-log row (1); the session row is not rewritten.
    with django_assert_num_queries(10) as few:
        client.get(small.get_absolute_url())
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(big.get_absolute_url())
    assert len(response.context["zones"]) == 20
    assert MapZone.objects.filter(treatment_map=big, formula__isnull=False).count() == 20


def test_a_single_clinic_is_preselected(client_for, practitioner, map_patient, location):
    page = client_for(practitioner).get(reverse("treatments:map_new", args=[map_patient.pk]))
    assert page.context["form"]["location"].value() == location.pk
