"""The order day marts on Spark and on PostgreSQL, in one run (issue 19, docs/scale-out.md).

    .venv/bin/python -m bench --only spark --scale 10    # scale 10 ~ 1M attributions

Uses the database Tally resolves and REPLACES its raw orders data; the Spark warehouse
is $TALLY_HOME/spark. The two marts (`agg_order_daily`, `agg_order_customer_daily`) are
built and ticked by the same dbt project on both engines, one engine at a time:

* full build: `dbt run --full-refresh` of the two marts (2 samples; every figure is
  the median - here the mean - of 2);
* no-change tick, and ticks after 5,000 late updates spread over the whole history
  (every partition affected) or over 5 local days 10-14 days back (a few partitions);
* at two history lengths: 420 days, then the newer 210 days (the older half deleted
  and both engines rebuilt).

Every figure is the models' execution time from dbt's run_results.json (the SQL), with
the dbt invocation's wall time beside it (on Spark it includes the JVM's start). Ticks
run with watermark lag 0 (otherwise every tick re-reads the previous round's changes).
Copying the source to Spark (`tally spark load`) before each Spark tick is reported on
its own and is in no tick figure: in production raw lands in the lake by itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

from orchestration import datagen, engine, runtime
from orchestration.db import PROJECT_ROOT

MARTS = ("agg_order_daily", "agg_order_customer_daily")
# label -> (late updates, where): everywhere in the history, or 5 days 10-14 days back
TICKS = {
    "nochange": (0, None),
    "late5k_all_days": (5000, None),
    "late5k_5_days": (5000, (10, 14)),
}
LAG0 = {"watermark_lag_minutes": 0}
# the raw tables the two marts read (campaigns and recipients are not copied each time)
SOURCES = ("organizations", "attributions")


@contextlib.contextmanager
def _engine(name: str):
    saved = os.environ.get("TALLY_ENGINE")
    os.environ["TALLY_ENGINE"] = name
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("TALLY_ENGINE", None)
        else:
            os.environ["TALLY_ENGINE"] = saved


def _target(name: str) -> Path:
    return PROJECT_ROOT / ("target" if name == "postgres" else "target/spark")


def _dbt(name: str, *args: str, vars: dict | None = None) -> tuple[float, float]:
    """(wall, the two marts' summed execution time) of one dbt invocation on ``name``."""
    target = _target(name)
    with _engine(name):
        started = time.perf_counter()
        runtime.run_dbt(
            [*args, "--threads", "1"],
            capture=True,
            quiet=True,
            target_path=target,
            run_vars=vars or {},
        )
        wall = time.perf_counter() - started
    results = json.loads((target / "run_results.json").read_text())["results"]
    sql = sum(r["execution_time"] for r in results if r["unique_id"].split(".")[-1] in MARTS)
    return wall, sql


def _median(xs: list[float]) -> float:
    return round(statistics.median(xs), 3)


def _late_updates(conn, n: int, days: tuple[int, int] | None, seed: float) -> int:
    """``n`` rows drawn uniformly (from the whole table, or from the local-ish days
    ``days`` back), their order_value bumped; how many."""
    where = (
        "true"
        if days is None
        else (
            f"ordered_at >= now() - interval '{days[1] + 1} days' and ordered_at < now() - interval '{days[0]} days'"
        )
    )
    total = conn.execute(f"select count(*) from raw.attributions where {where}").fetchone()[0]
    conn.execute("select setseed(%s)", (seed,))
    cur = conn.execute(
        "update raw.attributions set order_value = order_value + 0.01, updated_at = now()"
        f" where id in (select id from raw.attributions where {where} and random() < %s)",
        (n / max(total, 1),),
    )
    return cur.rowcount


def _load(db) -> float:
    from orchestration import spark

    started = time.perf_counter()
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        spark.load_raw(db, SOURCES)
    return time.perf_counter() - started


def _history(db, conn, label: str, repeats: int) -> dict:
    out: dict[str, list[float]] = {}

    def add(key: str, value: float) -> None:
        out.setdefault(key, []).append(value)

    add("load_s", _load(db))
    selection = ["--select", *MARTS]
    for name in ("postgres", "spark"):
        for _ in range(repeats):
            wall, sql = _dbt(name, "run", *selection, "--full-refresh")
            add(f"{name}_full_sql", sql)
            add(f"{name}_full_wall", wall)
            print(f"[spark] {label} full {name}: {sql:.1f} s SQL, {wall:.1f} s wall", flush=True)
        _dbt(name, "run", *selection, vars=LAG0)  # the first tick after a full build
    for i in range(repeats):
        for tick, (updates, days) in TICKS.items():
            if updates:
                add(f"{tick}_rows", _late_updates(conn, updates, days, 0.1 * (i + 1)))
                add("load_s", _load(db))
            for name in ("postgres", "spark"):
                wall, sql = _dbt(name, "run", *selection, vars=LAG0)
                add(f"{name}_{tick}_sql", sql)
                add(f"{name}_{tick}_wall", wall)
                print(
                    f"[spark] {label} {tick} {name}: {sql:.1f} s SQL, {wall:.1f} s wall", flush=True
                )
            affected = _spark_affected_days() if tick != "nochange" else None
            if affected is not None:
                add(f"spark_{tick}_affected_days", affected)
    figures = {f"{label}_{k}": _median(v) for k, v in out.items()}
    for name in ("postgres", "spark"):
        full = figures[f"{label}_{name}_full_sql"]
        for tick in TICKS:
            figures[f"{label}_{name}_{tick}_vs_full_pct"] = round(
                100 * figures[f"{label}_{name}_{tick}_sql"] / full, 1
            )
    return figures


def _spark_affected_days() -> float | None:
    """Distinct local days in the last Spark run's affected set of agg_order_daily."""
    from orchestration import spark

    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), spark.session() as s:
        rows = s.sql(
            "select count(distinct day_bucket) from marts_internal.agg_order_daily__affected"
        ).collect()
    return float(rows[0][0]) if rows else None


def run(scale: float, repeats: int = 2) -> dict:
    engine.require_spark()
    db = runtime.activate()  # also the Spark warehouse's environment
    figures: dict = {"scale": scale, "samples": repeats}
    with db.connect() as conn:
        counts = datagen.generate(conn, scale=scale, seed=42, force=True, domains=["orders"])
        figures["attributions"] = counts["attributions"]
    # PostgreSQL: the views and the change capture (the source's feed to Spark) first
    _dbt("postgres", "run", "--select", f"+{MARTS[0]}", f"+{MARTS[1]}", "--full-refresh")
    _load(db)
    _dbt("spark", "run", "--select", f"+{MARTS[0]}", f"+{MARTS[1]}", "--full-refresh")
    with db.connect(autocommit=True) as conn:
        figures.update(_history(db, conn, "history420", repeats))
        conn.execute("set tally.capture = 'off'")  # a retention delete, not source activity
        conn.execute("delete from raw.attributions where ordered_at < now() - interval '210 days'")
        conn.execute("reset tally.capture")
        conn.execute("vacuum analyze raw.attributions")
        figures.update(_history(db, conn, "history210", repeats))
    for name in ("postgres", "spark"):
        for tick in ("nochange", "late5k_5_days"):
            long, short = (
                figures[f"history420_{name}_{tick}_sql"],
                figures[f"history210_{name}_{tick}_sql"],
            )
            figures[f"{name}_{tick}_history420_vs_210"] = round(long / short, 2) if short else None
    return figures


if __name__ == "__main__":
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    result = run(scale)
    print(json.dumps(result, indent=2))
