"""Pure helpers that turn a partition window or a run config into dbt arguments.

Kept free of Dagster context objects so they can be unit-tested directly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from orchestration.errors import TallyError

SLIDING_WINDOW_TAG = "sliding_window"
# The models built from the incremental marts (`tag:sliding_window+` without the marts),
# named by a tag so that Dagster can select them without an exclude (see assets/dbt.py).
DOWNSTREAM_TAG = "downstream_of_window"
# Run-specific dbt vars reach the macros through this environment variable (a JSON
# object read by `tally.run_var()` at execution time), not `--vars`: a change of
# `--vars` makes dbt re-parse the whole project (dbt-core#6323), ~5-7 s on every tick.
RUN_VARS_ENV = "TALLY_RUN_VARS"


@dataclass(frozen=True)
class RebuildScope:
    """An admin rebuild: one tenant (organization or account), optionally one campaign."""

    tenant_var: str  # rebuild_organization_id | rebuild_account_id
    tenant_id: int
    campaign_id: int | None = None
    full_refresh: bool = False


def window_from_partition_range(start: datetime, end: datetime) -> tuple[date, date]:
    """A Dagster time window [start, end) of daily partitions -> inclusive local days."""
    first, last = start.date(), (end - timedelta(days=1)).date()
    if last < first:
        raise TallyError(f"empty partition window {start:%Y-%m-%d}..{end:%Y-%m-%d}")
    return first, last


def incremental_vars(
    window: tuple[date, date] | None = None, rebuild: RebuildScope | None = None
) -> dict[str, Any]:
    """dbt vars for one run of the incremental marts.

    No window, no rebuild: a sliding-window tick. A window: exactly those local days.
    A rebuild: the tenant's whole history (mark-and-sweep with ``full_refresh``).
    """
    if window is not None and rebuild is not None:
        raise TallyError("a run is either a backfill window or a rebuild, not both")
    out: dict[str, Any] = {}
    if window is not None:
        first, last = window
        if last < first:
            raise TallyError(f"reversed range: {first} is after {last}; pass --start <= --end")
        out.update(window_start=first.isoformat(), window_end=last.isoformat())
    if rebuild is not None:
        out[rebuild.tenant_var] = rebuild.tenant_id
        if rebuild.campaign_id is not None:
            out["rebuild_campaign_id"] = rebuild.campaign_id
        out["full_refresh_sweep"] = rebuild.full_refresh
    return out


def run_vars_env(dbt_vars: Mapping[str, Any] | None) -> dict[str, str]:
    """The environment that passes one invocation's run-specific vars to dbt (always set,
    ``{}`` for none, so that no value from an outer environment leaks into a run)."""
    return {RUN_VARS_ENV: json.dumps(dict(dbt_vars or {}), sort_keys=True)}


@contextmanager
def run_vars(dbt_vars: Mapping[str, Any] | None) -> Iterator[None]:
    """Export :func:`run_vars_env` for one dbt invocation, then restore it. dbt runs in
    this process (orchestration/dbt_in_process.py) and reads the variable while it runs:
    consume the invocation's stream inside the block."""
    previous = os.environ.get(RUN_VARS_ENV)
    os.environ.update(run_vars_env(dbt_vars))
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(RUN_VARS_ENV, None)
        else:
            os.environ[RUN_VARS_ENV] = previous


def build_args(*, command: str = "build", exclude: str | None = None) -> list[str]:
    """``dbt build`` as an argument list (run-specific vars go through :func:`run_vars`)."""
    args = [command]
    if exclude:
        args += ["--exclude", exclude]
    return args
