"""`tally report support-summary`: every agent or inbox of an account over a range."""

from __future__ import annotations

import argparse
import csv
import json
import sys

from orchestration.commands.core import parse_date
from orchestration.reader.support import (
    SUMMARY_DIMENSIONS,
    SUMMARY_METRICS,
    SupportSummary,
    support_summary,
)

FORMATS = ("table", "json", "csv")


def register_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "support-summary",
        help="every agent, inbox or team of an account: counts and averages of its metrics",
        description=(
            "Chatwoot's agents / inboxes / teams report: per member of the account (idle ones "
            "with zeros), the count, sum and average (Σsum/Σcount) of each metric over the "
            "range - by default Chatwoot's agents page (--metrics all: every registered "
            "metric) - from the rollup when eligible (the output says which path)."
        ),
    )
    p.add_argument("--account", type=int, required=True, help="account id")
    p.add_argument("--dimension", choices=SUMMARY_DIMENSIONS, required=True)
    p.add_argument(
        "--from", dest="start", type=parse_date, required=True, help="first local day (YYYY-MM-DD)"
    )
    p.add_argument("--to", dest="end", type=parse_date, required=True, help="last local day")
    p.add_argument("--timezone", default=None, help="IANA zone (default: the account's)")
    p.add_argument(
        "--metrics",
        default=None,
        help=(
            "comma-separated registered metrics, or 'all' (default: Chatwoot's agents page - "
            f"{', '.join(SUMMARY_METRICS)}, all from the rollup)"
        ),
    )
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--raw", action="store_true", help="force the raw path (verification)")
    p.set_defaults(handler=cmd_report_support_summary)


def _rows(s: SupportSummary) -> list[dict]:
    out = []
    for member in s.members:
        for metric in s.metrics:
            v = member.metrics[metric]
            out.append(
                {
                    "dimension_id": member.dimension_id,
                    "metric": metric,
                    "count": v.count,
                    "sum": v.sum,
                    "average": v.average,
                    "sum_business_hours": v.sum_business_hours,
                    "average_business_hours": v.average_business_hours,
                    "source": s.sources[metric],
                }
            )
    return out


def _metrics(text: str | None) -> list[str] | str | None:
    if text is None or text == "all":
        return text
    return [m.strip() for m in text.split(",") if m.strip()]


def cmd_report_support_summary(args: argparse.Namespace) -> int:
    s = support_summary(
        args.account,
        args.dimension,
        args.start,
        args.end,
        timezone=args.timezone,
        metrics=_metrics(args.metrics),
        source="raw" if args.raw else "auto",
    )
    rows = _rows(s)
    if args.format == "json":
        print(
            json.dumps(
                {
                    "account_id": s.account_id,
                    "dimension": s.dimension,
                    "from": s.start.isoformat(),
                    "to": s.end.isoformat(),
                    "timezone": s.timezone,
                    "source": s.source,
                    "fallback_reason": s.fallback_reason,
                    "sources": s.sources,
                    "members": rows,
                }
            )
        )
        return 0
    if args.format == "csv":
        w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["dimension_id"])
        w.writeheader()
        w.writerows(rows)
        return 0
    via = s.source + (f" ({s.fallback_reason})" if s.fallback_reason else "")
    print(
        f"{s.dimension}s of account {s.account_id}, {s.start}..{s.end} in {s.timezone}; "
        f"source: {via}"
    )
    print(f"{s.dimension:>12} {'metric':<24} {'count':>10} {'average':>14} {'avg (bh)':>14}")
    for r in rows:
        avg = f"{r['average']:,.2f}" if r["average"] is not None else "-"
        bh = (
            f"{r['average_business_hours']:,.2f}"
            if r["average_business_hours"] is not None
            else "-"
        )
        print(f"{r['dimension_id']:>12} {r['metric']:<24} {r['count']:>10,} {avg:>14} {bh:>14}")
    return 0
