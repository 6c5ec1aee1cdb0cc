"""Spark beside dbt: the raw tables on Spark, and a session for reading marts back.

The Spark engine (docs/scale-out.md) reads the same raw contract as PostgreSQL, as Spark
tables in database ``raw``. Here they are filled by the same deterministic generator:
``tally datagen`` writes its rows to PostgreSQL (the demo's source application), and
:func:`load_raw` copies them to Spark, with the source's change feed
(``raw.raw_changes``: the old version of every updated or deleted row, which
PostgreSQL's triggers capture in ``ops.raw_changes``) and the JVM's zone names
(``ops.timezone_names``). A real deployment lands raw in the lake by its own pipeline
and writes the change feed itself: that is the deletion contract.

:func:`session` opens a local Spark with the settings of ``profiles.yml``'s ``spark``
output, rendered as dbt renders them (one source of truth). The metastore is Derby
embedded: one Spark process at a time, so never while dbt runs.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg

from orchestration import engine
from orchestration.db import PROJECT_ROOT, Database, private_dir, tally_home
from orchestration.errors import TallyError

#: PostgreSQL type of a raw column -> its Spark SQL type (jsonb is JSON text on Spark)
SPARK_TYPES = {
    "bigint": "bigint",
    "integer": "int",
    "smallint": "smallint",
    "boolean": "boolean",
    "text": "string",
    "jsonb": "string",
    "timestamp with time zone": "timestamp",
    "date": "date",
    "double precision": "double",
}
NULL = r"\N"
#: the change feed's columns (the deletion contract, docs/scale-out.md)
FEED_COLUMNS = [
    ("table_name", "string"),
    ("operation", "string"),
    ("old_row", "string"),
    ("captured_at", "timestamp"),
]


def spark_conf() -> dict[str, str]:
    """``server_side_parameters`` of profiles.yml's ``spark`` output, env_var() rendered."""
    import jinja2
    import yaml

    profiles = yaml.safe_load((PROJECT_ROOT / "profiles.yml").read_text())
    params = profiles["tally"]["outputs"]["spark"]["server_side_parameters"]

    def env_var(name: str, default: str | None = None) -> str:
        value = os.environ.get(name, default)
        if value is None:
            raise TallyError(f"profiles.yml needs environment variable {name}")
        return value

    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return {str(k): env.from_string(str(v)).render(env_var=env_var) for k, v in params.items()} | {
        "spark.sql.ansi.enabled": "false"
    }  # as dbt-spark sets it


@contextlib.contextmanager
def session() -> Iterator[Any]:
    """A local SparkSession on Tally's warehouse; stopped (metastore released) on exit."""
    engine.require_spark()
    engine.export_spark_env(tally_home(), PROJECT_ROOT)
    private_dir(Path(os.environ["TALLY_SPARK_HOME"]))
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in spark_conf().items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: one line, what to do
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise TallyError(
            f"the Spark session could not start ({first}); check Java 17 and that no other "
            "Spark process holds the metastore (one at a time)"
        ) from None
    spark.sparkContext.setLogLevel("ERROR")
    try:
        yield spark
    finally:
        spark.stop()
        # the JVM outlives stop() and keeps the Derby metastore booted: end it, so that
        # the next Spark process (dbt's) can open the metastore
        from pyspark import SparkContext

        gateway = SparkContext._gateway
        if gateway is not None:
            proc = getattr(gateway, "proc", None)  # the JVM pyspark launched
            with contextlib.suppress(Exception):
                gateway.shutdown()
            if proc is not None:
                proc.terminate()
                with contextlib.suppress(Exception):
                    proc.wait(timeout=30)
            SparkContext._gateway = None
            SparkContext._jvm = None


def raw_columns(conn: psycopg.Connection, table: str) -> list[tuple[str, str]]:
    """(column, Spark type) of raw.<table>, in table order."""
    rows = conn.execute(
        """
        select column_name, data_type, numeric_precision, numeric_scale
        from information_schema.columns
        where table_schema = 'raw' and table_name = %s
        order by ordinal_position
        """,
        (table,),
    ).fetchall()
    out = []
    for name, data_type, precision, scale in rows:
        if data_type == "numeric":
            spark_type = f"decimal({precision or 38},{scale or 0})"
        elif data_type in SPARK_TYPES:
            spark_type = SPARK_TYPES[data_type]
        else:
            raise TallyError(
                f"raw.{table}.{name} has type {data_type}, which the Spark load does not map"
            )
        out.append((name, spark_type))
    return out


