"""``ivcviewer batch MANIFEST.csv --case FILE --out DIR [--scheduler ADDRESS] [--workers N]
[--memory-limit SIZE]``.

Runs the ``overlay`` command's work for every row of a manifest (one CT and its anatomy per
row) as Dask tasks, on a local cluster or on a running scheduler, into ``DIR/<id>/``, and
gathers the results into ``DIR/results.csv`` and ``DIR/results.parquet``. A failing row is
recorded with its reason and never stops the others; a row already done is skipped. Exit
status 0 when no row failed, 1 when one did (the table says why), 2 when the run could not
start (a bad manifest, case file, output folder or scheduler). See ``docs/batch.md``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from ..errors import IvcviewerError
from .options import shown_arg

#: Exit status of a run in which a row failed.
EXIT_ROWS_FAILED = 1

#: Most failed rows listed on the terminal (the table holds them all).
MAX_LISTED_FAILURES = 20


def add_parser(subparsers: Any) -> None:
    """Register the ``batch`` subcommand."""
    p = subparsers.add_parser(
        "batch",
        help="place a case's findings on many CTs (a manifest), as Dask tasks",
        description=(
            "For each row of MANIFEST (a CSV with the columns id, ct and one of anatomy, "
            "landmarks or phantom_truth; optional series, study, anatomy_names), fit the "
            "case file's findings to the CT and write the overlay's files into DIR/<id>/, as "
            "'ivcviewer overlay' does; then write DIR/results.csv and DIR/results.parquet. "
            "Rows run as Dask tasks on a local cluster (one CT at a time per worker process) "
            "or on a running scheduler (--scheduler). A failing row never stops the others; "
            "a rerun skips the rows already done. See docs/batch.md."
        ),
    )
    p.add_argument("manifest", metavar="MANIFEST", help="the manifest (CSV, header line first)")
    p.add_argument("--case", metavar="FILE", required=True, help="case file (YAML)")
    p.add_argument("--out", metavar="DIR", required=True, help="output folder (created if needed)")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a running dask.distributed scheduler (tcp://HOST:8786); default: a "
        "local cluster started for this run",
    )
    p.add_argument(
        "--workers",
        metavar="N",
        type=_positive_int,
        help="local cluster: its worker processes (default: one per CPU; at most one per row "
        "to run); with --scheduler: how many workers to wait for (default 1)",
    )
    p.add_argument(
        "--memory-limit",
        metavar="SIZE",
        dest="memory_limit",
        default="auto",
        help="memory per local worker, e.g. 4GiB (default auto: the machine's memory shared "
        "out); a worker above it is restarted and its row fails",
    )
    p.set_defaults(func=run)


def _positive_int(text: str) -> int:
    """A whole number of at least 1 (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of at least 1, got {shown_arg(text)}. Fix: give e.g. 2"
        )
    return value


def check_memory_limit(text: str) -> str:
    """``auto``, or a size Dask reads (``4GiB``, ``2 GB``); else one line naming the option."""
    if text.strip().lower() == "auto":
        return "auto"
    from .._deps import import_optional_dependency

    dask_utils = import_optional_dependency("dask.utils", "running a batch on Dask")
    try:
        ok = dask_utils.parse_bytes(text) > 0
    except (ValueError, TypeError):
        ok = False
    if not ok:
        raise IvcviewerError(
            f"--memory-limit {shown_arg(text)}: not a size. Fix: give auto, or a size such as "
            "4GiB or 2GB."
        )
    return text.strip()


def run(args: argparse.Namespace) -> int:
    """Run the batch of ``args``; print what became of the rows. Returns the exit status."""
    from ..workflows.batch import RowStatus
    from ..workflows.batch_dask import ClusterOptions, run_batch

    memory_limit = check_memory_limit(args.memory_limit)
    cluster = ClusterOptions(args.scheduler, args.workers, memory_limit)
    with _Progress(sys.stderr) as progress:
        report = run_batch(args.manifest, args.case, args.out, cluster, progress=progress)
    w = sys.stdout.write
    done = report.with_status(RowStatus.DONE)
    skipped = report.with_status(RowStatus.SKIPPED)
    failed = report.with_status(RowStatus.FAILED)
    where = f"scheduler {args.scheduler}" if args.scheduler else "a local cluster"
    n = report.workers
    ran = f" on {where} ({n} worker{'s' if n != 1 else ''})" if n else ""
    w(
        f"{len(report.results)} rows: {len(done)} done{ran}, {len(skipped)} skipped, "
        f"{len(failed)} failed\n"
    )
    if skipped:
        ids = ", ".join(r.id for r in skipped[:10]) + (", ..." if len(skipped) > 10 else "")
        w(
            f"skipped {len(skipped)} rows whose overlay in {args.out} is complete and made from "
            f"the same inputs: {ids}\n"
        )
    for r in failed[:MAX_LISTED_FAILURES]:
        w(f"failed {r.id}: {r.reason}\n")
    if len(failed) > MAX_LISTED_FAILURES:
        w(f"... and {len(failed) - MAX_LISTED_FAILURES} more failed rows (see the table)\n")
    w(f"wrote {report.csv}, {report.parquet}\n")
    return EXIT_ROWS_FAILED if failed else 0


class _Progress:
    """The rows' progress on ``stream``: a bar on a terminal, else a line per finished row."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.bar: Any = None

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()

    def __call__(self, result: Any, n: int, total: int) -> None:
        line = f"[{n}/{total}] {result.id}: {result.status}"
        if result.seconds is not None:
            line += f" ({result.seconds:.1f} s)"
        if not self.stream.isatty():
            self.stream.write(f"ivcviewer: batch {line}\n")
            self.stream.flush()
            return
        if self.bar is None:
            from .._deps import import_optional_dependency

            tqdm = import_optional_dependency("tqdm", "the progress bar of a batch")
            self.bar = tqdm.tqdm(total=total, file=self.stream, unit="row", desc="batch")
        self.bar.set_postfix_str(line, refresh=False)
        self.bar.update(1)


__all__ = ["EXIT_ROWS_FAILED", "add_parser", "run"]
