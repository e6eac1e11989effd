"""Languages: the signed-in user's own, and the patient's for what is handed to them.

The user's choice (clinic.UserProfile.language) is read once at sign-in and kept in the
session; UserLanguageMiddleware activates it on each request without a query. Blank
follows the browser (LocaleMiddleware, before it).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from clinic.models import UserProfile

USER_LANGUAGE = "clinic_language"


def remember_language(request: HttpRequest, language: str) -> None:
    """Keep the user's choice in the session ("" = the browser's) and apply it now."""
    request.session[USER_LANGUAGE] = language
    if language:
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


@receiver(user_logged_in, dispatch_uid="clinic-user-language")
def language_at_sign_in(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    language = UserProfile.objects.filter(user=user).values_list("language", flat=True).first()
    remember_language(request, language or "")


class UserLanguageMiddleware:
    """After authentication: the signed-in user's language, from the session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = ""
        if request.user.is_authenticated:
            language = request.session.get(USER_LANGUAGE) or ""
            if language not in dict(settings.LANGUAGES):
                language = ""
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if language:
            response.headers.setdefault("Content-Language", language)
        return response


def patient_language(patient) -> str:
    language = getattr(patient, "preferred_language", "") or settings.LANGUAGE_CODE
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


@contextmanager
def in_patient_language(patient) -> Iterator[str]:
    """What is handed to the patient (print view, signed PDF, booklet) is in their
    language, whatever the practitioner's."""
    language = patient_language(patient)
    with translation.override(language):
        yield language


def render_for_patient(request: HttpRequest, patient, template: str, context: dict) -> HttpResponse:
    """render() in the patient's language, the response saying which."""
    with in_patient_language(patient) as language:
        response = render(request, template, context)
    response["Content-Language"] = language
    return response


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        widget=forms.RadioSelect,
        help_text=_(
            "The language of the pages you see. Papers for a patient follow the patient's language."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [
            ("", _("The browser's language")),
            *[(code, _(name)) for code, name in settings.LANGUAGES],
        ]


@require_http_methods(["GET", "POST"])
def account_language(request: HttpRequest) -> HttpResponse:
    """Every signed-in user picks the language of their own pages."""
    if request.method == "POST":
        form = LanguageForm(request.POST)
        if form.is_valid():
            language = form.cleaned_data["language"]
            UserProfile.objects.update_or_create(user=request.user, defaults={"language": language})
            remember_language(request, language)
            if not language:
                translation.activate(translation.get_language_from_request(request))
            messages.success(request, gettext("Your language is saved."))
            return redirect("account_language")
    else:
        form = LanguageForm(initial={"language": request.session.get(USER_LANGUAGE, "")})
    return render(request, "account/language.html", {"form": form})
