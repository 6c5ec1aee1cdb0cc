"""Support reports (seed 002's read path): counts, sums and averages of a metric per
day / week / month / year, for an account, one of its agents or one of its inboxes.

Two paths, one answer:

* **rollup** - ``marts.agg_support_rollup_daily`` (local days in the account's
  ``reporting_timezone``), summed per period;
* **raw** - ``raw.reporting_events`` (``raw.messages`` / ``raw.conversations`` for the
  registry's message and conversation metrics) aggregated on the fly, used when the request is
  not eligible for the rollup: the account is switched to read raw
  (``ops.support_read_path``), the grouping is by hour, the account has no (valid)
  timezone, the requested timezone differs from the account's, the metric is a raw event name not in the
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
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import psycopg

from orchestration.db import Database
from orchestration.errors import TallyError
from orchestration.reader.connection import reader_connection

GROUP_BYS: tuple[str, ...] = ("hour", "day", "week", "month", "year")
DIMENSIONS: tuple[str, ...] = ("account", "agent", "inbox", "team", "label")
SUMMARY_DIMENSIONS: tuple[str, ...] = ("agent", "inbox", "team")
# the default summary: Chatwoot's agents / inboxes / teams report page (V2 summary
# builders: conversations_count, resolved_conversations_count, avg_resolution_time,
# avg_first_response_time, avg_reply_time) - all rolled up daily, so one rollup query
# answers it; metrics="all" (or a list) adds the others, e.g. bot_handoffs (distinct
# conversations over the range) and bot_resolutions_excluding_handoffs, from raw
SUMMARY_METRICS: tuple[str, ...] = (
    "conversations_count",
    "resolutions",
    "first_response",
    "reply_time",
)
MAX_HOURLY_DAYS = 31  # hourly reports come from raw: bound the range they may scan
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
    "hour": "{d}",
    "day": "{d}",
    "week": "({d} - cast(((extract(isodow from {d}))::int - %(week_start)s + 7) %% 7 as int))",
    "month": "cast(date_trunc('month', {d}) as date)",
    "year": "cast(date_trunc('year', {d}) as date)",
}
_SUM_COLUMN = {False: "sum_value", True: "sum_value_business_hours"}
_RAW_VALUE = {False: "e.value", True: "e.value_in_business_hours"}
# a conversation carrying the label now (labels change after the fact: raw only)
_HAS_LABEL = """and exists (
                select 1 from raw.conversation_labels as cl
                where cl.conversation_id = {conv} and cl.label_id = %(dimension_id)s
            )"""
# the conversation's (current) team, for reporting events
_IN_TEAM = """and exists (
                select 1 from raw.conversations as tc
                where tc.id = e.conversation_id and tc.account_id = e.account_id
                    and tc.team_id = %(dimension_id)s
            )"""
_RAW_DIMENSION = {
    "account": "",
    "agent": "and e.user_id = %(dimension_id)s",
    "inbox": "and e.inbox_id = %(dimension_id)s",
    "team": _IN_TEAM,
    "label": _HAS_LABEL.format(conv="e.conversation_id"),
}


@dataclass(frozen=True)
class _RawSource:
    """How the raw path reads one raw table (issue 18: messages and conversations)."""

    relation: str  # FROM item, alias e (and c for a message's conversation)
    event_name: str  # SQL: the name the registry's event_name matches
    conversation: str
    values: dict[bool, str]  # business_hours -> value expression
    dimensions: dict[str, str]


_NO_VALUE = {False: "cast(null as double precision)", True: "cast(null as double precision)"}
_RAW_SOURCES: dict[str, _RawSource] = {
    "reporting_events": _RawSource(
        "raw.reporting_events as e", "e.name", "e.conversation_id", _RAW_VALUE, _RAW_DIMENSION
    ),
    # a message counts for its conversation's current assignee and team
    "messages": _RawSource(
        "raw.messages as e left join raw.conversations as c"
        " on c.id = e.conversation_id and c.account_id = e.account_id",
        "'message_' || e.message_type",
        "e.conversation_id",
        _NO_VALUE,
        {
            "account": "",
            "agent": "and c.assignee_id = %(dimension_id)s",
            "inbox": "and e.inbox_id = %(dimension_id)s",
            "team": "and c.team_id = %(dimension_id)s",
            "label": _HAS_LABEL.format(conv="e.conversation_id"),
        },
    ),
    "conversations": _RawSource(
        "raw.conversations as e",
        "'conversation_created'",
        "e.id",
        _NO_VALUE,
        {
            "account": "",
            "agent": "and e.assignee_id = %(dimension_id)s",
            "inbox": "and e.inbox_id = %(dimension_id)s",
            "team": "and e.team_id = %(dimension_id)s",
            "label": _HAS_LABEL.format(conv="e.id"),
        },
    ),
}
# count kind -> the raw table it counts
_KIND_SOURCE = {"messages": "messages", "conversations": "conversations"}

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
            {bucket} as d,
            {conversation} as conversation_id,
            {value} as value
        from {relation}
        where e.account_id = %(account_id)s
            and {event_name} = any(%(event_names)s)
            and e.created_at >= (cast(%(start)s as date)::timestamp at time zone %(tz)s)
            and e.created_at < ((cast(%(end)s as date) + 1)::timestamp at time zone %(tz)s)
            {dimension_filter}
            {exclusion}
    )
    select {period} as period_start, {count} as count, {sum} as sum
    from ev
    group by 1
"""
_RAW_BUCKET = {
    False: "cast(e.created_at at time zone %(tz)s as date)",
    # the hour of the instant in the zone: the repeated hour of a fall-back day is two
    # periods (two instants), the skipped hour of a spring-forward day none
    True: "date_trunc('hour', e.created_at, %(tz)s)",
}
# Chatwoot's :exclude_bot_handoffs: a conversation handed off to a human at any time
HANDOFF_EVENT = "conversation_bot_handoff"
_NO_HANDOFF = f"""not exists (
                select 1 from raw.reporting_events as h
                where h.account_id = e.account_id
                    and h.conversation_id = e.conversation_id
                    and h.name = '{HANDOFF_EVENT}'
            )"""
