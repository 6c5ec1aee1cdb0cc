"""DDL of the raw contract (DESIGN.md, "The raw contract")."""

from __future__ import annotations

# table -> contract columns (id and updated_at are added to every table).
TABLES: dict[str, list[tuple[str, str]]] = {
    "organizations": [
        ("name", "text not null"),
        ("reporting_timezone", "text not null default 'UTC'"),
        ("configuration", "jsonb not null default '{}'"),
    ],
    "campaigns": [
        ("organization_id", "bigint"),
        ("name", "text"),
        ("created_at", "timestamptz"),
    ],
    "campaign_recipients": [
        ("organization_id", "bigint"),
        ("campaign_id", "bigint"),
        ("recipient_id", "bigint"),
        ("is_holdout", "boolean"),
        ("sent_at", "timestamptz"),
    ],
    "attributions": [
        ("organization_id", "bigint"),
        ("campaign_id", "bigint"),
        ("recipient_id", "bigint"),
        ("customer_id", "bigint"),
        ("order_id", "text"),
        ("order_value", "numeric(12,2)"),
        ("attribution_type", "text"),
        ("is_holdout", "boolean"),
        ("is_first_purchase", "boolean"),
        ("is_subscription", "boolean"),
        ("discount_matched", "boolean"),
        ("is_new_subscriber", "boolean"),
        ("passes_rules", "boolean"),
        ("archived", "boolean"),
        ("ordered_at", "timestamptz"),
        ("created_at", "timestamptz"),
    ],
    "event_sources": [
        ("slug", "text"),
        ("provider_name", "text"),
        ("description", "text"),
        ("is_active", "boolean"),
    ],
    "analytics_events": [
        ("source_id", "bigint"),
        ("entity_id", "text"),
        ("status", "text"),
        ("processing_ms", "integer"),
        ("amount_cents", "bigint"),
        ("occurred_at", "timestamptz"),
        ("payload", "jsonb"),
    ],
    "accounts": [
        ("name", "text"),
        ("reporting_timezone", "text"),
    ],
    "agents": [
        ("account_id", "bigint"),
        ("name", "text"),
    ],
    "inboxes": [
        ("account_id", "bigint"),
        ("name", "text"),
        ("channel_type", "text"),
    ],
    "reporting_events": [
        ("account_id", "bigint"),
        ("name", "text"),
        ("value", "double precision"),
        ("value_in_business_hours", "double precision"),
        ("user_id", "bigint"),
        ("inbox_id", "bigint"),
        ("conversation_id", "bigint"),
        ("event_start_time", "timestamptz"),
        ("event_end_time", "timestamptz"),
        ("created_at", "timestamptz"),
    ],
    # issue 18: conversations, messages, teams and labels (Chatwoot's tables of the same
    # names; labels as Chatwoot's taggings: one row per conversation and label)
    "teams": [
        ("account_id", "bigint"),
        ("name", "text"),
    ],
    "conversations": [
        ("account_id", "bigint"),
        ("inbox_id", "bigint"),
        ("assignee_id", "bigint"),
        ("team_id", "bigint"),
        ("status", "text"),
        ("created_at", "timestamptz"),
    ],
    "messages": [
        ("conversation_id", "bigint"),
        ("account_id", "bigint"),
        ("inbox_id", "bigint"),
        ("sender_type", "text"),
        ("message_type", "text"),
        ("created_at", "timestamptz"),
    ],
    "labels": [
        ("account_id", "bigint"),
        ("title", "text"),
    ],
    "conversation_labels": [
        ("account_id", "bigint"),
        ("conversation_id", "bigint"),
        ("label_id", "bigint"),
    ],
    "shops": [
        ("account_id", "bigint"),
        ("platform", "text"),
        ("integration_created_at", "timestamptz"),
    ],
    "orders": [
        ("shop_id", "bigint"),
        ("total", "numeric(12,2)"),
        ("created_at", "timestamptz"),
    ],
    "emails": [
        ("account_id", "bigint"),
        ("category", "text"),
        ("sent_at", "timestamptz"),
    ],
    "workspaces": [
        ("name", "text"),
    ],
    "executions": [
        ("workspace_id", "bigint"),
        ("user_id", "bigint"),
        ("status", "text"),
        ("started_at", "timestamptz"),
        ("duration_ms", "bigint"),
        ("credits_used", "numeric(12,4)"),
    ],
    "user_activity": [
        ("workspace_id", "bigint"),
        ("user_id", "bigint"),
        ("activity_type", "text"),
        ("occurred_at", "timestamptz"),
    ],
}

