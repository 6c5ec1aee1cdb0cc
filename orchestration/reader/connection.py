"""How the reader connects: it logs in as the read-only role ``tally_reader``.

``TALLY_READER_URL`` (a login for ``tally_reader``) wins when set. Otherwise the reader
logs in as ``tally_reader`` on the server of the main URL, with a password Tally
generated and keeps 0600 under the Tally home (``secrets/tally_reader-<server>``); the
first reader connection sets that password with the main (admin) login. The session is
``tally_reader``'s own: it is a member of no other role, so ``RESET ROLE`` or
``SET ROLE postgres`` gain nothing. Every query runs with the reader's privileges only
(SELECT on marts and reference, plus the raw columns the raw path needs — see
macros/ops/grant_reader.sql) and the role's ``statement_timeout``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import psycopg
import psycopg.sql
from psycopg import conninfo as pg_conninfo
from psycopg.rows import dict_row

from orchestration.db import READER_ROLE, Database, connect, database, reader_secret_name, secret
from orchestration.errors import TallyError

#: the reader role's statement_timeout (``TALLY_READER_STATEMENT_TIMEOUT`` overrides it)
READER_STATEMENT_TIMEOUT = "120s"


def reader_conninfo(db: Database, password: str | None) -> str:
    """The main URL with ``tally_reader`` (and its password) as the login."""
    extra = {"user": READER_ROLE, "password": password or ""}
    return pg_conninfo.make_conninfo(db.url, **extra)


def provision_reader(db: Database) -> str:
    """Set tally_reader's generated password (and its limits) with the main login."""
    password = secret(reader_secret_name(db))
    assert password is not None
    timeout = os.environ.get("TALLY_READER_STATEMENT_TIMEOUT", READER_STATEMENT_TIMEOUT)
    sql = psycopg.sql
    with connect(db.url, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_roles where rolname = %s", (READER_ROLE,)).fetchone():
            raise TallyError(
                "role tally_reader does not exist yet: run `tally run` (or `tally dbt -- build`) first"
            )
        try:
            conn.execute("set password_encryption = 'scram-sha-256'")
            conn.execute(
                sql.SQL(
                    "alter role {} with login nosuperuser nocreatedb nocreaterole "
                    "noreplication nobypassrls password {}"
                ).format(sql.Identifier(READER_ROLE), sql.Literal(password))
            )
            conn.execute(
                sql.SQL("alter role {} set statement_timeout = {}").format(
                    sql.Identifier(READER_ROLE), sql.Literal(timeout)
                )
            )
        except psycopg.errors.InsufficientPrivilege:
            raise TallyError(
                f"{db.user} may not set tally_reader's password: set TALLY_READER_URL to a "
                "login for tally_reader, or grant your user CREATEROLE"
            ) from None
    return password


def _login(conninfo: str) -> psycopg.Connection:
    return psycopg.connect(conninfo, connect_timeout=5, row_factory=dict_row)


@contextlib.contextmanager
def reader_connection(db: Database | None = None) -> Iterator[psycopg.Connection]:
    """A read-only connection (role tally_reader, read-only transaction, dict rows)."""
    reader_url = os.environ.get("TALLY_READER_URL", "").strip()
    if reader_url:
        conn = connect(reader_url, row_factory=dict_row)
    else:
        db = db or database()
        password = secret(reader_secret_name(db), create=False)
        conn = None
        if password is not None:
            with contextlib.suppress(psycopg.OperationalError):
                conn = _login(reader_conninfo(db, password))
        if conn is None:  # first use on this server, or its password was changed
            password = provision_reader(db)
            try:
                conn = _login(reader_conninfo(db, password))
            except psycopg.OperationalError as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else "no answer"
                raise TallyError(
                    f"tally_reader cannot log in ({first}); allow it in pg_hba.conf "
                    "or set TALLY_READER_URL"
                ) from None
    conn.read_only = True
    try:
        yield conn
    finally:
        conn.close()
