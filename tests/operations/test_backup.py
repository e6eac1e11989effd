"""Backups: `backup` then `restore` into a fresh database and media folder gives back the
same rows, the same files and the same signed PDFs; damaged archives, wrong keys and
non-empty databases are refused."""

import hashlib
import io
import json
import os
import tarfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pyrage
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from pyrage import x25519

from clinic.storage import media_storage
from operations.backup import MANIFEST, Target, table_row_counts
from patients.models import Consent, Photo
from tests.dates import datetime_input
from tests.treatments.session_helpers import session_post
from tests.uploads import upload
from treatments.models import TreatmentSession

pytestmark = pytest.mark.django_db(transaction=True)


def _url(settings_dict: dict, name: str) -> str:
    """A postgresql:// URL for database `name` on the server of settings_dict, as its
    owner (MIGRATION_DATABASE_URL): the role that restores, as it migrates."""
    settings_dict = {**settings_dict, "USER": settings.MIGRATION_DATABASE["USER"]}
    settings_dict["PASSWORD"] = settings.MIGRATION_DATABASE["PASSWORD"]
    options = settings_dict.get("OPTIONS") or {}
    host = settings_dict.get("HOST") or options.get("host") or ""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{quote(password, safe='')}@" if password else f"{user}@"
    if host.startswith("/"):
        return f"postgresql://{auth}/{name}?host={host}"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgresql://{auth}{host}{port}/{name}"


@pytest.fixture
def keys(tmp_path, monkeypatch):
    """A key pair: the public key in BACKUP_RECIPIENT, the secret key's file returned."""
    identity = x25519.Identity.generate()
    path = tmp_path / "backup-key.txt"
    path.write_text(f"# test key\n{identity}\n")
    monkeypatch.setenv("BACKUP_RECIPIENT", str(identity.to_public()))
    monkeypatch.setenv("BACKUP_IDENTITY_FILE", str(path))
    return path


@pytest.fixture
def fresh_db():
    """A new, empty database on the same server; its URL. Dropped afterwards."""
    settings_dict = connection.settings_dict
    name = f"{settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    admin = Target.owner_of({**settings_dict, "NAME": "postgres"}).connect()
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _url(settings_dict, name)
    finally:
        _drop_database(admin, name)
        admin.close()


def _drop_database(admin, name: str) -> None:
    """Drop a database the test made, whoever is still on it. FORCE ends our own
    leftover connections, but the owner may not end an autovacuum worker (a freshly
    restored database is often being analysed under load): a plain DROP has PostgreSQL
    cancel that worker itself. Tried again for a few seconds, until one of them works."""
    deadline = time.monotonic() + 30
    while True:
        for statement in (
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
            f'DROP DATABASE IF EXISTS "{name}"',
        ):
            try:
                with admin.cursor() as cursor:
                    cursor.execute(statement)
                return
            except (psycopg2.errors.InsufficientPrivilege, psycopg2.errors.ObjectInUse):
                if time.monotonic() > deadline:
                    raise
        time.sleep(0.2)


def _counts(url: str) -> dict[str, int]:
    conn = Target.from_url(url).connect()
    try:
        with conn.cursor() as cursor:
            return table_row_counts(cursor)
    finally:
        conn.close()


def _backup(path: Path) -> str:
    out = io.StringIO()
    call_command("backup", output=path, stdout=out)
    return out.getvalue()


def _restore(archive: Path, url: str, **options) -> str:
    out = io.StringIO()
    call_command("restore", str(archive), database_url=url, stdout=out, stderr=out, **options)
    return out.getvalue()


@pytest.fixture
def signed_session(client_for, practitioner, planned_map, lots, treatment_consent):
    client = client_for(practitioner)
    response = client.post(
        reverse("treatments:session_new", args=[planned_map.patient_id]),
        session_post(planned_map, lots),
    )
    assert response.status_code == 302
    session = TreatmentSession.objects.get()
    response = client.post(reverse("treatments:session_sign", args=[session.pk]))
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.is_signed and session.pdf_sha256
    return session


@pytest.fixture
def photo(client_for, practitioner, patient, sign_consent):
    sign_consent(patient)
    client = client_for(practitioner)
    post = {
        "taken_at": datetime_input(timezone.now() - timedelta(days=7)),
        "region": "Right thigh",
        "view": "front",
        "posture": "standing",
        "phase": "before",
        "upload": upload(),
    }
    response = client.post(reverse("patients:photo_new", args=[patient.pk]), post)
    assert response.status_code == 302
    return Photo.objects.get()


