"""Dagster's storage in the Tally database, with one open connection per storage and one
insert per batch of partition marks.

* dagster-postgres opens a new connection for every stored event outside the webserver
  (SQLAlchemy's NullPool): a tick stores ~150 events with ~430 connections, ~2 s of its wall
  time. dagster-webserver switches its storages to a pool of one connection
  (`optimize_for_webserver`); this class does the same in every process that loads the
  instance (the CLI, the daemon, the run workers), so a run reuses its connections.
* After an unpartitioned run, ``orchestration/partition_status.py`` logs one
  ``AssetMaterialization(partition=day)`` per (mart, day) the run wrote: a tick after a round
  of late changes writes a few thousand. Stored one by one that is ~2.4 ms each (an insert,
  a NOTIFY, the asset index updates, each its own round trip). The event log here keeps those
  marks (tagged :data:`MARK_TAG`) in memory and stores each mart's marks with
  ``store_event_batch``, the public storage method Dagster itself uses for the per-partition
  materializations of a partition-range run: one insert of the events, one of their tags,
  one update of the asset's row. Any other event, a mark of another asset, or
  :meth:`flush_marks` (called by ``partition_status`` when it is done) stores the pending
  marks first, so the event order in the log is kept.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from dagster import DagsterEventType, EventLogEntry
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config

# a run or the daemon may use a few connections at once (threads): beyond the pooled one,
# up to this many more are opened and closed again
MAX_OVERFLOW = 8
#: the tag that makes an AssetMaterialization a partition mark (stored in batches)
MARK_TAG = "tally/partition_mark"
#: marks stored in one insert at most
MARK_BATCH_SIZE = 1000


def _mark_asset(event: EventLogEntry):
    """The asset key of a partition mark, or None for any other event."""
    dagster_event = event.dagster_event
    if dagster_event is None or dagster_event.event_type != DagsterEventType.ASSET_MATERIALIZATION:
        return None
    materialization = event.asset_materialization
    if materialization is None or MARK_TAG not in (materialization.tags or {}):
        return None
    return materialization.asset_key


class MarkBatchingEventLogStorage(PostgresEventLogStorage):
    """The Postgres event log, storing partition marks in one batch per asset."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._marks: list[EventLogEntry] = []
        self._marks_lock = threading.RLock()

    def store_event(self, event: EventLogEntry) -> None:
        key = _mark_asset(event)
        if key is None:
            if self._marks:  # (other threads' events are not serialized behind a lock)
                self.flush_marks()
            super().store_event(event)
            return
        with self._marks_lock:
            if self._marks and _mark_asset(self._marks[-1]) != key:
                self.flush_marks()
            self._marks.append(event)
            if len(self._marks) >= MARK_BATCH_SIZE:
                self.flush_marks()

    def flush_marks(self) -> None:
        """Store the pending partition marks (one asset's, in one batch)."""
        with self._marks_lock:
            pending, self._marks = self._marks, []
            if len(pending) == 1:
                super().store_event(pending[0])
            elif pending:
                self.store_event_batch(pending)

    def dispose(self) -> None:
        self.flush_marks()
        super().dispose()


class PooledPostgresStorage(DagsterPostgresStorage):
    """`storage: postgres` with pooled connections and batched partition marks
    (dagster.yaml `storage: custom`)."""

    def __init__(self, postgres_url: str, should_autocreate_tables: bool = True, **kwargs):
        super().__init__(postgres_url, should_autocreate_tables, **kwargs)
        self._marks_storage = MarkBatchingEventLogStorage(
            postgres_url, should_autocreate_tables, token_provider=kwargs.get("token_provider")
        )
        for part in (self.run_storage, self.event_log_storage, self.schedule_storage):
            # statement_timeout 0: no limit (a run's writes must not time out)
            part.optimize_for_webserver(
                statement_timeout=0, pool_recycle=3600, max_overflow=MAX_OVERFLOW
            )

    @property
    def event_log_storage(self) -> MarkBatchingEventLogStorage:
        return self._marks_storage

    def dispose(self) -> None:
        self._marks_storage.dispose()
        super().dispose()

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Mapping[str, Any]):
        return cls(
            pg_url_from_config(config_value),
            config_value.get("should_autocreate_tables", True),
            inst_data=inst_data,
            token_provider=get_token_provider_from_config(config_value),
        )
