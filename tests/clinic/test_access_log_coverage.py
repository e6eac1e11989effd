"""Every page that shows patient data leaves exactly its access-log rows, and a refusal none.

The list of pages comes from the URLconf: a URL name that is neither in PATIENT_PAGES
nor declared as showing no patient data fails `test_every_url_is_declared`, so a new
page cannot skip the access log unnoticed.
"""

import re
from dataclasses import dataclass, field

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from clinic.models import AccessLog
from patients.models import Photo
from tests.factories import (
    MapZoneFactory,
    PatientFactory,
    TreatmentMapFactory,
    UserFactory,
    make_amended_session,
    make_photo,
    make_scanned_consent,
    make_session,
)
from tests.responses import read
from tests.urlconf import ALL_URLS

VIEW, PRINT, DOWNLOAD = AccessLog.Action.VIEW, AccessLog.Action.PRINT, AccessLog.Action.DOWNLOAD
EXPORT = AccessLog.Action.EXPORT


@dataclass
class Page:
    """How to open one page, as whom, and the rows (action, subject) it must write."""

    args: callable  # world -> reverse() args
    rows: list  # [(action, world -> subject)], all for world.patient
    user: str = "practitioner"
    query: callable = lambda world: ""
    status: int = 200


def patient(world):
    return world.patient


def session(world):
    return world.session


def tmap(world):
    return world.map


def by_patient(world):
    return [world.patient.pk]


def by_session(world):
    return [world.session.pk]


def by_map(world):
    return [world.map.pk]


def no_args(world):
    return []


PATIENT_PAGES: dict[str, Page] = {
    "home": Page(no_args, [(VIEW, patient)]),  # the draft session on the dashboard
    "audit": Page(
        no_args,
        [(VIEW, patient)],  # a search by patient is a look at that patient
        user="privacy_officer",
        query=lambda world: f"patient={world.patient.chart_number}",
    ),
    "patients:list": Page(no_args, [(VIEW, patient)]),
    "patients:chart": Page(by_patient, [(VIEW, patient)]),
    "patients:edit": Page(by_patient, [(VIEW, patient)]),
    "patients:access": Page(by_patient, [(VIEW, patient)]),
    "patients:consent_new": Page(by_patient, [(VIEW, patient)]),
    "patients:consent_signature": Page(
        lambda world: [world.patient.pk, world.consent.pk], [(DOWNLOAD, lambda w: w.consent)]
    ),
    "patients:photo_new": Page(by_patient, [(VIEW, patient)]),
    "patients:photo_compare": Page(
        by_patient, [(VIEW, patient)], query=lambda world: "region=Right+thigh&view=front"
    ),
    "patients:photo_full": Page(
        lambda world: [world.patient.pk, world.photo.pk], [(DOWNLOAD, lambda w: w.photo)]
    ),
    "patients:photo_thumbnail": Page(
        lambda world: [world.patient.pk, world.photo.pk], [(DOWNLOAD, lambda w: w.photo)]
    ),
    "patients:measurements": Page(by_patient, [(VIEW, patient)]),
    "patients:measurement_new": Page(by_patient, [(VIEW, patient)]),
    "treatments:map_new": Page(by_patient, [(VIEW, patient)]),
    "treatments:map": Page(by_map, [(VIEW, tmap)]),
    "treatments:map_plan": Page(by_map, [(VIEW, tmap)]),
    "treatments:session_new": Page(by_patient, [(VIEW, tmap)]),  # its only active map
    "treatments:booklet": Page(by_patient, [(PRINT, patient)]),
    "patient_fhir": Page(by_patient, [(EXPORT, patient)]),
    "treatments:session_list": Page(no_args, [(VIEW, patient)]),
    "treatments:session": Page(by_session, [(VIEW, session)]),
    "treatments:session_edit": Page(by_session, [(VIEW, tmap)]),
    "treatments:session_sign": Page(by_session, [(VIEW, session)]),
    "treatments:session_print": Page(by_session, [(PRINT, session)]),
    "treatments:session_pdf": Page(by_session, [(DOWNLOAD, session)]),
    "treatments:session_pdf_amended": Page(
        lambda world: [world.amended.pk], [(DOWNLOAD, lambda w: w.amended)]
    ),
    "treatments:side_effect_new": Page(by_session, [(VIEW, session)]),
    "treatments:lot_recall": Page(lambda world: [world.lot.pk], [(VIEW, lambda w: w.lot)]),
    "treatments:lot_recall_print": Page(lambda world: [world.lot.pk], [(PRINT, lambda w: w.lot)]),
    "treatments:lot_recall_csv": Page(lambda world: [world.lot.pk], [(EXPORT, lambda w: w.lot)]),
    # The console: only a superuser reads sessions there.
    "admin:treatments_treatmentsession_changelist": Page(
        no_args, [(VIEW, patient)], user="superuser"
    ),
    "admin:treatments_treatmentsession_change": Page(
        by_session, [(VIEW, session)], user="superuser"
    ),
    "admin:treatments_treatmentsession_history": Page(
        by_session, [(VIEW, session)], user="superuser"
    ),
    # Read-only: refused even to a superuser, so nothing is shown and nothing logged.
    "admin:treatments_treatmentsession_add": Page(no_args, [], user="superuser", status=403),
    "admin:treatments_treatmentsession_delete": Page(by_session, [], user="superuser", status=403),
}

