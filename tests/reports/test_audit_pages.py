"""The privacy officer's audit search, the chart's access page, and the console's
sign-in records and history."""

from datetime import timedelta

import pghistory
import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.audit import record_access, record_list_access
from clinic.models import AccessLog, SignInLog
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def _log(user, patient, action=AccessLog.Action.VIEW, path="/somewhere/"):
    request = RequestFactory().get(path, REMOTE_ADDR="10.0.0.5")
    request.user = user
    return record_access(request, patient=patient, action=action)


@pytest.fixture
def two_patients():
    return (
        PatientFactory(first_name="Hélène", last_name="Gagnon"),
        PatientFactory(first_name="Marc", last_name="Tremblay"),
    )


def test_list_access_is_one_row_per_patient_in_one_insert(
    practitioner, two_patients, django_assert_num_queries
):
    gagnon, tremblay = two_patients
    request = RequestFactory().get("/patients/?q=a")
    request.user = practitioner
    assert record_list_access(request, []) == 0  # nothing shown, nothing written
    ContentType.objects.get_for_model(gagnon)  # cached once per process
    with django_assert_num_queries(1):
        record_list_access(request, [gagnon, tremblay, gagnon])
    assert sorted(AccessLog.objects.values_list("patient_id", flat=True)) == sorted(
        [gagnon.pk, tremblay.pk]
    )
    assert set(AccessLog.objects.values_list("path", flat=True)) == {"/patients/?q=a"}


def test_only_a_privacy_officer_searches_the_log(client_for, practitioner, privacy_officer):
    assert client_for(practitioner).get(reverse("audit")).status_code == 403
    assert client_for(privacy_officer).get(reverse("audit")).status_code == 200
    assert privacy_officer.has_perm("clinic.view_audit")
    assert not privacy_officer.has_perm("clinic.view_clinical_record")
    assert not privacy_officer.has_perm("clinic.view_demographics")


def test_audit_search_by_patient_user_action_and_dates(
    client_for, practitioner, assistant, privacy_officer, two_patients
):
    gagnon, tremblay = two_patients
    seen = _log(practitioner, gagnon, path="/patients/1/")
    printed = _log(assistant, gagnon, action=AccessLog.Action.PRINT, path="/booklet/")
    other = _log(practitioner, tremblay, path="/patients/2/")
    client = client_for(privacy_officer)

    def found(**query):
        response = client.get(reverse("audit"), query)
        assert response.status_code == 200
        # (leaving out the rows of this very search, logged against its patients)
        return {row.pk for row in response.context["rows"] if row.user != privacy_officer}

    assert found() == {seen.pk, printed.pk, other.pk}
    assert found(patient=gagnon.chart_number) == {seen.pk, printed.pk}
    # A chart number as people type it: lower case, or its number alone.
    assert found(patient=gagnon.chart_number.lower()) == {seen.pk, printed.pk}
    assert found(patient=str(int(gagnon.chart_number[3:]))) == {seen.pk, printed.pk}
    assert found(patient="gagnon") == {seen.pk, printed.pk}
    assert found(patient="Hélène Gagnon") == {seen.pk, printed.pk}
    # The name as the patient search reads it: a slip, a dropped letter, no accents.
    assert found(patient="helene gagnin") == {seen.pk, printed.pk}
    assert found(patient="Gagon") == {seen.pk, printed.pk}
    assert found(user="bob") == {printed.pk}
    assert found(action="print") == {printed.pk}
    today = timezone.localdate()
    assert found(date_from=today, date_to=today) == {seen.pk, printed.pk, other.pk}
    assert found(date_to=today - timedelta(days=1)) == set()
    assert found(patient=gagnon.chart_number, date_from="not a date") == set()
    # Searching by patient was itself logged against each patient it matched.
    searches = AccessLog.objects.filter(user=privacy_officer)
    assert sorted(searches.values_list("patient_id", flat=True)) == [gagnon.pk] * 7


def test_an_audit_search_by_chart_number_reads_its_unique_index(
    client_for, privacy_officer, two_patients
):
    """Not UPPER(chart_number) = ..., which no index serves: a scan of every patient
    (46 ms at 100,000 patients)."""
    gagnon, _ = two_patients
    client = client_for(privacy_officer)
    with CaptureQueriesContext(connection) as sent:
        client.get(reverse("audit"), {"patient": gagnon.chart_number.lower()})
    read = [q["sql"] for q in sent.captured_queries if 'FROM "patients_patient"' in q["sql"]]
    assert read and all('"patients_patient"."chart_number" = ' in sql for sql in read), read


