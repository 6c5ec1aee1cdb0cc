"""`tally support read-path`: switch an account's support reports to raw (or back)."""

from __future__ import annotations

import argparse

from orchestration.db import cursor
from orchestration.errors import TallyError
from orchestration.support.read_path import read_paths, set_read_path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("support", help="support reporting operations")
    ssub = p.add_subparsers(
        dest="support_command", metavar="COMMAND", parser_class=sub._parser_class
    )
    ssub.required = True
    rp = ssub.add_parser(
        "read-path",
        help="read an account's support reports from raw even when the rollup is eligible",
        description=(
            "Per-account read-path switch (ops.support_read_path): --raw makes every "
            "support report of the account answer from raw events (e.g. while a backfill "
            "is verified); --rollup restores the usual choice. The rollup keeps being "
            "written either way. Without --raw/--rollup, lists the switched accounts."
        ),
    )
    rp.add_argument("--account", type=int, default=None, help="account id")
    mode = rp.add_mutually_exclusive_group()
    mode.add_argument("--raw", dest="read_from", action="store_const", const="raw")
    mode.add_argument("--rollup", dest="read_from", action="store_const", const="rollup")
    rp.add_argument("--reason", default=None, help="why (kept with the switch and audited)")
    rp.set_defaults(handler=cmd_read_path)


def cmd_read_path(args: argparse.Namespace) -> int:
    if args.read_from is None:
        with cursor() as cur:
            rows = read_paths(cur.connection)
        for account_id, read_from, reason in rows:
            if args.account is None or account_id == args.account:
                print(f"account {account_id}: {read_from}" + (f" ({reason})" if reason else ""))
        return 0
    if args.account is None:
        raise TallyError("--raw/--rollup need --account N")
    with cursor() as cur:
        set_read_path(cur.connection, args.account, args.read_from, args.reason)
    print(f"account {args.account}: support reports read from {args.read_from}")
    return 0
