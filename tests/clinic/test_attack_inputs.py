"""The attacker's inputs, kept as tests (issue 10): script payloads in every free-text field
on every page that shows them, SQL payloads and NUL bytes in every query parameter, no
state change on GET, no POST without its CSRF token.

The free-text fields come from the models (every editable CharField/TextField without
choices), so a new field is covered, and must be a FreeCharField/FreeTextField, without
anyone remembering to add it here.
"""

from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, models, transaction
from django.test import Client
from django.urls import resolve, reverse
from django.utils import timezone

from clinic.fields import FreeCharField, FreeTextField
from patients.models import Patient, Photo
from tests.factories import (
    MapZoneFactory,
    PatientFactory,
    TreatmentMapFactory,
    UserFactory,
    make_photo,
    make_scanned_consent,
    make_session,
)
from tests.pdf import pdf_text
from tests.urlconf import ALL_URLS
from treatments.models import Amendment, SideEffect, TreatmentSession
from treatments.summary import render_pdf

pytestmark = pytest.mark.django_db

OUR_APPS = ("clinic", "patients", "treatments")

# Text columns that are not typed by a person, each with its reason.
NOT_TYPED = {
    "patients.Patient.chart_number": "drawn from a sequence",
    "patients.Photo.sha256": "computed",
    "treatments.TreatmentSession.pdf_sha256": "computed at signing",
    "treatments.Amendment.pdf_sha256": "computed when the amendment is recorded",
    "clinic.AccessLog.object_id": "written by the access log",
    "clinic.AccessLog.path": "written by the access log",
    "clinic.Jurisdiction.code": "an ISO 3166-2 code (RegexValidator)",
    # Copies of catalogue fields (FreeCharField there) kept as they read when recorded.
    "treatments.Injection.region_label": "copy of BodyRegion.label",
    "treatments.Injection.formula_name": "copy of Formula.name",
    "treatments.InjectionLot.compound_name": "copy of Compound.name",
    "treatments.InjectionLot.lot_number": "copy of CompoundLot.lot_number",
    "treatments.LotSession.unit": "written by the database (lot_facts), from InjectionLot",
    "treatments.LotAmount.unit": "written by the database (lot_totals), from LotSession",
    "treatments.InjectionLot.amount_unit": "copy of FormulaIngredient.unit (choices)",
    "treatments.Acknowledgement.key": "written by signing (signature.Change.key)",
    "treatments.StoredRecord.language": "a code of settings.LANGUAGES, the active one",
    "treatments.StoredRecord.html": "drawn from our template, every value escaped there",
}


def _our_models():
    for model in apps.get_models():
        # A proxy (the console's sign-in log) has the fields of another app's model.
        if (
            model._meta.app_label in OUR_APPS
            and not model.__name__.endswith("Event")
            and not model._meta.proxy
        ):
            yield model


def _text_fields(model):
    for field in model._meta.concrete_fields:
        if (
            isinstance(field, models.CharField | models.TextField)
            and not isinstance(field, models.EmailField | models.SlugField)
            and not field.choices
            and not isinstance(field, models.GeneratedField)
        ):
            yield field


def _label(model, field) -> str:
    return f"{model._meta.app_label}.{model.__name__}.{field.name}"


FREE_TEXT = {
    _label(model, field): (model, field)
    for model in _our_models()
    for field in _text_fields(model)
    if _label(model, field) not in NOT_TYPED
}


def test_every_typed_text_field_obeys_the_rules_for_typed_text():
    """Direction controls refused, length bounded (clinic.fields): a new text field must
    be a FreeCharField/FreeTextField, or be declared in NOT_TYPED with its reason."""
    loose = [
        label
        for label, (_, field) in FREE_TEXT.items()
        if not isinstance(field, FreeCharField | FreeTextField)
    ]
    assert loose == []
    assert len(FREE_TEXT) > 40  # the introspection found the fields


PAYLOADS = [
    "</script><script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "x onmouseover=alert(1) y",
    "W" * 300,
]


