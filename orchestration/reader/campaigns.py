"""Campaign reports (seed 000): bulk stats with experiment results, rolling stats.

Public API::

    bulk_campaign_stats(org_id, start, end, *, exclude_recipients=(), summary_only=False,
                        source="marts", include_live=False, db=None) -> BulkCampaignStats
    rolling_stats(org_id, campaign_id, start, end, windows=(7, 30), *, source="marts",
                  include_live=False, db=None) -> RollingStats

Dates are local days of the organization (its ``reporting_timezone``), inclusive.
Every call runs a fixed number of queries, however many campaigns the organization
has, as the read-only role ``tally_reader``. The business rules are dbt's: the
organization check reads ``int_orders__organizations_validated``, the live tail and the
excluded recipients ``int_orders__attributions_qualified``. ``source="raw"`` is the
oracle: it computes the same answer from the raw tables, restating the rules on purpose
(reconciliation, or a fallback while a mart is missing). See docs/reader.md.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import psycopg

from orchestration.db import Database
from orchestration.errors import TallyError
from orchestration.reader import _sql
from orchestration.reader import stats as st
from orchestration.reader.connection import reader_connection

Connectable = Database | psycopg.Connection | None

log = logging.getLogger(__name__)

Source = Literal["marts", "raw"]
MAX_RANGE_DAYS = 5 * 366
MAX_WINDOW = 366
ALPHA = 0.05
MIN_RECIPIENTS = 30  # per arm, for a verdict
MIN_CONVERSIONS = 10  # both arms together, for a verdict
_ALL_TIME = (date(1900, 1, 1), date(2999, 12, 30))
_MARTS = ("agg_order_daily", "agg_order_customer_daily", "agg_campaign_recipient_totals")
_PAIRS = "agg_order_customer_day_pairs"

# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ArmStats:
    """One arm (treatment or holdout) of one campaign. Summary-only results carry
    total_orders, revenue, unique_customers, recipients and converted_recipients; the
    other measures are None there."""

    is_holdout: bool
    total_orders: int = 0
    revenue: Decimal = Decimal("0.00")
    first_purchase_orders: int | None = 0
    first_purchase_revenue: Decimal | None = Decimal("0.00")
    repeat_orders: int | None = 0
    repeat_revenue: Decimal | None = Decimal("0.00")
    subscription_orders: int | None = 0
    subscription_revenue: Decimal | None = Decimal("0.00")
    discount_matched_orders: int | None = 0
    new_subscribers: int | None = 0
    unique_customers: int = 0
    recipients: int = 0
    converted_recipients: int = 0
    # sum over customers of (their revenue in the range)^2 - for the Welch variance
    customer_revenue_sq: Decimal | None = Decimal("0")

    @property
    def aov(self) -> float | None:
        """Average order value of the totals (revenue / orders), never a mean of means."""
        return float(self.revenue / self.total_orders) if self.total_orders else None

    @property
    def conversion_rate(self) -> float | None:
        """converted / recipients; None without recipients or when the counts are no
        proportion (more converted than recipients, negative: a data-quality finding of
        the experiment, never a rate above 100 %)."""
        if st.impossible_proportion(self.converted_recipients, self.recipients):
            return None
        return self.converted_recipients / self.recipients

    def data_quality(self) -> str | None:
        """What makes this arm's counts impossible, or None (no recipients and no
        conversions is no finding: the arm is empty)."""
        if self.recipients == 0 and self.converted_recipients == 0:
            return None
        if self.recipients < 0 or self.converted_recipients < 0:
            return f"negative counts ({self.converted_recipients} converted of {self.recipients} recipients)"
        return st.impossible_proportion(self.converted_recipients, self.recipients)

    @property
    def revenue_per_recipient(self) -> float | None:
        return float(self.revenue) / self.recipients if self.recipients else None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("customer_revenue_sq")
        out["aov"] = self.aov
        out["conversion_rate"] = self.conversion_rate
        out["revenue_per_recipient"] = self.revenue_per_recipient
        return out


@dataclass(frozen=True)
class Comparison:
    """Treatment vs holdout for one metric (two-sided, 95%)."""

    treatment: float | None
    holdout: float | None
    absolute_lift: float | None
    relative_lift: float | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None
    test: str


@dataclass(frozen=True)
class ExperimentResult:
    has_holdout: bool
    verdict: str  # significant_positive | significant_negative | inconclusive | insufficient_data | invalid_data
    conversion: Comparison | None
    revenue_per_recipient: Comparison | None
    note: str = ""
    # data-quality findings (impossible counts, e.g. more converted than recipients):
    # the statistics they would feed are None and the verdict is invalid_data
    findings: tuple[str, ...] = ()


@dataclass(frozen=True)
class CampaignStats:
    campaign_id: int
    name: str | None
    treatment: ArmStats
    holdout: ArmStats | None  # None: the campaign has no holdout arm
    experiment: ExperimentResult

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "name": self.name,
            "treatment": self.treatment.to_dict(),
            "holdout": self.holdout.to_dict() if self.holdout else None,
            "experiment": asdict(self.experiment),
        }


@dataclass(frozen=True)
class BulkCampaignStats:
    organization_id: int
    start: date | None  # None for summary_only (all-time)
    end: date | None
    source: str
    summary_only: bool
    live: bool  # today's bucket was recomputed from raw
    excluded_recipients: int
    campaigns: list[CampaignStats] = field(default_factory=list)

    def campaign(self, campaign_id: int) -> CampaignStats:
        for c in self.campaigns:
            if c.campaign_id == campaign_id:
                return c
        raise KeyError(campaign_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "organization_id": self.organization_id,
            "start": self.start,
            "end": self.end,
            "source": self.source,
            "summary_only": self.summary_only,
            "live": self.live,
            "excluded_recipients": self.excluded_recipients,
            "campaigns": [c.to_dict() for c in self.campaigns],
        }


@dataclass(frozen=True)
class WindowStats:
    """Rolling totals over the ``window`` local days ending on the row's day."""

    window: int
    total_orders: int
    revenue: Decimal
    unique_customers: int  # exact distinct customers over the window

    @property
    def aov(self) -> float | None:
        return float(self.revenue / self.total_orders) if self.total_orders else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"aov": self.aov}


