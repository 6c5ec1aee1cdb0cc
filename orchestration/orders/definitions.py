"""The orders domain's jobs and sensors (seed 000); orchestration/definitions.py merges them."""

from __future__ import annotations

from dagster import Definitions

from orchestration.orders.jobs import orders_rebuild
from orchestration.orders.sensors import orders_config_recalc

defs = Definitions(jobs=[orders_rebuild], sensors=[orders_config_recalc])
