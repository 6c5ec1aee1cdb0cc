"""The support rollup job: only ``marts/agg_support_rollup_daily`` (and its checks).

* unpartitioned, empty config: a sliding-window tick of the support mart;
* config ``rebuild_account_id``: that account's whole history (the timezone sensor);
* partition range + config ``backfill_account_id``: that account's local days
  (``tally backfill --domain support --account N``, seed 002's BackfillService).
"""

from __future__ import annotations

from typing import Any

from dagster import AssetKey, AssetSelection, define_asset_job

from orchestration.runs import queue_tags

SUPPORT_MART = AssetKey(["marts", "agg_support_rollup_daily"])
SUPPORT_JOB = "support_rollup"
_OP = "incremental_marts"  # the @dbt_assets op that holds every sliding-window mart

support_rollup = define_asset_job(
    SUPPORT_JOB,
    selection=AssetSelection.assets(SUPPORT_MART),
    tags=queue_tags(SUPPORT_JOB),
    description=(
        "Support rollup only: tick, account rebuild (config rebuild_account_id) or, "
        "with a partition range, one account's backfill (config backfill_account_id)."
    ),
)


def rebuild_config(account_id: int, requested_by: str = "sensor") -> dict[str, Any]:
    """Run config rebuilding one account's whole history."""
    config = {"rebuild_account_id": int(account_id), "requested_by": requested_by}
    return {"ops": {_OP: {"config": config}}}


def backfill_config(account_id: int, requested_by: str = "launchpad") -> dict[str, Any]:
    """Run config restricting a partition-range run to one account."""
    config = {"backfill_account_id": int(account_id), "requested_by": requested_by}
    return {"ops": {_OP: {"config": config}}}
