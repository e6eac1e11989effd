"""The clinic-wide pages in Canadian French: the dashboard, sign-in and its second step,
the error pages, the audit search and the messages of the middleware. Each page asked for
in French (Accept-Language: fr-ca) shows French and none of its English; asked for with
no language it stays English."""

from datetime import timedelta

import pytest
from django.template import loader
from django.urls import reverse
from django.utils import timezone, translation
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.signals import SIGNED_IN_AT
from tests.factories import TEST_PASSWORD, PatientFactory, TreatmentMapFactory, make_session

pytestmark = pytest.mark.django_db
FRENCH = {"HTTP_ACCEPT_LANGUAGE": "fr-ca"}


def _page(response) -> str:
    return response.content.decode()


def _assert_french(page: str, french: list[str], english: list[str]) -> None:
    for text in french:
        assert text in page, text
    for text in english:
        assert text not in page, text


def test_the_dashboard_in_french(client_for, practitioner):
    patient = PatientFactory(last_name="Gagnon")
    make_session(TreatmentMapFactory(patient=patient), performed_at=timezone.now())
    page = _page(client_for(practitioner).get(reverse("home"), **FRENCH))
    assert '<html lang="fr-ca">' in page
    _assert_french(
        page,
        [
            "Tableau de bord",
            "Bonjour, Alice",
            "Séances d’aujourd’hui",
            "brouillon",
            "Brouillons non signés",
            "Se déconnecter",
            "Rappel de lot",
            "Gagnon",
        ],
        [
            "Dashboard",
            "Good day",
            "Today's sessions",
            "Unsigned drafts",
            "Sign out",
            "Lot recall",
            "No appointment booked",
        ],
    )


def test_the_dashboard_stays_english_without_a_language(client_for, practitioner):
    page = _page(client_for(practitioner).get(reverse("home")))
    assert '<html lang="en">' in page
    _assert_french(page, ["Good day, Alice", "Today's sessions", "Sign out"], ["Bonjour"])


def test_sign_in_page_and_a_wrong_password_in_french(client, practitioner):
    page = _page(client.get(reverse("login"), **FRENCH))
    _assert_french(
        page,
        ["Se connecter", "mots de passe erronés", "application d’authentification"],
        ["Sign in", "wrong passwords", "authenticator app"],
    )
    refused = client.post(
        reverse("login"), {"username": "alice", "password": "not it at all"}, **FRENCH
    )
    assert refused.status_code == 200
    # Django's own form error, from its French catalogue.
    assert "Saisissez un nom d’utilisateur et un mot de passe valides" in _page(refused)


def test_the_second_step_and_its_refusal_in_french(client, catalogue_admin):
    TOTPDevice.objects.create(user=catalogue_admin, name="phone", confirmed=True)
    client.post(reverse("login"), {"username": "carol", "password": TEST_PASSWORD})
    page = _page(client.get(reverse("two_factor_verify"), **FRENCH))
    _assert_french(
        page,
        ["Deuxième étape", "Continuer", "codes de récupération"],
        ["Second step", "Lost your phone", ">Continue<"],
    )
    wrong = _page(client.post(reverse("two_factor_verify"), {"code": "000000"}, **FRENCH))
    _assert_french(wrong, ["Ce code n’est pas valide"], ["That code is not valid"])


def test_enrolment_page_in_french(client, catalogue_admin):
    client.post(reverse("login"), {"username": "carol", "password": TEST_PASSWORD})
    page = _page(client.get(reverse("two_factor_setup"), **FRENCH))
    _assert_french(
        page,
        [
            "Configurer l’authentification à deux facteurs",
            "Code QR à numériser",
            "ou tapez cette clé à la main",
            'data-testid="totp-secret"',
        ],
        ["Set up two-step sign-in", "QR code to scan", "type this key by hand"],
    )


def test_an_expired_sign_in_is_announced_in_french(client_for, practitioner):
    client = client_for(practitioner)
    session = client.session
    session[SIGNED_IN_AT] = (timezone.now() - timedelta(hours=13)).timestamp()
    session.save()
    response = client.get(reverse("home"), **FRENCH)
    assert response.status_code == 302
    login_page = _page(client.get(response.url, **FRENCH))
    _assert_french(
        login_page,
        ["Votre connexion a expiré. Veuillez vous connecter de nouveau."],
        ["Your sign-in has expired"],
    )


def test_refusal_and_not_found_pages_in_french(client_for, assistant):
    client = client_for(assistant)
    refused = client.get(reverse("audit"), **FRENCH)
    assert refused.status_code == 403
    _assert_french(
        _page(refused),
        ["Vous n’avez pas accès à cette page", "Retour au tableau de bord"],
        ["You do not have access", "Back to the dashboard"],
    )
    missing = client.get(reverse("patients:chart", args=[999_999]), **FRENCH)
    assert missing.status_code == 404
    _assert_french(_page(missing), ["Page introuvable"], ["Page not found"])


def test_server_and_database_error_pages_in_french():
    with translation.override("fr-ca"):
        server = loader.render_to_string("500.html")
        database = loader.render_to_string("503.html")
    _assert_french(server, ["Une erreur s’est produite", 'lang="fr-ca"'], ["Something went wrong"])
    _assert_french(
        database, ["La base de données ne répond pas"], ["The database is not answering"]
    )


def test_too_large_upload_page_in_french(client_for, practitioner, settings):
    settings.REQUEST_BODY_MAX_BYTES = 1_048_576
    patient = PatientFactory()
    response = client_for(practitioner).post(
        reverse("patients:photo_new", args=[patient.pk]),
        data=b"x" * (2 * 1_048_576),
        content_type="application/octet-stream",
        **FRENCH,
    )
    assert response.status_code == 413
    # The size is a localised number: a decimal comma in French.
    _assert_french(
        _page(response),
        ["Le fichier est trop volumineux", "Vous avez envoyé 2,0 Mo", "Rien n’a été enregistré"],
        ["The file is too large", "Nothing was saved"],
    )


def test_the_audit_search_in_french(client_for, practitioner, privacy_officer):
    patient = PatientFactory(last_name="Tremblay")
    client_for(practitioner).get(patient.get_absolute_url())
    page = _page(client_for(privacy_officer).get(reverse("audit") + "?patient=tremblay", **FRENCH))
    _assert_french(
        page,
        [
            "Qui a consulté quel dossier",
            "Nom d’utilisateur",
            "Toute action",
            "Consulté",
            "Provenance",
            "Lignes pour\N{NO-BREAK SPACE}:",
            "Tremblay",
        ],
        ["Who accessed which record", "User name", "Any action", "Viewed", "Rows for:"],
    )


def test_a_validator_message_in_french():
    from django.core.exceptions import ValidationError

    from clinic.validators import no_bidi_controls, not_in_future
    from tests.dates import days_from_today

    with translation.override("fr-ca"):
        with pytest.raises(ValidationError) as future:
            not_in_future(days_from_today(2))
        with pytest.raises(ValidationError) as bidi:
            no_bidi_controls("abc\u202edef")
    assert future.value.messages == ["Cette date est dans le futur."]
    assert future.value.code == "future"
    assert "caractère invisible de direction du texte (U+202E" in bidi.value.messages[0]
    assert bidi.value.code == "bidi_control"