@dataclass(frozen=True)
class RollingDay:
    day: date
    is_holdout: bool
    total_orders: int
    revenue: Decimal
    first_purchase_orders: int
    first_purchase_revenue: Decimal
    repeat_orders: int
    repeat_revenue: Decimal
    subscription_orders: int
    subscription_revenue: Decimal
    discount_matched_orders: int
    new_subscribers: int
    unique_customers: int
    windows: dict[int, WindowStats]

    @property
    def aov(self) -> float | None:
        return float(self.revenue / self.total_orders) if self.total_orders else None

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "windows"}
        out["aov"] = self.aov
        out["windows"] = {str(w): s.to_dict() for w, s in self.windows.items()}
        return out


@dataclass(frozen=True)
class RollingStats:
    organization_id: int
    campaign_id: int
    start: date
    end: date
    windows: tuple[int, ...]
    source: str
    live: bool
    recipients: dict[bool, int]  # per arm (campaign lifetime), for rates per recipient
    days: list[RollingDay]  # one per local day and arm, zero-filled, ordered by (day, arm)

    def series(self, is_holdout: bool) -> list[RollingDay]:
        return [d for d in self.days if d.is_holdout == is_holdout]

    def to_dict(self) -> dict[str, Any]:
        return {
            "organization_id": self.organization_id,
            "campaign_id": self.campaign_id,
            "start": self.start,
            "end": self.end,
            "windows": list(self.windows),
            "source": self.source,
            "live": self.live,
            "recipients": {
                "treatment": self.recipients.get(False, 0),
                "holdout": self.recipients.get(True, 0),
            },
            "days": [d.to_dict() for d in self.days],
        }


# --------------------------------------------------------------------------- input checks


def check_range(start: date, end: date) -> None:
    if not isinstance(start, date) or not isinstance(end, date):
        raise TallyError("start and end must be dates (YYYY-MM-DD)")
    if end < start:
        raise TallyError(
            f"reversed range: {start} is after {end}; pass a start on or before the end"
        )
    if (end - start).days > MAX_RANGE_DAYS:
        raise TallyError(f"range {start}..{end} is longer than 5 years; ask for a shorter range")


