"""Which engine builds the marts: ``TALLY_ENGINE`` = ``postgres`` (the default) or ``spark``.

The engine is the dbt output of ``profiles.yml`` (its ``target:`` reads ``TALLY_ENGINE``),
so ``tally``, Dagster's ``DbtCliResource`` and a hand-run ``dbt`` pick the same one.
On ``spark`` (docs/scale-out.md) dbt runs a local Spark in its own process
(``method: session``): Java 17 must be installed, and the warehouse lives under
``$TALLY_HOME/spark``. Only the marts tagged ``spark`` build there; a command that needs
another one says so in one line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from orchestration.errors import TallyError

ENGINES = ("postgres", "spark")
SPARK_TAG = "spark"


def engine() -> str:
    """The configured engine, checked (an unknown name is one line naming the choices)."""
    name = os.environ.get("TALLY_ENGINE", "postgres").strip() or "postgres"
    if name not in ENGINES:
        raise TallyError(
            f"TALLY_ENGINE={name!r} is not an engine; choose one of {', '.join(ENGINES)}"
        )
    return name


def is_spark() -> bool:
    return engine() == "spark"


def target_dir_name() -> str:
    """dbt's target directory, relative to the project: one per engine, so a Spark parse
    never replaces the PostgreSQL manifest (their configs differ), unless
    ``TALLY_DBT_TARGET`` says otherwise."""
    default = (
        "target"
        if os.environ.get("TALLY_ENGINE", "postgres") in ("", "postgres")
        else "target/spark"
    )
    return os.environ.get("TALLY_DBT_TARGET", default)


def spark_home(tally_home: Path) -> Path:
    """The Spark warehouse and metastore directory (``$TALLY_HOME/spark``)."""
    return tally_home / "spark"


def export_spark_env(tally_home: Path, project_root: Path) -> None:
    """What profiles.yml's ``spark`` output reads (unless set): the warehouse directory,
    the log configuration (errors only), and a loopback address for the local driver."""
    os.environ.setdefault("TALLY_SPARK_HOME", str(spark_home(tally_home)))
    os.environ.setdefault("TALLY_SPARK_LOG4J", str(project_root / "spark-log4j2.properties"))
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


def java_problem() -> str | None:
    """Why a local Spark cannot start here, or None: Java 17+ and pyspark are needed."""
    java = Path(os.environ["JAVA_HOME"]) / "bin" / "java" if os.environ.get("JAVA_HOME") else None
    exe = str(java) if java and java.exists() else shutil.which("java")
    if exe is None:
        return (
            "the Spark engine needs Java 17 and none is installed: run `make java` "
            "(Debian's openjdk-17-jre-headless, as root) or set JAVA_HOME"
        )
    try:
        out = subprocess.run([exe, "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"the Spark engine needs Java 17, and {exe} does not run ({exc}); reinstall it"
    major = _java_major(out)
    if major is not None and major < 17:
        return f"the Spark engine needs Java 17 or newer; {exe} is Java {major}: install 17"
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "the Spark engine needs pyspark and dbt-spark: run `make install` (or pip install '.[spark]')"
    return None


def _java_major(version_text: str) -> int | None:
    """17 from 'openjdk version "17.0.15" ...', 8 from '"1.8.0_392"'."""
    for line in version_text.splitlines():
        if "version" in line and '"' in line:
            number = line.split('"')[1]
            parts = number.split(".")
            try:
                return int(parts[1]) if parts[0] == "1" else int(parts[0])
            except (IndexError, ValueError):
                return None
    return None


def require_spark() -> None:
    """One line and no side effect when the Spark engine cannot run here."""
    problem = java_problem()
    if problem:
        raise TallyError(problem)
