"""The snapshot report catalog's query API (seed 001's ``GET /reports/{slug}/run``).

``run_report(slug, window=, date_from=, date_to=, breakdown=, filters=, limit=, offset=)``
reads ``marts.metric_snapshots`` as the read-only ``tally_reader``. What a report
returns is data, not code: ``reference.report_definitions`` says its dimension, its
shape without breakdown (``group_by`` period | dimension), the breakdowns and filters
it accepts and, for ranked reports, the metric it ranks by. So

* volume-by-period - no breakdown / ``period``: one row per bucket (totals over
  sources); ``breakdown="source"``: one row per bucket and source; ``source`` filter.
* status-counts - no breakdown / ``status``: totals per status over the range;
  ``breakdown="period"``: one row per bucket and status; ``status`` filter.
* top-entities - entities ranked by events over the range; ``limit``/``offset``
  paginate and ``total`` counts every ranked entity.

The range selects buckets whose ``bucket_start`` (UTC) lies in ``date_from..date_to``
(inclusive days; a week bucket is in when its Monday is). Results carry the dbt run ids
of the rows read and the report's ``cache_ttl_seconds``; an answer is cached that long
in-process, but never served once a recompute run that covers the range has completed
after it was read. Bad input raises one TallyError naming the field and the allowed
values. SQL is constant; every value is a bound parameter.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC as _UTC
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from orchestration.db import Database, database
from orchestration.errors import TallyError
from orchestration.reader.connection import reader_connection
from orchestration.snapshots.catalog import (
    Catalog,
    ReportDefinition,
    _allowed,
    load_catalog,
    validate_range,
)

MAX_LIMIT = 1000
# A run's finished_at is stamped just before its commit; answers read within this
# margin of a run's end are re-read rather than risk a stale cache entry.
_COMMIT_MARGIN = timedelta(seconds=2)


@dataclass(frozen=True)
class SnapshotRow:
    bucket_start: datetime | None  # None for totals over the range
    dimension_value: str | None  # None for period totals
    metrics: dict[str, int | float]  # stored sums + derived avg_processing_ms
    rank: int | None = None  # ranked reports only (1-based over the whole ranking)


@dataclass(frozen=True)
class SnapshotReport:
    slug: str
    window: str
    date_from: date
    date_to: date
    breakdown: str  # effective shape: period | <dimension_key> | period+<dimension_key>
    dimension_key: str
    filters: dict[str, tuple[str, ...]]
    rows: tuple[SnapshotRow, ...]
    total: int  # rows before pagination
    limit: int | None  # None: the report is not paginated
    offset: int | None
    run_ids: tuple[str, ...]
    cache_ttl_seconds: int
    cached: bool = False


# --------------------------------------------------------------------------- SQL (constants)

_WHERE = """
    report_slug = %(slug)s
    and window_name = %(window)s
    and bucket_start >= %(lo)s
    and bucket_start < %(hi)s
    and (cast(%(values)s as text[]) is null or dimension_value = any(%(values)s))
"""

_SQL_PERIOD = f"""
select bucket_start, null as dimension_value, metric_name, sum(metric_value) as value
from marts.metric_snapshots
where {_WHERE}
group by bucket_start, metric_name
order by bucket_start, metric_name
"""

_SQL_PERIOD_DIMENSION = f"""
select bucket_start, dimension_value, metric_name, sum(metric_value) as value
from marts.metric_snapshots
where {_WHERE}
group by bucket_start, dimension_value, metric_name
order by bucket_start, dimension_value, metric_name
"""

_SQL_DIMENSION = f"""
select null as bucket_start, dimension_value, metric_name, sum(metric_value) as value
from marts.metric_snapshots
where {_WHERE}
group by dimension_value, metric_name
order by dimension_value, metric_name
"""

# One run id per bucket: bucket_replace rewrites a (report, window, bucket) whole in one
# dbt invocation, so every row of a bucket carries the same run_id and one index probe
# (metric_snapshots_metric_idx, index-only) per bucket finds it. Buckets of each window
# in `probe_windows` whose start lies in [lo, hi); run_id is null for a bucket without
# rows.
# For week buckets also whether marts_internal.metric_snapshots_week_check verified this very
# bucket (same run id) equal to the sum of its day buckets.
_SQL_BUCKET_RUNS = """
select
    w.window_name,
    b.bucket_start,
    r.run_id,
    %(verify)s and exists (
        select 1
        from marts_internal.metric_snapshots_week_check as c
        where c.report_slug = %(slug)s
            and c.bucket_start = b.bucket_start
            and c.run_id = r.run_id
    ) as verified
