"""`tally report campaigns` and `tally report rolling` (seed 000's campaign reports).

Formats: ``table`` (terminal), ``json`` (stable, see docs/reader.md), ``csv`` (one row
per campaign and arm / per day and arm). ``--plot out.png`` draws treatment vs
holdout rolling revenue per recipient and conversion (matplotlib).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from orchestration.errors import TallyError


def register_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "campaigns", help="every campaign of an organization per arm, with experiment results"
    )
    p.add_argument("--org", type=int, required=True, help="organization id")
    p.add_argument("--from", dest="start", type=_date, help="first local day (YYYY-MM-DD)")
    p.add_argument("--to", dest="end", type=_date, help="last local day, inclusive")
    p.add_argument(
        "--exclude-recipients",
        metavar="FILE|IDS",
        help="recipient ids to leave out: '1,2,3' or a file with one id per line",
    )
    p.add_argument(
        "--summary-only",
        action="store_true",
        help="all-time campaign totals from agg_campaign_recipient_totals (no range)",
    )
    _common(p)
    p.set_defaults(handler=cmd_campaigns)

    p = sub.add_parser("rolling", help="daily and rolling-window stats of one campaign per arm")
    p.add_argument("--org", type=int, required=True, help="organization id")
    p.add_argument("--campaign", type=int, required=True, help="campaign id")
    p.add_argument("--from", dest="start", type=_date, required=True, help="first local day")
    p.add_argument("--to", dest="end", type=_date, required=True, help="last local day, inclusive")
    p.add_argument(
        "--window", type=int, action="append", help="window in days (repeatable; default 7 and 30)"
    )
    p.add_argument("--plot", type=Path, metavar="OUT.png", help="draw treatment vs holdout")
    _common(p)
    p.set_defaults(handler=cmd_rolling)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    p.add_argument(
        "--source",
        choices=["marts", "raw"],
        default="marts",
        help="raw = compute from raw tables (reconciliation)",
    )
    p.add_argument(
        "--live", action="store_true", help="recompute today's bucket from raw at read time"
    )


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; use YYYY-MM-DD") from None


# --------------------------------------------------------------------------- campaigns


def cmd_campaigns(args: argparse.Namespace) -> int:
    from orchestration.reader.campaigns import bulk_campaign_stats, parse_recipients

    if not args.summary_only and (args.start is None or args.end is None):
        raise TallyError("give --from and --to (local days), or --summary-only for all-time totals")
    excl = parse_recipients(args.exclude_recipients) if args.exclude_recipients else ()
    result = bulk_campaign_stats(
        args.org,
        args.start,
        args.end,
        exclude_recipients=excl,
        summary_only=args.summary_only,
        source=args.source,
        include_live=args.live,
    )
    if args.format == "json":
        _json(result.to_dict())
    elif args.format == "csv":
        _csv(_campaign_rows(result.to_dict()))
    else:
        _campaign_table(result)
    return 0


def _campaign_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for c in data["campaigns"]:
        exp = c["experiment"]
        conv = exp["conversion"] or {}
        rpr = exp["revenue_per_recipient"] or {}
        for arm_name in ("treatment", "holdout"):
            arm = c[arm_name]
            if arm is None:
                continue
            rows.append(
                {
                    "organization_id": data["organization_id"],
                    "start": data["start"],
                    "end": data["end"],
                    "campaign_id": c["campaign_id"],
                    "campaign": c["name"],
                    "arm": arm_name,
                    **{k: v for k, v in arm.items() if k != "is_holdout"},
                    "verdict": exp["verdict"],
                    "conversion_p_value": conv.get("p_value"),
                    "conversion_absolute_lift": conv.get("absolute_lift"),
                    "revenue_per_recipient_p_value": rpr.get("p_value"),
                }
            )
    return rows


def _fmt(v: Any, kind: str = "") -> str:
    if v is None:
        return "-"
    if kind == "pct":
        return f"{100 * v:.2f}%"
    if kind == "p":
        return f"{v:.4f}" if v >= 0.0001 else "<0.0001"
    if isinstance(v, Decimal | float):
        return f"{v:,.2f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def _campaign_table(result: Any) -> None:
    scope = (
        "all-time totals" if result.summary_only else f"local days {result.start} .. {result.end}"
    )
    extra = []
    if result.excluded_recipients:
        extra.append(f"{result.excluded_recipients} recipients excluded")
    if result.live:
        extra.append("today live from raw")
    if result.source == "raw":
        extra.append("computed from raw")
    print(
        f"Organization {result.organization_id}: {len(result.campaigns)} campaigns, {scope}"
        + (f" ({', '.join(extra)})" if extra else "")
    )
    header = [
        "campaign",
        "arm",
        "recipients",
        "converted",
        "conv rate",
        "orders",
        "revenue",
        "AOV",
        "customers",
        "rev/recip",
    ]
    lines = [header]
    verdicts = []
    for c in result.campaigns:
        for arm in (c.treatment, c.holdout):
            if arm is None:
                continue
            lines.append(
                [
                    f"{c.campaign_id} {c.name or ''}".strip() if not arm.is_holdout else "",
                    "holdout" if arm.is_holdout else "treatment",
                    _fmt(arm.recipients),
                    _fmt(arm.converted_recipients),
                    _fmt(arm.conversion_rate, "pct"),
                    _fmt(arm.total_orders),
                    _fmt(arm.revenue),
                    _fmt(arm.aov),
                    _fmt(arm.unique_customers),
                    _fmt(arm.revenue_per_recipient),
                ]
            )
        e = c.experiment
        if e.has_holdout and e.conversion:
            rpr = e.revenue_per_recipient
            verdicts.append(
                f"  {c.campaign_id:>6}  {e.verdict:<22} conversion lift "
                f"{_fmt(e.conversion.absolute_lift, 'pct')} (p {_fmt(e.conversion.p_value, 'p')})"
                + (
                    f", revenue/recipient lift {_fmt(rpr.absolute_lift)} (p {_fmt(rpr.p_value, 'p')})"
                    if rpr
                    else ""
                )
            )
        else:
            verdicts.append(f"  {c.campaign_id:>6}  {e.verdict:<22} {e.note}")
    widths = [max(len(str(r[i])) for r in lines) for i in range(len(header))]
    for n, r in enumerate(lines):
        print(
            "  ".join(
                str(v).ljust(w) if i < 2 else str(v).rjust(w)
                for i, (v, w) in enumerate(zip(r, widths, strict=True))
            )
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print("\nExperiment (treatment vs holdout, two-sided, alpha 0.05):")
    for v in verdicts:
        print(v)


# --------------------------------------------------------------------------- rolling


def cmd_rolling(args: argparse.Namespace) -> int:
    from orchestration.reader.campaigns import rolling_stats

    windows = tuple(args.window) if args.window else (7, 30)
    result = rolling_stats(
        args.org,
        args.campaign,
        args.start,
        args.end,
        windows,
        source=args.source,
        include_live=args.live,
    )
    if args.plot:
        _plot(result, args.plot)
    if args.format == "json":
        _json(result.to_dict())
    elif args.format == "csv":
        _csv(_rolling_rows(result))
    else:
        _rolling_table(result)
    if args.plot:
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


def _rolling_rows(result: Any) -> list[dict[str, Any]]:
    rows = []
    for d in result.days:
        row = {k: v for k, v in d.to_dict().items() if k not in ("windows", "is_holdout")}
        row = {"day": row.pop("day"), "arm": "holdout" if d.is_holdout else "treatment", **row}
        for w, s in d.windows.items():
            row[f"orders_{w}d"] = s.total_orders
            row[f"revenue_{w}d"] = s.revenue
            row[f"aov_{w}d"] = s.aov
            row[f"customers_{w}d"] = s.unique_customers
        rows.append(row)
    return rows


def _rolling_table(result: Any) -> None:
    print(
        f"Campaign {result.campaign_id} (organization {result.organization_id}), local days "
        f"{result.start} .. {result.end}; recipients treatment "
        f"{result.recipients.get(False, 0):,}, holdout {result.recipients.get(True, 0):,}"
    )
    header = ["day", "arm", "orders", "revenue", "AOV", "customers"]
    for w in result.windows:
        header += [f"orders {w}d", f"revenue {w}d", f"AOV {w}d", f"cust {w}d"]
    lines = [header]
    for d in result.days:
        row = [
            str(d.day) if not d.is_holdout else "",
            "holdout" if d.is_holdout else "treatment",
            _fmt(d.total_orders),
            _fmt(d.revenue),
            _fmt(d.aov),
            _fmt(d.unique_customers),
        ]
        for w in result.windows:
            s = d.windows[w]
            row += [_fmt(s.total_orders), _fmt(s.revenue), _fmt(s.aov), _fmt(s.unique_customers)]
        lines.append(row)
    widths = [max(len(str(r[i])) for r in lines) for i in range(len(header))]
    for n, r in enumerate(lines):
        print(
            "  ".join(
                str(v).ljust(w) if i < 2 else str(v).rjust(w)
                for i, (v, w) in enumerate(zip(r, widths, strict=True))
            )
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))


def _plot(result: Any, out: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise TallyError("--plot needs matplotlib: pip install 'tally[plot]'") from None
    w = max(result.windows)
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    for is_holdout, label, color in (
        (False, "treatment", "tab:blue"),
        (True, "holdout", "tab:orange"),
    ):
        series = result.series(is_holdout)
        n = result.recipients.get(is_holdout, 0)
        if not series or not n:
            continue
        days = [d.day for d in series]
        ax1.plot(days, [float(d.windows[w].revenue) / n for d in series], label=label, color=color)
        ax2.plot(
            days,
            [100 * d.windows[w].unique_customers / n for d in series],
            label=label,
            color=color,
        )
    ax1.set_title(f"Campaign {result.campaign_id}: rolling {w}-day revenue per recipient")
    ax1.set_ylabel("revenue / recipient")
    ax2.set_title(f"rolling {w}-day conversion (distinct customers / recipients)")
    ax2.set_ylabel("%")
    for ax in (ax1, ax2):
        ax.legend()
        ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    try:
        fig.savefig(out, dpi=110)
    except OSError as exc:
        raise TallyError(f"cannot write the plot to {out}: {exc.strerror}") from None
    finally:
        plt.close(fig)


# --------------------------------------------------------------------------- output


def _plain(v: Any) -> Any:
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, date):
        return v.isoformat()
    raise TypeError(type(v))


def _json(data: dict[str, Any]) -> None:
    json.dump(data, sys.stdout, default=_plain, indent=2)
    sys.stdout.write("\n")


def _csv(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in r.items()})