def parse_recipients(value: str | Iterable[Any] | None) -> tuple[int, ...]:
    """Recipient ids from an iterable of ints, a comma/whitespace separated string, or
    ``@file``/a path to a file with one id per line (``#`` comments allowed)."""
    if value is None:
        return ()
    if isinstance(value, str):
        text = value.strip()
        path = Path(text[1:] if text.startswith("@") else text)
        looks_like_path = text.startswith("@") or "/" in text or re.search(r"\.\w+$", text)
        if looks_like_path and not path.is_file():
            raise TallyError(
                f"recipient list file {path} not found; give an existing file "
                "(one id per line) or the ids separated by commas"
            )
        if text.startswith("@") or (not re.fullmatch(r"[\d,\s]*", text) and path.is_file()):
            try:
                text = path.read_text()
            except OSError as exc:
                raise TallyError(f"cannot read the recipient list {path}: {exc.strerror}") from None
            text = re.sub(r"#[^\n]*", "", text)
        tokens = [t for t in re.split(r"[,\s]+", text) if t]
        for t in tokens:
            if not re.fullmatch(r"\d{1,18}", t):
                raise TallyError(
                    f"malformed recipient list: {t[:40]!r} is not a recipient id; "
                    "give positive integers separated by commas or newlines"
                )
        return tuple(sorted({int(t) for t in tokens}))
    ids: set[int] = set()
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int) or v < 0 or v >= 2**63:
            raise TallyError(
                f"malformed recipient list: {v!r} is not a recipient id; give non-negative integers"
            )
        ids.add(v)
    return tuple(sorted(ids))


def _check_source(source: str) -> None:
    if source not in ("marts", "raw"):
        raise TallyError(f"unknown source {source!r}; use 'marts' or 'raw'")


@dataclass(frozen=True)
class _Org:
    id: int
    tz: str
    today: date


def _org(conn: psycopg.Connection, org_id: int) -> _Org:
    """The organization's validated configuration, read from dbt's
    int_orders__organizations_validated (the one home of the validation rule), or a
    one-line TallyError saying what to fix."""
    if isinstance(org_id, bool) or not isinstance(org_id, int):
        raise TallyError(f"organization id must be an integer, got {org_id!r}")
    try:
        row = conn.execute(
            "select o.reporting_timezone, o.timezone, o.has_valid_exclusions,"
            " cast(now() at time zone coalesce(o.timezone, 'UTC') as date) as today"
            f" from {_sql.ORGANIZATIONS} as o where o.organization_id = %s",
            (org_id,),
        ).fetchone()
    except psycopg.errors.UndefinedTable:
        conn.rollback()
        raise TallyError("the order models are not built yet; run `tally run` first") from None
    if row is None:
        raise TallyError(f"organization {org_id} does not exist; check the --org id")
    if row["timezone"] is None:
        raise TallyError(
            f"organization {org_id} has an invalid reporting timezone {row['reporting_timezone']!r}; "
            "fix raw.organizations.reporting_timezone (an IANA name)"
        )
    if not row["has_valid_exclusions"]:
        raise TallyError(
            f"organization {org_id}: configuration.excluded_attributions is not a JSON array of "
            "strings; fix the organization's configuration"
        )
    return _Org(org_id, row["timezone"], row["today"])


@contextlib.contextmanager
def _connection(db: Connectable) -> Iterator[psycopg.Connection]:
    """A fresh tally_reader connection, or the caller's open one (a dashboard's pooled
    connection already acting as tally_reader, with dict rows) - left open, rolled back."""
    if isinstance(db, psycopg.Connection):
        try:
            yield db
        finally:
            db.rollback()
        return
    with reader_connection(db) as conn:
        yield conn


def _marts_ready(conn: psycopg.Connection) -> tuple[bool, bool]:
    """(the order marts exist, the customer-day-pairs mart exists too)."""
    row = conn.execute(
        "select bool_and(to_regclass('marts.' || t) is not null) as ok,"
        " to_regclass('marts.' || %s) is not null as pairs from unnest(%s::text[]) as t",
        (_PAIRS, list(_MARTS)),
    ).fetchone()
    return bool(row["ok"]), bool(row["pairs"])


def _resolve_source(conn: psycopg.Connection, source: str) -> tuple[str, bool]:
    """The source to read and whether agg_order_customer_day_pairs can answer the
    distinct-customer part (else agg_order_customer_daily, one row per customer-day)."""
    _check_source(source)
    if source == "raw":
        return "raw", False
    ready, pairs = _marts_ready(conn)
    if not ready:
        log.warning("order marts are not built yet: reading from raw (run `tally run`)")
        return "raw", False
    return source, pairs


# --------------------------------------------------------------------------- bulk stats


