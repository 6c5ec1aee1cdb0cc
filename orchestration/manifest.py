"""The dbt project's files on disk: ``target/``, the manifest Dagster loads, and dbt runs.

* :func:`run_dbt` runs the venv's dbt against the project.
* :func:`ensure_manifest` keeps ``target/manifest.json`` fresh (Dagster loads it).
* :func:`relation` names a dbt model's relation (``schema.identifier``) as the manifest
  says, so Python never hard-codes where dbt builds a model.

No Dagster here: the code location (orchestration/project.py) and the CLI both read it,
and :mod:`orchestration.runtime` re-exports it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestration.db import PROJECT_ROOT
from orchestration.engine import target_dir_name
from orchestration.errors import TallyError

if TYPE_CHECKING:
    from orchestration.db import Database

TARGET_DIR = PROJECT_ROOT / target_dir_name()
MANIFEST = TARGET_DIR / "manifest.json"
_DBT_INPUTS = ("models", "macros", "seeds", "tests/dbt", "dbt_project.yml", "profiles.yml")


def dbt_executable() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt(
    args: Sequence[str],
    *,
    check: bool = True,
    capture: bool = False,
    quiet: bool = False,
    target_path: Path | None = None,
    run_vars: Mapping[str, Any] | None = None,
) -> subprocess.CompletedProcess:
    """Run dbt on the project (call :func:`activate` first). ``run_vars``: run-specific
    vars, passed so that dbt keeps its saved parse (``orchestration.dbt_args.run_vars``)."""
    cmd = [
        dbt_executable(),
        *args,
        "--project-dir",
        str(PROJECT_ROOT),
        "--profiles-dir",
        str(PROJECT_ROOT),
    ]
    if quiet:
        cmd.insert(1, "--quiet")
    env = {**os.environ, "DBT_TARGET_PATH": str(target_path or TARGET_DIR)}
    if run_vars is not None:
        from orchestration.dbt_args import run_vars_env

        env.update(run_vars_env(run_vars))
    proc = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, capture_output=capture, text=True)
    if check and proc.returncode != 0:
        detail = ""
        if capture:
            errors = [
                ln for ln in (proc.stdout or "").splitlines() if "Error" in ln or "error" in ln
            ]
            detail = f": {errors[-1].strip()}" if errors else ""
        raise TallyError(f"dbt {' '.join(args[:1])} failed{detail}; see logs/dbt.log")
    return proc


def _newest_input_mtime() -> float:
    newest = 0.0
    for name in _DBT_INPUTS:
        path = PROJECT_ROOT / name
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            for f in path.rglob("*"):
                if f.is_file():
                    newest = max(newest, f.stat().st_mtime)
    return newest


PARSE_STATE = TARGET_DIR / "partial_parse.msgpack"
_PARSE_STAMP = TARGET_DIR / ".tally_parse_stamp"


#: The environment profiles.yml builds dbt's connection from. dbt keys its saved parse on
#: the profile: a parse saved for another connection is a full re-parse in every run.
PROFILE_ENV = (
    "TALLY_PGHOST",
    "TALLY_PGPORT",
    "TALLY_PGUSER",
    "TALLY_PGPASSWORD",
    "TALLY_PGDATABASE",
    "TALLY_PGSSLMODE",
    "TALLY_ENGINE",
    "TALLY_SPARK_HOME",
)


def export_dbt_env(db: Database | None = None) -> None:
    """Export what ``profiles.yml`` reads: the connection (``TALLY_PG*``, ``db`` or the
    resolved database) and the Spark output's defaults.

    :func:`ensure_manifest` calls it when nothing has yet, so a command that reads the
    manifest before ``runtime.activate()`` parses for the same profile as its runs.
    Without it, every `tally tick` from a plain shell parsed twice (once for an empty
    profile, once after activation: ~25 s) and left a stamp the next one rejected."""
    from orchestration import db as dbmod
    from orchestration import engine

    db = db or dbmod.database(start=False, check=False)
    os.environ.update(db.dbt_env())
    engine.export_spark_env(dbmod.tally_home(), PROJECT_ROOT)


def _parse_stamp() -> str:
    """The saved parse's mtime and a hash of the connection it was parsed for."""
    import hashlib

    profile = "\0".join(os.environ.get(k, "") for k in PROFILE_ENV)
    digest = hashlib.sha256(profile.encode()).hexdigest()[:16]
    return f"{PARSE_STATE.stat().st_mtime_ns} {digest}"