# Pages that show no patient's data. Keep each one justified.
NO_PATIENT_DATA = {
    "login",
    "logout",
    "two_factor_verify",
    "two_factor_setup",
    "password_change",
    "account_language",
    "password_change_done",
    "healthz",
    "favicon",
    "patients:create",  # an empty form
    "treatments:lots",  # lots and compounds; the recall page is the one with patients
    "treatments:injection_lots",  # a mixture's lot fields and formulary note (catalogue)
    # The console's own pages: menus, the sign-in hand-over, the password form; the
    # "view on site" link only redirects to the page (which logs).
    "admin:index",
    "admin:login",
    "admin:logout",
    "admin:password_change",
    "admin:password_change_done",
    "admin:jsi18n",
    "admin:autocomplete",  # only catalogue models have autocomplete fields
    "admin:view_on_site",
    "admin:app_list",
    "admin:auth_user_password_change",
    "admin:otp_totp_totpdevice_config",  # hidden by OTP_ADMIN_HIDE_SENSITIVE_DATA
    "admin:otp_totp_totpdevice_qrcode",
}

# Console models that hold no patient data: every one of their pages is declared here.
CONSOLE_MODELS_WITHOUT_PATIENT_DATA = {
    "auth_user",
    "auth_group",
    "axes_accessattempt",
    "clinic_signinlog",  # axes' sign-in log, under a name of its own
    "axes_accessfailurelog",
    "clinic_accesslog",  # ids and paths; a search by patient is the audit page, logged
    "clinic_jurisdiction",
    "clinic_location",
    "patients_consenttemplate",
    "treatments_bodyregion",
    "treatments_compound",
    "treatments_compoundcategory",
    "treatments_compoundlot",
    "treatments_formula",
    "treatments_formulaingredient",
    "treatments_formularyrule",
    "treatments_indication",
    "treatments_needlerule",
    # Second-factor devices, so a superuser can reset a lost phone (keys hidden).
    "otp_static_staticdevice",
    "otp_totp_totpdevice",
}
CONSOLE_PAGE = re.compile(r"^admin:(?P<model>\w+)_(changelist|add|change|delete|history)$")

# Pages that only take a POST (a GET is refused with 405 and shows nothing).
POST_ONLY = {
    "patients:archive",
    "patients:consent_withdraw",
    "treatments:map_status",
    "treatments:map_needles",
    "treatments:lot_quarantine",  # changes the lot; shows no patient
    "treatments:amendment_new",
    "treatments:side_effect_resolve",
    "treatments:side_effect_review",
}

URL_NAMES = sorted({name for name, _path in ALL_URLS if name})


def _declared_without_patient_data(name: str) -> bool:
    match = CONSOLE_PAGE.match(name)
    return name in NO_PATIENT_DATA or bool(
        match and match["model"] in CONSOLE_MODELS_WITHOUT_PATIENT_DATA
    )


def test_every_url_is_declared():
    undeclared = [
        name
        for name in URL_NAMES
        if name not in PATIENT_PAGES
        and name not in POST_ONLY
        and not _declared_without_patient_data(name)
    ]
    assert undeclared == [], (
        "Declare these pages in PATIENT_PAGES (with the access-log rows they write) or, "
        f"if they show no patient data, in NO_PATIENT_DATA: {undeclared}"
    )
    assert not set(PATIENT_PAGES) - set(URL_NAMES), "PATIENT_PAGES names a page that is gone"
    assert not POST_ONLY - set(URL_NAMES)


def test_no_unnamed_url_hides_from_the_sweep():
    # The console's unnamed patterns only redirect (old change URLs, its catch-all).
    assert [path for name, path in ALL_URLS if not name and not path.startswith("/admin/")] == []


@dataclass
class World:
    patient: object
    map: object
    session: object
    lot: object
    consent: object
    photo: object
    amended: object  # a signed session with an amendment
    users: dict = field(default_factory=dict)


