"""The Spark engine (TALLY_ENGINE=spark, docs/scale-out.md) on a real local Spark.

The marts built by dbt-spark (the order day marts, the commerce usage and sending stats)
equal an independent from-scratch computation of raw (tests/orders_expected.py,
tests/commerce_expected.py: plain SQL over the source's raw.* in PostgreSQL, the rows
`tally spark load` copies to Spark) after mutation rounds with late rows, updates,
archive and rule flips, deletions through the change feed, a configuration change, a
timezone change (commerce: a shop's integration date moving, and a new shop) and a run
after a gap. Backfills rewrite exactly their days, in one dbt invocation; bad input is
one line.

The first build and a rebuild run the real `tally` CLI (`tally run` copies the source
and builds; `tally rebuild` is one dbt invocation with the rebuild's parameters). The
ticks and the backfill run dbt in this process on one shared Spark session, with the
parameters the CLI passes (TALLY_RUN_VARS): one JVM for the module, not one per step
(`Warehouse`). Bad input goes through the CLI.
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta

import psycopg
import pytest
from commerce_expected import EXPECTED as COMMERCE_EXPECTED
from conftest import PROJECT_ROOT, TALLY, execute, query, run_tally
from orders_expected import EXPECTED as ORDERS_EXPECTED

from orchestration import datagen, engine
from orchestration.commands.spark import INCREMENTAL, SPARK_DOMAINS

_PROBLEM = engine.java_problem()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(_PROBLEM is not None, reason=f"no local Spark here: {_PROBLEM}"),
]

#: the incremental Spark marts and their partition (day bucket) column
DAY_MARTS = {
    "agg_order_daily": "day_bucket",
    "agg_order_customer_daily": "day_bucket",
    "agg_integration_usage_daily": "day",
}
#: every incremental Spark mart: the day marts and the key-mode campaign totals
#: (partitioned by organization)
INCREMENTAL_MARTS = (*DAY_MARTS, "agg_campaign_recipient_totals")
EXPECTED = {
    mart: ORDERS_EXPECTED[mart]
    for mart in ("agg_order_daily", "agg_order_customer_daily", "agg_campaign_recipient_totals")
} | COMMERCE_EXPECTED
MARTS = tuple(EXPECTED)
HISTORY_DAYS = 60


class Warehouse:
    """The module's Spark warehouse, through one JVM at a time (Derby: one process).

    Loads, dbt runs and reads share this process's session: dbt-spark's session cursor
    takes the running SparkSession (``getOrCreate``), so a dbt run in-process
    (``dbt()``) costs no JVM start. ``cli()`` runs the real `tally` instead, after
    stopping this process's JVM (the subprocess opens the metastore itself)."""

    def __init__(self, env: dict[str, str], url: str) -> None:
        self.env, self.url = env, url
        self._session = None
        self._stack = contextlib.ExitStack()
        self._saved: dict[str, str | None] = {}

    def session(self):
        if self._session is None:
            from orchestration import spark

            self._saved = {k: os.environ.get(k) for k in self.env}
            os.environ.update(self.env)
            self._session = self._stack.enter_context(spark.session())
        return self._session

    def release(self) -> None:
        if self._session is not None:
            self._stack.close()
            self._session = None
            for k, v in self._saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def rows(self, *sql: str) -> list[tuple]:
        """The last statement's rows, all of ``sql`` run in order."""
        rows: list = []
        for statement in sql:
            rows = self.session().sql(statement).collect()
        return [tuple(r) for r in rows]

    def load(self, *, per_domain: bool = False) -> None:
        """`tally spark load`'s copy: the Spark domains' raw rows and the change feed
        (``per_domain``: one domain at a time, as `tally spark load --domains D` each)."""
        from orchestration import spark
        from orchestration.db import Database

        batches = [[d] for d in reversed(SPARK_DOMAINS)] if per_domain else [list(SPARK_DOMAINS)]
        for domains in batches:
            tables = datagen.raw_tables(domains)
            spark.load_raw(Database(self.url, embedded=False), tables, self.session())

    def dbt(self, *args: str, run_vars: dict | None = None):
        """dbt on the Spark target in this process, the run parameters passed as the
        CLI passes them (TALLY_RUN_VARS); dbt's result."""
        from dbt.cli.main import dbtRunner

        from orchestration.dbt_args import run_vars as exported

        self.session()
        paths = ["--project-dir", str(PROJECT_ROOT), "--profiles-dir", str(PROJECT_ROOT)]
        target = ["--target-path", str(PROJECT_ROOT / "target" / "spark")]
        with exported(run_vars):
            return dbtRunner().invoke([*args, *paths, *target, "--quiet"])

    def tick(self, run_vars: dict | None = None, *, per_domain: bool = False) -> None:
        self.load(per_domain=per_domain)
        result = self.dbt("run", "--select", "tag:spark", run_vars=run_vars)
        assert result.success, result.exception or [r.message for r in result.result or []]

    def cli(self, *args: str, env: dict | None = None, check: bool = False):
        self.release()
        return run_tally(*args, env={**self.env, **(env or {})}, check=check, timeout=900)

    def assert_equal_raw(self, label: str, *then: str) -> list[list[tuple]]:
        """Every Spark mart equals the oracle over the source's raw rows, row for row;
        then the rows of each statement of ``then``."""
        (as_of,) = self.rows("select max(unix_micros(updated_at)) from marts.agg_sending_stats_30d")
        with psycopg.connect(self.url) as conn:
            for mart in MARTS:
                cols, expected_sql = EXPECTED[mart]
                params = {"as_of": as_of[0]} if "%(as_of)s" in expected_sql else None
                expected = Counter(tuple(r) for r in conn.execute(expected_sql, params).fetchall())
                actual = Counter(self.rows(f"select {cols} from marts.{mart}"))
                missing, extra = expected - actual, actual - expected
                assert not missing and not extra, (
                    f"{label}: Spark's {mart} differs from raw: {sum(missing.values())} rows "
                    f"missing, {sum(extra.values())} extra, e.g. {list(missing)[:2]} / "
                    f"{list(extra)[:2]}"
                )
                assert expected, f"{label}: the oracle of {mart} is empty (proves nothing)"
        return [self.rows(statement) for statement in then]