_RAW_EXCLUSION = {
    "events": "",
    "distinct_conversations": "",
    "events_excluding_bot_handoffs": "and " + _NO_HANDOFF,
    "messages": "",
    "conversations": "",
}
# the count kinds the rollup holds; others are always read from raw
ROLLED_UP_KINDS = ("events", "distinct_conversations", "messages", "conversations")
# the kinds counted from raw.messages / raw.conversations (issue 18)
THREAD_KINDS = ("messages", "conversations")
_RAW_COUNT = {
    "events": ("count(*)", "coalesce(sum(ev.value), 0)"),
    "events_excluding_bot_handoffs": ("count(*)", "coalesce(sum(ev.value), 0)"),
    "distinct_conversations": ("count(distinct ev.conversation_id)", "0"),
    "messages": ("count(*)", "0"),
    "conversations": ("count(*)", "0"),
}


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class SupportPeriod:
    """One period: its first local day (for ``group_by='hour'`` the hour's first
    instant, a datetime in the report's zone), the event (or conversation) count and sum."""

    period_start: date | datetime
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
        reason = _fallback_reason(
            conn, account_id, m, account_tz, timezone, group_by, source, dimension
        )
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
            src = _RAW_SOURCES[_KIND_SOURCE.get(m.count_kind, "reporting_events")]
            sql = _RAW_SQL.format(
                bucket=_RAW_BUCKET[group_by == "hour"],
                relation=src.relation,
                event_name=src.event_name,
                conversation=src.conversation,
                value=src.values[business_hours],
                dimension_filter=src.dimensions[dimension],
                exclusion=_RAW_EXCLUSION[m.count_kind],
                period=_PERIOD[group_by].format(d="ev.d"),
                count=count_sql,
                sum=sum_sql,
            )
        rows = conn.execute(sql, params).fetchall()
    found = {
        _period_key(r["period_start"]): (int(r["count"] or 0), float(r["sum"] or 0.0)) for r in rows
    }
    if group_by == "hour":
        labels = hours_between(start, end, tz)
    else:
        labels = periods_between(start, end, group_by, week_start)
    periods = []
    for p in labels:
        count, total = found.get(_period_key(p), (0, 0.0))
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


