"""Where the project-local PostgreSQL lives and how to connect to it: the default of
DATABASE_URL and MIGRATION_DATABASE_URL in settings. operations/devdb.py runs the server.

No Django here: the Makefile's `python -m operations.devdb` reads it before any settings.
"""

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DB_NAME = "mesochart"
OWNER_ROLE = "mesochart_owner"
APP_ROLE = "mesochart_app"
# sockaddr_un.sun_path is 108 bytes on Linux; PostgreSQL appends "/.s.PGSQL.5432".
MAX_SOCKET_PATH = 100
SOCKET_FILE = ".s.PGSQL.5432"


@dataclass(frozen=True)
class Cluster:
    root: Path

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    @property
    def socket_dir(self) -> Path:
        """The data directory when its path is short enough, else a short /tmp folder."""
        if len(str(self.data_dir / SOCKET_FILE)) <= MAX_SOCKET_PATH:
            return self.data_dir
        digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"mesochart-{digest}"

    def url_for(self, role: str) -> str:
        return f"postgresql://{role}@/{DB_NAME}?host={self.socket_dir}"

    @property
    def url(self) -> str:
        """The application's connection (DATABASE_URL's local default)."""
        return self.url_for(APP_ROLE)

    @property
    def owner_url(self) -> str:
        """The owner's connection, for migrate (MIGRATION_DATABASE_URL's local default)."""
        return self.url_for(OWNER_ROLE)


def default_cluster() -> Cluster:
    return Cluster(Path(os.environ.get("MESOCHART_PGROOT", BASE_DIR / "var" / "postgres")))
