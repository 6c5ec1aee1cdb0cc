"""Issue 20 item 9: `tally db psql` passes its arguments on, `tally ui` says and serves its
port and stops with its whole process tree on SIGTERM, and the run summary is aligned and
lists the contract marts only."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request

import psutil
import pytest
from conftest import PROJECT_ROOT, TALLY, execute, run_tally

from orchestration.commands.core import contract_marts, format_summary


def test_db_psql_passes_its_arguments_to_psql(tally_db: str) -> None:
    proc = run_tally("db", "psql", "-c", "select 40 + 2 as answer", url=tally_db)
    assert proc.returncode == 0, proc.stderr
    assert "answer" in proc.stdout and "42" in proc.stdout


def test_db_actions_other_than_psql_refuse_arguments_in_one_line(tally_db: str) -> None:
    proc = run_tally("db", "url", "extra", url=tally_db)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "only `tally db psql`" in lines[0], proc.stderr


def test_ui_help_describes_the_port() -> None:
    proc = run_tally("ui", "--help")
    assert proc.returncode == 0
    assert "--port PORT" in proc.stdout and "TCP port" in proc.stdout, proc.stdout


def test_summary_lists_contract_marts_aligned_whatever_the_name_length() -> None:
    rows = [
        ("agg_order_daily", "r"),
        ("agg_order_running_totals", "v"),
        ("agg_order_running_totals__blocks", "r"),
        ("metric_snapshots", "r"),
        ("metric_snapshots_rank_prefix", "r"),
        ("mv_a_materialized_view_with_a_name_longer_than_thirty_characters", "m"),
    ]
    marts = contract_marts(rows)
    assert [n for n, _ in marts] == [
        "agg_order_daily",
        "agg_order_running_totals",
        "metric_snapshots",
        "mv_a_materialized_view_with_a_name_longer_than_thirty_characters",
    ]
    text = format_summary([(n, k, 1234567, "2026-12-04 03:00:00") for n, k in marts])
    body = [line for line in text.splitlines() if line.startswith("marts.")]
    assert len(body) == 4
    # the row counts end in the same column on every line, the long name included
    assert len({line.index("1,234,567") for line in body}) == 1, text
    assert body[-1].startswith("marts.mv_a_materialized_view_with_a_name_longer_than_thirty")
    assert "(mv)" in body[-1]
    assert body[1].startswith("marts.agg_order_running_totals (view) ")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_ui_serves_its_port_and_sigterm_stops_every_process_within_10_s(tally_db: str) -> None:
    execute(tally_db, "select 1")  # the database exists before the UI starts
    port = _free_port()
    env = {**os.environ, "TALLY_DATABASE_URL": tally_db}
    proc = subprocess.Popen(
        [str(TALLY), "ui", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}" in first, first
        deadline = time.monotonic() + 300
        while True:
            assert proc.poll() is None, "tally ui exited before serving"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"nothing served on port {port} in 300 s"
            time.sleep(1)
        tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        assert len(tree) >= 3, [p.cmdline() for p in tree]  # tally, dagster dev, webserver...
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _gone, alive = psutil.wait_procs(tree, timeout=10)
        took = time.monotonic() - started
        assert not alive, f"still alive {took:.1f} s after SIGTERM: {[p.pid for p in alive]}"
        assert proc.wait(timeout=1) == 0, "a requested stop is not a failure"
        assert "stopped (SIGTERM)" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        for p in psutil.process_iter():
            try:
                if f"{port}" in " ".join(p.cmdline()) and "dagster" in " ".join(p.cmdline()):
                    p.kill()
            except psutil.Error:
                pass
