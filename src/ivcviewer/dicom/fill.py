"""Reading a scanned stack's pixels into its HU array.

The output array is allocated once (``int16`` when the HU values fit, else ``float32``) and
filled image by image: uncompressed frames are read from the files straight into it by a
thread pool, JPEG 2000 and HTJ2K frames are decoded straight into it on threads (imagecodecs'
OpenJPEG releases the GIL), other compressed frames are decoded by helper processes beside the
calling thread (pydicom's decoder plugins hold the GIL), and the modality LUT is applied in
place. A progress callback sees the images as they are read, in order along the normal.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._progress import LoadProgress, ProgressCallback
from ..errors import DicomSeriesError
from . import pixels
from ._decode_worker import DecodeWorker, WorkerGone
from .records import ImageRecord
from .series import SeriesInfo

#: Frames are handed to decoding helper processes in chunks of about this many pixels.
DECODE_CHUNK_PIXELS = 4 * 512 * 512

#: Compressed stacks with at least this many pixels are also decoded in helper processes (below
#: it, starting a process, about 0.4 s, costs more than it saves at ~60 ns per pixel).
PROCESS_POOL_MIN_PIXELS = 48 * 512 * 512


def worker_count(workers: int | None) -> int:
    """Threads or processes to use: ``workers``, or up to 2 (the cores) when None."""
    if workers is None:
        return max(1, min(2, os.cpu_count() or 1))
    if workers < 1:
        raise DicomSeriesError(f"workers must be >= 1 (or None for automatic), got {workers}.")
    return workers


@dataclass
class _Target:
    """Where one image goes and how to turn it into HU."""

    record: ImageRecord
    row: int


class _Filler:
    """The output array of one stack: stored values in, HU out, progress reported."""

    def __init__(
        self,
        images: Sequence[ImageRecord],
        n_rows: int,
        info: SeriesInfo,
        progress: ProgressCallback | None,
    ) -> None:
        fmt = self.fmt = info.pixel_format
        integral = all(
            r.rescale is None
            or (float(r.rescale[0]).is_integer() and float(r.rescale[1]).is_integer())
            for r in images
        )
        dtype = np.int16 if integral and fmt.bits_allocated <= 16 else np.float32
        # zeros: a preview of the rows not yet read shows 0 (calloc: no cost for large arrays)
        self.out: NDArray[Any] = np.zeros((n_rows, fmt.rows, fmt.columns), dtype=dtype)
        self.needs_float: list[tuple[int, ImageRecord]] = []
        self._progress = progress
        self._total = len(images)
        self._label = info.description or info.series_uid
        self._done = 0
        self._lock = threading.Lock()

    @property
    def direct(self) -> bool:
        """Whether 16-bit stored values go straight into the (int16) output rows."""
        return self.out.dtype == np.int16 and self.fmt.bits_allocated == 16

    def stored_row(self, t: _Target) -> NDArray[Any]:
        """Row ``t.row`` of the output seen with the stored values' signedness."""
        return pixels.stored_view(self.out[t.row], self.fmt.pixel_representation)

    def finish(self, t: _Target, stored: NDArray[Any] | None) -> None:
        """Stored values -> HU in row t.row (stored is None when already in the row)."""
        fmt, out, r = self.fmt, self.out, t.record
        slope, intercept = r.rescale if r.rescale is not None else (1.0, 0.0)
        signed = fmt.pixel_representation == 1
        if out.dtype == np.int16:
            buf = out[t.row]
            if stored is not None:
                target = self.stored_row(t) if fmt.bits_allocated == 16 else buf
                target[...] = stored.reshape(buf.shape)
            view = self.stored_row(t) if fmt.bits_allocated == 16 else buf
            lo, hi = pixels.fix_bits_stored(view, fmt.bits_stored, signed)
            if not pixels.rescale_in_place_int16(buf, lo, hi, slope, intercept):
                self.needs_float.append((t.row, r))
        else:
            if stored is None:
                raise DicomSeriesError(f"{r.path}: internal error, no pixel values read.")
            sv = np.array(stored, copy=True).reshape(out.shape[1:])
            if fmt.bits_allocated <= 16 and sv.dtype.itemsize * 8 > fmt.bits_stored:
                pixels.fix_bits_stored(sv, fmt.bits_stored, signed)
            np.multiply(sv, slope, out=out[t.row], casting="unsafe")
            out[t.row] += intercept

    def report(self, targets: Sequence[_Target], in_order: bool) -> None:
        """Count ``targets`` as read; with ``in_order``, every earlier target is read too."""
        if self._progress is None:
            return
        with self._lock:
            self._done += len(targets)
            ready = targets[-1].row + 1 if in_order and targets else 0
            self._progress(
                LoadProgress(
                    self._done, self._total, self.out if in_order else None, ready, self._label
                )
            )

    def result(self) -> NDArray[Any]:
        """The HU array (float32 when some rows could not be rescaled in int16)."""
        if self.needs_float:
            return _to_float(self.out, self.needs_float, self.fmt.pixel_representation)
        return self.out


