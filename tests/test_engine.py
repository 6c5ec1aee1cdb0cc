"""The incremental engine's contracts (issue 17): the checked spec, the one lock key
scheme, `make explain`. Real dbt, real PostgreSQL.

* A copy of the project whose support mart has one key of its ``sliding_window`` typo'd
  (or removed) must fail ``dbt compile`` naming the model and the key.
* ``make explain``'s Python entry writes every incremental mart's SQL per mode.
* The lock the compiled pre-hook takes and the one Python's retention cleanup takes
  are the same lock (one holds it, the other times out waiting).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from orchestration.explain import MODES, explain
from orchestration.manifest import dbt_executable
from orchestration.platform.cleanup import MART_LOCK_SQL
from tests.conftest import PROJECT_ROOT

SUPPORT_MART = Path("models/marts/support/agg_support_rollup_daily.sql")


def _project_copy(tmp_path: Path, edit: tuple[str, str]) -> Path:
    """The dbt project's files under tmp_path, with one replacement in the support mart."""
    root = tmp_path / "project"
    for name in ("models", "macros", "seeds", "tests/dbt"):
        shutil.copytree(PROJECT_ROOT / name, root / name)
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy2(PROJECT_ROOT / name, root / name)
    mart = root / SUPPORT_MART
    text = mart.read_text()
    assert text.count(edit[0]) == 1, f"{edit[0]!r} not once in {SUPPORT_MART}"
    mart.write_text(text.replace(*edit))
    return root


def _compile_support_mart(root: Path) -> subprocess.CompletedProcess:
    args = ["compile", "--select", "agg_support_rollup_daily"]
    return subprocess.run(
        [dbt_executable(), *args, "--project-dir", str(root), "--profiles-dir", str(root)],
        cwd=root,
        env={**os.environ, "DBT_TARGET_PATH": str(root / "target")},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ("'rebuild_var': 'rebuild_account_id'", "'rebuild_vr': 'rebuild_account_id'"),
            "sliding_window of model agg_support_rollup_daily: unknown key 'rebuild_vr'",
        ),
        (
            ("'timezone': 'timezone',", ""),
            "sliding_window of model agg_support_rollup_daily: missing key 'timezone'",
        ),
        (
            (
                "'raw_table': 'reporting_events',",
                "'raw_table': 'reporting_events', 'folow': 'conversation_id',",
            ),
            "sliding_window of model agg_support_rollup_daily, events[0]: unknown key 'folow'",
        ),
    ],
    ids=["typo", "missing", "event-typo"],
)
def test_a_spec_key_typo_fails_compilation_naming_model_and_key(
    tally_db: str, tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    proc = _compile_support_mart(_project_copy(tmp_path, edit))
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert message in proc.stdout, proc.stdout[-3000:]


def test_make_explain_writes_every_mart_per_mode(tally_db: str, tmp_path: Path) -> None:
    out = tmp_path / "explain"
    written = explain(out)
    marts = {p.parent.name for p in written}
    # every incremental mart of the project, each in every mode
    assert {"agg_order_daily", "agg_support_rollup_daily", "metric_snapshots"} <= marts
    assert len(marts) >= 10
    for mart in marts:
        for mode in MODES:
            assert (out / mart / f"{mode}.sql").is_file(), f"{mart}/{mode}.sql missing"
    tick = (out / "agg_order_daily" / "tick.sql").read_text()
    assert "insert into agg_order_daily__affected (kind, tenant_id" in tick
    assert "{{" not in tick and "{%" not in tick  # SQL, not Jinja
    backfill = (out / "agg_order_daily" / "backfill.sql").read_text()
    assert "generate_series" in backfill and "since as (" not in backfill

    # the platform mart's compiled first pre-hook and the cleanup's lock are one lock
    hourly_tick = (out / "agg_execution_metrics_hourly" / "tick.sql").read_text()
    lock_sql = hourly_tick.split("-- [1]\n", 1)[1].split(";", 1)[0]
    assert "pg_advisory_xact_lock" in lock_sql
    scratch = psycopg.conninfo.make_conninfo(
        tally_db, dbname=psycopg.conninfo.conninfo_to_dict(tally_db)["dbname"] + "_explain"
    )
    with psycopg.connect(scratch) as holder, psycopg.connect(scratch) as waiter:
        holder.execute(MART_LOCK_SQL, ("agg_execution_metrics_hourly",))
        waiter.execute("set lock_timeout = '300ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            waiter.execute(lock_sql)
        waiter.rollback()
        holder.rollback()
        waiter.execute(lock_sql)  # free once the holder is gone