def _period_key(p: date | datetime) -> date | datetime:
    """Hours are compared as UTC instants (the database returns them in its session zone)."""
    return p.astimezone(UTC) if isinstance(p, datetime) else p


def hours_between(start: date, end: date, tz: str) -> list[datetime]:
    """Every local hour of the days ``start``..``end`` in ``tz``, as aware datetimes: 23 on a
    spring-forward day, 25 on a fall-back day (the repeated hour twice, by its instant)."""
    zone = ZoneInfo(tz)
    lo = datetime.combine(start, time(), zone).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time(), zone).astimezone(UTC)
    out: list[datetime] = []
    seen: set[datetime] = set()
    t = lo
    while t < hi:  # quarter-hour steps catch zones offset by 30 or 45 minutes
        local = t.astimezone(zone)
        first = local.replace(minute=0, second=0, microsecond=0)
        instant = first.astimezone(UTC)
        if instant not in seen and instant >= lo:
            seen.add(instant)
            out.append(first)
        t += timedelta(minutes=15)
    return out


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
    if group_by == "hour" and (end - start).days + 1 > MAX_HOURLY_DAYS:
        raise TallyError(
            f"hourly range {start}..{end} is {(end - start).days + 1} days, more than "
            f"{MAX_HOURLY_DAYS}; narrow it or group by day"
        )


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
    table = {
        "agent": "raw.agents",
        "inbox": "raw.inboxes",
        "team": "raw.teams",
        "label": "raw.labels",
    }[dimension]
    row = conn.execute(f"select account_id from {table} where id = %s", (dimension_id,)).fetchone()
    if row is None:
        raise TallyError(f"{dimension} {dimension_id} does not exist; check the id in {table}")
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
    dimension: str = "account",
) -> str | None:
    """Why the raw path answers, or None when the rollup does."""
    if source == "raw":
        return "raw path requested"
    if not m.registered:
        return f"metric {m.name!r} is not in the metric registry"
    if dimension == "label":
        return (
            "label reports come from raw: labels change after the fact "
            "(a conversation's current labels, raw.conversation_labels)"
        )

    if m.count_kind not in ROLLED_UP_KINDS:
        return (
            f"{m.name} excludes conversations handed off to a human at any time (a later "
            "handoff changes past days), so it is not rolled up"
        )
    if account_tz is None:
        return "the account has no valid reporting timezone (not rolled up)"
    if timezone is not None and timezone != account_tz:
        return f"requested timezone {timezone} differs from the account's {account_tz}"
    if group_by == "hour":
        return "hourly grouping is answered from raw (the rollup is daily)"
    if m.count_kind == "distinct_conversations" and group_by != "day":
        return f"{m.name} counts distinct conversations, which do not add up over a {group_by}"
    return _rollup_unavailable(conn, account_id, account_tz)


_READ_STATE_SQL = (
    "select to_regclass('marts.agg_support_rollup_daily') is not null as built,"
    " to_regclass('ops.support_read_path') is not null as switchable"
)


def _rollup_unavailable(
    conn: psycopg.Connection, account_id: int, account_tz: str, state: dict | None = None
) -> str | None:
    """Why the account's rollup cannot answer (switch, not built, other timezone), or None.

    ``state``: the row of ``_READ_STATE_SQL`` when the caller read it already (the
    summary folds it into its first query); the switch and the progress are one query."""
    row = state if state is not None else conn.execute(_READ_STATE_SQL).fetchone()
    if not row or not row["built"]:
        if row and row["switchable"]:
            switched = conn.execute(
                "select s.reason from ops.support_read_path as s"
                " where s.account_id = %s and s.read_from = 'raw'",
                (account_id,),
            ).fetchone()
            if switched is not None:
                why = f": {switched['reason']}" if switched["reason"] else ""
                return f"account {account_id} is switched to read raw{why}"
        return "the rollup is not built yet"
    # the per-account read-path switch (`tally support read-path`): raw answers even when
    # the rollup is eligible; the rollup keeps being written. Rows carry no timezone: the
    # mart's post-hook records the one each account was last rebuilt in; until the sensor
    # (or the tick) rebuilds the account, raw answers
    switch = (
        "(select s.reason from ops.support_read_path as s"
        " where s.account_id = %(account_id)s and s.read_from = 'raw')"
        if row["switchable"]
        else "cast(null as text)"
    )
    switched_sql = (
        "exists (select 1 from ops.support_read_path as s"
        " where s.account_id = %(account_id)s and s.read_from = 'raw')"
        if row["switchable"]
        else "false"
    )
    found = conn.execute(
        f"select {switched_sql} as switched, {switch} as reason,"
        " (select pr.tenant_version from ops.aggregation_progress as pr"
        "  where pr.mart = 'agg_support_rollup_daily' and pr.tenant_id = %(account_id)s)"
        " as tenant_version",
        {"account_id": account_id},
    ).fetchone()
    if found["switched"]:
        why = f": {found['reason']}" if found["reason"] else ""
        return f"account {account_id} is switched to read raw{why}"
    if found["tenant_version"] != account_tz:
        return f"the rollup is not yet rebuilt in the account's timezone {account_tz}"
    return None


