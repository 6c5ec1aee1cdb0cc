"""The snapshot catalog's job, schedules and sensor (seed 001); orchestration/definitions.py
merges them."""

from __future__ import annotations

from dagster import Definitions

from orchestration.snapshots.jobs import recompute_snapshots
from orchestration.snapshots.schedules import SNAPSHOT_SCHEDULES
from orchestration.snapshots.sensors import recompute_runs_reaper

defs = Definitions(
    jobs=[recompute_snapshots], schedules=SNAPSHOT_SCHEDULES, sensors=[recompute_runs_reaper]
)
