"""Dagster materializes the dbt project for real, with its run storage in PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from orchestration import datagen, runtime


@pytest.fixture(scope="module")
def loaded_db(tally_db: str) -> str:
    with psycopg.connect(tally_db) as conn:
        datagen.generate(conn, scale=0.02, seed=5)
        conn.commit()
    return tally_db


@pytest.mark.slow
def test_staging_layer_materializes_through_dagster(loaded_db: str) -> None:
    runtime.ensure_manifest()
    from dagster import DagsterInstance

    from orchestration.definitions import defs

    staging = [k for k in defs.resolve_all_asset_keys() if k.path[0] == "staging"]
    assert len(staging) >= 10, staging
    result = runtime.execute_job("materialize_all", asset_selection=staging)
    assert result.success, runtime.failure_summary(result)

    materialized = {
        e.asset_key for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"
    }
    assert set(staging) <= materialized

    with psycopg.connect(loaded_db) as conn:
        views = {
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.views where table_schema = 'staging'"
            )
        }
        assert {k.path[1] for k in staging} <= views
        raw_n = conn.execute("select count(*) from raw.attributions").fetchone()[0]
        stg_n = conn.execute("select count(*) from staging.stg_orders__attributions").fetchone()[0]
        assert raw_n == stg_n > 0
        # Dagster's own storage is in the same database, schema `dagster`
        runs = conn.execute("select count(*) from dagster.runs where run_id = %s", (result.run_id,))
        assert runs.fetchone()[0] == 1

    with DagsterInstance.get() as instance:
        assert instance.get_run_by_id(result.run_id).is_success


def test_assets_are_grouped_by_domain_and_keyed_by_schema() -> None:
    runtime.ensure_manifest()
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys() if k.path[0] == "marts"}
    assert {"orders"} <= groups
    schemas = {k.path[0] for k in graph.get_all_asset_keys()}
    assert schemas <= {
        "raw",
        "staging",
        "intermediate",
        "marts",
        "reference",
        "ops",
        "marts_internal",
    }
    # the internal side tables (source tally_internal) are shown, never materialized by
    # Dagster: their marts' hooks write them
    internal = [k for k in graph.get_all_asset_keys() if k.path[0] == "marts_internal"]
    assert internal and not any(graph.get(k).is_materializable for k in internal)


def test_every_order_check_is_a_dagster_asset_check_of_its_mart() -> None:
    """Each singular dbt test of the order marts is an asset check in Dagster (not an
    observation): the invalid-configuration check must show as a failing check of
    agg_order_daily, the reconcile checks on their own marts."""
    runtime.ensure_manifest()
    from pathlib import Path

    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    checks = {k.name: "/".join(k.asset_key.path) for k in graph.asset_check_keys}
    tests_dir = Path(__file__).parent / "dbt"
    orders = sorted(p.stem for p in tests_dir.glob("assert_orders_*.sql"))
    assert len(orders) >= 6, orders
    assert {name: checks.get(name) for name in orders if name not in checks} == {}
    assert checks["assert_orders_valid_configuration"] == "marts/agg_order_daily"
    assert checks["assert_orders_running_totals_reconcile"] == "marts/agg_order_running_totals"


def test_every_model_is_in_one_dbt_multi_asset_and_every_singular_test_a_check() -> None:
    """The three dbt multi-assets split the project without overlap or gap, and every
    singular test is an asset check: one that is not (a test reading a mart and a model
    downstream of it was, until 2026-12-04) runs as an AssetObservation with a warning.
    The downstream models are those reachable from a sliding-window mart in the manifest's
    own dependency graph, so a new rollup without the downstream tag fails here."""
    import json

    runtime.ensure_manifest()
    from orchestration.assets.dbt import dbt_models, downstream_models, incremental_marts
    from orchestration.project import tally_project

    manifest = json.loads(Path(tally_project.manifest_path).read_text())
    nodes = manifest["nodes"]
    models = {n["name"] for n in nodes.values() if n["resource_type"] == "model"}
    owner: dict[str, list[str]] = {}
    for assets in (dbt_models, incremental_marts, downstream_models):
        for key in assets.keys:
            if key.path[0] != "raw":
                owner.setdefault(key.path[-1], []).append(assets.node_def.name)
    assert {m: owner.get(m) for m in models if len(owner.get(m, [])) != 1} == {}

    window = {n["unique_id"] for n in nodes.values() if "sliding_window" in n["tags"]}
    reached, todo = set(), list(window)
    while todo:
        for child in manifest["child_map"].get(todo.pop(), []):
            if child.startswith("model.") and child not in reached | window:
                reached.add(child)
                todo.append(child)
    assert {nodes[u]["name"] for u in reached} == {k.path[-1] for k in downstream_models.keys}

    checks = {
        k.name for a in (dbt_models, incremental_marts, downstream_models) for k in a.check_keys
    }
    singular = {
        n["name"]
        for n in nodes.values()
        if n["resource_type"] == "test" and "test_metadata" not in n
    }
    assert len(singular) >= 25, singular
    assert sorted(singular - checks) == []


def test_the_partitions_run_to_the_latest_local_day_anywhere() -> None:
    """A partition is a tenant's local day: the last one is today's date in UTC+14 (the
    latest timezone), so a day an organization east of UTC has begun is a partition. At
    20:00 UTC it is already tomorrow in UTC+4: the partitions in UTC ended a day short."""
    from datetime import UTC, datetime

    from orchestration.partitions import daily_partitions

    def last(hour: int) -> str:
        now = datetime(2026, 12, 4, hour, tzinfo=UTC)
        return daily_partitions.get_partition_keys(current_time=now)[-1]

    assert last(9) == "2026-12-04"  # 23:00 in UTC+14
    assert last(10) == "2026-12-05"  # midnight in UTC+14
    assert last(20) == "2026-12-05"


def test_every_mart_has_a_freshness_policy_from_its_refresh_interval() -> None:
    runtime.ensure_manifest()
    from datetime import timedelta

    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    # a view holds no rows of its own (marts.agg_order_running_totals: its table's asset
    # marts/agg_order_running_totals has the policy)
    marts = [
        k
        for k in graph.get_all_asset_keys()
        if k.path[0] == "marts" and k.path[1] != "agg_order_running_totals_published"
    ]
    assert len(marts) >= 15
    windows = {k.path[1]: graph.get(k).freshness_policy.fail_window.to_timedelta() for k in marts}
    # a 15-minute tick may be late once, not twice; a weekly rebuild gets two weeks
    assert windows["agg_order_daily"] == timedelta(minutes=30)
    assert windows["agg_sending_stats_30d"] == timedelta(days=14)
    staging = [k for k in graph.get_all_asset_keys() if k.path[0] == "staging"]
    assert all(graph.get(k).freshness_policy is None for k in staging)


def test_tick_reconciles_three_days_and_the_full_window_once_a_day() -> None:
    """The 15-minute tick's reconcile checks compare 3 local days; the tick of 03:00 UTC
    compares the project's reconcile_days. The run config is valid for the tick job and
    reaches dbt as the var."""
    runtime.ensure_manifest()
    from datetime import UTC, datetime

    from dagster import build_asset_context, build_schedule_context, validate_run_config

    from orchestration.assets.dbt import IncrementalRunConfig, _vars, validate
    from orchestration.definitions import defs
    from orchestration.errors import TallyError
    from orchestration.schedules import tick_schedule

    job = defs.resolve_job_def("tick")

    def config_at(hour: int, minute: int) -> dict:
        at = datetime(2026, 11, 23, hour, minute, tzinfo=UTC)
        (request,) = tick_schedule.evaluate_tick(
            build_schedule_context(scheduled_execution_time=at)
        ).run_requests
        assert validate_run_config(job, request.run_config) is not None
        return request.run_config.get("ops", {}).get("incremental_marts", {}).get("config", {})

    assert config_at(10, 15) == {"reconcile_days": 3}
    assert config_at(3, 0) == {}
    assert config_at(3, 15) == {"reconcile_days": 3}
    context = build_asset_context()
    assert _vars(context, IncrementalRunConfig(reconcile_days=3)) == {"reconcile_days": 3}
    assert _vars(context, IncrementalRunConfig()) == {}
    # the config check runs in the op before dbt (and before it reads the database)
    with pytest.raises(TallyError, match="reconcile_days must be >= 1"):
        validate(context, IncrementalRunConfig(reconcile_days=0), tally_db=None)


def _automation_table() -> list[dict[str, str]]:
    """The schedules-and-sensors table of docs/ui.md, one dict per row."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "ui.md").read_text()
    section = text.split("## Schedules and sensors", 1)[1]
    rows = [
        [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| ") and not line.startswith("| name")
    ]
    return [dict(zip(["name", "kind", "when", "job", "flag"], r, strict=True)) for r in rows]


_STATUS_SCRIPT = """
import json
from orchestration.definitions import defs
repo = defs.get_repository_def()
print(json.dumps({d.name: d.default_status.value for d in [*repo.schedule_defs, *repo.sensor_defs]}))
"""


def test_the_documented_schedules_and_sensors_are_the_definitions_and_their_flags() -> None:
    """docs/ui.md lists every schedule and sensor with its cron, job and flag; each starts
    RUNNING, and TALLY_<FLAG>_ENABLED=false stops exactly the rows of that flag."""
    import json
    import os
    import subprocess
    import sys

    from orchestration.definitions import defs

    table = _automation_table()
    repo = defs.get_repository_def()
    schedules = {s.name: s for s in repo.schedule_defs}
    sensors = {s.name: s for s in repo.sensor_defs}
    assert {r["name"] for r in table if r["kind"] == "schedule"} == set(schedules)
    assert {r["name"] for r in table if r["kind"] == "sensor"} == set(sensors)
    for row in table:
        if row["kind"] == "schedule":
            s = schedules[row["name"]]
            assert (s.cron_schedule, s.job_name) == (row["when"], row["job"]), row
        else:
            s = sensors[row["name"]]
            assert row["when"] == f"every {s.minimum_interval_seconds} s", row
            if s.has_jobs:
                assert s.job_name == row["job"], row
        assert s.default_status.value == "RUNNING", row

    # one run per bit of a flag's index, with the flags of that bit off: two flags differ in
    # some bit, so a row documented with the wrong flag is caught
    flags = sorted({r["flag"] for r in table})
    subsets = [
        [f for i, f in enumerate(flags) if i >> bit & 1] for bit in range(len(flags).bit_length())
    ]
    for off in subsets:
        env = {
            k: v
            for k, v in os.environ.items()
            if not (k.startswith("TALLY_") and k.endswith("_ENABLED"))
        }
        env.update({f"TALLY_{f.upper()}_ENABLED": "false" for f in off})
        out = (
            subprocess.run(
                [sys.executable, "-c", _STATUS_SCRIPT],
                env=env,
                capture_output=True,
                text=True,
                check=True,
                cwd=Path(__file__).resolve().parents[1],
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        status = json.loads(out)
        for row in table:
            expected = "STOPPED" if row["flag"] in off else "RUNNING"
            assert status[row["name"]] == expected, (row, off)


def test_the_code_location_uses_only_public_dagster_api(tmp_path: Path) -> None:
    """No module imports `dagster._core`; the generated dagster.yaml names the public
    QueuedRunCoordinator and loads with one run-queue limit per domain."""
    import ast

    from dagster import DagsterInstance, QueuedRunCoordinator

    from orchestration.runs import DOMAINS

    root = Path(__file__).resolve().parents[1] / "orchestration"
    private = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            private += [f"{path.name}: {n}" for n in names if n.startswith("dagster._")]
    assert private == []

    yaml_text = runtime.dagster_yaml()
    assert "_core" not in yaml_text
    (tmp_path / "dagster.yaml").write_text(yaml_text[yaml_text.index("run_coordinator:") :])
    coordinator = DagsterInstance.from_config(str(tmp_path)).run_coordinator
    assert isinstance(coordinator, QueuedRunCoordinator)
    limits = coordinator.get_run_queue_config().tag_concurrency_limits
    assert sorted((d["key"], d["limit"]) for d in limits) == sorted(
        (f"tally/writes-{d}", 1) for d in DOMAINS
    )


def test_no_import_cycle_among_the_orchestration_modules() -> None:
    """Counting imports inside functions too, no orchestration module reaches itself again
    (the definitions are read by the CLI and `dagster dev` only, never by what they collect).
    The one exception: a function may import orchestration.definitions at run time, when
    every module is loaded, if it says so (health_schedule's in-process fallback)."""
    import ast

    root = Path(__file__).resolve().parents[1]
    modules = {}
    for path in (root / "orchestration").rglob("*.py"):
        name = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            graph[name] |= {t for t in targets if t in modules and t != name}
    graph["orchestration.health_schedule"].discard("orchestration.definitions")

    cycles = []

    def visit(node: str, stack: list[str], done: set[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt in stack:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in done:
                visit(nxt, [*stack, nxt], done)
        done.add(node)

    done: set[str] = set()
    for module in sorted(graph):
        if module not in done:
            visit(module, [module], done)
    assert cycles == []


def test_dagster_loads_the_module_as_one_code_location() -> None:
    """`dagster dev -m orchestration.definitions` (what `tally ui` runs) loads the module:
    Dagster refuses one with more than one Definitions object at its top level (the
    browser tests failed on that when the domains' definitions were first merged)."""
    import subprocess
    import sys

    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            "definitions",
            "validate",
            "-m",
            "orchestration.definitions",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert "Validation successful" in proc.stdout + proc.stderr


def test_the_dagster_storage_keeps_one_connection_open_instead_of_one_per_call(
    tally_db: str,
) -> None:
    """dagster-postgres opens a new connection for every stored event outside the webserver;
    the generated dagster.yaml's PooledPostgresStorage keeps it open (~430 connections and
    ~2 s per tick before). Seen from the server: after a few storage calls, this process
    holds an idle connection, where NullPool leaves none (checked: it fails with
    `storage: postgres`)."""
    from dagster import AssetKey, DagsterInstance

    runtime.activate()

    def idle_others() -> int:
        with psycopg.connect(tally_db) as conn:
            return conn.execute(
                "select count(*) from pg_stat_activity where datname = current_database()"
                " and state = 'idle' and pid <> pg_backend_pid()"
            ).fetchone()[0]

    before = idle_others()
    with DagsterInstance.get() as instance:
        for _ in range(5):
            instance.get_runs(limit=1)
            instance.get_latest_materialization_event(AssetKey(["marts", "agg_order_daily"]))
        held = idle_others()
    assert held > before, (before, held)


def test_partition_marks_are_stored_one_batch_per_mart_and_in_order(tally_db: str) -> None:
    """Issue 20 item 2: the marks a run logs for the days it wrote (tag MARK_TAG) wait in
    the Tally event log and are stored in one batch per asset: when a mark of another asset,
    any other event, or flush_marks comes. Nothing is lost, the asset's latest
    materialization is its last mark, and an event logged after the marks is stored after
    them. (With dagster-postgres' own event log each mark is stored when it is logged, and
    "a pending" is 300.)"""
    from dagster import AssetKey, AssetMaterialization, DagsterInstance, job, op

    from orchestration.dagster_storage import MARK_TAG

    runtime.activate()
    a, b = AssetKey(["test_marks", "a"]), AssetKey(["test_marks", "b"])
    seen: dict[str, object] = {}

    def stored(instance, key) -> int:
        return len(instance.get_materialized_partitions(key))

    @op
    def emit(context) -> None:
        instance = context.instance
        for i in range(300):
            context.log_event(AssetMaterialization(a, partition=f"d{i:03d}", tags={MARK_TAG: "1"}))
        seen["a pending"] = stored(instance, a)
        context.log_event(AssetMaterialization(b, partition="d000", tags={MARK_TAG: "1"}))
        seen["a after a mark of b"] = stored(instance, a)
        seen["b pending"] = stored(instance, b)
        context.log.info("an ordinary event")
        seen["b after an event"] = stored(instance, b)
        context.log_event(AssetMaterialization(a, partition="d999", tags={MARK_TAG: "1"}))
        instance.event_log_storage.flush_marks()
        seen["a after flush"] = stored(instance, a)

    @job
    def marks() -> None:
        emit()

    with DagsterInstance.get() as instance:
        result = marks.execute_in_process(instance=instance)
        assert result.success
        latest = instance.get_latest_materialization_event(a).asset_materialization
        logs = instance.all_logs(result.run_id)
    assert seen == {
        "a pending": 0,
        "a after a mark of b": 300,
        "b pending": 0,
        "b after an event": 1,
        "a after flush": 301,
    }
    assert latest.partition == "d999"
    messages = [e.user_message for e in logs]
    info = messages.index("an ordinary event")
    b_mark = next(
        i
        for i, e in enumerate(logs)
        if e.asset_materialization and e.asset_materialization.asset_key == b
    )
    assert b_mark < info
