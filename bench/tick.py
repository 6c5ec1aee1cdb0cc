"""The production tick, end to end: `tally tick` as cron or the schedule runs it.

    .venv/bin/python -m bench.tick 1            # demo scale, against Tally's database
    .venv/bin/python -m bench.tick 1 --reuse    # ... on the data and marts already there

Each sample is one `tally tick` subprocess (the schedule's real selection: every
incremental mart and its reconcile checks over the tick's 3 days, the configured dbt
threads and watermark lag), timed from process start to exit. Its phases are read from
what the run left behind, never from the harness's own clock:

* ``start``: process start, imports, database check and the definitions load, up to
  Dagster's run start (PIPELINE_START in the event log; ``definitions`` is the part the
  CLI's timer file reports, when it writes one);
* ``dagster_pre``: run start to step start (resources, planning);
* ``dbt_launch``: step start to dbt's first log line (dagster-dbt's own set-up, loading
  the saved parse's manifest, and the start of dbt on its thread: dbt runs inside the
  run's process, see orchestration/dbt_in_process.py);
* ``parse``: dbt's first log line to its "Found N models" line (the adapter, the graph;
  dbt parses nothing when it is handed the saved parse); ``full_reparse`` says whether
  dbt re-parsed the project from scratch ("Unable to do partial parsing");
* ``dbt_exec``: that line to dbt's last log line (hooks, models, tests); ``sql`` is the
  sum of the models' and tests' execution times in run_results.json (on the configured
  threads, so it can exceed ``dbt_exec``);
* ``dagster_post``: dbt's last line to the run's success event, and ``exit`` from there
  to the process exit.

Full builds (denominators): `dbt build --select tag:sliding_window --full-refresh` on
the same threads, its models' SQL. Every figure is a median: >= 5 samples per tick
figure, >= 3 per full build.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import USER_ENV
from orchestration import datagen, runtime
from orchestration.db import PROJECT_ROOT, tally_home

TICKS = 5
FULL_BUILDS = 3
PHASES = ("start", "dagster_pre", "dbt_launch", "parse", "dbt_exec", "dagster_post", "exit")


def _ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _tally() -> str:
    return str(Path(sys.executable).parent / "tally")


def _latest_run(conn, after: float) -> str:
    row = conn.execute(
        "select run_id from dagster.runs where pipeline_name = 'tick'"
        " and start_time >= %s order by start_time desc limit 1",
        (after - 60,),
    ).fetchone()
    if row is None:
        raise RuntimeError("no tick run recorded")
    return row[0]


def _events(conn, run_id: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for kind, ts in conn.execute(
        "select dagster_event_type, timestamp from dagster.event_logs"
        " where run_id = %s and dagster_event_type in"
        " ('PIPELINE_START', 'STEP_START', 'STEP_SUCCESS', 'PIPELINE_SUCCESS') order by id",
        (run_id,),
    ):
        out.setdefault(kind, ts.replace(tzinfo=UTC).timestamp())
    return out


def dbt_phases(log: Path) -> dict[str, float | bool]:
    """First line, parse end and last line of one dbt JSON log; whether it re-parsed."""
    first = found = last = None
    full = False
    for line in log.read_text().splitlines():
        try:
            info = json.loads(line)["info"]
        except (ValueError, KeyError):
            continue
        ts = _ts(info["ts"])
        first = ts if first is None else first
        last = ts
        if info["name"] == "UnableToPartialParse":
            full = True
        if info["name"] == "FoundStats" and found is None:
            found = ts
    if first is None or found is None:
        raise RuntimeError(f"{log}: no dbt start/parse lines")
    return {"first": first, "found": found, "last": last, "full_reparse": full}


def one_tick(conn) -> dict[str, float]:
    """One `tally tick` subprocess; its wall time and phases (seconds)."""
    timer_file = tally_home() / "logs" / "tick.timings.json"
    timer_file.unlink(missing_ok=True)
    t0 = time.time()
    proc = subprocess.run(
        [_tally(), "tick"], capture_output=True, text=True, cwd=PROJECT_ROOT, env=USER_ENV
    )
    t1 = time.time()
    if proc.returncode != 0:
        raise RuntimeError(f"tally tick failed: {proc.stderr.strip()}")
    run_id = _latest_run(conn, t0)
    ev = _events(conn, run_id)
    (dbt_dir,) = [
        p
        for p in runtime.TARGET_DIR.glob(f"incremental_marts-{run_id[:7]}-*")
        if (p / "dbt.log").exists()
    ]
    dbt = dbt_phases(dbt_dir / "dbt.log")
    results = json.loads((dbt_dir / "run_results.json").read_text())
    sql = sum(r["execution_time"] for r in results["results"])
    models = sum(
        r["execution_time"] for r in results["results"] if r["unique_id"].startswith("model.")
    )
    (buckets,) = conn.execute(
        "select coalesce(sum(affected_buckets), 0) from ops.mart_runs where run_id = %s",
        (results["metadata"]["invocation_id"],),
    ).fetchone()
    out = {
        "wall": t1 - t0,
        "start": ev["PIPELINE_START"] - t0,
        "dagster_pre": ev["STEP_START"] - ev["PIPELINE_START"],
        "dbt_launch": dbt["first"] - ev["STEP_START"],
        "parse": dbt["found"] - dbt["first"],
        "dbt_exec": dbt["last"] - dbt["found"],
        "dagster_post": ev["PIPELINE_SUCCESS"] - dbt["last"],
        "exit": t1 - ev["PIPELINE_SUCCESS"],
        "sql": sql,
        "sql_models": models,
        "dbt_elapsed": results.get("elapsed_time", 0.0),
        "full_reparse": 1.0 if dbt["full_reparse"] else 0.0,
        # buckets the marts recomputed (ops.mart_runs): with the watermark lag, a tick also
        # re-reads the changes of the lag's minutes before the previous tick's watermark
        "affected_buckets": float(buckets),
    }
    if timer_file.exists():
        out.update({k: float(v) for k, v in json.loads(timer_file.read_text()).items()})
    out["overhead"] = out["wall"] - sql
    return out


def _median(samples: list[dict[str, float]]) -> dict[str, float]:
    keys = samples[0].keys()
    return {k: round(statistics.median(s[k] for s in samples), 3) for k in keys}


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def full_builds(n: int) -> float:
    """Median over `n` runs of the incremental marts' summed model SQL in a full build."""
    sums = []
    for _ in range(n):
        runtime.run_dbt(
            ["run", "--select", "tag:sliding_window", "--full-refresh"], capture=True, quiet=True
        )
        results = json.loads((runtime.TARGET_DIR / "run_results.json").read_text())["results"]
        sums.append(
            sum(r["execution_time"] for r in results if r["unique_id"].startswith("model."))
        )
    return round(statistics.median(sums), 3)


