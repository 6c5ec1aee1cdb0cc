"""Dagster's storage in the Tally database, with one open connection per storage.

dagster-postgres opens a new connection for every stored event outside the webserver
(SQLAlchemy's NullPool): a tick stores ~150 events with ~430 connections, ~2 s of its
wall time. dagster-webserver switches its storages to a pool of one connection
(`optimize_for_webserver`); this class does the same in every process that loads the
instance (the CLI, the daemon, the run workers), so a run reuses its connections.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster_postgres import DagsterPostgresStorage

# a run or the daemon may use a few connections at once (threads): beyond the pooled one,
# up to this many more are opened and closed again
MAX_OVERFLOW = 8


class PooledPostgresStorage(DagsterPostgresStorage):
    """`storage: postgres` with pooled connections (dagster.yaml `storage: custom`)."""

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Mapping[str, Any]):
        storage = super().from_config_value(inst_data, config_value)
        for part in (storage.run_storage, storage.event_log_storage, storage.schedule_storage):
            # statement_timeout 0: no limit (a run's writes must not time out)
            part.optimize_for_webserver(
                statement_timeout=0, pool_recycle=3600, max_overflow=MAX_OVERFLOW
            )
        return storage
