"""The support domain's jobs and sensors (seed 002); orchestration/definitions.py merges them."""

from __future__ import annotations

from dagster import Definitions

from orchestration.support.jobs import support_rollup
from orchestration.support.sensors import support_timezone_sensor

defs = Definitions(jobs=[support_rollup], sensors=[support_timezone_sensor])
