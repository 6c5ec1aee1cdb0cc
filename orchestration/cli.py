"""`tally`: the one command line.

Each command group lives in ``orchestration/commands/<name>.py`` with a
``register(subparsers)`` function; ``tally report`` subcommands live in
``orchestration/commands/report_<name>.py`` with ``register_report(subparsers)``.
A user error is one line on stderr and exit status 2 - never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from orchestration import commands
from orchestration.errors import TallyError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse's own code)
        sys.stderr.write(f"tally: error: {message} (see `{self.prog} --help`)\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tally",
        description="Incremental analytics aggregates on PostgreSQL (dbt + Dagster).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    report = sub.add_parser("report", help="read reports from the marts")
    report_sub = report.add_subparsers(dest="report", metavar="REPORT", parser_class=_Parser)
    report_sub.required = True
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        if hasattr(module, "register"):
            module.register(sub)
        if hasattr(module, "register_report"):
            module.register_report(report_sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except TallyError as exc:
        sys.stderr.write(f"tally: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("tally: interrupted\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
