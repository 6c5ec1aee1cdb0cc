"""`tally cleanup`: retention cleanup of the platform domain (seed 004)."""

from __future__ import annotations

import argparse
import time

from orchestration import db as dbmod
from orchestration.platform import cleanup


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "cleanup",
        help="delete raw platform rows past retention (hourly aggregates at 2x; daily kept)",
    )
    p.add_argument(
        "--raw-retention-days",
        type=int,
        default=None,
        help="keep raw executions/user activity this many days (default $TALLY_RAW_RETENTION_DAYS or 90)",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="print what would be deleted, delete nothing"
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=cleanup.DEFAULT_BATCH_SIZE,
        help="rows per delete statement",
    )
    p.set_defaults(handler=cmd_cleanup)


def cmd_cleanup(args: argparse.Namespace) -> int:
    days = args.raw_retention_days
    if days is None:
        days = cleanup.default_raw_retention_days()
    # refuse bad settings before touching (or starting) the database
    cleanup.validate(days, args.batch_size, cleanup.project_var("sliding_window_days", 2))
    db = dbmod.database()
    started = time.perf_counter()
    report = cleanup.run_cleanup(
        db.url, raw_retention_days=days, dry_run=args.dry_run, batch_size=args.batch_size
    )
    for line in report.lines():
        print(line)
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0
