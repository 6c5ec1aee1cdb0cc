"""Tally's benchmarks (`make bench`, `python -m bench`): see bench/__main__.py."""

import os

#: The environment the benchmark was started with, before any of it exports what dbt
#: and Dagster read: a `tally` subprocess the bench times gets this one, as a user's
#: shell or cron would give it (bench/tick.py).
USER_ENV = dict(os.environ)
