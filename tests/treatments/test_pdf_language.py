"""Issue 13: the PDF drawn at signing is in the patient's language, not the signer's."""

import pytest
from django.utils import translation

from clinic.models import UserProfile
from tests.pdf import pdf_text
from treatments.models import TreatmentSession
from treatments.summary import render_pdf, with_summary_data

HEADINGS = ["Before the procedure", "After the procedure", "What to expect"]


def _drawn(session_pk: int) -> str:
    session = with_summary_data(TreatmentSession.objects.all()).get(pk=session_pk)
    return pdf_text(render_pdf(session))


@pytest.mark.parametrize(
    ("patient_language", "signer_language"), [("fr-ca", "en"), ("en", "fr-ca")]
)
def test_the_pdf_follows_the_patient(draft, practitioner, patient_language, signer_language):
    UserProfile.objects.create(user=practitioner, language=signer_language)
    draft.patient.preferred_language = patient_language
    draft.patient.save()
    with translation.override(signer_language):
        text = _drawn(draft.pk)
    with translation.override("fr-ca"):
        french = [translation.gettext(heading) for heading in HEADINGS]
    expected, absent = (french, HEADINGS) if patient_language == "fr-ca" else (HEADINGS, french)
    assert expected != absent  # the headings are translated at all
    for heading in expected:
        assert heading in text
    for heading in absent:
        assert heading not in text