@pytest.fixture
def world(practitioner, assistant, catalogue_admin, outsider, privacy_officer):
    someone = PatientFactory(first_name="Hélène", last_name="Gagnon", phototype=2)
    treatment_map = TreatmentMapFactory(patient=someone)
    MapZoneFactory(treatment_map=treatment_map)
    draft = make_session(treatment_map, practitioner=practitioner)
    lot = draft.injections.first().lots.first().lot
    consent = make_scanned_consent(someone, practitioner)
    photos = [
        make_photo(someone, practitioner, days_ago=days_ago, phase=phase)
        for days_ago, phase in [(30, Photo.Phase.BEFORE), (1, Photo.Phase.AFTER)]
    ]
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    return World(
        patient=someone,
        map=treatment_map,
        session=draft,
        lot=lot,
        consent=consent,
        photo=photos[0],
        amended=make_amended_session(treatment_map, practitioner),
        users={
            "practitioner": practitioner,
            "assistant": assistant,
            "catalogue_admin": catalogue_admin,
            "outsider": outsider,
            "privacy_officer": privacy_officer,
            "superuser": superuser,
        },
    )


def _url(name: str, page: Page, world: World, args=None) -> str:
    url = reverse(name, args=page.args(world) if args is None else args)
    query = page.query(world)
    return f"{url}?{query}" if query else url


def _rows_since(last_id: int) -> set[tuple]:
    return set(
        AccessLog.objects.filter(id__gt=last_id).values_list(
            "user_id", "action", "content_type_id", "object_id", "patient_id", "ip_address"
        )
    )


def _last_id() -> int:
    return AccessLog.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _expected_rows(page: Page, world, user) -> set[tuple]:
    """The rows `page` must write for `user`, requested from 10.9.8.7."""
    return {
        (
            user.pk,
            action,
            ContentType.objects.get_for_model(subject(world)).pk,
            str(subject(world).pk),
            world.patient.pk,
            "10.9.8.7",
        )
        for action, subject in page.rows
    }


def _refused(response) -> bool:
    # The console sends a signed-in user without the console role to its login page,
    # which refuses them (403).
    return response.status_code in (403, 404) or (
        response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    )


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PATIENT_PAGES))
def test_a_page_with_patient_data_logs_who_saw_it_and_a_refusal_logs_nothing(
    client, client_for, world, name
):
    """One world per page (they are slow to build): the allowed GET, every other role's
    GET, and a GET of a record that does not exist."""
    sign_in = client_for  # both steps of the sign-in (the console needs the second)
    page = PATIENT_PAGES[name]
    user = world.users[page.user]
    sign_in(user)
    before = _last_id()
    response = client.get(_url(name, page, world), REMOTE_ADDR="10.9.8.7")
    sent = read(response)  # a streamed export logs as it is sent
    assert response.status_code == page.status, sent[:500]
    expected = _expected_rows(page, world, user)
    assert _rows_since(before) == expected
    assert AccessLog.objects.filter(id__gt=before).count() == len(page.rows)

    refused = 0
    for role, other in world.users.items():
        if role == page.user:
            continue
        sign_in(other)
        before = _last_id()
        response = client.get(_url(name, page, world))
        if _refused(response):
            refused += 1
            assert _rows_since(before) == set(), f"{name} refused {role} but logged it"
        elif role == "outsider":  # the dashboard: open to all, and empty without a role
            assert name == "home", f"{name} answered an outsider {response.status_code}"
            assert _rows_since(before) == set()
    assert refused >= (0 if name == "home" else 1)

    args = page.args(world)
    if args:
        sign_in(user)
        before = _last_id()
        response = client.get(_url(name, page, world, args=[0] * len(args)))
        # The console redirects a missing id to its index with a message.
        assert response.status_code in (302, 403, 404)
        assert _rows_since(before) == set(), f"{name} logged a record that does not exist"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(POST_ONLY))
def test_post_only_pages_show_nothing_on_get(client, client_for, world, name):
    sign_in = client_for
    sign_in(world.users["practitioner"])
    route = next(path for url_name, path in ALL_URLS if url_name == name)
    before = _last_id()
    assert client.get(route).status_code == 405
    assert _rows_since(before) == set()


# Form pages: a POST that fails validation shows the page again, with the same patient
# data as the GET, so it logs the same rows. A successful POST redirects and its change is
# in the history tables.
FORM_PAGES = [
    "patients:edit",
    "patients:consent_new",
    "patients:photo_new",
    "patients:measurement_new",
    "treatments:map_new",
    "treatments:map_plan",
    "treatments:session_new",
    "treatments:session_edit",
    "treatments:side_effect_new",
]


@pytest.mark.django_db
@pytest.mark.parametrize("name", FORM_PAGES)
def test_a_form_shown_again_with_errors_logs_like_its_first_showing(client_for, world, name):
    page = PATIENT_PAGES[name]
    user = world.users[page.user]
    client = client_for(user)
    before = _last_id()
    response = client.post(_url(name, page, world), {}, REMOTE_ADDR="10.9.8.7")
    assert response.status_code in (200, 400), response.status_code
    assert world.patient.full_name in response.content.decode()
    expected = _expected_rows(page, world, user)
    assert _rows_since(before) == expected