def read_images(
    images: Sequence[ImageRecord],
    rows: Sequence[int],
    n_rows: int,
    info: SeriesInfo,
    workers: int | None,
    progress: ProgressCallback | None = None,
) -> tuple[NDArray[Any], bool]:
    """Read ``images`` into rows ``rows`` of a new ``(n_rows, R, C)`` HU array.

    ``rows`` must increase (the order of ``images`` along the normal). Returns the array and
    whether a rescale was applied.
    """
    fmt = info.pixel_format
    n_workers = worker_count(workers)
    filler = _Filler(images, n_rows, info, progress)
    targets = [_Target(r, row) for r, row in zip(images, rows, strict=True)]
    rescaled = any(r.rescale is not None for r in images)
    if not fmt.compressed and all(r.data_offset is not None for r in images):
        _read_native(targets, filler, n_workers)
        return filler.result(), rescaled
    # compressed (or unusual uncompressed) frames, one task per file
    by_file: dict[Path, list[_Target]] = defaultdict(list)
    for t in targets:
        by_file[t.record.path].append(t)
    tasks = [(str(p), [t.record.frame for t in ts]) for p, ts in by_file.items()]
    owners = list(by_file.values())
    n_pixels = len(images) * fmt.rows * fmt.columns
    if pixels.threaded_decoding(fmt.transfer_syntax):
        _decode_threaded(owners, filler, n_workers)
    elif n_workers > 1 and fmt.compressed and n_pixels >= PROCESS_POOL_MIN_PIXELS:

        def deliver(task_indices: list[int], decoded: list[list[NDArray[Any]]]) -> None:
            for i, frames_of_file in zip(task_indices, decoded, strict=True):
                for t, arr in zip(owners[i], frames_of_file, strict=True):
                    filler.finish(t, arr)
                filler.report(owners[i], in_order=False)

        chunk = max(1, DECODE_CHUNK_PIXELS // max(1, fmt.rows * fmt.columns))
        _decode_shared(tasks, deliver, n_workers - 1, chunk)
    else:
        for (p, frames), ts in zip(tasks, owners, strict=True):
            for t, arr in zip(ts, pixels.decode_frames(p, frames), strict=True):
                filler.finish(t, arr)
            filler.report(ts, in_order=True)
    return filler.result(), rescaled


def _read_native(targets: Sequence[_Target], filler: _Filler, n_workers: int) -> None:
    """Read uncompressed frames from their files straight into the output (threads)."""
    fmt = filler.fmt
    frame_dtype = pixels.stored_dtype(fmt.bits_allocated, fmt.pixel_representation)

    def read_one(t: _Target) -> None:
        r = t.record
        if r.data_offset is None:
            raise DicomSeriesError(f"{r.path}: internal error, no pixel data offset.")
        if filler.direct:
            pixels.read_native_frame(r.path, r.data_offset, filler.out[t.row])
            filler.finish(t, None)
        else:
            raw = np.empty((fmt.rows, fmt.columns), dtype=frame_dtype)
            pixels.read_native_frame(r.path, r.data_offset, raw)
            filler.finish(t, raw)

    _in_order(lambda ts: read_one(ts[0]), [[t] for t in targets], filler, n_workers)


def _decode_threaded(owners: Sequence[list[_Target]], filler: _Filler, n_workers: int) -> None:
    """Decode JPEG 2000 / HTJ2K files (one list of targets each) on ``n_workers`` threads, the
    frames straight into their output rows."""

    def decode_file(ts: list[_Target]) -> None:
        outs = [filler.stored_row(t) if filler.direct else None for t in ts]
        path, frames = str(ts[0].record.path), [t.record.frame for t in ts]
        decoded = pixels.decode_jpeg2k_frames(path, frames, outs)
        for t, arr in zip(ts, decoded, strict=True):
            filler.finish(t, None if filler.direct else arr)

    _in_order(decode_file, owners, filler, n_workers)


def _in_order(
    work: Callable[[list[_Target]], None],
    groups: Sequence[list[_Target]],
    filler: _Filler,
    n_workers: int,
) -> None:
    """Run ``work`` on each group on ``n_workers`` threads, reporting progress in group order."""
    if n_workers > 1 and len(groups) > 1:
        with ThreadPoolExecutor(max_workers=n_workers) as ex:
            for group, _ in zip(groups, ex.map(work, groups), strict=True):
                filler.report(group, in_order=True)
    else:
        for group in groups:
            work(group)
            filler.report(group, in_order=True)


def _to_float(
    out: NDArray[np.int16], raw_rows: list[tuple[int, ImageRecord]], pixel_representation: int
) -> NDArray[np.float32]:
    """Convert a partly rescaled int16 array to float32 HU (rows in ``raw_rows`` still stored)."""
    raw = {row for row, _ in raw_rows}
    res = np.empty(out.shape, dtype=np.float32)
    for k in range(out.shape[0]):
        if k not in raw:
            res[k] = out[k]
    for row, r in raw_rows:
        slope, intercept = r.rescale if r.rescale is not None else (1.0, 0.0)
        np.multiply(pixels.stored_view(out[row], pixel_representation), slope, out=res[row])
        res[row] += intercept
    return res


def _decode_shared(
    tasks: list[tuple[str, list[int]]],
    deliver: Callable[[list[int], list[list[NDArray[Any]]]], None],
    n_processes: int,
    chunk: int,
) -> None:
    """Decode ``tasks`` in ``n_processes`` helper processes and in this thread at once.

    The helpers take chunks from the front, this thread from the back, so decoding starts at
    once (while the helpers start up) and every core stays busy to the end. A helper that
    cannot start or dies leaves its chunks to this thread.
    """
    pending = deque(list(range(i, min(i + chunk, len(tasks)))) for i in range(0, len(tasks), chunk))
    lock = threading.Lock()
    errors: list[str] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def feed() -> None:
        try:
            worker = DecodeWorker()
        except WorkerGone:
            return
        try:
            while not stop.is_set():
                with lock:
                    if not pending:
                        return
                    c = pending.popleft()
                try:
                    status, payload = worker.decode([tasks[i] for i in c])
                except WorkerGone:
                    with lock:
                        pending.appendleft(c)
                    return
                if status != "ok":
                    errors.append(str(payload))
                    stop.set()
                    return
                deliver(c, payload)
        except BaseException as exc:  # noqa: BLE001 - handed to the calling thread below
            failures.append(exc)
            stop.set()
        finally:
            if stop.is_set():
                worker.kill()
            else:
                worker.close()

    threads = [threading.Thread(target=feed, daemon=True) for _ in range(max(0, n_processes))]
    for th in threads:
        th.start()
    try:
        while not stop.is_set():
            with lock:
                if not pending:
                    break
                c = pending.pop()
            deliver(c, pixels.decode_batch([tasks[i] for i in c]))
    except BaseException:
        stop.set()
        raise
    finally:
        for th in threads:
            th.join()
    if failures:
        raise failures[0]
    if errors:
        raise DicomSeriesError(errors[0])
    while pending:  # left by helpers that stopped
        c = pending.pop()
        deliver(c, pixels.decode_batch([tasks[i] for i in c]))
