"""``ops.recompute_runs`` lifecycle and ``ops.audit_entries`` (seed 001).

pending   the request passed validation and the row was created
running   the worker started rebuilding the requested buckets
completed dbt committed the rows; ``summary`` holds rows deleted/inserted/pruned per
          report and window (written by the model in the same transaction) + duration
failed    dbt failed, or the worker died; ``error_message`` says why

Liveness: the worker holds a session advisory lock ``(LOCK_CLASS, run id)`` from the
moment the row is created (same transaction) until it finishes. A pending/running row
whose lock can be taken belongs to a dead worker (killed process, lost connection):
:func:`reap_stale_runs` - called by every run and by a sensor - marks it failed.
Validation happens before the row exists, so ``pending`` means validated.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from orchestration.db import connect, database
from orchestration.errors import TallyError
from orchestration.snapshots.catalog import RecomputeRequest, load_catalog, validate_recompute

LOCK_CLASS = 20010  # advisory lock namespace (int4) of recompute runs
DEAD_WORKER = "the worker died mid-run (process killed or connection lost); rerun the recompute"


def audit(
    conn: psycopg.Connection,
    actor: str,
    action: str,
    resource_type: str,
    resource_id: Any = None,
    metadata: dict | None = None,
) -> None:
    conn.execute(
        "insert into ops.audit_entries (actor, action, resource_type, resource_id, metadata)"
        " values (%s, %s, %s, %s, %s)",
        (
            actor,
            action,
            resource_type,
            None if resource_id is None else str(resource_id),
            Jsonb(metadata or {}),
        ),
    )


def reap_stale_runs(conn: psycopg.Connection, actor: str = "reaper") -> list[int]:
    """Mark pending/running runs whose worker is gone as failed; return their ids.

    ``conn`` must be in autocommit mode (the probe locks are released at once).
    """
    rows = conn.execute(
        "select id from ops.recompute_runs where status in ('pending', 'running') order by id"
    ).fetchall()
    reaped: list[int] = []
    for (run_id,) in rows:
        got = conn.execute("select pg_try_advisory_lock(%s, %s)", (LOCK_CLASS, run_id)).fetchone()
        if not got or not got[0]:
            continue  # its worker is alive
        try:
            with conn.transaction():
                cur = conn.execute(
                    "update ops.recompute_runs set status = 'failed', error_message = %s,"
                    " finished_at = now() where id = %s and status in ('pending', 'running')",
                    (DEAD_WORKER, run_id),
                )
                if cur.rowcount:
                    audit(
                        conn,
                        actor,
                        "recompute_run.reaped",
                        "recompute_run",
                        run_id,
                        {"error": DEAD_WORKER},
                    )
                    reaped.append(run_id)
        finally:
            conn.execute("select pg_advisory_unlock(%s, %s)", (LOCK_CLASS, run_id))
    return reaped


@dataclass
class RunHandle:
    """A live run: its id and the connection holding its liveness lock."""

    id: int
    conn: psycopg.Connection
    started: float

    def close(self) -> None:
        if not self.conn.closed:
            self.conn.close()  # releases the advisory lock


def create_run(url: str, request: RecomputeRequest, dagster_run_id: str | None) -> RunHandle:
    """Insert the ``pending`` row and take its liveness lock in the same transaction."""
    conn = connect(url, autocommit=True)
    try:
        with conn.transaction():
            row = conn.execute(
                "insert into ops.recompute_runs"
                " (status, date_from, date_to, reports, windows, requested_by, dagster_run_id)"
                " values ('pending', %s, %s, %s, %s, %s, %s) returning id",
                (
                    request.date_from,
                    request.date_to,
                    list(request.reports),
                    list(request.windows),
                    request.requested_by,
                    dagster_run_id,
                ),
            ).fetchone()
            run_id = int(row[0])
            conn.execute("select pg_advisory_lock(%s, %s)", (LOCK_CLASS, run_id))
            audit(
                conn,
                request.requested_by,
                "recompute_run.requested",
                "recompute_run",
                run_id,
                _request_metadata(request, dagster_run_id),
            )
    except BaseException:
        conn.close()
        raise
    return RunHandle(run_id, conn, time.perf_counter())


def _request_metadata(request: RecomputeRequest, dagster_run_id: str | None) -> dict:
    return {
        "date_from": request.date_from.isoformat(),
        "date_to": request.date_to.isoformat(),
        "reports": list(request.reports),
        "windows": list(request.windows),
        "dagster_run_id": dagster_run_id,
    }


def mark_running(handle: RunHandle) -> None:
    with handle.conn.transaction():
        handle.conn.execute(
            "update ops.recompute_runs set status = 'running', started_at = now()"
            " where id = %s and status = 'pending'",
            (handle.id,),
        )
        audit(handle.conn, "worker", "recompute_run.started", "recompute_run", handle.id)


def mark_completed(handle: RunHandle) -> dict:
    duration = round(time.perf_counter() - handle.started, 3)
    with handle.conn.transaction():
        row = handle.conn.execute(
            "update ops.recompute_runs set status = 'completed', finished_at = now(),"
            " summary = coalesce(summary, '{}'::jsonb) || jsonb_build_object('duration_seconds', %s::numeric)"
            " where id = %s and status = 'running' returning summary",
            (duration, handle.id),
        ).fetchone()
        if row is None:
            raise TallyError(
                f"recompute run {handle.id} is no longer running; it was marked failed"
            )
        summary = row[0]
        audit(handle.conn, "worker", "recompute_run.completed", "recompute_run", handle.id, summary)
    return summary


def mark_failed(handle: RunHandle, message: str) -> None:
    duration = round(time.perf_counter() - handle.started, 3)
    with handle.conn.transaction():
        handle.conn.execute(
            "update ops.recompute_runs set status = 'failed', finished_at = now(), error_message = %s,"
            " summary = coalesce(summary, '{}'::jsonb) || jsonb_build_object('duration_seconds', %s::numeric)"
            " where id = %s and status in ('pending', 'running')",
            (message, duration, handle.id),
        )
        audit(
            handle.conn,
            "worker",
            "recompute_run.failed",
            "recompute_run",
            handle.id,
            {"error": message},
        )


def dbt_vars(request: RecomputeRequest, run_id: int) -> dict[str, Any]:
    """dbt vars of one recompute: a backfill of the range, narrowed to reports/windows."""
    out: dict[str, Any] = {
        "window_start": request.date_from.isoformat(),
        "window_end": request.date_to.isoformat(),
        "recompute_run_id": run_id,
    }
    if request.reports:
        out["snapshot_reports"] = list(request.reports)
    if request.windows:
        out["snapshot_windows"] = list(request.windows)
    return out


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_STAMP = re.compile(r"^\d\d:\d\d:\d\d\s+")


def dbt_error(output: str) -> str:
    """The most telling line(s) of a failed dbt run's output."""
    lines = [_STAMP.sub("", _ANSI.sub("", ln)).strip() for ln in (output or "").splitlines()]
    lines = [ln for ln in lines if ln]
    for i, line in enumerate(lines):
        if "Error in " in line:
            detail = next((ln for ln in lines[i + 1 : i + 4] if not ln.startswith("compiled")), "")
            return f"{line}: {detail}".rstrip(": ")
    errors = [ln for ln in lines if "error" in ln.lower()]
    return errors[-1] if errors else "dbt run failed; see logs/dbt.log"


