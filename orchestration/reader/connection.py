"""How the reader connects: as the read-only role ``tally_reader``.

``TALLY_READER_URL`` (a login for ``tally_reader``) wins when set. Otherwise the reader
connects with the main URL and immediately ``SET ROLE tally_reader`` for the whole
session, so every query runs with the reader's privileges only (SELECT on marts and
reference, plus the raw columns the raw path needs — see macros/ops/grant_reader.sql).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import psycopg
from psycopg.rows import dict_row

from orchestration.db import READER_ROLE, Database, connect, database
from orchestration.errors import TallyError


@contextlib.contextmanager
def reader_connection(db: Database | None = None) -> Iterator[psycopg.Connection]:
    """A read-only connection (role tally_reader, read-only transaction, dict rows)."""
    reader_url = os.environ.get("TALLY_READER_URL", "").strip()
    if reader_url:
        conn = connect(reader_url, row_factory=dict_row)
    else:
        conn = connect((db or database()).url, row_factory=dict_row)
        try:
            conn.execute(f"set role {READER_ROLE}")
            conn.commit()  # a session-level SET survives the commit
        except psycopg.errors.InvalidParameterValue:
            conn.close()
            raise TallyError(
                "role tally_reader does not exist yet: run `tally run` (or `tally dbt -- build`) first"
            ) from None
        except psycopg.errors.InsufficientPrivilege:
            conn.close()
            raise TallyError(
                "cannot act as tally_reader: grant it to your user or set TALLY_READER_URL"
            ) from None
    conn.read_only = True
    try:
        yield conn
    finally:
        conn.close()
