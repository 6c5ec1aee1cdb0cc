"""Support reports (seed 002's read path): counts, sums and averages of a metric per
day / week / month / year, for an account, one of its agents or one of its inboxes.

Two paths, one answer:

* **rollup** - ``marts.agg_support_rollup_daily`` (local days in the account's
  ``reporting_timezone``), summed per period;
* **raw** - ``raw.reporting_events`` aggregated on the fly, used when the request is
  not eligible for the rollup: the account has no (valid) timezone, the requested
  timezone differs from the account's, the metric is a raw event name not in the
  metric registry, the mart is not built yet - or the metric is counted as distinct
  conversations and the grouping is coarser than a day (distinct counts of days do
  not add up to the distinct count of a week, so those are computed exactly from raw).

The result says which path answered and why. Averages are Σsum / Σcount per period
(never a mean of daily averages); periods without events are zero-filled (count 0,
sum 0.0, average None). The reader never builds SQL from user strings: identifiers
come from the whitelists below, values are bound parameters.
"""

from __future__ import annotations

import calendar
import contextlib
from dataclasses import dataclass, field
from datetime import date, timedelta

import psycopg

from orchestration.db import Database
from orchestration.errors import TallyError
from orchestration.reader.connection import reader_connection

GROUP_BYS: tuple[str, ...] = ("day", "week", "month", "year")
DIMENSIONS: tuple[str, ...] = ("account", "agent", "inbox")
WEEK_STARTS: dict[str, int] = {  # ISO day numbers
    "monday": 1,
    "tuesday": 2,
    "wednesday": 3,
    "thursday": 4,
    "friday": 5,
    "saturday": 6,
    "sunday": 7,
}
MAX_DAYS = 5 * 366

# --------------------------------------------------------------------------- SQL (constants)

_PERIOD = {
    "day": "{d}",
    "week": "({d} - cast(((extract(isodow from {d}))::int - %(week_start)s + 7) %% 7 as int))",
    "month": "cast(date_trunc('month', {d}) as date)",
    "year": "cast(date_trunc('year', {d}) as date)",
}
_SUM_COLUMN = {False: "sum_value", True: "sum_value_business_hours"}
_RAW_VALUE = {False: "e.value", True: "e.value_in_business_hours"}
_RAW_DIMENSION = {
    "account": "",
    "agent": "and e.user_id = %(dimension_id)s",
    "inbox": "and e.inbox_id = %(dimension_id)s",
}

_ROLLUP_SQL = """
    select {period} as period_start, sum(r.count) as count, sum(r.{sum_column}) as sum
    from marts.agg_support_rollup_daily as r
    where r.account_id = %(account_id)s
        and r.dimension_type = %(dimension)s
        and r.dimension_id = %(dimension_id)s
        and r.metric = %(metric)s
        and r.day_bucket between %(start)s and %(end)s
    group by 1
"""

_RAW_SQL = """
    with ev as (
        select
            cast(e.created_at at time zone %(tz)s as date) as d,
            e.conversation_id,
            {value} as value
        from raw.reporting_events as e
        where e.account_id = %(account_id)s
            and e.name = any(%(event_names)s)
            and e.created_at >= (cast(%(start)s as date)::timestamp at time zone %(tz)s)
            and e.created_at < ((cast(%(end)s as date) + 1)::timestamp at time zone %(tz)s)
            {dimension_filter}
    )
    select {period} as period_start, {count} as count, {sum} as sum
    from ev
    group by 1
"""
_RAW_COUNT = {
    "events": ("count(*)", "coalesce(sum(ev.value), 0)"),
    "distinct_conversations": ("count(distinct ev.conversation_id)", "0"),
}


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class SupportPeriod:
    """One period: its first local day, the event (or conversation) count and sum."""

    period_start: date
    count: int
    sum: float
    average: float | None  # sum / count; None when count is 0


@dataclass(frozen=True)
class SupportReport:
    account_id: int
    metric: str
    dimension: str
    dimension_id: int
    group_by: str
    start: date
    end: date
    timezone: str
    business_hours: bool
    week_start: str
    source: str  # 'rollup' | 'raw'
    fallback_reason: str | None
    periods: list[SupportPeriod] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(p.count for p in self.periods)

    @property
    def sum(self) -> float:
        return float(sum(p.sum for p in self.periods))

    @property
    def average(self) -> float | None:
        """Σsum / Σcount over the whole range (never a mean of period averages)."""
        return self.sum / self.count if self.count else None


@dataclass(frozen=True)
class _Metric:
    name: str
    event_names: list[str]
    count_kind: str  # 'events' | 'distinct_conversations'
    registered: bool


# --------------------------------------------------------------------------- periods


