"""Every URL, as every role, answers what tests/clinic/permission_matrix.py declares.

One test per role requests every named URL of the URLconf (GET, then POST for the URLs
that take a form) with a client that enforces CSRF and sends a valid token, so a 403 is
the permission's refusal, never CSRF's. Refused requests run first, and the database
must be the same after them as before (nothing written, not even an access-log row).
"""

from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from axes.models import AccessLog as SignInLog
from django.contrib.admin.sites import site as console
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.audit import record_access
from clinic.models import AccessLog
from patients.models import ConsentKind, ConsentTemplate, Measurement, Photo
from tests.clinic.permission_matrix import (
    ACCEPTED,
    ANONYMOUS,
    ASSISTANT,
    CATALOGUE_ADMIN,
    MATRIX,
    NOT_FOUND,
    OK,
    OUTSIDER,
    POST_ONLY,
    PRACTITIONER,
    PRIVACY_OFFICER,
    REFUSED,
    ROLES,
    SIGN_IN,
    SUPERUSER,
    Answer,
    Rule,
)
from tests.dates import datetime_input
from tests.factories import (
    MapZoneFactory,
    PatientFactory,
    TreatmentMapFactory,
    UserFactory,
    list_on_formulary,
    make_amended_session,
    make_photo,
    make_scanned_consent,
    make_session,
)
from tests.treatments.session_helpers import plan_post, session_post
from tests.urlconf import ALL_URLS
from treatments.models import SideEffect, TreatmentSession

URL_NAMES = sorted({name for name, _path in ALL_URLS if name})
CSRF_TOKEN = get_random_string(32)


def test_every_url_is_in_the_matrix():
    missing = [f"{name} ({path})" for name, path in ALL_URLS if name and name not in MATRIX]
    assert missing == [], (
        "Add these URLs to tests/clinic/permission_matrix.py (PAGES, or CONSOLE_MODELS for a "
        f"console model) with the roles that may open them: {missing}"
    )
    gone = sorted(set(MATRIX) - set(URL_NAMES))
    assert gone == [], f"permission_matrix.py declares URLs that no longer exist: {gone}"


def test_every_role_has_an_answer_everywhere():
    for name, rule in MATRIX.items():
        for answers in (rule.get, rule.post):
            assert answers is None or set(answers) == set(ROLES), name


@pytest.fixture
def client():
    """Enforces CSRF like a browser's request would meet it (client_for signs this one in)."""
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = CSRF_TOKEN
    return client


def _records(someone, practitioner) -> dict:
    """One patient's map, draft session with a follow-up, consent, photos, measurement."""
    treatment_map = TreatmentMapFactory(patient=someone)
    MapZoneFactory(treatment_map=treatment_map)
    draft = make_session(treatment_map, practitioner=practitioner)
    consent = make_scanned_consent(
        someone,
        practitioner,
        template=ConsentTemplate.objects.filter(kind=ConsentKind.PHOTOGRAPHY).first(),
    )
    photos = [
        make_photo(someone, practitioner, days_ago=30, phase=Photo.Phase.BEFORE),
        make_photo(someone, practitioner, days_ago=1, phase=Photo.Phase.AFTER),
    ]
    return {
        "patient": someone,
        "map": treatment_map,
        "session": draft,
        "consent": consent,
        "photo": photos[0],
        "photos": photos,
        "lot": draft.injections.first().lots.first().lot,
        "amended": make_amended_session(treatment_map, practitioner),
        "side_effect": SideEffect.objects.create(
            session=draft,
            kind=SideEffect.Kind.INFECTION,  # flagged: a practitioner reviews it
            onset=draft.performed_at + timedelta(days=2),
            severity=SideEffect.Severity.MILD,
            recorded_by=practitioner,
        ),
        "measurement": Measurement.objects.create(
            patient=someone,
            measured_on=timezone.localdate(),
            site="Right thigh",
            landmark="10 cm above the knee",
            value=Decimal("58.5"),
            recorded_by=practitioner,
        ),
    }


