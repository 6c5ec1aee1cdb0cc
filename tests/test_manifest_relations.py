"""Python takes relation names from dbt's manifest (issue 17 item 7), never a string of
its own: each expected name below is read from the model's own file and dbt_project.yml
by hand-written rules (folder -> schema), not from orchestration.manifest."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from orchestration.errors import TallyError
from orchestration.manifest import MANIFEST, node, relation

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_BY_FOLDER = {"staging": "staging", "intermediate": "intermediate", "marts": "marts"}


@pytest.mark.parametrize(
    "model",
    [
        "int_orders__attributions_qualified",
        "int_orders__organizations_validated",
        "stg_orders__organizations",
        "stg_support__accounts",
        "int_support__events_dimensioned",
        "agg_support_rollup_daily",
        "agg_order_daily",
    ],
)
def test_relation_is_the_models_schema_and_name(model: str) -> None:
    (path,) = list((ROOT / "models").rglob(f"{model}.sql"))
    folder = path.relative_to(ROOT / "models").parts[0]
    assert relation(model) == f"{SCHEMA_BY_FOLDER[folder]}.{model}"
    assert node(model)["original_file_path"] == str(path.relative_to(ROOT))


def test_unknown_model_is_one_line() -> None:
    with pytest.raises(TallyError, match=r"not in .*manifest\.json") as err:
        relation("stg_orders__no_such_model")
    assert "\n" not in str(err.value)


def test_validation_lives_in_intermediate_and_staging_only_renames() -> None:
    """Item 7: staging renames and casts; the config validation is the intermediate
    model's (the reader and the sensors read it there)."""
    staging = (ROOT / "models/staging/orders/stg_orders__organizations.sql").read_text()
    for rule in ("timezone_names", "jsonb_typeof", "has_valid", "aggregation_timezone"):
        assert rule not in staging, rule
    validated = ROOT / "models/intermediate/orders/int_orders__organizations_validated.sql"
    assert "has_valid_exclusions" in validated.read_text()
    for path in (ROOT / "orchestration").rglob("*.py"):
        assert "stg_orders__organizations" not in path.read_text(), path


_RELATION = re.compile(r"\b(marts_internal|marts|staging|intermediate)\.([a-z_][a-z_0-9]*)\b")


def _declared_relations() -> set[str]:
    """Every relation dbt declares: its models and its sources, as `schema.identifier`."""
    manifest = json.loads(MANIFEST.read_text())
    models = {
        f"{n['schema']}.{n['alias'] or n['name']}"
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model"
    }
    sources = {f"{s['schema']}.{s['identifier']}" for s in manifest["sources"].values()}
    return models | sources


def test_every_relation_python_names_is_one_dbt_declares() -> None:
    """The reader names the public contract's relations in its constant SQL, as any SQL
    consumer does (and the internal ones it is granted); each must be a model or a source of
    the manifest, so a renamed or moved relation fails here instead of at a user's report."""
    relation("agg_order_daily")  # parses the project if the manifest is stale
    declared = _declared_relations()
    named: dict[str, set[str]] = {}
    for path in (ROOT / "orchestration").rglob("*.py"):
        for schema, name in _RELATION.findall(path.read_text()):
            if schema == "marts" and name in {"values", "items", "keys", "get"}:
                continue  # a Python dict called `marts`, not a relation
            named.setdefault(f"{schema}.{name}", set()).add(str(path.relative_to(ROOT)))
    assert "marts.agg_order_daily" in named  # the scan sees the reader's SQL
    unknown = {rel: sorted(paths) for rel, paths in named.items() if rel not in declared}
    assert not unknown, f"relations named in Python that dbt does not declare: {unknown}"