def period_start(day: date, group_by: str, week_start: str = "sunday") -> date:
    """The first local day of the period holding ``day``."""
    if group_by == "day":
        return day
    if group_by == "week":
        return day - timedelta(days=(day.isoweekday() - WEEK_STARTS[week_start]) % 7)
    if group_by == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def _next_period(start: date, group_by: str) -> date:
    if group_by == "day":
        return start + timedelta(days=1)
    if group_by == "week":
        return start + timedelta(days=7)
    if group_by == "month":
        return start + timedelta(days=calendar.monthrange(start.year, start.month)[1])
    return start.replace(year=start.year + 1)


def periods_between(
    start: date, end: date, group_by: str, week_start: str = "sunday"
) -> list[date]:
    """Every period start from the one holding ``start`` through the one holding ``end``."""
    out, p = [], period_start(start, group_by, week_start)
    while p <= end:
        out.append(p)
        p = _next_period(p, group_by)
    return out


# --------------------------------------------------------------------------- the report


def support_report(
    account_id: int,
    metric: str,
    start: date,
    end: date,
    *,
    group_by: str = "day",
    dimension: str = "account",
    dimension_id: int | None = None,
    business_hours: bool = False,
    timezone: str | None = None,
    week_start: str = "sunday",
    source: str = "auto",
    db: Database | None = None,
    conn: psycopg.Connection | None = None,
) -> SupportReport:
    """A metric per period for an account (or one of its agents / inboxes).

    ``start``/``end`` are local days (inclusive) in ``timezone`` (default: the
    account's reporting timezone, or UTC when it has none). ``source='raw'`` forces
    the raw path (for verification); the default picks the rollup when eligible.
    Pass ``conn`` (an open :func:`reader_connection`, dict rows) to reuse a
    connection across reports; otherwise one is opened and closed per call.
    """
    _check_arguments(start, end, group_by, dimension, week_start, source)
    with contextlib.nullcontext(conn) if conn is not None else reader_connection(db) as conn:
        account_tz = _account_timezone(conn, account_id)
        if timezone is not None and not _valid_zone(conn, timezone):
            raise TallyError(
                f"unknown timezone {timezone!r}; use an IANA name such as 'America/New_York'"
            )
        tz = timezone or account_tz or "UTC"
        dim_id = _dimension_id(conn, account_id, dimension, dimension_id)
        m = _metric(conn, account_id, metric)
        reason = _fallback_reason(conn, account_id, m, account_tz, timezone, group_by, source)
        params = {
            "account_id": account_id,
            "dimension": dimension,
            "dimension_id": dim_id,
            "metric": m.name,
            "event_names": m.event_names,
            "start": start,
            "end": end,
            "tz": tz,
            "week_start": WEEK_STARTS[week_start],
        }
        if reason is None:
            sql = _ROLLUP_SQL.format(
                period=_PERIOD[group_by].format(d="r.day_bucket"),
                sum_column=_SUM_COLUMN[business_hours],
            )
        else:
            count_sql, sum_sql = _RAW_COUNT[m.count_kind]
            sql = _RAW_SQL.format(
                value=_RAW_VALUE[business_hours],
                dimension_filter=_RAW_DIMENSION[dimension],
                period=_PERIOD[group_by].format(d="ev.d"),
                count=count_sql,
                sum=sum_sql,
            )
        rows = conn.execute(sql, params).fetchall()
    found = {r["period_start"]: (int(r["count"] or 0), float(r["sum"] or 0.0)) for r in rows}
    periods = []
    for p in periods_between(start, end, group_by, week_start):
        count, total = found.get(p, (0, 0.0))
        periods.append(SupportPeriod(p, count, total, total / count if count else None))
    return SupportReport(
        account_id=account_id,
        metric=m.name,
        dimension=dimension,
        dimension_id=dim_id,
        group_by=group_by,
        start=start,
        end=end,
        timezone=tz,
        business_hours=business_hours,
        week_start=week_start,
        source="rollup" if reason is None else "raw",
        fallback_reason=reason,
        periods=periods,
    )


def _check_arguments(
    start: date, end: date, group_by: str, dimension: str, week_start: str, source: str
) -> None:
    if group_by not in GROUP_BYS:
        raise TallyError(f"unknown grouping {group_by!r}; choose one of {', '.join(GROUP_BYS)}")
    if dimension not in DIMENSIONS:
        raise TallyError(f"unknown dimension {dimension!r}; choose one of {', '.join(DIMENSIONS)}")
    if week_start not in WEEK_STARTS:
        raise TallyError(f"unknown week start {week_start!r}; use a day name such as 'sunday'")
    if source not in ("auto", "raw"):
        raise TallyError(f"unknown source {source!r}; use 'auto' or 'raw'")
    if end < start:
        raise TallyError(
            f"reversed range: {start} is after {end}; pass a start on or before the end"
        )
    if (end - start).days > MAX_DAYS:
        raise TallyError(f"range {start}..{end} is longer than 5 years; split it")