from unnest(cast(%(probe_windows)s as text[])) as w (window_name)
cross join lateral generate_series(
    date_trunc(w.window_name, cast(%(lo)s as timestamptz), 'UTC'),
    cast(%(hi)s as timestamptz) - interval '1 microsecond',
    cast('1 ' || w.window_name as interval),
    'UTC'
) as b (bucket_start)
left join lateral (
    select m.run_id
    from marts.metric_snapshots as m
    where m.report_slug = %(slug)s
        and m.window_name = w.window_name
        and m.metric_name = %(probe_metric)s
        and m.bucket_start = b.bucket_start
    limit 1
) as r on true
where b.bucket_start >= %(lo)s
order by w.window_name, b.bucket_start
"""


def _unnest_parts(name: str) -> str:
    """A CTE `name` (window_name, lo, hi) from the array parameters `name`_windows/_los/_his."""
    return f"""
{name} as (
    select p.window_name, p.lo, p.hi
    from unnest(
        cast(%({name}_windows)s as text[]),
        cast(%({name}_los)s as timestamptz[]),
        cast(%({name}_his)s as timestamptz[])
    ) as p (window_name, lo, hi)
)"""


def _in_parts(name: str) -> str:
    return f"""
    m.report_slug = %(slug)s
    and m.window_name = {name}.window_name
    and m.bucket_start >= {name}.lo
    and m.bucket_start < {name}.hi
    and (cast(%(values)s as text[]) is null or m.dimension_value = any(%(values)s))
"""


# Ranked reports: the rank metric summed per dimension value over `scans` (bucket ranges
# read row by row: index-only range scans of metric_snapshots_metric_idx) plus `terms`
# (+through / -before running totals of whole weeks, two per 13-week block, from
# marts_internal.metric_snapshots_rank_prefix); `present` counts the buckets holding the value, so
# a value is ranked iff it has a row in the range. See _plan().
_RANKED_CTES = f"""
with {_unnest_parts("parts")},

{_unnest_parts("scans")},

terms as (
    select t.bucket_start, t.through, t.sign
    from unnest(
        cast(%(term_buckets)s as timestamptz[]),
        cast(%(term_through)s as boolean[]),
        cast(%(term_signs)s as integer[])
    ) as t (bucket_start, through, sign)
),

ranked as materialized (
    select s.dimension_value, sum(s.score) as score
    from (
        select m.dimension_value, m.metric_value as score, 1 as present
        from scans
        inner join marts.metric_snapshots as m
            on m.metric_name = %(rank_metric)s and {_in_parts("scans")}
        union all
        select
            x.dimension_value,
            terms.sign * case when terms.through then x.score_through else x.score_before end,
            terms.sign * case when terms.through then x.buckets_through else x.buckets_before end
        from terms
        inner join marts_internal.metric_snapshots_rank_prefix as x
            on x.report_slug = %(slug)s
            and x.bucket_start = terms.bucket_start
            and (cast(%(values)s as text[]) is null or x.dimension_value = any(%(values)s))
    ) as s
    group by s.dimension_value
    having sum(s.present) > 0
)"""

# Rank, keep the page (top-N sort), then fetch every metric of the page's dimension
# values only (primary key, one descent per bucket range).
_SQL_RANKED = f"""
{_RANKED_CTES},