def _parse_state_is_ours() -> bool:
    """Whether the saved parse is the one our last ``dbt parse`` wrote (no ``--vars``), for
    this connection.

    Every Dagster dbt invocation starts from a copy of it and never writes it back; one
    written by a hand-run ``dbt ... --vars``, or parsed for another database (a changed
    ``TALLY_DATABASE_URL``), would make each of them re-parse the whole project."""
    try:
        return _PARSE_STAMP.read_text() == _parse_stamp()
    except OSError:
        return False


def _manifest_is_current() -> bool:
    return (
        MANIFEST.exists()
        and MANIFEST.stat().st_mtime >= _newest_input_mtime()
        and _parse_state_is_ours()
    )


def current_saved_parse(target_dir: Path) -> Path | None:
    """``partial_parse.msgpack`` of ``target_dir`` when a dbt invocation may start from it
    without parsing (orchestration/dbt_in_process.py): it is the project's saved parse, no
    dbt input changed since, and it was parsed without ``--vars`` for this connection."""
    if target_dir.resolve() != TARGET_DIR.resolve() or not _manifest_is_current():
        return None
    return PARSE_STATE


def ensure_manifest() -> Path:
    """``dbt parse`` when the manifest is missing or older than any dbt input.

    Safe for concurrent commands (they share ``target/``): one parses at a time under
    an exclusive lock on ``target/.manifest.lock``, into its own directory, and the result
    replaces ``target/manifest.json`` atomically (a reader sees the old file or the new
    one, never half of one). It also re-parses when the saved parse state is not the one
    its last parse wrote, or was written for another connection (either would make every
    tick re-parse)."""
    import fcntl
    import shutil
    import tempfile

    if "TALLY_PGHOST" not in os.environ:
        export_dbt_env()  # stamp and parse for the connection this process's runs use
    if _manifest_is_current():
        return MANIFEST
    TARGET_DIR.mkdir(parents=True, exist_ok=True)
    with (TARGET_DIR / ".manifest.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if _manifest_is_current():
            return MANIFEST  # another command parsed while this one waited
        scratch = Path(tempfile.mkdtemp(prefix=".parse-", dir=TARGET_DIR))
        try:
            seed = TARGET_DIR / "partial_parse.msgpack"
            if seed.exists():
                shutil.copy2(seed, scratch / seed.name)
            run_dbt(["parse"], capture=True, quiet=True, target_path=scratch, run_vars={})
            for name in ("partial_parse.msgpack", "semantic_manifest.json"):
                if (scratch / name).exists():
                    os.replace(scratch / name, TARGET_DIR / name)
            os.replace(scratch / "manifest.json", MANIFEST)
            if PARSE_STATE.exists():
                _PARSE_STAMP.write_text(_parse_stamp())
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return MANIFEST


_NODES: dict[tuple[float, int], dict[str, dict[str, Any]]] = {}


def manifest_key(parse: bool = True) -> tuple[float, int]:
    """(mtime, size) of the manifest - a cache key for anything derived from it."""
    path = ensure_manifest() if parse or not MANIFEST.exists() else MANIFEST
    stat = path.stat()
    return (stat.st_mtime, stat.st_size)


def _nodes(parse: bool) -> dict[str, dict[str, Any]]:
    """model/seed name -> its manifest node (the file is read once per version)."""
    key = manifest_key(parse)
    if key not in _NODES:
        import json

        nodes = json.loads(MANIFEST.read_text())["nodes"].values()
        _NODES.clear()
        _NODES[key] = {n["name"]: n for n in nodes if n.get("resource_type") in ("model", "seed")}
    return _NODES[key]


def node(model: str, *, parse: bool = True) -> dict[str, Any]:
    """The manifest node of the dbt model (or seed) ``model`` (config, columns,
    relation_name); a one-line TallyError for an unknown model."""
    try:
        return _nodes(parse)[model]
    except KeyError:
        raise TallyError(
            f"dbt model {model} is not in {MANIFEST}; run `tally dbt -- parse` "
            "(or check the model name)"
        ) from None


def relation(model: str, *, parse: bool = True) -> str:
    """``schema.identifier`` of the dbt model (or seed) ``model``, from the manifest.

    A constant SQL identifier (the manifest is the project's own file, not user input):
    safe to put in a query text. ``parse=False`` reads the manifest as it is (a sensor
    reads the one its code location loaded) instead of re-parsing a stale one. Raises a
    one-line TallyError for an unknown model."""
    n = node(model, parse=parse)
    return f"{n['schema']}.{n.get('alias') or n['name']}"
