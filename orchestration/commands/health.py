"""`tally health`: every mart's rows, data age and last run, raw source freshness and
failing asset checks, as one table; exit status 1 when something is stale or failing."""

from __future__ import annotations

import argparse

from orchestration import health, runtime
from orchestration.errors import TallyError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "health",
        help="freshness of every mart and raw source, failing checks; exit 1 when unhealthy",
    )
    p.add_argument(
        "--domain",
        choices=["orders", "snapshots", "support", "commerce", "platform"],
        default=None,
        help="only the marts and raw tables of one domain",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--no-dagster",
        action="store_true",
        help="skip Dagster's run history and asset checks (faster; ops.mart_runs only)",
    )
    p.set_defaults(handler=cmd_health)


def cmd_health(args: argparse.Namespace) -> int:
    db = runtime.activate(manifest=False)
    try:
        path = runtime.ensure_manifest()
    except TallyError:  # the project does not parse: fall back to the last good manifest
        path = runtime.MANIFEST
    manifest = health.load_manifest(path)
    repository = None
    if not args.no_dagster and manifest is not None:
        from orchestration.definitions import defs

        repository = defs.get_repository_def()
    with db.connect(autocommit=True) as conn:
        report = health.collect(conn, manifest, domain=args.domain, repository=repository)
    print(report.to_json() if args.json else report.table())
    return report.exit_code