page as materialized (
    select ranked.dimension_value, ranked.score
    from ranked
    order by ranked.score desc, ranked.dimension_value
    limit %(limit)s offset %(offset)s
),

ranked_page as (
    select
        page.dimension_value,
        %(offset)s + row_number() over (order by page.score desc, page.dimension_value) as rank
    from page
),

page_metrics as (
    select m.dimension_value, m.metric_name, sum(m.metric_value) as value
    from parts
    inner join marts.metric_snapshots as m
        on {_in_parts("parts")}
        and m.dimension_value = any(array(select page.dimension_value from page))
    group by m.dimension_value, m.metric_name
)

select ranked_page.rank, ranked_page.dimension_value, page_metrics.metric_name,
    page_metrics.value, (select count(*) from ranked) as total
from ranked_page
inner join page_metrics on ranked_page.dimension_value = page_metrics.dimension_value
order by ranked_page.rank, page_metrics.metric_name
"""

_SQL_RANKED_TOTAL = f"""
{_RANKED_CTES}

select count(*) from ranked
"""

# Has a run that covers (report, window, range) completed since `since`?
_SQL_NEWER_RUN = """
select exists (
    select 1
    from ops.recompute_runs as r
    where r.status = 'completed'
        and r.finished_at >= %(since)s
        and cast(date_trunc(%(window)s, r.date_from) as date) <= %(date_to)s
        and r.date_to >= %(date_from)s
        and (cardinality(r.reports) = 0 or %(slug)s = any(r.reports))
        and (cardinality(r.windows) = 0 or %(window)s = any(r.windows))
)
"""

# --------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class _Query:
    report: ReportDefinition
    window: str
    date_from: date
    date_to: date
    shape: str  # period | dimension | period+dimension
    filters: dict[str, tuple[str, ...]]
    limit: int | None
    offset: int | None
    windows: tuple[str, ...] = ()  # every window of the catalog

    @property
    def breakdown(self) -> str:
        key = self.report.dimension_key
        return {"period": "period", "dimension": key, "period+dimension": f"period+{key}"}[
            self.shape
        ]


def _shape(report: ReportDefinition, breakdown: str | None) -> str:
    if breakdown is None or breakdown == "":
        return report.group_by
    if breakdown not in report.supported_breakdowns:
        raise TallyError(
            f"breakdown {breakdown!r} is not allowed for report {report.slug!r} (field breakdown); "
            f"allowed: {_allowed(report.supported_breakdowns)} or none"
        )
    primary = "period" if report.group_by == "period" else report.dimension_key
    return report.group_by if breakdown == primary else "period+dimension"


def _filters(
    report: ReportDefinition, filters: Mapping[str, Any] | None
) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for key, value in (filters or {}).items():
        if key not in report.supported_filters:
            raise TallyError(
                f"filter {key!r} is not supported by report {report.slug!r} (field filters); "
                f"allowed: {_allowed(report.supported_filters)}"
            )
        if key != report.dimension_key:
            raise TallyError(
                f"report {report.slug!r} lists filter {key!r} but stores dimension "
                f"{report.dimension_key!r}; fix seeds/report_definitions.csv"
            )
        values = (value,) if isinstance(value, str) else tuple(value)
        if not values or not all(isinstance(v, str) and v for v in values):
            raise TallyError(f"filter {key!r} needs one or more non-empty strings (field filters)")
        out[key] = tuple(sorted(set(values)))
    return out


def _int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TallyError(f"{field} must be an integer, got {value!r} (field {field})")
    return value


def validate(
    catalog: Catalog,
    slug: str,
    *,
    window: str | None,
    date_from: date | str,
    date_to: date | str,
    breakdown: str | None,
    filters: Mapping[str, Any] | None,
    limit: int,
    offset: int,
) -> _Query:
    report = catalog.report(slug)
    window = window or report.default_window
    if window not in catalog.windows:
        raise TallyError(
            f"window {window!r} is not supported by report {slug!r} (field window); "
            f"allowed: {_allowed(catalog.windows)}"
        )
    first, last = validate_range(date_from, date_to)
    shape = _shape(report, breakdown)
    wanted = _filters(report, filters)
    limit, offset = _int(limit, "limit"), _int(offset, "offset")
    if not 1 <= limit <= MAX_LIMIT:
        raise TallyError(f"limit must be between 1 and {MAX_LIMIT}, got {limit} (field limit)")
    if offset < 0:
        raise TallyError(f"offset must be 0 or more, got {offset} (field offset)")
    ranked = report.rank_metric is not None and shape == "dimension"
    return _Query(
        report,
        window,
        first,
        last,
        shape,
        wanted,
        limit if ranked else None,
        offset if ranked else None,
        tuple(catalog.windows),
    )


# --------------------------------------------------------------------------- reading

_CACHE: dict[tuple, tuple[SnapshotReport, float, datetime]] = {}


def clear_cache() -> None:
    _CACHE.clear()


def _number(value: Any) -> int | float:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _with_derived(metrics: dict[str, int | float]) -> dict[str, int | float]:
    events = metrics.get("events")
    if "processing_ms_sum" in metrics and events:
        metrics["avg_processing_ms"] = metrics["processing_ms_sum"] / events
    return metrics


def _params(q: _Query) -> dict[str, Any]:
    values = q.filters.get(q.report.dimension_key)
    return {
        "slug": q.report.slug,
        "window": q.window,
        "lo": datetime.combine(q.date_from, datetime.min.time()).replace(tzinfo=_UTC),
        "hi": datetime.combine(q.date_to + timedelta(days=1), datetime.min.time()).replace(
            tzinfo=_UTC
        ),
        "values": list(values) if values else None,
        "rank_metric": q.report.rank_metric,
        "limit": q.limit,
        "offset": q.offset,
        "date_from": q.date_from,
        "date_to": q.date_to,
    }


# A ranked report over day buckets reads a week bucket instead of its seven day buckets
# when they are interchangeable: both windows in the catalog, and either all seven days
# present and written by the same run as the week (one dbt invocation computes a week and
# its days from the same raw rows, so the week is their exact sum), or the week verified
# equal to the sum of its days by the run that last replaced it or one of its days
# (marts_internal.metric_snapshots_week_check, same transaction as the rows). Any other week
# (partly outside the range, a week or day recomputed alone after raw changed) is read
# day by day.
_COARSER = {"day": ("week", 7)}


def _parts(
    q: _Query,
    runs: dict[tuple[str, datetime], str | None],
    lo: datetime,
    hi: datetime,
    verified: frozenset[tuple[str, datetime]] = frozenset(),
) -> list[tuple[str, datetime, datetime]]:
    """The (window, lo, hi) bucket ranges whose rows sum to q.window's buckets in [lo, hi);
    `verified`: coarse buckets known to equal the sum of their fine ones."""
    coarse, days = _COARSER.get(q.window, (None, 0))
    parts: list[tuple[str, datetime, datetime]] = []

    def add(window: str, start: datetime, end: datetime) -> None:
        if parts and parts[-1][0] == window and parts[-1][2] == start:
            parts[-1] = (window, parts[-1][1], end)
        elif start < end:
            parts.append((window, start, end))

    cursor = lo
    if coarse is not None and coarse in q.windows:
        for window, start in sorted(k for k in runs if k[0] == coarse):
            run, end = runs[(window, start)], start + timedelta(days=days)
            if run is None or start < cursor or end > hi:
                continue
            fine = [runs.get((q.window, start + timedelta(days=i))) for i in range(days)]
            if all(f == run for f in fine) or (window, start) in verified:
                add(q.window, cursor, start)
                add(coarse, start, end)
                cursor = end
    add(q.window, cursor, hi)
    return parts


# Whole weeks of a ranked report come from the running totals in
# marts_internal.metric_snapshots_rank_prefix: blocks of 13 ISO weeks counted from Monday
# 2001-01-01 (macros/snapshots/snapshot_rank_prefix.sql, snapshot_rank_block).
_BLOCK_EPOCH = datetime(2001, 1, 1, tzinfo=_UTC)
_BLOCK_DAYS = 91


def _block(bucket_start: datetime) -> datetime:
    return _BLOCK_EPOCH + timedelta(
        days=_BLOCK_DAYS * ((bucket_start - _BLOCK_EPOCH).days // _BLOCK_DAYS)
    )


def _plan(
    q: _Query,
    runs: dict[tuple[str, datetime], str | None],
    lo: datetime,
    hi: datetime,
    verified: frozenset[tuple[str, datetime]] = frozenset(),
) -> dict[str, list]:
    """Query parameters of a ranked read: `parts` (every bucket range, for the page's
    metrics), `scans` (the ranges read row by row) and `terms` (running totals that
    replace the week ranges: per block, +through at its last week bucket in the range and
    -before at its first)."""
    parts = _parts(q, runs, lo, hi, verified)
    scans = [p for p in parts if p[0] != "week"]
    weeks = sorted(b for (w, b), run in runs.items() if w == "week" and run is not None)
    first_last: dict[tuple[int, datetime], list[datetime]] = {}
    for i, (window, start, end) in enumerate(parts):
        for bucket in weeks if window == "week" else ():
            if start <= bucket < end:
                span = first_last.setdefault((i, _block(bucket)), [bucket, bucket])
                span[1] = bucket
    terms = [(last, True, 1) for _, last in first_last.values()]
    # nothing precedes a block's first week: its `before` is 0 for every value
    terms += [(first, False, -1) for first, _ in first_last.values() if first != _block(first)]
    return {
        "parts_windows": [p[0] for p in parts],
        "parts_los": [p[1] for p in parts],
        "parts_his": [p[2] for p in parts],
        "scans_windows": [p[0] for p in scans],
        "scans_los": [p[1] for p in scans],
        "scans_his": [p[2] for p in scans],
        "term_buckets": [t[0] for t in terms],
        "term_through": [t[1] for t in terms],
        "term_signs": [t[2] for t in terms],
    }


def _read(conn: psycopg.Connection, q: _Query) -> tuple[list[SnapshotRow], int, list[str]]:
    # a report reads at most ~10^5 index rows: starting parallel workers costs more than
    # it saves (and the arrays of bucket ranges make the planner overestimate the scans)
    conn.execute("set local max_parallel_workers_per_gather = 0")
    params = _params(q)
    coarse = _COARSER.get(q.window, (None,))[0]
    ranked = q.limit is not None
    probe = [q.window] + ([coarse] if ranked and coarse in q.windows else [])
    probed = conn.execute(
        _SQL_BUCKET_RUNS,
        {
            **params,
            "probe_windows": probe,
            "probe_metric": q.report.rank_metric or q.report.metrics[0],
            "verify": len(probe) > 1,
        },
    ).fetchall()
    runs = {(r["window_name"], r["bucket_start"].astimezone(_UTC)): r["run_id"] for r in probed}
    verified = frozenset(
        (r["window_name"], r["bucket_start"].astimezone(_UTC)) for r in probed if r["verified"]
    )
    run_ids = sorted({run for (window, _), run in runs.items() if window == q.window and run})
    rows: dict[tuple, SnapshotRow] = {}
    total: int | None = None
    if ranked:
        params |= _plan(q, runs, params["lo"], params["hi"], verified)
        result = conn.execute(_SQL_RANKED, params).fetchall()
        for r in result:
            key = (r["rank"], r["dimension_value"])
            if key not in rows:
                rows[key] = SnapshotRow(None, r["dimension_value"], {}, int(r["rank"]))
            rows[key].metrics[r["metric_name"]] = _number(r["value"])
            total = int(r["total"])
        if total is None:  # the page is past the end
            total = int(conn.execute(_SQL_RANKED_TOTAL, params).fetchone()["count"])
    else:
        sql = {"period": _SQL_PERIOD, "dimension": _SQL_DIMENSION}.get(
            q.shape, _SQL_PERIOD_DIMENSION
        )
        for r in conn.execute(sql, params).fetchall():
            key = (r["bucket_start"], r["dimension_value"])
            if key not in rows:
                rows[key] = SnapshotRow(r["bucket_start"], r["dimension_value"], {})
            rows[key].metrics[r["metric_name"]] = _number(r["value"])
        total = len(rows)
    out = [dataclasses.replace(row, metrics=_with_derived(row.metrics)) for row in rows.values()]
    return out, total, run_ids


def _newer_run(conn: psycopg.Connection, q: _Query, since: datetime) -> bool:
    params = {**_params(q), "since": since - _COMMIT_MARGIN}
    try:
        return bool(conn.execute(_SQL_NEWER_RUN, params).fetchone()["exists"])
    except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedTable):
        conn.rollback()
        return True  # cannot tell: do not serve the cache


def run_report(
    slug: str,
    *,
    window: str | None = None,
    date_from: date | str,
    date_to: date | str,
    breakdown: str | None = None,
    filters: Mapping[str, Any] | None = None,
    limit: int = 50,
    offset: int = 0,
    db: Database | None = None,
    use_cache: bool = True,
) -> SnapshotReport:
    """Run one catalog report over ``date_from..date_to`` (UTC days, inclusive)."""
    db = db or database()
    with reader_connection(db) as conn:
        try:
            catalog = load_catalog(conn)
        except psycopg.errors.InsufficientPrivilege:
            raise TallyError(
                "tally_reader cannot read the report catalog: run `tally run` first"
            ) from None
        q = validate(
            catalog,
            slug,
            window=window,
            date_from=date_from,
            date_to=date_to,
            breakdown=breakdown,
            filters=filters,
            limit=limit,
            offset=offset,
        )
        key = (
            db.url,
            slug,
            q.window,
            q.date_from,
            q.date_to,
            q.shape,
            tuple(sorted(q.filters.items())),
            q.limit,
            q.offset,
        )
        hit = _CACHE.get(key) if use_cache else None
        if hit is not None:
            report, stored, read_at = hit
            fresh = time.monotonic() - stored < q.report.cache_ttl_seconds
            if fresh and not _newer_run(conn, q, read_at):
                return dataclasses.replace(report, cached=True)
            _CACHE.pop(key, None)
        read_at = conn.execute("select now() as now").fetchone()["now"]
        try:
            rows, total, run_ids = _read(conn, q)
        except psycopg.errors.UndefinedTable:
            raise TallyError(
                "marts.metric_snapshots is not built yet: run `tally run` first"
            ) from None
    report = SnapshotReport(
        slug=slug,
        window=q.window,
        date_from=q.date_from,
        date_to=q.date_to,
        breakdown=q.breakdown,
        dimension_key=q.report.dimension_key,
        filters=q.filters,
        rows=tuple(rows),
        total=total,
        limit=q.limit,
        offset=q.offset,
        run_ids=tuple(run_ids),
        cache_ttl_seconds=q.report.cache_ttl_seconds,
    )
    if use_cache and q.report.cache_ttl_seconds > 0:
        _CACHE[key] = (report, time.monotonic(), read_at)
    return report


def list_reports(db: Database | None = None) -> Sequence[ReportDefinition]:
    """The catalog as the reader sees it (``tally report snapshot --list``)."""
    with reader_connection(db or database()) as conn:
        return list(load_catalog(conn).reports.values())
