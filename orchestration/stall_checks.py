"""The incremental marts' stall checks as Dagster asset checks of their marts.

Each ``<mart>_not_stalled`` dbt test (models/ops/_ops__sources.yml) reads
``ops.model_failures`` and never the mart, so that dbt still runs it when the mart fails
(dbt skips every descendant of a failed node). dagster-dbt, though, makes a test an asset
check only of a model it depends on (``child_map``); :func:`with_ref_checks` adds each test
whose ``meta.dagster.ref`` names a model it does not depend on to that model's children in
the manifest Dagster loads (dbt's own manifest is unchanged), so its result is the mart's
``AssetCheckResult`` instead of an observation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def with_ref_checks(manifest: Path | Mapping[str, Any]) -> dict[str, Any]:
    data = json.loads(Path(manifest).read_text()) if isinstance(manifest, Path) else dict(manifest)
    nodes = data.get("nodes", {})
    by_name = {
        (n["name"], n.get("package_name")): uid
        for uid, n in nodes.items()
        if n.get("resource_type") == "model"
    }
    project = data.get("metadata", {}).get("project_name")
    child_map = {k: list(v) for k, v in data.get("child_map", {}).items()}
    parent_map = {k: list(v) for k, v in data.get("parent_map", {}).items()}
    for uid, node in nodes.items():
        if node.get("resource_type") != "test":
            continue
        ref = ((node.get("config") or {}).get("meta") or node.get("meta") or {}).get("dagster", {})
        ref = ref.get("ref") or {}
        target = by_name.get((ref.get("name"), ref.get("package") or project))
        if target is None or target in node.get("depends_on", {}).get("nodes", []):
            continue
        if uid not in child_map.setdefault(target, []):
            child_map[target].append(uid)
        # its only Dagster dependency is the mart (not the ops table it reads)
        parent_map[uid] = [target]
    data["child_map"], data["parent_map"] = child_map, parent_map
    return data