def _console_rows() -> dict:
    """A row of every model of the console, under its console name ("auth_user")."""
    sign_in = {
        "user_agent": "test",
        "ip_address": "10.0.0.9",
        "username": "bob",
        "http_accept": "text/html",
        "path_info": "/accounts/login/",
    }
    AccessAttempt.objects.create(**sign_in, get_data="", post_data="", failures_since_start=1)
    AccessFailureLog.objects.create(**sign_in)
    SignInLog.objects.create(**sign_in)
    rows = {}
    for model in console._registry:
        opts = model._meta
        row = model._default_manager.order_by("pk").first()
        assert row is not None, f"the world has no {opts.label} for the console's pages"
        rows[f"{opts.app_label}_{opts.model_name}"] = row
    return rows


@pytest.fixture
def world(practitioner, assistant, catalogue_admin, privacy_officer, outsider) -> dict:
    """A patient with every kind of record, a row of every console model, the users by
    role, and the other arguments the console's URLs take."""
    first = _records(PatientFactory(first_name="Hélène"), practitioner)
    list_on_formulary(first["lot"].compound, first["map"].location.jurisdiction)
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    StaticDevice.objects.create(user=superuser, name="Recovery codes", confirmed=True)
    record_access(_request_as(practitioner), patient=first["patient"], action=AccessLog.Action.VIEW)
    users = {
        ASSISTANT: assistant,
        PRACTITIONER: practitioner,
        CATALOGUE_ADMIN: catalogue_admin,
        PRIVACY_OFFICER: privacy_officer,
        SUPERUSER: superuser,
        OUTSIDER: outsider,
    }
    for user in users.values():  # the authenticator client_for signs in with
        TOTPDevice.objects.get_or_create(user=user, confirmed=True, defaults={"name": "phone"})
    return {
        **first,
        **_console_rows(),
        "users": users,
        "app_label": "treatments",
        "patient_type": ContentType.objects.get_for_model(first["patient"]),
    }


def _request_as(user):
    request = RequestFactory().get("/patients/")
    request.user = user
    return request


def _pk(value) -> object:
    return getattr(value, "pk", value)


def _url(name: str, rule: Rule, records: dict, missing: bool = False) -> str:
    """The URL for `records` (or with ids that exist nowhere, when `missing`)."""
    args = [0 if missing else _pk(records[arg]) for arg in rule.args]
    url = reverse(name, args=args)
    return f"{url}?{rule.query}" if rule.query else url


def _console_refusal(response) -> bool:
    return response.status_code == 302 and response.url.startswith(reverse("admin:login"))


def _request(client, method: str, url: str):
    """One request; a console page sends a user without the console role to its login
    page first, which then refuses them: that refusal is the answer."""
    send = client.get if method == "GET" else client.post
    response = send(url, HTTP_X_CSRFTOKEN=CSRF_TOKEN)
    if _console_refusal(response):
        response = client.get(response.url)
    return response


def _matches(response, expected: Answer) -> bool:
    if expected is ACCEPTED:
        return response.status_code in (200, 302, 400) and not (
            response.status_code == 302 and _local(response.url).startswith(SIGN_IN.to)
        )
    if response.status_code != expected.status:
        return False
    if not expected.to:
        return True
    where = _local(response.url)
    return where.startswith(expected.to) if expected.prefix else where == expected.to


