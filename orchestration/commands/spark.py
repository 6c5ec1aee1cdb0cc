"""The Spark engine's commands (TALLY_ENGINE=spark, docs/scale-out.md).

* ``tally spark load``: the generator's raw rows and change feed, copied to Spark.
* ``tally run`` / ``tick`` / ``backfill`` / ``rebuild`` branch here on Spark: each is one
  dbt invocation of the marts tagged ``spark``, with the same run parameters the
  PostgreSQL jobs pass (TALLY_RUN_VARS), and a failure is one line.

Not yet on Spark: these commands do not go through Dagster (its asset checks and
partition status read PostgreSQL), so Spark runs do not show in the UI.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date

from orchestration import db as dbmod
from orchestration import engine, runtime
from orchestration.errors import TallyError

#: the domains with marts on Spark (tag `spark`); the other domains are PostgreSQL-only
SPARK_DOMAINS = ("orders", "commerce")
#: the incremental marts (bucket_replace); the other Spark marts are tables rebuilt whole
INCREMENTAL = "tag:spark,tag:sliding_window"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("spark", help="the Spark engine: copy the generator's raw rows to Spark")
    p.add_argument("action", choices=["load"], help="load: raw.* and the change feed -> Spark")
    p.add_argument(
        "--domains",
        default=",".join(SPARK_DOMAINS),
        help="comma-separated domains whose raw tables to copy (default: the domains with "
        "marts on Spark)",
    )
    p.set_defaults(handler=cmd_spark)


def cmd_spark(args: argparse.Namespace) -> int:
    engine.require_spark()
    load([d.strip() for d in args.domains.split(",") if d.strip()])
    return 0


def load(domains: list[str]) -> None:
    """Copy raw.* of ``domains`` and the source's change feed to Spark, printing counts."""
    from orchestration import datagen, spark

    try:
        tables = datagen.raw_tables(domains)
    except datagen.DatagenError as exc:
        raise TallyError(str(exc)) from None
    db = dbmod.database()
    engine.export_spark_env(dbmod.tally_home(), dbmod.PROJECT_ROOT)
    started = time.perf_counter()
    with db.connect() as conn:
        captured = conn.execute("select to_regclass('ops.raw_changes') is not null").fetchone()[0]
    if not captured:
        # the demo source (PostgreSQL) keeps its change feed with triggers: install them
        # once, so that later updates and deletions reach Spark's raw.raw_changes
        from orchestration.manifest import TARGET_DIR, run_dbt

        os.environ.update(db.dbt_env())
        run_dbt(
            ["run-operation", "install_change_capture", "--target", "postgres"],
            capture=True,
            target_path=TARGET_DIR / "source-capture",  # its own: the manifest stays
        )
        print("installed the change capture of the source's raw tables (PostgreSQL triggers)")
    log_path = dbmod.private_dir(dbmod.tally_home() / "logs") / "spark-load.log"
    with runtime.redirect_output(log_path):  # the JVM's start-up lines go to the log
        counts = spark.load_raw(db, tables)
    for name, n in sorted(counts.items()):
        print(f"  {name:<28} {n:>12,}")
    print(
        f"copied {sum(counts.values()):,} rows to Spark ({os.environ['TALLY_SPARK_HOME']}) "
        f"in {time.perf_counter() - started:.1f} s"
    )


def require_domain(domain: str | None) -> None:
    if domain is not None and domain not in SPARK_DOMAINS:
        raise TallyError(
            f"the {domain} marts are PostgreSQL-only on this release; on Spark: "
            f"{', '.join(SPARK_DOMAINS)} (docs/scale-out.md)"
        )


def domain_selection(selection: str, domain: str | None) -> str:
    """``selection`` (a dbt selector of intersected methods) within ``domain``'s marts."""
    return selection if domain is None else f"{selection},path:models/marts/{domain}"


def build(
    what: str, run_vars: dict | None = None, *, full: bool = False, selection: str = "tag:spark"
) -> float:
    """One dbt invocation of the Spark marts of ``selection`` (with their views when
    ``full``); seconds. A failure is one line: the first failing model and the first line
    of its error."""
    runtime.activate()
    if full:
        selection = f"+{selection}"
    since, started = time.time() - 1, time.perf_counter()
    proc = runtime.run_dbt(
        ["run", "--select", selection], check=False, capture=True, run_vars=run_vars
    )
    if proc.returncode != 0:
        failures = runtime.dbt_failures(since)
        cause = (
            f"{failures[0][1]}: {failures[0][2]}" if failures else "dbt stopped before any model"
        )
        raise TallyError(f"{what} on Spark failed: {cause} (full log: logs/dbt.log)")
    return time.perf_counter() - started


def run() -> int:
    """`tally run` on Spark: demo data in the source when it is empty, copy it to Spark,
    build every Spark mart."""
    engine.require_spark()
    runtime.demo_data_if_empty(runtime.activate(), SPARK_DOMAINS)
    load(list(SPARK_DOMAINS))
    seconds = build("the build", full=True)
    print(f"built the Spark marts (tag spark) in {seconds:.1f} s")
    return 0


def tick() -> int:
    """Every Spark mart: a tick of the incremental ones, and the tables rebuilt whole
    (agg_sending_stats_30d: on PostgreSQL Dagster's schedule refreshes it; Spark runs do
    not go through Dagster yet)."""
    engine.require_spark()
    seconds = build("the tick")
    print(f"tick done on Spark in {seconds:.1f} s")
    return 0


def backfill(start: date, end: date, domain: str | None) -> int:
    """The incremental Spark marts (of ``domain``), exactly those days."""
    engine.require_spark()
    require_domain(domain)
    seconds = build(
        "the backfill",
        {"window_start": start.isoformat(), "window_end": end.isoformat()},
        selection=domain_selection(INCREMENTAL, domain),
    )
    days = (end - start).days + 1
    which = f"the {domain} marts" if domain else "the Spark marts"
    print(f"backfilled {days} local days of {which} in {seconds:.1f} s (one dbt invocation)")
    return 0


def rebuild(org: int, campaign: int | None) -> int:
    """The order marts of one organization (its tenant: the commerce marts' tenants are
    shops, rebuilt by a tick when their integration date moves)."""
    engine.require_spark()
    scope = {"rebuild_organization_id": org}
    if campaign is not None:
        scope["rebuild_campaign_id"] = campaign
    seconds = build("the rebuild", scope, selection=domain_selection(INCREMENTAL, "orders"))
    print(f"rebuilt organization {org} on Spark in {seconds:.1f} s (every day of the organization)")
    return 0
