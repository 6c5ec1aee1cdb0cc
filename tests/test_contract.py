"""The public contract is the `marts` schema alone (issue 17 item 4), against real
PostgreSQL and real dbt runs:

* schema marts holds exactly the marts docs/contract.md lists (and the manifest builds);
  schema marts_internal exactly the relations declared internal (source tally_internal
  and the models with that schema), also as docs/contract.md lists them;
* the reader role reads the internal relations it needs and nothing else there;
* every relation of marts, read on its own as a SQL consumer reads it, equals an
  independent aggregate of raw (tests/orders_expected.py, the support, snapshot and
  platform tests' raw oracles, and the plain SQL below) - also after a mutation round;
* a database of the old layout (side tables in marts) is migrated on its first run.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import psycopg
import pytest
from conftest import execute, query
from orders_expected import EXPECTED, differences

from orchestration import datagen, runtime

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "docs" / "contract.md"
_DBT_TEMP = re.compile(r"__dbt_(tmp|backup)$")


def dbt(*args: str) -> None:
    runtime.run_dbt(list(args), capture=True, quiet=True)


def relations(url: str, schema: str) -> dict[str, str]:
    """name -> relkind of the tables, views and materialized views of `schema`."""
    rows = query(
        url,
        "select c.relname, c.relkind from pg_class as c"
        " join pg_namespace as n on n.oid = c.relnamespace"
        " where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm')",
        (schema,),
    )
    return {name: kind for name, kind in rows if not _DBT_TEMP.search(name)}


def documented(schema: str) -> set[str]:
    """The relations docs/contract.md lists in its tables as `<schema>.<name>`."""
    row = re.compile(rf"^\| `{schema}\.(\w+)`")
    return {m.group(1) for ln in CONTRACT.read_text().splitlines() if (m := row.match(ln))}


def manifest() -> dict:
    return json.loads(runtime.ensure_manifest().read_text())


def declared_internal() -> dict[str, bool]:
    """Internal relation -> whether the reader reads it, from the manifest (the same
    declaration the grants and the migration use)."""
    data = manifest()
    out = {}
    for src in data["sources"].values():
        if src["source_name"] == "tally_internal":
            out[src["identifier"]] = bool(src["config"]["meta"]["tally"]["reader"])
    for node in data["nodes"].values():
        if node["resource_type"] == "model" and node["schema"] == "marts_internal":
            meta = (node["config"].get("meta") or {}).get("tally") or {}
            out[node["alias"] or node["name"]] = bool(meta.get("reader", False))
    return out


@pytest.fixture(scope="module")
def built(tally_db: str) -> str:
    with psycopg.connect(tally_db) as conn:
        datagen.generate(conn, scale=0.01, seed=17)
    dbt("seed")
    dbt("run")
    return tally_db


def test_marts_holds_exactly_the_contract(built: str) -> None:
    in_db = relations(built, "marts")
    in_doc = documented("marts")
    in_manifest = {
        n["alias"] or n["name"]
        for n in manifest()["nodes"].values()
        if n["resource_type"] == "model" and n["schema"] == "marts"
    }
    assert len(in_doc) == 17, in_doc
    assert set(in_db) == in_doc, set(in_db) ^ in_doc
    assert in_manifest == in_doc, in_manifest ^ in_doc
    # the running totals a SQL consumer reads are the view of the final values
    assert in_db["agg_order_running_totals"] == "v"


def test_internal_schema_holds_exactly_what_is_declared(built: str) -> None:
    declared = declared_internal()
    assert set(relations(built, "marts_internal")) == set(declared)
    assert documented("marts_internal") == set(declared)
    # the six hook-kept side tables of issue 17 and the running totals' own table
    assert {
        "agg_order_running_totals",
        "agg_order_running_totals__blocks",
        "agg_order_running_totals__customer_days",
        "agg_campaign_recipient_totals__customers",
        "agg_campaign_recipient_totals__recipients",
        "metric_snapshots_rank_prefix",
        "metric_snapshots_week_check",
    } == set(declared)


def _reader_can_select(url: str, relation: str) -> bool:
    with psycopg.connect(url) as conn:
        conn.execute("set role tally_reader")
        try:
            conn.execute(f"select * from {relation} limit 1").fetchall()
        except psycopg.errors.InsufficientPrivilege:
            return False
        return True


def assert_reader_grants(url: str) -> None:
    """The reader selects the internal relations it reads (meta.tally.reader) and no
    other; it can create nothing in the internal schema."""
    declared = declared_internal()
    readable = {
        name: _reader_can_select(url, f"marts_internal.{name}")
        for name in relations(url, "marts_internal")
    }
    assert readable == declared
    # exactly the reader's own paths: the running totals' rows and bases, the
    # snapshot rank prefix and week checks - never the ledgers
    assert {n for n, r in declared.items() if r} == {
        "agg_order_running_totals",
        "agg_order_running_totals__blocks",
        "metric_snapshots_rank_prefix",
        "metric_snapshots_week_check",
    }
    assert query(
        url, "select has_schema_privilege('tally_reader', 'marts_internal', 'create')"
    ) == [(False,)]
    # and every public mart, the view included
    assert all(_reader_can_select(url, f"marts.{name}") for name in relations(url, "marts"))


def test_reader_reads_what_it_needs_in_the_internal_schema_and_nothing_else(built: str) -> None:
    assert_reader_grants(built)


# --------------------------------------------------------------------------- oracles

# plain aggregates of raw, by the rules of docs/contract.md (valid platform rows: a
# known workspace, started_at set, no negative duration or credits)
_EXECUTIONS = """
    from raw.executions as e
    join raw.workspaces as w on w.id = e.workspace_id
    where e.started_at is not null and coalesce(e.duration_ms, 0) >= 0
        and coalesce(e.credits_used, 0) >= 0
