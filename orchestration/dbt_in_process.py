"""dbt inside the Dagster run's process: dagster-dbt's invocation, fed by `dbtRunner`.

dagster-dbt starts a `dbt` subprocess for every invocation: a second Python that imports
dbt and its adapter (~2-2.5 s of a 15-minute tick whose SQL is a few seconds). Here the
same invocation runs on a thread of the run's own process, where dagster-dbt has already
imported dbt. Everything else is dagster-dbt's: the selection (subsets, asset checks,
indirect selection), the per-invocation target path with the saved parse copied into it,
the environment, and the event stream that becomes materializations and check results
(`DbtCliInvocation`). dbt's structured events reach it as the JSON lines a subprocess
would print (`msg_to_json`, the function dbt's own JSON logger uses); dbt.log in the
target path is written as before.

dbt keeps process-wide state (flags, adapters, the event logger), so one invocation runs
at a time per process (a lock); the in-process executor runs steps one after another.

Two things dbt would do on every invocation are skipped, with the same result:
* **Parsing.** When the project's saved parse is current (``preload``: the caller checks
  the inputs' mtimes and the profile, orchestration/manifest.py), dbt gets the manifest
  that parse saved (``dbtRunner(manifest=...)``), built as dbt's own "nothing changed,
  skipping partial parsing" path builds it. A partial parse reads the same file and then
  hashes every project file to find nothing changed (~1 s of a tick).
* **Re-writing manifest.json at the end** (``--no-write-json``; ~0.3 s). run_results.json,
  which dagster-dbt and Tally read, is written here instead, as dbt would.
"""

from __future__ import annotations

import ctypes
import os
import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

_ONE_AT_A_TIME = threading.Lock()
_END = object()
# dbt's console log is off (dagster-dbt re-prints each event itself); its file log,
# dbt.log in the invocation's target path, stays at dbt's default level
_LOG_ARGS = ["--log-level", "none", "--log-level-file", "debug"]
# the commands whose run_results.json this module writes (dbt's GraphRunnableTask results)
_RESULTS_COMMANDS = frozenset({"build", "run", "test", "seed", "snapshot"})


class _Lines:
    """The `stdout` of a finished-or-running invocation: the JSON lines, as bytes."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self.closed = False

    def put(self, line: bytes | object) -> None:
        self._queue.put(line)

    def __enter__(self) -> _Lines:
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed = True

    def __iter__(self) -> Iterator[bytes]:
        while (line := self._queue.get()) is not _END:
            yield line


class InProcessDbt:
    """What `DbtCliInvocation` uses of `subprocess.Popen` (args, stdout, wait, returncode,
    send_signal), for `dbtRunner().invoke(args[1:])` on a thread.

    ``env`` is the environment dagster-dbt built for the subprocess; the keys it adds or
    changes are set in `os.environ` for the invocation and put back afterwards. The caller
    keeps run-specific variables (TALLY_RUN_VARS) in place until the stream ends.
    """

    def __init__(
        self, args: Sequence[str], env: Mapping[str, str], preload: Path | None = None
    ) -> None:
        self.args = list(args)
        self._preload = preload
        self.stdout = _Lines()
        self.returncode: int | None = None
        self._changed = {k: v for k, v in env.items() if os.environ.get(k) != v}
        _ONE_AT_A_TIME.acquire()
        self._thread = threading.Thread(target=self._run, name="dbt", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from dbt.cli.main import dbtRunner
        from dbt_common.events.functions import msg_to_json

        def forward(msg: Any) -> None:
            if msg.info.level != "debug":  # what a subprocess prints at dbt's default level
                self.stdout.put((msg_to_json(msg) + "\n").encode())

        saved = {k: os.environ.get(k) for k in self._changed}
        os.environ.update(self._changed)
        code = 2
        try:
            args, manifest = [*self.args[1:], *_LOG_ARGS], None
            command = next((a for a in args if not a.startswith("-")), "")
            if command in _RESULTS_COMMANDS:
                args.append("--no-write-json")
            if self._preload is not None and "--vars" not in args:
                manifest = saved_manifest(self._preload)
            result = dbtRunner(manifest=manifest, callbacks=[forward]).invoke(args)
            if command in _RESULTS_COMMANDS and hasattr(result.result, "write"):
                target = Path(os.environ.get("DBT_TARGET_PATH", "target"))
                result.result.write(str(target / "run_results.json"))
            code = 0 if result.success else (2 if result.exception is not None else 1)
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                self.stdout.put(
                    f"dbt raised {type(result.exception).__name__}: {result.exception}".encode()
                )
        except BaseException as exc:  # reported as the invocation's failure
            self.stdout.put(f"dbt raised {type(exc).__name__}: {exc}".encode())
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            self.returncode = code
            self.stdout.put(_END)
            _ONE_AT_A_TIME.release()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return self.returncode if self.returncode is not None else 2

    def send_signal(self, _sig: int) -> None:
        """Interrupt dbt as Ctrl+C would: a KeyboardInterrupt in its thread (dbt then
        cancels its open queries)."""
        if self._thread.is_alive() and self._thread.ident is not None:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(self._thread.ident), ctypes.py_object(KeyboardInterrupt)
            )


def copy_saved_parse(target_path: Path, saved_target: Path) -> None:
    """Start the invocation from the project's saved parse, as dagster-dbt does: dbt then
    re-parses only what changed (nothing, on a tick)."""
    saved = saved_target / "partial_parse.msgpack"
    dest = target_path / saved.name
    if saved.exists() and not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(saved, dest)


def saved_manifest(path: Path) -> Any:
    """The manifest a saved parse holds, as dbt builds it when nothing changed
    (`ManifestLoader.load`'s skip-parsing path: the saved manifest, its parent/child maps,
    the flat graph), or None (dbt then parses as usual) if it is missing or was written by
    another dbt version. A fresh object per invocation: a run compiles into its nodes."""
    from dbt.contracts.graph.manifest import Manifest
    from dbt.version import __version__

    try:
        manifest = Manifest.from_msgpack(path.read_bytes())
    except Exception:  # unreadable or another version's layout: let dbt parse
        return None
    if manifest.metadata.dbt_version != __version__:
        return None
    manifest.build_parent_and_child_maps()
    manifest.build_flat_graph()
    return manifest