def bulk_campaign_stats(
    org_id: int,
    start: date | None = None,
    end: date | None = None,
    *,
    exclude_recipients: Iterable[int] | str = (),
    summary_only: bool = False,
    source: Source = "marts",
    include_live: bool = False,
    db: Connectable = None,
) -> BulkCampaignStats:
    """Every campaign of the organization, per arm, with its experiment result.

    Ranged (default): order measures and exact distinct customers over the local days
    ``start..end``; recipients/converted recipients are campaign lifetime figures.
    ``summary_only``: all-time totals straight from agg_campaign_recipient_totals (no
    daily series; start/end ignored and may be None).
    """
    excl = parse_recipients(exclude_recipients)
    _check_source(source)
    if not summary_only:
        if start is None or end is None:
            raise TallyError("a ranged report needs --from and --to (or use --summary-only)")
        check_range(start, end)
    with _connection(db) as conn:
        org = _org(conn, org_id)
        source, pairs = _resolve_source(conn, source)
        names = {
            r["id"]: r["name"]
            for r in conn.execute(
                "select id, name from raw.campaigns where organization_id = %s", (org_id,)
            )
        }
        params: dict[str, Any] = {
            "org": org_id,
            "tz": org.tz,
            "excl": list(excl),
            "min_day": _ALL_TIME[0],
            "max_day": _ALL_TIME[1],
        }
        live = False
        if summary_only:
            if source == "raw":
                sql = _sql.SUMMARY_RAW
            else:
                sql = _sql.SUMMARY_MARTS if excl else _sql.SUMMARY_MARTS_PLAIN
            order_rows = conn.execute(sql, params).fetchall()
        else:
            live = include_live and source == "marts" and start <= org.today <= end
            params |= {"lo": start, "hi": end, "live": org.today if live else None}
            if pairs:
                sql = _sql.bulk_running_sql(live=live, excluded=bool(excl))
            else:
                sql = _sql.bulk_sql(source, live=live, excluded=bool(excl))
            order_rows = conn.execute(sql, params).fetchall()
        if source == "raw":
            rsql = _sql.RECIPIENTS_RAW
        else:
            rsql = _sql.RECIPIENTS_MARTS if excl else _sql.RECIPIENTS_MARTS_PLAIN
        recipient_rows = conn.execute(rsql, params).fetchall()

    arms: dict[tuple[int, bool], dict[str, Any]] = {}
    for r in order_rows:
        arms.setdefault((r["campaign_id"], r["is_holdout"]), {}).update(r)
    for r in recipient_rows:
        arms.setdefault((r["campaign_id"], r["is_holdout"]), {}).update(r)
    campaign_ids = sorted(set(names) | {c for c, _ in arms})
    campaigns = [
        _campaign(cid, names.get(cid), arms.get((cid, False)), arms.get((cid, True)), summary_only)
        for cid in campaign_ids
    ]
    return BulkCampaignStats(
        organization_id=org_id,
        start=None if summary_only else start,
        end=None if summary_only else end,
        source=source,
        summary_only=summary_only,
        live=live,
        excluded_recipients=len(excl),
        campaigns=campaigns,
    )


def _int(v: Any) -> int:
    return int(v) if v is not None else 0


def _dec(v: Any) -> Decimal:
    return Decimal(v) if v is not None else Decimal("0.00")


_MONEY = frozenset(m for m in _sql.MEASURES if m.endswith("revenue"))
_SUMMARY_MEASURES = ("total_orders", "revenue")


def _arm(row: dict[str, Any] | None, is_holdout: bool, summary_only: bool) -> ArmStats:
    row = row or {}
    values: dict[str, Any] = {}
    for m in _sql.MEASURES:
        v = row.get(m)
        if summary_only and m not in _SUMMARY_MEASURES:
            values[m] = None
        elif m in _MONEY:
            values[m] = Decimal(v) if v is not None else _ZERO
        else:
            values[m] = int(v) if v is not None else 0
    return ArmStats(
        is_holdout=is_holdout,
        **values,
        unique_customers=_int(row.get("unique_customers")),
        recipients=_int(row.get("recipients")),
        converted_recipients=_int(row.get("converted_recipients")),
        customer_revenue_sq=None if summary_only else _dec(row.get("customer_revenue_sq")),
    )


def _campaign(
    cid: int,
    name: str | None,
    treat_row: dict[str, Any] | None,
    hold_row: dict[str, Any] | None,
    summary_only: bool,
) -> CampaignStats:
    treatment = _arm(treat_row, False, summary_only)
    holdout = _arm(hold_row, True, summary_only) if hold_row is not None else None
    if holdout is not None and holdout.recipients == 0 and holdout.total_orders == 0:
        holdout = None
    return CampaignStats(cid, name, treatment, holdout, experiment(treatment, holdout))


