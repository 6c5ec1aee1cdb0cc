"""The commerce domain's jobs and schedules (seed 003); orchestration/definitions.py merges
them. The schedules read their feature flags when this module is imported."""

from __future__ import annotations

from dagster import Definitions

from orchestration.commerce.jobs import COMMERCE_JOBS
from orchestration.commerce.schedules import commerce_schedules

defs = Definitions(jobs=COMMERCE_JOBS, schedules=commerce_schedules())
