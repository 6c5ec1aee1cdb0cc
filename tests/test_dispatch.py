"""Issue 17 item 2: real adapter dispatch, checked by reading the macro files.

Compiling a model on another adapter type is not possible here (one adapter is
installed), so the contract is checked statically, on the text of every file under
macros/ (Jinja comments and SQL `--` comments removed):

* PostgreSQL-only SQL (the tokens below) appears only inside a ``postgres__`` macro or a
  ``materialization ..., adapter='postgres'`` block;
* every ``default__X`` calls ``tally.not_implemented('X')`` or X is in PORTABLE;
* every ``postgres__X`` is dispatched by a public ``X`` with a ``default__X`` in the same
  file, or is a private part of a PostgreSQL implementation, called only from other
  ``postgres__`` macros.

The scan is a list of tokens, not a parser: a token hidden in a Jinja string built
piece by piece would escape it. It is the port's to-do list kept honest, not a proof.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import PROJECT_ROOT

MACROS = PROJECT_ROOT / "macros"

# PostgreSQL-only SQL: token -> (pattern, why it does not port)
PG_ONLY = {
    "::": (r"::", "cast shorthand; portable SQL is cast(x as t)"),
    "ctid": (r"\bctid\b", "PostgreSQL's physical row id"),
    "delete ... using": (r"\bdelete\s+from\b[^;]*?\busing\b", "join in a DELETE"),
    "at time zone": (r"\bat\s+time\s+zone\b", "timezone conversion syntax"),
    "on conflict": (r"\bon\s+conflict\b", "upsert syntax (others: merge)"),
    "pg_*": (r"\bpg_\w+", "catalogs and functions: advisory locks, pg_class, ..."),
    "plpgsql": (r"\bplpgsql\b|\$\$|\bdo\s+\$", "procedural language, dollar quoting"),
    "trigger": (r"\bcreate\s+(or\s+replace\s+)?trigger\b", "row triggers"),
    "materialized view": (r"\bmaterialized\s+view\b", "refresh semantics differ"),
    "create index": (r"\bcreate\s+(unique\s+)?index\b", "many engines have no indexes"),
    "analyze": (r"\banalyze\b", "statistics command"),
    "generate_series": (r"\bgenerate_series\b", "set-returning function"),
    "distinct on": (r"\bdistinct\s+on\b", "PostgreSQL extension"),
    "jsonb": (r"\bjsonb\w*\b|->>", "json type and operators"),
    "on commit drop": (r"\bon\s+commit\s+drop\b", "temporary table lifetime"),
    "regclass": (r"\bregclass\b", "object identifier type"),
    "lateral": (
        r"\blateral\b(?!\s+view)",
        "not in every engine (the engine treats it as PostgreSQL); Spark's `lateral view` is not it",
    ),
    "date_trunc(g, ts, tz)": (r"\bdate_trunc\(\s*[^(),]+,\s*[^(),]+,", "time zone argument"),
}

# default__ implementations that are portable SQL (no tally.not_implemented)
PORTABLE = {
    "timezone_names": "reads the plain table ops.timezone_names",
    "ensure_internal_schema": "create schema if not exists (the move of old tables is postgres__)",
    "mart_index": "a no-op: an engine without secondary indexes",
    "text_type": "dbt's cross-database type_string()",
}

_BLOCK = re.compile(
    r"\{%-?\s*(macro|test|materialization)\s+(\w+)\s*(.*?)-?%\}(.*?)\{%-?\s*end\1\s*-?%\}",
    re.S,
)


def _strip_comments(text: str) -> str:
    text = re.sub(r"\{#.*?#\}", "", text, flags=re.S)
    return re.sub(r"--[^\n]*", "", text)


def _blocks(path: Path) -> list[tuple[str, str, str, str]]:
    """(kind, name, header, body) of every macro/test/materialization block; a last
    entry ('outside', '', '', text) holds what is outside any block."""
    text = _strip_comments(path.read_text())
    blocks = [m.groups() for m in _BLOCK.finditer(text)]
    return [*blocks, ("outside", "", "", _BLOCK.sub("", text))]


def _files() -> list[Path]:
    files = sorted(MACROS.rglob("*.sql"))
    assert len(files) > 40, "the scan found no macro files"
    return files


def pg_only_outside_postgres(root: Path = PROJECT_ROOT) -> list[str]:
    """'<file>:<block>: <tokens>' for PostgreSQL-only tokens outside a PostgreSQL
    implementation."""
    out = []
    for path in sorted((root / "macros").rglob("*.sql")):
        for kind, name, header, body in _blocks(path):
            if kind == "macro" and name.startswith("postgres__"):
                continue
            if kind == "materialization" and re.search(r"adapter\s*=\s*'postgres'", header):
                continue
            hits = [t for t, (p, _) in PG_ONLY.items() if re.search(p, body, re.I)]
            if hits:
                out.append(f"{path.relative_to(root)}:{name or kind}: {', '.join(hits)}")
    return out


def test_postgres_only_sql_sits_in_postgres_implementations() -> None:
    found = pg_only_outside_postgres()
    assert not found, (
        "PostgreSQL-only SQL outside a postgres__ macro (dispatch the macro: public X -> "
        "adapter.dispatch('X', 'tally'), body in postgres__X, default__X -> "
        "tally.not_implemented('X')):\n" + "\n".join(found)
    )


def test_the_scan_sees_each_token() -> None:
    """Each token's pattern matches a line of PostgreSQL it is meant for (the scan
    cannot pass by matching nothing)."""
    samples = {
        "::": "select x::date",
        "ctid": "where t.ctid = d.ctid",
        "delete ... using": "delete from t as t using d where t.a = d.a",
        "at time zone": "ts AT TIME ZONE 'UTC'",
        "on conflict": "insert into t values (1) on conflict do nothing",
        "pg_*": "select pg_advisory_xact_lock(1)",
        "plpgsql": "do $$ begin null; end $$ language plpgsql",
        "trigger": "create or replace trigger t after update on x",
        "materialized view": "refresh materialized view concurrently v",
        "create index": "create unique index i on t (a)",
        "analyze": "analyze t",
        "generate_series": "cross join generate_series(1, 3)",
        "distinct on": "select distinct on (a) a",
        "jsonb": "old_row ->> 'a'",
        "on commit drop": "create temporary table x on commit drop as select 1",
        "regclass": "to_regclass('x') is null or 'x'::regclass",
        "lateral": "cross join lateral (select 1) as l",
        "date_trunc(g, ts, tz)": "date_trunc('{{ grain }}', {{ ts }}, 'UTC')",
    }
    assert set(samples) == set(PG_ONLY)
    for token, sample in samples.items():
        assert re.search(PG_ONLY[token][0], sample, re.I), token
    portable = (
        "select cast(a as date), date_trunc('day', b), count(*) from t"
        " where b in (select b from u) group by 1, 2"
    )
    assert not [t for t, (p, _) in PG_ONLY.items() if re.search(p, portable, re.I)]


def test_every_default_is_not_implemented_or_portable() -> None:
    defaults = {}
    for path in _files():
        for kind, name, _, body in _blocks(path):
            if kind == "macro" and name.startswith("default__"):
                defaults[name.removeprefix("default__")] = (path, body)
    assert len(defaults) > 30, sorted(defaults)
    wrong = [
        f"{path.relative_to(PROJECT_ROOT)}: default__{name}"
        for name, (path, body) in defaults.items()
        if name not in PORTABLE
        and not re.search(rf"tally\.not_implemented\(\s*'{name}'\s*\)", body)
    ]
    assert not wrong, "default__ neither portable nor not_implemented:\n" + "\n".join(wrong)
    assert set(PORTABLE) <= set(defaults)


def test_every_postgres_macro_is_dispatched_or_a_private_part() -> None:
    blocks = {path: _blocks(path) for path in _files()}
    names = {
        name: path for path, bs in blocks.items() for kind, name, _, _ in bs if kind == "macro"
    }
    callers: dict[str, set[str]] = {}
    for bs in blocks.values():
        for kind, name, _, body in bs:
            for called in re.findall(r"\btally\.(postgres__\w+)", body):
                callers.setdefault(called, set()).add(name or kind)
    problems = []
    for name, path in names.items():
        if not name.startswith("postgres__"):
            continue
        public = name.removeprefix("postgres__")
        file_names = {n for _, n, _, _ in blocks[path]}
        dispatch = f"adapter.dispatch('{public}', 'tally')"
        if any(dispatch in body for _, n, _, body in blocks[path] if n != name):
            if f"default__{public}" not in file_names:
                problems.append(f"{public}: no default__{public} in {path.name}")
        else:
            users = callers.get(name, set())
            if not users or any(not u.startswith("postgres__") for u in users):
                problems.append(f"{name}: private part called from {sorted(users) or 'nowhere'}")
    assert not problems, "\n".join(problems)
