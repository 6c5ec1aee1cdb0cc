"""Ticks keep dbt's partial parse: run-specific vars do not make dbt re-parse the project."""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

from orchestration import datagen, runtime
from orchestration.dbt_args import RUN_VARS_ENV

# what dbt logs when it reads a saved parse or parses (none when it is given the manifest)
PARSE_EVENTS = {"PartialParsingEnabled", "PartialParsingSkipParsing", "UnableToPartialParse"}


def _dbt_log(run_id: str) -> tuple[set[str], Path]:
    (run_dir,) = [
        p
        for p in runtime.TARGET_DIR.glob(f"incremental_marts-{run_id[:7]}-*")
        if (p / "dbt.log").exists()
    ]
    names = set()
    for line in (run_dir / "dbt.log").read_text().splitlines():
        try:
            names.add(json.loads(line)["info"]["name"])
        except (ValueError, KeyError):
            continue
    return names, run_dir


@pytest.mark.slow
def test_two_ticks_with_different_vars_keep_the_partial_parse(tally_db: str) -> None:
    with psycopg.connect(tally_db) as conn:
        datagen.generate(conn, scale=0.02, seed=5)
        conn.commit()
    # the saved parse of this database's profile (the checkout's was parsed against
    # another server: a changed profile env var is a full re-parse of its own)
    (runtime.TARGET_DIR / ".tally_parse_stamp").unlink(missing_ok=True)
    runtime.ensure_manifest()
    assert runtime.execute_job("materialize_all").success
    from orchestration.schedules import tick_run_config

    tick = runtime.execute_job("tick", run_config=tick_run_config(False))
    first, last = date.today() - timedelta(days=5), date.today() - timedelta(days=4)
    backfill = runtime.execute_job("tick", partition_range=(first.isoformat(), last.isoformat()))
    assert tick.success and backfill.success
    for result in (tick, backfill):
        names, run_dir = _dbt_log(result.run_id)
        # dbt started from the saved parse without parsing at all (not even a partial
        # parse's file hashing), and wrote run_results.json but not a new manifest.json
        assert not names & PARSE_EVENTS, names & PARSE_EVENTS
        assert "FoundStats" in names
        assert (run_dir / "run_results.json").exists()
        assert not (run_dir / "manifest.json").exists()
    # both runs computed their own parameters: the tick's 3 reconcile days (+2 of slack
    # in the check) and sliding window, the backfill's two days and the 60-day default
    _, tick_dir = _dbt_log(tick.run_id)
    _, backfill_dir = _dbt_log(backfill.run_id)
    check = "tests/dbt/assert_orders_agg_order_daily_reconciles.sql"
    assert "interval '5 days'" in next(tick_dir.glob(f"run/tally/{check}")).read_text()
    assert "interval '62 days'" in next(backfill_dir.glob(f"run/tally/{check}")).read_text()
    with psycopg.connect(tally_db) as conn:
        modes = dict(
            conn.execute(
                "select run_id, mode from ops.mart_runs where mart = 'agg_order_daily'"
            ).fetchall()
        )

    def invocation(run_dir: Path) -> str:
        return json.loads((run_dir / "run_results.json").read_text())["metadata"]["invocation_id"]

    assert modes[invocation(tick_dir)] == "tick"
    assert modes[invocation(backfill_dir)] == "backfill"

    # dbt ran inside this process (orchestration/dbt_in_process.py), and the run's vars
    # were put back after each run
    for run_dir in (tick_dir, backfill_dir):
        pids = {
            json.loads(line)["info"]["pid"]
            for line in (run_dir / "dbt.log").read_text().splitlines()
            if line.startswith("{")
        }
        assert pids == {os.getpid()}, pids
    assert RUN_VARS_ENV not in os.environ


