"""`tally backfill --domain support --account N --start D --end D [--dry-run]`.

Seed 002's BackfillService as a Dagster run: the support mart alone
(job ``support_rollup``) for the partition range start..end, with config
``backfill_account_id`` so the sliding window replaces only that account's local
days (``backfill_tenant_var`` in macros/sliding_window.sql). ``--dry-run`` computes
the same days from raw and prints how many rollup rows would be inserted, deleted,
changed and left unchanged - writing nothing. Called by ``core.cmd_backfill`` when
``--account`` or ``--dry-run`` is given.
"""

from __future__ import annotations

import argparse
import time

from orchestration import runtime
from orchestration.errors import TallyError
from orchestration.support.backfill import BackfillDiff, backfill_diff, check_account


def run(args: argparse.Namespace) -> int:
    domain = args.domain
    if args.account is not None and domain not in (None, "support"):
        raise TallyError(
            f"--account is a support option; for {domain} use `tally rebuild` or drop --account"
        )
    if domain is None and args.account is None:
        raise TallyError("--dry-run is available for the support rollup: add --domain support")
    if domain not in (None, "support"):
        raise TallyError(f"--dry-run is available for --domain support only, not {domain}")
    db = runtime.activate()
    days = (args.end - args.start).days + 1
    scope = f"account {args.account}" if args.account is not None else "every account"
    if args.dry_run:
        with db.connect() as conn:
            if args.account is not None:
                check_account(conn, args.account)
            diff = backfill_diff(conn, args.account, args.start, args.end)
        print(
            f"dry run: backfilling {days} local days {args.start}..{args.end} of {scope} "
            f"would change agg_support_rollup_daily rows: {diff.describe()} (nothing written)"
        )
        return 0
    from orchestration.support.jobs import SUPPORT_JOB, SUPPORT_MART, backfill_config

    # the run itself checks the account, computes the diff and audits (support/backfill.py)
    started = time.perf_counter()
    result = runtime.execute_job(
        SUPPORT_JOB,
        run_config=backfill_config(args.account, requested_by="cli"),
        partition_range=(args.start.isoformat(), args.end.isoformat()),
        tags={"tally/domain": "support", "tally/account_id": str(args.account)},
    )
    if not result.success:
        written = any(
            ev.asset_key == SUPPORT_MART for ev in result.get_asset_materialization_events()
        )
        if not written:
            raise TallyError(runtime.failure_summary(result))
        print(
            "warning: the rows were rebuilt but a check on agg_support_rollup_daily failed "
            f"({runtime.failure_summary(result)}); see the Dagster UI"
        )
    with db.connect() as conn:
        row = conn.execute(
            "select metadata from ops.audit_entries where action = 'support.backfill'"
            " and metadata->>'dagster_run_id' = %s",
            (result.run_id,),
        ).fetchone()
    audited = row[0] if row else {}
    diff = BackfillDiff(*(int(audited.get(k, 0)) for k in BackfillDiff.__dataclass_fields__))
    print(
        f"backfilled {days} local days {args.start}..{args.end} of {scope} in "
        f"{time.perf_counter() - started:.1f} s (Dagster run {result.run_id[:8]}): {diff.describe()}"
    )
    return 0
