"""Independent from-scratch aggregates of raw for the commerce marts (test oracle).

Plain SQL over ``raw.*`` (the statements of the reconciliation checks
tests/dbt/assert_commerce_*_reconciles.sql, over the whole history), never the dbt
models: the incremental marts are compared with a second, separate computation.
``EXPECTED[mart]`` = (the mart's columns to compare, the oracle's SQL); the sending
stats' SQL takes ``as_of`` (microseconds since the epoch: the run's now(), which the
mart stores as ``updated_at``), so a rebuild and its check see the same 30 days.
"""

from __future__ import annotations

EXPECTED = {
    # one row per shop per UTC day from its integration date through yesterday,
    # zero-filled: generate_series and a correlated count, no calendar join
    "agg_integration_usage_daily": (
        "shop_id, day, account_id, platform, unix_micros(integration_created_at), orders_count",
        """
        select shops.id, cast(d as date), shops.account_id, shops.platform,
               cast(extract(epoch from shops.integration_created_at) * 1000000 as bigint),
               (select count(*) from raw.orders as o
                where o.shop_id = shops.id
                  and (o.created_at at time zone 'UTC')::date = cast(d as date))
        from raw.shops as shops
        cross join lateral generate_series(
            (shops.integration_created_at at time zone 'UTC')::date,
            (now() at time zone 'UTC')::date - 1,
            interval '1 day'
        ) as d
        where shops.integration_created_at is not null
        """,
    ),
    "agg_sending_stats_30d": (
        "account_id, emails_30d, automation_emails_30d, campaign_emails_30d,"
        " transactional_emails_30d, other_emails_30d",
        """
        with as_of as (
            select timestamptz 'epoch' + %(as_of)s * interval '1 microsecond' as ts
        )
        select e.account_id, count(*),
               count(*) filter (where e.category = 'automation'),
               count(*) filter (where e.category = 'campaign'),
               count(*) filter (where e.category = 'transactional'),
               count(*) filter (where e.category is null
                                or e.category not in ('automation', 'campaign', 'transactional'))
        from raw.emails as e
        cross join as_of
        where e.sent_at >= as_of.ts - interval '30 days'
            and e.sent_at <= as_of.ts
            and e.account_id is not null
        group by e.account_id
        """,
    ),
}
