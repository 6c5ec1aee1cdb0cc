"""Issue 16 F5/F8: every row of docs/bad-input.md is one line, non-zero, no traceback,
and a refused command changes nothing and leaves no server running."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import psycopg
import pytest
from conftest import PROJECT_ROOT, query, run_tally

DOC = PROJECT_ROOT / "docs" / "bad-input.md"
ROW = re.compile(r"^\| (empty|fresh home|no CREATE|-) \| `([^`]+)` \| (.+) \|$")


def _rows() -> list[tuple[str, str, str]]:
    rows = [m.groups() for ln in DOC.read_text().splitlines() if (m := ROW.match(ln))]
    assert len(rows) >= 15
    return rows


def _schemas(url: str) -> list[tuple]:
    return query(
        url,
        "select nspname from pg_namespace where nspname not like 'pg\\_%'"
        " and nspname not in ('information_schema', 'public') order by 1",
    )


@pytest.mark.parametrize(("setup", "command", "expected"), _rows(), ids=lambda v: v[:60])
def test_bad_input_is_one_line(
    setup: str,
    command: str,
    expected: str,
    new_database,
    pg_admin_url: str,
    tmp_path: Path,
    figures,
) -> None:
    words = shlex.split(command)
    env: dict[str, str] = {}
    while "=" in words[0]:
        key, value = words.pop(0).split("=", 1)
        env[key] = value
    assert words.pop(0) == "tally"
    url = None
    if setup in ("empty", "no CREATE"):
        url = new_database("bad")
    if setup == "no CREATE":
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            if not conn.execute("select 1 from pg_roles where rolname = 'nocreate'").fetchone():
                conn.execute("create role nocreate login")
        url = url.replace("postgresql://postgres@", "postgresql://nocreate@", 1)
    home = tmp_path / "home"
    if setup == "fresh home":
        env = {**env, "TALLY_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
        saved = os.environ.pop("TALLY_DATABASE_URL", None)
    before = _schemas(url) if url else None
    try:
        proc = run_tally(*words, url=url, env=env, timeout=300)
    finally:
        if setup == "fresh home" and saved is not None:
            os.environ["TALLY_DATABASE_URL"] = saved
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    one_line = proc.returncode != 0 and len(lines) == 1 and expected in lines[0]
    figures(
        "bad inputs",
        tried=1,
        one_line=int(one_line),
        traceback=int("Traceback" in proc.stderr),
    )
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert len(lines) == 1, proc.stderr[-3000:]
    assert lines[0].startswith("tally: error: "), lines[0]
    assert expected in lines[0], lines[0]
    if url and setup == "empty":
        # refused: nothing created (no ops.rebuild_requests, no marts, no dagster schema)
        assert _schemas(url) == before
    if setup == "fresh home":
        status = run_tally("db", "status", env={"TALLY_HOME": str(home)})
        assert status.returncode == 1 and "stopped" in status.stdout, (
            "the failed command left the embedded server running"
        )
