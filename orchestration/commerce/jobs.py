"""Commerce jobs: one mart each (and its checks), with a hard run time limit.

* ``commerce_integration_usage``: a sliding-window tick of ``marts/agg_integration_usage_daily``
  (the days since the previous run plus the days whose orders changed); launched for a
  partition range, a backfill of exactly those UTC days.
* ``commerce_sending_stats``: the whole-table rebuild of ``marts/agg_sending_stats_30d``.
"""

from __future__ import annotations

from dagster import AssetKey, AssetSelection, define_asset_job

from orchestration.runs import queue_tags

INTEGRATION_USAGE_MART = AssetKey(["marts", "agg_integration_usage_daily"])
SENDING_STATS_MART = AssetKey(["marts", "agg_sending_stats_30d"])

# Dagster's run monitoring (enabled in dagster.yaml) fails a run that exceeds its
# dagster/max_runtime tag, in seconds.
ONE_HOUR = str(60 * 60)

integration_usage = define_asset_job(
    "commerce_integration_usage",
    selection=AssetSelection.assets(INTEGRATION_USAGE_MART),
    tags={"dagster/max_runtime": ONE_HOUR, **queue_tags("commerce_integration_usage")},
    description="Gap-filled orders per shop per UTC day through yesterday (seed 003).",
)

sending_stats = define_asset_job(
    "commerce_sending_stats",
    selection=AssetSelection.assets(SENDING_STATS_MART),
    tags={"dagster/max_runtime": ONE_HOUR, **queue_tags("commerce_sending_stats")},
    description="Full rebuild of the 30-day sending stats per account (seed 003).",
)

COMMERCE_JOBS = [integration_usage, sending_stats]