# --------------------------------------------------------------------------- summary reports

_MEMBER_TABLE = {"agent": "raw.agents", "inbox": "raw.inboxes", "team": "raw.teams"}
_RAW_MEMBER_COLUMN = {
    "agent": "e.user_id",
    "inbox": "e.inbox_id",
    # reporting events carry no team: their conversation's (current) one
    "team": "(select tc.team_id from raw.conversations as tc"
    " where tc.id = e.conversation_id and tc.account_id = e.account_id)",
}
# issue 18: the member of a conversation / a message (through its conversation)
_THREAD_MEMBER_COLUMN = {
    "agent": ("e.assignee_id", "c.assignee_id"),
    "inbox": ("e.inbox_id", "e.inbox_id"),
    "team": ("e.team_id", "c.team_id"),
}

# the account's timezone, the registry (metric -> count kind), the members (ids in order)
# and the read-path state of _READ_STATE_SQL, in one statement
_SUMMARY_FIRST_SQL = """
    select a.reporting_timezone,
        (select json_agg(json_build_array(reg.metric, reg.count_kind) order by reg.metric)
            from (
                select r.metric, min(r.count_kind) as count_kind
                from reference.metric_registry as r group by r.metric
            ) as reg) as registry,
        array(select m.id from {members} as m where m.account_id = a.id order by m.id)
            as members,
        to_regclass('marts.agg_support_rollup_daily') is not null as built,
        to_regclass('ops.support_read_path') is not null as switchable
    from raw.accounts as a
    where a.id = %s
"""

# the members' ids are listed (rows of other ids would be dropped anyway) so that the
# lookup is the primary key's (account, type, member, metric, day range) ranges: without
# them, once the mart is analyzed the planner reads the account's every row of the range
# through (account_id, day_bucket) and filters (scale 20, 10 agents: 21 ms vs 8 ms)
_SUMMARY_ROLLUP_SQL = """
    select r.dimension_id, r.metric, sum(r.count) as count, sum(r.sum_value) as sum,
        sum(r.sum_value_business_hours) as sum_bh
    from marts.agg_support_rollup_daily as r
    where r.account_id = %(account_id)s
        and r.dimension_type = %(dimension)s
        and r.dimension_id = any(%(members)s)
        and r.metric = any(%(metrics)s)
        and r.day_bucket between %(start)s and %(end)s
    group by 1, 2
"""

# every registered metric of every member in one scan of the account's range; distinct
# conversations are counted over the whole range (daily distinct counts do not add up)
_SUMMARY_RAW_SQL = """
    select {member} as dimension_id, reg.metric,
        case when bool_or(reg.count_kind = 'distinct_conversations')
            then count(distinct e.conversation_id) else count(*) end as count,
        case when bool_or(reg.count_kind = 'distinct_conversations')
            then 0 else coalesce(sum(e.value), 0) end as sum,
        case when bool_or(reg.count_kind = 'distinct_conversations')
            then 0 else coalesce(sum(e.value_in_business_hours), 0) end as sum_bh
    from raw.reporting_events as e
    join reference.metric_registry as reg on reg.event_name = e.name
    where e.account_id = %(account_id)s
        and reg.metric = any(%(metrics)s)
        and e.created_at >= (cast(%(start)s as date)::timestamp at time zone %(tz)s)
        and e.created_at < ((cast(%(end)s as date) + 1)::timestamp at time zone %(tz)s)
        and {member} is not null
        and (reg.count_kind <> 'events_excluding_bot_handoffs' or {no_handoff})
    group by 1, 2
"""


