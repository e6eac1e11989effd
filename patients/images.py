"""Every uploaded image (photos, consent signatures and scans) goes through here.

An upload is trusted only after Pillow has decoded it completely and we have
written a brand-new file from the decoded pixels: whatever else the upload
carried (EXIF with GPS, comments, appended HTML or scripts) is not copied.
"""

import hashlib
import io
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.formats import number_format
from django.utils.translation import gettext
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = settings.IMAGE_UPLOAD_MAX_BYTES
MAX_PIXELS = 40_000_000  # a 40-megapixel camera; larger is refused before decoding
THUMBNAIL_SIZE = (480, 480)
ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png"}


@dataclass(frozen=True)
class CleanImage:
    content: ContentFile
    thumbnail: ContentFile
    width: int
    height: int
    sha256: str


def _refuse(message: str) -> ValidationError:
    return ValidationError(message, code="invalid_image")


def clean_image(upload, *, max_bytes: int = MAX_UPLOAD_BYTES) -> CleanImage:
    """Verify, upright, strip and re-encode an uploaded JPEG or PNG."""
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise _refuse(
            gettext("The file is %(size)s MB; the limit is %(limit)d MB.")
            % {"size": number_format(size / 1_048_576, 1), "limit": max_bytes // 1_048_576}
        )
    raw = upload.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise _refuse(
            gettext("The file is larger than %(limit)d MB.") % {"limit": max_bytes // 1_048_576}
        )
    if not raw:
        raise _refuse(gettext("The file is empty."))

    # WeasyPrint turns this on for the whole process when it is imported (the first PDF):
    # a half-received JPEG would then decode with a grey lower half instead of failing.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            fmt = probe.format
            width, height = probe.size
            if fmt not in ALLOWED_FORMATS:
                raise _refuse(gettext("Only JPEG and PNG images are accepted."))
            # Checked from the header, before any pixel is decoded.
            if width * height > MAX_PIXELS:
                raise _refuse(
                    gettext(
                        "The image is %(width)d×%(height)d pixels; the limit is "
                        "%(limit)d megapixels."
                    )
                    % {"width": width, "height": height, "limit": MAX_PIXELS // 1_000_000}
                )
            probe.verify()
        with Image.open(io.BytesIO(raw)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
    except ValidationError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        raise _refuse(gettext("The file is not a readable JPEG or PNG image.")) from None

    encoded, extension = _encode(upright, fmt)
    thumb = upright.copy()
    thumb.thumbnail(THUMBNAIL_SIZE)
    thumbnail, _ = _encode(thumb, "JPEG")
    return CleanImage(
        content=ContentFile(encoded, name=f"image.{extension}"),
        thumbnail=ContentFile(thumbnail, name="thumbnail.jpg"),
        width=upright.width,
        height=upright.height,
        sha256=hashlib.sha256(encoded).hexdigest(),
    )


def _on_white(image: Image.Image) -> Image.Image:
    """RGB pixels; transparency (a drawn signature, say) is laid on white paper."""
    if image.mode in {"RGBA", "LA", "PA"} or "transparency" in image.info:
        rgba = image.convert("RGBA")
        paper = Image.new("RGB", rgba.size, (255, 255, 255))
        paper.paste(rgba, mask=rgba.getchannel("A"))
        return paper
    return image.convert("RGB")


def _encode(image: Image.Image, fmt: str) -> tuple[bytes, str]:
    """A fresh file from the pixels only: no EXIF, no ICC, no text chunks."""
    buffer = io.BytesIO()
    pixels = _on_white(image)
    # convert() copies .info (EXIF, ICC profile, PNG text); some encoders reuse it.
    pixels.info = {}
    if fmt == "JPEG":
        pixels.save(buffer, format="JPEG", quality=90, optimize=True)
    else:
        pixels.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue(), ALLOWED_FORMATS[fmt]
