"""Order marts benchmark: full rebuild vs a bare INSERT ... SELECT ... GROUP BY (both build
the mart's primary key and index), and
ticks (no changes; ~5,000 late updates spread over history) at two history lengths,
plus ticks after ~2,500 and ~10,000 late updates at the longer one (buckets vs history).

    .venv/bin/python -m bench.orders 10        # scale 10 ~ 1M attributions

Uses the database Tally resolves (TALLY_DATABASE_URL or the embedded server) and
REPLACES its raw orders data. SQL times come from dbt's run_results.json of runs with
one thread (two models on two cores would slow each other and the per-model figures
would measure the contention); each model's tick is compared with its own full rebuild.
The fixed cost (process start, parse, hooks) is the wall time of the same dbt
invocation with every model excluded; the Dagster run around it is the wall time of a
`tick` job run for the order marts minus that of the same dbt run from the CLI.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import sys
import time

from orchestration import datagen, runtime

MARTS = "path:models/marts/orders"
BARE = """
create table bench_bare as
select a.organization_id, a.campaign_id, (a.ordered_at at time zone o.reporting_timezone)::date as day_bucket,
       a.is_holdout, count(*) as total_orders, sum(a.order_value) as revenue,
       count(*) filter (where a.is_first_purchase) as first_purchase_orders,
       coalesce(sum(a.order_value) filter (where a.is_first_purchase), 0) as first_purchase_revenue,
       count(*) filter (where not a.is_first_purchase) as repeat_orders,
       coalesce(sum(a.order_value) filter (where not a.is_first_purchase), 0) as repeat_revenue,
       count(*) filter (where a.is_subscription) as subscription_orders,
       coalesce(sum(a.order_value) filter (where a.is_subscription), 0) as subscription_revenue,
       count(*) filter (where a.discount_matched) as discount_matched_orders,
       count(distinct a.customer_id) as unique_customers,
       count(*) filter (where a.is_new_subscriber) as new_subscribers
from raw.attributions a join raw.organizations o on o.id = a.organization_id
where a.passes_rules and not a.archived and a.order_value > 0
  and not coalesce((o.configuration -> 'excluded_attributions') ? a.attribution_type, false)
