"""Support backfill of one account (seed 002's BackfillService): the checks, the dry-run
diff and the audit entry, shared by every way a backfill is launched.

``tally backfill --domain support --account N``, a Launchpad or GraphQL run of the
``support_rollup`` job with a partition range and ``backfill_account_id``: all go through
the ``incremental_marts`` op, which calls :func:`prepare` before dbt starts (a bad account
fails the run with the one-line message) and :func:`audit` after it.

The diff runs the mart's own SQL (compiled by dbt for a full build) over the window's
events - no Python copy of the mart's aggregation - and compares it with the stored rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import psycopg

from orchestration.errors import TallyError

MART = "agg_support_rollup_daily"
# the views the mart reads its rows from (reporting events; messages and conversations,
# issue 18) -> the name of the window's rows of each in the diff
_SOURCES = {
    "int_support__events_dimensioned": "window_events",
    "int_support__messages_dimensioned": "window_messages",
    "int_support__conversations_dimensioned": "window_conversations",
}
_ACCOUNTS = "stg_support__accounts"
# the columns tally.lineage_columns() adds to every mart row (which run wrote it, when)
_LINEAGE = ("last_updated", "run_id")

# The window's input: the rows of the accounts' local days start..end, one
# (account_id, created_at) index range scan per account and source view. The mart's own
# compiled SQL (full mode) runs over exactly these rows in place of its source views, so
# `fresh` is what the mart would hold for those days; it is compared key by key with the
# stored rows.
_DIFF_SQL = """
    with acc as (
        select
            a.account_id,
            cast(%(start)s as date)::timestamp at time zone a.timezone as lo,
            (cast(%(end)s as date) + 1)::timestamp at time zone a.timezone as hi
        from {accounts} as a
        where a.timezone is not null
            and (cast(%(account)s as bigint) is null or a.account_id = %(account)s)
    ),

{windows}
    fresh as (
        {mart_sql}
    ),

    stored as (
        select m.*
        from {mart} as m
        inner join acc on m.{tenant} = acc.account_id
        where m.{bucket} between %(start)s and %(end)s
    ),

    compared as (
        select
            fresh.{tenant} is null as is_deleted,
            stored.{tenant} is null as is_inserted,
            {changed} as is_changed
        from fresh
        full outer join stored
            on {join}
    )

    select
        count(*) filter (where is_inserted) as inserted,
        count(*) filter (where is_deleted) as deleted,
        count(*) filter (where not is_inserted and not is_deleted and is_changed) as changed,
        count(*) filter (where not is_inserted and not is_deleted and not is_changed) as unchanged
    from compared
"""


def _compiled_mart() -> tuple[str, str]:
    """The mart's own SQL as dbt compiles it for a full build (``dbt compile
    --full-refresh``: no affected set, every row), and the relation name of each of its
    source views (:data:`_SOURCES`) as it appears in that SQL. Compiled once per manifest version and database,
    kept in ``target/dry_run/`` (a dbt compile costs seconds; the diff itself is one
    SELECT)."""
    import os
    import shutil
    import tempfile
    from pathlib import Path

    from orchestration.manifest import TARGET_DIR, manifest_key, run_dbt

    key = [
        *manifest_key(parse=False),
        os.environ.get("TALLY_PGDATABASE"),
        os.environ.get("TALLY_PGHOST"),
    ]
    cache = TARGET_DIR / "dry_run" / f"{MART}.json"
    try:
        cached = json.loads(cache.read_text())
        if cached["key"] == key:
            return cached["sql"], cached["sources"]
    except (OSError, ValueError, KeyError):
        pass
    scratch = Path(tempfile.mkdtemp(prefix=".dry-run-", dir=TARGET_DIR))
    try:
        saved = TARGET_DIR / "partial_parse.msgpack"
        if saved.exists():
            shutil.copy2(saved, scratch / saved.name)
        run_dbt(
            ["compile", "--select", MART, "--full-refresh"],
            capture=True,
            quiet=True,
            target_path=scratch,
            run_vars={},
        )
        nodes = {
            n["name"]: n
            for n in json.loads((scratch / "manifest.json").read_text())["nodes"].values()
            if n.get("resource_type") == "model"
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    sql = nodes[MART].get("compiled_code") or ""
    sources = {name: nodes[name]["relation_name"] for name in _SOURCES}
    for name in sources.values():
        if name not in sql:
            raise TallyError(
                f"the compiled {MART} does not read {name}; the support dry run "
                "needs updating (orchestration/support/backfill.py)"
            )
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"key": key, "sql": sql, "sources": sources}))
    os.replace(tmp, cache)  # concurrent dry runs: one file or the other, never half
    return sql, sources


_WINDOW_SQL = """
    {cte} as (
        select e.*
        from acc
        cross join lateral (
            select *
            from {relation} as d
            where d.account_id = acc.account_id
                and d.created_at >= acc.lo
                and d.created_at < acc.hi
            offset 0
        ) as e
    ),