# the registry's 'conversations' and 'messages' metrics of every member in one query;
# a branch is read only when one of its metrics is asked (THREAD_BRANCHES)
_SUMMARY_THREADS_RAW_SQL = """
    select t.member as dimension_id, reg.metric, count(*) as count, 0 as sum, 0 as sum_bh
    from (
        {branches}
    ) as t
    join reference.metric_registry as reg
        on reg.event_name = t.event_name and reg.count_kind = t.kind
    where t.member is not null
        and reg.metric = any(%(metrics)s)
    group by 1, 2
"""
_THREAD_BRANCHES = {
    "conversations": """select {conversation_member} as member, 'conversations' as kind,
            'conversation_created' as event_name
        from raw.conversations as e
        where e.account_id = %(account_id)s
            and e.created_at >= (cast(%(start)s as date)::timestamp at time zone %(tz)s)
            and e.created_at < ((cast(%(end)s as date) + 1)::timestamp at time zone %(tz)s)""",
    "messages": """select {message_member} as member, 'messages' as kind,
            'message_' || e.message_type as event_name
        from raw.messages as e
        left join raw.conversations as c
            on c.id = e.conversation_id and c.account_id = e.account_id
        where e.account_id = %(account_id)s
            and e.created_at >= (cast(%(start)s as date)::timestamp at time zone %(tz)s)
            and e.created_at < ((cast(%(end)s as date) + 1)::timestamp at time zone %(tz)s)""",
}


@dataclass(frozen=True)
class SummaryMetric:
    """One metric of one member over the whole range; averages are Σsum / Σcount."""

    count: int
    sum: float
    sum_business_hours: float

    @property
    def average(self) -> float | None:
        return self.sum / self.count if self.count else None

    @property
    def average_business_hours(self) -> float | None:
        return self.sum_business_hours / self.count if self.count else None


@dataclass(frozen=True)
class SummaryMember:
    dimension_id: int
    metrics: dict[str, SummaryMetric]


@dataclass(frozen=True)
class SupportSummary:
    """Every member (agent or inbox) of an account over a range, every registered metric.

    ``sources`` says per metric which path answered: distinct-conversation metrics over
    more than one day are always counted from raw (as :func:`support_report` does)."""

    account_id: int
    dimension: str
    start: date
    end: date
    timezone: str
    source: str  # 'rollup' | 'raw' (the events metrics' path)
    fallback_reason: str | None
    metrics: list[str]
    sources: dict[str, str]
    members: list[SummaryMember]


