"""`tally report support`: a support metric per day/week/month/year (seed 002)."""

from __future__ import annotations

import argparse
import json

from orchestration.commands.core import parse_date
from orchestration.reader.support import DIMENSIONS, GROUP_BYS, WEEK_STARTS, support_report


def register_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "support",
        help="support metrics per period for an account, agent or inbox",
        description=(
            "Counts, sums and averages (Σsum/Σcount) of a support metric per period, "
            "from the rollup when eligible, else from raw events (the output says which)."
        ),
    )
    p.add_argument("--account", type=int, required=True, help="account id")
    p.add_argument("--metric", required=True, help="e.g. resolutions, first_response, bot_handoffs")
    p.add_argument("--start", type=parse_date, required=True, help="first local day (YYYY-MM-DD)")
    p.add_argument("--end", type=parse_date, required=True, help="last local day, inclusive")
    p.add_argument("--group-by", choices=GROUP_BYS, default="day")
    p.add_argument("--dimension", choices=DIMENSIONS, default="account")
    p.add_argument(
        "--id", dest="dimension_id", type=int, default=None, help="agent, inbox, team or label id"
    )
    p.add_argument("--business-hours", action="store_true", help="sum value_in_business_hours")
    p.add_argument("--timezone", default=None, help="IANA zone (default: the account's)")
    p.add_argument("--week-start", choices=sorted(WEEK_STARTS), default="sunday")
    p.add_argument("--raw", action="store_true", help="force the raw path (verification)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_report_support)


def cmd_report_support(args: argparse.Namespace) -> int:
    report = support_report(
        args.account,
        args.metric,
        args.start,
        args.end,
        group_by=args.group_by,
        dimension=args.dimension,
        dimension_id=args.dimension_id,
        business_hours=args.business_hours,
        timezone=args.timezone,
        week_start=args.week_start,
        source="raw" if args.raw else "auto",
    )
    if args.json:
        print(
            json.dumps(
                {
                    "account_id": report.account_id,
                    "metric": report.metric,
                    "dimension": report.dimension,
                    "dimension_id": report.dimension_id,
                    "group_by": report.group_by,
                    "timezone": report.timezone,
                    "source": report.source,
                    "fallback_reason": report.fallback_reason,
                    "periods": [
                        {
                            "period_start": p.period_start.isoformat(),
                            "count": p.count,
                            "sum": p.sum,
                            "average": p.average,
                        }
                        for p in report.periods
                    ],
                    "count": report.count,
                    "sum": report.sum,
                    "average": report.average,
                }
            )
        )
        return 0
    via = report.source + (f" ({report.fallback_reason})" if report.fallback_reason else "")
    print(
        f"{report.metric} for {report.dimension} {report.dimension_id} of account "
        f"{report.account_id}, per {report.group_by}, {report.start}..{report.end} "
        f"in {report.timezone}; source: {via}"
    )
    print(f"{'period':<12} {'count':>10} {'sum':>16} {'average':>14}")
    for p in report.periods:
        avg = f"{p.average:,.2f}" if p.average is not None else "-"
        print(f"{p.period_start.isoformat():<12} {p.count:>10,} {p.sum:>16,.2f} {avg:>14}")
    avg = f"{report.average:,.2f}" if report.average is not None else "-"
    print(f"{'total':<12} {report.count:>10,} {report.sum:>16,.2f} {avg:>14}")
    return 0
