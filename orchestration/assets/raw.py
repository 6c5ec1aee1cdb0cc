"""The dbt sources (raw tables, Tally's ops tables the checks read) as Dagster asset specs:
the marts' upstream assets in the graph, each with its one-line description and its
domain's group. Dagster cannot materialize them; the source application writes raw."""

from __future__ import annotations

import json

from dagster import AssetSpec

from orchestration.project import tally_project
from orchestration.translator import source_description, translator


def source_specs() -> list[AssetSpec]:
    manifest = json.loads(tally_project.manifest_path.read_text())
    specs = {}
    for props in manifest.get("sources", {}).values():
        key = translator.get_asset_key(props)
        description = (props.get("description") or "").strip() or source_description(props)
        specs[key] = AssetSpec(
            key,
            description=description.splitlines()[0],
            group_name=translator.get_group_name(props),
        )
    return list(specs.values())


raw_sources = source_specs()