@dataclass(frozen=True)
class RecomputeOutcome:
    run_id: int
    status: str
    summary: dict
    error: str | None
    #: the Dagster events of the dbt invocation (the mart's materialization)
    events: tuple = ()


def _run_dbt(dbt: Any, run_vars: dict) -> tuple[list, str | None]:
    """`dbt run` of metric_snapshots through the DbtCliResource (the same resource and
    translator as every dbt asset). Returns (Dagster events, None) or ([], the error)."""
    from orchestration.dbt_args import run_vars as exported_vars
    from orchestration.project import tally_project
    from orchestration.translator import translator

    with exported_vars(run_vars):  # dbt keeps its saved parse (dbt_args.run_vars)
        invocation = dbt.cli(
            ["run", "--select", "metric_snapshots"],
            manifest=tally_project.manifest_path,
            dagster_dbt_translator=translator,
            raise_on_error=False,
        )
        events = list(invocation.stream())
    if invocation.is_successful():
        return events, None
    try:
        results = invocation.get_artifact("run_results.json").get("results", [])
    except (OSError, ValueError):  # dbt stopped before running a node (parse error, ...)
        results = []
    messages = [str(r.get("message") or "") for r in results if r.get("status") == "error"]
    return [], dbt_error("\n".join(messages) or str(invocation.get_error()))


def execute_recompute(
    date_from: Any,
    date_to: Any,
    reports: list[str] | tuple[str, ...] = (),
    windows: list[str] | tuple[str, ...] = (),
    requested_by: str = "system",
    *,
    dagster_run_id: str | None = None,
    log: Callable[[str], None] = lambda _msg: None,
    url: str | None = None,
    dbt: Any = None,
) -> RecomputeOutcome:
    """Validate, reap dead runs, then run one recompute through its whole lifecycle.

    ``url``: the database (default: the configured one); ``dbt``: the DbtCliResource
    (default: the code location's)."""
    if dbt is None:
        from orchestration.resources import dbt_resource as dbt
    url = url or database().url
    with connect(url, autocommit=True) as conn:
        request = validate_recompute(
            load_catalog(conn), date_from, date_to, reports, windows, requested_by
        )
        reaped = reap_stale_runs(conn, actor="recompute")
    if reaped:
        log(f"marked dead runs failed: {reaped}")
    handle = create_run(url, request, dagster_run_id)
    try:
        mark_running(handle)
        log(f"recompute run {handle.id}: {request.date_from}..{request.date_to}")
        events, message = _run_dbt(dbt, dbt_vars(request, handle.id))
        if message is not None:
            mark_failed(handle, message)
            return RecomputeOutcome(handle.id, "failed", {}, message)
        summary = mark_completed(handle)
        return RecomputeOutcome(handle.id, "completed", summary, None, tuple(events))
    except BaseException as exc:
        with contextlib.suppress(psycopg.Error):  # else the reaper will find it
            mark_failed(handle, f"{type(exc).__name__}: {exc}"[:2000])
        raise
    finally:
        handle.close()