@pytest.mark.slow
def test_a_failed_in_process_dbt_invocation_leaves_the_next_one_clean(tally_db: str) -> None:
    """dbt keeps process-wide state; an invocation that fails (an unknown macro) reports
    its failure, restores the environment, and the next one in the same process works."""
    from orchestration.resources import dbt_resource

    before = dict(os.environ)
    failed = dbt_resource.cli(["run-operation", "no_such_macro_in_tally"], raise_on_error=False)
    events = list(failed.stream_raw_events())
    assert not failed.is_successful()
    assert any(e.raw_event["info"]["level"] == "error" for e in events)
    assert dict(os.environ) == before
    listed = dbt_resource.cli(["ls", "--select", "agg_order_daily", "--output", "name"])
    names = [e.raw_event["info"]["msg"] for e in listed.stream_raw_events()]
    assert listed.is_successful()
    assert "agg_order_daily" in names, names


@pytest.mark.slow
def test_a_changed_connection_re_parses_once_and_ticks_keep_the_parse(
    tally_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dbt keys its saved parse on the profile's connection, and every Dagster run starts
    from a copy of it: the saved parse must be re-made when TALLY_DATABASE_URL points
    elsewhere, or every tick there re-parses the whole project."""
    runtime.ensure_manifest()
    parsed = runtime.PARSE_STATE.stat().st_mtime_ns
    runtime.ensure_manifest()
    assert runtime.PARSE_STATE.stat().st_mtime_ns == parsed  # same connection: kept

    monkeypatch.setenv("TALLY_PGDATABASE", "tally_elsewhere")
    runtime.ensure_manifest()
    elsewhere = runtime.PARSE_STATE.stat().st_mtime_ns
    assert elsewhere != parsed  # another connection: parsed again, for it

    monkeypatch.undo()
    runtime.ensure_manifest()
    assert runtime.PARSE_STATE.stat().st_mtime_ns != elsewhere  # and back
    from orchestration.schedules import tick_run_config

    tick = runtime.execute_job("tick", run_config=tick_run_config(False))
    assert tick.success
    names, _ = _dbt_log(tick.run_id)
    assert not names & PARSE_EVENTS, names & PARSE_EVENTS


def test_a_command_from_a_plain_shell_keeps_the_saved_parse(
    tally_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`tally tick` from cron or a shell reads the manifest before it activates (is the
    project built?): with none of the profile's variables exported yet, that read must
    not re-parse, or every tick parsed twice (once for an empty profile, then again)."""
    from orchestration import manifest

    runtime.ensure_manifest()
    parsed = runtime.PARSE_STATE.stat().st_mtime_ns
    monkeypatch.setenv("TALLY_DATABASE_URL", tally_db)  # as the user's environment says
    for name in manifest.PROFILE_ENV:
        monkeypatch.delenv(name, raising=False)
    assert manifest.relation("int_orders__attributions_qualified").endswith(
        ".int_orders__attributions_qualified"
    )
    assert runtime.PARSE_STATE.stat().st_mtime_ns == parsed
    assert os.environ["TALLY_PGDATABASE"] == psycopg.conninfo.conninfo_to_dict(tally_db)["dbname"]


def test_a_changed_project_file_is_parsed_before_a_run_uses_the_saved_parse(
    tally_db: str,
) -> None:
    """dbt is handed the saved parse only while it is current: a model edited after it
    (a running `dagster dev` whose project changed) makes dbt parse as usual."""
    from orchestration import manifest

    runtime.ensure_manifest()
    assert manifest.current_saved_parse(runtime.TARGET_DIR) == runtime.PARSE_STATE
    assert manifest.current_saved_parse(runtime.TARGET_DIR / "elsewhere") is None
    model = runtime.PROJECT_ROOT / "models" / "marts" / "orders" / "agg_order_daily.sql"
    stat = model.stat()
    later = runtime.MANIFEST.stat().st_mtime_ns + 10**9
    try:
        os.utime(model, ns=(stat.st_atime_ns, later))
        assert manifest.current_saved_parse(runtime.TARGET_DIR) is None
    finally:
        os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert manifest.current_saved_parse(runtime.TARGET_DIR) == runtime.PARSE_STATE
