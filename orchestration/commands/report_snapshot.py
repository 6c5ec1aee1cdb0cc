"""`tally report snapshot`: a report of the snapshot catalog (seed 001)."""

from __future__ import annotations

import argparse
import json

from orchestration.commands.core import parse_date
from orchestration.errors import TallyError


def register_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "snapshot",
        help="volume-by-period, status-counts, top-entities (metric_snapshots)",
        description=(
            "Run a catalog report over UTC days --from..--to from marts.metric_snapshots. "
            "`--list` shows the catalog (breakdowns, filters, default window)."
        ),
    )
    p.add_argument("slug", nargs="?", help="report slug (see --list)")
    p.add_argument("--list", action="store_true", help="list the report catalog")
    p.add_argument("--from", dest="date_from", type=parse_date, help="first UTC day")
    p.add_argument("--to", dest="date_to", type=parse_date, help="last UTC day, inclusive")
    p.add_argument("--window", default=None, help="day or week (default: the report's)")
    p.add_argument("--breakdown", default=None, help="e.g. period, source, status")
    p.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="narrow the dimension, e.g. source=stripe (repeatable)",
    )
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_report_snapshot)


def _filters(items: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise TallyError(f"--filter {item!r} is not KEY=VALUE (e.g. --filter source=stripe)")
        out.setdefault(key.strip(), []).extend(v.strip() for v in value.split(",") if v.strip())
    return out


def cmd_report_snapshot(args: argparse.Namespace) -> int:
    from orchestration.reader.snapshots import list_reports, run_report

    if args.list:
        for r in list_reports():
            print(
                f"{r.slug:<18} window {r.default_window:<5} breakdowns {' '.join(r.supported_breakdowns) or '-':<16}"
                f" filters {' '.join(r.supported_filters) or '-':<8} ttl {r.cache_ttl_seconds}s  {r.name}"
            )
        return 0
    if not args.slug or args.date_from is None or args.date_to is None:
        raise TallyError("pass a report slug, --from and --to (or --list)")
    for flag, value in (("--offset", args.offset), ("--limit", args.limit)):
        if not 0 <= value < 2**63:
            raise TallyError(
                f"{flag} {value} is out of range; pass a whole number from 0 to 2^63-1"
            )
    report = run_report(
        args.slug,
        window=args.window,
        date_from=args.date_from,
        date_to=args.date_to,
        breakdown=args.breakdown,
        filters=_filters(args.filter),
        limit=args.limit,
        offset=args.offset,
    )
    if args.json:
        print(
            json.dumps(
                {
                    "report": report.slug,
                    "window": report.window,
                    "date_from": str(report.date_from),
                    "date_to": str(report.date_to),
                    "breakdown": report.breakdown,
                    "filters": report.filters,
                    "total": report.total,
                    "limit": report.limit,
                    "offset": report.offset,
                    "run_ids": list(report.run_ids),
                    "cache_ttl_seconds": report.cache_ttl_seconds,
                    "rows": [
                        {
                            "rank": r.rank,
                            "bucket_start": r.bucket_start.isoformat() if r.bucket_start else None,
                            report.dimension_key: r.dimension_value,
                            **r.metrics,
                        }
                        for r in report.rows
                    ],
                },
                indent=2,
                default=str,
            )
        )
        return 0
    print(
        f"{report.slug} ({report.window}, {report.date_from}..{report.date_to}, breakdown {report.breakdown})"
        + (
            f" - rows {report.offset + 1 if report.rows else 0}-{report.offset + len(report.rows)} of {report.total}"
            if report.limit is not None
            else f" - {report.total} rows"
        )
    )
    for r in report.rows:
        head = []
        if r.rank is not None:
            head.append(f"#{r.rank:<4}")
        if r.bucket_start is not None:
            head.append(f"{r.bucket_start:%Y-%m-%d}")
        if r.dimension_value is not None:
            head.append(f"{r.dimension_value:<14}")
        metrics = "  ".join(
            f"{k} {v:,.1f}" if isinstance(v, float) else f"{k} {v:,}" for k, v in r.metrics.items()
        )
        print(f"  {' '.join(head)}  {metrics}")
    print(f"run ids: {', '.join(report.run_ids) or '-'}")
    return 0
