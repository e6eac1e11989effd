import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from patients.models import ConsentKind
from tests.factories import ConsentTemplateFactory, PatientFactory, make_scanned_consent


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
        return make_scanned_consent(patient, practitioner, template=template or templates[kind])

    return sign
