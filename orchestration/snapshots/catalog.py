"""The report catalog and windows, and validation of recompute requests.

The deployed catalog lives in ``reference.report_definitions`` and
``reference.aggregate_windows`` (dbt seeds). Lists in the seed are space-separated.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg

from orchestration.db import PROJECT_ROOT
from orchestration.errors import TallyError

MAX_RANGE_DAYS = 5 * 366
SEEDS_DIR = PROJECT_ROOT / "seeds"


@dataclass(frozen=True)
class ReportDefinition:
    slug: str
    name: str
    description: str
    cache_ttl_seconds: int
    default_window: str
    supported_filters: tuple[str, ...]
    dimension_key: str
    group_by: str  # 'period' | 'dimension'
    supported_breakdowns: tuple[str, ...]
    metrics: tuple[str, ...]
    rank_metric: str | None


@dataclass(frozen=True)
class WindowDefinition:
    window_name: str
    retention_days: int
    refresh_interval_minutes: int
    is_default: bool


@dataclass(frozen=True)
class Catalog:
    reports: dict[str, ReportDefinition]
    windows: dict[str, WindowDefinition]

    def report(self, slug: str) -> ReportDefinition:
        if slug not in self.reports:
            raise TallyError(
                f"unknown report {slug!r} (field report); allowed: {_allowed(self.reports)}"
            )
        return self.reports[slug]


@dataclass(frozen=True)
class RecomputeRequest:
    date_from: date
    date_to: date
    reports: tuple[str, ...]  # empty = every report
    windows: tuple[str, ...]  # empty = every window
    requested_by: str


def _allowed(values: Iterable[str]) -> str:
    return ", ".join(sorted(values)) or "(none)"


def _words(value: str | None) -> tuple[str, ...]:
    return tuple(w for w in (value or "").replace(",", " ").split() if w)


def _report(row: dict) -> ReportDefinition:
    return ReportDefinition(
        slug=row["slug"],
        name=row["name"],
        description=row["description"] or "",
        cache_ttl_seconds=int(row["cache_ttl_seconds"]),
        default_window=row["default_window"],
        supported_filters=_words(row["supported_filters"]),
        dimension_key=row["dimension_key"],
        group_by=row["group_by"] or "dimension",
        supported_breakdowns=_words(row["supported_breakdowns"]),
        metrics=_words(row["metrics"]),
        rank_metric=(row["rank_metric"] or "").strip() or None,
    )


def _window(row: dict) -> WindowDefinition:
    return WindowDefinition(
        window_name=row["window_name"],
        retention_days=int(row["retention_days"]),
        refresh_interval_minutes=int(row["refresh_interval_minutes"]),
        is_default=str(row["is_default"]).lower() in {"true", "t", "1"},
    )


def load_catalog(conn: psycopg.Connection) -> Catalog:
    """The deployed catalog (reference schema); a TallyError when it is not loaded yet."""
    try:
        with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
            cur.execute("select * from reference.report_definitions order by slug")
            reports = [_report(r) for r in cur.fetchall()]
            cur.execute("select * from reference.aggregate_windows order by window_name")
            windows = [_window(r) for r in cur.fetchall()]
    except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName):
        if not conn.autocommit:
            conn.rollback()
        raise TallyError(
            "the report catalog is not loaded: run `tally run` (or `tally dbt -- seed`) first"
        ) from None
    return Catalog({r.slug: r for r in reports}, {w.window_name: w for w in windows})


def seed_windows(seeds_dir: Path = SEEDS_DIR) -> list[WindowDefinition]:
    """The windows as committed in seeds/aggregate_windows.csv (schedules are built from it)."""
    path = seeds_dir / "aggregate_windows.csv"
    if not path.exists():
        return []
    with path.open(newline="") as fh:
        return [_window(row) for row in csv.DictReader(fh)]


def _as_date(value: date | str, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise TallyError(f"{field} {value!r} is not a date; use YYYY-MM-DD") from None


def validate_range(date_from: date | str, date_to: date | str) -> tuple[date, date]:
    first, last = _as_date(date_from, "date_from"), _as_date(date_to, "date_to")
    if last < first:
        raise TallyError(
            f"reversed range (fields date_from, date_to): {first} is after {last}; "
            "pass date_from on or before date_to"
        )
    if (last - first).days > MAX_RANGE_DAYS:
        raise TallyError(
            f"range {first}..{last} is longer than 5 years (fields date_from, date_to); split it"
        )
    return first, last


def validate_recompute(
    catalog: Catalog,
    date_from: date | str,
    date_to: date | str,
    reports: Sequence[str] = (),
    windows: Sequence[str] = (),
    requested_by: str = "system",
) -> RecomputeRequest:
    """Check a recompute request against the catalog; raise one TallyError naming the field."""
    first, last = validate_range(date_from, date_to)
    wanted_reports = tuple(dict.fromkeys(r.strip() for r in reports if r and r.strip()))
    for slug in wanted_reports:
        if slug not in catalog.reports:
            raise TallyError(
                f"unknown report {slug!r} (field reports); allowed: {_allowed(catalog.reports)}"
            )
    wanted_windows = tuple(dict.fromkeys(w.strip() for w in windows if w and w.strip()))
    for name in wanted_windows:
        if name not in catalog.windows:
            raise TallyError(
                f"unsupported window {name!r} (field windows); allowed: {_allowed(catalog.windows)}"
            )
    who = (requested_by or "").strip()
    if not who:
        raise TallyError("requested_by is empty (field requested_by); name who asks for the run")
    return RecomputeRequest(first, last, wanted_reports, wanted_windows, who)