@pytest.fixture(scope="module")
def warehouse(tally_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """The source (PostgreSQL) with small orders and commerce data, copied to a fresh
    Spark warehouse and built there by the real `tally run`."""
    env = {
        "TALLY_ENGINE": "spark",
        "TALLY_SPARK_HOME": str(tmp_path_factory.mktemp("spark") / "warehouse-home"),
        "TALLY_DATABASE_URL": tally_db,
        "TALLY_SPARK_SHUFFLE_PARTITIONS": "1",  # one task per stage: a few thousand rows
    }
    with psycopg.connect(tally_db) as conn:
        datagen.generate(conn, scale=0.02, seed=11, domains=list(SPARK_DOMAINS))
        # 60 days of history, not 420: the test is about exactness, not volume (shops
        # integrated at most 60 days ago, a few hours apart, hence ~60 usage partitions)
        conn.execute(
            f"delete from raw.attributions where ordered_at < now() - interval '{HISTORY_DAYS} days'"
        )
        conn.execute(
            f"""update raw.shops set integration_created_at = greatest(integration_created_at,
                    now() - interval '{HISTORY_DAYS} days' + id * interval '7 hours')"""
        )
        conn.execute(
            f"delete from raw.orders where created_at < now() - interval '{HISTORY_DAYS} days'"
        )
    house = Warehouse(env, tally_db)
    proc = house.cli("run", check=True)
    assert "built the Spark marts" in proc.stdout
    yield house
    house.release()


def test_first_build_equals_raw(warehouse: Warehouse, tally_db: str) -> None:
    partitions = warehouse.assert_equal_raw(
        "first build", *(f"show partitions marts.{mart}" for mart in DAY_MARTS)
    )
    # the day marts are parquet tables partitioned by their (local) day bucket
    for column, found in zip(DAY_MARTS.values(), partitions, strict=True):
        assert len(found) > 50 and all(p[0].startswith(f"{column}=") for p in found)


def test_mutation_rounds_stay_equal_to_raw(warehouse: Warehouse, tally_db: str) -> None:
    url = tally_db
    # round 1: the generator's activity (inserts, late rows, moves between days, archive
    # and rule flips, hard deletes), an archive flip and deletes ~50 days back, and a
    # whole (organization, campaign, local day) deleted 30+ days back
    with psycopg.connect(url) as conn:
        counts = datagen.mutate(conn, seed=101)
    assert counts.get("attributions.deleted", 0) > 0 and counts.get("attributions.moved", 0) > 0
    # commerce: the generator deleted orders and added late ones (emails too); here also
    # an order moved ~40 days back (its old day from the feed, its new one from
    # updated_at), and every order of one (shop, UTC day) 30+ days back deleted - that
    # day's row stays, with 0 orders (zero-filled)
    assert counts.get("orders.deleted", 0) > 0 and counts.get("orders.late_inserted", 0) > 0
    assert counts.get("emails.inserted", 0) > 0
    execute(
        url,
        """update raw.orders set created_at = created_at - interval '40 days', updated_at = now()
           where id = (select min(id) from raw.orders where created_at > now() - interval '15 days')""",
    )
    (shop_day,) = query(
        url,
        """select shop_id, (created_at at time zone 'UTC')::date from raw.orders
           where created_at < now() - interval '30 days'
           group by 1, 2 order by count(*) desc, 1, 2 limit 1""",
    )
    execute(
        url,
        "delete from raw.orders where shop_id = %s and (created_at at time zone 'UTC')::date = %s",
        shop_day,
    )
    execute(
        url,
        """update raw.attributions set archived = not archived, updated_at = now()
           where id in (select id from raw.attributions
                        where ordered_at < now() - interval '50 days' order by id limit 5)""",
    )
    execute(
        url,
        """delete from raw.attributions
           where id in (select id from raw.attributions
                        where ordered_at < now() - interval '45 days' order by id desc limit 5)""",
    )
    daily_cols, daily_sql = EXPECTED["agg_order_daily"]
    (bucket,) = query(
        url,
        f"""select organization_id, campaign_id, day_bucket from ({daily_sql}) as x({daily_cols})
            where day_bucket < current_date - 30
            order by total_orders desc, organization_id, campaign_id, day_bucket limit 1""",
    )
    execute(
        url,
        """delete from raw.attributions a using raw.organizations o
           where o.id = a.organization_id and a.organization_id = %s and a.campaign_id = %s
             and (a.ordered_at at time zone o.reporting_timezone)::date = %s""",
        bucket,
    )
    # copied one domain at a time (commerce, then orders): a load keeps the feed of the
    # tables it does not copy - the deleted shop-day is found only through its feed
    warehouse.tick(per_domain=True)
    gone, idle = warehouse.assert_equal_raw(
        "round 1",
        f"""select count(*) from marts.agg_order_daily where organization_id = {bucket[0]}
            and campaign_id = {bucket[1]} and day_bucket = date'{bucket[2]}'""",
        f"""select orders_count from marts.agg_integration_usage_daily
            where shop_id = {shop_day[0]} and day = date'{shop_day[1]}'""",
    )
    assert gone == [(0,)], "a bucket whose raw rows were all deleted must disappear"
    assert idle == [(0,)], "a usage day whose orders were all deleted stays, with 0 orders"

    # round 2: more activity, an exclusion change on one tenant (rebuilt whole), a
    # timezone change on another, a late row for a day ~55 days back - and the previous
    # run 6 days ago: the window stretches back to it, and a row of 3 days ago whose
    # updated_at is older than that watermark (a source that backdates) is found only
    # by the stretched window
    with psycopg.connect(url) as conn:
        datagen.mutate(conn, seed=102)
    orgs = [o for (o,) in query(url, "select id from raw.organizations order by id")]
    execute(
        url,
        """update raw.organizations set configuration = '{"excluded_attributions": ["click"]}',
                  updated_at = now() where id = %s""",
        (orgs[0],),
    )
    execute(
        url,
        """update raw.organizations set reporting_timezone = case
               when reporting_timezone = 'Pacific/Kiritimati' then 'America/New_York'
               else 'Pacific/Kiritimati' end, updated_at = now() where id = %s""",
        (orgs[1],),
    )
    execute(
        url,
        """insert into raw.attributions (organization_id, campaign_id, recipient_id, customer_id,
               order_id, order_value, attribution_type, is_holdout, is_first_purchase, is_subscription,
               discount_matched, is_new_subscriber, passes_rules, archived, ordered_at, created_at, updated_at)
           select organization_id, campaign_id, recipient_id, customer_id, 'late-1', 42.00, 'sms',
               is_holdout, true, false, false, false, true, false, ordered_at - interval '1 hour', now(), now()
           from raw.attributions where ordered_at < now() - interval '55 days' order by id limit 1""",
    )
    execute(
        url,
        """insert into raw.attributions (organization_id, campaign_id, recipient_id, customer_id,
               order_id, order_value, attribution_type, is_holdout, is_first_purchase, is_subscription,
               discount_matched, is_new_subscriber, passes_rules, archived, ordered_at, created_at, updated_at)
           select organization_id, campaign_id, recipient_id, customer_id, 'gap-1', 17.00, 'sms',
               is_holdout, false, false, false, false, true, false, now() - interval '3 days',
               now() - interval '7 days', now() - interval '7 days'
           from raw.attributions where passes_rules and not archived
               and organization_id not in (%s, %s) order by id limit 1""",
        (orgs[0], orgs[1]),
    )
    # commerce: a shop's integration date moves 5 days earlier (its tenant version: the
    # shop is recomputed whole, its new idle days included), a new shop without orders,
    # a shop removed (its rows go), and a backdated order of 3 days ago (gap catch-up)
    shops = [s for (s,) in query(url, "select id from raw.shops order by id")]
    assert len(shops) >= 3, shops
    execute(
        url,
        """update raw.shops set integration_created_at = integration_created_at - interval '5 days',
                  updated_at = now() where id = %s""",
        (shops[0],),
    )
    execute(
        url,
        """insert into raw.shops (account_id, platform, integration_created_at, updated_at)
           select account_id, 'woocommerce', now() - interval '10 days 3 hours', now()
           from raw.shops where id = %s""",
        (shops[1],),
    )
    execute(url, "delete from raw.shops where id = %s", (shops[-1],))
    execute(
        url,
        """insert into raw.orders (shop_id, total, created_at, updated_at)
           values (%s, 12.50, now() - interval '3 days', now() - interval '7 days')""",
        (shops[1],),
    )
    gap = []
    for mart in INCREMENTAL_MARTS:
        gap += [
            f"drop table if exists marts_internal.{mart}__gap",
            f"""create table marts_internal.{mart}__gap using parquet as
                select tenant_id, watermark - interval 6 days as watermark, last_run_id,
                       last_run_at, tenant_version
                from ops.aggregation_progress where mart = '{mart}'""",
            f"""insert overwrite table ops.aggregation_progress partition (mart = '{mart}')
                select * from marts_internal.{mart}__gap""",
        ]
    warehouse.rows(*gap)
    warehouse.tick()
    modes, removed = warehouse.assert_equal_raw(
        "round 2",
        "select distinct mart, mode from ops.mart_runs",
        f"select count(*) from marts.agg_integration_usage_daily where shop_id = {shops[-1]}",
    )
    for mart in INCREMENTAL_MARTS:
        assert {m for (name, m) in modes if name == mart} >= {"full", "tick"}, modes
    assert removed == [(0,)], "a removed shop's usage rows must go"


def test_backfill_rewrites_exactly_its_days_in_one_invocation(
    warehouse: Warehouse, tally_db: str
) -> None:
    end = date.today() - timedelta(days=20)
    start = end - timedelta(days=2)
    by_run = "select day_bucket, max(run_id) from marts.agg_order_daily group by day_bucket"
    before = dict(warehouse.rows(by_run))
    # the run parameters `tally backfill` passes, one dbt invocation
    result = warehouse.dbt(
        "run",
        "--select",
        INCREMENTAL,
        run_vars={"window_start": start.isoformat(), "window_end": end.isoformat()},
    )
    assert result.success, result.exception
    runs, after, *by_mart = warehouse.assert_equal_raw(
        "after the backfill",
        "select mart, run_id from ops.mart_runs where mode = 'backfill'",
        by_run,
        *(
            f"""select {column}, count(*), count_if(run_id = (
                    select max(run_id) from ops.mart_runs where mode = 'backfill'))
                from marts.{mart} group by {column}"""
            for mart, column in DAY_MARTS.items()
        ),
    )
    # one dbt invocation wrote every incremental mart
    assert {m for m, _ in runs} == set(INCREMENTAL_MARTS) and len({r for _, r in runs}) == 1, runs
    days = {start + timedelta(days=i) for i in range(3)}
    for by_day in by_mart:
        rewritten = {d for d, _, n in by_day if n}
        assert rewritten, "the backfilled days hold rows (the test must be able to fail)"
        assert rewritten == days & {d for d, _, _ in by_day}
        assert all(n == total for d, total, n in by_day if d in rewritten)
    # every other day kept the run that wrote it before
    assert {d: r for d, r in dict(after).items() if d not in days} == {
        d: r for d, r in before.items() if d not in days
    }

    # a rebuild of one organization: every day it holds, recomputed
    (org,) = query(tally_db, "select min(id) from raw.organizations")[0]
    proc = warehouse.cli("rebuild", "--org", str(org), check=True)
    assert f"rebuilt organization {org} on Spark" in proc.stdout
    (modes,) = warehouse.assert_equal_raw(
        "after a rebuild", "select distinct mode from ops.mart_runs"
    )
    assert ("rebuild",) in modes


def _one_line_failure(proc) -> str:
    assert proc.returncode != 0, proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def test_bad_input_is_one_line(warehouse: Warehouse, tally_db: str) -> None:
    rows = warehouse.rows("select count(*) from marts.agg_order_daily")
    # a mart that is PostgreSQL-only: the CLI refuses its domain, dbt the model
    line = _one_line_failure(
        run_tally(
            "backfill",
            "--domain",
            "support",
            "--start",
            "2026-11-01",
            "--end",
            "2026-11-02",
            env=warehouse.env,
        )
    )
    assert "PostgreSQL-only" in line
    result = warehouse.dbt("run", "--select", "agg_order_running_totals")
    messages = [r.message or "" for r in result.result or []]
    assert not result.success and any(
        "\n  agg_order_running_totals: " in m and "PostgreSQL-only" in m for m in messages
    ), messages
    # no Java: only the venv on PATH, no JAVA_HOME
    no_java = {**warehouse.env, "PATH": str(TALLY.parent), "JAVA_HOME": ""}
    line = _one_line_failure(run_tally("tick", env=no_java))
    assert "needs Java 17" in line
    # a Spark session that cannot start
    line = _one_line_failure(
        run_tally(
            "spark", "load", env={**warehouse.env, "TALLY_SPARK_MASTER": "no-such-master://x"}
        )
    )
    assert "the Spark session could not start" in line
    # the UI (Spark runs do not go through Dagster yet)
    line = _one_line_failure(run_tally("ui", env=warehouse.env))
    assert "Spark runs do not go through Dagster yet" in line
    # an engine that does not exist
    line = _one_line_failure(run_tally("tick", env={**warehouse.env, "TALLY_ENGINE": "oracle"}))
    assert "TALLY_ENGINE='oracle' is not an engine" in line
    # nothing was written by any of them
    assert warehouse.rows("select count(*) from marts.agg_order_daily") == rows
