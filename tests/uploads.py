"""Images to upload: a small PNG (or another format) and the file a form receives."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def image_bytes(fmt="PNG", size=(64, 48), color=(200, 30, 30), **save_kwargs) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt, **save_kwargs)
    return buffer.getvalue()


def upload(name="photo.png", data=None, content_type="image/png"):
    return SimpleUploadedFile(name, data if data is not None else image_bytes(), content_type)