def test_audit_search_shows_the_chart_number_escaped_and_pages(
    client_for, practitioner, privacy_officer, two_patients
):
    gagnon, _tremblay = two_patients
    for _ in range(51):
        _log(practitioner, gagnon)
    client = client_for(privacy_officer)
    first = client.get(reverse("audit")).content.decode()
    assert gagnon.chart_number in first
    assert "page=2" in first
    second = client.get(reverse("audit"), {"page": 2})
    assert len(second.context["rows"]) == 1
    PatientFactory(first_name="Eve", last_name="<b>Evil</b>")
    found = client.get(reverse("audit"), {"patient": "evil"}).content.decode()
    assert "<b>Evil" not in found and "&lt;b&gt;Evil" in found


def test_who_saw_or_changed_shows_access_and_changes_with_their_user(
    client_for, practitioner, assistant
):
    someone = PatientFactory(first_name="Hélène", last_name="Gagnon")
    with pghistory.context(user=assistant.pk, url="/patients/x/edit/"):
        someone.allergy_status = "listed"
        someone.allergies = "Penicillin"
        someone.version += 1
        someone.save()
    _log(assistant, someone, path="/patients/x/")
    client = client_for(practitioner)
    page = client.get(reverse("patients:access", args=[someone.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    changes = page.context["changes"]
    update = next(change for change in changes if change.label == "update")
    assert update.user == "bob"
    assert ("list of allergies", "", "Penicillin") in update.fields
    assert "Penicillin" in html and "/patients/x/" in html
    # The chart links to it for those who may read the clinical record.
    chart = client.get(someone.get_absolute_url()).content.decode()
    assert reverse("patients:access", args=[someone.pk]) in chart


def test_assistant_cannot_open_the_access_page(client_for, assistant):
    someone = PatientFactory()
    response = client_for(assistant).get(reverse("patients:access", args=[someone.pk]))
    assert response.status_code == 403
    assert not AccessLog.objects.exists()


def test_history_browser_is_not_in_the_console(client_for):
    from pghistory.models import Events

    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    assert not admin.site.is_registered(Events)
    assert client_for(root).get("/admin/pghistory/events/").status_code == 404


@pytest.mark.parametrize("model", [AccessAttempt, SignInLog, AccessFailureLog])
def test_sign_in_records_are_read_only_in_the_console(client_for, model):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    row = {
        AccessAttempt: lambda: AccessAttempt.objects.create(
            username="eve", ip_address="10.0.0.9", failures_since_start=3
        ),
        SignInLog: lambda: SignInLog.objects.create(username="eve", ip_address="10.0.0.9"),
        AccessFailureLog: lambda: AccessFailureLog.objects.create(
            username="eve", ip_address="10.0.0.9"
        ),
    }[model]()
    label = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    client = client_for(root)
    listing = client.get(reverse(f"{label}_changelist"))
    assert listing.status_code == 200
    assert "delete_selected" not in listing.content.decode()
    assert client.get(reverse(f"{label}_change", args=[row.pk])).status_code == 200
    assert client.post(reverse(f"{label}_change", args=[row.pk]), {}).status_code == 403
    assert (
        client.post(reverse(f"{label}_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    )
    assert client.post(
        reverse(f"{label}_changelist"),
        {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"},
    ).status_code in (200, 302)
    assert model.objects.filter(pk=row.pk).exists()


def test_privacy_officer_reads_sign_in_records_in_the_console(client_for, privacy_officer):
    client = client_for(privacy_officer)
    assert client.get(reverse("admin:clinic_signinlog_changelist")).status_code == 200
    assert client.get(reverse("admin:clinic_accesslog_changelist")).status_code == 200
    assert client.get(reverse("admin:treatments_treatmentsession_changelist")).status_code == 403


def test_who_saw_or_changed_includes_zones_injections_lots_and_follow_ups(client_for, practitioner):
    """Rows that point at the patient through a map or a session are part of the record."""
    from tests.factories import MapZoneFactory, TreatmentMapFactory, make_session
    from treatments.models import SideEffect

    someone = PatientFactory()
    treatment_map = TreatmentMapFactory(patient=someone)
    MapZoneFactory(treatment_map=treatment_map)
    session = make_session(treatment_map, practitioner=practitioner)
    SideEffect.objects.create(
        session=session,
        kind=SideEffect.Kind.SWELLING,
        onset=session.performed_at,
        severity="mild",
        recorded_by=practitioner,
    )
    other = PatientFactory()
    make_session(TreatmentMapFactory(patient=other), practitioner=practitioner)
    page = client_for(practitioner).get(reverse("patients:access", args=[someone.pk]))
    # Each row named by its kind, as people say it, and its number.
    changed = {change.what.rpartition(" ")[0] for change in page.context["changes"]}
    assert {"patient", "treatment map", "map zone", "treatment session"} <= changed
    assert {"injection", "injection lot", "side effect"} <= changed
    # Another patient's rows stay out.
    theirs = {f"treatment session {s.pk}" for s in other.sessions.all()}
    assert not theirs & {change.what for change in page.context["changes"]}
