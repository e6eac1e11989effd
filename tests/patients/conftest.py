import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from patients.images import clean_image
from patients.models import Consent, ConsentKind
from tests.factories import ConsentTemplateFactory, PatientFactory


def image_bytes(fmt="PNG", size=(64, 48), color=(200, 30, 30), **save_kwargs) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt, **save_kwargs)
    return buffer.getvalue()


def upload(name="photo.png", data=None, content_type="image/png"):
    return SimpleUploadedFile(name, data if data is not None else image_bytes(), content_type)


@pytest.fixture
def patient(db):
    return PatientFactory(first_name="Hélène", last_name="Gagnon", phototype=2)


@pytest.fixture
def templates(db):
    return {kind: ConsentTemplateFactory(kind=kind) for kind in ConsentKind.values}


@pytest.fixture
def sign_consent(templates, practitioner):
    def sign(patient, kind=ConsentKind.PHOTOGRAPHY, template=None):
        image = clean_image(upload())
        consent = Consent(
            patient=patient,
            template=template or templates[kind],
            signed_on=timezone.localdate(),
            signed_by=patient.full_name,
            method=Consent.Method.SCAN,
            recorded_by=practitioner,
        )
        consent.signature.save(image.content.name, image.content, save=False)
        consent.save()
        return consent

    return sign
