"""The platform domain's jobs and schedules (seed 004); orchestration/definitions.py merges
them. The schedules read their feature flags when this module is imported."""

from __future__ import annotations

from dagster import Definitions

from orchestration.platform.jobs import PLATFORM_JOBS
from orchestration.platform.schedules import platform_schedules

defs = Definitions(jobs=PLATFORM_JOBS, schedules=platform_schedules())
