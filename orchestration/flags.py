"""Feature flags: TALLY_<NAME>_ENABLED=true|false switches a schedule or sensor off without code.

A flag sets the default status when the code location loads; a status toggled by hand in
the Dagster UI wins over it.
"""

from __future__ import annotations

import os

from dagster import DefaultScheduleStatus, DefaultSensorStatus


def flag_enabled(name: str, default: bool = True) -> bool:
    """TALLY_<NAME>_ENABLED from the environment (1/true/yes/on), else ``default``."""
    raw = os.environ.get(f"TALLY_{name.upper()}_ENABLED")
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def status(flag: str) -> DefaultScheduleStatus:
    """Default status of a schedule switched by ``flag``."""
    return DefaultScheduleStatus.RUNNING if flag_enabled(flag) else DefaultScheduleStatus.STOPPED


def sensor_status(flag: str) -> DefaultSensorStatus:
    """Default status of a sensor switched by ``flag``."""
    return DefaultSensorStatus.RUNNING if flag_enabled(flag) else DefaultSensorStatus.STOPPED