"""
SQL_ORACLES = {
    "mv_daily_user_metrics": (
        """select a.workspace_id, (a.occurred_at at time zone 'UTC')::date,
               count(distinct a.user_id), count(*)
           from raw.user_activity as a join raw.workspaces as w on w.id = a.workspace_id
           where a.user_id is not null and a.occurred_at is not null group by 1, 2""",
        "select workspace_id, day_bucket, active_users, events from marts.mv_daily_user_metrics",
    ),
    "mv_hourly_execution_stats": (
        f"""select e.workspace_id, date_trunc('hour', e.started_at, 'UTC'), count(*),
               count(*) filter (where e.status = 'succeeded'),
               count(*) filter (where e.status = 'failed'),
               coalesce(sum(e.duration_ms), 0), coalesce(sum(e.credits_used), 0)
           {_EXECUTIONS}
               and e.started_at >= date_trunc('hour', now(), 'UTC') - interval '29 days'
           group by 1, 2""",
        # the view keeps 30 days from its refresh: compare the last 29 (no hour can
        # leave the window between the refresh and this read)
        """select workspace_id, bucket_start, executions, succeeded_executions,
               failed_executions, duration_ms_sum, credits_used
           from marts.mv_hourly_execution_stats
           where bucket_start >= date_trunc('hour', now(), 'UTC') - interval '29 days'""",
    ),
    "mv_workspace_summary": (
        f"""select e.workspace_id, count(*), coalesce(sum(e.duration_ms), 0),
               coalesce(sum(e.credits_used), 0)
           {_EXECUTIONS} group by 1""",
        """select workspace_id, executions_total, duration_ms_sum_total, credits_used_total
           from marts.mv_workspace_summary where executions_total > 0""",
    ),
    "agg_integration_usage_daily": (
        # one row per shop and UTC day from its integration date through yesterday
        """select s.id, days.day, s.account_id, s.platform,
               (select count(*) from raw.orders as o
                where o.shop_id = s.id and (o.created_at at time zone 'UTC')::date = days.day)
           from raw.shops as s
           cross join lateral (
               select (s.integration_created_at at time zone 'UTC')::date + i as day
               from generate_series(
                   0, (now() at time zone 'UTC')::date - 1
                       - (s.integration_created_at at time zone 'UTC')::date) as i
           ) as days
           where s.integration_created_at is not null""",
        """select shop_id, day, account_id, platform, orders_count
           from marts.agg_integration_usage_daily""",
    ),
    "agg_sending_stats_30d": (
        """select account_id, count(*), count(*) filter (where category = 'automation'),
               count(*) filter (where category = 'campaign'),
               count(*) filter (where category = 'transactional')
           from raw.emails as e, (select max(updated_at) as at from marts.agg_sending_stats_30d) as r
           where e.sent_at >= r.at - interval '30 days' and e.sent_at <= r.at
               and e.account_id is not null
           group by 1""",
        """select account_id, emails_30d, automation_emails_30d, campaign_emails_30d,
               transactional_emails_30d
           from marts.agg_sending_stats_30d where emails_30d > 0""",
    ),
}


def _sql_differences(url: str, expected: str, actual: str) -> int:
    return query(
        url,
        f"""with e as ({expected}), a as ({actual})
            select count(*) from ((select * from e except all select * from a)
                                  union all (select * from a except all select * from e)) as d""",
    )[0][0]


def _support_differences(url: str) -> int:
    from test_support import expected_rollup, stored_rollup

    expected, stored = expected_rollup(url), stored_rollup(url)
    keys = set(expected) | set(stored)
    return sum(
        1
        for k in keys
        if k not in expected
        or k not in stored
        or stored[k][0] != expected[k][0]
        or any(
            abs(float(a) - float(b)) > 1e-6
            for a, b in zip(stored[k][1:], expected[k][1:], strict=True)
        )
    )


def _snapshot_differences(url: str) -> int:
    from test_snapshots import actual, expected

    want, got = expected(url), actual(url)
    return sum(1 for k in set(want) | set(got) if want.get(k) != got.get(k))


def _platform_differences(url: str) -> int:
    from test_platform import _assert_matches_raw

    _assert_matches_raw(url)  # hourly, daily, weekly executions, credits, activity
    return 0


PLATFORM_MARTS = (
    "agg_execution_metrics_hourly",
    "agg_execution_metrics_daily",
    "agg_execution_metrics_weekly",
    "agg_credit_consumption_hourly",
    "agg_user_activity_hourly",
)


def oracle_differences(url: str) -> dict[str, int]:
    """Per relation of schema marts: rows differing between the relation read alone and
    its oracle."""
    out: dict[str, int] = {}
    with psycopg.connect(url) as conn:
        for mart in EXPECTED:
            out[mart] = differences(conn, mart)[0]
    out["agg_support_rollup_daily"] = _support_differences(url)
    out["metric_snapshots"] = _snapshot_differences(url)
    platform = _platform_differences(url)
    out.update(dict.fromkeys(PLATFORM_MARTS, platform))
    for mart, (expected, actual) in SQL_ORACLES.items():
        out[mart] = _sql_differences(url, expected, actual)
    return out


def test_every_mart_read_alone_equals_raw(built: str) -> None:
    url = built
    found = oracle_differences(url)
    # every relation of the contract has an oracle here
    assert set(found) == set(relations(url, "marts"))
    assert {m: n for m, n in found.items() if n} == {}
    # the running totals also after a round of source activity and a tick
    with psycopg.connect(url) as conn:
        datagen.mutate(conn, seed=171)
    dbt("run", "--select", "tag:sliding_window")
    with psycopg.connect(url) as conn:
        after = {mart: differences(conn, mart) for mart in EXPECTED}
    assert {m: d for m, d in after.items() if d[0]} == {}


def _view_oid(url: str) -> int | None:
    return query(url, "select to_regclass('marts.agg_order_running_totals')::oid")[0][0]


def test_a_full_refresh_of_the_running_totals_keeps_their_published_view(built: str) -> None:
    """dbt drops the old table of a full refresh with CASCADE, after its commit; the mart's
    post-hook re-creates marts.agg_order_running_totals on the new table first, so the view
    is never missing, also when the refresh selects the mart alone."""
    url = built
    before = _view_oid(url)
    assert before is not None
    dbt("run", "--full-refresh", "--select", "agg_order_running_totals")
    after = _view_oid(url)
    assert after is not None and after != before  # a new view, on the new table
    assert relations(url, "marts")["agg_order_running_totals"] == "v"
    assert _reader_can_select(url, "marts.agg_order_running_totals")
    with psycopg.connect(url) as conn:
        n, examples = differences(conn, "agg_order_running_totals")
    assert n == 0, examples
    # the mart and its view model refreshed in one run: the model replaces the hook's view
    dbt("run", "--full-refresh", "--select", "agg_order_running_totals+")
    assert _view_oid(url) not in (None, after)
    with psycopg.connect(url) as conn:
        assert differences(conn, "agg_order_running_totals")[0] == 0


# the readers' indexes a mart's post-hook creates (tally.mart_index), by mart
READER_INDEXES = {
    "agg_order_daily": "agg_order_daily_org_day_key_idx",
    "agg_order_customer_daily": "agg_order_customer_daily_org_day_idx",
    "agg_order_customer_day_pairs": "agg_order_customer_day_pairs_org_day_idx",
    "metric_snapshots": "metric_snapshots_metric_idx",
}


def _index_owners(url: str) -> dict[str, str | None]:
    """Each reader index's table, by mart (None: the index is missing)."""
    owners = dict(
        query(
            url,
            "select c.relname, i.indrelid::regclass::text from pg_index as i"
            " join pg_class as c on c.oid = i.indexrelid"
            " join pg_namespace as n on n.oid = c.relnamespace"
            " where n.nspname = 'marts' and c.relname = any(%s)",
            (list(READER_INDEXES.values()),),
        )
    )
    return {m: owners.get(i) for m, i in READER_INDEXES.items()}


