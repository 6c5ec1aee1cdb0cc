"""The admin rebuild job: the order marts of the partitioned ``incremental_marts`` asset.

Launch it from the UI launchpad or GraphQL with run config
``{"ops": {"incremental_marts": {"config": {"rebuild_organization_id": N,
"rebuild_campaign_id": M, "full_refresh": true}}}}``, or with ``tally rebuild``.
"""

from __future__ import annotations

from dagster import AssetKey, AssetSelection, define_asset_job

ORDER_MARTS = (
    "agg_order_daily",
    "agg_order_customer_daily",
    "agg_campaign_recipient_totals",
    "agg_order_customer_day_pairs",
    "agg_order_running_totals",
)
ORDER_MART_KEYS = [AssetKey(["marts", name]) for name in ORDER_MARTS]

orders_rebuild = define_asset_job(
    "orders_rebuild",
    selection=AssetSelection.assets(*ORDER_MART_KEYS),
    description=(
        "Admin rebuild of the order marts for one organization (optionally one campaign); "
        "config rebuild_organization_id, rebuild_campaign_id, full_refresh (mark-and-sweep)."
    ),
    tags={"tally/domain": "orders"},
)