def test_backup_restores_rows_files_and_signed_pdfs_into_a_fresh_database(
    settings, tmp_path, keys, fresh_db, signed_session, photo, capsys, client_for, practitioner
):
    response = client_for(practitioner).post(
        reverse("treatments:amendment_new", args=[signed_session.pk]),
        {"reason": "Wrong depth recorded", "text": "Depth was 3 mm."},
    )
    assert response.status_code == 302
    media_files = sorted(
        path.relative_to(settings.MEDIA_ROOT).as_posix()
        for path in Path(settings.MEDIA_ROOT).rglob("*")
        if path.is_file()
    )
    # Consent signatures (2), the photo and its thumbnail, the signed PDF, the PDF as amended.
    assert len(media_files) == 6
    source_counts = _counts(_url(connection.settings_dict, connection.settings_dict["NAME"]))
    assert source_counts["public.patients_photoevent"] >= 1
    assert source_counts["public.treatments_treatmentsessionevent"] >= 2

    archive = tmp_path / "backups" / "clinic.tar.age"
    started = time.monotonic()
    summary = _backup(archive)
    backup_seconds = time.monotonic() - started
    assert "6 files" in summary
    assert archive.stat().st_mode & 0o777 == 0o600
    sealed = archive.read_bytes()
    assert sealed.startswith(b"age-encryption.org/v1")
    assert b"Gagnon" not in sealed and b"%PDF" not in sealed  # nothing in the clear

    settings.MEDIA_ROOT = tmp_path / "restored-media"
    started = time.monotonic()
    report = _restore(archive, fresh_db)
    restore_seconds = time.monotonic() - started
    assert "1 signed session PDFs, 1 photos, 1 summaries as amended" in report
    assert "All checksums and row counts match the backup." in report

    # Every table, history events included, has exactly its rows: none lost, none
    # duplicated by a trigger firing during the load.
    restored_counts = _counts(fresh_db)
    assert restored_counts == source_counts
    restored_files = sorted(
        path.relative_to(settings.MEDIA_ROOT).as_posix()
        for path in Path(settings.MEDIA_ROOT).rglob("*")
        if path.is_file()
    )
    assert restored_files == media_files

    conn = Target.from_url(fresh_db).connect()
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT pdf, pdf_sha256 FROM treatments_treatmentsession WHERE status = 'signed'"
            )
            ((pdf_name, pdf_sha256),) = cursor.fetchall()
            cursor.execute("SELECT image, sha256 FROM patients_photo")
            ((image_name, image_sha256),) = cursor.fetchall()
            cursor.execute("SELECT count(*) FROM patients_consent")
            assert cursor.fetchone()[0] == Consent.objects.count() == 2
            # The guards are back too: a signed session cannot be changed.
            with pytest.raises(psycopg2.Error):
                cursor.execute("UPDATE treatments_treatmentsession SET notes = 'changed'")
    finally:
        conn.close()
    assert (pdf_name, pdf_sha256) == (signed_session.pdf.name, signed_session.pdf_sha256)
    assert (image_name, image_sha256) == (photo.image.name, photo.sha256)
    with default_storage.open(pdf_name, "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == pdf_sha256
    with default_storage.open(image_name, "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == image_sha256

    with capsys.disabled():
        print(
            f"\nbackup -> restore: archive {archive.stat().st_size:,} bytes, "
            f"backup {backup_seconds:.1f} s, restore {restore_seconds:.1f} s, "
            f"{len(restored_counts)} tables ({sum(restored_counts.values())} rows) and "
            f"{len(restored_files)} files compared"
        )


@pytest.fixture
def archive(tmp_path, keys, patient, sign_consent):
    sign_consent(patient)
    path = tmp_path / "clinic.tar.age"
    _backup(path)
    return path


def _assert_still_empty(url: str) -> None:
    assert _counts(url) == {}


def test_a_tampered_archive_is_refused(settings, tmp_path, archive, fresh_db):
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0x01
    archive.write_bytes(bytes(data))
    settings.MEDIA_ROOT = tmp_path / "restored-media"
    with pytest.raises(CommandError, match="damaged or was altered"):
        _restore(archive, fresh_db)
    _assert_still_empty(fresh_db)
    assert not Path(settings.MEDIA_ROOT).exists()


def test_a_member_that_differs_from_the_manifest_is_refused_by_name(
    settings, tmp_path, keys, archive, fresh_db
):
    """Re-sealed with the right key, but a file changed inside: the manifest catches it."""
    identity = x25519.Identity.from_str(keys.read_text().splitlines()[-1])
    plain = io.BytesIO(pyrage.decrypt(archive.read_bytes(), [identity]))
    rebuilt = io.BytesIO()
    with tarfile.open(fileobj=plain) as source, tarfile.open(fileobj=rebuilt, mode="w") as tar:
        manifest = json.load(source.extractfile(MANIFEST))
        victim = next(name for name in manifest["members"] if name.startswith("media/consents/"))
        for member in source.getmembers():
            content = source.extractfile(member).read()
            if member.name == victim:
                content = content[:-1] + bytes([content[-1] ^ 0x01])
            tar.addfile(member, io.BytesIO(content))
    archive.write_bytes(pyrage.encrypt(rebuilt.getvalue(), [identity.to_public()]))

    settings.MEDIA_ROOT = tmp_path / "restored-media"
    with pytest.raises(CommandError, match=f"Checksum mismatch for {victim}"):
        _restore(archive, fresh_db)
    _assert_still_empty(fresh_db)


def test_restore_can_create_its_database(settings, tmp_path, archive):
    name = f"{connection.settings_dict['NAME']}_drill_{uuid.uuid4().hex[:8]}"
    url = _url(connection.settings_dict, name)
    settings.MEDIA_ROOT = tmp_path / "restored-media"
    try:
        report = _restore(archive, url, create_database=True)
        assert f"Created the database {name!r}" in report
        assert _counts(url)["public.patients_consent"] == 1
    finally:
        admin = Target.owner_of({**connection.settings_dict, "NAME": "postgres"}).connect()
        admin.autocommit = True
        _drop_database(admin, name)
        admin.close()


def test_the_wrong_key_is_refused(tmp_path, archive, fresh_db):
    other = tmp_path / "other-key.txt"
    other.write_text(f"{x25519.Identity.generate()}\n")
    with pytest.raises(CommandError, match="not encrypted to this key"):
        _restore(archive, fresh_db, identity=str(other))
    _assert_still_empty(fresh_db)


def test_restore_into_a_database_that_is_not_empty_is_refused(archive):
    # The test database itself: migrated, so it has tables.
    url = _url(connection.settings_dict, connection.settings_dict["NAME"])
    with pytest.raises(CommandError, match="is not empty"):
        _restore(archive, url)


def test_backup_and_restore_need_their_keys(tmp_path, monkeypatch, archive):
    monkeypatch.delenv("BACKUP_RECIPIENT")
    with pytest.raises(CommandError, match="BACKUP_RECIPIENT is not set"):
        _backup(tmp_path / "other.tar.age")
    assert not (tmp_path / "other.tar.age").exists()
    monkeypatch.delenv("BACKUP_IDENTITY_FILE")
    with pytest.raises(CommandError, match="BACKUP_IDENTITY_FILE is not set"):
        _restore(archive, "postgresql://nobody@/nothing")


def test_keygen_writes_a_private_key_file_once(tmp_path):
    path = tmp_path / "key.txt"
    out = io.StringIO()
    call_command("backup_keygen", str(path), stdout=out)
    assert os.stat(path).st_mode & 0o777 == 0o600
    recipient = out.getvalue().split("BACKUP_RECIPIENT=")[1].strip()
    assert recipient.startswith("age1")
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup_keygen", str(path))


def test_media_in_a_bucket_is_backed_up_and_restored_into_another_bucket(
    settings, tmp_path, keys, fresh_db, s3_media, s3_server, worker_id, signed_session, photo
):
    """MEDIA_STORAGE=s3: the archive holds the bucket's objects (listed and read through
    the storage API), and restore puts them into an empty bucket, encrypted as written."""
    objects = {key: s3_media.read(key) for key in s3_media.object_keys()}
    # Consent signatures (2), the photo and its thumbnail, the signed PDF.
    assert len(objects) == 5 and signed_session.pdf.name in objects
    archive = tmp_path / "clinic.tar.age"
    assert "5 files" in _backup(archive)
    assert not Path(settings.MEDIA_ROOT).exists()  # nothing went through the local disk

    target = s3_server.empty_bucket(f"mesochart-restore-{worker_id}")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": media_storage({**s3_media.env, "MEDIA_S3_BUCKET": target.name}),
    }
    report = _restore(archive, fresh_db)
    assert "1 signed session PDFs, 1 photos" in report
    assert "All checksums and row counts match the backup." in report
    assert {key: target.read(key) for key in target.object_keys()} == objects
    assert {target.encryption(key) for key in objects} == {"AES256"}
    assert hashlib.sha256(objects[signed_session.pdf.name]).hexdigest() == (
        signed_session.pdf_sha256
    )
