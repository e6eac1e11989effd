"""Where media (photos, consent scans and signatures, signed PDFs) is kept: MEDIA_STORAGE.

- ``local`` (the default, `make run`): files under MEDIA_ROOT, through Django's
  FileSystemStorage. One app server only: another cannot read this one's disk.
- ``s3``: an S3-compatible bucket through django-storages' S3 backend (boto3), shared by
  every app server. Objects are written with server-side encryption, without an ACL (so
  they stay as private as the bucket, which must block public access), and never
  overwritten (a second file of the same name gets a new name, as on disk).

Either way the application reads and writes media only through the storage API
(``open``, ``save``, ``exists``, ``listdir``) and serves it only from its authorising,
logging views, streamed from ``storage.open``: no file is ever linked directly, so no
public or presigned URL is made (``url()`` is never called).
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

LOCAL = "local"
S3 = "s3"
S3_BACKEND = "storages.backends.s3.S3Storage"
SSE_ALGORITHMS = ("AES256", "aws:kms")
# Read back into memory up to this size, beyond it into a temporary file (transient,
# under FILE_UPLOAD_TEMP_DIR or the system's temporary folder).
READ_MEMORY_BYTES = 4 * 1024 * 1024


def media_storage_kind(env: Mapping[str, str]) -> str:
    kind = (env.get("MEDIA_STORAGE") or LOCAL).strip().lower()
    if kind not in (LOCAL, S3):
        raise ImproperlyConfigured(f"MEDIA_STORAGE must be {LOCAL!r} or {S3!r}, not {kind!r}")
    return kind


def media_storage(env: Mapping[str, str]) -> dict:
    """The STORAGES["default"] entry that the environment asks for."""
    if media_storage_kind(env) == LOCAL:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    return {"BACKEND": S3_BACKEND, "OPTIONS": s3_options(env)}


def s3_options(env: Mapping[str, str]) -> dict:
    """django-storages' S3Storage options from MEDIA_S3_* (the credentials are boto3's own
    AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or the server's role when they are unset)."""
    bucket = env.get("MEDIA_S3_BUCKET", "").strip()
    if not bucket:
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs MEDIA_S3_BUCKET (the bucket's name)")
    sse = env.get("MEDIA_S3_SSE", "AES256").strip() or "AES256"
    if sse not in SSE_ALGORITHMS:
        raise ImproperlyConfigured(f"MEDIA_S3_SSE must be AES256 or aws:kms, not {sse!r}")
    encryption = {"ServerSideEncryption": sse}
    kms_key = env.get("MEDIA_S3_KMS_KEY_ID", "").strip()
    if kms_key:
        if sse != "aws:kms":
            raise ImproperlyConfigured("MEDIA_S3_KMS_KEY_ID needs MEDIA_S3_SSE=aws:kms")
        encryption["SSEKMSKeyId"] = kms_key
    return {
        "bucket_name": bucket,
        "endpoint_url": env.get("MEDIA_S3_ENDPOINT_URL", "").strip() or None,
        "region_name": env.get("MEDIA_S3_REGION", "").strip() or None,
        "location": env.get("MEDIA_S3_PREFIX", "").strip().strip("/"),
        "object_parameters": encryption,
        # No ACL header: objects stay private (the bucket blocks public access; buckets
        # with ACLs disabled refuse any ACL but the owner's anyway).
        "default_acl": None,
        # Never replace evidence: a name already taken gets a suffix, as on disk.
        "file_overwrite": False,
        # Files are served by our views, never linked: a url() would at least expire.
        "querystring_auth": True,
        "querystring_expire": 60,
        "max_memory_size": READ_MEMORY_BYTES,
    }