class _Markup(HTMLParser):
    """The tags, attributes and script bodies of a page, as a browser would parse them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "script":
            self.scripts.append((attributes, ""))

    def handle_data(self, data):
        if self.lasttag == "script" and self.scripts:
            attributes, body = self.scripts[-1]
            self.scripts[-1] = (attributes, body + data)


def _assert_inert(html: str, where: str) -> None:
    markup = _Markup(html)
    for tag, attributes in markup.tags:
        handlers = [name for name in attributes if name.startswith("on")]
        assert handlers == [], f"{where}: <{tag}> has {handlers}"
        assert not (tag == "img" and attributes.get("src") == "x"), f"{where}: injected <img>"
        for name in ("href", "src", "action", "formaction"):
            value = (attributes.get(name) or "").strip().lower()
            assert not value.startswith("javascript:"), f"{where}: {name}={value!r}"
    for attributes, body in markup.scripts:
        if attributes.get("type") == "application/json":
            assert "<" not in body, f"{where}: raw markup inside a JSON script"
        else:
            assert "alert(1)" not in body, f"{where}: a payload inside a script"


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def world(practitioner, superuser):
    """A patient with a map, a signed session (and a draft), consent, photo, side effect,
    amendment: one row of each kind that has typed text."""
    patient = PatientFactory(phototype=2)
    treatment_map = TreatmentMapFactory(patient=patient, created_by=practitioner)
    MapZoneFactory(treatment_map=treatment_map)
    signed = make_session(treatment_map, practitioner=practitioner, check_skin_cleansed=False)
    draft = make_session(treatment_map, practitioner=practitioner)
    consent = make_scanned_consent(patient, practitioner)
    photo = make_photo(patient, practitioner)
    effect = SideEffect.objects.create(
        session=signed,
        kind=SideEffect.Kind.OTHER,
        onset=signed.performed_at + timedelta(hours=1),
        severity=SideEffect.Severity.MILD,
        recorded_by=practitioner,
    )
    patient.measurements.create(
        site="Thigh", value=50, measured_on=timezone.localdate(), recorded_by=practitioner
    )
    return {
        "patient": patient,
        "map": treatment_map,
        "session": signed,
        "draft": draft,
        "consent": consent,
        "photo": photo,
        "effect": effect,
        "lot": signed.injections.first().lots.first().lot,
    }


def _fill_every_typed_field(payload: str) -> None:
    """Every typed field of every row holds the payload (cut to the column's size; led by
    the row's id where a column is unique), written past validation as an import or an
    older record could be."""
    for model, fields in _by_model().items():
        for pk in model._base_manager.values_list("pk", flat=True):
            try:
                with transaction.atomic():
                    _fill(model, pk, fields, payload)
            except IntegrityError:  # a unique column: each row its own value
                _fill(model, pk, fields, f"{pk}{payload}")


def _fill(model, pk, fields, text: str) -> None:
    values = {f.name: text[: f.max_length] if f.max_length else text for f in fields}
    if model is Patient:  # typed allergies are an answer (constraint patient_allergy_answer)
        values["allergy_status"] = "listed"
    model._base_manager.filter(pk=pk).update(**values)


def _by_model() -> dict:
    grouped: dict = {}
    for model, field in FREE_TEXT.values():
        if not model._meta.proxy and field.name != "sha256":
            grouped.setdefault(model, []).append(field)
    return grouped


def _sign(session: TreatmentSession, user) -> None:
    TreatmentSession.objects.filter(pk=session.pk).update(
        status=TreatmentSession.Status.SIGNED, signed_at=timezone.now(), signed_by=user
    )


def _pages(world) -> list[str]:
    patient, session, tmap = world["patient"], world["session"], world["map"]
    photo = Photo.objects.get(pk=world["photo"].pk)  # its region holds the payload now
    console = [
        reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist")
        for m in (_registered_models())
    ] + [
        reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_change", args=[obj.pk])
        for m in _registered_models()
        if (obj := m.objects.first()) is not None
    ]
    return [
        "/",
        reverse("patients:list"),
        reverse("patients:list") + f"?q={patient.chart_number}",
        patient.get_absolute_url(),
        reverse("patients:edit", args=[patient.pk]),
        reverse("patients:access", args=[patient.pk]),
        reverse("patients:photo_compare", args=[patient.pk])
        + "?"
        + urlencode({"region": photo.region, "view": photo.view}),
        reverse("treatments:map", args=[tmap.pk]),
        reverse("treatments:map_plan", args=[tmap.pk]),
        reverse("treatments:session_list"),
        reverse("treatments:session", args=[session.pk]),
        reverse("treatments:session_print", args=[session.pk]),
        reverse("treatments:session", args=[world["draft"].pk]),
        reverse("treatments:session_edit", args=[world["draft"].pk]),
        reverse("treatments:booklet", args=[patient.pk]),
        reverse("treatments:lots") + "?q=a",
        reverse("treatments:lot_recall", args=[world["lot"].pk]),
        reverse("audit"),
        *console,
    ]


def _registered_models():
    from django.contrib import admin

    return [m for m in admin.site._registry if m._meta.app_label in OUR_APPS]


@pytest.mark.parametrize("payload", PAYLOADS, ids=["script", "img", "javascript", "attr", "long"])
def test_script_payloads_in_every_typed_field_stay_text(client_for, world, superuser, payload):
    _fill_every_typed_field(payload)
    _sign(world["session"], superuser)
    Amendment.objects.create(
        session=world["session"], author=superuser, reason=payload[:300], text=payload
    )
    client = client_for(superuser)
    for url in _pages(world):
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_inert(response.content.decode(), url)
    # The PDF holds the payload as text, shown as typed.
    text = pdf_text(render_pdf(TreatmentSession.objects.get(pk=world["session"].pk)))
    assert payload.replace(" ", "")[:100] in text.replace(" ", "")


# Every GET parameter of every page that reads one (the console's search, ordering, page
# and filters included).
PARAMETERS = {
    "patients:list": ["q", "sort", "page"],
    "audit": ["patient", "user", "date_from", "date_to", "action", "page"],
    "treatments:session_list": ["status", "page"],
    "patients:chart": ["sessions"],
    "treatments:booklet": ["page"],
    "treatments:lots": ["q"],
    "treatments:lot_recall": ["page"],
    "treatments:injection_lots": ["prefix", "location", "date", "formula", "lot_1"],
    "patients:photo_compare": ["region", "view", "left", "right"],
    "treatments:session_new": ["map"],
    "patients:consent_new": ["kind"],
    "patients:access": ["page"],
    "admin:treatments_compound_changelist": ["q", "o", "p", "active__exact", "category__id"],
    "admin:treatments_compoundlot_changelist": ["q", "o", "p", "expiry_date__gte"],
    "admin:clinic_location_changelist": ["q", "o", "p"],
    "login": ["next"],
}

# The parameters the other ones are tried beside (a row's lots need a row).
BASE_QUERY = {"treatments:injection_lots": {"prefix": "form-0"}}
# A parameter naming something that does not exist: "not found" is the right answer.
NOT_FOUND_ON_BAD = {
    ("patients:photo_compare", parameter) for parameter in ["region", "view", "left", "right"]
} | {("treatments:injection_lots", "prefix")}

SQL_PAYLOADS = [
    "'; SELECT pg_sleep(5)--",
    "' OR '1'='1",
    "1 OR 1=1",
    "1); SELECT pg_sleep(5);--",
    "a\x00b",
    "%' AND 1=(SELECT 1 FROM pg_sleep(5))--",
    "9" * 30,
]


# The pages above whose URL takes an id: a patient's, or a lot's.
TAKES_PATIENT = {
    "patients:photo_compare",
    "treatments:session_new",
    "patients:consent_new",
    "patients:access",
    "patients:chart",
    "treatments:booklet",
}
TAKES_LOT = {"treatments:lot_recall"}


def _args_for(name: str, world) -> list:
    if name in TAKES_PATIENT:
        return [world["patient"].pk]
    if name in TAKES_LOT:
        return [world["lot"].pk]
    return []


@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_sql_payloads_and_nul_bytes_in_query_parameters(client_for, world, superuser, name):
    """200 or 400, never 500. An injected pg_sleep would overrun the statement timeout
    set here, and the cancelled query would surface as an error: no clock is read."""
    client = client_for(superuser)
    url = reverse(name, args=_args_for(name, world))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 2000")
    for parameter in PARAMETERS[name]:
        for payload in SQL_PAYLOADS:
            response = client.get(url, {**BASE_QUERY.get(name, {}), parameter: payload})
            expected = {200, 302, 400} | ({404} if (name, parameter) in NOT_FOUND_ON_BAD else set())
            assert response.status_code in expected, (parameter, payload, response.status_code)
            if "\x00" in payload:
                assert response.status_code == 400


def test_every_get_parameter_page_is_covered():
    """A page that reads request.GET must be listed in PARAMETERS (checked by name here
    for the project's own views; the console's are listed by model)."""
    import inspect

    from clinic import views as clinic_views
    from patients import views as patient_views
    from reports import views as report_views
    from treatments.views import lots, sessions

    readers = set()
    for module in [
        clinic_views,
        patient_views,
        report_views,
        lots,
        sessions,
    ]:
        source = inspect.getsource(module)
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module.__name__ and "request.GET" in inspect.getsource(
                function
            ):
                readers.add(name)
        assert source  # the module was read
    by_view = {
        resolve(reverse(name, args=[1] * _arg_count(name))).func.__name__
        for name in PARAMETERS
        if not name.startswith("admin:") and name != "login"
    }
    assert readers - by_view == set()


def _arg_count(name: str) -> int:
    return 1 if name in TAKES_PATIENT | TAKES_LOT else 0


# Tables a GET may write to: the access log (every read of a patient's record is logged),
# sign-in sessions and the sign-in throttle's bookkeeping.
# The two-step sign-in's setup page keeps one pending authenticator per user, a new key
# at each visit (so that a password alone cannot plant a known key).
WRITTEN_BY_READS = {
    "clinic.AccessLog",
    "sessions.Session",
    "axes.AccessLog",
    "otp_totp.TOTPDevice",
}


def _row_counts() -> dict:
    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models()
        if model._meta.label not in WRITTEN_BY_READS
        and model._meta.managed
        and not model._meta.proxy
    }


def _real_urls(world) -> list[str]:
    """Every URL of the URLconf, with the world's objects where it takes an id."""
    by_kwarg = {
        "consent_pk": world["consent"].pk,
        "photo_pk": world["photo"].pk,
        "effect_pk": world["effect"].pk,
    }
    urls = []
    for name, sample in ALL_URLS:
        match = resolve(sample)
        kwargs = {}
        for key in match.kwargs:
            if key in by_kwarg:
                kwargs[key] = by_kwarg[key]
            elif key == "pk":
                kwargs[key] = _pk_for(sample, world)
        if name and kwargs and set(kwargs) == set(match.kwargs) - {"size"}:
            urls.append(reverse(name, kwargs=kwargs))
        else:
            urls.append(sample)
    return urls


def _pk_for(sample: str, world) -> int:
    if sample.startswith("/patients/"):
        return world["patient"].pk
    if sample.startswith("/maps/"):
        return world["map"].pk
    if sample.startswith("/lots/"):
        return world["lot"].pk
    return world["draft"].pk


def test_no_get_changes_anything(client_for, world, superuser):
    client = client_for(superuser)
    before = _row_counts()
    urls = _real_urls(world)
    statuses = {url: client.get(url).status_code for url in urls}
    assert _row_counts() == before
    assert 500 not in statuses.values()
    assert sum(status == 200 for status in statuses.values()) > 40  # real pages, not 404s


@pytest.fixture
def client():
    """For client_for: a client that checks CSRF tokens as browsers' requests are."""
    return Client(enforce_csrf_checks=True)


def test_every_post_needs_its_csrf_token(client_for, world, superuser):
    client = client_for(superuser)
    before = _row_counts()
    patient = Patient.objects.get(pk=world["patient"].pk)
    refused = {}
    for url in _real_urls(world):
        response = client.post(url, {"first_name": "Changed", "version": patient.version})
        refused[url] = response.status_code
    assert {url: code for url, code in refused.items() if code != 403} == {}
    assert _row_counts() == before
    assert Patient.objects.get(pk=patient.pk).first_name == patient.first_name
    assert get_user_model().objects.count() == before["auth.User"]