def _export(conn: psycopg.Connection, query: str, path: Path) -> int:
    """``query``'s rows as CSV (NULL as \\N, timestamps in UTC) into ``path``; how many."""
    with path.open("wb") as out, conn.cursor() as cur:
        with cur.copy(f"copy ({query}) to stdout with (format csv, null '{NULL}')") as copy:
            for chunk in copy:
                out.write(chunk)
        return cur.rowcount


def _load_csv(
    spark: Any, path: Path, table: str, columns: Sequence[tuple[str, str]], keep: str | None = None
) -> None:
    """Replace Spark table ``table`` with the CSV file's rows, cast to ``columns``' types;
    with ``keep`` (a WHERE condition), also with the table's old rows that match it."""
    frame = spark.read.csv(
        str(path),
        schema=", ".join(f"`{name}` string" for name, _ in columns),
        nullValue=NULL,
        quote='"',
        escape='"',
        multiLine=True,
        mode="FAILFAST",
    )
    view = f"tally_load_{table.replace('.', '_')}"
    frame.createOrReplaceTempView(view)
    casts = ", ".join(f"cast(`{name}` as {spark_type}) as `{name}`" for name, spark_type in columns)
    kept = f"{table}__kept"
    union = ""
    if keep is not None and spark.catalog.tableExists(table):
        # Spark cannot overwrite a table it reads: the kept rows go through a copy
        spark.sql(f"drop table if exists {kept}")
        names = ", ".join(f"`{name}`" for name, _ in columns)
        spark.sql(f"create table {kept} using parquet as select {names} from {table} where {keep}")
        union = f" union all select {names} from {kept}"
    spark.sql(f"drop table if exists {table}")
    spark.sql(f"create table {table} using parquet as select {casts} from {view}{union}")
    spark.sql(f"drop table if exists {kept}")


def load_raw(db: Database, tables: Sequence[str], spark: Any = None) -> dict[str, int]:
    """Copy raw.<tables> and the change feed from PostgreSQL to Spark; row counts.
    The feed's rows of other tables stay: a table and its feed are copied together, so
    a partial load (one domain) never drops the feed of tables it does not copy.
    ``spark``: a session to use (by default one is started, and stopped at the end)."""
    work = private_dir(tally_home() / "spark" / "load")
    counts: dict[str, int] = {}
    wanted = ", ".join(f"'{t}'" for t in tables)
    feed_path = work / "raw_changes.csv"
    with db.connect() as conn:
        conn.execute("set timezone to 'UTC'")
        exports = []
        for table in tables:
            columns = raw_columns(conn, table)
            if not columns:
                raise TallyError(
                    f"raw.{table} does not exist in {db.describe()}: run `tally datagen` first"
                )
            path = work / f"{table}.csv"
            select = ", ".join(f'"{c}"' for c, _ in columns)
            counts[f"raw.{table}"] = _export(conn, f"select {select} from raw.{table}", path)
            exports.append((f"raw.{table}", path, columns))
        feed = conn.execute("select to_regclass('ops.raw_changes') is not null").fetchone()[0]
        if feed:
            counts["raw.raw_changes"] = _export(
                conn,
                "select table_name, operation, old_row::text, captured_at from ops.raw_changes"
                f" where table_name in ({wanted})",
                feed_path,
            )
        else:
            feed_path.write_text("")
            counts["raw.raw_changes"] = 0
    with contextlib.nullcontext(spark) if spark is not None else session() as spark:
        for database in ("raw", "ops"):
            spark.sql(f"create database if not exists {database}")
        for table, path, columns in exports:
            _load_csv(spark, path, table, columns)
        _load_csv(
            spark, feed_path, "raw.raw_changes", FEED_COLUMNS, keep=f"table_name not in ({wanted})"
        )
        zones = sorted(spark.sparkContext._jvm.java.time.ZoneId.getAvailableZoneIds())
        spark.createDataFrame([(z,) for z in zones], "name string").createOrReplaceTempView(
            "tally_zones"
        )
        spark.sql("drop table if exists ops.timezone_names")
        spark.sql("create table ops.timezone_names using parquet as select name from tally_zones")
        counts["ops.timezone_names"] = len(zones)
    for _, path, _ in exports:
        path.unlink(missing_ok=True)
    feed_path.unlink(missing_ok=True)
    return counts
