"""Tally's raw contract: the indexes and extended statistics its incremental reads need.

Declared once, here (:data:`INDEXES`, :data:`STATISTICS`). A production ``raw`` owned by
the source application does not come with them, so:

* ``tally db migrate`` creates what is missing (:func:`migrate`: idempotent, ``create
  index concurrently``, an interrupted build's invalid index is rebuilt); a role that may
  not create them (only a table's owner may) gets one notice and exit status 0;
* ``tally datagen`` builds the same indexes after its bulk load (``datagen/_schema.py``
  reads them from here);
* ``tally health`` (``health.check_raw_contract``: ``raw-index`` rows) and the asset
  check ``raw_indexes_present`` of each raw table fail while one is missing, naming it
  and ``tally db migrate`` (:func:`missing`).

A new raw table adds its entry to :data:`INDEXES` (at least its ``updated_at`` index: the
sliding window and source freshness read it); tests/test_raw_contract.py fails for a
datagen table without one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import psycopg

MIGRATE_COMMAND = "tally db migrate"

# Secondary indexes for incremental readers: table -> (name suffix, column list) or (name
# suffix, column list, "include (...) where ..." tail). The index is raw.<table>_<suffix>_idx.
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
# (updated_at): every table - the sliding window's "changed since the watermark" and the
# sources' freshness (`max(updated_at)`)
_UPDATED_AT = ("updated_at", "updated_at")
INDEXES: dict[str, list[tuple[str, ...]]] = {
    "organizations": [_UPDATED_AT],
    "campaigns": [_UPDATED_AT],
    "campaign_recipients": [
        ("org_campaign", "organization_id, campaign_id"),
        # a changed recipient's rows as sent (the recipient totals' converted recipients)
        ("campaign_recipient", "campaign_id, recipient_id"),
        _UPDATED_AT,
    ],
    "attributions": [
        ("org_ordered_at", "organization_id, ordered_at"),
        _UPDATED_AT,
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
    "event_sources": [_UPDATED_AT],
    "analytics_events": [("occurred_at", "occurred_at"), _UPDATED_AT],
    "accounts": [_UPDATED_AT],
    "agents": [_UPDATED_AT],
    "inboxes": [_UPDATED_AT],
    "reporting_events": [
        ("account_created_at", "account_id, created_at"),
        _UPDATED_AT,
        # the support reader's :exclude_bot_handoffs rule: was the conversation ever
        # handed off? (a small partial index: handoffs only)
        (
            "account_handoff_conversation",
            "account_id, conversation_id",
            "where name = 'conversation_bot_handoff'",
        ),
        # a conversation moved to another team recomputes the days of its reporting
        # events too (int_support__events_conversation_dated)
        ("conversation", "conversation_id"),
    ],
    # support conversations and messages (issue 18): (account_id, created_at) serves the
    # sliding window's per-account day ranges and the raw report path; messages
    # (conversation_id) finds the messages of a conversation whose team or assignee changed
    # (int_support__messages_conversation_dated); conversation_labels (label_id,
    # conversation_id) the conversations carrying a label
    "teams": [_UPDATED_AT],
    "conversations": [("account_created_at", "account_id, created_at"), _UPDATED_AT],
    "messages": [
        ("account_created_at", "account_id, created_at"),
        ("conversation", "conversation_id"),
        _UPDATED_AT,
    ],
    "labels": [_UPDATED_AT],
    "conversation_labels": [("label_conversation", "label_id, conversation_id"), _UPDATED_AT],
    "shops": [_UPDATED_AT],
    "orders": [("shop_created_at", "shop_id, created_at"), _UPDATED_AT],
    "emails": [
        ("sent_at", "sent_at"),
        ("account_sent_at", "account_id, sent_at"),
        _UPDATED_AT,
    ],
    "workspaces": [_UPDATED_AT],
    # (tenant, time) indexes serve the sliding window's per-tenant day ranges
    "executions": [
        ("started_at", "started_at"),
        ("workspace_started_at", "workspace_id, started_at"),
        _UPDATED_AT,
    ],
    "user_activity": [
        ("occurred_at", "occurred_at"),
        ("workspace_occurred_at", "workspace_id, occurred_at"),
        _UPDATED_AT,
    ],
}

# Extended statistics: table -> (name suffix, kinds, columns); raw.<table>_<suffix>_stats.
# A campaign belongs to one organization; without `dependencies` the planner multiplies
# the selectivities of `campaign_id = x and organization_id = y`, estimates one row per
# campaign-day lookup and nests the organization's configuration (timezone, exclusions:
# jsonb work) under every attribution row instead of once per lookup (~3x the cost of a
# tick's reads).
STATISTICS: dict[str, list[tuple[str, str, str]]] = {
    "attributions": [("campaign_org", "dependencies", "campaign_id, organization_id")],
}

# Indexes of earlier releases, dropped when datagen regenerates the table.
RETIRED_INDEXES: dict[str, list[str]] = {
    "attributions": ["campaign_ordered_at", "campaign_customer"]
}


@dataclass(frozen=True)
class RawObject:
    """One declared index or statistics object of a raw table."""

    kind: str  # "index" | "statistics"
    table: str
    name: str  # without the schema
    definition: str  # "(cols) tail" for an index, "(kinds) on cols" for statistics

    def create_sql(self, *, concurrently: bool = False) -> str:
        if self.kind == "statistics":
            return (
                f"create statistics if not exists raw.{self.name} {self.definition}"
                f" from raw.{self.table}"
            )
        how = "concurrently " if concurrently else ""
        return f"create index {how}if not exists {self.name} on raw.{self.table} {self.definition}"

    def describe(self) -> str:
        what = "index" if self.kind == "index" else "statistics"
        return f"{what} raw.{self.name} {self.definition}"


def objects(tables: Iterable[str] | None = None) -> list[RawObject]:
    """Every declared index and statistics object (of ``tables``; None = all)."""
    wanted = set(INDEXES) | set(STATISTICS) if tables is None else set(tables)
    out = []
    for table in INDEXES:
        if table not in wanted:
            continue
        for suffix, cols, *tail in INDEXES[table]:
            out.append(
                RawObject(
                    "index", table, f"{table}_{suffix}_idx", f"({cols}) {' '.join(tail)}".rstrip()
                )
            )
    for table, stats in STATISTICS.items():
        if table in wanted:
            for suffix, kinds, cols in stats:
                out.append(
                    RawObject(
                        "statistics", table, f"{table}_{suffix}_stats", f"({kinds}) on {cols}"
                    )
                )
    return out


def index_sql(table: str) -> list[str]:
    """The table's ``create index if not exists`` statements (datagen: in its transaction)."""
    return [o.create_sql() for o in objects([table]) if o.kind == "index"]