DOMAINS: dict[str, list[str]] = {
    "orders": ["organizations", "campaigns", "campaign_recipients", "attributions"],
    "snapshots": ["event_sources", "analytics_events"],
    "support": [
        "accounts",
        "agents",
        "inboxes",
        "reporting_events",
        "teams",
        "conversations",
        "messages",
        "labels",
        "conversation_labels",
    ],
    # commerce hangs off the support accounts; they are (re)generated with it.
    "commerce": ["accounts", "shops", "orders", "emails"],
    "platform": ["workspaces", "executions", "user_activity"],
}

# Secondary indexes for incremental readers: (name suffix, column list) or (name
# suffix, column list, "include (...) where ..." tail).
#
# Two indexes on attributions carry every column int_orders__attributions_qualified
# reads, so a tick's lookups of single campaign-days and of single customers' campaign
# histories are index-only scans: raw is in time order, and the ~20 rows of one
# campaign-day or one customer sit on ~20 different heap pages. (campaign_id,
# ordered_at) holds qualifying rows only (partial); (campaign_id, customer_id) every row
# (the sliding window's `follow` reads unqualified rows through it). ~800 MB each at
# 10M rows instead of ~300 MB for the plain ones - a cost raw writes pay.
_QUALIFIED_INCLUDE = (
    "organization_id, recipient_id, order_value, attribution_type, is_holdout,"
    " is_first_purchase, is_subscription, discount_matched, is_new_subscriber, id"
)
_QUALIFIED_WHERE = "where passes_rules and not archived and order_value > 0"
INDEXES: dict[str, list[tuple[str, ...]]] = {
    "attributions": [
        ("org_ordered_at", "organization_id, ordered_at"),
        ("updated_at", "updated_at"),
        # (campaign, time) of qualifying rows: the order marts' (organization, campaign,
        # day) buckets and the recipient totals' affected campaigns
        (
            "campaign_ordered_at_qualified",
            "campaign_id, ordered_at",
            f"include (customer_id, {_QUALIFIED_INCLUDE}) {_QUALIFIED_WHERE}",
        ),
        ("org_recipient", "organization_id, recipient_id"),
        # (campaign, customer), every row: a changed order's other days of the same
        # customer (sliding-window `follow`) and the campaign history of the customers
        # of an affected day (agg_order_customer_day_pairs, agg_order_running_totals)
        (
            "campaign_customer_covering",
            "campaign_id, customer_id",
            f"include (ordered_at, {_QUALIFIED_INCLUDE}, passes_rules, archived)",
        ),
    ],
    "campaign_recipients": [
        ("org_campaign", "organization_id, campaign_id"),
        # a changed recipient's rows as sent (the recipient totals' converted recipients)
        ("campaign_recipient", "campaign_id, recipient_id"),
        ("updated_at", "updated_at"),
    ],
    "reporting_events": [
        ("account_created_at", "account_id, created_at"),
        ("updated_at", "updated_at"),
        # the support reader's :exclude_bot_handoffs rule: was the conversation ever
        # handed off? (a small partial index: handoffs only)
        (
            "account_handoff_conversation",
            "account_id, conversation_id",
            "where name = 'conversation_bot_handoff'",
        ),
    ],
    "analytics_events": [("occurred_at", "occurred_at"), ("updated_at", "updated_at")],
    "orders": [("shop_created_at", "shop_id, created_at"), ("updated_at", "updated_at")],
    "emails": [
        ("sent_at", "sent_at"),
        ("account_sent_at", "account_id, sent_at"),
        ("updated_at", "updated_at"),
    ],
    # (tenant, time) indexes serve the sliding window's per-tenant day ranges
    "executions": [
        ("started_at", "started_at"),
        ("workspace_started_at", "workspace_id, started_at"),
        ("updated_at", "updated_at"),
    ],
    "user_activity": [
        ("occurred_at", "occurred_at"),
        ("workspace_occurred_at", "workspace_id, occurred_at"),
        ("updated_at", "updated_at"),
    ],
}
# --- issue 18 (support conversations and messages): kept as one block for the shared
# index definition. (account_id, created_at) serves the sliding window's per-account day
# ranges and the raw report path; messages (conversation_id) finds the messages of a
# conversation whose team or assignee changed (int_support__messages_conversation_dated);
# conversation_labels (label_id, conversation_id) the conversations carrying a label.
INDEXES.update(
    {
        "conversations": [
            ("account_created_at", "account_id, created_at"),
            ("updated_at", "updated_at"),
        ],
        "messages": [
            ("account_created_at", "account_id, created_at"),
            ("conversation", "conversation_id"),
            ("updated_at", "updated_at"),
        ],
        "conversation_labels": [
            ("label_conversation", "label_id, conversation_id"),
            ("updated_at", "updated_at"),
        ],
    }
)
# reporting events by conversation: a conversation moved to another team recomputes the
# days of its reporting events too (int_support__events_conversation_dated)
INDEXES["reporting_events"].append(("conversation", "conversation_id"))
# --- end of issue 18 block
for _t in TABLES:
    INDEXES.setdefault(_t, [("updated_at", "updated_at")])