def _lift(t: float | None, h: float | None) -> tuple[float | None, float | None]:
    if t is None or h is None:
        return None, None
    return t - h, ((t - h) / h if h else None)


def experiment(treatment: ArmStats, holdout: ArmStats | None) -> ExperimentResult:
    """Treatment vs holdout: conversion rate (two-proportion z-test) and revenue per
    recipient (Welch; needs the ranged per-customer spread, so not in summary-only).
    Impossible counts (more converted than recipients, negative) are data-quality
    findings: no statistic, verdict ``invalid_data``, never an exception."""
    findings = tuple(
        f"{name}: {problem}"
        for name, arm in (("treatment", treatment), ("holdout", holdout))
        if arm is not None and (problem := arm.data_quality()) is not None
    )
    if findings:
        note = (
            "; ".join(findings)
            + " - a data-quality problem (check assert_orders_converted_within_recipients)"
        )
        log.warning("campaign statistics skipped: %s", note)
        return ExperimentResult(
            holdout is not None and holdout.recipients > 0,
            "invalid_data",
            None,
            None,
            note,
            findings,
        )
    if holdout is None or holdout.recipients == 0:
        return ExperimentResult(False, "insufficient_data", None, None, "no holdout arm")
    t, h = treatment, holdout
    z = st.two_proportion_ztest(
        t.converted_recipients, t.recipients, h.converted_recipients, h.recipients
    )
    abs_c, rel_c = _lift(t.conversion_rate, h.conversion_rate)
    conversion = Comparison(
        t.conversion_rate,
        h.conversion_rate,
        abs_c,
        rel_c,
        z.p_value,
        z.ci_low,
        z.ci_high,
        "two-proportion z-test",
    )
    rpr = None
    if t.customer_revenue_sq is not None and h.customer_revenue_sq is not None:
        mt, mh = t.revenue_per_recipient or 0.0, h.revenue_per_recipient or 0.0
        vt = st.variance_from_sums(float(t.revenue), float(t.customer_revenue_sq), t.recipients)
        vh = st.variance_from_sums(float(h.revenue), float(h.customer_revenue_sq), h.recipients)
        w = st.welch_ttest(mt, vt, t.recipients, mh, vh, h.recipients)
        abs_r, rel_r = _lift(mt, mh)
        rpr = Comparison(mt, mh, abs_r, rel_r, w.p_value, w.ci_low, w.ci_high, "Welch t-test")
    note = ""
    if (
        min(t.recipients, h.recipients) < MIN_RECIPIENTS
        or t.converted_recipients + h.converted_recipients < MIN_CONVERSIONS
        or z.p_value is None
    ):
        verdict = "insufficient_data"
        note = f"needs >= {MIN_RECIPIENTS} recipients per arm and >= {MIN_CONVERSIONS} conversions"
    elif z.p_value < ALPHA:
        verdict = "significant_positive" if z.difference > 0 else "significant_negative"
    else:
        verdict = "inconclusive"
    return ExperimentResult(True, verdict, conversion, rpr, note)


# --------------------------------------------------------------------------- rolling stats


def rolling_stats(
    org_id: int,
    campaign_id: int,
    start: date,
    end: date,
    windows: Sequence[int] = (7, 30),
    *,
    source: Source = "marts",
    include_live: bool = False,
    db: Connectable = None,
) -> RollingStats:
    """One row per local day in ``start..end`` and arm (zero-filled): the day's measures
    and, per window, rolling sums, AOV of the rolling totals and exact rolling distinct
    customers."""
    check_range(start, end)
    wins = _windows(windows)
    _check_source(source)
    with _connection(db) as conn:
        org = _org(conn, org_id)
        if isinstance(campaign_id, bool) or not isinstance(campaign_id, int):
            raise TallyError(f"campaign id must be an integer, got {campaign_id!r}")
        row = conn.execute(
            "select organization_id from raw.campaigns where id = %s", (campaign_id,)
        ).fetchone()
        if row is None:
            raise TallyError(f"campaign {campaign_id} does not exist; check the --campaign id")
        if row["organization_id"] != org_id:
            raise TallyError(
                f"campaign {campaign_id} belongs to organization {row['organization_id']}, "
                f"not {org_id}; check --org and --campaign"
            )
        source, pairs = _resolve_source(conn, source)
        lo = start - timedelta(days=max(wins) - 1)
        live = include_live and source == "marts" and lo <= org.today <= end
        params = {
            "org": org_id,
            "campaign": campaign_id,
            "tz": org.tz,
            "lo": lo,
            "hi": end,
            "live": org.today if live else None,
            "windows": sorted(set(wins) | {1}),  # 1 = the day's own distinct customers
        }
        daily = conn.execute(_sql.rolling_sql("daily", source, live=live), params).fetchall()
        if pairs and not live:
            deltas = conn.execute(_sql.ROLLING_CUSTOMERS_PAIRS, params).fetchall()
        else:
            deltas = conn.execute(
                _sql.rolling_sql("customers", source, live=live), params
            ).fetchall()
        recipients = {
            r["is_holdout"]: int(r["recipients"])
            for r in conn.execute(_sql.ROLLING_RECIPIENTS[source], params)
        }

    days = _rolling_days(daily, deltas, lo, start, end, wins)
    return RollingStats(org_id, campaign_id, start, end, wins, source, live, recipients, days)


