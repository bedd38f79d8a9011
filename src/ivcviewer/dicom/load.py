"""Load a scanned DICOM stack as a :class:`~ivcviewer.volume.Volume` in HU.

The output array is allocated once (``int16`` when the HU values fit, else ``float32``) and
filled slice by slice: uncompressed frames are read from the files straight into it by a
thread pool, compressed frames are decoded by helper processes beside the calling thread (the
decoders hold the GIL), and
the modality LUT is applied in place. Irregular stacks (gaps, duplicates, uneven steps) follow
the :class:`~ivcviewer.report.ValidationMode` argument; a gantry tilt gives a sheared affine, or
an orthogonal resampled grid with ``ValidationMode.RESAMPLE``.
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

from ..errors import DicomSeriesError, IvcviewerError, NoSeriesFoundError
from ..failures import cut
from ..limits import MEMORY_BUDGET_ENV, Limits, default_limits
from ..report import GeometryReport, ReportCode, Severity, ValidationMode
from ..volume import ABDOMEN_WINDOW, Volume, VolumeMetadata
from . import pixels
from ._decode_worker import DecodeWorker, WorkerGone
from .irregular import SlotLayout, describe_irregularities, regularise, series_folder
from .records import ImageRecord
from .scan import ScanResult, scan
from .series import SeriesInfo
from .stack import StackGeometry

#: Frames are handed to decoding helper processes in chunks of about this many pixels.
DECODE_CHUNK_PIXELS = 4 * 512 * 512

#: Compressed stacks with at least this many pixels are also decoded in helper processes (below
#: it, starting a process, about 0.4 s, costs more than it saves at ~60 ns per pixel).
PROCESS_POOL_MIN_PIXELS = 48 * 512 * 512


def _workers(workers: int | None) -> int:
    if workers is None:
        return max(1, min(2, os.cpu_count() or 1))
    if workers < 1:
        raise DicomSeriesError(f"workers must be >= 1 (or None for automatic), got {workers}.")
    return workers


def load_dicom(
    path: Path | str,
    *,
    series_uid: str | None = None,
    on_irregular: ValidationMode = ValidationMode.RAISE,
    workers: int | None = None,
    recursive: bool = True,
    limits: Limits | None = None,
    left_out: list[tuple[SeriesInfo, IvcviewerError]] | None = None,
) -> list[Volume]:
    """Scan ``path`` and load every series found (or those of ``series_uid``).

    Parameters
    ----------
    path
        Folder, DICOM file or DICOMDIR.
    series_uid
        Load only the stacks of this SeriesInstanceUID.
    on_irregular
        What to do with gaps, duplicate positions and uneven steps (see :func:`load_series`).
    workers
        Threads/processes for reading and decoding (default: up to 2).
    recursive
        Search sub-folders.
    limits
        Walk bounds and memory budget (default: :func:`~ivcviewer.limits.default_limits`).
    left_out
        When given, a stack that cannot be loaded (a domain error: irregular under ``RAISE``,
        no decoder, over the memory budget) is appended here with its error and the others are
        still loaded; the error is raised when no stack loads.

    Returns
    -------
    list of Volume
        One per stack, in the order of :func:`scan`. Files left out by the scan are listed in
        each volume's ``metadata.extra["skipped"]``.

    Raises
    ------
    NoSeriesFoundError
        When no image series (or none with ``series_uid``) is found.
    ResourceLimitError
        When a series would need more memory than the budget of ``limits``.
    """
    limits = limits if limits is not None else default_limits()
    result = scan(path, recursive=recursive, limits=limits)
    chosen = result.get(series_uid) if series_uid else result.series
    if not chosen:
        raise NoSeriesFoundError(_no_series_message(path, series_uid, result))
    volumes = []
    failed: list[tuple[SeriesInfo, IvcviewerError]] = []
    for info in chosen:
        try:
            vol = load_series(info, on_irregular=on_irregular, workers=workers, limits=limits)
        except IvcviewerError as exc:
            if left_out is None:
                raise
            failed.append((info, exc))
            continue
        vol.metadata.extra["skipped"] = [s.to_dict() for s in result.skipped]
        volumes.append(vol)
    if failed and not volumes:
        raise failed[0][1]
    if left_out is not None:
        left_out.extend(failed)
    return volumes


#: Files left out, and series present, that a "no series found" message names one by one.
_LISTED = 3


def _cut_middle(name: str, chars: int) -> str:
    """``name`` with its middle cut out when longer than ``chars`` (file names differ at the end).

    >>> _cut_middle("CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016573", 24)
    'CT.1.3.12....28000016573'
    """
    if len(name) <= chars:
        return name
    head = (chars - 3) // 2
    return f"{name[:head]}...{name[len(name) - (chars - 3 - head) :]}"


def _listing(items: Sequence[str]) -> str:
    """The first few ``items`` joined by "; ", then how many more there are."""
    shown = "; ".join(items[:_LISTED])
    more = len(items) - _LISTED
    return shown + (f"; and {more} more" if more > 0 else "")


def _files_left_out(result: ScanResult) -> str:
    """The files left out by the scan, grouped by reason: the first few, cut short."""
    groups: dict[str, list[str]] = {}
    for skipped in result.skipped:
        groups.setdefault(" ".join(str(skipped.reason).split()), []).append(skipped.path.name)
    shown = list(groups.items())[:_LISTED]
    reason_chars = min(90, 180 // max(len(shown), 1))  # about 200 characters in all
    items = []
    for reason, names in shown:
        others = (
            f" and {len(names) - 1} other file{'s' * (len(names) > 2)}" if len(names) > 1 else ""
        )
        items.append(f"{_cut_middle(names[0], 28)}{others}: {cut(reason, reason_chars)}")
    rest = sum(len(names) for names in list(groups.values())[_LISTED:])
    return "; ".join(items) + (f"; and {rest} more file{'s' * (rest > 1)}" if rest else "")


def _no_series_message(path: Path | str, series_uid: str | None, result: ScanResult) -> str:
    """One line saying that ``path`` holds no (wanted) series, with a few short reasons."""
    what = (
        f"no series with SeriesInstanceUID {cut(series_uid, 70)}"
        if series_uid
        else "no image series"
    )
    found = _listing([cut(s.series_uid, 70) for s in result.series]) or "none"
    left_out = _files_left_out(result)
    if series_uid and result.series:
        fix = "pick a SeriesInstanceUID the input holds"
    elif left_out:
        fix = "repair or remove the files left out, or point to another CT series"
    else:
        fix = "point to a folder holding a CT series"
    return (
        f"{path}: {what} found (series present: {found}"
        + (f"; files left out: {left_out}" if left_out else "")
        + f"). Fix: {fix}."
    )


def load_series(
    info: SeriesInfo,
    *,
    on_irregular: ValidationMode = ValidationMode.RAISE,
    workers: int | None = None,
    limits: Limits | None = None,
) -> Volume:
    """Read the pixels of a scanned stack and return its HU volume with a geometry report.

    Parameters
    ----------
    info
        One stack from :func:`~ivcviewer.dicom.scan`.
    on_irregular
        ``RAISE``: refuse a stack with missing slices, duplicate positions, uneven steps or
        unreadable files (:class:`~ivcviewer.errors.DicomSeriesError` naming the files).
        ``WARN``: build the volume and say what is wrong: gaps become slices filled with the
        volume's minimum (listed in ``metadata.extra["filled_slices"]``), one image of each
        duplicate group is kept (the others named), uneven steps are placed on the uniform
        mean-step grid (the largest offset is reported). ``RESAMPLE``: interpolate linearly
        onto a regular grid along the normal (duplicates averaged) and, for a gantry tilt, onto
        an orthogonal grid; reported as ``resampled``.
    workers
        Threads (uncompressed) or processes (compressed) used to read the frames.
    limits
        The memory budget the volume must fit (default: :func:`~ivcviewer.limits.default_limits`).

    Returns
    -------
    Volume
        HU values ``(slice, row, col)``, int16 where they fit else float32; slices ordered
        along the image-plane normal.
    """
    mode = ValidationMode(on_irregular)
    g = _checked_stack(info, mode)
    slots = SlotLayout.of(g)
    limits = limits if limits is not None else default_limits()
    _check_memory(info, slots.n_rows, _workers(workers), limits)
    array, rescaled = _read_images(
        [info.images[i] for i in slots.load_order],
        slots.target_rows,
        slots.n_rows,
        info,
        workers,
    )
    report = GeometryReport(list(info.report.items))
    metadata = _metadata(info, rescaled)
    if rescaled:
        slopes = {r.rescale for r in info.images if r.rescale is not None}
        text = ", ".join(f"slope {s:g}, intercept {b:g}" for s, b in sorted(slopes)[:3])
        report.add(
            ReportCode.RESCALE_APPLIED, Severity.INFO, f"HU = stored x slope + intercept ({text})."
        )

    array, affine = regularise(array, info, slots, mode, metadata, report, limits)
    if info.mosaic is not None:  # one mosaic image read: its tiles are the slices
        array = info.mosaic.unpack(array[0])
    return Volume(array, affine, metadata=metadata, report=report)


def _checked_stack(info: SeriesInfo, mode: ValidationMode) -> StackGeometry:
    """The stack's geometry, once it is known to load under ``mode`` with a decoder at hand.

    Raises
    ------
    DicomSeriesError
        For a stack without images, colour images, or (``RAISE``) an irregular stack.
    MissingDecoderError
        When the pixel data's decoder is not installed.
    """
    g = info.stack
    if g is None or not info.images:
        raise DicomSeriesError(f"Series {info.series_uid}: the stack holds no images.")
    fmt = info.pixel_format
    if fmt.samples_per_pixel != 1:
        raise DicomSeriesError(
            f"Series {info.series_uid} ({info.files[0]}): SamplesPerPixel "
            f"{fmt.samples_per_pixel} ({fmt.photometric}); only greyscale images make a volume."
        )
    problems = describe_irregularities(info)
    if problems and mode is ValidationMode.RAISE:
        raise DicomSeriesError(
            f"{series_folder(info)}: series {info.series_uid} "
            f"({cut(info.description or 'no description', 64)}) cannot be loaded as a regular "
            "volume: "
            + " ".join(problems)
            + " Fix: load with --on-irregular warn (on_irregular 'warn' in Python) to build a "
            "uniform grid with the problems reported, or 'resample' to interpolate onto one."
        )
    pixels.check_decoder(fmt.transfer_syntax, info.files[0])
    return g


def _check_memory(info: SeriesInfo, n_rows: int, n_workers: int, limits: Limits) -> None:
    """Refuse a stack whose array (and one decoded frame per worker) is over the memory budget.

    Raises
    ------
    ResourceLimitError
        Naming the first file, the declared sizes and the bytes they need.
    """
    fmt = info.pixel_format
    integral = all(
        r.rescale is None or (float(r.rescale[0]).is_integer() and float(r.rescale[1]).is_integer())
        for r in info.images
    )
    itemsize = 2 if integral and fmt.bits_allocated <= 16 else 4
    frame_bytes = fmt.rows * fmt.columns * fmt.samples_per_pixel * max(1, fmt.bits_allocated // 8)
    needed = n_rows * fmt.rows * fmt.columns * itemsize + (
        n_workers * frame_bytes if fmt.compressed else 0
    )
    limits.check_allocation(
        needed,
        f"{info.files[0]}: series {info.series_uid} of {n_rows} slice(s) of "
        f"{fmt.rows} x {fmt.columns} pixels ({fmt.bits_allocated} bit)",
        fix=(
            "check Rows, Columns and NumberOfFrames in the header (they may be damaged), or "
            f"raise the budget with {MEMORY_BUDGET_ENV} if the series is that large."
        ),
    )


def _metadata(info: SeriesInfo, rescaled: bool) -> VolumeMetadata:
    """Provenance of a volume loaded from ``info``."""
    return VolumeMetadata(
        modality=info.modality,
        description=info.description,
        series_uid=info.series_uid,
        study_uid=info.study_uid,
        frame_of_reference_uid=info.frame_of_reference_uid,
        patient_id=info.patient_id,
        window=info.window if info.window is not None else ABDOMEN_WINDOW,
        source_files=list(info.files),
        source="dicom",
        rescale_applied=rescaled,
        extra={
            "transfer_syntax": info.pixel_format.transfer_syntax,
            "stack_label": info.stack_label,
            "sop_class_uid": info.sop_class_uid,
        },
    )


# ----------------------------------------------------------------------------- pixel reading


@dataclass
class _Target:
    """Where one image goes and how to turn it into HU."""

    record: ImageRecord
    row: int


def _read_images(
    images: Sequence[ImageRecord],
    rows: Sequence[int],
    n_rows: int,
    info: SeriesInfo,
    workers: int | None,
) -> tuple[NDArray[Any], bool]:
    """Read ``images`` into rows ``rows`` of a new ``(n_rows, R, C)`` HU array.

    Returns the array and whether a rescale was applied.
    """
    fmt = info.pixel_format
    n_workers = _workers(workers)
    shape = (n_rows, fmt.rows, fmt.columns)
    integral = all(
        r.rescale is None or (float(r.rescale[0]).is_integer() and float(r.rescale[1]).is_integer())
        for r in images
    )
    use_int16 = integral and fmt.bits_allocated <= 16
    out: NDArray[Any] = np.empty(shape, dtype=np.int16 if use_int16 else np.float32)
    targets = [_Target(r, row) for r, row in zip(images, rows, strict=True)]
    needs_float: list[tuple[int, ImageRecord]] = []
    rescaled = any(r.rescale is not None for r in images)

    def finish(t: _Target, stored: NDArray[Any] | None) -> None:
        """Stored values -> HU in row t.row (stored is None when already in the row)."""
        r = t.record
        slope, intercept = r.rescale if r.rescale is not None else (1.0, 0.0)
        signed = fmt.pixel_representation == 1
        if out.dtype == np.int16:
            buf = out[t.row]
            if stored is not None:
                if fmt.bits_allocated == 16:
                    buf.view(np.uint16 if not signed else np.int16)[...] = stored.reshape(buf.shape)
                else:
                    buf[...] = stored.reshape(buf.shape)
            view = (
                pixels.stored_view(buf, fmt.pixel_representation)
                if fmt.bits_allocated == 16
                else buf
            )
            lo, hi = pixels.fix_bits_stored(view, fmt.bits_stored, signed)
            if not pixels.rescale_in_place_int16(buf, lo, hi, slope, intercept):
                needs_float.append((t.row, r))
        else:
            if stored is None:
                raise DicomSeriesError(f"{r.path}: internal error, no pixel values read.")
            sv = np.array(stored, copy=True).reshape(out.shape[1:])
            if fmt.bits_allocated <= 16 and sv.dtype.itemsize * 8 > fmt.bits_stored:
                pixels.fix_bits_stored(sv, fmt.bits_stored, signed)
            np.multiply(sv, slope, out=out[t.row], casting="unsafe")
            out[t.row] += intercept

    if not fmt.compressed and all(r.data_offset is not None for r in images):
        frame_dtype = pixels.stored_dtype(fmt.bits_allocated, fmt.pixel_representation)
        direct = out.dtype == np.int16 and fmt.bits_allocated == 16

        def read_one(t: _Target) -> None:
            r = t.record
            if r.data_offset is None:
                raise DicomSeriesError(f"{r.path}: internal error, no pixel data offset.")
            if direct:
                pixels.read_native_frame(r.path, r.data_offset, out[t.row])
                finish(t, None)
            else:
                raw = np.empty((fmt.rows, fmt.columns), dtype=frame_dtype)
                pixels.read_native_frame(r.path, r.data_offset, raw)
                finish(t, raw)

        if n_workers > 1 and len(targets) > 1:
            with ThreadPoolExecutor(max_workers=n_workers) as ex:
                for _ in ex.map(read_one, targets):
                    pass
        else:
            for t in targets:
                read_one(t)
    else:
        # compressed (or unusual uncompressed) frames: decode through pydicom
        by_file: dict[Path, list[_Target]] = defaultdict(list)
        for t in targets:
            by_file[t.record.path].append(t)
        tasks = [(str(p), [t.record.frame for t in ts]) for p, ts in by_file.items()]
        owners = list(by_file.values())
        n_pixels = len(images) * fmt.rows * fmt.columns
        use_processes = n_workers > 1 and fmt.compressed and n_pixels >= PROCESS_POOL_MIN_PIXELS
        if use_processes:

            def deliver(task_indices: list[int], decoded: list[list[NDArray[Any]]]) -> None:
                for i, frames_of_file in zip(task_indices, decoded, strict=True):
                    for t, arr in zip(owners[i], frames_of_file, strict=True):
                        finish(t, arr)

            chunk = max(1, DECODE_CHUNK_PIXELS // max(1, fmt.rows * fmt.columns))
            _decode_shared(tasks, deliver, n_workers - 1, chunk)
        else:
            for (p, frames), ts in zip(tasks, owners, strict=True):
                for t, arr in zip(ts, pixels.decode_frames(p, frames), strict=True):
                    finish(t, arr)

    if needs_float:
        out = _to_float(out, needs_float, fmt.pixel_representation)
    return out, rescaled


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