def columns(table: str) -> list[str]:
    """Column order used for COPY (id first, updated_at last)."""
    return ["id", *(c for c, _ in TABLES[table]), "updated_at"]


def create_table_sql(table: str) -> str:
    cols = ",\n    ".join(f"{c} {t}" for c, t in TABLES[table])
    return (
        f"create table if not exists raw.{table} (\n"
        f"    id bigint generated by default as identity,\n"
        f"    {cols},\n"
        f"    updated_at timestamptz not null default now(),\n"
        f"    constraint {table}_pkey primary key (id)\n)"
    )


def index_sql(table: str) -> list[str]:
    return [
        f"create index if not exists {table}_{suffix}_idx on raw.{table} ({cols}) {' '.join(tail)}".rstrip()
        for suffix, cols, *tail in INDEXES[table]
    ]


# Extended statistics: (name suffix, kinds, columns). A campaign belongs to one
# organization; without `dependencies` the planner multiplies the selectivities of
# `campaign_id = x and organization_id = y`, estimates one row per campaign-day lookup
# and nests the organization's configuration (timezone, exclusions: jsonb work) under
# every attribution row instead of once per lookup (~3x the cost of a tick's reads).
STATISTICS: dict[str, list[tuple[str, str, str]]] = {
    "attributions": [("campaign_org", "dependencies", "campaign_id, organization_id")],
}


def statistics_sql(table: str) -> list[str]:
    return [
        f"create statistics if not exists raw.{table}_{suffix}_stats ({kinds}) on {cols} from raw.{table}"
        for suffix, kinds, cols in STATISTICS.get(table, [])
    ]


# Indexes of earlier releases, dropped when the table is regenerated.
RETIRED_INDEXES: dict[str, list[str]] = {
    "attributions": ["campaign_ordered_at", "campaign_customer"]
}


def drop_index_sql(table: str) -> list[str]:
    suffixes = [suffix for suffix, *_ in INDEXES[table]] + RETIRED_INDEXES.get(table, [])
    return [f"drop index if exists raw.{table}_{suffix}_idx" for suffix in suffixes]
