"""Sensors. Each domain adds its own; definitions.py collects `SENSORS`."""

from __future__ import annotations

SENSORS: list = []

from orchestration.support.sensors import support_timezone_sensor  # noqa: E402

SENSORS.append(support_timezone_sensor)

from orchestration.orders.sensors import orders_config_recalc  # noqa: E402

SENSORS.append(orders_config_recalc)

from orchestration.snapshots.sensors import recompute_runs_reaper  # noqa: E402

SENSORS.append(recompute_runs_reaper)