def _windows(windows: Sequence[int]) -> tuple[int, ...]:
    try:
        wins = tuple(sorted({int(w) for w in windows}))
    except (TypeError, ValueError):
        raise TallyError(f"windows must be whole numbers of days, got {windows!r}") from None
    if not wins or any(w < 1 or w > MAX_WINDOW for w in wins):
        raise TallyError(
            f"each window must be between 1 and {MAX_WINDOW} days, got {list(windows)}"
        )
    return wins


_ZERO = Decimal("0.00")


def _rolling_days(
    daily: list[dict[str, Any]],
    deltas: list[dict[str, Any]],
    lo: date,
    start: date,
    end: date,
    wins: tuple[int, ...],
) -> list[RollingDay]:
    n = (end - lo).days + 1
    by_day: dict[tuple[bool, int], dict[str, Any]] = {}
    for r in daily:
        by_day[(r["is_holdout"], (r["day_bucket"] - lo).days)] = r
    # exact distinct customers per window: prefix sums of the +1/-1 deltas;
    # daily distinct customers = the 1-day window, computed the same way
    all_wins = tuple(sorted(set(wins) | {1}))
    distinct: dict[tuple[bool, int], list[int]] = {
        (h, w): [0] * (n + 1) for h in (False, True) for w in all_wins
    }
    for r in deltas:
        idx = (r["day_bucket"] - lo).days
        if 0 <= idx <= n and (r["is_holdout"], r["win"]) in distinct:
            distinct[(r["is_holdout"], r["win"])][idx] += int(r["delta"])
    for arr in distinct.values():
        run = 0
        for i in range(n):
            run += arr[i]
            arr[i] = run

    out: list[RollingDay] = []
    offset = (start - lo).days
    for h in (False, True):
        orders = [0] * n
        revenue = [_ZERO] * n
        rows: list[dict[str, Any]] = []
        for i in range(n):
            r = by_day.get((h, i), {})
            orders[i] = _int(r.get("total_orders"))
            revenue[i] = _dec(r.get("revenue"))
            rows.append(r)
        cum_o = [0]
        cum_r = [_ZERO]
        for i in range(n):
            cum_o.append(cum_o[-1] + orders[i])
            cum_r.append(cum_r[-1] + revenue[i])
        for i in range(offset, n):
            r = rows[i]
            wstats = {}
            for w in wins:
                a = max(0, i - w + 1)
                wstats[w] = WindowStats(
                    w, cum_o[i + 1] - cum_o[a], cum_r[i + 1] - cum_r[a], distinct[(h, w)][i]
                )
            out.append(
                RollingDay(
                    day=lo + timedelta(days=i),
                    is_holdout=h,
                    total_orders=orders[i],
                    revenue=revenue[i],
                    first_purchase_orders=_int(r.get("first_purchase_orders")),
                    first_purchase_revenue=_dec(r.get("first_purchase_revenue")),
                    repeat_orders=_int(r.get("repeat_orders")),
                    repeat_revenue=_dec(r.get("repeat_revenue")),
                    subscription_orders=_int(r.get("subscription_orders")),
                    subscription_revenue=_dec(r.get("subscription_revenue")),
                    discount_matched_orders=_int(r.get("discount_matched_orders")),
                    new_subscribers=_int(r.get("new_subscribers")),
                    unique_customers=distinct[(h, 1)][i],
                    windows=wstats,
                )
            )
    out.sort(key=lambda d: (d.day, d.is_holdout))
    return out
