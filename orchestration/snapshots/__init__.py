"""Snapshot report catalog (seed 001): catalog, recompute runs and their Dagster job.

* :mod:`.catalog` - the report catalog and windows (reference schema / seed CSVs),
  request validation shared by the CLI, the Dagster job and the reader.
* :mod:`.runs` - ``ops.recompute_runs`` lifecycle (pending -> running -> completed |
  failed), liveness via a session advisory lock, the reaper, ``ops.audit_entries``.
* :mod:`.jobs` - the ``recompute_snapshots`` job, per-window schedules, reaper sensor.
"""
