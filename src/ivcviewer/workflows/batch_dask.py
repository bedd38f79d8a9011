"""Run a cohort's rows as Dask tasks: on a local cluster, or on a running scheduler.

:func:`run_batch` reads the manifest, skips the rows already done, runs the others with
:func:`ivcviewer.workflows.batch.run_row` (one task per row) and writes the results table.
The local cluster has worker processes of one thread each, so that a worker holds one CT at a
time, under a memory limit per worker. A task that takes its worker down (out of memory) fails
its row only. Nothing here prints; the caller is told of each finished row.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .._deps import import_optional_dependency
from ..annotations.overlay import BoneSource
from ..errors import IvcviewerError
from ..failures import cut, exception_summary, failure_line
from ..report import ValidationMode
from .batch import (
    RESULTS_CSV,
    ManifestRow,
    RowOptions,
    RowResult,
    RowStatus,
    finished_row,
    manifest_inputs,
    read_manifest,
    run_row,
    write_results,
)

#: Seconds to wait for a scheduler to answer, and for its first workers.
CONNECT_TIMEOUT_S = 30.0
WORKERS_TIMEOUT_S = 120.0

#: Called after each row that ran: its result, how many have finished, how many run.
Progress = Callable[[RowResult, int, int], None]


@dataclass(frozen=True)
class ClusterOptions:
    """Where the rows run.

    Attributes
    ----------
    scheduler
        Address of a running ``dask.distributed`` scheduler (``tcp://host:8786``), or None for
        a local cluster.
    workers
        Local cluster: its number of worker processes (default: one per CPU; at most one per
        row to run). With a scheduler: how many workers to wait for before the rows are sent
        (default one).
    memory_limit
        Memory per local worker (``4GiB``, ``auto``: the machine's memory shared out); a
        worker that goes above it is restarted and its row fails.
    """

    scheduler: str | None = None
    workers: int | None = None
    memory_limit: str = "auto"


@dataclass(frozen=True)
class BatchReport:
    """What a batch did: every row's result in the manifest's order, and the table's files."""

    results: list[RowResult]
    csv: Path
    parquet: Path
    workers: int

    def with_status(self, status: RowStatus) -> list[RowResult]:
        """The results of one status."""
        return [r for r in self.results if r.status is status]


def run_batch(
    manifest: str | Path,
    case: str | Path,
    out: str | Path,
    cluster: ClusterOptions | None = None,
    *,
    bone: BoneSource = BoneSource.LABELS_AND_CT,
    on_irregular: ValidationMode = ValidationMode.RAISE,
    progress: Progress | None = None,
) -> BatchReport:
    """Run every row of ``manifest`` that is not done yet, and write the results table.

    Parameters
    ----------
    manifest
        The manifest CSV (:func:`ivcviewer.workflows.batch.read_manifest`).
    case
        The case file fitted to every CT; checked once before any row runs.
    out
        The output folder: one overlay folder per row, ``results.csv`` and ``results.parquet``.
    cluster
        Where the rows run (default: a local cluster).
    bone, on_irregular
        As the ``overlay`` command takes them.
    progress
        Called after each row that ran.

    Raises
    ------
    IvcviewerError
        The manifest or the case file is unusable, ``out`` lies in an input's folder, or the
        scheduler cannot be reached. A row's own failure never raises: it is in its result.
    """
    from ..annotations import load_case

    cluster = cluster or ClusterOptions()
    rows = read_manifest(manifest)
    case_path = os.path.abspath(case)
    load_case(case_path)  # a bad case file fails the run once, not every row
    out_root = Path(os.path.abspath(out))
    inputs = [Path(manifest), Path(case_path), *manifest_inputs(rows)]
    if out_root.exists() and not out_root.is_dir():
        raise IvcviewerError(f"--out {out}: is a file, not a folder. Fix: give a folder path.")
    # refused before anything runs: a table or a row's folder inside an input's folder
    from ..io.formats import check_output_path

    check_output_path(out_root / RESULTS_CSV, inputs, suffixes=(".csv",))
    out_root.mkdir(parents=True, exist_ok=True)
    options = RowOptions(str(case_path), str(out_root), bone, on_irregular)
    results: dict[str, RowResult] = {}
    to_run: list[ManifestRow] = []
    for row in rows:
        if row.problem:  # fails at once, with the reason the manifest gave
            results[row.id] = run_row(row, options)
        elif (done := finished_row(row, options)) is not None:
            results[row.id] = done
        else:
            to_run.append(row)
    n_workers = 0
    if to_run:
        n_workers = _run_on_dask(to_run, options, cluster, results, progress)
    ordered = [results[r.id] for r in rows]
    csv_path, parquet_path = write_results(ordered, out_root, inputs)
    return BatchReport(ordered, csv_path, parquet_path, n_workers)


def _run_on_dask(
    rows: Sequence[ManifestRow],
    options: RowOptions,
    cluster: ClusterOptions,
    results: dict[str, RowResult],
    progress: Progress | None,
) -> int:
    """Run ``rows`` as one task each; put their results into ``results``. Returns the number
    of workers."""
    distributed = import_optional_dependency("distributed", "running a batch on Dask")
    run = uuid.uuid4().hex[:8]
    with _client(distributed, cluster, len(rows)) as client:
        n_workers = len(client.scheduler_info(n_workers=-1).get("workers", {}))
        futures = {
            client.submit(
                run_row, row, options, key=f"ivcviewer-row-{row.id}-{run}", pure=False
            ): row
            for row in rows
        }
        for n, future in enumerate(distributed.as_completed(futures, loop=client.loop), start=1):
            row = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # the task never returned: the worker died or was lost
                result = _lost(row, exc, cluster)
            results[row.id] = result
            if progress is not None:
                progress(result, n, len(rows))
    return n_workers


def _lost(row: ManifestRow, exc: BaseException, cluster: ClusterOptions) -> RowResult:
    """The result of a row whose task raised (its worker died, or cannot import ivcviewer)."""
    missing = (exc.name or str(exc)) if isinstance(exc, ModuleNotFoundError) else ""
    if "ivcviewer" in missing:  # the name does not survive the way back from a worker
        reason = (
            f"{row.ct}: the Dask worker could not import ivcviewer ({cut(missing, 80)}). Fix: "
            "install this version of ivcviewer in the workers' Python environment."
        )
    elif type(exc).__name__ == "KilledWorker":
        limit = cluster.memory_limit if cluster.scheduler is None else "the workers' own"
        reason = (
            f"{row.ct}: the Dask workers running this row died ({exception_summary(exc)}); it "
            f"may need more memory than the limit per worker ({limit}). Fix: give each worker "
            "more memory (--memory-limit), or run fewer workers."
        )
    else:
        reason = failure_line(exc, row.ct)
    return RowResult(row.id, RowStatus.FAILED, reason, row.ct)


@contextlib.contextmanager
def _client(distributed: ModuleType, cluster: ClusterOptions, n_rows: int) -> Iterator[Any]:
    """A Dask client: of a new local cluster, or connected to ``cluster.scheduler``."""
    if cluster.scheduler is None:
        n = max(1, min(cluster.workers or os.cpu_count() or 1, n_rows))
        with (
            distributed.LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                memory_limit=cluster.memory_limit,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            ) as local,
            distributed.Client(local, set_as_default=False) as client,
        ):
            yield client
        return
    where = f"--scheduler {cluster.scheduler}"
    try:
        client = distributed.Client(
            cluster.scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False
        )
    except (OSError, TimeoutError, ValueError) as exc:
        raise IvcviewerError(
            f"{where}: could not connect to a Dask scheduler ({exception_summary(exc)}). Fix: "
            "check the address (tcp://HOST:8786) and that the scheduler runs."
        ) from None
    with client:
        try:
            client.wait_for_workers(cluster.workers or 1, timeout=WORKERS_TIMEOUT_S)
        except TimeoutError:
            raise IvcviewerError(
                f"{where}: fewer than {cluster.workers or 1} worker(s) joined within "
                f"{WORKERS_TIMEOUT_S:.0f} s. Fix: start workers with 'dask worker "
                f"{cluster.scheduler} --nthreads 1'."
            ) from None
        threads = max(client.nthreads().values(), default=1)
        if threads > 1:
            warnings.warn(
                f"{where}: its workers run up to {threads} threads, so each may hold {threads} "
                "CTs in memory at once; start them with --nthreads 1 for one CT at a time.",
                stacklevel=3,
            )
        yield client
