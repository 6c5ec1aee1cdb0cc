"""Health checks: is every mart there, fresh, and recently refreshed? (`tally health`)

One flat list of :class:`Check` rows, printed as one table:

* ``rows``        per mart: the relation exists (else ``missing``) and how many rows it holds
                  (``warn`` when empty).
* ``data-age``    per mart: age of ``max(last_updated)`` against its refresh interval.
* ``last-run``    per mart: age of the last successful refresh - ``ops.mart_runs`` (written
                  by every sliding-window run) or, for the other marts, Dagster's latest
                  materialization of the asset ``marts/<name>``.
* ``source``      per raw table with a dbt freshness rule: ``max(loaded_at_field)`` against
                  the rule's ``warn_after``/``error_after`` - the same computation as
                  ``dbt source freshness``, read from the manifest, without a dbt process.
* ``watermark``   per incremental mart that failed in every run since its watermark
                  (``ops.model_failures``, written by dbt's on-run-end hook, against
                  ``ops.aggregation_progress``): ``failing`` once the oldest of those failures
                  is one tick interval old (``TALLY_STALL_AFTER_MINUTES``, default 15), with
                  the mart's error; ``warn`` before that (the next tick retries it).
* ``raw-index``   per index or statistics object of Tally's raw contract
                  (orchestration/raw_contract.py) that is missing or invalid: ``failing``,
                  naming it and ``tally db migrate``; one ``ok`` row when all are there
                  (none when no raw table exists).
* ``asset-check`` per dbt test whose latest Dagster evaluation did not pass (the marts'
                  ``*_not_stalled`` checks are left to the live ``watermark`` row: a tick
                  evaluates them before it runs the mart).
* ``internal``    per declared internal relation (docs/contract.md) that does not exist:
                  ``missing`` (its mart cannot tick without it); no row when it exists.

Marts are discovered, not listed: every dbt model whose schema is ``marts`` (manifest)
plus every table/view/materialized view in schema ``marts`` (pg_catalog) that is not a
helper table of a manifest mart (``<mart>_...``). The side tables the marts' hooks keep
live in schema ``marts_internal`` (docs/contract.md) and are not marts (an ``internal``
row only says when one is missing). A mart's
refresh interval is ``meta.tally.refresh_interval`` (e.g. ``"1 day"``) when its yml sets
it, else a default from how it is refreshed (see :func:`refresh_interval`). It is stale
after ``meta.tally.stale_after`` or, by default, two intervals (one missed refresh is
tolerated, two are not).

Exit status (``tally health``): 1 when any row is ``stale``, ``failing`` or ``missing``,
else 0; ``warn`` rows do not fail.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from orchestration import raw_contract

OK, WARN, STALE, FAILING, MISSING = "ok", "warn", "stale", "failing", "missing"
BAD = frozenset({STALE, FAILING, MISSING})
_ORDER = {MISSING: 0, FAILING: 1, STALE: 2, WARN: 3, OK: 4}

# Defaults when a mart's yml sets no meta.tally.refresh_interval (see refresh_interval()).
TICK_INTERVAL = timedelta(minutes=15)
# A mart failing in every run for this long is stalled (also read by the dbt test
# tally.mart_not_stalled); the tick interval unless the environment says otherwise.
STALL_AFTER_ENV = "TALLY_STALL_AFTER_MINUTES"
STALL_CHECK_SUFFIX = "_not_stalled"
DEFAULT_INTERVAL = timedelta(days=1)
_DBT_TEMP = re.compile(r"__dbt_(tmp|backup)$")
INTERNAL_SCHEMA = "marts_internal"  # tally.internal_schema(); docs/contract.md
_UNITS = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
}


@dataclass(frozen=True)
class Check:
    """One row of the health table."""

    check: str
    target: str
    status: str
    value: str = ""
    limit: str = ""
    detail: str = ""

    @property
    def bad(self) -> bool:
        return self.status in BAD


@dataclass(frozen=True)
class Mart:
    """A mart to check: where it comes from and how often it should be refreshed."""

    name: str
    domain: str = ""
    interval: timedelta = DEFAULT_INTERVAL
    stale_after: timedelta = 2 * DEFAULT_INTERVAL
    in_manifest: bool = True


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def healthy(self) -> bool:
        return not any(c.bad for c in self.checks)

    @property
    def exit_code(self) -> int:
        return 0 if self.healthy else 1

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.checks:
            out[c.status] = out.get(c.status, 0) + 1
        return out

    def to_json(self) -> str:
        return json.dumps(
            {
                "checked_at": self.checked_at.isoformat(),
                "healthy": self.healthy,
                "counts": self.counts(),
                "checks": [asdict(c) for c in self.checks],
            },
            indent=2,
        )

    def table(self) -> str:
        headers = ("CHECK", "TARGET", "STATUS", "VALUE", "LIMIT", "DETAIL")
        rows = [
            (c.check, c.target, c.status.upper(), c.value, c.limit, c.detail) for c in self.checks
        ]
        widths = [
            max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
            for i, h in enumerate(headers)
        ]
        lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
        lines.append("  ".join("-" * w for w in widths))
        lines += [
            "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows
        ]
        summary = ", ".join(
            f"{n} {s}" for s, n in sorted(self.counts().items(), key=lambda kv: _ORDER[kv[0]])
        )
        verdict = "healthy" if self.healthy else "UNHEALTHY"
        lines.append(f"\n{verdict}: {summary or 'nothing to check'}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- intervals


def parse_interval(text: str) -> timedelta:
    """'15 minutes', '1 hour', '7 days', '2 weeks' -> timedelta (ValueError otherwise)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-z]+?)s?\s*", str(text).lower())
    if not m or m.group(2) not in _UNITS:
        raise ValueError(f"not an interval: {text!r} (use e.g. '15 minutes', '1 day')")
    return float(m.group(1)) * _UNITS[m.group(2)]