def _mart_oids(url: str) -> dict[str, int]:
    sql = "select m, cast(('marts.' || m)::regclass as oid) from unnest(%s::text[]) as m"
    return dict(query(url, sql, (list(READER_INDEXES),)))


def test_a_full_refresh_builds_the_readers_indexes_in_the_same_run(built: str) -> None:
    """dbt runs a full refresh's post-hooks while the old table, renamed to its backup,
    still holds its index names: a bare `create index if not exists` was skipped, so the
    refreshed mart went without its reader index until the next tick built it."""
    url = built
    own_tables = {m: f"marts.{m}" for m in READER_INDEXES}
    assert _index_owners(url) == own_tables
    before = _mart_oids(url)
    dbt("run", "--full-refresh", "--select", *READER_INDEXES)
    after = _mart_oids(url)
    assert all(after[m] != before[m] for m in READER_INDEXES)  # new tables
    assert _index_owners(url) == own_tables


def test_a_database_of_the_old_layout_is_migrated_on_its_first_run(built: str) -> None:
    """Side tables and the running totals' table in schema marts, readable by the reader
    (as the release before marts_internal left them): the first run (a tick, no view
    model) moves them with their rows, revokes the ledgers from the reader, ticks
    incrementally and creates the missing view (the running-totals mart's post-hook)."""
    url = built
    declared = declared_internal()
    (old_runs,) = query(
        url, "select array_agg(distinct run_id) from marts_internal.agg_order_running_totals"
    )[0]
    execute(url, "drop view marts.agg_order_running_totals")
    for name in declared:
        execute(url, f"alter table marts_internal.{name} set schema marts")
    execute(url, "grant select on all tables in schema marts to tally_reader")
    assert set(declared) <= set(relations(url, "marts"))

    dbt("run", "--select", "tag:sliding_window")
    assert set(relations(url, "marts_internal")) == set(declared)
    # nothing declared internal is left in marts but the published view of the same name
    left = {n: kind for n, kind in relations(url, "marts").items() if n in declared}
    assert left == {"agg_order_running_totals": "v"}
    # moved, not rebuilt: a full build would have rewritten every row
    kept = query(
        url,
        "select count(*) from marts_internal.agg_order_running_totals where run_id = any(%s)",
        (old_runs,),
    )[0][0]
    assert kept > 0
    assert_reader_grants(url)
    with psycopg.connect(url) as conn:
        n, examples = differences(conn, "agg_order_running_totals")
    assert n == 0, examples

    dbt("run")
    assert set(relations(url, "marts")) == documented("marts")
    with psycopg.connect(url) as conn:
        n, examples = differences(conn, "agg_order_running_totals")
    assert n == 0, examples
