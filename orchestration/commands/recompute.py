"""`tally recompute`: rebuild metric_snapshots for a UTC date range (seed 001)."""

from __future__ import annotations

import argparse
import getpass
import json

from orchestration import runtime
from orchestration.commands.core import parse_date
from orchestration.errors import TallyError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "recompute",
        help="recompute the snapshot reports for a UTC date range (a tracked recompute run)",
        description=(
            "Deletes and rebuilds the metric_snapshots buckets of --from..--to (weeks widened "
            "to whole ISO weeks) for the given reports and windows (default: all), as one "
            "recompute run in ops.recompute_runs (pending -> running -> completed | failed), "
            "through the Dagster job recompute_snapshots."
        ),
    )
    p.add_argument("--from", dest="date_from", type=parse_date, required=True, help="first UTC day")
    p.add_argument(
        "--to", dest="date_to", type=parse_date, required=True, help="last UTC day, inclusive"
    )
    p.add_argument(
        "--report", action="append", default=[], help="report slug (repeatable; default all)"
    )
    p.add_argument(
        "--window", action="append", default=[], help="day or week (repeatable; default all)"
    )
    p.add_argument("--requested-by", default=None, help="who asks (default cli:<user>)")
    p.add_argument("--json", action="store_true", help="print the run row as JSON")
    p.set_defaults(handler=cmd_recompute)


def _split(values: list[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def cmd_recompute(args: argparse.Namespace) -> int:
    from orchestration.snapshots.catalog import load_catalog, validate_recompute
    from orchestration.snapshots.jobs import JOB_NAME, run_config

    db = runtime.activate()
    requested_by = args.requested_by or f"cli:{getpass.getuser()}"
    with db.connect() as conn:  # validate before any run row exists
        request = validate_recompute(
            load_catalog(conn),
            args.date_from,
            args.date_to,
            _split(args.report),
            _split(args.window),
            requested_by,
        )
    result = runtime.execute_job(
        JOB_NAME,
        run_config=run_config(
            request.date_from,
            request.date_to,
            list(request.reports),
            list(request.windows),
            request.requested_by,
        ),
        tags={"tally/requested_by": request.requested_by},
    )
    with db.connect() as conn:
        row = conn.execute(
            "select id, status, date_from, date_to, reports, windows, requested_by, summary,"
            " error_message, dbt_invocation_id from ops.recompute_runs where dagster_run_id = %s"
            " order by id desc limit 1",
            (result.run_id,),
        ).fetchone()
    if row is None:
        raise TallyError(runtime.failure_summary(result))
    run_id, status, first, last, reports, windows, who, summary, error, invocation = row
    if args.json:
        print(
            json.dumps(
                {
                    "id": run_id,
                    "status": status,
                    "date_from": str(first),
                    "date_to": str(last),
                    "reports": reports,
                    "windows": windows,
                    "requested_by": who,
                    "summary": summary,
                    "error_message": error,
                    "dbt_invocation_id": invocation,
                    "dagster_run_id": result.run_id,
                },
                indent=2,
                default=str,
            )
        )
    if status != "completed":
        raise TallyError(f"recompute run {run_id} {status}: {error}")
    if not args.json:
        summary = summary or {}
        print(
            f"recompute run {run_id} completed: {first}..{last}, "
            f"reports {', '.join(reports) or 'all'}, windows {', '.join(windows) or 'all'} - "
            f"{summary.get('rows_deleted', 0)} rows deleted, {summary.get('rows_inserted', 0)} inserted, "
            f"{summary.get('rows_pruned', 0)} pruned in {summary.get('duration_seconds', 0)} s "
            f"(dbt run {invocation})"
        )
        for slug, per_window in sorted((summary.get("per_report") or {}).items()):
            for window, counts in sorted(per_window.items()):
                print(
                    f"  {slug:<18} {window:<5} buckets {counts['buckets']:>5}  deleted {counts['deleted']:>8}"
                    f"  inserted {counts['inserted']:>8}  pruned {counts['pruned']:>6}"
                )
    return 0