group by 1, 2, 3, 4
"""
# the same index work as the dbt full rebuild of agg_order_daily: its contract's primary
# key and the reader's (organization_id, day_bucket) index (issue 21 item 3)
BARE_INDEXES = (
    "alter table bench_bare add primary key (organization_id, campaign_id, day_bucket, is_holdout)",
    "create index on bench_bare (organization_id, day_bucket)",
)


def _dbt(
    *args: str, vars: dict | None = None, threads: int | None = 1
) -> tuple[float, dict[str, float]]:
    # vars through the environment, not --vars: a --vars run would leave a parse state
    # that makes the next tick re-parse the whole project
    cmd = list(args) + (["--threads", str(threads)] if threads else [])
    started = time.perf_counter()
    runtime.run_dbt(cmd, capture=True, quiet=True, run_vars=vars or {})
    wall = time.perf_counter() - started
    results = json.loads((runtime.TARGET_DIR / "run_results.json").read_text())
    sql = {r["unique_id"].split(".")[-1]: r["execution_time"] for r in results["results"]}
    return wall, sql


def _median(xs: list[float]) -> float:
    return round(statistics.median(xs), 3)


# the ticks measured at both history lengths: label -> late updates before the tick
TICKS = {"nochange": 0, "late5k": 5000}
# at the longer history also 2,500 and 10,000 late updates: the tick against the number
# of affected buckets at the same history (the two lengths compare it against history)
BUCKET_SCALING = {"late2500": 2500, "late10k": 10000}


def _ticks(conn, repeats: int, ticks: dict[str, int]) -> dict[str, float]:
    out: dict[str, list[float]] = {}

    def add(key: str, value: float) -> None:
        out.setdefault(key, []).append(value)

    # lag 0: otherwise every tick within watermark_lag_minutes re-processes the previous
    # round's updates and "no change" is not no change
    lag0 = {"watermark_lag_minutes": 0}
    for i in range(repeats):
        for label, updates in ticks.items():
            if updates:
                # `updates` rows drawn uniformly from the table, seeded per round and size.
                # Not a LIMIT on a larger sample (the first rows in physical order: the
                # oldest days), not TABLESAMPLE BERNOULLI ... REPEATABLE (0/1/2): after the
                # older half is deleted and vacuumed those seeds drew ~200 rows instead of
                # ~5,000
                total = conn.execute("select count(*) from raw.attributions").fetchone()[0]
                conn.execute("select setseed(%s)", (0.1 * (i + 1) + (updates - 5000) / 1e6,))
                conn.execute(
                    "update raw.attributions set order_value = order_value + 0.01, updated_at = now()"
                    " where id in (select id from raw.attributions where random() < %s)",
                    (updates / max(total, 1),),
                )
            wall, sql = _dbt("run", "--select", MARTS, vars=lag0)
            models = {k: v for k, v in sql.items() if not k.startswith("tally-on-run")}
            add(f"tick_{label}_sql", sum(models.values()))
            add(f"tick_{label}_wall", wall)
            for name, seconds in models.items():
                add(f"tick_{label}_{name}_sql", seconds)
            row = conn.execute(
                "select affected_buckets from ops.mart_runs where mart = 'agg_order_daily'"
                " order by finished_at desc nulls last, started_at desc limit 1"
            ).fetchone()
            add(
                f"tick_{label}_agg_order_daily_affected_buckets", float(row[0] or 0) if row else 0.0
            )
    return {k: _median(v) for k, v in out.items()}


def run(scale: float, repeats: int = 3) -> dict:
    db = runtime.activate()
    figures: dict = {"scale": scale}
    with db.connect() as conn:
        counts = datagen.generate(conn, scale=scale, seed=42, force=True, domains=["orders"])
        figures["attributions"] = counts["attributions"]
    _dbt("run", "--select", f"+{MARTS}", "path:models/staging/orders", "--full-refresh")
    # autocommit: an open read transaction would block dbt's --full-refresh table swap
    with db.connect(autocommit=True) as conn:
        bare, full, full_wall = [], [], []
        for _ in range(repeats):
            conn.execute("drop table if exists bench_bare")
            started = time.perf_counter()
            conn.execute(BARE)
            for statement in BARE_INDEXES:
                conn.execute(statement)
            bare.append(time.perf_counter() - started)
            wall, sql = _dbt("run", "--select", "agg_order_daily", "--full-refresh")
            full.append(sql["agg_order_daily"])
            full_wall.append(wall)
        conn.execute("drop table if exists bench_bare")
        figures["buckets"] = conn.execute("select count(*) from marts.agg_order_daily").fetchone()[
            0
        ]
        figures["bare_group_by_s"] = _median(bare)
        figures["full_rebuild_agg_order_daily_sql_s"] = _median(full)
        figures["full_rebuild_vs_bare"] = round(_median(full) / _median(bare), 2)
        _, full_sql = _dbt("run", "--select", MARTS, "--full-refresh")
        for name, seconds in full_sql.items():
            if not name.startswith("tally-on-run"):
                figures[f"history420_full_{name}_sql"] = round(seconds, 3)
        _settle(conn)
        _dbt("run", "--select", MARTS)  # first tick after a full build
        for k, v in _ticks(conn, repeats, {**TICKS, **BUCKET_SCALING}).items():
            figures[f"history420_{k}"] = v
        figures.update(_dagster_tick(conn, repeats))
        # half the history: drop the older half (capture off) and rebuild
        conn.execute("set tally.capture = 'off'")
        conn.execute("delete from raw.attributions where ordered_at < now() - interval '210 days'")
        conn.execute("reset tally.capture")
        # a production table does not carry 5M dead rows from one mass delete for long
        # (autovacuum): without this the 210-day ticks measured the bloat, not the history
        conn.execute("vacuum analyze raw.attributions")
        _, full_sql = _dbt("run", "--select", MARTS, "--full-refresh")
        for name, seconds in full_sql.items():
            if not name.startswith("tally-on-run"):
                figures[f"history210_full_{name}_sql"] = round(seconds, 3)
        _settle(conn)
        _dbt("run", "--select", MARTS)
        for k, v in _ticks(conn, repeats, TICKS).items():
            figures[f"history210_{k}"] = v
    # the fixed cost of a tick's dbt invocation: process start, parse, on-run hooks - the
    # same selection with every model excluded (models run on 2 threads, so wall minus
    # the models' summed SQL time is not it)
    noop = [_dbt("run", "--select", MARTS, "--exclude", MARTS)[0] for _ in range(repeats)]
    figures["fixed_cost_dbt_invocation_wall"] = _median(noop)
    figures["fixed_cost_per_tick"] = round(
        figures["fixed_cost_dbt_invocation_wall"] + figures["dagster_run_overhead_wall"], 3
    )
    # every model's tick against its own full rebuild (same history, same run)
    for history in ("history420", "history210"):
        for label in [*TICKS, *BUCKET_SCALING]:
            if f"{history}_tick_{label}_sql" not in figures:
                continue
            tick_total = full_total = 0.0
            for key in [k for k in figures if k.startswith(f"{history}_full_")]:
                name = key[len(f"{history}_full_") : -len("_sql")]
                tick = figures.get(f"{history}_tick_{label}_{name}_sql")
                if tick is None:
                    continue
                tick_total += tick
                full_total += figures[key]
                figures[f"{history}_tick_{label}_{name}_vs_full_pct"] = round(
                    100 * tick / figures[key], 1
                )
            figures[f"{history}_tick_{label}_all_vs_full_pct"] = round(
                100 * tick_total / full_total, 1
            )
            buckets = figures.get(f"{history}_tick_{label}_agg_order_daily_affected_buckets")
            if TICKS.get(label, BUCKET_SCALING.get(label)) and buckets:
                # the late ticks' SQL per affected bucket: flat when the tick grows with the
                # buckets (not with the history)
                figures[f"{history}_tick_{label}_sql_ms_per_bucket"] = round(
                    1000 * figures[f"{history}_tick_{label}_sql"] / buckets, 3
                )
    return figures


def _settle(conn) -> None:
    """Vacuum and analyze the freshly rebuilt order marts and their side tables (ledger,
    blocks) before the ticks: a production mart rebuilt long before a 15-minute tick has
    been through autovacuum; measured right after the rebuild, the first ticks paid for
    setting hint bits and competed with autovacuum on the two cores."""
    tables = [
        r[0]
        for r in conn.execute(
            "select format('%I.%I', schemaname, tablename) from pg_tables"
            " where schemaname in ('marts', 'marts_internal')"
            " and (tablename like 'agg_order%' or tablename like 'agg_campaign%')"
        ).fetchall()
    ]
    for table in tables:
        conn.execute(f"vacuum (analyze) {table}")
    conn.execute("checkpoint")


def _dagster_tick(conn, repeats: int) -> dict[str, float]:
    """Wall time of a Dagster `tick` run of the order marts (no changes: `dbt build`, so
    with their reconcile checks over the tick's 3 days, as the schedule runs it) and of
    the same `dbt build` from the CLI (default threads, as the Dagster run uses). The Dagster run passes the default watermark lag:
    the late updates of the tick rounds are moved an hour back first (capture off), so
    neither run re-reads them."""
    from orchestration.orders.jobs import ORDER_MART_KEYS

    conn.execute("set tally.capture = 'off'")
    conn.execute(
        "update raw.attributions set updated_at = updated_at - interval '1 hour'"
        " where updated_at > now() - interval '1 hour'"
    )
    conn.execute("reset tally.capture")
    conn.execute(
        "update ops.raw_changes set captured_at = captured_at - interval '1 hour'"
        " where captured_at > now() - interval '1 hour'"
    )
    from orchestration.schedules import TICK_RECONCILE_DAYS, tick_run_config

    cli, dagster, checks = [], [], []
    _dbt("run", "--select", MARTS, threads=None)  # watermark after the moved updates
    for _ in range(repeats):
        wall, sql = _dbt(
            "build", "--select", MARTS, threads=None, vars={"reconcile_days": TICK_RECONCILE_DAYS}
        )
        cli.append(wall)
        checks.append(sum(v for k, v in sql.items() if k.startswith("assert_")))
        started = time.perf_counter()
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
            result = runtime.execute_job(
                "tick", asset_selection=ORDER_MART_KEYS, run_config=tick_run_config(False)
            )
        dagster.append(time.perf_counter() - started)
        if not result.success:
            raise RuntimeError(runtime.failure_summary(result))
    # the daily full reconcile (the project's reconcile_days) for comparison
    _, sql = _dbt("test", "--select", MARTS, threads=None)
    return {
        "full_reconcile_checks_sql": round(
            sum(v for k, v in sql.items() if k.startswith("assert_")), 3
        ),
        "dagster_tick_nochange_wall": _median(dagster),
        "dbt_cli_tick_nochange_wall": _median(cli),
        "dagster_run_overhead_wall": round(_median(dagster) - _median(cli), 3),
        "tick_reconcile_checks_sql": _median(checks),
    }


if __name__ == "__main__":
    print(json.dumps(run(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0), indent=2))