def run(scale: float, reuse: bool = False, ticks: int = TICKS) -> dict:
    db = runtime.activate()
    figures: dict = {"scale": scale, "load_before": _load()}
    if not reuse:
        with db.connect() as conn:
            built = conn.execute("select to_regclass('marts.agg_order_daily')").fetchone()[0]
            if built is not None:  # replaced raw rows are invisible to the marts' ticks
                raise SystemExit(
                    "bench.tick: the marts of this database are built; run it with a new"
                    " TALLY_HOME (or TALLY_DATABASE_URL), or with --reuse on its data"
                )
            datagen.generate(conn, scale=scale, seed=42, force=True)
            conn.commit()
        subprocess.run([_tally(), "run"], check=True, capture_output=True, cwd=PROJECT_ROOT)
    figures["full_build_models_sql"] = full_builds(FULL_BUILDS)
    with db.connect(autocommit=True) as conn:
        one_tick(conn)  # the first tick after the full builds (their watermark)
        nochange = [one_tick(conn) for _ in range(ticks)]
        mutate = []
        for i in range(ticks):
            datagen.mutate(conn, seed=100 + i)
            conn.commit()
            mutate.append(one_tick(conn))
    for label, samples in (("nochange", nochange), ("mutate", mutate)):
        for key, value in _median(samples).items():
            figures[f"tick_{label}_{key}"] = value
        figures[f"tick_{label}_samples"] = len(samples)
        figures[f"tick_{label}_sql_vs_full_pct"] = round(
            100 * figures[f"tick_{label}_sql_models"] / figures["full_build_models_sql"], 1
        )
    figures["load_after"] = _load()
    return figures


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    print(json.dumps(run(float(args[0]) if args else 1.0, reuse="--reuse" in sys.argv), indent=2))