def human(td: timedelta | None) -> str:
    """A compact age: 42s, 17m, 5.2h, 3.1d."""
    if td is None:
        return "never"
    s = td.total_seconds()
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s:.0f}s"
    if s < 7200:
        return f"{s / 60:.0f}m"
    if s < 2 * 86400:
        return f"{s / 3600:.1f}h"
    return f"{s / 86400:.1f}d"


def span(td: timedelta) -> str:
    """A configured interval, exactly: 15m, 1h, 1d, 14d."""
    s = int(td.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size and s % size == 0:
            return f"{s // size}{unit}"
    return human(td)


def refresh_interval(name: str, meta: Mapping[str, Any], tags: Iterable[str]) -> timedelta:
    """How often a mart is expected to be refreshed.

    ``meta.tally.refresh_interval`` when set; else: sliding-window marts and materialized
    views (``mv_*``) 15 minutes (the tick / view-refresh schedule), ``*_hourly`` 1 hour,
    ``*_weekly`` and ``*_30d`` 7 days, anything else 1 day.
    """
    tally_meta = (meta or {}).get("tally") or {}
    if tally_meta.get("refresh_interval"):
        return parse_interval(tally_meta["refresh_interval"])
    if "sliding_window" in set(tags or ()) or name.startswith("mv_"):
        return TICK_INTERVAL
    if name.endswith("_hourly"):
        return timedelta(hours=1)
    if name.endswith(("_weekly", "_30d")):
        return timedelta(days=7)
    return DEFAULT_INTERVAL


# --------------------------------------------------------------------------- discovery


def marts_from_manifest(manifest: Mapping[str, Any]) -> list[Mart]:
    """The contract marts: every enabled dbt model of schema ``marts`` (by its relation
    name, the alias when it has one). The internal schema's models are not marts."""
    out = []
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "model" or node.get("schema") != "marts":
            continue
        if not node.get("config", {}).get("enabled", True):
            continue
        out.append(mart_of(node))
    return out


def mart_of(node: Mapping[str, Any]) -> Mart:
    """The :class:`Mart` of a dbt model node (its refresh interval and staleness)."""
    name = node.get("alias") or node["name"]
    meta = node.get("config", {}).get("meta") or node.get("meta") or {}
    interval = refresh_interval(name, meta, node.get("tags", []))
    stale_text = (meta.get("tally") or {}).get("stale_after")
    stale = parse_interval(stale_text) if stale_text else 2 * interval
    fqn = node.get("fqn", [])
    domain = fqn[2] if len(fqn) > 3 else ""
    return Mart(name, domain, interval, stale)


def marts_in_database(conn: psycopg.Connection) -> dict[str, str]:
    """Relations in schema marts: name -> kind (table, view, matview)."""
    rows = conn.execute(
        """
        select c.relname, case c.relkind when 'm' then 'matview' when 'v' then 'view' else 'table' end
        from pg_catalog.pg_class as c
        join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
        where n.nspname = 'marts' and c.relkind in ('r', 'p', 'v', 'm')
        """
    ).fetchall()
    return {name: kind for name, kind in rows if not _DBT_TEMP.search(name)}


def helper_of(name: str, marts: Iterable[str]) -> str | None:
    """The mart a relation of schema marts belongs to when it is one of its helper tables
    (``agg_order_running_totals__blocks``, ``metric_snapshots_rank_prefix``: written by the
    mart's hooks in its own transaction, so checked through the mart), else None."""
    owners = [m for m in marts if name.startswith(f"{m}_")]
    return max(owners, key=len) if owners else None


def discover(
    conn: psycopg.Connection, manifest: Mapping[str, Any] | None, domain: str | None = None
) -> tuple[list[Mart], dict[str, str]]:
    """Marts of the manifest plus marts only the database knows (e.g. built outside dbt)."""
    existing = marts_in_database(conn)
    marts = {m.name: m for m in marts_from_manifest(manifest or {})}
    modelled = list(marts)
    for name in existing:
        if name not in marts and helper_of(name, modelled) is None:
            interval = refresh_interval(name, {}, ())
            marts[name] = Mart(name, "", interval, 2 * interval, in_manifest=False)
    selected = [m for m in marts.values() if domain is None or m.domain == domain]
    return sorted(selected, key=lambda m: (m.domain, m.name)), existing


# --------------------------------------------------------------------------- checks


def _columns(conn: psycopg.Connection, name: str) -> set[str]:
    rows = conn.execute(
        """
        select a.attname from pg_catalog.pg_attribute as a
        join pg_catalog.pg_class as c on c.oid = a.attrelid
        join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
        where n.nspname = 'marts' and c.relname = %s and a.attnum > 0 and not a.attisdropped
        """,
        (name,),
    ).fetchall()
    return {r[0] for r in rows}


def check_mart(
    conn: psycopg.Connection,
    mart: Mart,
    kind: str | None,
    now: datetime,
    last_run: datetime | None,
    run_source: str,
    jobs: Sequence[str] = (),
) -> list[Check]:
    target = f"marts.{mart.name}"
    limit = f"{span(mart.stale_after)} (every {span(mart.interval)})"
    if kind is None:
        return [Check("rows", target, MISSING, "-", "", "not built yet: run `tally run`")]
    ident = sql.Identifier("marts", mart.name)
    cols = _columns(conn, mart.name)
    stats = conn.execute(
        sql.SQL("select count(*), {} from {}").format(
            sql.SQL("max(last_updated)" if "last_updated" in cols else "null::timestamptz"), ident
        )
    ).fetchone()
    n_rows, last_updated = (stats[0], stats[1]) if stats else (0, None)
    out = [
        Check(
            "rows", target, OK if n_rows else WARN, f"{n_rows:,}", "> 0", "" if n_rows else "empty"
        )
    ]

    run_age = now - last_run if last_run else None
    run_fresh = run_age is not None and run_age <= mart.stale_after
    if "last_updated" in cols:
        age = now - last_updated if last_updated else None
        if age is not None and age <= mart.stale_after:
            out.append(Check("data-age", target, OK, human(age), limit))
        elif run_fresh:
            out.append(
                Check(
                    "data-age",
                    target,
                    WARN,
                    human(age),
                    limit,
                    "no rows rewritten lately; refreshes are on time",
                )
            )
        else:
            out.append(
                Check(
                    "data-age",
                    target,
                    STALE,
                    human(age),
                    limit,
                    f"max(last_updated) too old; {_how_to_refresh(jobs)}",
                )
            )
    if run_age is None:
        # built outside Dagster and not a sliding-window mart: nothing to judge the runs by
        out.append(
            Check("last-run", target, WARN, "never", limit, f"no run recorded ({run_source})")
        )
    else:
        status = OK if run_fresh else STALE
        detail = run_source if run_fresh else f"{run_source}; {_how_to_refresh(jobs)}"
        out.append(Check("last-run", target, status, human(run_age), limit, detail))
    return out


def last_runs_from_ops(conn: psycopg.Connection) -> dict[str, datetime]:
    if conn.execute("select to_regclass('ops.mart_runs')").fetchone()[0] is None:
        return {}
    rows = conn.execute("select mart, max(finished_at) from ops.mart_runs group by mart").fetchall()
    return dict(rows)


def stall_interval() -> timedelta:
    """How long a mart may fail in every run before it is stalled (one tick interval)."""
    import os

    text = os.environ.get(STALL_AFTER_ENV, "").strip()
    if not text:
        return TICK_INTERVAL
    try:
        minutes = float(text)
    except ValueError:
        minutes = -1
    if minutes < 0:
        from orchestration.errors import TallyError

        raise TallyError(
            f"{STALL_AFTER_ENV}={text!r} is not a number of minutes; unset it or use e.g. 15"
        )
    return timedelta(minutes=minutes)


def check_stalls(
    conn: psycopg.Connection, marts: Iterable[str], now: datetime, after: timedelta
) -> list[Check]:
    """One row per incremental mart that failed in every run since its watermark."""
    if conn.execute(
        "select to_regclass('ops.model_failures') is null"
        " or to_regclass('ops.aggregation_progress') is null"
    ).fetchone()[0]:
        return []
    wanted = set(marts)
    rows = conn.execute(
        """
        with watermarks as (
            select mart, max(watermark) as watermark from ops.aggregation_progress group by mart
        )
        select failures.mart, watermarks.watermark, count(*), min(failures.failed_at),
            (array_agg(failures.error order by failures.failed_at desc))[1]
        from ops.model_failures as failures
        left join watermarks on watermarks.mart = failures.mart
        where failures.failed_at > coalesce(watermarks.watermark, '-infinity')
        group by failures.mart, watermarks.watermark
        order by failures.mart
        """
    ).fetchall()
    out = []
    for mart, watermark, n, first, error in rows:
        if mart not in wanted:
            continue
        target = f"marts.{mart}"
        runs = f"{n} failed run{'s' if n != 1 else ''}"
        value = f"stuck {human(now - watermark)}" if watermark else "never set"
        if now - first >= after:
            since = _when(watermark, now) if watermark else "its first run"
            detail = (
                f"{mart}: watermark stuck since {since} ({runs}): {error}; "
                "fix the cause, then run `tally tick`"
            )
            out.append(Check("watermark", target, FAILING, value, span(after), detail))
        else:
            detail = f"{mart}: failed in the last run ({runs}): {error}; the next tick retries it"
            out.append(Check("watermark", target, WARN, value, span(after), detail))
    return out


def _when(at: datetime, now: datetime) -> str:
    at, now = at.astimezone(UTC), now.astimezone(UTC)
    return f"{at:%H:%M} UTC" if at.date() == now.date() else f"{at:%Y-%m-%d %H:%M} UTC"


def check_sources(
    conn: psycopg.Connection, manifest: Mapping[str, Any], now: datetime, domain: str | None = None
) -> list[Check]:
    """dbt source freshness, computed directly: max(loaded_at_field) vs warn/error_after."""
    out = []
    for src in sorted(
        manifest.get("sources", {}).values(), key=lambda s: (s["schema"], s["identifier"])
    ):
        if domain is not None and src.get("source_name") != f"raw_{domain}":
            continue
        fresh = src.get("freshness") or (src.get("config") or {}).get("freshness")
        field_name = src.get("loaded_at_field")
        if not fresh or not field_name:
            continue
        warn_after, error_after = (
            _period(fresh.get("warn_after")),
            _period(fresh.get("error_after")),
        )
        if warn_after is None and error_after is None:
            continue
        target = f"{src['schema']}.{src['identifier']}"
        limit = " / ".join(
            f"{label} {span(td)}"
            for label, td in (("warn", warn_after), ("error", error_after))
            if td
        )
        if conn.execute("select to_regclass(%s)", (target,)).fetchone()[0] is None:
            out.append(Check("source", target, MISSING, "-", limit, "raw table does not exist"))
            continue
        query = sql.SQL("select max({}) from {}").format(
            sql.Identifier(field_name), sql.Identifier(src["schema"], src["identifier"])
        )
        if fresh.get("filter"):
            query = sql.SQL("{} where {}").format(query, sql.SQL(fresh["filter"]))
        loaded = conn.execute(query).fetchone()[0]
        age = now - loaded if loaded else None
        if age is None:
            out.append(Check("source", target, WARN, "empty", limit, "no rows"))
        elif error_after is not None and age > error_after:
            out.append(
                Check("source", target, STALE, human(age), limit, f"max({field_name}) too old")
            )
        elif warn_after is not None and age > warn_after:
            out.append(Check("source", target, WARN, human(age), limit, f"max({field_name}) old"))
        else:
            out.append(Check("source", target, OK, human(age), limit))
    return out


def check_raw_contract(
    conn: psycopg.Connection, manifest: Mapping[str, Any] | None, domain: str | None = None
) -> list[Check]:
    """One FAILING ``raw-index`` row per declared raw index or statistics object that is
    missing or invalid (naming it and the command that creates it), else one OK row (none
    without raw tables). With ``domain``, the raw tables of source ``raw_<domain>`` only."""
    tables = None
    if domain is not None:
        tables = {
            s["identifier"]
            for s in (manifest or {}).get("sources", {}).values()
            if s.get("source_name") == f"raw_{domain}"
        }
    gaps = raw_contract.missing(conn, tables)
    if not gaps:
        n = raw_contract.present_count(conn, tables)
        return [Check("raw-index", "raw", OK, f"{n} present", "declared")] if n else []
    return [
        Check("raw-index", f"raw.{g.obj.table}", FAILING, g.obj.name, "declared", g.line())
        for g in gaps
    ]


def _period(spec: Mapping[str, Any] | None) -> timedelta | None:
    if not spec or spec.get("count") is None or not spec.get("period"):
        return None
    return parse_interval(f"{spec['count']} {spec['period']}")


def internal_relations(manifest: Mapping[str, Any]) -> dict[str, str]:
    """The relations declared internal (docs/contract.md): name -> the mart that keeps
    it. The tables of source ``tally_internal`` and the models of schema
    ``marts_internal``."""
    out = {}
    for src in manifest.get("sources", {}).values():
        if src.get("source_name") == "tally_internal":
            meta = (src.get("config") or {}).get("meta") or src.get("meta") or {}
            out[src["identifier"]] = (meta.get("tally") or {}).get("owner") or ""
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") == "model" and node.get("schema") == INTERNAL_SCHEMA:
            out[node.get("alias") or node["name"]] = node["name"]
    return out


def check_internal(conn: psycopg.Connection, manifest: Mapping[str, Any]) -> list[Check]:
    """A ``missing`` row per declared internal relation that does not exist (its mart
    cannot tick without it); nothing when all exist - they are not marts."""
    out = []
    for name, owner in sorted(internal_relations(manifest).items()):
        target = f"{INTERNAL_SCHEMA}.{name}"
        if conn.execute("select to_regclass(%s)", (target,)).fetchone()[0] is None:
            fix = f"`tally dbt -- run --full-refresh --select {owner}`" if owner else "`tally run`"
            detail = f"kept by {owner or 'its mart'}: not built yet (`tally run`) or lost ({fix})"
            out.append(Check("internal", target, MISSING, "-", "", detail))
    return out


# --------------------------------------------------------------------------- Dagster


def dagster_state(
    asset_names: Sequence[str], repository: Any, instance: Any = None
) -> tuple[dict[str, datetime], list[Check], str | None]:
    """Latest materialization per mart asset and the asset checks that did not pass.

    ``repository``: the code location's RepositoryDefinition (its asset checks);
    ``instance``: the Dagster instance (default: ``DagsterInstance.get()``, which needs
    runtime.activate). Returns (materialized_at by mart name, failing/warning check rows,
    error or None).
    """
    try:
        from dagster import AssetKey, DagsterInstance

        check_keys = list(repository.asset_graph.asset_check_keys)
        with contextlib.nullcontext(instance) if instance else DagsterInstance.get() as inst:
            materialized: dict[str, datetime] = {}
            for name in asset_names:
                event = inst.get_latest_materialization_event(AssetKey(["marts", name]))
                if event is not None:
                    materialized[name] = datetime.fromtimestamp(event.timestamp, UTC)
            latest = inst.event_log_storage.get_latest_asset_check_execution_by_key(check_keys)
    except Exception as exc:  # any failure here is reported as one row
        return {}, [], f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"

    rows = []
    for key, record in sorted(latest.items(), key=lambda kv: kv[0].to_user_string()):
        if record.status.value != "FAILED":  # the record's status enum is not public API
            continue
        if key.name.endswith(STALL_CHECK_SUFFIX):
            continue  # the live `watermark` row says it (a tick evaluates it before the mart)
        severity = "ERROR"
        evaluation = getattr(
            getattr(record.event, "dagster_event", None), "event_specific_data", None
        )
        if evaluation is not None and getattr(evaluation, "severity", None) is not None:
            severity = evaluation.severity.value
        when = datetime.fromtimestamp(record.create_timestamp, UTC).strftime("%Y-%m-%d %H:%M")
        status = WARN if severity == "WARN" else FAILING
        rows.append(
            Check(
                "asset-check",
                "/".join(key.asset_key.path),
                status,
                key.name,
                "passes",
                f"failed at {when} UTC",
            )
        )
    return materialized, rows, None


def refreshing_jobs(repository: Any) -> dict[str, list[str]]:
    """Mart name -> the Dagster jobs that refresh it (not `materialize_all`), so a stale
    row can say what to run: a mart the tick does not cover (the mv_* views are refreshed
    by platform_view_refresh, not by `tally tick`) names its own job."""
    try:
        out: dict[str, list[str]] = {}
        for job in repository.get_all_jobs():
            if job.name in ("materialize_all", "__ASSET_JOB") or job.name.startswith("__"):
                continue
            for key in job.asset_layer.selected_asset_keys:
                if len(key.path) == 2 and key.path[0] == "marts":
                    out.setdefault(key.path[1], []).append(job.name)
        return out
    except Exception:
        return {}


def _how_to_refresh(jobs: Sequence[str]) -> str:
    if not jobs:
        return "run `tally run`"
    if "tick" in jobs:
        return "run `tally tick`"
    return (
        f"not refreshed by `tally tick`: run the Dagster job {' or '.join(sorted(jobs))} "
        "(its schedule needs the daemon: `tally ui`), or `tally run`"
    )


def stuck_run_checks() -> list[Check]:
    """One FAILING row per Dagster run left STARTED by a process that is gone (or
    running past the maximum runtime): see orchestration/runs.py."""
    try:
        from dagster import DagsterInstance

        from orchestration import runs

        with DagsterInstance.get() as instance:
            stuck = runs.stuck_runs(instance)
    except Exception as exc:  # reported as one row, never raised
        first = str(exc).splitlines()[0] if str(exc) else ""
        return [Check("runs", "dagster", WARN, "-", "", f"cannot list runs: {first}")]
    return [
        Check(
            "run",
            f"{r.job_name} {r.run_id[:8]}",
            FAILING,
            r.status,
            "not stuck",
            f"{r.reason} (started {human(timedelta(seconds=r.age_seconds))} ago); "
            "the next `tally` command marks it failed",
        )
        for r in stuck
    ]


# --------------------------------------------------------------------------- entry point


def load_manifest(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def collect(
    conn: psycopg.Connection,
    manifest: Mapping[str, Any] | None,
    *,
    domain: str | None = None,
    repository: Any = None,
    instance: Any = None,
    now: datetime | None = None,
    stall_after: timedelta | None = None,
) -> Report:
    """Run every check against an open connection; never raises for an unhealthy system.

    ``repository``: the code location (a RepositoryDefinition) whose run history and asset
    checks are read too, from ``instance`` (default: the current one); None reads
    ``ops.mart_runs`` only (``tally health --no-dagster``)."""
    report = Report()
    now = now or conn.execute("select now()").fetchone()[0]
    report.checked_at = now
    if manifest is None:
        report.checks.append(
            Check(
                "manifest",
                "dbt",
                FAILING,
                "-",
                "",
                "cannot read the dbt manifest: `tally dbt -- parse`",
            )
        )
    marts, existing = discover(conn, manifest, domain)
    runs = last_runs_from_ops(conn)
    materialized: dict[str, datetime] = {}
    check_rows: list[Check] = []
    use_dagster = repository is not None and manifest is not None
    if use_dagster:
        materialized, check_rows, error = dagster_state(
            [m.name for m in marts], repository, instance
        )
        if error:
            report.checks.append(
                Check("dagster", "instance", WARN, "-", "", f"cannot read run history: {error}")
            )
    jobs = refreshing_jobs(repository) if use_dagster else {}
    for mart in marts:
        candidates = [
            t for t in (runs.get(mart.name), materialized.get(mart.name)) if t is not None
        ]
        last_run = max(candidates) if candidates else None
        source = "ops.mart_runs" if mart.name in runs else "Dagster materialization"
        report.checks += check_mart(
            conn, mart, existing.get(mart.name), now, last_run, source, jobs.get(mart.name, ())
        )
    if manifest is not None and domain is None:
        report.checks += check_internal(conn, manifest)
    report.checks += check_stalls(
        conn, [m.name for m in marts], now, stall_after or stall_interval()
    )
    if manifest is not None:
        report.checks += check_sources(conn, manifest, now, domain)
    report.checks += check_raw_contract(conn, manifest, domain)
    if domain is not None:
        keep = {f"marts/{m.name}" for m in marts} | {
            f"raw/{s['name']}"
            for s in (manifest or {}).get("sources", {}).values()
            if s.get("source_name") == f"raw_{domain}"
        }
        check_rows = [c for c in check_rows if c.target in keep]
    report.checks += check_rows
    if use_dagster:
        report.checks += stuck_run_checks()
    return report
