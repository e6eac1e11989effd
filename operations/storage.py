"""Whether the media bucket answers (preflight): botocore is imported here, not by the
settings, so only the commands that reach the bucket pay for it."""

from botocore.exceptions import BotoCoreError, ClientError


def media_bucket_problem(storage) -> str | None:
    """Why the media bucket cannot be used (one line), or None; None for a local folder."""
    bucket = getattr(storage, "bucket_name", None)
    if not bucket:
        return None
    try:
        storage.connection.meta.client.head_bucket(Bucket=bucket)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        return (
            f"The media bucket {bucket!r} answered {code or 'an error'}: check MEDIA_S3_BUCKET, "
            "MEDIA_S3_REGION and the credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)."
        )
    except BotoCoreError as exc:
        return f"Cannot reach the media bucket {bucket!r}: {exc}. Check MEDIA_S3_ENDPOINT_URL."
    return None