def statistics_sql(table: str) -> list[str]:
    return [o.create_sql() for o in objects([table]) if o.kind == "statistics"]


def drop_index_sql(table: str) -> list[str]:
    names = [o.name for o in objects([table]) if o.kind == "index"]
    names += [f"{table}_{suffix}_idx" for suffix in RETIRED_INDEXES.get(table, [])]
    return [f"drop index if exists raw.{name}" for name in names]


# --------------------------------------------------------------------------- the database


def _present(conn: psycopg.Connection) -> tuple[set[str], dict[str, bool], set[str]]:
    """(existing raw tables, raw index name -> valid, raw statistics names)."""
    tables = {
        r[0]
        for r in conn.execute(
            "select c.relname from pg_catalog.pg_class as c"
            " join pg_catalog.pg_namespace as n on n.oid = c.relnamespace"
            " where n.nspname = 'raw' and c.relkind in ('r', 'p')"
        ).fetchall()
    }
    indexes = dict(
        conn.execute(
            "select c.relname, i.indisvalid from pg_catalog.pg_index as i"
            " join pg_catalog.pg_class as c on c.oid = i.indexrelid"
            " join pg_catalog.pg_namespace as n on n.oid = c.relnamespace"
            " where n.nspname = 'raw'"
        ).fetchall()
    )
    stats = {
        r[0]
        for r in conn.execute(
            "select s.stxname from pg_catalog.pg_statistic_ext as s"
            " join pg_catalog.pg_namespace as n on n.oid = s.stxnamespace"
            " where n.nspname = 'raw'"
        ).fetchall()
    }
    return tables, indexes, stats


