"""Feature flags: TALLY_<NAME>_ENABLED=true|false switches a schedule or sensor off without code.

A flag sets the default status when the code location loads; a status toggled by hand in
the Dagster UI wins over it.
"""

from __future__ import annotations

import os
from typing import TypeVar

from dagster import DefaultScheduleStatus, DefaultSensorStatus

S = TypeVar("S", DefaultScheduleStatus, DefaultSensorStatus)


def flag_enabled(name: str, default: bool = True) -> bool:
    """TALLY_<NAME>_ENABLED from the environment (1/true/yes/on), else ``default``."""
    raw = os.environ.get(f"TALLY_{name.upper()}_ENABLED")
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def default_status(flag: str, kind: type[S] = DefaultScheduleStatus, *, default: bool = True) -> S:
    """RUNNING or STOPPED (of ``kind``: schedule or sensor status) from TALLY_<FLAG>_ENABLED."""
    return kind.RUNNING if flag_enabled(flag, default) else kind.STOPPED
