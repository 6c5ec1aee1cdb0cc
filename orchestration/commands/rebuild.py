"""`tally rebuild --org N [--campaign M] [--full-refresh]`: admin rebuild of the order marts."""

from __future__ import annotations

import argparse
import getpass
import time

from orchestration import runtime
from orchestration.errors import TallyError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "rebuild",
        help="rebuild the order marts of one organization (optionally one campaign)",
        description=(
            "Recompute every bucket of an organization (or one of its campaigns). "
            "--full-refresh adds mark-and-sweep: rows the rebuild did not touch are deleted "
            "at the end; readers never see the scope empty. A second request for the same "
            "scope while one is queued or running joins it."
        ),
    )
    p.add_argument("--org", type=int, required=True, help="organization id")
    p.add_argument("--campaign", type=int, default=None, help="campaign id (of that organization)")
    p.add_argument("--full-refresh", action="store_true", help="mark-and-sweep stale rows")
    p.set_defaults(handler=cmd_rebuild)


def cmd_rebuild(args: argparse.Namespace) -> int:
    from orchestration import db as dbmod
    from orchestration.orders import requests as rq

    db = dbmod.database()
    with db.connect() as conn:  # a refused rebuild creates nothing (no ops tables, no schema)
        rq.validate_scope(conn, args.org, args.campaign)
    from orchestration import engine

    if engine.is_spark():  # the source's rows are checked above, as on PostgreSQL
        from orchestration.commands import spark

        return spark.rebuild(args.org, args.campaign)
    runtime.activate(db)
    from orchestration.orders import rebuild

    actor = f"cli:{getpass.getuser()}"
    started = time.perf_counter()
    request, result = rebuild.execute(
        args.org, args.campaign, full_refresh=args.full_refresh, actor=actor
    )
    if request["joined"]:
        run = request["dagster_run_id"] or "not started yet"
        print(
            f"a rebuild of {request['scope']} is already {request['status']}: "
            f"joined request #{request['id']} (Dagster run {run}); no new run started"
        )
        return 0
    if not result.success:
        raise TallyError(runtime.failure_summary(result))
    print(
        f"rebuilt {request['scope']} (request #{request['id']}, full_refresh={args.full_refresh}) "
        f"in {time.perf_counter() - started:.1f} s (Dagster run {result.run_id})"
    )
    return 0