@dataclass(frozen=True)
class Missing:
    obj: RawObject
    reason: str  # "missing" | "invalid (an interrupted build)"

    def line(self) -> str:
        return f"{self.obj.describe()} is {self.reason}: run `{MIGRATE_COMMAND}`"


def missing(conn: psycopg.Connection, tables: Iterable[str] | None = None) -> list[Missing]:
    """The declared objects of existing raw tables that are absent or invalid. A raw
    table that does not exist is not judged here (health's ``source`` row says so)."""
    existing, indexes, stats = _present(conn)
    out = []
    for obj in objects(tables):
        if obj.table not in existing:
            continue
        if obj.kind == "statistics":
            if obj.name not in stats:
                out.append(Missing(obj, "missing"))
        elif obj.name not in indexes:
            out.append(Missing(obj, "missing"))
        elif not indexes[obj.name]:
            out.append(Missing(obj, "invalid (an interrupted build)"))
    return out


@dataclass
class MigrateResult:
    created: list[RawObject] = field(default_factory=list)
    refused: list[RawObject] = field(default_factory=list)
    refusal: str = ""  # the server's message for the first refused object
    failed: list[tuple[RawObject, str]] = field(default_factory=list)  # other errors
    tables: int = 0  # raw tables that exist
    present: int = 0  # declared objects that were already there

    def notice(self, role: str) -> str | None:
        """One line when the role may not create some objects, else None."""
        if not self.refused:
            return None
        names = ", ".join(f"raw.{o.name}" for o in self.refused[:3])
        more = f" and {len(self.refused) - 3} more" if len(self.refused) > 3 else ""
        return (
            f"notice: role {role} may not create {len(self.refused)} index(es)/statistics "
            f"on raw ({self.refusal}): {names}{more} not created; run `{MIGRATE_COMMAND}` "
            "as the owner of the raw tables (incremental reads stay correct, but slow, "
            "until then; `tally health` lists what is missing)"
        )


def migrate(url: str, log: Callable[[str], None] | None = None) -> MigrateResult:
    """Create every declared object that is missing (or invalid) on an existing raw table.

    Indexes are built ``concurrently`` (the source application keeps writing), each in
    its own autocommit statement; an invalid leftover of an interrupted build is dropped
    and rebuilt. A role lacking the privilege (only the table's owner may create an
    index or statistics) is recorded in the result, not raised.
    """
    result = MigrateResult()
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        todo = missing(conn)
        existing_tables = _present(conn)[0]
        result.tables = len(existing_tables & {o.table for o in objects()})
        result.present = sum(1 for o in objects() if o.table in existing_tables) - len(todo)
        for item in todo:
            obj = item.obj
            try:
                if item.reason != "missing":
                    conn.execute(f"drop index concurrently if exists raw.{obj.name}")
                conn.execute(obj.create_sql(concurrently=True))
                if obj.kind == "statistics":
                    conn.execute(f"analyze raw.{obj.table}")
            except psycopg.errors.InsufficientPrivilege as exc:
                result.refused.append(obj)
                result.refusal = result.refusal or str(exc).strip().splitlines()[0]
                continue
            except psycopg.Error as exc:  # e.g. a raw table without a contract column
                result.failed.append((obj, (str(exc).strip().splitlines() or ["?"])[0]))
                continue
            result.created.append(obj)
            if log:
                log(f"created {obj.describe()}")
    return result


def present_count(conn: psycopg.Connection, tables: Iterable[str] | None = None) -> int:
    """How many declared objects belong to existing raw tables (of ``tables``)."""
    existing = _present(conn)[0]
    return sum(1 for o in objects(tables) if o.table in existing)