_ZONES: frozenset[str] | None = None


def _zone_names(conn: psycopg.Connection) -> frozenset[str]:
    """PostgreSQL's IANA zone names (the set staging validates against), read once per
    process: ``pg_timezone_names`` reads the tz database from disk (~15 ms a call)."""
    global _ZONES
    if _ZONES is None:
        rows = conn.execute("select name from pg_catalog.pg_timezone_names").fetchall()
        _ZONES = frozenset(r["name"] for r in rows)
    return _ZONES


def _valid_zone(conn: psycopg.Connection, name: str) -> bool:
    return name in _zone_names(conn)


def _account_timezone(conn: psycopg.Connection, account_id: int) -> str | None:
    """The account's valid reporting timezone, None when unset or invalid."""
    row = conn.execute(
        "select a.reporting_timezone from raw.accounts as a where a.id = %s", (account_id,)
    ).fetchone()
    if row is None:
        raise TallyError(f"account {account_id} does not exist; check the id in raw.accounts")
    tz = row["reporting_timezone"]
    return tz if tz is not None and _valid_zone(conn, tz) else None


def _dimension_id(
    conn: psycopg.Connection, account_id: int, dimension: str, dimension_id: int | None
) -> int:
    if dimension == "account":
        if dimension_id is not None and dimension_id != account_id:
            raise TallyError(
                f"dimension account takes no id other than the account's ({account_id}); "
                "use --dimension agent or inbox for an id"
            )
        return account_id
    if dimension_id is None:
        raise TallyError(f"dimension {dimension} needs an id (--id N)")
    table = {"agent": "raw.agents", "inbox": "raw.inboxes"}[dimension]
    row = conn.execute(f"select account_id from {table} where id = %s", (dimension_id,)).fetchone()
    if row is None:
        raise TallyError(f"{dimension} {dimension_id} does not exist")
    if row["account_id"] != account_id:
        raise TallyError(
            f"{dimension} {dimension_id} belongs to account {row['account_id']}, "
            f"not to account {account_id}"
        )
    return dimension_id


def _metric(conn: psycopg.Connection, account_id: int, metric: str) -> _Metric:
    rows = conn.execute(
        "select event_name, metric, count_kind from reference.metric_registry order by metric"
    ).fetchall()
    registered = [r for r in rows if r["metric"] == metric]
    if registered:
        kinds = {r["count_kind"] for r in registered}
        return _Metric(metric, [r["event_name"] for r in registered], kinds.pop(), True)
    # not a registered metric: a raw event name of this account is read from raw
    exists = conn.execute(
        "select exists (select 1 from raw.reporting_events as e"
        " where e.account_id = %s and e.name = %s) as found",
        (account_id, metric),
    ).fetchone()
    if exists and exists["found"]:
        return _Metric(metric, [metric], "events", False)
    known = ", ".join(sorted({r["metric"] for r in rows}))
    raise TallyError(f"unknown metric {metric!r}; choose one of {known} (or a raw event name)")


def _fallback_reason(
    conn: psycopg.Connection,
    account_id: int,
    m: _Metric,
    account_tz: str | None,
    timezone: str | None,
    group_by: str,
    source: str,
) -> str | None:
    """Why the raw path answers, or None when the rollup does."""
    if source == "raw":
        return "raw path requested"
    if not m.registered:
        return f"metric {m.name!r} is not in the metric registry"
    if account_tz is None:
        return "the account has no valid reporting timezone (not rolled up)"
    if timezone is not None and timezone != account_tz:
        return f"requested timezone {timezone} differs from the account's {account_tz}"
    if m.count_kind == "distinct_conversations" and group_by != "day":
        return f"{m.name} counts distinct conversations, which do not add up over a {group_by}"
    row = conn.execute(
        "select to_regclass('marts.agg_support_rollup_daily') is not null as built"
    ).fetchone()
    if not row or not row["built"]:
        return "the rollup is not built yet"
    # rows carry no timezone: the mart's post-hook records the one each account was last
    # rebuilt in; until the sensor (or the tick) rebuilds the account, raw answers
    built = conn.execute(
        "select pr.tenant_version from ops.aggregation_progress as pr"
        " where pr.mart = 'agg_support_rollup_daily' and pr.tenant_id = %s",
        (account_id,),
    ).fetchone()
    if built is None or built["tenant_version"] != account_tz:
        return f"the rollup is not yet rebuilt in the account's timezone {account_tz}"
    return None
