"""DDL of the raw contract (DESIGN.md, "The raw contract")."""

from __future__ import annotations

from orchestration import raw_contract

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


# The indexes and statistics of the raw tables are Tally's raw contract, declared once in
# orchestration/raw_contract.py (also `tally db migrate`, `tally health`); datagen builds
# the same ones after its bulk load.
index_sql = raw_contract.index_sql
statistics_sql = raw_contract.statistics_sql
drop_index_sql = raw_contract.drop_index_sql