def _local(url: str) -> str:
    """The path and query of a redirect, whether it names the host or not."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _describe(response) -> str:
    where = f" to {response.url}" if response.status_code == 302 else ""
    return f"{response.status_code}{where}"


def _is_refusal(answer: Answer) -> bool:
    return answer is SIGN_IN or answer in (REFUSED, NOT_FOUND, POST_ONLY)


def _database_state() -> dict[str, str]:
    """A digest of every table's rows (sessions aside: every request renews its own)."""
    tables = [t for t in connection.introspection.table_names() if t != "django_session"]
    # Table names from the database's own catalogue, quoted: nothing here comes from input.
    query = " UNION ALL ".join(
        f"SELECT '{table}', md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "  # noqa: S608
        f"FROM {connection.ops.quote_name(table)} t"
        for table in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(query)
        return dict(cursor.fetchall())


def _requests(role: str):
    """(name, method, rule, expected answer) for every URL this role is to be answered."""
    for name, rule in sorted(MATRIX.items()):
        yield name, "GET", rule, rule.get[role]
        if rule.post is not None:
            yield name, "POST", rule, rule.post[role]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_url_answers_each_role_as_the_matrix_says(client, client_for, world, role):
    if role != ANONYMOUS:
        client_for(world["users"][role])
    wrong = []

    def check(name, method, url, expected):
        response = _request(client, method, url)
        if not _matches(response, expected):
            wrong.append(f"{method} {url} ({name}): expected {expected}, got {_describe(response)}")

    # Refusals first: they must leave the database exactly as it was.
    before = _database_state()
    allowed = []
    for name, method, rule, expected in _requests(role):
        if not _is_refusal(expected):
            allowed.append((name, method, rule, expected))
            continue
        check(name, method, _url(name, rule, world), expected)
        if expected is REFUSED and rule.args and not name.startswith("admin:"):
            # Refused before any lookup: whether the record exists is not given away.
            check(name, method, _url(name, rule, world, missing=True), REFUSED)
    after = _database_state()
    changed = sorted(table for table, digest in after.items() if before[table] != digest)
    if "clinic_accesslog" in changed:
        changed += list(AccessLog.objects.order_by("-id").values_list("path", flat=True)[:5])
    assert changed == [], f"refused requests as {role} changed {changed}: {wrong}"

    for name, method, rule, expected in allowed:  # the GETs, then the POSTs
        check(name, method, _url(name, rule, world), expected)
        if expected is OK and rule.args and not name.startswith("admin:"):
            check(name, method, _url(name, rule, world, missing=True), NOT_FOUND)
    assert wrong == [], f"{len(wrong)} answers differ from the matrix:\n" + "\n".join(wrong)


# Records that belong to one patient, as the matrix names them in a URL's arguments.
PATIENT_RECORDS = {"patient", "map", "session", "consent", "photo", "side_effect"}


def _full_post(name: str) -> dict:
    """A complete form for each URL that would change another patient's record if it
    leaked (the follow-ups began six weeks ago: resolved yesterday)."""
    return {
        "patients:consent_withdraw": {"reason": "Changed their mind"},
        "treatments:side_effect_resolve": {
            "resolved_at": datetime_input(timezone.localtime() - timedelta(days=1))
        },
        "treatments:side_effect_review": {"note": "Seen, antibiotics started"},
    }.get(name, {})


NESTED = sorted(name for name, rule in MATRIX.items() if len(set(rule.args) & PATIENT_RECORDS) > 1)


def test_every_url_with_a_record_inside_another_is_checked_for_mismatches():
    assert NESTED == [
        "patients:consent_signature",
        "patients:consent_withdraw",
        "patients:photo_full",
        "patients:photo_thumbnail",
        "treatments:side_effect_resolve",
        "treatments:side_effect_review",
    ]


@pytest.fixture
def other(practitioner, world) -> dict:
    """A second patient with the same kinds of records."""
    return _records(PatientFactory(first_name="Yves"), practitioner)


def _state(record) -> dict:
    return type(record).objects.filter(pk=record.pk).values().get()


@pytest.mark.django_db
@pytest.mark.parametrize("name", NESTED)
def test_a_record_of_another_patient_is_not_found_through_this_ones_url(
    client_for, practitioner, world, other, name
):
    """/patients/<A>/photos/<photo of B>/..., a follow-up of B's session under A's
    session: 404, and a POST that would change it changes nothing."""
    client = client_for(practitioner)
    rule = MATRIX[name]
    parent, child = rule.args
    url = reverse(name, args=[world[parent].pk, other[child].pk])
    before = _state(other[child])
    method = "POST" if rule.post is not None else "GET"
    send = client.post if method == "POST" else client.get
    response = send(url, _full_post(name), HTTP_X_CSRFTOKEN=CSRF_TOKEN)
    assert response.status_code == 404, f"{method} {url}: {response.status_code}"
    assert _state(other[child]) == before
    # The same request on a matching pair is served: the 404 is the mismatch's.
    own = reverse(name, args=[other[parent].pk, other[child].pk])
    assert send(own, _full_post(name), HTTP_X_CSRFTOKEN=CSRF_TOKEN).status_code in (
        200,
        302,
    )
    if _full_post(name):
        assert _state(other[child]) != before, f"{name}: the full form did not do anything"


@pytest.mark.django_db
def test_the_photo_comparison_shows_only_this_patients_photos(
    client_for, practitioner, world, other
):
    client = client_for(practitioner)
    theirs = other["photos"]
    response = client.get(
        reverse("patients:photo_compare", args=[world["patient"].pk]),
        {"region": "Right thigh", "view": "front", "left": theirs[0].pk, "right": theirs[1].pk},
    )
    assert response.status_code == 200
    assert {photo.pk for photo in response.context["pair"]} == {
        photo.pk for photo in world["photos"]
    }
    for photo in theirs:
        assert reverse("patients:photo_full", args=[other["patient"].pk, photo.pk]) not in (
            response.content.decode()
        )
        assert f"/photos/{photo.pk}/" not in response.content.decode()


@pytest.mark.django_db
def test_a_session_is_not_started_on_another_patients_map(client_for, practitioner, world, other):
    client = client_for(practitioner)
    url = reverse("treatments:session_new", args=[world["patient"].pk])
    response = client.get(url, {"map": other["map"].pk})
    assert response.status_code == 200
    # The patient has one active map: the form is for it, never for the other's.
    assert response.context["session"].treatment_map == world["map"]
    lots = {world["lot"].compound.name: world["lot"]}
    zone_of_other = other["map"].zones.get()
    sessions = TreatmentSession.objects.count()
    post = session_post(world["map"], lots, rows={0: {"map_zone": zone_of_other.pk}})
    response = client.post(f"{url}?map={other['map'].pk}", post, HTTP_X_CSRFTOKEN=CSRF_TOKEN)
    assert response.status_code == 200
    assert "This row is not a zone of the treatment map." in response.content.decode()
    assert "map_zone" in response.context["formset"].errors[0]
    assert TreatmentSession.objects.count() == sessions
    # The same form with the patient's own zone is saved: the refusal was the zone's.
    response = client.post(url, session_post(world["map"], lots), HTTP_X_CSRFTOKEN=CSRF_TOKEN)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert TreatmentSession.objects.count() == sessions + 1


@pytest.mark.django_db
def test_a_zone_plan_cannot_take_another_patients_measurement(
    client_for, practitioner, world, other
):
    client = client_for(practitioner)
    treatment_map = world["map"]
    url = reverse("treatments:map_plan", args=[treatment_map.pk])
    theirs = plan_post(treatment_map, baseline=other["measurement"].pk)
    response = client.post(url, theirs, HTTP_X_CSRFTOKEN=CSRF_TOKEN)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode(), response.context["formset"].errors
    assert treatment_map.zones.get().baseline is None
    ours = plan_post(treatment_map, baseline=world["measurement"].pk)
    assert client.post(url, ours, HTTP_X_CSRFTOKEN=CSRF_TOKEN).status_code == 302
    assert treatment_map.zones.get().baseline == world["measurement"]


@pytest.mark.django_db
def test_a_refused_post_to_a_session_in_the_console_logs_no_view(client_for, world):
    """The console's session page is read-only even for a superuser: a POST to it is
    refused (403) and shows nothing, so it must not leave a "view" in the access log
    (it did: the view was logged before the console refused the POST)."""
    client = client_for(world["users"][SUPERUSER])
    url = reverse("admin:treatments_treatmentsession_change", args=[world["session"].pk])
    rows = AccessLog.objects.count()
    assert client.post(url, HTTP_X_CSRFTOKEN=CSRF_TOKEN).status_code == 403
    assert AccessLog.objects.count() == rows
    assert client.get(url).status_code == 200
    assert AccessLog.objects.count() == rows + 1
