"""Campaign reader benchmark: bulk stats (marts vs raw) and rolling stats.

``run(scale)`` uses the activated database; when it holds no order data it generates
the orders domain at ``scale`` and builds the order marts first. Figures are medians:

* bulk_marts_ms - bulk_campaign_stats for the largest organization (by attributions)
  over its last 90 local days, on one open tally_reader connection (a dashboard's
  pooled connection); bulk_marts_fresh_conn_ms opens a new connection per call.
* bulk_raw_ms - the same question from raw (source="raw"); ratio = raw / marts.
* rolling_year_ms - rolling_stats (7 and 30 days) of that organization's largest
  campaign over the last 365 days.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

from orchestration import datagen, runtime
from orchestration.db import database
from orchestration.reader.campaigns import bulk_campaign_stats, rolling_stats
from orchestration.reader.connection import reader_connection

MARTS = (
    "agg_order_daily",
    "agg_order_customer_daily",
    "agg_campaign_recipient_totals",
    "agg_order_customer_day_pairs",
    "agg_order_running_totals",
)


def _median_ms(fn, n: int) -> float:
    fn()  # warm
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def run(scale: float) -> dict:
    db = runtime.activate(database())
    with db.connect() as conn:
        if datagen.is_empty(conn):
            datagen.generate(conn, scale=scale, seed=42, domains=["orders"])
        missing = conn.execute(
            "select count(*) filter (where to_regclass('marts.' || t) is null) from unnest(%s::text[]) as t",
            (list(MARTS),),
        ).fetchone()[0]
    if missing:
        runtime.run_dbt(["run", "--select", "+path:models/marts/orders"], capture=True)
    with db.connect() as conn:
        org, attributions = conn.execute(
            "select organization_id, count(*) from raw.attributions group by 1 order by 2 desc limit 1"
        ).fetchone()
        end = conn.execute(
            "select max(day_bucket) from marts.agg_order_daily where organization_id = %s", (org,)
        ).fetchone()[0]
        campaign, campaigns = conn.execute(
            """
            select (select campaign_id from marts.agg_campaign_recipient_totals
                    where organization_id = %(org)s group by 1 order by sum(total_orders) desc limit 1),
                   (select count(*) from raw.campaigns where organization_id = %(org)s)
            """,
            {"org": org},
        ).fetchone()
        rows_90d = conn.execute(
            "select count(*) from marts.agg_order_customer_daily where organization_id = %s"
            " and day_bucket between %s and %s",
            (org, end - timedelta(days=89), end),
        ).fetchone()[0]
    start = end - timedelta(days=89)
    with reader_connection(db) as rc:
        bulk_marts = _median_ms(lambda: bulk_campaign_stats(org, start, end, db=rc), 15)
        bulk_raw = _median_ms(lambda: bulk_campaign_stats(org, start, end, source="raw", db=rc), 5)
        rolling = _median_ms(
            lambda: rolling_stats(org, campaign, end - timedelta(days=364), end, db=rc), 9
        )
        summary = _median_ms(lambda: bulk_campaign_stats(org, summary_only=True, db=rc), 15)
    fresh = _median_ms(lambda: bulk_campaign_stats(org, start, end, db=db), 9)
    return {
        "scale": scale,
        "largest_org": org,
        "largest_org_attributions": attributions,
        "largest_org_campaigns": campaigns,
        "customer_rows_90d": rows_90d,
        "bulk_marts_ms": round(bulk_marts, 2),
        "bulk_marts_fresh_conn_ms": round(fresh, 2),
        "bulk_raw_ms": round(bulk_raw, 2),
        "bulk_raw_over_marts": round(bulk_raw / bulk_marts, 1),
        "summary_only_ms": round(summary, 2),
        "rolling_year_ms": round(rolling, 2),
    }
