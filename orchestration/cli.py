"""`tally`: the one command line.

Each command group lives in ``orchestration/commands/<name>.py`` with a
``register(subparsers)`` function; ``tally report`` subcommands live in
``orchestration/commands/report_<name>.py`` with ``register_report(subparsers)``.
A user error is one line on stderr and exit status 2 - never a traceback.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib
import os
import pkgutil
import sys
import time
import traceback
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
    os.umask(0o077)  # every file tally writes (logs, Dagster home, secrets) is the user's own
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.handler(args) or 0)
    except TallyError as exc:
        sys.stderr.write(f"tally: error: {exc}\n")
        code = exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("tally: interrupted\n")
        code = 130
    except Exception as exc:
        sys.stderr.write(f"tally: error: {crash_line(exc)}\n")
        code = 1
    if code != 0 and args.command != "db":
        _stop_embedded_started_here()
    return code


def entry() -> None:
    """The `tally` console script: `main()`, then exit without the interpreter's teardown.

    Freeing the objects Dagster, dagster-dbt and dbt leave behind took ~1.2 s after every
    tick (of a ~8 s tick at demo scale) and buys nothing: by then every run is stored,
    every file written by a `with` is closed, and the exit handlers (logging's flush
    among them) run here first."""
    code = main()
    atexit._run_exitfuncs()  # what a normal exit runs, then no module teardown
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def crash_line(exc: BaseException) -> str:
    """Keep the traceback in ``<Tally home>/logs/crash-<time>.log``; say where in one line."""
    from orchestration.db import private_dir, tally_home

    first = (str(exc).strip().splitlines() or [""])[0][:300]
    try:
        log_dir = private_dir(tally_home() / "logs")
        path = log_dir / f"crash-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.log"
        path.write_text("".join(traceback.format_exception(exc)))
        where = f"full traceback: {path}"
    except OSError:
        where = "no log could be written"
    return (
        f"unexpected {type(exc).__name__}: {first or 'no message'} ({where}); "
        "please report it with that file"
    )


def _stop_embedded_started_here() -> None:
    """A failed command leaves nothing behind: the embedded server it started is stopped."""
    from orchestration import db

    if db.started_here:
        with contextlib.suppress(Exception):
            db.embedded_stop()


if __name__ == "__main__":
    raise SystemExit(main())