"""


def _diff_sql() -> str:
    """The dry-run diff: the mart's compiled SQL over the window's rows, compared
    with the stored rows on the mart's unique key (names from the manifest)."""
    from orchestration.manifest import node, relation

    mart_sql, sources = _compiled_mart()
    for name, compiled in sources.items():
        mart_sql = mart_sql.replace(compiled, _SOURCES[name])
    mart = node(MART, parse=False)
    config = mart["config"]
    key = list(config["unique_key"])
    measures = [(c, v.get("data_type") or "") for c, v in mart["columns"].items()]
    measures = [(c, t) for c, t in measures if c not in key and c not in _LINEAGE]
    changed = []
    for c, data_type in measures:
        if "double" in data_type or "real" in data_type:  # float sums: not bit-exact
            changed.append(
                f"(fresh.{c} is distinct from stored.{c} and not abs(fresh.{c} - stored.{c})"
                f" <= 1e-9 * greatest(1, abs(fresh.{c})))"
            )
        else:
            changed.append(f"fresh.{c} is distinct from stored.{c}")
    return _DIFF_SQL.format(
        accounts=relation(_ACCOUNTS, parse=False),
        windows="".join(
            _WINDOW_SQL.format(cte=cte, relation=relation(name, parse=False))
            for name, cte in _SOURCES.items()
        ),
        mart=relation(MART, parse=False),
        mart_sql=mart_sql,
        tenant=config["sliding_window"]["tenant_id"],
        bucket=config["bucket_column"],
        changed="\n                or ".join(changed) or "false",
        join=" and ".join(f"fresh.{c} = stored.{c}" for c in key),
    )


@dataclass(frozen=True)
class BackfillDiff:
    inserted: int
    deleted: int
    changed: int
    unchanged: int

    def describe(self) -> str:
        return (
            f"{self.inserted:,} inserted, {self.deleted:,} deleted, {self.changed:,} changed, "
            f"{self.unchanged:,} unchanged"
        )


def check_account(conn: psycopg.Connection, account_id: int) -> str:
    """The account's valid timezone, or a one-line TallyError saying what is wrong."""
    row = conn.execute(
        "select a.reporting_timezone, tzn.name from raw.accounts as a"
        " left join pg_catalog.pg_timezone_names as tzn on tzn.name = a.reporting_timezone"
        " where a.id = %s",
        (account_id,),
    ).fetchone()
    if row is None:
        raise TallyError(f"account {account_id} does not exist; check the id in raw.accounts")
    if row[0] is None:
        raise TallyError(
            f"account {account_id} has no reporting_timezone, so it is not rolled up; "
            "set raw.accounts.reporting_timezone first"
        )
    if row[1] is None:
        raise TallyError(
            f"account {account_id} has an invalid reporting_timezone {row[0]!r}; "
            "fix it (IANA name such as 'America/New_York') before backfilling"
        )
    return row[1]


def backfill_diff(conn: psycopg.Connection, account_id: int | None, start, end) -> BackfillDiff:
    """What a backfill of start..end (one account or every account) would change: the
    mart's own compiled SQL run over the window's events, diffed with the stored rows.
    Read-only (one SELECT). The manifest is made fresh once here; the names, key and
    compiled SQL below are read from it as it is."""
    from orchestration.manifest import ensure_manifest, relation

    ensure_manifest()
    names = [relation(n, parse=False) for n in (MART, *_SOURCES)]
    built = conn.execute(
        "select " + " and ".join(["to_regclass(%s) is not null"] * len(names)), names
    ).fetchone()
    if not built or not built[0]:
        raise TallyError("the support rollup is not built yet; run `tally run` first")
    row = conn.execute(_diff_sql(), {"account": account_id, "start": start, "end": end}).fetchone()
    return BackfillDiff(*(int(v or 0) for v in row))


@dataclass(frozen=True)
class Backfill:
    """A validated backfill of one account's local days start..end, with what it changes."""

    account_id: int
    start: str
    end: str
    diff: BackfillDiff

    def audit(self, conn: psycopg.Connection, actor: str, dagster_run_id: str) -> None:
        conn.execute(
            "insert into ops.audit_entries (actor, action, resource_type, resource_id, metadata)"
            " values (%s, 'support.backfill', 'account', %s, %s)",
            (
                actor,
                str(self.account_id),
                json.dumps(
                    {
                        "start": self.start,
                        "end": self.end,
                        "dagster_run_id": dagster_run_id,
                        "inserted": self.diff.inserted,
                        "deleted": self.diff.deleted,
                        "changed": self.diff.changed,
                        "unchanged": self.diff.unchanged,
                    }
                ),
            ),
        )


def prepare(conn: psycopg.Connection, account_id: int, start: str, end: str) -> Backfill:
    """Check the account and compute the diff; a one-line TallyError if it cannot run."""
    check_account(conn, account_id)
    return Backfill(account_id, start, end, backfill_diff(conn, account_id, start, end))
