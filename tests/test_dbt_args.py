"""The pure helpers that turn partition windows and rebuild configs into dbt arguments."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from orchestration.dbt_args import (
    RUN_VARS_ENV,
    RebuildScope,
    build_args,
    incremental_vars,
    run_vars,
    run_vars_env,
    window_from_partition_range,
)
from orchestration.errors import TallyError


def test_tick_has_no_vars() -> None:
    assert incremental_vars() == {}
    assert build_args() == ["build"]
    # always set, so that no value from an outer environment reaches a tick
    assert run_vars_env(incremental_vars()) == {RUN_VARS_ENV: "{}"}


def test_partition_range_is_inclusive_local_days() -> None:
    # Dagster's time window for partitions 2026-03-07..2026-03-09 is [03-07, 03-10)
    window = window_from_partition_range(datetime(2026, 3, 7), datetime(2026, 3, 10))
    assert window == (date(2026, 3, 7), date(2026, 3, 9))
    # through the environment, not --vars (which would make dbt re-parse the project)
    env = run_vars_env(incremental_vars(window))
    assert json.loads(env[RUN_VARS_ENV]) == {
        "window_start": "2026-03-07",
        "window_end": "2026-03-09",
    }


def test_run_vars_are_exported_only_around_the_dbt_start(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setenv(RUN_VARS_ENV, '{"window_start": "2020-01-01"}')
    with run_vars({"reconcile_days": 3}):
        assert json.loads(os.environ[RUN_VARS_ENV]) == {"reconcile_days": 3}
    assert os.environ[RUN_VARS_ENV] == '{"window_start": "2020-01-01"}'
    monkeypatch.delenv(RUN_VARS_ENV)
    with run_vars(None):
        assert os.environ[RUN_VARS_ENV] == "{}"
    assert RUN_VARS_ENV not in os.environ


def test_rebuild_vars() -> None:
    scope = RebuildScope("rebuild_organization_id", 7, campaign_id=3, full_refresh=True)
    assert incremental_vars(rebuild=scope) == {
        "rebuild_organization_id": 7,
        "rebuild_campaign_id": 3,
        "full_refresh_sweep": True,
    }


def test_reversed_window_is_a_user_error() -> None:
    with pytest.raises(TallyError, match="reversed range"):
        incremental_vars((date(2026, 3, 9), date(2026, 3, 7)))


def test_window_and_rebuild_are_exclusive() -> None:
    with pytest.raises(TallyError):
        incremental_vars(
            (date(2026, 3, 7), date(2026, 3, 7)), RebuildScope("rebuild_account_id", 1)
        )