def support_summary(
    account_id: int,
    dimension: str,
    start: date,
    end: date,
    *,
    timezone: str | None = None,
    metrics: list[str] | str | None = None,
    source: str = "auto",
    db: Database | None = None,
    conn: psycopg.Connection | None = None,
) -> SupportSummary:
    """Chatwoot's agents / inboxes report page: per member of the account, the count,
    sum and average (plain and business hours) of every registered metric over
    ``start``..``end`` (local days). Every member is listed, with zeros when idle.
    ``metrics``: the registered metrics to summarise - default :data:`SUMMARY_METRICS`
    (Chatwoot's agents page, every one from the rollup), ``"all"`` for every registered
    metric, or a list. ``sources`` says which path answered each.

    A fixed number of queries whatever the number of members: one for the account, the
    registry, the members and whether the rollup and the read-path switch exist, one for
    the switch and the account's rollup progress, one grouped rollup query, one grouped
    raw query of reporting events (distinct-conversation and raw-only metrics, or
    everything on the raw path) and, on the raw path, one of conversations and messages.
    The default (Chatwoot's agents page) is three queries on the rollup path.
    """
    if dimension not in SUMMARY_DIMENSIONS:
        raise TallyError(
            f"unknown summary dimension {dimension!r}; choose one of {', '.join(SUMMARY_DIMENSIONS)}"
        )
    _check_arguments(start, end, "day", "account", "sunday", source)
    with contextlib.nullcontext(conn) if conn is not None else reader_connection(db) as conn:
        # the account, the registry, the members and the read-path state: one round trip
        # (under load each round trip waits for the backend to be scheduled)
        first = conn.execute(
            _SUMMARY_FIRST_SQL.format(members=_MEMBER_TABLE[dimension]), (account_id,)
        ).fetchone()
        if first is None:
            raise TallyError(f"account {account_id} does not exist; check the id in raw.accounts")
        account_tz = first["reporting_timezone"]
        if account_tz is not None and not _valid_zone(conn, account_tz):
            account_tz = None
        if timezone is not None and not _valid_zone(conn, timezone):
            raise TallyError(
                f"unknown timezone {timezone!r}; use an IANA name such as 'America/New_York'"
            )
        tz = timezone or account_tz or "UTC"
        kinds = {metric: kind for metric, kind in first["registry"] or []}
        if metrics is None:
            metrics = [m for m in SUMMARY_METRICS if m in kinds]
        if metrics != "all":
            if isinstance(metrics, str):
                metrics = [metrics]
            unknown = sorted(set(metrics) - set(kinds))
            if unknown:
                raise TallyError(f"unknown metric {unknown[0]!r}; choose among {', '.join(kinds)}")
            kinds = {m: k for m, k in kinds.items() if m in metrics}
        members = list(first["members"])
        if source == "raw":
            reason: str | None = "raw path requested"
        elif account_tz is None:
            reason = "the account has no valid reporting timezone (not rolled up)"
        elif timezone is not None and timezone != account_tz:
            reason = f"requested timezone {timezone} differs from the account's {account_tz}"
        else:
            reason = _rollup_unavailable(conn, account_id, account_tz, state=first)
        # distinct counts do not add up over days; raw-only kinds are not rolled up
        rolled = ("events", *THREAD_KINDS)
        distinct = [m for m, k in kinds.items() if k not in rolled]
        from_raw = list(kinds) if reason is not None else distinct
        from_rollup = [m for m in kinds if m not in from_raw]
        threads_raw = [m for m in from_raw if kinds[m] in THREAD_KINDS]
        events_raw = [m for m in from_raw if kinds[m] not in THREAD_KINDS]
        params = {
            "account_id": account_id,
            "dimension": dimension,
            "start": start,
            "end": end,
            "tz": tz,
        }
        rows = []
        if from_rollup:
            rows += conn.execute(
                _SUMMARY_ROLLUP_SQL, {**params, "metrics": from_rollup, "members": members}
            ).fetchall()
        if events_raw:
            sql = _SUMMARY_RAW_SQL.format(
                member=_RAW_MEMBER_COLUMN[dimension], no_handoff=_NO_HANDOFF
            )
            rows += conn.execute(sql, {**params, "metrics": events_raw}).fetchall()
        if threads_raw:
            conversation_member, message_member = _THREAD_MEMBER_COLUMN[dimension]
            branches = "\n        union all\n        ".join(
                _THREAD_BRANCHES[kind].format(
                    conversation_member=conversation_member, message_member=message_member
                )
                for kind in sorted({kinds[m] for m in threads_raw})
            )
            sql = _SUMMARY_THREADS_RAW_SQL.format(branches=branches)
            rows += conn.execute(sql, {**params, "metrics": threads_raw}).fetchall()
    found = {
        (r["dimension_id"], r["metric"]): SummaryMetric(
            int(r["count"] or 0), float(r["sum"] or 0.0), float(r["sum_bh"] or 0.0)
        )
        for r in rows
    }
    zero = SummaryMetric(0, 0.0, 0.0)
    return SupportSummary(
        account_id=account_id,
        dimension=dimension,
        start=start,
        end=end,
        timezone=tz,
        source="rollup" if reason is None else "raw",
        fallback_reason=reason,
        metrics=list(kinds),
        sources={m: ("raw" if m in from_raw else "rollup") for m in kinds},
        members=[
            SummaryMember(member, {m: found.get((member, m), zero) for m in kinds})
            for member in members
        ],
    )
