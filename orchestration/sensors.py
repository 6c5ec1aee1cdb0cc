"""Sensors of every domain; definitions.py collects `SENSORS`."""

from __future__ import annotations

from orchestration.orders.sensors import orders_config_recalc
from orchestration.snapshots.sensors import recompute_runs_reaper
from orchestration.support.sensors import support_timezone_sensor

SENSORS = [orders_config_recalc, support_timezone_sensor, recompute_runs_reaper]
